/**
 * ICMP (RFC 792, RFC 1122 3.2.2): echo, the errors a host sends and when it must not,
 * the rate limit, and what happens to errors it receives.
 */
import { describe, expect, it } from "vitest";
import { IcmpRateLimiter } from "../../src/ip/rate-limit.js";
import {
  ICMP_DEST_UNREACHABLE,
  parseIcmp,
  UNREACH_HOST,
  UNREACH_PORT,
  UNREACH_PROTOCOL,
  type IcmpMessage,
} from "../../src/wire/icmp.js";
import { parseIpv4, PROTO_ICMP, PROTO_UDP } from "../../src/wire/ipv4.js";
import type { EchoReply } from "../../src/ip/icmp.js";
import { IpError } from "../../src/ip/errors.js";
import { A, B, C, fragment, icmpPacket, pair, pattern, rawPacket, standalone, udpBytes, udpPacket } from "./helpers.js";

/** The ICMP messages among `packets`. */
function icmpOf(packets: Uint8Array[]): IcmpMessage[] {
  const out: IcmpMessage[] = [];
  for (const p of packets) {
    const ip = parseIpv4(p);
    if (!ip.ok || ip.value.header.protocol !== PROTO_ICMP) continue;
    const m = parseIcmp(ip.value.payload);
    if (m.ok) out.push(m.value);
  }
  return out;
}

describe("echo (ping)", () => {
  it("a request gets a reply with the same id, sequence and data, one round trip later", () => {
    const { net, a, b } = pair();
    const replies: EchoReply[] = [];
    a.icmp.onEchoReply = (r) => replies.push(r);
    net.at(100, () => a.icmp.ping(B, { id: 0x1234, seq: 1, data: pattern(56) }));
    net.at(1100, () => a.icmp.ping(B, { id: 0x1234, seq: 2, data: pattern(56) }));
    net.runFor(2000);
    expect(replies.map((r) => ({ from: r.from.v4Value, to: r.to.v4Value, id: r.id, seq: r.seq, time: r.time }))).toEqual([
      { from: B, to: A, id: 0x1234, seq: 1, time: 120 },
      { from: B, to: A, id: 0x1234, seq: 2, time: 1120 },
    ]);
    expect(replies[0]!.data).toEqual(pattern(56));
    expect(b.counters.icmp).toMatchObject({ inEchos: 2, outEchoReps: 2 });
    expect(a.counters.icmp).toMatchObject({ outEchos: 2, inEchoReps: 2 });
  });

  it("the reply comes from the address the request was sent to (RFC 1122 3.2.2.6)", () => {
    const h = standalone(B, { interfaces: [{ address: B, prefixLength: 24 }, { address: C, prefixLength: 24, name: "eth1" }] });
    h.host.receive(0, icmpPacket(A, C, { kind: "echo-request", id: 1, seq: 1, data: new Uint8Array(4) }));
    const out = h.take();
    expect(out).toHaveLength(1);
    const ip = parseIpv4(out[0]!);
    expect(ip.ok && ip.value.header.src).toBe(C);
  });

  it("ping rejects oversized data and unreachable destinations with typed errors", () => {
    const h = standalone(A, { interfaces: [{ address: A, prefixLength: 24 }] });
    const code = (fn: () => void): string | undefined => {
      try {
        fn();
      } catch (e) {
        if (e instanceof IpError) return e.code;
        throw e;
      }
      return undefined;
    };
    expect(code(() => h.host.icmp.ping(B, { id: 1, seq: 1, data: new Uint8Array(65_508) }))).toBe("EMSGSIZE");
    expect(code(() => h.host.icmp.ping(0x08080808, { id: 1, seq: 1 }))).toBe("ENETUNREACH");
    expect(code(() => h.host.icmp.ping(B, { id: 1, seq: 1, data: new Uint8Array(65_507) }))).toBeUndefined();
  });

  it("echo replies are not rate-limited", () => {
    const h = standalone(B);
    for (let i = 0; i < 200; i++) h.host.receive(0, icmpPacket(A, B, { kind: "echo-request", id: 1, seq: i, data: new Uint8Array(0) }));
    expect(icmpOf(h.take())).toHaveLength(200);
  });
});

describe("errors this host sends", () => {
  it("protocol unreachable for a protocol with no transport (RFC 1122 3.2.2.1)", () => {
    const h = standalone(B);
    h.host.receive(0, rawPacket({ src: A, dst: B, protocol: 253 }, pattern(20)));
    const [m] = icmpOf(h.take());
    expect(m).toMatchObject({ kind: "dest-unreachable", code: UNREACH_PROTOCOL });
    expect(h.host.counters.ip.inUnknownProtos).toBe(1);
    expect(h.host.counters.drops["unknown-protocol"]).toBe(1);
  });

  it("port unreachable quotes at most 576 bytes in all (RFC 1812 4.3.2.3)", () => {
    const h = standalone(B);
    h.host.receive(0, udpPacket(A, B, 1, 9, pattern(1400)));
    const out = h.take();
    expect(out).toHaveLength(1);
    expect(out[0]!.length).toBe(576);
    expect(icmpOf(out)[0]).toMatchObject({ kind: "dest-unreachable", code: UNREACH_PORT });
  });

  it("never about an ICMP error, a non-initial fragment, or a source that is not one host (RFC 1122 3.2.2)", () => {
    const h = standalone(B);
    // An ICMP error (host unreachable) about a datagram we never sent: no error back.
    const quote = udpPacket(B, A, 9, 1, pattern(8)).subarray(0, 28);
    h.host.receive(0, icmpPacket(A, B, { kind: "dest-unreachable", code: UNREACH_HOST, nextHopMtu: 0, original: quote }));
    // A UDP datagram to a closed port from a Class E source.
    h.host.receive(0, udpPacket(0xf0000001, B, 1, 9, pattern(8)));
    // Protocol 253 in a non-initial fragment that never completes: no error either.
    h.host.receive(0, fragment(1, 8, pattern(8), false, A, B, 253));
    // A broken ICMP message of unknown type (an error by Linux's rule).
    h.host.receive(0, icmpPacket(A, B, { kind: "other", type: 42, code: 0, rest: 0, body: new Uint8Array(8) }));
    expect(h.take()).toHaveLength(0);
  });

  it("errors to one destination are limited to a burst of 6, then one per second (Linux icmp_ratelimit)", () => {
    const h = standalone(B);
    let sent = 0;
    const fire = (now: number, n: number): void => {
      for (let i = 0; i < n; i++) h.host.receive(now, udpPacket(A, B, 1, 9, pattern(8)));
      sent += icmpOf(h.take()).length;
    };
    fire(0, 20);
    expect(sent).toBe(6);
    fire(500, 5);
    expect(sent).toBe(6);
    fire(1000, 5);
    expect(sent).toBe(7);
    fire(3000, 5);
    expect(sent).toBe(9);
    expect(h.host.counters.icmp.outRateLimited).toBe(35 - 9);
    expect(h.host.counters.drops["icmp-ratelimit"]).toBe(35 - 9);
    // Another destination has its own budget.
    for (let i = 0; i < 3; i++) h.host.receive(3000, udpPacket(C, B, 1, 9, pattern(8)));
    expect(icmpOf(h.take())).toHaveLength(3);
  });

  it("the host-wide limit caps errors to many destinations (icmp_msgs_burst 50, 1000/s)", () => {
    const h = standalone(B);
    for (let i = 0; i < 500; i++) h.host.receive(0, udpPacket(0x0b000000 + i, B, 1, 9, pattern(8)));
    expect(icmpOf(h.take())).toHaveLength(50);
    for (let i = 0; i < 500; i++) h.host.receive(100, udpPacket(0x0c000000 + i, B, 1, 9, pattern(8)));
    expect(icmpOf(h.take())).toHaveLength(50);
  });

  it("the per-destination table is bounded", () => {
    const limiter = new IcmpRateLimiter({ perPeerInterval: 1000, perPeerBurst: 6, globalPerSecond: 0, globalBurst: 0, maxPeers: 100 });
    for (let i = 0; i < 10_000; i++) limiter.allow(i, i);
    expect(limiter.peerCount).toBe(100);
  });
});

describe("errors this host receives", () => {
  it("an error quoting a datagram we did not send is ignored", () => {
    const h = standalone(A);
    const s = h.host.udp.open();
    s.connect(B, 9);
    const foreign = rawPacket({ src: C, dst: B, protocol: PROTO_UDP }, udpBytes(C, B, s.localPort!, 9, pattern(4))).subarray(0, 28);
    h.host.receive(0, icmpPacket(B, A, { kind: "dest-unreachable", code: UNREACH_PORT, nextHopMtu: 0, original: foreign }));
    expect(s.pendingError).toBeUndefined();
  });

  it("soft errors (host unreachable) are not reported on a connected UDP socket; hard ones are", () => {
    const h = standalone(A);
    const s = h.host.udp.open();
    s.connect(B, 9);
    const quote = rawPacket({ src: A, dst: B, protocol: PROTO_UDP }, udpBytes(A, B, s.localPort!, 9, pattern(4))).subarray(0, 28);
    h.host.receive(0, icmpPacket(C, A, { kind: "dest-unreachable", code: UNREACH_HOST, nextHopMtu: 0, original: quote }));
    expect(s.pendingError).toBeUndefined();
    h.host.receive(0, icmpPacket(C, A, { kind: "dest-unreachable", code: 13, nextHopMtu: 0, original: quote }));
    expect(s.pendingError?.code).toBe("EHOSTUNREACH");
    expect(ICMP_DEST_UNREACHABLE).toBe(3);
  });
});
