/**
 * IPv4 fragmentation and reassembly end to end (RFC 791 3.2, RFC 1122 3.3.2, S33):
 * large datagrams are cut to the MTU and rebuilt intact; losing a fragment loses the
 * datagram and the partial copy is freed after 30 s; reordering and duplication are
 * harmless; overlaps, bogus lengths and floods are contained.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { planFragments } from "../../src/ip/fragment.js";
import { FRAGMENT_OVERHEAD, REASSEMBLY_DEFAULTS } from "../../src/ip/reassembly.js";
import { UDP_MAX_PAYLOAD } from "../../src/ip/udp/socket.js";
import { anyPacket, dropNth } from "../../src/sim/index.js";
import { parseIcmp, parseIcmpQuote, TIME_EXCEEDED_REASSEMBLY } from "../../src/wire/icmp.js";
import { parseIpv4, PROTO_ICMP, PROTO_UDP } from "../../src/wire/ipv4.js";
import { A, B, fragment, fragments, header, pair, pattern, sameBytes, shuffle, standalone, udpBytes } from "./helpers.js";

const MTU = 1500;

describe("fragmentation of outgoing datagrams (RFC 791 3.2)", () => {
  it("a 60,000-byte datagram leaves as 41 fragments of at most 1500 bytes and arrives intact", () => {
    const { net, a, b } = pair({ link: { delay: 10, mtu: MTU } });
    const wire: Uint8Array[] = [];
    net.setPath("a", "b", { delay: 10, mtu: MTU, filter: (p) => (wire.push(p.slice()), "pass") });
    const server = b.udp.bind(9);
    const data = pattern(60_000, 1);
    a.udp.open().send(data, { address: B, port: 9 });
    net.runFor(100);
    expect(sameBytes(server.recv()?.data, data)).toBe(true);

    const udpLength = 60_008;
    expect(wire).toHaveLength(Math.ceil(udpLength / 1480));
    expect(wire).toHaveLength(41);
    const headers = wire.map(header);
    headers.forEach((h, i) => {
      expect(h.totalLength).toBeLessThanOrEqual(MTU);
      expect(h.id).toBe(headers[0]!.id);
      expect(h.dontFragment).toBe(false);
      expect(h.moreFragments).toBe(i < headers.length - 1);
      expect(h.fragmentOffset).toBe(i * 1480);
    });
    expect(a.counters.ip).toMatchObject({ fragOks: 1, fragCreates: 41 });
    expect(b.counters.reassembly).toMatchObject({ fragments: 41, reassembled: 1, timeouts: 0 });
    expect(b.reassembler.bytesHeld).toBe(0);
  });

  it("a datagram that fits goes out whole with DF set (Linux IP_PMTUDISC_WANT)", () => {
    const { net, a, b } = pair();
    const wire: Uint8Array[] = [];
    net.setPath("a", "b", { delay: 10, filter: (p) => (wire.push(p.slice()), "pass") });
    b.udp.bind(9);
    a.udp.open().send(new Uint8Array(1472), { address: B, port: 9 });
    net.runFor(50);
    expect(wire).toHaveLength(1);
    expect(header(wire[0]!)).toMatchObject({ totalLength: 1500, dontFragment: true, moreFragments: false });
  });

  it("successive datagrams get different identifications", () => {
    const s = standalone(A);
    const sock = s.host.udp.open();
    for (let i = 0; i < 3; i++) sock.send(new Uint8Array(3000), { address: B, port: 9 });
    s.host.poll(0);
    const ids = new Set(s.sent.map((p) => header(p).id));
    expect(ids.size).toBe(3);
    expect(s.sent).toHaveLength(9);
  });

  it("planFragments keeps every non-last piece a multiple of 8 and covers the payload exactly", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65_515 }), fc.integer({ min: 68, max: 9000 }), (len, mtu) => {
        const pieces = planFragments(len, mtu);
        let next = 0;
        pieces.forEach((p, i) => {
          expect(p.offset).toBe(next);
          // Only a datagram that fits comes back whole; every fragment fits the MTU.
          if (pieces.length > 1) expect(20 + p.length).toBeLessThanOrEqual(mtu);
          else expect(20 + len).toBeLessThanOrEqual(mtu);
          if (p.more) expect(p.length % 8).toBe(0);
          expect(p.more).toBe(i < pieces.length - 1);
          next += p.length;
        });
        expect(next).toBe(len);
      }),
    );
  });
});

describe("losing a fragment loses the datagram (S33)", () => {
  it("the partial datagram is held until the 30 s timeout, then freed, and the sender hears time exceeded", () => {
    const { net, a, b } = pair();
    net.setPath("a", "b", { delay: 10, filter: dropNth(anyPacket, 5) });
    const server = b.udp.bind(9);
    const client = a.udp.open();
    client.send(pattern(60_000), { address: B, port: 9 });
    net.runFor(100);
    expect(server.recv()).toBeUndefined();
    expect(b.reassembler.datagramsHeld).toBe(1);
    const held = b.reassembler.bytesHeld;
    expect(held).toBe(60_008 - 1480 + 40 * FRAGMENT_OVERHEAD);
    expect(b.nextDeadline()).toBe(10 + 30_000);

    net.run({ until: 30_009 });
    expect(b.reassembler.datagramsHeld).toBe(1);
    net.run({ until: 30_100 });
    expect(b.reassembler.datagramsHeld).toBe(0);
    expect(b.reassembler.bytesHeld).toBe(0);
    expect(b.counters.reassembly.timeouts).toBe(1);
    expect(b.counters.drops["frag-timeout"]).toBe(1);
    expect(server.recv()).toBeUndefined();
    // RFC 1122 3.3.2: fragment 0 had arrived, so time exceeded (reassembly) goes back.
    expect(b.counters.icmp.outTimeExcds).toBe(1);
    expect(a.counters.icmp.inTimeExcds).toBe(1);
    expect(b.nextDeadline()).toBe(Infinity);
  });

  it("without fragment 0 the partial datagram is freed silently", () => {
    const { net, a, b } = pair();
    net.setPath("a", "b", { delay: 10, filter: dropNth(anyPacket, 1) });
    b.udp.bind(9);
    a.udp.open().send(pattern(10_000), { address: B, port: 9 });
    net.run({ until: 31_000 });
    expect(b.counters.reassembly.timeouts).toBe(1);
    expect(b.counters.icmp.outTimeExcds).toBe(0);
  });

  it("the next datagram is unaffected by the lost one", () => {
    const { net, a, b } = pair();
    net.setPath("a", "b", { delay: 10, filter: dropNth(anyPacket, 2) });
    const server = b.udp.bind(9);
    const client = a.udp.open();
    client.send(pattern(4000, 1), { address: B, port: 9 });
    client.send(pattern(4000, 2), { address: B, port: 9 });
    net.runFor(100);
    expect(server.recv()?.data).toEqual(pattern(4000, 2));
    expect(server.recv()).toBeUndefined();
  });
});

describe("reordered and duplicated fragments", () => {
  it("fragments in any order, some twice, rebuild the datagram exactly once", () => {
    const h = standalone(B);
    const sock = h.host.udp.bind(9);
    const data = pattern(20_000, 9);
    const frags = fragments({ src: A, dst: B, protocol: PROTO_UDP, id: 77 }, udpBytes(A, B, 1000, 9, data), MTU);
    const stream = shuffle([...frags, frags[3]!, frags[0]!, frags[frags.length - 1]!], 5);
    for (const f of stream) h.host.receive(0, f);
    expect(sock.recv()?.data).toEqual(data);
    expect(sock.recv()).toBeUndefined();
    expect(h.host.counters.reassembly.reassembled).toBe(1);
    expect(h.host.reassembler.bytesHeld).toBe(0);
  });

  it("over a link that reorders and duplicates, every datagram arrives intact", () => {
    const { net, a, b } = pair({ seed: 11, link: { delay: 10, jitter: 5, reorder: 0.3, reorderDelay: 7, duplicate: 0.2 } });
    const server = b.udp.bind(9);
    const client = a.udp.open();
    const sizes = [3000, 9000, 20_000, 65_507, 1473];
    net.at(0, () => sizes.forEach((n, i) => client.send(pattern(n, i), { address: B, port: 9 })));
    net.runFor(1000);
    const got = new Map<number, Uint8Array>();
    for (let m = server.recv(); m !== undefined; m = server.recv()) got.set(m.data.length, m.data);
    sizes.forEach((n, i) => expect(sameBytes(got.get(n), pattern(n, i))).toBe(true));
    expect(b.counters.reassembly.duplicates).toBeGreaterThan(0);
  });
});

describe("overlapping and impossible fragments (RFC 5722 rule, Linux ip_frag_queue)", () => {
  const payload = udpBytes(A, B, 1000, 9, pattern(3000, 4)); // 3008 bytes: [0,1480) [1480,2960) [2960,3008)

  it("a fragment inside bytes already held is a duplicate: dropped alone, the datagram completes", () => {
    const h = standalone(B);
    const sock = h.host.udp.bind(9);
    h.host.receive(0, fragment(1, 0, payload.subarray(0, 1480), true));
    h.host.receive(0, fragment(1, 1480, payload.subarray(1480, 2960), true));
    h.host.receive(0, fragment(1, 800, payload.subarray(800, 2000), true)); // spans the two, inside the run
    h.host.receive(0, fragment(1, 2960, payload.subarray(2960), false));
    expect(sock.recv()?.data).toEqual(pattern(3000, 4));
    expect(h.host.counters.reassembly).toMatchObject({ duplicates: 1, overlaps: 0, reassembled: 1 });
  });

  it("a partial overlap drops the whole datagram; its later fragments start over and time out", () => {
    const h = standalone(B);
    const sock = h.host.udp.bind(9);
    h.host.receive(0, fragment(2, 0, payload.subarray(0, 1480), true));
    h.host.receive(0, fragment(2, 1400, pattern(1480, 99), true)); // rewrites bytes 1400..1480
    expect(h.host.counters.reassembly.overlaps).toBe(1);
    expect(h.host.counters.drops["frag-overlap"]).toBe(1);
    expect(h.host.reassembler.datagramsHeld).toBe(0);
    h.host.receive(1, fragment(2, 1480, payload.subarray(1480, 2960), true));
    h.host.receive(1, fragment(2, 2960, payload.subarray(2960), false));
    expect(sock.recv()).toBeUndefined();
    expect(h.host.reassembler.datagramsHeld).toBe(1);
    h.host.poll(30_001);
    expect(h.host.reassembler.datagramsHeld).toBe(0);
    expect(h.host.counters.reassembly.timeouts).toBe(1);
  });

  it("a fragment touching a gap and held bytes at once (not inside one run) is an overlap", () => {
    const h = standalone(B);
    h.host.receive(0, fragment(3, 0, payload.subarray(0, 8), true));
    h.host.receive(0, fragment(3, 16, payload.subarray(16, 24), true));
    h.host.receive(0, fragment(3, 0, payload.subarray(0, 24), true)); // covers the gap at 8..16 too
    expect(h.host.counters.reassembly.overlaps).toBe(1);
    expect(h.host.reassembler.datagramsHeld).toBe(0);
  });

  it("contradicting lengths drop the datagram: two different ends, bytes past the end, a short last fragment", () => {
    const cases: Array<Array<[number, number, boolean]>> = [
      [[1480, 1480, false], [1480, 800, false]], // two last fragments with different ends
      [[1480, 8, false], [1488, 8, true]], // a fragment past the known end
      [[1480, 1480, true], [8, 800, false]], // last fragment ends before held bytes
    ];
    for (const steps of cases) {
      const h = standalone(B);
      for (const [offset, length, more] of steps) h.host.receive(0, fragment(4, offset, pattern(length), more));
      expect(h.host.counters.reassembly.invalid).toBe(1);
      expect(h.host.reassembler.datagramsHeld).toBe(0);
    }
  });

  it("ping of death: a fragment reaching past 65,535 bytes is refused", () => {
    const h = standalone(B);
    h.host.receive(0, fragment(5, 0, pattern(1480), true));
    h.host.receive(0, fragment(5, 65_528, pattern(16), false));
    expect(h.host.counters.reassembly.invalid).toBe(1);
    expect(h.host.reassembler.datagramsHeld).toBe(0);
  });

  it("zero-length fragments and non-last fragments not a multiple of 8 are refused", () => {
    const h = standalone(B);
    h.host.receive(0, fragment(6, 8, new Uint8Array(0), true));
    h.host.receive(0, fragment(7, 0, pattern(100), true));
    expect(h.host.counters.reassembly.invalid).toBe(2);
    expect(h.host.reassembler.datagramsHeld).toBe(0);
  });
});

describe("reassembly memory stays bounded under a flood of incomplete fragments", () => {
  /** First fragments of `count` datagrams that never complete, from a few sources. */
  function flood(receive: (p: Uint8Array) => void, count: number, idBase = 0): void {
    const data = pattern(1480);
    for (let i = 0; i < count; i++) {
      const src = A + 2 * (i % 3); // 10.0.0.1, .3, .5: never B itself, whose own address is no source from the link
      receive(fragment((idBase + i) & 0xffff, 0, data, true, src, B));
    }
  }

  it("the number of partial datagrams is capped (1024 by default); the rest are dropped and counted", () => {
    const h = standalone(B);
    flood((p) => h.host.receive(0, p), 5000);
    expect(h.host.reassembler.datagramsHeld).toBe(REASSEMBLY_DEFAULTS.maxDatagrams);
    expect(h.host.counters.reassembly.tooMany).toBe(5000 - 1024);
    expect(h.host.counters.drops["frag-limit"]).toBe(5000 - 1024);
  });

  it("held bytes never exceed 4 MiB (Linux ipfrag_high_thresh), and the timeout frees them all", () => {
    const h = standalone(B, { reassembly: { maxDatagrams: 100_000 } });
    let peak = 0;
    flood((p) => {
      h.host.receive(0, p);
      peak = Math.max(peak, h.host.reassembler.bytesHeld);
    }, 10_000);
    const perFragment = 1480 + FRAGMENT_OVERHEAD;
    expect(peak).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(h.host.reassembler.datagramsHeld).toBe(Math.floor((4 * 1024 * 1024) / perFragment));
    // During the flood a legitimate fragmented datagram can not get in (Linux behaves the same).
    const sock = h.host.udp.bind(9);
    for (const f of fragments({ src: A, dst: B, protocol: PROTO_UDP, id: 40_000 }, udpBytes(A, B, 1, 9, pattern(3000)), MTU)) h.host.receive(1, f);
    expect(sock.recv()).toBeUndefined();
    // 30 s after the flood everything is freed (including the legitimate datagram's one
    // fragment that fit, which arrived 1 ms later), and reassembly works again.
    h.host.poll(30_001);
    expect(h.host.reassembler.bytesHeld).toBe(0);
    expect(h.host.reassembler.datagramsHeld).toBe(0);
    for (const f of fragments({ src: A, dst: B, protocol: PROTO_UDP, id: 40_001 }, udpBytes(A, B, 1, 9, pattern(3000)), MTU)) h.host.receive(30_002, f);
    expect(sock.recv()?.data).toEqual(pattern(3000));
  });

  it("tiny fragments are charged their bookkeeping too, so their count is bounded", () => {
    const h = standalone(B, { reassembly: { maxDatagrams: 1_000_000, maxBytes: 64 * 1024 } });
    for (let i = 0; i < 5000; i++) h.host.receive(0, fragment(i, 0, pattern(8), true));
    expect(h.host.reassembler.datagramsHeld).toBe(Math.floor((64 * 1024) / (8 + FRAGMENT_OVERHEAD)));
  });
});

describe("large ICMP echo (ping -s 60000)", () => {
  it("is fragmented both ways and the reply carries the same data", () => {
    const { net, a, b } = pair({ link: { delay: 10, mtu: MTU } });
    const replies: Uint8Array[] = [];
    a.icmp.onEchoReply = (r) => replies.push(r.data);
    const data = pattern(60_000, 8);
    a.icmp.ping(B, { id: 1, seq: 1, data });
    net.runFor(100);
    expect(replies).toHaveLength(1);
    expect(sameBytes(replies[0], data)).toBe(true);
    expect(b.counters.reassembly.reassembled).toBe(1);
    expect(a.counters.reassembly.reassembled).toBe(1);
  });
});

describe("property: any datagram over any MTU, fragments in any order, arrives intact", () => {
  it("sizes 0..65,507, MTUs 576..9000, random order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: UDP_MAX_PAYLOAD }),
        fc.integer({ min: 576, max: 9000 }),
        fc.integer(),
        (size, mtu, seed) => {
          const sender = standalone(A, { mtu, seed: 1 });
          const receiver = standalone(B, { seed: 2 });
          const sock = receiver.host.udp.bind(9);
          const data = pattern(size, seed);
          sender.host.udp.open().send(data, { address: B, port: 9 });
          sender.host.poll(0);
          const packets = sender.take();
          for (const p of packets) expect(p.length).toBeLessThanOrEqual(mtu);
          expect(packets).toHaveLength(planFragments(size + 8, mtu).length);
          for (const p of shuffle(packets, seed)) receiver.host.receive(1, p);
          expect(sameBytes(sock.recv()?.data, data)).toBe(true);
          expect(receiver.host.reassembler.bytesHeld).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("time exceeded carries the first fragment's header", () => {
  it("the quote is the offending header and its first data bytes", () => {
    const h = standalone(B);
    const payload = udpBytes(A, B, 1000, 9, pattern(3000));
    h.host.receive(0, fragment(9, 0, payload.subarray(0, 1480), true));
    h.host.poll(30_000);
    const out = h.take();
    expect(out).toHaveLength(1);
    const ip = parseIpv4(out[0]!);
    expect(ip.ok && ip.value.header.protocol).toBe(PROTO_ICMP);
    const m = ip.ok ? parseIcmp(ip.value.payload) : undefined;
    if (m?.ok && m.value.kind === "time-exceeded") {
      expect(m.value.code).toBe(TIME_EXCEEDED_REASSEMBLY);
      const quote = parseIcmpQuote(m.value.original);
      expect(quote.ok && quote.value).toMatchObject({ src: A, dst: B, protocol: PROTO_UDP });
      expect((m.value.original[4]! << 8) | m.value.original[5]!).toBe(9); // identification
      expect(m.value.original.subarray(20, 28)).toEqual(payload.subarray(0, 8));
    } else {
      expect.unreachable("expected time exceeded");
    }
  });
});
