/**
 * Untrusted IPv6 bytes never make the host throw (architecture: "parsers never throw"):
 * random bytes behind a valid fixed header (any Next Header), chains of random extension
 * headers, fragments with any fields, and valid fragments, ICMPv6 errors and TCP segments
 * with random bit flips. Reassembly stays inside its bounds, and the host's next deadline
 * never lies in the past.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Host } from "../../src/host/host.js";
import { SimRng } from "../../src/sim/index.js";
import { PROTO_TCP, PROTO_UDP } from "../../src/wire/ipv4.js";
import { emitIcmpv6, icmpv6Length, type Icmpv6Message } from "../../src/wire/icmpv6.js";
import { emitIpv6Headers, extensionLength, NH_DESTINATION, NH_FRAGMENT, NH_HOP_BY_HOP, NH_ICMPV6, NH_NONE, NH_ROUTING, type Ipv6Extension } from "../../src/wire/ipv6.js";
import { emitTcp, headerLength, SYN } from "../../src/wire/tcp.js";
import { seq } from "../../src/wire/seq.js";
import { ip } from "./helpers.js";

const A = ip("fd00::1");
const B = ip("fd00::2");
const LIMITS = { maxBytes: 256 * 1024, maxDatagrams: 64 };

/** Host B with a UDP socket, a listener and a connection to A, all of which input may reach. */
function target(): Host {
  const host = new Host({ name: "b", address: B, rng: new SimRng(5), transmit: () => {}, reassembly: LIMITS });
  host.udp.bind(9);
  host.tcp.listen(80);
  host.tcp.connect({ localAddr: B, localPort: 40_000, remoteAddr: A, remotePort: 80 });
  return host;
}

function packet(nextHeader: number, payload: Uint8Array, extensions: readonly Ipv6Extension[] = []): Uint8Array {
  const headers = 40 + extensions.reduce((n, e) => n + extensionLength(e), 0);
  const out = new Uint8Array(headers + payload.length);
  emitIpv6Headers({ src: A, dst: B, nextHeader, payloadLength: payload.length }, extensions, out, 0);
  out.set(payload, headers);
  return out;
}

function checkHost(host: Host, now: number): void {
  expect(() => host.poll(now)).not.toThrow();
  expect(host.reassembler6.bytesHeld).toBeLessThanOrEqual(LIMITS.maxBytes);
  expect(host.reassembler6.datagramsHeld).toBeLessThanOrEqual(LIMITS.maxDatagrams);
  expect(host.nextDeadline()).toBeGreaterThan(now);
}

const option = fc.record({ type: fc.integer({ min: 2, max: 255 }), data: fc.uint8Array({ maxLength: 20 }) });
const extension: fc.Arbitrary<Ipv6Extension> = fc.oneof(
  fc.record({ kind: fc.constant("hop-by-hop" as const), options: fc.array(option, { maxLength: 3 }) }),
  fc.record({ kind: fc.constant("destination" as const), options: fc.array(option, { maxLength: 3 }) }),
  fc.record({
    kind: fc.constant("routing" as const),
    routingType: fc.integer({ min: 0, max: 255 }),
    segmentsLeft: fc.integer({ min: 0, max: 255 }),
    data: fc.integer({ min: 0, max: 4 }).map((n) => new Uint8Array(n * 8 + 4)),
  }),
  fc.record({ kind: fc.constant("fragment" as const), offset: fc.integer({ min: 0, max: 0x1fff }).map((u) => u * 8), more: fc.boolean(), id: fc.integer({ min: 0, max: 3 }) }),
);

describe("fuzz: Host.receive over IPv6", () => {
  it("random bytes behind a valid fixed header (any Next Header) never throw", () => {
    const host = target();
    let now = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(PROTO_TCP, PROTO_UDP, NH_ICMPV6, NH_HOP_BY_HOP, NH_ROUTING, NH_FRAGMENT, NH_DESTINATION, NH_NONE, 253),
        fc.uint8Array({ maxLength: 1460 }),
        fc.integer({ min: 0, max: 2000 }),
        (nh, payload, step) => {
          now += step;
          expect(() => host.receive(now, packet(nh, payload))).not.toThrow();
          checkHost(host, now);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it("chains of random extension headers (fragments among them) before random bytes never throw", () => {
    const host = target();
    let now = 0;
    fc.assert(
      fc.property(
        fc.array(extension, { maxLength: 4 }),
        fc.constantFrom(PROTO_TCP, PROTO_UDP, NH_ICMPV6, NH_NONE, 253),
        fc.uint8Array({ maxLength: 1200 }),
        fc.integer({ min: 0, max: 5000 }),
        (extensions, nh, payload, step) => {
          now += step;
          expect(() => host.receive(now, packet(nh, payload, extensions))).not.toThrow();
          checkHost(host, now);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it("valid fragments, ICMPv6 errors and TCP segments with random bit flips never throw", () => {
    const host = target();
    const syn = new Uint8Array(headerLength({ mss: 1440 }));
    emitTcp({ srcPort: 80, dstPort: 40_000, seq: seq(7), ack: seq(0), flags: SYN, window: 65535, urgentPointer: 0, options: { mss: 1440 }, payload: new Uint8Array(0) }, syn, 0, { src: A, dst: B });
    const quote = packet(PROTO_TCP, syn).subarray(0, 48);
    const icmp = (m: Icmpv6Message) => {
      const bytes = new Uint8Array(icmpv6Length(m));
      emitIcmpv6(m, bytes, 0, { src: A, dst: B });
      return packet(NH_ICMPV6, bytes);
    };
    const data = new Uint8Array(3000).map((_, i) => i * 13);
    const samples = [
      packet(PROTO_TCP, syn),
      icmp({ kind: "packet-too-big", mtu: 1280, original: quote }),
      icmp({ kind: "dest-unreachable", code: 4, original: quote }),
      icmp({ kind: "parameter-problem", code: 0, pointer: 6, original: quote }),
      packet(PROTO_UDP, data.subarray(0, 1200), [{ kind: "fragment", offset: 0, more: true, id: 9 }]),
      packet(PROTO_UDP, data.subarray(1200, 2400), [{ kind: "fragment", offset: 1200, more: false, id: 9 }]),
    ];
    fc.assert(
      fc.property(fc.nat(samples.length - 1), fc.array(fc.nat(), { maxLength: 4 }), fc.nat(60_000), (which, flips, now) => {
        const p = samples[which]!.slice();
        for (const f of flips) p[(f >>> 3) % p.length]! ^= 1 << (f & 7);
        expect(() => host.receive(now, p)).not.toThrow();
        checkHost(host, now);
      }),
      { numRuns: 10_000 },
    );
  });
});
