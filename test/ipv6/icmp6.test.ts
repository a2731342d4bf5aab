/**
 * ICMPv6 on a host (RFC 4443): echo, the errors the IP layer asks for, and the rate limit
 * shared with ICMPv4 (2.4(f)).
 */
import { describe, expect, it } from "vitest";
import { Host } from "../../src/host/host.js";
import { SimRng } from "../../src/sim/index.js";
import { emitIcmpv6, icmpv6Length, parseIcmpv6, ICMPV6_PARAMETER_PROBLEM, ICMPV6_TIME_EXCEEDED, type Icmpv6Message } from "../../src/wire/icmpv6.js";
import { emitIpv6Headers, NH_ICMPV6, parseIpv6, walkIpv6Extensions } from "../../src/wire/ipv6.js";
import { familyPair, ip } from "./helpers.js";

const A = ip("fd00::1");
const B = ip("fd00::2");

function standalone(extra: { icmpRateLimit?: { perPeerBurst?: number; perPeerInterval?: number } } = {}): { h: Host; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const h = new Host({ name: "h", address: B, rng: new SimRng(2), transmit: (p) => sent.push(p), ...extra });
  return { h, sent };
}

function icmpPacket(m: Icmpv6Message, nextHeader = NH_ICMPV6, src = A): Uint8Array {
  const len = icmpv6Length(m);
  const out = new Uint8Array(40 + len);
  emitIpv6Headers({ src, dst: B, nextHeader, payloadLength: len }, [], out, 0);
  emitIcmpv6(m, out, 40, { src, dst: B });
  return out;
}

function icmpOut(p: Uint8Array): Icmpv6Message | undefined {
  const ip6 = parseIpv6(p);
  if (!ip6.ok) return undefined;
  const w = walkIpv6Extensions(p, ip6.value.header);
  if (!w.ok || w.value.protocol !== NH_ICMPV6) return undefined;
  const m = parseIcmpv6(w.value.payload, { src: ip6.value.header.src, dst: ip6.value.header.dst });
  return m.ok ? m.value : undefined;
}

describe("ICMPv6 echo (ping -6)", () => {
  it("answers an echo request with the same id, sequence and data, from the address asked", () => {
    const { h, sent } = standalone();
    const data = new Uint8Array([1, 2, 3, 4, 5]);
    h.receive(0, icmpPacket({ kind: "echo-request", id: 0x4242, seq: 7, data }));
    expect(sent).toHaveLength(1);
    const reply = parseIpv6(sent[0]!);
    expect(reply.ok && reply.value.header.src.toString()).toBe("fd00::2");
    expect(reply.ok && reply.value.header.dst.toString()).toBe("fd00::1");
    expect(icmpOut(sent[0]!)).toEqual({ kind: "echo-reply", id: 0x4242, seq: 7, data });
    expect(h.counters.icmp6.inEchos).toBe(1);
    expect(h.counters.icmp6.outEchoReplies).toBe(1);
  });

  it("pings between two simulated hosts, one round trip later", () => {
    const p = familyPair(6);
    const replies: Array<[string, number, number]> = [];
    p.a.icmp6.onEchoReply = (r) => replies.push([r.from.toString(), r.seq, r.time]);
    p.a.icmp6.ping(p.B, { id: 1, seq: 1, data: new Uint8Array(56) });
    p.net.runFor(100);
    expect(replies).toEqual([["fd00::2", 1, 20]]);
  });

  it("drops a message with a bad checksum, counted", () => {
    const { h, sent } = standalone();
    const pkt = icmpPacket({ kind: "echo-request", id: 1, seq: 1, data: new Uint8Array(4) });
    pkt[pkt.length - 1] ^= 0xff;
    h.receive(0, pkt);
    expect(sent).toHaveLength(0);
    expect(h.counters.icmp6.inCsumErrors).toBe(1);
  });
});

describe("ICMPv6 errors", () => {
  it("an unknown Next Header draws Parameter Problem code 1 pointing at it (RFC 8200 section 4)", () => {
    const { h, sent } = standalone();
    const pkt = icmpPacket({ kind: "echo-request", id: 1, seq: 1, data: new Uint8Array(4) }, 253);
    h.receive(0, pkt);
    expect(sent).toHaveLength(1);
    const m = icmpOut(sent[0]!);
    expect(m?.kind).toBe("parameter-problem");
    if (m?.kind !== "parameter-problem") return;
    expect([m.code, m.pointer]).toEqual([1, 6]);
    // The quote is the offending packet from its first byte.
    expect([...m.original]).toEqual([...pkt]);
    expect(ICMPV6_PARAMETER_PROBLEM).toBe(4);
  });

  it("never answers an ICMPv6 error with an error (RFC 4443 2.4(e))", () => {
    const { h, sent } = standalone();
    // A time exceeded message quoting a packet we did not send: ignored, nothing sent.
    h.receive(0, icmpPacket({ kind: "time-exceeded", code: 0, original: new Uint8Array(48) }));
    expect(sent).toHaveLength(0);
    expect(h.counters.icmp6.inTimeExcds).toBe(1);
  });

  it("holds errors back per destination with the limiter ICMPv4 shares", () => {
    const { h, sent } = standalone({ icmpRateLimit: { perPeerBurst: 2, perPeerInterval: 1000 } });
    for (let i = 0; i < 5; i++) h.receive(0, icmpPacket({ kind: "echo-request", id: 1, seq: i, data: new Uint8Array(4) }, 253));
    expect(sent).toHaveLength(2);
    expect(h.counters.icmp6.outRateLimited).toBe(3);
    // Another source has its own bucket.
    h.receive(0, icmpPacket({ kind: "echo-request", id: 1, seq: 9, data: new Uint8Array(4) }, 253, ip("fd00::7")));
    expect(sent).toHaveLength(3);
  });

  it("sends time exceeded (reassembly) 60 s after a first fragment whose datagram never completed", () => {
    const { h, sent } = standalone();
    const frag = new Uint8Array(48 + 16);
    emitIpv6Headers({ src: A, dst: B, nextHeader: 17, payloadLength: 16 }, [{ kind: "fragment", offset: 0, more: true, id: 5 }], frag, 0);
    // A UDP header inside, so the first fragment holds its upper-layer header (RFC 7112).
    frag.set([0x9c, 0x40, 0x00, 0x35, 0x00, 0x20, 0x12, 0x34], 48);
    h.receive(0, frag);
    h.poll(59_999);
    expect(sent).toHaveLength(0);
    h.poll(60_000);
    const m = icmpOut(sent[0]!);
    expect(m?.kind === "time-exceeded" && m.code).toBe(1);
    expect(ICMPV6_TIME_EXCEEDED).toBe(3);
  });
});
