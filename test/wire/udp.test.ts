import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PROTO_UDP } from "../../src/wire/ipv4.js";
import { parseIpAddress } from "../../src/wire/address.js";
import type { PseudoHeader } from "../../src/wire/tcp.js";
import { emitUdp, parseUdp, UDP_HEADER_LENGTH, udpLength, type UdpDatagram } from "../../src/wire/udp.js";
import { expectOk, FILL, filled, hex, pseudoBytes, refChecksum, toHex, u16 } from "./helpers.js";

/**
 * Golden bytes: a DNS query for example.com A, 192.168.1.23:40000 -> 8.8.8.8:53. The
 * checksum was computed outside the project and is re-derived below with the reference sum.
 */
const PSEUDO = { src: 0xc0a80117, dst: 0x08080808 } satisfies PseudoHeader;
const DNS_QUERY = hex(`
  9c 40 00 35  00 25 16 24
  ab cd 01 00  00 01 00 00  00 00 00 00  07 65 78 61  6d 70 6c 65  03 63 6f 6d  00 00 01 00  01
`);
const DNS_DATAGRAM: UdpDatagram = { srcPort: 40000, dstPort: 53, payload: DNS_QUERY.subarray(8) };

function reason(bytes: Uint8Array, pseudo: PseudoHeader | null): string | undefined {
  const r = parseUdp(bytes, pseudo);
  return r.ok ? undefined : r.reason;
}

describe("UDP golden datagram (odd length)", () => {
  it("carries a correct checksum", () => {
    const zeroed = DNS_QUERY.slice();
    zeroed[6] = 0;
    zeroed[7] = 0;
    expect(refChecksum(pseudoBytes(PSEUDO.src, PSEUDO.dst, PROTO_UDP, 37), zeroed)).toBe(0x1624);
  });

  it("parses", () => {
    expect(parseUdp(DNS_QUERY, PSEUDO)).toEqual({ ok: true, value: DNS_DATAGRAM });
  });

  it("emits the same bytes into a 0xa5-filled buffer", () => {
    const buf = filled(2 + 37 + 2);
    expect(emitUdp(DNS_DATAGRAM, buf, 2, PSEUDO)).toBe(37);
    expect(toHex(buf.subarray(2, 39))).toBe(toHex(DNS_QUERY));
    expect([...buf.subarray(0, 2), ...buf.subarray(39)]).toEqual([FILL, FILL, FILL, FILL]);
  });
});

describe("parseUdp", () => {
  it("rejects a bad checksum when given addresses, skips the check with null", () => {
    const bad = DNS_QUERY.slice();
    bad[20] ^= 0x01;
    expect(reason(bad, PSEUDO)).toBe("bad-checksum");
    expect(reason(DNS_QUERY, { src: PSEUDO.src, dst: PSEUDO.dst ^ 1 })).toBe("bad-checksum");
    expect(parseUdp(bad, null).ok).toBe(true);
  });

  it("over IPv6 a zero checksum is invalid and the datagram is dropped (RFC 8200 8.1); a computed one checks", () => {
    const p6 = { src: parseIpAddress("fd00::1")!, dst: parseIpAddress("fd00::2")! };
    const buf = new Uint8Array(37);
    emitUdp(DNS_DATAGRAM, buf, 0, p6);
    expect(parseUdp(buf, p6)).toEqual({ ok: true, value: DNS_DATAGRAM });
    // The IPv6 pseudo-header differs from the IPv4 one: the IPv4 checksum does not verify.
    expect(reason(DNS_QUERY, p6)).toBe("bad-checksum");
    const none = buf.slice();
    none[6] = 0;
    none[7] = 0;
    expect(reason(none, p6)).toBe("bad-checksum");
    // The same zero over IPv4 (an IpAddress of family 4) means "no checksum".
    expect(reason(none, { src: parseIpAddress("10.0.0.1")!, dst: parseIpAddress("10.0.0.2")! })).toBeUndefined();
  });

  it("accepts a zero checksum as 'none computed' (IPv4)", () => {
    const none = DNS_QUERY.slice();
    none[6] = 0;
    none[7] = 0;
    expect(parseUdp(none, PSEUDO)).toEqual({ ok: true, value: DNS_DATAGRAM });
    none[20] ^= 0x01; // no checksum: corruption cannot be seen
    expect(parseUdp(none, PSEUDO).ok).toBe(true);
  });

  it("ignores bytes past the UDP length, and leaves them out of the checksum", () => {
    const padded = new Uint8Array(48).fill(0xee);
    padded.set(DNS_QUERY);
    expect(parseUdp(padded, PSEUDO)).toEqual({ ok: true, value: DNS_DATAGRAM });
  });

  it("accepts an empty payload", () => {
    expect(expectOk(parseUdp(hex("00 07 00 09 00 08 00 00"), null))).toEqual({
      srcPort: 7,
      dstPort: 9,
      payload: new Uint8Array(0),
    });
  });

  it("rejects a header shorter than 8 bytes, and a length past the end", () => {
    expect(reason(new Uint8Array(0), null)).toBe("truncated");
    expect(reason(DNS_QUERY.subarray(0, 7), null)).toBe("truncated");
    expect(reason(DNS_QUERY.subarray(0, 36), null)).toBe("truncated");
  });

  it("rejects a length field below the header size", () => {
    for (let len = 0; len < UDP_HEADER_LENGTH; len++) {
      const b = DNS_QUERY.slice();
      b[4] = 0;
      b[5] = len;
      expect(reason(b, null)).toBe("bad-length");
    }
  });
});

describe("emitUdp", () => {
  it("sends a checksum that computes to zero as 0xffff, and parses it back", () => {
    // Choose the payload word so that the one's-complement sum comes to 0xffff.
    const d: UdpDatagram = { srcPort: 1, dstPort: 2, payload: new Uint8Array(2) };
    const pseudo = { src: 0x0a000001, dst: 0x0a000002 };
    const buf = filled(10);
    emitUdp(d, buf, 0, pseudo);
    const c = u16(buf, 6);
    const d2 = { ...d, payload: new Uint8Array([c >> 8, c & 0xff]) };
    emitUdp(d2, buf, 0, pseudo);
    expect(u16(buf, 6)).toBe(0xffff);
    expect(parseUdp(buf, pseudo)).toEqual({ ok: true, value: d2 });
  });

  it("leaves the checksum zero (none) without a pseudo-header", () => {
    const buf = filled(37);
    emitUdp(DNS_DATAGRAM, buf, 0, null);
    expect(u16(buf, 6)).toBe(0);
    expect(buf.subarray(8)).toEqual(DNS_QUERY.subarray(8));
  });

  it("refuses a datagram longer than the length field can say", () => {
    const d = { srcPort: 1, dstPort: 2, payload: new Uint8Array(0xffff - 7) };
    expect(() => emitUdp(d, new Uint8Array(0x10010), 0, null)).toThrow(RangeError);
    const max = { ...d, payload: new Uint8Array(0xffff - 8) };
    expect(emitUdp(max, new Uint8Array(0xffff), 0, PSEUDO)).toBe(0xffff);
  });

  const datagram: fc.Arbitrary<UdpDatagram> = fc.record({
    srcPort: fc.nat({ max: 0xffff }),
    dstPort: fc.nat({ max: 0xffff }),
    payload: fc.uint8Array({ maxLength: 300 }),
  });
  const pseudoArb = fc.record({ src: fc.nat({ max: 0xffffffff }), dst: fc.nat({ max: 0xffffffff }) });

  it("round-trips (property), never emitting a zero checksum", () => {
    fc.assert(
      fc.property(datagram, pseudoArb, fc.nat({ max: 7 }), (d, pseudo, offset) => {
        const len = udpLength(d);
        const buf = filled(offset + len + 2);
        expect(emitUdp(d, buf, offset, pseudo)).toBe(len);
        expect(u16(buf, offset + 6)).not.toBe(0);
        const bytes = buf.subarray(offset, offset + len);
        expect(parseUdp(bytes, pseudo)).toEqual({ ok: true, value: d });
        expect(parseUdp(bytes, null)).toEqual({ ok: true, value: d });
        expect([...buf.subarray(offset + len)]).toEqual([FILL, FILL]);
      }),
      { numRuns: 3000 },
    );
  });

  it("writes every header byte: the output does not depend on what the buffer held", () => {
    fc.assert(
      fc.property(datagram, pseudoArb, fc.nat({ max: 255 }), (d, pseudo, fill) => {
        const a = new Uint8Array(udpLength(d)).fill(fill);
        const b = new Uint8Array(udpLength(d)).fill(FILL);
        emitUdp(d, a, 0, pseudo);
        emitUdp(d, b, 0, pseudo);
        expect(a).toEqual(b);
      }),
    );
  });
});
