/**
 * IPv6 reassembly (RFC 8200 4.5, RFC 5722, RFC 6946, RFC 7112), sans-IO: fragments built
 * with the wire codec, walked as the IP layer will walk them, offered with virtual time.
 * The rebuilt packet must equal, byte for byte, the packet that was never fragmented.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { FRAGMENT_OVERHEAD } from "../../src/ip/reassembly.js";
import { Ipv6Reassembler, REASSEMBLY6_DEFAULTS, type Insert6Result, type Ipv6FragmentChain } from "../../src/ip/reassembly6.js";
import { parseIpAddress, type IpAddress } from "../../src/wire/address.js";
import { PROTO_UDP } from "../../src/wire/ipv4.js";
import { emitIpv6Headers, extensionLength, NH_DESTINATION, parseIpv6, walkIpv6Extensions, type Ipv6Extension } from "../../src/wire/ipv6.js";

const A = parseIpAddress("fd00::1")!;
const B = parseIpAddress("fd00::2")!;
const ALL_NODES = parseIpAddress("ff02::1")!;

interface Datagram {
  /** The packet as it would be sent unfragmented. */
  whole: Uint8Array;
  unfragmentable: Ipv6Extension[];
  /** Upper-layer bytes (what is fragmented, after any unfragmentable headers). */
  upper: Uint8Array;
  dst: IpAddress;
}

function datagram(upperLength: number, seed = 1, unfragmentable: Ipv6Extension[] = [], dst: IpAddress = B): Datagram {
  const upper = new Uint8Array(upperLength).map((_, i) => (i * 7 + seed) & 0xff);
  let ext = 0;
  for (const e of unfragmentable) ext += extensionLength(e);
  const whole = new Uint8Array(40 + ext + upperLength);
  const n = emitIpv6Headers({ src: A, dst, nextHeader: PROTO_UDP, payloadLength: upperLength }, unfragmentable, whole);
  whole.set(upper, n);
  return { whole, unfragmentable, upper, dst };
}

/** One fragment of `d`: upper bytes [offset, offset + length) behind the unfragmentable part. */
function fragment(d: Datagram, id: number, offset: number, length: number, more = offset + length < d.upper.length): Uint8Array {
  const chain: Ipv6Extension[] = [...d.unfragmentable, { kind: "fragment", offset, more, id }];
  let ext = 0;
  for (const e of chain) ext += extensionLength(e);
  const p = new Uint8Array(40 + ext + length);
  const n = emitIpv6Headers({ src: A, dst: d.dst, nextHeader: PROTO_UDP, payloadLength: length }, chain, p);
  p.set(d.upper.subarray(offset, offset + length), n);
  return p;
}

/** Cuts `d` into fragments of `size` bytes (a multiple of 8) but the last. */
function cut(d: Datagram, id: number, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < d.upper.length; o += size) out.push(fragment(d, id, o, Math.min(size, d.upper.length - o)));
  return out;
}

function offer(r: Ipv6Reassembler, now: number, packet: Uint8Array): Insert6Result {
  const p = parseIpv6(packet);
  if (!p.ok) throw new Error(p.reason);
  const w = walkIpv6Extensions(packet, p.value.header);
  if (!w.ok) throw new Error(w.reason);
  if (w.value.fragment === undefined) throw new Error("not a fragment");
  return r.insert(now, packet, p.value.header, w.value as Ipv6FragmentChain);
}

function expectComplete(result: Insert6Result, d: Datagram): void {
  if (result.kind !== "complete") throw new Error(`expected complete, got ${result.kind}`);
  expect(Array.from(result.packet)).toEqual(Array.from(d.whole));
  // The walk picks up where the Fragment header was and reaches the upper layer.
  const w = walkIpv6Extensions(result.packet, result.header, result.resume);
  if (!w.ok) throw new Error(w.reason);
  expect(w.value.protocol).toBe(PROTO_UDP);
  expect(Array.from(w.value.payload)).toEqual(Array.from(d.upper));
  expect(result.header).toEqual(expectOkHeader(d.whole));
}

function expectOkHeader(packet: Uint8Array) {
  const p = parseIpv6(packet);
  if (!p.ok) throw new Error(p.reason);
  return p.value.header;
}

describe("reassembly (RFC 8200 4.5)", () => {
  it("rebuilds a 4000-byte datagram from four fragments into the packet never fragmented", () => {
    const r = new Ipv6Reassembler();
    const d = datagram(4000);
    const frags = cut(d, 7, 1232);
    expect(frags).toHaveLength(4);
    expect(offer(r, 0, frags[0]!).kind).toBe("held");
    expect(offer(r, 1, frags[1]!).kind).toBe("held");
    expect(offer(r, 2, frags[2]!).kind).toBe("held");
    expectComplete(offer(r, 3, frags[3]!), d);
    expect(r.stats).toMatchObject({ fragments: 4, reassembled: 1 });
    expect(r.bytesHeld).toBe(0);
    expect(r.datagramsHeld).toBe(0);
  });

  it("keeps the unfragmentable part (a destination options header before the Fragment header)", () => {
    const r = new Ipv6Reassembler();
    const d = datagram(100, 3, [{ kind: "destination", options: [{ type: 0x1e, data: new Uint8Array([1, 2, 3]) }] }]);
    const frags = cut(d, 9, 48);
    let last: Insert6Result = { kind: "held" };
    for (const f of frags.reverse()) last = offer(r, 0, f);
    expectComplete(last, d);
    if (last.kind === "complete") expect(last.resume).toEqual({ offset: 48, nextHeader: PROTO_UDP, pointer: 40 });
  });

  it("only the offset-0 fragment's Next Header counts", () => {
    const r = new Ipv6Reassembler();
    const d = datagram(64);
    const [f0, f1] = cut(d, 1, 32);
    f1![40] = NH_DESTINATION; // the second fragment claims another protocol
    offer(r, 0, f1!);
    expectComplete(offer(r, 0, f0!), d);
  });

  it("any order and any duplicates give the same packet", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 40 }), fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), (extra, units, picks) => {
        const len = units * 8 + extra; // at least two fragments
        const r = new Ipv6Reassembler();
        const d = datagram(len, len);
        const frags = cut(d, 5, units * 8);
        // Every fragment at least once, in an order and with repeats chosen by `picks`.
        const order = [...picks.map((p) => p % frags.length), ...frags.map((_, i) => i)];
        const seen = new Set<number>();
        let done: Insert6Result | undefined;
        for (const i of order) {
          if (done !== undefined) break;
          const res = offer(r, 0, frags[i]!);
          if (seen.has(i)) expect(res.kind).toBe("dropped");
          seen.add(i);
          if (res.kind === "complete") done = res;
        }
        expectComplete(done!, d);
        expect(r.bytesHeld).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("drops a datagram whose rebuilt Payload Length would exceed 65,535", () => {
    const r = new Ipv6Reassembler();
    // First fragment: 8 bytes of destination options + 65,512 data bytes; the last adds 16.
    const d = datagram(65512, 1, [{ kind: "destination", options: [] }]);
    expect(offer(r, 0, fragment(d, 1, 0, 65512, true)).kind).toBe("held");
    const plain = datagram(65528);
    const res = offer(r, 0, fragment(plain, 1, 65512, 16));
    expect(res).toMatchObject({ kind: "dropped", reason: "frag-invalid" });
    expect(r.bytesHeld).toBe(0);
  });
});

describe("RFC 6946: atomic fragments", () => {
  it("are rebuilt alone and leave a partial datagram with the same identification alone", () => {
    const r = new Ipv6Reassembler();
    const big = datagram(64, 2);
    offer(r, 0, fragment(big, 42, 0, 32));
    const small = datagram(20, 9);
    const atomic = fragment(small, 42, 0, 20, false);
    // The walk never hands one over (it goes on past it), but insert copes if it is.
    const chain: Ipv6FragmentChain = {
      extensions: [],
      protocol: PROTO_UDP,
      protocolPointer: 40,
      offset: 48,
      payload: atomic.subarray(48),
      fragment: { offset: 0, more: false, id: 42, headerOffset: 40, nextHeaderPointer: 6 },
    };
    const res = r.insert(0, atomic, expectOkHeader(atomic), chain);
    expectComplete(res, small);
    expect(r.datagramsHeld).toBe(1);
    expectComplete(offer(r, 0, fragment(big, 42, 32, 32)), big);
  });
});

describe("RFC 5722: overlapping fragments", () => {
  it("an overlap abandons the whole datagram and frees what it held, without ICMP", () => {
    const r = new Ipv6Reassembler();
    const d = datagram(64);
    offer(r, 0, fragment(d, 1, 0, 24));
    const res = offer(r, 0, fragment(d, 1, 16, 24));
    expect(res).toMatchObject({ kind: "dropped", reason: "frag-overlap" });
    expect("icmp" in res).toBe(false);
    expect(r.bytesHeld).toBe(0);
    expect(r.datagramsHeld).toBe(0);
    expect(r.stats.overlaps).toBe(1);
    // What comes later starts afresh and cannot complete the abandoned datagram.
    expect(offer(r, 0, fragment(d, 1, 40, 24)).kind).toBe("held");
    expect(offer(r, 0, fragment(d, 1, 24, 16)).kind).toBe("held");
  });

  it("a fragment wholly inside held bytes is a duplicate, dropped alone", () => {
    const r = new Ipv6Reassembler();
    const d = datagram(64);
    offer(r, 0, fragment(d, 1, 0, 16));
    offer(r, 0, fragment(d, 1, 16, 16));
    expect(offer(r, 0, fragment(d, 1, 8, 16))).toMatchObject({ kind: "dropped", reason: "frag-duplicate" });
    expectComplete(offer(r, 0, fragment(d, 1, 32, 32)), d);
  });
});

describe("contradictions drop the partial datagram", () => {
  it.each([
    ["a zero-length fragment", [[0, 16, true], [16, 0, true]]],
    ["two last fragments ending apart", [[0, 16, true], [40, 8, false], [48, 8, false]]],
    ["a last fragment ending before held bytes", [[32, 16, true], [8, 16, false]]],
    ["a fragment past the known end", [[32, 8, false], [40, 16, true]]],
  ] as const)("%s", (_, steps) => {
    const r = new Ipv6Reassembler();
    const d = datagram(128);
    const results = steps.map(([o, l, m]) => offer(r, 0, fragment(d, 1, o, l, m)));
    expect(results.at(-1)).toMatchObject({ kind: "dropped", reason: "frag-invalid" });
    expect(r.datagramsHeld).toBe(0);
    expect(r.bytesHeld).toBe(0);
  });
});

/**
 * A first fragment whose 8 data bytes are a destination options header (Next Header UDP)
 * and nothing more: the chain ends before the UDP header does.
 */
function chainCutFirst(d: Datagram): Uint8Array {
  const first = fragment(d, 1, 0, 8);
  first[40] = NH_DESTINATION; // the Fragment header's Next Header
  first[48] = PROTO_UDP; // the destination options header's Next Header
  first[49] = 0; // and its length: 8 bytes, all of the data
  first.fill(1, 50, 56); // PadN of 4 bytes
  first[50] = 1;
  first[51] = 4;
  return first;
}

describe("RFC 7112: the first fragment holds the whole header chain", () => {
  it("a first fragment cut inside the UDP header is dropped with Parameter Problem code 3, pointer 0", () => {
    const r = new Ipv6Reassembler();
    const first = chainCutFirst(datagram(64, 1, [], B));
    expect(offer(r, 0, first)).toEqual({ kind: "dropped", reason: "frag-invalid", detail: expect.any(Function), icmp: { code: 3, pointer: 0 } });
    expect(r.datagramsHeld).toBe(0);
  });

  it("no ICMP when the destination is multicast (RFC 4443 2.4(e))", () => {
    const r = new Ipv6Reassembler();
    const res = offer(r, 0, chainCutFirst(datagram(64, 1, [], ALL_NODES)));
    expect(res).toMatchObject({ kind: "dropped", reason: "frag-invalid" });
    expect("icmp" in res && res.icmp !== undefined).toBe(false);
  });

  it("a first fragment with the whole UDP header is fine", () => {
    const r = new Ipv6Reassembler();
    expect(offer(r, 0, fragment(datagram(64), 1, 0, 8)).kind).toBe("held");
  });
});

describe("bounded memory and time", () => {
  it("times a partial datagram out 60 s after its first fragment, handing back the offset-0 fragment", () => {
    const r = new Ipv6Reassembler();
    const d = datagram(64);
    const first = fragment(d, 1, 0, 16);
    offer(r, 1000, first);
    offer(r, 30_000, fragment(d, 1, 32, 16)); // a later fragment does not restart the timer
    expect(r.nextDeadline()).toBe(61_000);
    expect(r.expire(60_999)).toEqual([]);
    const [e] = r.expire(61_000);
    expect(e).toMatchObject({ id: 1, bytesHeld: 32 + 2 * FRAGMENT_OVERHEAD });
    expect(Array.from(e!.first!)).toEqual(Array.from(first));
    expect(r.stats.timeouts).toBe(1);
    expect(r.bytesHeld).toBe(0);
    expect(r.nextDeadline()).toBe(Infinity);
  });

  it("without the offset-0 fragment there is nothing to quote (no Time Exceeded)", () => {
    const r = new Ipv6Reassembler({ ...REASSEMBLY6_DEFAULTS, timeout: 100 });
    offer(r, 0, fragment(datagram(64), 1, 16, 16));
    expect(r.expire(100)[0]!.first).toBeUndefined();
  });

  it("refuses fragments past the byte budget and past the datagram count", () => {
    const r = new Ipv6Reassembler({ timeout: 1000, maxBytes: 2 * (64 + FRAGMENT_OVERHEAD), maxDatagrams: 2 });
    const d = datagram(256);
    expect(offer(r, 0, fragment(d, 1, 0, 64)).kind).toBe("held");
    expect(offer(r, 0, fragment(d, 2, 0, 64)).kind).toBe("held");
    expect(offer(r, 0, fragment(d, 3, 0, 8))).toMatchObject({ kind: "dropped", reason: "frag-limit" });
    expect(offer(r, 0, fragment(d, 1, 64, 8))).toMatchObject({ kind: "dropped", reason: "frag-limit" });
    expect(r.stats.tooMany).toBe(2);
    expect(r.bytesHeld).toBe(2 * (64 + FRAGMENT_OVERHEAD));
  });

  it("under any stream of fragments, memory and count stay within their limits and it never throws", () => {
    const config = { timeout: 500, maxBytes: 4000, maxDatagrams: 4 };
    const step = fc.record({ id: fc.nat({ max: 6 }), units: fc.nat({ max: 30 }), len: fc.nat({ max: 40 }), more: fc.boolean(), dt: fc.nat({ max: 100 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const r = new Ipv6Reassembler(config);
        const d = datagram(1000);
        let now = 0;
        for (const s of steps) {
          now += s.dt;
          r.expire(now);
          const length = s.more ? s.len * 8 : s.len;
          if (s.units * 8 + length > 1000) continue;
          if (s.units === 0 && !s.more) continue; // atomic: never reaches reassembly
          const res = offer(r, now, fragment(d, s.id, s.units * 8, length, s.more));
          if (res.kind === "complete") expect(res.packet.length).toBeLessThanOrEqual(40 + 1000);
          expect(r.bytesHeld).toBeLessThanOrEqual(config.maxBytes);
          expect(r.datagramsHeld).toBeLessThanOrEqual(config.maxDatagrams);
          if (r.datagramsHeld === 0) expect(r.nextDeadline()).toBe(Infinity);
          if (r.datagramsHeld > 0) expect(r.nextDeadline()).toBeLessThanOrEqual(now + config.timeout);
        }
        r.expire(now + config.timeout);
        expect(r.bytesHeld).toBe(0);
        expect(r.datagramsHeld).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
