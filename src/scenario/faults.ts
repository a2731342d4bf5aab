/**
 * Scripted faults ("drop the 1st SYN,ACK from server to client", "delay segments with FIN
 * by 3 s", "corrupt the 2nd data segment"). Drops and delays become the simulator's fault
 * rules on the path, so the link traces them like any loss. Corruption and duplication are
 * applied as the packet leaves its host (the simulator's rules can only pass, drop or
 * hold), and traced as link events the same way.
 */
import type { Transmit } from "../endpoint.js";
import type { Millis } from "../env.js";
import { allRules, type FaultRule } from "../sim/index.js";
import type { TraceEvent } from "../trace/events.js";
import { parseIpv4, PROTO_TCP, PROTO_UDP, readU32 } from "../wire/ipv4.js";
import { parseTcp, type TcpSegment } from "../wire/tcp.js";
import { segmentMatches } from "./flags.js";
import type { FaultSpec } from "./model.js";
import { toMillis } from "./time.js";

/** The TCP segment inside a raw IPv4 packet (checksums not verified), if it is one. */
export function tcpSegmentOf(packet: Uint8Array): TcpSegment | undefined {
  const ip = parseIpv4(packet, { verifyChecksum: false });
  if (!ip.ok || ip.value.header.protocol !== PROTO_TCP || ip.value.header.fragmentOffset !== 0) return undefined;
  const seg = parseTcp(ip.value.payload, null);
  return seg.ok ? seg.value : undefined;
}

/** One fault with its own count of matching segments, so "the 2nd" means the 2nd it saw. */
class Fault {
  private seen = 0;
  constructor(readonly spec: FaultSpec) {}

  /** True when this packet is one the fault applies to (counts every match). */
  hits(packet: Uint8Array): boolean {
    if (this.spec.match?.protocol === "udp") {
      if (!udpMatches(packet, this.spec.match.fragment)) return false;
    } else {
      const seg = tcpSegmentOf(packet);
      if (seg === undefined || !segmentMatches(seg, this.spec.match ?? {})) return false;
    }
    this.seen++;
    return this.spec.nth === undefined || this.spec.nth.includes(this.seen);
  }
}

/** A UDP packet (any fragment of one, too), optionally only fragments or only whole datagrams. */
function udpMatches(packet: Uint8Array, fragment: boolean | undefined): boolean {
  const ip = parseIpv4(packet, { verifyChecksum: false });
  if (!ip.ok || ip.value.header.protocol !== PROTO_UDP) return false;
  const h = ip.value.header;
  return fragment === undefined || (h.moreFragments || h.fragmentOffset !== 0) === fragment;
}

export class FaultPlan {
  private readonly faults: Fault[];

  constructor(
    specs: readonly FaultSpec[],
    private readonly addressOf: (host: string) => number,
  ) {
    this.faults = specs.map((s) => new Fault(s));
  }

  /** The simulator rule for the path from -> to (drops and delays), if any fault sits there. */
  linkFilter(from: string, to: string): FaultRule | undefined {
    const rules: FaultRule[] = this.faults
      .filter((f) => f.spec.from === from && f.spec.to === to && (f.spec.action === "drop" || f.spec.action === "delay"))
      .map((f) => (packet) => {
        if (!f.hits(packet)) return "pass";
        return f.spec.action === "drop" ? "drop" : { delay: toMillis(f.spec.by ?? 0) };
      });
    if (rules.length === 0) return undefined;
    return rules.length === 1 ? rules[0] : allRules(...rules);
  }

  /** Wraps `from`'s transmit so corrupt and duplicate faults apply as packets leave it. */
  wrapTransmit(from: string, transmit: Transmit, trace: (e: TraceEvent) => void, now: () => Millis, nameOf: (addr: number) => string): Transmit {
    const mine = this.faults.filter((f) => f.spec.from === from && (f.spec.action === "corrupt" || f.spec.action === "duplicate"));
    if (mine.length === 0) return transmit;
    return (packet) => {
      const dst = packet.length >= 20 ? readU32(packet, 16) : -1;
      let out = packet;
      let copies = 1;
      for (const f of mine) {
        if (this.addressOf(f.spec.to) !== dst || !f.hits(packet)) continue;
        const link = `${from}->${nameOf(dst)}`;
        if (f.spec.action === "corrupt") {
          out = out.slice();
          // Flip the lowest bit of the last byte: payload or TCP header, never IP's, so the
          // TCP checksum is what catches it (S20).
          out[out.length - 1]! ^= 1;
          trace({ type: "link", time: now(), link, action: "corrupt", reason: "fault rule", bytes: packet.length });
        } else {
          copies = 2;
          trace({ type: "link", time: now(), link, action: "duplicate", reason: "fault rule", bytes: packet.length });
        }
      }
      transmit(out);
      if (copies === 2) transmit(out.slice());
    };
  }
}
