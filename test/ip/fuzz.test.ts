/**
 * Untrusted bytes never make the host throw (architecture: "parsers never throw"), and
 * whatever arrives, reassembly stays inside its bounds.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PROTO_ICMP, PROTO_TCP, PROTO_UDP } from "../../src/wire/ipv4.js";
import { A, B, fragments, icmpPacket, pattern, rawPacket, standalone, udpBytes } from "./helpers.js";

const LIMITS = { maxBytes: 256 * 1024, maxDatagrams: 64 };

describe("fuzz: Host.receive", () => {
  it("random bytes never throw", () => {
    const h = standalone(B, { reassembly: LIMITS });
    h.host.udp.bind(9);
    h.host.tcp.listen(80);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600 }), fc.nat(100_000), (bytes, now) => {
        expect(() => h.host.receive(now, bytes)).not.toThrow();
      }),
      { numRuns: 20_000 },
    );
  });

  it("random bytes behind a valid IPv4 header (any protocol, any fragment fields) never throw", () => {
    const h = standalone(B, { reassembly: LIMITS });
    h.host.udp.bind(9);
    h.host.tcp.listen(80);
    let now = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(PROTO_ICMP, PROTO_TCP, PROTO_UDP, 253),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 0x1fff }),
        fc.uint8Array({ minLength: 0, maxLength: 1480 }),
        fc.integer({ min: 0, max: 2000 }),
        (protocol, id, more, offsetUnits, payload, step) => {
          now += step;
          const packet = rawPacket({ src: A, dst: B, protocol, id, moreFragments: more, fragmentOffset: offsetUnits * 8 }, payload);
          expect(() => h.host.receive(now, packet)).not.toThrow();
          expect(() => h.host.poll(now)).not.toThrow();
          expect(h.host.reassembler.bytesHeld).toBeLessThanOrEqual(LIMITS.maxBytes);
          expect(h.host.reassembler.datagramsHeld).toBeLessThanOrEqual(LIMITS.maxDatagrams);
          expect(h.host.nextDeadline()).toBeGreaterThan(now);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it("valid fragments and ICMP messages with random bit flips never throw", () => {
    const h = standalone(B, { reassembly: LIMITS });
    const s = h.host.udp.open();
    s.connect(A, 7);
    const frags = fragments({ src: A, dst: B, protocol: PROTO_UDP, id: 3 }, udpBytes(A, B, 7, s.localPort!, pattern(5000)), 576);
    const quote = rawPacket({ src: B, dst: A, protocol: PROTO_UDP }, udpBytes(B, A, s.localPort!, 7, pattern(8))).subarray(0, 28);
    const icmp = icmpPacket(A, B, { kind: "dest-unreachable", code: 3, nextHopMtu: 0, original: quote });
    const samples = [...frags, icmp];
    fc.assert(
      fc.property(fc.nat(samples.length - 1), fc.array(fc.nat(), { maxLength: 4 }), fc.nat(60_000), (which, flips, now) => {
        const p = samples[which]!.slice();
        for (const f of flips) p[(f >>> 3) % p.length]! ^= 1 << (f & 7);
        expect(() => h.host.receive(now, p)).not.toThrow();
        expect(() => s.takeError()).not.toThrow();
        expect(() => s.recv()).not.toThrow();
      }),
      { numRuns: 10_000 },
    );
  });
});
