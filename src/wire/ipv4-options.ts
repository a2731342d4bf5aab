/**
 * The options of a received IPv4 header, checked as Linux's ip_options_compile checks them
 * (RFC 791 3.1): a host may ignore options it does not know (RFC 1122 3.2.1.8), but not
 * malformed ones, which earn a Parameter Problem pointing at the bad byte, and it does not
 * honour source routes unless configured to (Linux accept_source_route=0; RFC 1122
 * 3.2.1.8 lets a host refuse them, RFC 7126 4.3 and 4.4 say drop).
 */
import { IPV4_MIN_HEADER } from "./ipv4.js";

const OPT_END = 0;
const OPT_NOP = 1;
const OPT_RR = 7;
const OPT_TIMESTAMP = 68;
const OPT_LSRR = 131;
const OPT_SSRR = 137;

/** What is wrong with a header's options: a byte to point a Parameter Problem at, or a source route. */
export type Ipv4OptionsProblem = { pointer: number } | "source-route";

/** Checks bytes [20, headerLength) of `packet`; undefined when the options may be ignored. */
export function ipv4OptionsProblem(packet: Uint8Array, headerLength: number): Ipv4OptionsProblem | undefined {
  let i = IPV4_MIN_HEADER;
  while (i < headerLength) {
    const kind = packet[i]!;
    if (kind === OPT_END) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    const left = headerLength - i;
    const len = left >= 2 ? packet[i + 1]! : 0;
    if (left < 2 || len < 2 || len > left) return { pointer: i };
    switch (kind) {
      case OPT_LSRR:
      case OPT_SSRR:
      case OPT_RR:
        if (len < 3) return { pointer: i + 1 };
        if (packet[i + 2]! < 4) return { pointer: i + 2 };
        if (kind !== OPT_RR) return "source-route";
        break;
      case OPT_TIMESTAMP:
        if (len < 4) return { pointer: i + 1 };
        if (packet[i + 2]! < 5) return { pointer: i + 2 };
        break;
      default:
        break; // ignored (RFC 1122 3.2.1.8)
    }
    i += len;
  }
  return undefined;
}
