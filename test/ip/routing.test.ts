/**
 * Interfaces, routes and IPv4 input filtering: longest-prefix match (RFC 1812 5.2.4.3),
 * source-address choice, typed unreachable errors, local delivery only, martian sources.
 */
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { HostUnreachableError, NetworkUnreachableError } from "../../src/ip/errors.js";
import { Host } from "../../src/host/host.js";
import { isMartianSource, RoutingTable } from "../../src/ip/routing.js";
import { SimNetwork, SimRng } from "../../src/sim/index.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { TraceHub } from "../../src/trace/events.js";
import { parseIpv4Address } from "../../src/wire/ipv4.js";
import { A, B, C, pattern, standalone, udpPacket } from "./helpers.js";

const ip = (s: string): number => parseIpv4Address(s)!;

describe("RoutingTable", () => {
  const table = (): RoutingTable => {
    const t = new RoutingTable([
      { name: "lan", address: ip("192.168.1.10"), prefixLength: 24 },
      { name: "wan", address: ip("203.0.113.5"), prefixLength: 29, mtu: 1492 },
    ]);
    t.add({ destination: 0, prefixLength: 0, gateway: ip("203.0.113.1") });
    t.add({ destination: ip("10.0.0.0"), prefixLength: 8, gateway: ip("192.168.1.1") });
    t.add({ destination: ip("10.1.0.0"), prefixLength: 16, gateway: ip("192.168.1.2"), source: ip("192.168.1.10") });
    t.add({ destination: ip("10.9.0.0"), prefixLength: 16, kind: "unreachable" });
    return t;
  };

  it("chooses the longest matching prefix, its interface, next hop and source", () => {
    const t = table();
    const pick = (d: string) => {
      const r = t.resolve(ip(d));
      return { iface: r.iface.name, nextHop: r.nextHop.v4Value, source: r.source.v4Value, mtu: r.iface.mtu };
    };
    expect(pick("192.168.1.77")).toEqual({ iface: "lan", nextHop: ip("192.168.1.77"), source: ip("192.168.1.10"), mtu: 1500 });
    expect(pick("10.2.3.4")).toEqual({ iface: "lan", nextHop: ip("192.168.1.1"), source: ip("192.168.1.10"), mtu: 1500 });
    expect(pick("10.1.3.4")).toEqual({ iface: "lan", nextHop: ip("192.168.1.2"), source: ip("192.168.1.10"), mtu: 1500 });
    expect(pick("8.8.8.8")).toEqual({ iface: "wan", nextHop: ip("203.0.113.1"), source: ip("203.0.113.5"), mtu: 1492 });
  });

  it("a repeated lookup of one address object sees routes added or changed since", () => {
    const t = table();
    const dst = IpAddress.v4(ip("10.1.2.3"));
    const first = t.lookup(dst);
    expect(first.ok && first.value.nextHop.toString()).toBe("192.168.1.2");
    expect(t.lookup(dst)).toBe(first); // the cached answer, frozen
    expect(Object.isFrozen(first)).toBe(true);
    t.add({ destination: ip("10.1.2.0"), prefixLength: 24, gateway: ip("192.168.1.3") });
    const second = t.lookup(dst);
    expect(second.ok && second.value.nextHop.toString()).toBe("192.168.1.3");
    t.change({ destination: ip("10.1.2.0"), prefixLength: 24, kind: "unreachable" });
    expect(t.lookup(dst)).toEqual({ ok: false, code: "EHOSTUNREACH" });
  });

  it("equal addresses held as different objects share one answer until the table changes", () => {
    const t = table();
    const a = t.lookup(IpAddress.v4(ip("10.1.2.3")));
    const other = IpAddress.v4(ip("8.8.8.8"));
    expect(t.lookup(other)).not.toBe(a); // the last-asked object changes
    const b = t.lookup(IpAddress.v4(ip("10.1.2.3"))); // a new object, an address asked before
    expect(b).toBe(a);
    t.add({ destination: ip("10.1.2.0"), prefixLength: 24, gateway: ip("192.168.1.3") });
    const c = t.lookup(IpAddress.v4(ip("10.1.2.3")));
    expect(c).not.toBe(a);
    expect(c.ok && c.value.nextHop.toString()).toBe("192.168.1.3");
    // IPv6 keys are strings: the same rule.
    const t6 = new RoutingTable([{ address: IpAddress.v6(0xfd000000, 0, 0, 1), prefixLength: 64 }]);
    const d = t6.lookup(IpAddress.v6(0xfd000000, 0, 0, 2));
    t6.lookup(IpAddress.v6(0xfd000000, 0, 0, 3));
    expect(t6.lookup(IpAddress.v6(0xfd000000, 0, 0, 2))).toBe(d);
  });

  it("an unreachable route gives EHOSTUNREACH; no route gives ENETUNREACH", () => {
    const t = table();
    expect(() => t.resolve(ip("10.9.1.1"))).toThrow(HostUnreachableError);
    const noDefault = new RoutingTable([{ address: A, prefixLength: 24 }]);
    expect(noDefault.lookup(ip("8.8.8.8"))).toEqual({ ok: false, code: "ENETUNREACH" });
    expect(() => noDefault.resolve(ip("8.8.8.8"))).toThrow(NetworkUnreachableError);
    try {
      noDefault.resolve(ip("8.8.8.8"));
    } catch (e) {
      expect((e as NetworkUnreachableError).code).toBe("ENETUNREACH");
    }
    expect(noDefault.resolve(B).source.v4Value).toBe(A);
  });

  it("among equal prefixes the route added first wins", () => {
    const t = new RoutingTable([{ address: A, prefixLength: 24 }]);
    t.add({ destination: ip("172.16.0.0"), prefixLength: 12, gateway: ip("10.0.0.254") });
    t.add({ destination: ip("172.16.0.0"), prefixLength: 12, gateway: ip("10.0.0.253") });
    expect(t.resolve(ip("172.16.5.5")).nextHop.v4Value).toBe(ip("10.0.0.254"));
  });

  it("refuses configurations that could never work", () => {
    expect(() => new RoutingTable([])).toThrow(RangeError);
    expect(() => new RoutingTable([{ address: A, prefixLength: 33 }])).toThrow(RangeError);
    expect(() => new RoutingTable([{ address: A, prefixLength: 24, mtu: 67 }])).toThrow(RangeError);
    const t = new RoutingTable([{ address: A, prefixLength: 24 }]);
    expect(() => t.add({ destination: 0, prefixLength: 0, gateway: ip("8.8.8.8") })).toThrow(/on no interface/);
    expect(() => t.add({ destination: 0, prefixLength: 0, interface: "nope" })).toThrow(/no interface/);
    expect(() => t.add({ destination: 0, prefixLength: 0, source: C })).toThrow(/not a local address/);
  });

  it("martian sources: 0/8, 127/8, 224/4 and the limited broadcast", () => {
    for (const s of ["0.0.0.0", "0.1.2.3", "127.0.0.1", "224.0.0.1", "239.255.255.255", "255.255.255.255"]) expect(isMartianSource(ip(s))).toBe(true);
    for (const s of ["10.0.0.1", "1.1.1.1", "223.255.255.255", "240.0.0.1"]) expect(isMartianSource(ip(s))).toBe(false);
  });
});

describe("Host addressing", () => {
  it("the simple `address` form reaches every destination over its one link", () => {
    const h = standalone(A);
    expect(h.host.address.v4Value).toBe(A);
    expect(h.host.route(ip("198.51.100.7")).source.v4Value).toBe(A);
    expect(h.host.routing.interfaces).toHaveLength(1);
  });

  it("with interfaces, packets to any local address are accepted and others dropped as not-for-us", () => {
    const h = standalone(B, { interfaces: [{ address: B, prefixLength: 24 }, { name: "eth1", address: C, prefixLength: 24 }] });
    const s = h.host.udp.bind(9);
    h.host.receive(0, udpPacket(A, B, 1, 9, pattern(1)));
    h.host.receive(0, udpPacket(A, C, 1, 9, pattern(2)));
    h.host.receive(0, udpPacket(A, ip("10.0.0.99"), 1, 9, pattern(3)));
    expect(s.recv()?.localAddress).toBe(B);
    expect(s.recv()?.localAddress).toBe(C);
    expect(s.recv()).toBeUndefined();
    expect(h.host.counters.drops["not-for-us"]).toBe(1);
    expect(h.host.counters.ip.inAddrErrors).toBe(1);
  });

  it("`address` must be one of the interfaces, and one of the two is required", () => {
    const rng = new SimRng(1);
    expect(() => new Host({ name: "x", rng, transmit: () => {} })).toThrow(RangeError);
    expect(() => new Host({ name: "x", rng, transmit: () => {}, address: C, interfaces: [{ address: A, prefixLength: 24 }] })).toThrow(RangeError);
    expect(new Host({ name: "x", rng, transmit: () => {}, interfaces: [{ address: A, prefixLength: 24 }] }).address.v4Value).toBe(A);
  });

  it("martian sources are dropped before any transport sees them", () => {
    const h = standalone(B);
    const s = h.host.udp.bind(9);
    h.host.receive(0, udpPacket(ip("127.0.0.1"), B, 1, 9, pattern(1)));
    expect(s.recv()).toBeUndefined();
    expect(h.host.counters.drops["martian-source"]).toBe(1);
    expect(h.sent).toHaveLength(0);
  });

  it("drops are traced with the nearest trace reason and the fine reason in the detail", () => {
    const hub = new TraceHub();
    const events: TraceEvent[] = [];
    hub.subscribe((e) => events.push(e));
    const traced = new Host({ name: "t", address: B, rng: new SimRng(3), transmit: () => {}, trace: hub });
    traced.receive(5, udpPacket(A, B, 1, 9, pattern(1)));
    const drops = events.filter((e) => e.type === "drop");
    expect(drops).toEqual([{ type: "drop", time: 5, host: "t", reason: "no-listener", detail: expect.stringMatching(/^no-port: UDP 10\.0\.0\.1:1 -> 10\.0\.0\.2:9/) }]);
    expect(traced.counters.drops["no-port"]).toBe(1);
  });
});

describe("TCP over the new IP layer", () => {
  it("connects across hosts configured with interfaces and routes", () => {
    const net = new SimNetwork({ seed: 4 });
    const mk = (name: string, address: number) =>
      net.addHost(name, address, (transmit, ctx) => new Host({ name, rng: ctx.rng, transmit, interfaces: [{ address, prefixLength: 24 }] })).endpoint;
    const a = mk("a", A);
    const b = mk("b", B);
    net.connect("a", "b", { delay: 5 });
    const l = b.tcp.listen(80);
    const c = a.tcp.connect({ localAddr: a.route(B).source, remoteAddr: IpAddress.v4(B), remotePort: 80 });
    net.runUntil(() => c.state === "ESTABLISHED", 1000);
    net.runFor(20);
    expect(l.accept()?.state).toBe("ESTABLISHED");
  });

  it("a TCP segment with no route is dropped and counted, never thrown", () => {
    const net = new SimNetwork({ seed: 4 });
    const a = net.addHost("a", A, (transmit, ctx) => new Host({ name: "a", rng: ctx.rng, transmit, interfaces: [{ address: A, prefixLength: 24 }] })).endpoint;
    const c = a.tcp.connect({ localAddr: IpAddress.v4(A), remoteAddr: IpAddress.v4(ip("8.8.8.8")), remotePort: 80 });
    expect(() => net.runFor(5000)).not.toThrow();
    expect(c.state).toBe("SYN_SENT");
    expect(a.counters.ip.outNoRoutes).toBeGreaterThan(0);
    expect(a.counters.drops["no-route"]).toBe(a.counters.ip.outNoRoutes);
  });
});
