import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  emitIcmp,
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_TIME_EXCEEDED,
  icmpLength,
  parseIcmp,
  parseIcmpQuote,
  TIME_EXCEEDED_TTL,
  UNREACH_FRAG_NEEDED,
  UNREACH_PORT,
  type IcmpMessage,
} from "../../src/wire/icmp.js";
import { PROTO_UDP } from "../../src/wire/ipv4.js";
import { expectOk, FILL, filled, hex, refChecksum, toHex, u16 } from "./helpers.js";

/**
 * Golden bytes (checksums computed outside the project, re-derived below):
 * - a Linux `ping` echo request: id 0x1234, seq 1, 8-byte timestamp then bytes 0x10..0x37;
 * - the port unreachable 8.8.8.8 would answer a DNS query from 192.168.1.23:40000 with,
 *   quoting the 20-byte IP header and the 8-byte UDP header (RFC 792 minimum).
 */
const PING = hex(`
  08 00 7a 5d  12 34 00 01  5f 5e 4d 3c  00 00 00 00
  10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27
  28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37
`);
const QUOTE = hex(`
  45 00 00 39  4d 2f 40 00  40 11 1b b6  c0 a8 01 17  08 08 08 08
  9c 40 00 35  00 25 16 24
`);
const PORT_UNREACHABLE = hex(`03 03 4a 3e  00 00 00 00`);
const UNREACH = new Uint8Array([...PORT_UNREACHABLE, ...QUOTE]);

function emitted(m: IcmpMessage): Uint8Array {
  const n = icmpLength(m);
  const buf = filled(n + 4);
  expect(emitIcmp(m, buf, 2)).toBe(n);
  expect([...buf.subarray(0, 2), ...buf.subarray(n + 2)]).toEqual([FILL, FILL, FILL, FILL]);
  return buf.subarray(2, n + 2);
}

function zeroChecksum(b: Uint8Array): Uint8Array {
  const z = b.slice();
  z[2] = 0;
  z[3] = 0;
  return z;
}

describe("ICMP golden messages", () => {
  it("carry correct checksums", () => {
    expect(refChecksum(zeroChecksum(PING))).toBe(u16(PING, 2));
    expect(refChecksum(zeroChecksum(UNREACH))).toBe(u16(UNREACH, 2));
  });

  it("echo request parses and emits byte for byte", () => {
    const m: IcmpMessage = { kind: "echo-request", id: 0x1234, seq: 1, data: PING.subarray(8) };
    expect(parseIcmp(PING)).toEqual({ ok: true, value: m });
    expect(toHex(emitted(m))).toBe(toHex(PING));
  });

  it("the echo reply differs only in type and checksum", () => {
    const reply = emitted({ kind: "echo-reply", id: 0x1234, seq: 1, data: PING.subarray(8) });
    expect(reply[0]).toBe(ICMP_ECHO_REPLY);
    expect(reply.subarray(4)).toEqual(PING.subarray(4));
    // Type 8 -> 0 changes the sum by 0x0800 (RFC 1624 incremental update).
    expect(u16(reply, 2)).toBe(u16(PING, 2) + 0x0800);
    expect(expectOk(parseIcmp(reply)).kind).toBe("echo-reply");
  });

  it("port unreachable parses, emits byte for byte, and its quote names the datagram", () => {
    const m: IcmpMessage = { kind: "dest-unreachable", code: UNREACH_PORT, nextHopMtu: 0, original: QUOTE };
    expect(parseIcmp(UNREACH)).toEqual({ ok: true, value: m });
    expect(toHex(emitted(m))).toBe(toHex(UNREACH));
    const q = expectOk(parseIcmpQuote(QUOTE));
    expect(q).toEqual({
      src: 0xc0a80117,
      dst: 0x08080808,
      protocol: PROTO_UDP,
      headerLength: 20,
      transport: QUOTE.subarray(20),
    });
    expect(u16(q.transport, 0)).toBe(40000);
    expect(u16(q.transport, 2)).toBe(53);
  });
});

describe("parseIcmp", () => {
  it("reads the next-hop MTU of fragmentation-needed (RFC 1191)", () => {
    const b = emitted({ kind: "dest-unreachable", code: UNREACH_FRAG_NEEDED, nextHopMtu: 1400, original: QUOTE });
    expect(toHex(b.subarray(0, 2))).toBe("0304");
    expect(toHex(b.subarray(4, 8))).toBe("00000578");
    expect(parseIcmp(b)).toEqual({
      ok: true,
      value: { kind: "dest-unreachable", code: UNREACH_FRAG_NEEDED, nextHopMtu: 1400, original: QUOTE },
    });
  });

  it("ignores the unused field of other unreachable codes", () => {
    const b = UNREACH.slice();
    b[6] = 0x05;
    b[7] = 0x78;
    b[2] = 0;
    b[3] = 0;
    const c = refChecksum(b);
    b[2] = c >> 8;
    b[3] = c & 0xff;
    expect(expectOk(parseIcmp(b))).toMatchObject({ kind: "dest-unreachable", code: UNREACH_PORT, nextHopMtu: 0 });
  });

  it("time exceeded", () => {
    const b = emitted({ kind: "time-exceeded", code: TIME_EXCEEDED_TTL, original: QUOTE });
    expect(toHex(b.subarray(0, 2))).toBe("0b00");
    expect(toHex(b.subarray(4, 8))).toBe("00000000");
    expect(parseIcmp(b)).toEqual({ ok: true, value: { kind: "time-exceeded", code: 0, original: QUOTE } });
  });

  it("returns other types raw (timestamp request, type 13)", () => {
    const b = emitted({ kind: "other", type: 13, code: 0, rest: 0xabcd0001, body: hex("00 00 00 01 00 00 00 00 00 00 00 00") });
    expect(toHex(b.subarray(0, 2))).toBe("0d00");
    expect(toHex(b.subarray(4, 8))).toBe("abcd0001");
    expect(expectOk(parseIcmp(b))).toEqual({
      kind: "other",
      type: 13,
      code: 0,
      rest: 0xabcd0001,
      body: hex("00 00 00 01 00 00 00 00 00 00 00 00"),
    });
  });

  it("accepts an echo with no data", () => {
    const b = emitted({ kind: "echo-request", id: 0, seq: 0xffff, data: new Uint8Array(0) });
    expect(b.length).toBe(8);
    expect(expectOk(parseIcmp(b))).toEqual({ kind: "echo-request", id: 0, seq: 0xffff, data: new Uint8Array(0) });
  });

  it("rejects fewer than 8 bytes", () => {
    expect(parseIcmp(new Uint8Array(0))).toEqual({ ok: false, reason: "truncated" });
    expect(parseIcmp(PING.subarray(0, 7))).toEqual({ ok: false, reason: "truncated" });
  });

  it("rejects a bad checksum unless told not to verify (odd length covered)", () => {
    const bad = PING.slice(0, 9); // odd length, checksum no longer matches
    expect(parseIcmp(bad)).toEqual({ ok: false, reason: "bad-checksum" });
    expect(expectOk(parseIcmp(bad, { verifyChecksum: false }))).toMatchObject({ kind: "echo-request", seq: 1 });
    const flipped = PING.slice();
    flipped[40] ^= 0x80;
    expect(parseIcmp(flipped)).toEqual({ ok: false, reason: "bad-checksum" });
  });
});

describe("parseIcmpQuote", () => {
  it("skips the options of a quoted header with IHL > 5", () => {
    const q = hex(`46 00 00 40  00 00 00 00  40 06 00 00  0a 00 00 01  0a 00 00 02  94 04 00 00
                   04 d2 00 50  00 00 00 07  ff ff`);
    const v = expectOk(parseIcmpQuote(q));
    expect(v.headerLength).toBe(24);
    expect(v.protocol).toBe(6);
    expect(v.transport).toEqual(hex("04 d2 00 50  00 00 00 07  ff ff"));
  });

  it("rejects quotes too short for the header and 8 more bytes", () => {
    expect(parseIcmpQuote(QUOTE.subarray(0, 19))).toEqual({ ok: false, reason: "truncated" });
    expect(parseIcmpQuote(QUOTE.subarray(0, 27))).toEqual({ ok: false, reason: "truncated" });
    const ihl6 = QUOTE.slice();
    ihl6[0] = 0x46;
    expect(parseIcmpQuote(ihl6)).toEqual({ ok: false, reason: "truncated" });
  });

  it("rejects a bad version or IHL < 5", () => {
    const v6 = QUOTE.slice();
    v6[0] = 0x65;
    expect(parseIcmpQuote(v6)).toEqual({ ok: false, reason: "bad-version" });
    const ihl4 = QUOTE.slice();
    ihl4[0] = 0x44;
    expect(parseIcmpQuote(ihl4)).toEqual({ ok: false, reason: "bad-header-length" });
  });
});

const u16Arb = fc.nat({ max: 0xffff });
const bytesArb = fc.uint8Array({ maxLength: 200 });
const messageArb: fc.Arbitrary<IcmpMessage> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("echo-request" as const, "echo-reply" as const),
    id: u16Arb,
    seq: u16Arb,
    data: bytesArb,
  }),
  fc.nat({ max: 255 }).chain((code) =>
    fc.record({
      kind: fc.constant("dest-unreachable" as const),
      code: fc.constant(code),
      nextHopMtu: code === UNREACH_FRAG_NEEDED ? u16Arb : fc.constant(0),
      original: bytesArb,
    }),
  ),
  fc.record({ kind: fc.constant("time-exceeded" as const), code: fc.nat({ max: 255 }), original: bytesArb }),
  fc.record({
    kind: fc.constant("other" as const),
    type: fc
      .nat({ max: 255 })
      .filter((t) => ![ICMP_ECHO_REPLY, ICMP_DEST_UNREACHABLE, ICMP_ECHO_REQUEST, ICMP_TIME_EXCEEDED].includes(t)),
    code: fc.nat({ max: 255 }),
    rest: fc.nat({ max: 0xffffffff }),
    body: bytesArb,
  }),
);

describe("ICMP round trip (property)", () => {
  it("emitIcmp then parseIcmp gives back the message", () => {
    fc.assert(
      fc.property(messageArb, fc.nat({ max: 7 }), (m, offset) => {
        const n = icmpLength(m);
        const buf = filled(offset + n + 2);
        expect(emitIcmp(m, buf, offset)).toBe(n);
        expect(parseIcmp(buf.subarray(offset, offset + n))).toEqual({ ok: true, value: m });
        expect([...buf.subarray(offset + n)]).toEqual([FILL, FILL]);
      }),
      { numRuns: 3000 },
    );
  });

  it("writes every header byte: the output does not depend on what the buffer held", () => {
    fc.assert(
      fc.property(messageArb, fc.nat({ max: 255 }), (m, fill) => {
        const a = new Uint8Array(icmpLength(m)).fill(fill);
        const b = new Uint8Array(icmpLength(m)).fill(FILL);
        emitIcmp(m, a, 0);
        emitIcmp(m, b, 0);
        expect(a).toEqual(b);
      }),
    );
  });
});
