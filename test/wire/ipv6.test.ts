/**
 * IPv6 codec (RFC 8200): the fixed header from golden bytes and back, the extension-header
 * walk rule by rule (section 4: order, option action bits, routing type 0, fragments,
 * RFC 6946 atomic fragments), emission with padding, round-trip and never-throw
 * properties, and tshark reading what we emit.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { IpAddress, parseIpAddress } from "../../src/wire/address.js";
import {
  emitExtension,
  emitIpv6Header,
  emitIpv6Headers,
  extensionLength,
  IPV6_HEADER_LENGTH,
  NH_DESTINATION,
  NH_FRAGMENT,
  NH_HOP_BY_HOP,
  NH_ICMPV6,
  NH_NONE,
  parseIpv6,
  walkIpv6Extensions,
  type Ipv6Extension,
  type Ipv6Header,
  type Ipv6WalkResult,
} from "../../src/wire/ipv6.js";
import { PROTO_TCP, PROTO_UDP } from "../../src/wire/ipv4.js";
import { expectOk, FILL, filled, hex, toHex } from "./helpers.js";
import { tsharkAvailable, tsharkFields } from "./tshark.js";

const A = parseIpAddress("fd00::1")!;
const B = parseIpAddress("fd00::2")!;
const ALL_NODES = parseIpAddress("ff02::1")!;

/**
 * Golden: an ICMPv6 echo request fd00::1 -> fd00::2, flow label 0x12345, hop limit 64,
 * id 0x1234, seq 1, data "abcd". The checksum was computed with Python's ipaddress and
 * struct, outside the project (and tshark checks it below).
 */
const PING6 = hex(`
  60 01 23 45  00 0c 3a 40
  fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01
  fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02
  80 00 ae b8  12 34 00 01  61 62 63 64
`);

describe("fixed header (RFC 8200 section 3)", () => {
  it("parses every field of the golden packet", () => {
    const p = expectOk(parseIpv6(PING6));
    expect(p.header).toEqual({ trafficClass: 0, flowLabel: 0x12345, payloadLength: 12, nextHeader: NH_ICMPV6, hopLimit: 64, src: A, dst: B });
    expect(p.payload).toEqual(PING6.subarray(40));
    expect(p.payload.buffer).toBe(PING6.buffer);
  });

  it("emits the same header into a 0xa5-filled buffer, touching nothing else", () => {
    const buf = filled(2 + 40 + 2);
    expect(emitIpv6Header({ src: A, dst: B, nextHeader: NH_ICMPV6, payloadLength: 12, flowLabel: 0x12345 }, buf, 2)).toBe(40);
    expect(toHex(buf.subarray(2, 42))).toBe(toHex(PING6.subarray(0, 40)));
    expect([buf[0], buf[1], buf[42], buf[43]]).toEqual([FILL, FILL, FILL, FILL]);
  });

  it("places traffic class and flow label in their bits", () => {
    const buf = filled(40);
    emitIpv6Header({ src: A, dst: B, nextHeader: 6, payloadLength: 0, trafficClass: 0xb8, flowLabel: 0xfffff, hopLimit: 255 }, buf);
    expect(toHex(buf.subarray(0, 8))).toBe("6b8fffff000006ff");
    expect(expectOk(parseIpv6(buf)).header).toMatchObject({ trafficClass: 0xb8, flowLabel: 0xfffff, hopLimit: 255 });
  });

  it("rejects short packets, other versions, and a payload length past the bytes", () => {
    expect(parseIpv6(PING6.subarray(0, 39))).toEqual({ ok: false, reason: "truncated" });
    const v4 = PING6.slice();
    v4[0] = 0x45;
    expect(parseIpv6(v4)).toEqual({ ok: false, reason: "bad-version" });
    expect(parseIpv6(PING6.subarray(0, PING6.length - 1))).toEqual({ ok: false, reason: "truncated" });
  });

  it("ignores link padding after the payload", () => {
    const padded = new Uint8Array([...PING6, 0, 0, 0]);
    expect(expectOk(parseIpv6(padded)).payload).toHaveLength(12);
  });

  it("refuses to emit what the fields cannot describe", () => {
    expect(() => emitIpv6Header({ src: A, dst: B, nextHeader: 6, payloadLength: 65536 }, filled(40))).toThrow(RangeError);
    expect(() => emitIpv6Header({ src: IpAddress.v4(1), dst: B, nextHeader: 6, payloadLength: 0 }, filled(40))).toThrow(RangeError);
  });
});

/** Builds header + extensions + `upper` bytes and walks it. */
function build(extensions: Ipv6Extension[], upper = new Uint8Array(8), protocol = PROTO_UDP, dst: IpAddress = B): Uint8Array {
  let ext = 0;
  for (const e of extensions) ext += extensionLength(e);
  const buf = filled(40 + ext + upper.length);
  const n = emitIpv6Headers({ src: A, dst, nextHeader: protocol, payloadLength: upper.length }, extensions, buf);
  buf.set(upper, n);
  return buf;
}

function walk(packet: Uint8Array): Ipv6WalkResult {
  return walkIpv6Extensions(packet, expectOk(parseIpv6(packet)).header);
}

const opts = (...options: { type: number; data: number[] }[]) => options.map((o) => ({ type: o.type, data: new Uint8Array(o.data) }));

describe("extension header walk (RFC 8200 section 4)", () => {
  it("without extension headers ends at once, pointing at the fixed header's Next Header", () => {
    const r = expectOk(walk(PING6));
    expect(r).toMatchObject({ extensions: [], protocol: NH_ICMPV6, protocolPointer: 6, offset: 40, fragment: undefined });
    expect(r.payload).toEqual(PING6.subarray(40));
  });

  it("skips hop-by-hop, destination options and an exhausted routing header in order", () => {
    const chain: Ipv6Extension[] = [
      { kind: "hop-by-hop", options: opts({ type: 5, data: [0, 0] }) }, // router alert (RFC 2711)
      { kind: "destination", options: [] },
      { kind: "routing", routingType: 0, segmentsLeft: 0, data: new Uint8Array(20) },
      { kind: "destination", options: opts({ type: 0x1e, data: [1, 2, 3, 4, 5, 6, 7] }) },
    ];
    const p = build(chain, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const r = expectOk(walk(p));
    expect(r.extensions).toEqual(chain);
    expect(r.protocol).toBe(PROTO_UDP);
    // 40 + 8 (hbh) + 8 (dst) + 24 (routing) + 16 (dst): the last header's Next Header.
    expect(r.protocolPointer).toBe(40 + 8 + 8 + 24);
    expect(r.offset).toBe(96);
    expect(Array.from(r.payload)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("section 4.3: hop-by-hop anywhere but first is an unrecognized Next Header (code 1)", () => {
    const p = build([{ kind: "destination", options: [] }, { kind: "hop-by-hop", options: [] }]);
    expect(walk(p)).toEqual({ ok: false, reason: "bad-next-header", icmp: { code: 1, pointer: 40 } });
  });

  describe("section 4.2: an unrecognized option acts by its two high bits", () => {
    /** The option's offset: after the fixed header, the options header's 2 bytes and a 2-byte PadN. */
    const at = 40 + 2 + 2;
    const withOption = (type: number, dst: IpAddress = B) => {
      const p = build([{ kind: "destination", options: [] }], undefined, PROTO_UDP, dst);
      p.set([1, 0, type, 2, 0xaa, 0xbb], 42);
      return p;
    };

    it("00: skipped, processing goes on", () => {
      const r = expectOk(walk(withOption(0x3e)));
      expect(r.extensions).toEqual([{ kind: "destination", options: opts({ type: 0x3e, data: [0xaa, 0xbb] }) }]);
      expect(r.protocol).toBe(PROTO_UDP);
    });
    it("01: discarded silently", () => {
      expect(walk(withOption(0x5e))).toEqual({ ok: false, reason: "bad-option" });
    });
    it("10: discarded, Parameter Problem code 2 at the option, even to a multicast destination", () => {
      expect(walk(withOption(0x9e))).toEqual({ ok: false, reason: "bad-option", icmp: { code: 2, pointer: at } });
      expect(walk(withOption(0x9e, ALL_NODES))).toEqual({ ok: false, reason: "bad-option", icmp: { code: 2, pointer: at } });
    });
    it("11: discarded, code 2 only if the destination is not multicast", () => {
      expect(walk(withOption(0xde))).toEqual({ ok: false, reason: "bad-option", icmp: { code: 2, pointer: at } });
      expect(walk(withOption(0xde, ALL_NODES))).toEqual({ ok: false, reason: "bad-option" });
    });
    it("the jumbo payload option (0xc2, RFC 2675) is not supported and so acts as 11", () => {
      expect(walk(withOption(0xc2))).toEqual({ ok: false, reason: "bad-option", icmp: { code: 2, pointer: at } });
    });
    it("an option running past its header is malformed (dropped without ICMP)", () => {
      const p = withOption(0x3e);
      p[45] = 4; // 4 data bytes claimed, 2 left in the header
      expect(walk(p)).toEqual({ ok: false, reason: "bad-option" });
      const q = withOption(0x3e);
      q.set([0, 0, 0, 0, 0, 0x3e], 42); // the option type is the header's last byte
      expect(walk(q)).toEqual({ ok: false, reason: "bad-option" });
    });
  });

  it("a header longer than the payload, or cut off, is dropped without ICMP", () => {
    const p = build([{ kind: "hop-by-hop", options: [] }], new Uint8Array(0));
    p[41] = 1; // claims 16 bytes, 8 remain
    expect(walk(p)).toEqual({ ok: false, reason: "bad-header-length" });
    const cut = build([{ kind: "fragment", offset: 0, more: false, id: 1 }], new Uint8Array(0));
    cut[5] = 4; // payload length 4: half a fragment header
    expect(walk(cut.subarray(0, 44))).toEqual({ ok: false, reason: "truncated" });
  });

  describe("section 4.4 and RFC 5095: routing headers", () => {
    it("type 0 with segments left is treated as unrecognized: code 0 pointing at Routing Type", () => {
      const p = build([{ kind: "routing", routingType: 0, segmentsLeft: 1, data: new Uint8Array(20) }]);
      expect(walk(p)).toEqual({ ok: false, reason: "bad-routing-header", icmp: { code: 0, pointer: 42 } });
    });
    it("so is every other type a host meets with segments left (2, 3, 4)", () => {
      for (const t of [2, 3, 4]) {
        const p = build([{ kind: "destination", options: [] }, { kind: "routing", routingType: t, segmentsLeft: 1, data: new Uint8Array(4) }]);
        expect(walk(p)).toEqual({ ok: false, reason: "bad-routing-header", icmp: { code: 0, pointer: 50 } });
      }
    });
    it("no ICMP about a packet sent to a multicast address (RFC 4443 2.4(e))", () => {
      const p = build([{ kind: "routing", routingType: 0, segmentsLeft: 1, data: new Uint8Array(20) }], undefined, PROTO_UDP, ALL_NODES);
      expect(walk(p)).toEqual({ ok: false, reason: "bad-routing-header" });
    });
  });

  describe("section 4.5 and RFC 6946: fragment headers", () => {
    it("an atomic fragment is processed in isolation: the walk goes on to the upper layer", () => {
      const r = expectOk(walk(build([{ kind: "fragment", offset: 0, more: false, id: 7 }], new Uint8Array(20), PROTO_TCP)));
      expect(r).toMatchObject({ protocol: PROTO_TCP, protocolPointer: 40, offset: 48, fragment: undefined });
      expect(r.extensions).toEqual([{ kind: "fragment", offset: 0, more: false, id: 7 }]);
    });

    it("any other fragment ends the walk with what reassembly needs", () => {
      const p = build([{ kind: "destination", options: [] }, { kind: "fragment", offset: 1232, more: true, id: 0xdeadbeef }], new Uint8Array(16));
      const r = expectOk(walk(p));
      expect(r.fragment).toEqual({ offset: 1232, more: true, id: 0xdeadbeef, headerOffset: 48, nextHeaderPointer: 40 });
      expect(r).toMatchObject({ protocol: PROTO_UDP, protocolPointer: 48, offset: 56 });
      expect(r.payload).toHaveLength(16);
    });

    it("a non-last fragment whose length is not a multiple of 8: code 0 at Payload Length", () => {
      const p = build([{ kind: "fragment", offset: 0, more: true, id: 1 }], new Uint8Array(12));
      expect(walk(p)).toEqual({ ok: false, reason: "bad-fragment", icmp: { code: 0, pointer: 4 } });
      // The last fragment may have any length.
      expect(walk(build([{ kind: "fragment", offset: 8, more: false, id: 1 }], new Uint8Array(12))).ok).toBe(true);
    });

    it("a fragment that would reassemble past 65,535 bytes: code 0 at Fragment Offset", () => {
      // Unfragmentable part 8 bytes + offset 65,520 + 8 data = 65,536.
      const p = build([{ kind: "destination", options: [] }, { kind: "fragment", offset: 65520, more: false, id: 1 }], new Uint8Array(8));
      expect(walk(p)).toEqual({ ok: false, reason: "bad-fragment", icmp: { code: 0, pointer: 50 } });
      const ok = build([{ kind: "fragment", offset: 65520, more: false, id: 1 }], new Uint8Array(8));
      expect(walk(ok).ok).toBe(true);
    });
  });

  it("resumes after reassembly where the caller says, where hop-by-hop is no longer allowed", () => {
    const p = build([{ kind: "destination", options: [] }], new Uint8Array(8));
    const header = expectOk(parseIpv6(p)).header;
    const r = expectOk(walkIpv6Extensions(p, header, { offset: 40, nextHeader: NH_DESTINATION, pointer: 6 }));
    expect(r.protocol).toBe(PROTO_UDP);
    expect(walkIpv6Extensions(p, header, { offset: 40, nextHeader: NH_HOP_BY_HOP, pointer: 6 })).toEqual({ ok: false, reason: "bad-next-header", icmp: { code: 1, pointer: 6 } });
  });
});

describe("emitting extension headers", () => {
  it("pads option headers to 8 bytes with Pad1 for one byte and PadN for more (section 4.2)", () => {
    const one = filled(8);
    expect(emitExtension({ kind: "destination", options: opts({ type: 0x1e, data: [9, 9, 9] }) }, 17, one, 0)).toBe(8);
    expect(toHex(one)).toBe("11001e0309090900");
    const many = filled(8);
    emitExtension({ kind: "hop-by-hop", options: [] }, 6, many, 0);
    expect(toHex(many)).toBe("0600010400000000");
    const exact = filled(16);
    expect(emitExtension({ kind: "destination", options: opts({ type: 0x1e, data: [1, 2, 3, 4] }, { type: 0x1f, data: [] }) }, 59, exact, 0)).toBe(16);
    expect(toHex(exact)).toBe("3b011e0401020304" + "1f00010400000000");
  });

  it("writes a fragment header with both reserved fields zero", () => {
    const b = filled(8);
    emitExtension({ kind: "fragment", offset: 1448, more: true, id: 0x01020304 }, 17, b, 0);
    expect(toHex(b)).toBe("110005a901020304");
  });

  it("refuses headers it cannot encode", () => {
    const b = filled(4096);
    expect(() => emitExtension({ kind: "fragment", offset: 3, more: false, id: 0 }, 6, b, 0)).toThrow(RangeError);
    expect(() => emitExtension({ kind: "routing", routingType: 0, segmentsLeft: 0, data: new Uint8Array(5) }, 6, b, 0)).toThrow(RangeError);
    expect(() => emitExtension({ kind: "destination", options: opts({ type: 1, data: [] }) }, 6, b, 0)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------
// Properties.

const v6Address = fc.array(fc.nat({ max: 0xffff }), { minLength: 8, maxLength: 8 }).map((g) => IpAddress.fromGroups(g));
/** Options a host skips: the two high bits 00, not Pad1/PadN. */
const skippable = fc.record({ type: fc.integer({ min: 2, max: 0x3f }), data: fc.uint8Array({ maxLength: 20 }) });
const optionsHeader = (kind: "hop-by-hop" | "destination") => fc.array(skippable, { maxLength: 4 }).map((options): Ipv6Extension => ({ kind, options }));
const routing = fc.record({ n: fc.nat({ max: 3 }), t: fc.nat({ max: 255 }) }).map(({ n, t }): Ipv6Extension => ({ kind: "routing", routingType: t, segmentsLeft: 0, data: new Uint8Array(4 + 8 * n).fill(t) }));
const atomic = fc.nat({ max: 0xffffffff }).map((id): Ipv6Extension => ({ kind: "fragment", offset: 0, more: false, id }));
const middle = fc.array(fc.oneof(optionsHeader("destination"), routing, atomic), { maxLength: 4 });
const chainArb = fc.tuple(fc.option(optionsHeader("hop-by-hop")), middle).map(([h, m]) => (h === null ? m : [h, ...m]));

describe("properties", () => {
  it("the fixed header round-trips", () => {
    fc.assert(
      fc.property(v6Address, v6Address, fc.nat({ max: 255 }), fc.nat({ max: 0xfffff }), fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.uint8Array({ maxLength: 64 }), (src, dst, tc, flow, hl, nh, body) => {
        const buf = filled(40 + body.length);
        emitIpv6Header({ src, dst, nextHeader: nh, payloadLength: body.length, trafficClass: tc, flowLabel: flow, hopLimit: hl }, buf);
        buf.set(body, 40);
        const p = expectOk(parseIpv6(buf));
        expect(p.header.src.equals(src) && p.header.dst.equals(dst)).toBe(true);
        expect(p.header).toMatchObject({ trafficClass: tc, flowLabel: flow, hopLimit: hl, nextHeader: nh, payloadLength: body.length });
        expect(Array.from(p.payload)).toEqual(Array.from(body));
      }),
    );
  });

  it("a chain of extension headers round-trips through emit and walk", () => {
    fc.assert(
      fc.property(chainArb, fc.uint8Array({ maxLength: 32 }), fc.constantFrom(PROTO_TCP, PROTO_UDP, NH_ICMPV6, NH_NONE), (chain, upper, protocol) => {
        const p = build(chain, upper, protocol);
        const r = expectOk(walk(p));
        expect(r.extensions).toEqual(chain);
        expect(r.protocol).toBe(protocol);
        expect(p[r.protocolPointer]).toBe(protocol);
        expect(r.fragment).toBeUndefined();
        expect(Array.from(r.payload)).toEqual(Array.from(upper));
      }),
    );
  });

  it("a non-atomic fragment ends the chain, wherever it is", () => {
    const frag = fc.record({ o: fc.nat({ max: 100 }), more: fc.boolean(), id: fc.nat({ max: 0xffffffff }) }).filter((f) => f.o > 0 || f.more);
    fc.assert(
      fc.property(chainArb, frag, fc.nat({ max: 4 }), (chain, f, words) => {
        const all: Ipv6Extension[] = [...chain, { kind: "fragment", offset: f.o * 8, more: f.more, id: f.id }, { kind: "destination", options: [] }];
        const p = build(all, new Uint8Array(words * 8));
        const r = expectOk(walk(p));
        expect(r.extensions).toEqual(all.slice(0, -1));
        expect(r.fragment).toMatchObject({ offset: f.o * 8, more: f.more, id: f.id });
        expect(r.protocol).toBe(NH_DESTINATION);
        expect(p[r.fragment!.nextHeaderPointer]).toBe(NH_FRAGMENT);
        expect(r.payload).toHaveLength(8 + words * 8);
      }),
    );
  });
});

const RUNS = 20_000;

/** Valid packets to mutate, so that fuzzing reaches the extension headers. */
const SEEDS = [
  PING6,
  build([{ kind: "hop-by-hop", options: opts({ type: 5, data: [0, 0] }) }, { kind: "routing", routingType: 0, segmentsLeft: 0, data: new Uint8Array(4) }, { kind: "destination", options: opts({ type: 0x1e, data: [1] }) }]),
  build([{ kind: "destination", options: [] }, { kind: "fragment", offset: 8, more: true, id: 3 }], new Uint8Array(16)),
];

const mutated = fc
  .tuple(fc.constantFrom(...SEEDS), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }), fc.nat({ max: 80 }))
  .map(([seed, edits, cut]) => {
    const b = seed.slice();
    for (const [at, v] of edits) b[at % b.length] = v;
    return b.subarray(0, Math.max(0, b.length - (cut % 3 === 0 ? cut : 0)));
  });

describe("never throws on arbitrary bytes", () => {
  it("parseIpv6 and walkIpv6Extensions stay inside the packet", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 120 }), mutated), fc.boolean(), (b, force6) => {
        const bytes = b.slice();
        if (force6 && bytes.length > 0) bytes[0] = 0x60 | (bytes[0]! & 0x0f);
        const p = parseIpv6(bytes);
        if (!p.ok) return;
        expect(p.value.payload.length).toBe(p.value.header.payloadLength);
        const r = walkIpv6Extensions(bytes, p.value.header);
        if (r.ok) {
          const end = 40 + p.value.header.payloadLength;
          expect(r.value.offset).toBeLessThanOrEqual(end);
          expect(r.value.offset + r.value.payload.length).toBe(end);
          expect(bytes[r.value.protocolPointer]).toBe(r.value.protocol);
          if (r.value.fragment !== undefined) expect(bytes[r.value.fragment.nextHeaderPointer]).toBe(NH_FRAGMENT);
        } else if (r.icmp !== undefined) {
          expect(r.icmp.pointer).toBeLessThan(end(p.value.header));
        }
      }),
      { numRuns: RUNS },
    );
  });
});

function end(h: Ipv6Header): number {
  return IPV6_HEADER_LENGTH + h.payloadLength;
}

describe("tshark reads what we emit", () => {
  const available = tsharkAvailable();

  it("tshark is installed where it must be (CI)", () => {
    if (process.env["CI"] === "true") expect(available, "tshark is required in CI (.ci/run installs it)").toBe(true);
    expect(typeof available).toBe("boolean");
  });

  it("fixed header fields, the extension chain, and fragment fields", () => {
    if (!available) return;
    const packets = [
      PING6,
      build([{ kind: "hop-by-hop", options: opts({ type: 5, data: [0, 0] }) }, { kind: "routing", routingType: 0, segmentsLeft: 0, data: new Uint8Array(4) }], new Uint8Array(0), NH_NONE),
      build([{ kind: "destination", options: [] }, { kind: "fragment", offset: 1232, more: true, id: 0xdeadbeef }], new Uint8Array(16)),
    ];
    const rows = tsharkFields(packets, ["ipv6.src", "ipv6.dst", "ipv6.plen", "ipv6.nxt", "ipv6.hlim", "ipv6.flow", "ipv6.hopopts.nxt", "ipv6.opt.type", "ipv6.routing.type", "ipv6.routing.segleft", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "ipv6.fraghdr.ident"]);
    expect(rows).toEqual([
      ["fd00::1", "fd00::2", "12", "58", "64", "0x012345", "", "", "", "", "", "", ""],
      // Router alert then the PadN we added to fill the header.
      ["fd00::1", "fd00::2", "16", "0", "64", "0x000000", "43", "0x05,0x01", "0", "0", "", "", ""],
      // tshark shows the Fragment Offset field in 8-byte units: 1232 / 8 = 154.
      ["fd00::1", "fd00::2", "32", "60", "64", "0x000000", "", "0x01", "", "", "154", "1", "0xdeadbeef"],
    ]);
  });
});
