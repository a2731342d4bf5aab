import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PROTO_TCP } from "../../src/wire/ipv4.js";
import { seq, type Seq } from "../../src/wire/seq.js";
import {
  ACK,
  CWR,
  ECE,
  emitTcp,
  FIN,
  flagNames,
  headerLength,
  optionsLength,
  parseTcp,
  PSH,
  RST,
  SYN,
  TCP_MAX_HEADER,
  URG,
  type PseudoHeader,
  type TcpOptions,
  type TcpSegment,
} from "../../src/wire/tcp.js";
import { expectOk, FILL, filled, hex, pseudoBytes, refChecksum, toHex, u16 } from "./helpers.js";

const PSEUDO = { src: 0x0a000001, dst: 0x0a000002 } satisfies PseudoHeader;

/** A TCP header (ports 1234 -> 80, seq 1, ack 2, ACK, window 1000) with the given option bytes and payload. */
function segment(optionHex: string, opts: { flags?: number; payload?: string; dataOffset?: number } = {}): Uint8Array {
  const options = hex(optionHex);
  const payload = hex(opts.payload ?? "");
  if (options.length % 4 !== 0) throw new Error("test bug: options must fill whole 32-bit words");
  const b = new Uint8Array(20 + options.length + payload.length);
  b.set(hex("04 d2 00 50  00 00 00 01  00 00 00 02  00 10 03 e8  00 00 00 00"));
  b[12] = (opts.dataOffset ?? (20 + options.length) / 4) << 4;
  b[13] = opts.flags ?? ACK;
  b.set(options, 20);
  b.set(payload, 20 + options.length);
  return b;
}

function options(optionHex: string): TcpOptions {
  return expectOk(parseTcp(segment(optionHex), null)).options;
}

function reason(bytes: Uint8Array, pseudo: PseudoHeader | null = null): string | undefined {
  const r = parseTcp(bytes, pseudo);
  return r.ok ? undefined : r.reason;
}

describe("parseTcp: fixed header", () => {
  it("reads every field of a header without options", () => {
    const bytes = hex("04 d2 00 50  de ad be ef  ca fe ba be  50 39 ff ff  00 00 12 34  68 69");
    expect(parseTcp(bytes, null)).toEqual({
      ok: true,
      value: {
        srcPort: 1234,
        dstPort: 80,
        seq: 0xdeadbeef,
        ack: 0xcafebabe,
        flags: URG | ACK | PSH | FIN,
        window: 0xffff,
        urgentPointer: 0x1234,
        options: {},
        payload: hex("68 69"),
      },
    });
  });

  it("rejects data offset < 5", () => {
    for (let off = 0; off < 5; off++) expect(reason(segment("", { dataOffset: off }))).toBe("bad-data-offset");
  });

  it("rejects a data offset past the end, and fewer than 20 bytes", () => {
    expect(reason(segment("01 01 01 01", { dataOffset: 6 }).subarray(0, 23))).toBe("truncated");
    expect(reason(segment("", { dataOffset: 15 }))).toBe("truncated");
    expect(reason(new Uint8Array(19))).toBe("truncated");
    expect(reason(new Uint8Array(0))).toBe("truncated");
  });

  it("parses SYN+FIN and SYN+RST too: their meaning is the TCP layer's to decide (by state)", () => {
    for (const flags of [SYN | FIN, SYN | RST, SYN | FIN | RST | ACK, 0xff]) {
      expect(expectOk(parseTcp(segment("", { flags }), null)).flags).toBe(flags);
    }
  });

  it("accepts other flag combinations, including none at all", () => {
    for (const flags of [0, SYN, SYN | ACK, FIN | ACK, RST, RST | ACK, FIN | PSH | ACK, ECE | CWR | SYN]) {
      expect(expectOk(parseTcp(segment("", { flags }), null)).flags).toBe(flags);
    }
  });

  it("ignores the reserved bits next to the data offset", () => {
    const b = segment("");
    b[12] = 0x5f;
    expect(expectOk(parseTcp(b, null)).flags).toBe(ACK);
  });

  it("verifies the pseudo-header checksum when given addresses, skips it with null", () => {
    const b = segment("", { payload: "61 62 63" }); // odd length
    const c = refChecksum(pseudoBytes(PSEUDO.src, PSEUDO.dst, PROTO_TCP, b.length), b);
    b[16] = c >> 8;
    b[17] = c & 0xff;
    expect(parseTcp(b, PSEUDO).ok).toBe(true);
    expect(reason(b, { src: PSEUDO.src, dst: PSEUDO.dst + 1 })).toBe("bad-checksum");
    b[22] ^= 0x20;
    expect(reason(b, PSEUDO)).toBe("bad-checksum");
    expect(parseTcp(b, null).ok).toBe(true);
  });
});

describe("parseTcp: options", () => {
  it("MSS", () => expect(options("02 04 05 b4")).toEqual({ mss: 1460 }));
  it("window scale", () => expect(options("01 03 03 0e")).toEqual({ windowScale: 14 }));
  it("SACK permitted", () => expect(options("01 01 04 02")).toEqual({ sackPermitted: true }));
  it("timestamps", () =>
    expect(options("01 01 08 0a  ff ff ff fe  00 00 00 07")).toEqual({ timestamp: { value: 0xfffffffe, echo: 7 } }));
  it("SACK with one to four blocks", () => {
    expect(options("01 01 05 0a  00 00 00 10  00 00 00 20")).toEqual({
      sackBlocks: [{ left: 0x10, right: 0x20 }],
    });
    const four = "05 22" + " 00 00 00 01 00 00 00 02".repeat(3) + " ff ff ff ff 00 00 00 05" + " 00 00";
    expect(options(four).sackBlocks).toEqual([
      { left: 1, right: 2 },
      { left: 1, right: 2 },
      { left: 1, right: 2 },
      { left: 0xffffffff, right: 5 },
    ]);
  });

  it("all of them together (a Linux SYN)", () => {
    expect(options("02 04 05 b4  04 02 08 0a  00 00 00 01  00 00 00 00  01 03 03 07")).toEqual({
      mss: 1460,
      sackPermitted: true,
      timestamp: { value: 1, echo: 0 },
      windowScale: 7,
    });
  });

  it("NOPs are skipped and EOL ends the list: bytes after it are not read", () => {
    expect(options("01 01 01 01")).toEqual({});
    expect(options("00 00 00 00")).toEqual({});
    // After EOL comes what would be a malformed option (kind 2, length 0): it is never parsed.
    expect(options("02 04 05 b4  00 02 00 ff")).toEqual({ mss: 1460 });
    expect(options("00 03 03 07")).toEqual({});
  });

  it("an unknown option is skipped by its length", () => {
    // Kind 30 (MPTCP) length 6, then window scale.
    expect(options("1e 06 00 00 00 00  03 03 05 01 01 01")).toEqual({ windowScale: 5 });
    // Kind 254 (experimental) length 2.
    expect(options("fe 02 01 01")).toEqual({});
  });

  it("payload starts after the options", () => {
    const s = expectOk(parseTcp(segment("02 04 02 18", { payload: "aa bb" }), null));
    expect(s.options).toEqual({ mss: 536 });
    expect(s.payload).toEqual(hex("aa bb"));
  });

  // As Linux's tcp_parse_options: a segment is never refused for its options. A silly or
  // overrunning length ends the parsing (what came before is kept); a known option of the
  // wrong length, or an MSS of 0, is ignored and the parsing goes on after it.
  const badOptions: [string, string, TcpOptions][] = [
    ["length 0 ends the parsing", "02 04 05 b4 1e 00 03 03 07 01 01 01", { mss: 1460 }],
    ["length 1 ends the parsing", "1e 01 02 04 05 b4 01 01", {}],
    ["a length past the header ends the parsing", "02 04 05 b4 1e 08 00 00", { mss: 1460 }],
    ["a kind with no room for a length ends the parsing", "01 01 01 02", {}],
    ["an MSS of length 3 is skipped", "02 03 05 01 03 03 07 01", { windowScale: 7 }],
    ["an MSS of length 5 is skipped", "02 05 05 b4 00 04 02 01", { sackPermitted: true }],
    ["an MSS of 0 is none", "02 04 00 00", {}],
    ["a window scale of length 2 is skipped", "03 02 01 01", {}],
    ["a window scale of length 4 is skipped", "03 04 07 00", {}],
    ["SACK permitted of length 3 is skipped", "04 03 00 01", {}],
    ["SACK with no blocks is skipped", "05 02 01 01", {}],
    ["SACK with a partial block is skipped", "05 0b 00 00 00 01 00 00 00 02 00 01", {}],
    ["timestamps of length 8 are skipped", "08 08 00 00 00 01 00 00", {}],
    ["timestamps running past the header end the parsing", "01 01 08 0a 00 00 00 01", {}],
  ];
  for (const [name, bytes, read] of badOptions) {
    it(`takes the segment when ${name}`, () => {
      expect(expectOk(parseTcp(segment(bytes), null)).options).toEqual(read);
    });
  }
});

describe("emitTcp", () => {
  const base: TcpSegment = {
    srcPort: 1234,
    dstPort: 80,
    seq: seq(1),
    ack: seq(2),
    flags: ACK,
    window: 1000,
    urgentPointer: 0,
    options: {},
    payload: new Uint8Array(0),
  };

  function emitted(s: TcpSegment): Uint8Array {
    const buf = filled(headerLength(s.options) + s.payload.length + 2);
    const n = emitTcp(s, buf, 1, null);
    expect(n).toBe(headerLength(s.options) + s.payload.length);
    expect(buf[0]).toBe(FILL);
    expect(buf[n + 1]).toBe(FILL);
    return buf.subarray(1, n + 1);
  }

  it("lays options out as Linux does", () => {
    const opt = (o: TcpOptions): string => toHex(emitted({ ...base, options: o }).subarray(20));
    // SYN-ACK without timestamps: MSS, NOP NOP SACK_PERM, NOP WSCALE.
    expect(opt({ mss: 1460, sackPermitted: true, windowScale: 7 })).toBe("020405b4" + "01010402" + "01030307");
    // Established with timestamps: NOP NOP TS.
    expect(opt({ timestamp: { value: 5, echo: 6 } })).toBe("0101080a" + "00000005" + "00000006");
    // Timestamps and SACK blocks.
    expect(opt({ timestamp: { value: 5, echo: 6 }, sackBlocks: [{ left: seq(10), right: seq(20) }] })).toBe(
      "0101080a0000000500000006" + "0101050a" + "0000000a00000014",
    );
    expect(opt({})).toBe("");
  });

  it("writes the checksum with a pseudo-header and zero without one", () => {
    const s = { ...base, payload: hex("01 02 03") };
    const buf = filled(23);
    emitTcp(s, buf, 0, PSEUDO);
    const zeroed = buf.slice();
    zeroed[16] = 0;
    zeroed[17] = 0;
    expect(u16(buf, 16)).toBe(refChecksum(pseudoBytes(PSEUDO.src, PSEUDO.dst, PROTO_TCP, 23), zeroed));
    emitTcp(s, buf, 0, null);
    expect(u16(buf, 16)).toBe(0);
  });

  it("leaves a payload already in place alone, and checksums it where it lies", () => {
    // The packet built around its payload (ip/packet-alloc.ts claimFront): 20 header bytes, then the payload.
    const buf = filled(23);
    buf.set(hex("01 02 03"), 20);
    const s = { ...base, payload: buf.subarray(20) };
    emitTcp(s, buf, 0, PSEUDO, true);
    const copied = filled(23);
    emitTcp({ ...s, payload: hex("01 02 03") }, copied, 0, PSEUDO);
    expect(toHex(buf)).toBe(toHex(copied));
  });

  it("refuses options that do not fit in 40 bytes", () => {
    const blocks = [1, 2, 3].map((i) => ({ left: seq(i), right: seq(i + 1) }));
    const o: TcpOptions = { mss: 1460, timestamp: { value: 1, echo: 2 }, windowScale: 1, sackBlocks: blocks };
    expect(optionsLength(o)).toBe(48);
    expect(() => emitTcp({ ...base, options: o }, new Uint8Array(100), 0, null)).toThrow(RangeError);
  });
});

const u32 = fc.nat({ max: 0xffffffff });
const seqArb: fc.Arbitrary<Seq> = u32.map(seq);
const legalFlags = fc.nat({ max: 255 }).filter((f) => (f & SYN) === 0 || (f & (FIN | RST)) === 0);
const optionsArb: fc.Arbitrary<TcpOptions> = fc
  .record(
    {
      mss: fc.integer({ min: 1, max: 0xffff }), // an MSS of 0 is read as none (tcp_parse_options)
      windowScale: fc.nat({ max: 255 }),
      sackPermitted: fc.constant(true),
      sackBlocks: fc.array(fc.record({ left: seqArb, right: seqArb }), { minLength: 1, maxLength: 4 }),
      timestamp: fc.record({ value: u32, echo: u32 }),
    },
    { requiredKeys: [] },
  )
  .filter((o) => headerLength(o) <= TCP_MAX_HEADER);

const tcpSegmentArb: fc.Arbitrary<TcpSegment> = fc.record({
  srcPort: fc.nat({ max: 0xffff }),
  dstPort: fc.nat({ max: 0xffff }),
  seq: seqArb,
  ack: seqArb,
  flags: legalFlags,
  window: fc.nat({ max: 0xffff }),
  urgentPointer: fc.nat({ max: 0xffff }),
  options: optionsArb,
  payload: fc.uint8Array({ maxLength: 200 }),
});

describe("TCP round trip (property)", () => {
  it("emitTcp then parseTcp gives back the segment, with and without checksum", () => {
    fc.assert(
      fc.property(tcpSegmentArb, u32, u32, fc.nat({ max: 7 }), (s, src, dst, offset) => {
        const len = headerLength(s.options) + s.payload.length;
        const buf = filled(offset + len + 3);
        expect(emitTcp(s, buf, offset, { src, dst })).toBe(len);
        expect(parseTcp(buf.subarray(offset, offset + len), { src, dst })).toEqual({ ok: true, value: s });
        expect(parseTcp(buf.subarray(offset, offset + len), null)).toEqual({ ok: true, value: s });
        expect([...buf.subarray(offset + len)]).toEqual([FILL, FILL, FILL]);
      }),
      { numRuns: 3000 },
    );
  });

  it("writes every header byte: the output does not depend on what the buffer held", () => {
    fc.assert(
      fc.property(tcpSegmentArb, fc.nat({ max: 255 }), (s, fill) => {
        const len = headerLength(s.options) + s.payload.length;
        const a = new Uint8Array(len).fill(fill);
        const b = new Uint8Array(len).fill(FILL);
        emitTcp(s, a, 0, PSEUDO);
        emitTcp(s, b, 0, PSEUDO);
        expect(a).toEqual(b);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("flagNames", () => {
  it("names flags in tcpdump order", () => {
    expect(flagNames(SYN | ACK)).toBe("SYN,ACK");
    expect(flagNames(FIN | PSH | ACK)).toBe("FIN,PSH,ACK");
    expect(flagNames(0xff)).toBe("SYN,FIN,RST,PSH,ACK,URG,ECE,CWR");
    expect(flagNames(0)).toBe("");
  });
});
