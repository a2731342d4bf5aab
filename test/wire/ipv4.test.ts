import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  emitIpv4Header,
  formatIpv4Address,
  IPV4_MIN_HEADER,
  parseIpv4,
  parseIpv4Address,
  PROTO_UDP,
  type Ipv4EmitFields,
} from "../../src/wire/ipv4.js";
import { expectOk, FILL, filled, hex, refChecksum } from "./helpers.js";

/** Writes a correct header checksum into a hand-built header with the naive reference sum. */
function withChecksum(packet: Uint8Array, headerLength: number): Uint8Array {
  const p = packet.slice();
  p[10] = 0;
  p[11] = 0;
  const c = refChecksum(p.subarray(0, headerLength));
  p[10] = c >> 8;
  p[11] = c & 0xff;
  return p;
}

// 10.0.0.1 -> 10.0.0.2, UDP, 4 payload bytes, no options.
const PLAIN = withChecksum(
  hex(`45 00 00 18  00 07 00 00  40 11 00 00  0a 00 00 01  0a 00 00 02  de ad be ef`),
  20,
);

describe("parseIpv4", () => {
  it("returns the transport payload of a plain header", () => {
    const p = expectOk(parseIpv4(PLAIN));
    expect(p.header.headerLength).toBe(20);
    expect(p.header.protocol).toBe(PROTO_UDP);
    expect(p.header.src).toBe(0x0a000001);
    expect(p.header.dst).toBe(0x0a000002);
    expect(p.payload).toEqual(hex("de ad be ef"));
  });

  it("skips options when IHL > 5 (router alert + NOPs, IHL 7)", () => {
    const packet = withChecksum(
      hex(`47 00 00 20  12 34 00 00  01 11 00 00  0a 00 00 01  0a 00 00 02
           94 04 00 00  01 01 01 00  ca fe ba be`),
      28,
    );
    const p = expectOk(parseIpv4(packet));
    expect(p.header.headerLength).toBe(28);
    expect(p.header.totalLength).toBe(32);
    expect(p.header.ttl).toBe(1);
    expect(p.payload).toEqual(hex("ca fe ba be"));
  });

  it("accepts the largest header (IHL 15, 40 bytes of options)", () => {
    const packet = new Uint8Array(61);
    packet.set(hex("4f 00 00 3d  00 00 00 00  40 06 00 00  01 02 03 04  05 06 07 08"));
    packet.fill(0x01, 20, 60); // NOPs
    packet[60] = 0x99;
    const p = expectOk(parseIpv4(withChecksum(packet, 60)));
    expect(p.header.headerLength).toBe(60);
    expect(p.payload).toEqual(hex("99"));
  });

  it("ignores link-layer padding beyond totalLength", () => {
    // An Ethernet frame pads short packets to 46 bytes of payload.
    const padded = new Uint8Array(46);
    padded.set(PLAIN);
    padded.fill(0xee, PLAIN.length);
    const p = expectOk(parseIpv4(padded));
    expect(p.header.totalLength).toBe(24);
    expect(p.payload).toEqual(hex("de ad be ef"));
  });

  it("decodes fragment fields (offset in bytes) and TOS", () => {
    const packet = withChecksum(
      hex(`45 b8 00 18  ab cd 20 b9  40 11 00 00  0a 00 00 01  0a 00 00 02  00 00 00 00`),
      20,
    );
    const h = expectOk(parseIpv4(packet)).header;
    expect(h.tos).toBe(0xb8);
    expect(h.id).toBe(0xabcd);
    expect(h.dontFragment).toBe(false);
    expect(h.moreFragments).toBe(true);
    expect(h.fragmentOffset).toBe(0xb9 * 8);
  });

  it("returns typed errors for truncated packets", () => {
    expect(parseIpv4(new Uint8Array(0))).toEqual({ ok: false, reason: "truncated" });
    expect(parseIpv4(PLAIN.subarray(0, 19))).toEqual({ ok: false, reason: "truncated" });
    // totalLength 24 but only 23 bytes present.
    expect(parseIpv4(PLAIN.subarray(0, 23))).toEqual({ ok: false, reason: "truncated" });
    // IHL 7 (28 bytes) but only 24 bytes present.
    const longIhl = PLAIN.slice();
    longIhl[0] = 0x47;
    expect(parseIpv4(longIhl)).toEqual({ ok: false, reason: "truncated" });
  });

  it("rejects a version other than 4", () => {
    for (const v of [0x05, 0x65, 0xf5]) {
      const p = PLAIN.slice();
      p[0] = v;
      expect(parseIpv4(withChecksum(p, 20))).toEqual({ ok: false, reason: "bad-version" });
    }
  });

  it("rejects IHL < 5", () => {
    for (let ihl = 0; ihl < 5; ihl++) {
      const p = PLAIN.slice();
      p[0] = 0x40 | ihl;
      expect(parseIpv4(p)).toEqual({ ok: false, reason: "bad-header-length" });
    }
  });

  it("rejects totalLength smaller than the header", () => {
    const p = PLAIN.slice();
    p[2] = 0;
    p[3] = 19;
    expect(parseIpv4(withChecksum(p, 20))).toEqual({ ok: false, reason: "bad-total-length" });
    // With options: totalLength covers the fixed header but not the options.
    const o = withChecksum(hex(`46 00 00 14  00 00 00 00  40 11 00 00  0a 00 00 01  0a 00 00 02  01 01 01 01`), 24);
    expect(parseIpv4(o)).toEqual({ ok: false, reason: "bad-total-length" });
  });

  it("rejects a bad header checksum unless told not to verify", () => {
    const p = PLAIN.slice();
    p[8] = 63; // TTL changed, checksum not updated
    expect(parseIpv4(p)).toEqual({ ok: false, reason: "bad-checksum" });
    expect(expectOk(parseIpv4(p, { verifyChecksum: false })).header.ttl).toBe(63);
  });

  it("the checksum covers options too", () => {
    const packet = withChecksum(
      hex(`46 00 00 18  00 00 00 00  40 11 00 00  0a 00 00 01  0a 00 00 02  01 01 01 01`),
      24,
    );
    expect(parseIpv4(packet).ok).toBe(true);
    packet[21] = 0x00;
    expect(parseIpv4(packet)).toEqual({ ok: false, reason: "bad-checksum" });
  });
});

describe("emitIpv4Header", () => {
  it("writes every byte of the header and nothing after it", () => {
    const buf = filled(30);
    const n = emitIpv4Header(
      { src: 0x0a000001, dst: 0x0a000002, protocol: PROTO_UDP, payloadLength: 4, id: 7, ttl: 64 },
      buf,
      2,
    );
    expect(n).toBe(IPV4_MIN_HEADER);
    buf.set(hex("de ad be ef"), 22);
    expect(buf.subarray(2, 26)).toEqual(PLAIN);
    expect(buf[0]).toBe(FILL);
    expect(buf[1]).toBe(FILL);
    expect([...buf.subarray(26)]).toEqual([FILL, FILL, FILL, FILL]);
  });

  it("defaults: TTL 64, TOS 0, id 0, no fragment flags", () => {
    const buf = filled(20);
    emitIpv4Header({ src: 1, dst: 2, protocol: 6, payloadLength: 0 }, buf);
    expect(buf).toEqual(withChecksum(hex("45 00 00 14  00 00 00 00  40 06 00 00  00 00 00 01  00 00 00 02"), 20));
  });

  const fields: fc.Arbitrary<Ipv4EmitFields> = fc.record({
    src: fc.nat({ max: 0xffffffff }),
    dst: fc.nat({ max: 0xffffffff }),
    protocol: fc.nat({ max: 255 }),
    payloadLength: fc.nat({ max: 1500 }),
    ttl: fc.nat({ max: 255 }),
    id: fc.nat({ max: 0xffff }),
    tos: fc.nat({ max: 255 }),
    dontFragment: fc.boolean(),
    moreFragments: fc.boolean(),
    fragmentOffset: fc.nat({ max: 0x1fff }).map((units) => units * 8),
  });

  it("round-trips every header field (property)", () => {
    fc.assert(
      fc.property(fields, fc.nat({ max: 8 }), fc.constantFrom(0x00, FILL, 0xff), (f, offset, fill) => {
        const buf = new Uint8Array(offset + IPV4_MIN_HEADER + f.payloadLength).fill(fill);
        emitIpv4Header(f, buf, offset);
        const p = expectOk(parseIpv4(buf.subarray(offset)));
        expect(p.header).toEqual({
          tos: f.tos,
          headerLength: IPV4_MIN_HEADER,
          totalLength: IPV4_MIN_HEADER + f.payloadLength,
          id: f.id,
          dontFragment: f.dontFragment,
          moreFragments: f.moreFragments,
          fragmentOffset: f.fragmentOffset,
          ttl: f.ttl,
          protocol: f.protocol,
          src: f.src,
          dst: f.dst,
        });
        expect(p.payload.length).toBe(f.payloadLength);
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips the largest payload length", () => {
    const buf = new Uint8Array(0xffff);
    emitIpv4Header({ src: 1, dst: 2, protocol: 17, payloadLength: 0xffff - 20 }, buf);
    expect(expectOk(parseIpv4(buf)).header.totalLength).toBe(0xffff);
  });

  it("refuses a payload the 16-bit total length cannot describe, writing nothing", () => {
    const buf = filled(20);
    expect(() => emitIpv4Header({ src: 1, dst: 2, protocol: 17, payloadLength: 0xffff - 19 }, buf)).toThrow(RangeError);
    expect(buf).toEqual(filled(20));
  });
});

describe("IPv4 address text", () => {
  it("parses and formats dotted quads", () => {
    expect(parseIpv4Address("192.168.1.23")).toBe(0xc0a80117);
    expect(parseIpv4Address("255.255.255.255")).toBe(0xffffffff);
    expect(parseIpv4Address("0.0.0.0")).toBe(0);
    expect(formatIpv4Address(0xc0a80117)).toBe("192.168.1.23");
    expect(formatIpv4Address(0xffffffff)).toBe("255.255.255.255");
  });

  it("rejects what is not a dotted quad", () => {
    for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "1.2.3.4 ", "a.b.c.d", "1..2.3", "1234.1.1.1"]) {
      expect(parseIpv4Address(bad)).toBeUndefined();
    }
  });

  it("format then parse is the identity (property)", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (a) => {
        expect(parseIpv4Address(formatIpv4Address(a))).toBe(a);
      }),
    );
  });
});
