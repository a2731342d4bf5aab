/**
 * The IP layer over both families (docs/ipv6-plan.md steps 2 and 3): one routing table
 * with IpPrefix routes, input dispatch on the version nibble with the IPv6 extension walk
 * and reassembly, output by the destination's family, and TCP on top, run in both
 * families so that a stray `===` on addresses fails.
 */
import { describe, expect, it } from "vitest";
import { RoutingTable } from "../../src/ip/routing.js";
import { Host } from "../../src/host/host.js";
import { SimRng } from "../../src/sim/index.js";
import { IpAddress } from "../../src/wire/address.js";
import { emitIpv6Headers, parseIpv6, walkIpv6Extensions, NH_DESTINATION } from "../../src/wire/ipv6.js";
import { emitTcp, headerLength, parseTcp, SYN, ACK, RST, type TcpSegment } from "../../src/wire/tcp.js";
import { PROTO_TCP } from "../../src/wire/ipv4.js";
import { seq } from "../../src/wire/seq.js";
import { FAMILIES, familyPair, ip } from "./helpers.js";

describe("RoutingTable, both families", () => {
  const table = (): RoutingTable => {
    const t = new RoutingTable([
      { name: "lan", address: ip("192.168.1.10"), prefixLength: 24 },
      { name: "lan6", address: ip("2001:db8:1::10"), prefixLength: 64 },
      { name: "ll", address: ip("fe80::10"), prefixLength: 64 },
    ]);
    t.add({ destination: IpAddress.ANY4, prefixLength: 0, gateway: ip("192.168.1.1") });
    t.add({ destination: IpAddress.ANY6, prefixLength: 0, gateway: ip("2001:db8:1::1") });
    t.add({ destination: ip("2001:db8:2::"), prefixLength: 48, gateway: ip("2001:db8:1::2") });
    t.add({ destination: ip("2001:db8:2:9::"), prefixLength: 64, kind: "unreachable" });
    return t;
  };

  it("does longest-prefix match among the routes of the destination's family only", () => {
    const t = table();
    const pick = (d: string) => {
      const r = t.resolve(ip(d));
      return [r.iface.name, r.nextHop.toString(), r.source.toString()];
    };
    expect(pick("8.8.8.8")).toEqual(["lan", "192.168.1.1", "192.168.1.10"]);
    expect(pick("2001:db8:1::77")).toEqual(["lan6", "2001:db8:1::77", "2001:db8:1::10"]);
    expect(pick("2001:db8:2:1::5")).toEqual(["lan6", "2001:db8:1::2", "2001:db8:1::10"]);
    expect(pick("2606:4700::1111")).toEqual(["lan6", "2001:db8:1::1", "2001:db8:1::10"]);
    expect(() => t.resolve(ip("2001:db8:2:9::1"))).toThrow(expect.objectContaining({ code: "EHOSTUNREACH" }));
    // ::ffff:8.8.8.8 is an IPv6 address: the IPv4 default route does not take it.
    expect(pick("::ffff:8.8.8.8")[0]).toBe("lan6");
  });

  it("picks a link-local source for a link-local destination (RFC 6724 rule 2)", () => {
    const t = table();
    expect(t.resolve(ip("fe80::99")).source.toString()).toBe("fe80::10");
  });

  it("an IPv6-only table has no route for IPv4 (ENETUNREACH), and isLocal is by value", () => {
    const t = new RoutingTable([{ address: ip("fd00::1"), prefixLength: 64 }]);
    expect(t.lookup(ip("10.0.0.1"))).toEqual({ ok: false, code: "ENETUNREACH" });
    expect(t.isLocal(ip("fd00:0:0:0::1"))).toBe(true);
    expect(t.isLocal(ip("::ffff:0.0.0.1"))).toBe(false);
  });

  it("refuses an IPv6 interface with an MTU under 1280 (RFC 8200 section 5) and mixed-family routes", () => {
    expect(() => new RoutingTable([{ address: ip("fd00::1"), prefixLength: 64, mtu: 1279 }])).toThrow(RangeError);
    expect(() => new RoutingTable([{ address: ip("fd00::1"), prefixLength: 129 }])).toThrow(RangeError);
    const t = new RoutingTable([{ address: ip("fd00::1"), prefixLength: 64 }]);
    expect(() => t.add({ destination: IpAddress.ANY4, prefixLength: 0 })).toThrow(/no interface has an IPv4 address/);
    expect(() => t.add({ destination: IpAddress.ANY6, prefixLength: 0, gateway: ip("10.0.0.1") })).toThrow(/family/);
  });
});

describe.each(FAMILIES)("TCP over IPv%i in the simulator", (family) => {
  it("connects, moves data both ways and closes; MSS is the MTU less 40 or 60 bytes", () => {
    const p = familyPair(family);
    const l = p.b.tcp.listen(80);
    const c = p.a.tcp.connect({ localAddr: p.a.route(p.B).source, remoteAddr: p.B, remotePort: 80 });
    p.net.runUntil(() => c.state === "ESTABLISHED", 1000);
    expect(c.state).toBe("ESTABLISHED");
    p.net.runFor(20);
    const s = l.accept()!;
    expect(s.tuple.remoteAddr.equals(p.A)).toBe(true);
    expect(s.tuple.localAddr.family).toBe(family);
    const syn = p.events.find((e) => e.type === "segment-out" && e.host === "a" && (e.segment.flags & SYN) !== 0);
    expect(syn?.type === "segment-out" && syn.segment.options.mss).toBe(family === 4 ? 1460 : 1440);
    const data = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    let sent = 0;
    let got = 0;
    let ok = true;
    p.net.runUntil(() => {
      if (sent < data.length) {
        sent += c.send(data.subarray(sent));
        if (sent === data.length) c.close();
      }
      for (;;) {
        const chunk = s.read(65536);
        if (chunk.length === 0) break;
        for (let i = 0; i < chunk.length; i++) if (chunk[i] !== ((got + i) * 7 & 0xff)) ok = false;
        got += chunk.length;
      }
      return got === data.length;
    }, 10_000);
    expect(got).toBe(data.length);
    expect(ok).toBe(true);
    // Every segment on the wire parsed with the family's pseudo-header checksum.
    expect(p.a.counters.drops["bad-checksum"] ?? 0).toBe(0);
    expect(p.b.counters.drops["bad-checksum"] ?? 0).toBe(0);
  });

  it("answers a SYN to a closed port with RST,ACK", () => {
    const p = familyPair(family);
    const c = p.a.tcp.connect({ localAddr: p.A, remoteAddr: p.B, remotePort: 81 });
    p.net.runFor(100);
    expect(c.state).toBe("CLOSED");
    expect(p.events.some((e) => e.type === "segment-out" && e.host === "b" && (e.segment.flags & RST) !== 0)).toBe(true);
  });
});

describe("IPv6 input", () => {
  const A = ip("fd00::1");
  const B = ip("fd00::2");
  const syn: TcpSegment = { srcPort: 40000, dstPort: 80, seq: seq(1000), ack: seq(0), flags: SYN, window: 65535, urgentPointer: 0, options: { mss: 1440 }, payload: new Uint8Array(0) };

  function host(): { h: Host; sent: Uint8Array[] } {
    const sent: Uint8Array[] = [];
    const h = new Host({ name: "h", address: B, rng: new SimRng(1), transmit: (p) => sent.push(p) });
    h.tcp.listen(80);
    return { h, sent };
  }

  function packet(extensions: Parameters<typeof emitIpv6Headers>[1], seg = syn, src = A): Uint8Array {
    const len = headerLength(seg.options) + seg.payload.length;
    let ext = 0;
    const probe = new Uint8Array(2000);
    ext = emitIpv6Headers({ src, dst: B, nextHeader: PROTO_TCP, payloadLength: len }, extensions, probe, 0);
    const out = new Uint8Array(ext + len);
    emitIpv6Headers({ src, dst: B, nextHeader: PROTO_TCP, payloadLength: len }, extensions, out, 0);
    emitTcp(seg, out, ext, { src, dst: B });
    return out;
  }

  function synAckOf(sent: Uint8Array[]): TcpSegment | undefined {
    for (const p of sent) {
      const ip6 = parseIpv6(p);
      if (!ip6.ok) continue;
      const w = walkIpv6Extensions(p, ip6.value.header);
      if (!w.ok) continue;
      const t = parseTcp(w.value.payload, { src: ip6.value.header.src, dst: ip6.value.header.dst });
      if (t.ok && t.value.flags === (SYN | ACK)) return t.value;
    }
    return undefined;
  }

  it("walks past a destination options header to TCP, and answers over IPv6", () => {
    const { h, sent } = host();
    h.receive(0, packet([{ kind: "destination", options: [] }]));
    h.poll(0);
    const sa = synAckOf(sent);
    expect(sa?.ack).toBe(1001);
    expect(sa?.options.mss).toBe(1440);
    expect(NH_DESTINATION).toBe(60);
  });

  it("treats an atomic fragment as a whole packet (RFC 6946) and reassembles real fragments", () => {
    const { h, sent } = host();
    h.receive(0, packet([{ kind: "fragment", offset: 0, more: false, id: 7 }]));
    h.poll(0);
    expect(synAckOf(sent)?.ack).toBe(1001);
    // A SYN carrying 16 bytes, cut into two fragments: the first holds the whole 24-byte TCP
    // header and 8 bytes (RFC 7112 wants the upper-layer header in the first fragment).
    const { h: h2, sent: sent2 } = host();
    const whole = packet([], { ...syn, payload: new Uint8Array(16).fill(7) });
    const tcp = whole.subarray(40);
    const frag = (offset: number, more: boolean, data: Uint8Array): Uint8Array => {
      const out = new Uint8Array(48 + data.length);
      emitIpv6Headers({ src: A, dst: B, nextHeader: PROTO_TCP, payloadLength: data.length }, [{ kind: "fragment", offset, more, id: 99 }], out, 0);
      out.set(data, 48);
      return out;
    };
    h2.receive(0, frag(32, false, tcp.subarray(32)));
    h2.poll(0);
    expect(sent2).toHaveLength(0);
    h2.receive(1, frag(0, true, tcp.subarray(0, 32)));
    h2.poll(1);
    expect(synAckOf(sent2)?.flags).toBe(SYN | ACK);
    // A first fragment that ends inside the TCP header is dropped (RFC 7112 section 5).
    const { h: h3, sent: sent3 } = host();
    h3.receive(0, frag(0, true, tcp.subarray(0, 16)));
    h3.poll(0);
    expect(h3.counters.drops["frag-invalid"]).toBe(1);
    expect(synAckOf(sent3)).toBeUndefined();
    expect(h2.counters.reassembly6.reassembled).toBe(1);
  });

  it("drops packets for other addresses, from multicast, mapped or (for TCP) unspecified sources, and with a bad TCP checksum", () => {
    const { h, sent } = host();
    h.receive(0, packet([], syn, ip("ff02::1")));
    h.receive(0, packet([], syn, ip("::ffff:10.0.0.1")));
    h.receive(0, packet([], syn, ip("::"))); // a SYN-ACK would go to ::, which is never a destination (RFC 4291 2.5.2)
    const bad = packet([]);
    bad[bad.length - 1] ^= 1;
    bad[50] ^= 0x10; // the TCP checksum no longer matches
    h.receive(0, bad);
    const other = packet([]);
    other[39] = 9; // destination fd00::9
    h.receive(0, other);
    expect(sent).toHaveLength(0);
    expect(h.counters.drops["martian-source"]).toBe(3);
    expect(h.counters.drops["not-for-us"]).toBe(1);
    expect(h.counters.drops["bad-checksum"]).toBe(1);
  });
});
