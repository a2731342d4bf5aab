/**
 * IPv4 options on received datagrams (RFC 791 3.1, RFC 1122 3.2.1.8; Linux
 * ip_options_compile and ip_rcv_options): options a host does not use are skipped, a
 * malformed one draws a Parameter Problem pointing at the bad byte, and a source route is
 * dropped without a word (Linux's accept_source_route=0).
 */
import { describe, expect, it } from "vitest";
import { internetChecksum } from "../../src/wire/checksum.js";
import { IPV4_MIN_HEADER } from "../../src/wire/ipv4.js";
import { A, B, icmpPacket, standalone } from "./helpers.js";

/** A ping from A to B whose IPv4 header carries `options` (hex, a multiple of 4 bytes). */
function pingWithOptions(options: string): Uint8Array {
  const opts = Uint8Array.from(options.split(" ").map((b) => parseInt(b, 16)));
  const plain = icmpPacket(A, B, { kind: "echo-request", id: 7, seq: 1, data: new Uint8Array(8) });
  const pkt = new Uint8Array(plain.length + opts.length);
  pkt.set(plain.subarray(0, IPV4_MIN_HEADER));
  pkt.set(opts, IPV4_MIN_HEADER);
  pkt.set(plain.subarray(IPV4_MIN_HEADER), IPV4_MIN_HEADER + opts.length);
  pkt[0] = 0x40 | ((IPV4_MIN_HEADER + opts.length) / 4);
  pkt[2] = pkt.length >> 8;
  pkt[3] = pkt.length & 0xff;
  pkt[10] = 0;
  pkt[11] = 0;
  const sum = internetChecksum(pkt, 0, IPV4_MIN_HEADER + opts.length);
  pkt[10] = sum >> 8;
  pkt[11] = sum & 0xff;
  return pkt;
}

/** What B sends back: "reply", a Parameter Problem's pointer, or nothing. */
function answer(options: string): string | number | undefined {
  const h = standalone(B);
  h.host.receive(0, pingWithOptions(options));
  const out = h.take();
  if (out.length === 0) return undefined;
  const icmp = out[0]!.subarray(IPV4_MIN_HEADER);
  if (icmp[0] === 0) return "reply";
  expect([icmp[0], icmp[1]]).toEqual([12, 0]); // Parameter Problem, code 0: the pointer says where
  return icmp[4]!;
}

describe("IPv4 options on received datagrams", () => {
  it.each([
    ["NOPs", "01 01 01 01"],
    ["a record route with room (RFC 791)", "07 07 04 00 00 00 00 00"],
    ["a timestamp option", "44 08 05 00 00 00 00 00"],
    ["an option no host here knows, with a sound length", "9e 04 00 00"],
    ["an end of list followed by padding", "00 55 55 55"],
  ])("%s: skipped, the ping is answered", (_what, options) => {
    expect(answer(options)).toBe("reply");
  });

  it.each([
    ["an option length of 1", "9e 01 00 00", 20],
    ["an option length past the header", "01 9e 09 00", 21],
    ["a kind with no room for its length", "01 01 01 9e", 23],
    ["a record route whose pointer is below 4", "07 07 03 00 00 00 00 00", 22],
    ["a record route too short for a pointer", "07 02 01 01", 21],
    ["a timestamp whose pointer is below 5", "44 08 04 00 00 00 00 00", 22],
  ])("%s: a Parameter Problem pointing at header byte %i, no reply (Linux ip_options_compile)", (_what, options, pointer) => {
    expect(answer(options)).toBe(pointer);
  });

  it.each([
    ["a loose source route", "83 07 04 0a 00 00 09 00"],
    ["a strict source route", "89 07 04 0a 00 00 09 00"],
  ])("%s: dropped without a word (Linux accept_source_route=0; RFC 7126 4.3, 4.4)", (_what, options) => {
    expect(answer(options)).toBeUndefined();
  });
});
