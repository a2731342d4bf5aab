/**
 * ICMPv6 codec (RFC 4443): golden bytes whose checksums were computed outside the project,
 * every message kind emitted and parsed back with the pseudo-header checksum, the quote
 * of an error read past extension headers, never-throw on arbitrary bytes, and tshark
 * checking our checksums.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { IpAddress, parseIpAddress } from "../../src/wire/address.js";
import {
  emitIcmpv6,
  ICMPV6_MAX_QUOTE,
  icmpv6Length,
  isIcmpv6Error,
  PARAM_PROBLEM_OPTION,
  parseIcmpv6,
  parseIcmpv6Quote,
  TIME_EXCEEDED6_REASSEMBLY,
  UNREACH6_PORT,
  type Icmpv6Message,
} from "../../src/wire/icmpv6.js";
import { PROTO_TCP, PROTO_UDP } from "../../src/wire/ipv4.js";
import { emitIpv6Header, emitIpv6Headers, NH_ICMPV6, type Ipv6Extension } from "../../src/wire/ipv6.js";
import { expectOk, FILL, filled, hex, pseudoBytes6, refChecksum, toHex, u16 } from "./helpers.js";
import { tsharkAvailable, tsharkFields } from "./tshark.js";

const A = parseIpAddress("fd00::1")!;
const B = parseIpAddress("fd00::2")!;
const ROUTER = parseIpAddress("fd00::fe")!;

/** Golden (checksums by Python, outside the project): echo request fd00::1 -> fd00::2, id 0x1234, seq 1, "abcd". */
const ECHO = hex(`80 00 ae b8  12 34 00 01  61 62 63 64`);
/**
 * Golden: packet too big from fd00::fe to fd00::1, MTU 1280, quoting a UDP datagram
 * fd00::1:40000 -> fd00::2:53 with 8 bytes of data.
 */
const QUOTED = hex(`
  60 00 00 00  00 10 11 40
  fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01
  fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02
  9c 40 00 35  00 10 65 50  01 01 01 01 01 01 01 01
`);
const TOO_BIG = new Uint8Array([...hex(`02 00 8c 55  00 00 05 00`), ...QUOTED]);

describe("golden messages", () => {
  it("carry checksums over the IPv6 pseudo-header (checked with the naive reference)", () => {
    const echo = ECHO.slice();
    echo[2] = echo[3] = 0;
    expect(refChecksum(pseudoBytes6(A.toBytes(), B.toBytes(), 58, echo.length), echo)).toBe(u16(ECHO, 2));
    const big = TOO_BIG.slice();
    big[2] = big[3] = 0;
    expect(refChecksum(pseudoBytes6(ROUTER.toBytes(), A.toBytes(), 58, big.length), big)).toBe(u16(TOO_BIG, 2));
  });

  it("parse, verifying the checksum", () => {
    expect(expectOk(parseIcmpv6(ECHO, { src: A, dst: B }))).toEqual({ kind: "echo-request", id: 0x1234, seq: 1, data: ECHO.subarray(8) });
    expect(expectOk(parseIcmpv6(TOO_BIG, { src: ROUTER, dst: A }))).toEqual({ kind: "packet-too-big", mtu: 1280, original: QUOTED });
  });

  it("fail the checksum under other addresses or with a flipped bit, and pass with null", () => {
    expect(parseIcmpv6(ECHO, { src: B, dst: ROUTER })).toEqual({ ok: false, reason: "bad-checksum" });
    const flipped = ECHO.slice();
    flipped[9] ^= 1;
    expect(parseIcmpv6(flipped, { src: A, dst: B })).toEqual({ ok: false, reason: "bad-checksum" });
    expect(parseIcmpv6(flipped, null).ok).toBe(true);
  });

  it("emit the same bytes into a 0xa5-filled buffer", () => {
    const buf = filled(ECHO.length + 4);
    expect(emitIcmpv6({ kind: "echo-request", id: 0x1234, seq: 1, data: ECHO.subarray(8) }, buf, 2, { src: A, dst: B })).toBe(12);
    expect(toHex(buf.subarray(2, 14))).toBe(toHex(ECHO));
    expect([buf[0], buf[1], buf[14], buf[15]]).toEqual([FILL, FILL, FILL, FILL]);
    const big = filled(TOO_BIG.length);
    emitIcmpv6({ kind: "packet-too-big", mtu: 1280, original: QUOTED }, big, 0, { src: ROUTER, dst: A });
    expect(toHex(big)).toBe(toHex(TOO_BIG));
  });

  it("rejects fewer than 8 bytes", () => {
    expect(parseIcmpv6(ECHO.subarray(0, 7), null)).toEqual({ ok: false, reason: "truncated" });
  });
});

const original = QUOTED;
const MESSAGES: Icmpv6Message[] = [
  { kind: "echo-request", id: 1, seq: 2, data: new Uint8Array([1, 2, 3]) },
  { kind: "echo-reply", id: 0xffff, seq: 0xffff, data: new Uint8Array(0) },
  { kind: "dest-unreachable", code: UNREACH6_PORT, original },
  { kind: "packet-too-big", mtu: 0xffffffff, original },
  { kind: "time-exceeded", code: TIME_EXCEEDED6_REASSEMBLY, original },
  { kind: "parameter-problem", code: PARAM_PROBLEM_OPTION, pointer: 44, original },
  { kind: "other", type: 135, code: 0, rest: 0, body: new Uint8Array(16) },
];

describe("every kind", () => {
  it.each(MESSAGES.map((m) => [m.kind, m] as const))("%s round-trips", (_, m) => {
    const buf = filled(icmpv6Length(m));
    emitIcmpv6(m, buf, 0, { src: A, dst: B });
    expect(expectOk(parseIcmpv6(buf, { src: A, dst: B }))).toEqual(m);
  });

  it("writes type, code and the second word where RFC 4443 puts them", () => {
    const at = (m: Icmpv6Message) => {
      const buf = filled(icmpv6Length(m));
      emitIcmpv6(m, buf, 0, { src: A, dst: B });
      return toHex(buf.subarray(0, 2)) + toHex(buf.subarray(4, 8));
    };
    expect(MESSAGES.map(at)).toEqual(["800000010002", "8100ffffffff", "010400000000", "0200ffffffff", "030100000000", "04020000002c", "870000000000"]);
  });

  it("errors are the types below 128 (RFC 4443 2.1)", () => {
    expect([1, 2, 3, 4, 127].every(isIcmpv6Error)).toBe(true);
    expect([128, 129, 133, 255].some(isIcmpv6Error)).toBe(false);
  });

  it("the largest quote keeps an error within the minimum MTU (RFC 4443 2.4(c))", () => {
    expect(40 + icmpv6Length({ kind: "dest-unreachable", code: 0, original: new Uint8Array(ICMPV6_MAX_QUOTE) })).toBe(1280);
  });
});

describe("quotes", () => {
  it("gives the quoted addresses, protocol and transport bytes", () => {
    const q = expectOk(parseIcmpv6Quote(QUOTED));
    expect(q.src.equals(A) && q.dst.equals(B)).toBe(true);
    expect(q).toMatchObject({ protocol: PROTO_UDP, headerLength: 40 });
    expect(toHex(q.transport.subarray(0, 4))).toBe("9c400035");
  });

  it("walks past extension headers, even when the quote ends before the payload length says", () => {
    const chain: Ipv6Extension[] = [
      { kind: "hop-by-hop", options: [] },
      { kind: "fragment", offset: 0, more: true, id: 9 },
      { kind: "destination", options: [{ type: 0x1e, data: new Uint8Array(10) }] },
    ];
    const buf = filled(40 + 8 + 8 + 16 + 20);
    const n = emitIpv6Headers({ src: A, dst: B, nextHeader: PROTO_TCP, payloadLength: 1000 }, chain, buf);
    const q = expectOk(parseIcmpv6Quote(buf.subarray(0, n + 8)));
    expect(q).toMatchObject({ protocol: PROTO_TCP, headerLength: 72 });
    expect(q.transport).toHaveLength(8);
    expect(parseIcmpv6Quote(buf.subarray(0, n + 7))).toEqual({ ok: false, reason: "truncated" });
    expect(parseIcmpv6Quote(buf.subarray(0, 50))).toEqual({ ok: false, reason: "truncated" });
  });

  it("refuses a quote of a fragment other than the first, and of IPv4", () => {
    const buf = filled(40 + 8 + 8);
    emitIpv6Headers({ src: A, dst: B, nextHeader: PROTO_UDP, payloadLength: 8 }, [{ kind: "fragment", offset: 8, more: false, id: 1 }], buf);
    expect(parseIcmpv6Quote(buf)).toEqual({ ok: false, reason: "bad-fragment" });
    const v4 = QUOTED.slice();
    v4[0] = 0x45;
    expect(parseIcmpv6Quote(v4)).toEqual({ ok: false, reason: "bad-version" });
  });
});

const v6 = fc.array(fc.nat({ max: 0xffff }), { minLength: 8, maxLength: 8 }).map((g) => IpAddress.fromGroups(g));

describe("properties", () => {
  it("any echo round-trips under any addresses, and the checksum binds the addresses", () => {
    fc.assert(
      fc.property(v6, v6, fc.nat({ max: 0xffff }), fc.nat({ max: 0xffff }), fc.uint8Array({ maxLength: 100 }), fc.boolean(), (src, dst, id, seq, data, reply) => {
        const m: Icmpv6Message = { kind: reply ? "echo-reply" : "echo-request", id, seq, data };
        const buf = filled(icmpv6Length(m));
        emitIcmpv6(m, buf, 0, { src, dst });
        expect(expectOk(parseIcmpv6(buf, { src, dst }))).toEqual(m);
        const other = IpAddress.v6(src.w0, src.w1, src.w2, (src.w3 ^ 1) >>> 0);
        expect(parseIcmpv6(buf, { src: other, dst }).ok).toBe(false);
      }),
    );
  });

  const seeds = [ECHO, TOO_BIG, QUOTED];
  const inputs = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }), fc.nat({ max: 60 })).map(([s, edits, cut]) => {
      const b = s.slice();
      for (const [at, v] of edits) b[at % b.length] = v;
      return b.subarray(0, Math.max(0, b.length - cut));
    }),
  );

  it("parseIcmpv6 and parseIcmpv6Quote never throw and stay inside the bytes", () => {
    fc.assert(
      fc.property(inputs, fc.boolean(), (bytes, verify) => {
        const r = parseIcmpv6(bytes, verify ? { src: A, dst: B } : null);
        if (r.ok && "original" in r.value) {
          const q = parseIcmpv6Quote(r.value.original);
          if (q.ok) expect(q.value.headerLength + q.value.transport.length).toBe(r.value.original.length);
        }
        const q = parseIcmpv6Quote(bytes);
        if (q.ok) {
          expect(q.value.transport.length).toBeGreaterThanOrEqual(8);
          expect(q.value.transport.buffer).toBe(bytes.buffer);
        }
      }),
      { numRuns: 20_000 },
    );
  });
});

describe("tshark agrees", () => {
  it("on type, code, fields and the checksum of every kind", () => {
    if (!tsharkAvailable()) return;
    const packets = MESSAGES.map((m) => {
      const len = icmpv6Length(m);
      const buf = filled(40 + len);
      emitIpv6Header({ src: A, dst: B, nextHeader: NH_ICMPV6, payloadLength: len, hopLimit: 255 }, buf);
      emitIcmpv6(m, buf, 40, { src: A, dst: B });
      return buf;
    });
    const rows = tsharkFields(packets, ["icmpv6.type", "icmpv6.code", "icmpv6.checksum.status", "icmpv6.echo.identifier", "icmpv6.mtu", "icmpv6.pointer"]);
    expect(rows.map((r) => r.slice(0, 3))).toEqual([
      ["128", "0", "1"],
      ["129", "0", "1"],
      ["1", "4", "1"],
      ["2", "0", "1"],
      ["3", "1", "1"],
      ["4", "2", "1"],
      ["135", "0", "1"],
    ]);
    expect(rows.map((r) => r.slice(3))).toEqual([
      ["0x0001", "", ""],
      ["0xffff", "", ""],
      ["", "", ""],
      ["", "4294967295", ""],
      ["", "", ""],
      ["", "", "44"],
      ["", "", ""],
    ]);
  });
});
