/**
 * Path MTU: the search of RFC 4821 as Linux runs it (tcp_mtu_probing), the per-destination
 * cache of MTUs learned from ICMP (RFC 1191 6.3, RFC 8201 5.3) and route metrics
 * (`ip route ... mtu lock / advmss / initcwnd`).
 */
import { describe, expect, it } from "vitest";
import { LINUX_DEFAULTS, resolveConfig, type TcpConfig } from "../../src/tcp/config.js";
import { MtuProber, type ProbeChance } from "../../src/tcp/mtu-probe.js";
import { PathMtuCache } from "../../src/ip/path-mtu.js";
import { RoutingTable } from "../../src/ip/routing.js";
import type { Seq } from "../../src/wire/seq.js";
import { familyPair, ip } from "../ipv6/helpers.js";
import { transferOverNarrowPath } from "./narrow-path.js";

const cfg = (over: Partial<TcpConfig> = {}): TcpConfig => resolveConfig({ ...over });

/** Plenty of everything: a probe may go if the search wants one. */
const roomy = (mss: number, over: Partial<ProbeChance> = {}): ProbeChance => ({
  cwnd: 20 * mss, pipe: 0, mss, unsent: 100_000, windowLeft: 100_000, sndWnd: 100_000, reordering: 3, calm: true, ...over,
});

describe("MtuProber: the search (Linux tcp_mtu_probe)", () => {
  it("spans the base MSS to the peer's MSS and probes halfway, as tcp_mtu_probing=2 does", () => {
    const p = new MtuProber(cfg({ mtuProbing: 2, baseMss: 512 }));
    p.start(0, 1460, 0);
    expect([p.searchLow, p.searchHigh]).toEqual([552, 1500]);
    expect(p.limit(600)).toBe(512); // while searching, segments stay within what is known to work
    expect(p.probeSize(0, roomy(600))).toBe(986); // (1500 + 552) / 2 - 40
  });

  it("is off unless tcp_mtu_probing is 2 (or a black hole turned it on)", () => {
    const p = new MtuProber(cfg({ mtuProbing: 1 }));
    p.start(0, 1460, 0);
    expect(p.enabled).toBe(false);
    expect(p.probeSize(0, roomy(600))).toBe(0);
    expect(p.limit(1460)).toBe(1460);
  });

  it.each<[string, Partial<ProbeChance>]>([
    ["a window under 11 segments", { cwnd: 10 * 600 }],
    ["too little data behind the probe", { unsent: 986 + 4 * 600 - 1 }],
    ["a peer window too small", { sndWnd: 3000 }],
    ["no room in cwnd for the probe and one more", { pipe: 19 * 600 }],
    ["recovery or SACK blocks in flight", { calm: false }],
  ])("waits with %s", (_what, over) => {
    const p = new MtuProber(cfg({ mtuProbing: 2, baseMss: 512 }));
    p.start(0, 1460, 0);
    expect(p.probeSize(0, roomy(600, over))).toBe(0);
  });

  it("raises the low end when a probe arrives and lowers the high end when one is lost", () => {
    const p = new MtuProber(cfg({ mtuProbing: 2, baseMss: 512 }));
    p.start(0, 1460, 0);
    p.onProbeSent(0, 1 as Seq, 987 as Seq, 986);
    expect(p.probeMtu).toBe(1026);
    expect(p.succeeded(10)).toBe(1026);
    expect([p.searchLow, p.probeMtu]).toEqual([1026, 0]);
    expect(p.probeSize(10, roomy(986))).toBe(1223); // (1500 + 1026) / 2 - 40
    p.onProbeSent(10, 1 as Seq, 1224 as Seq, 1223);
    p.failed(20);
    expect(p.searchHigh).toBe(1262);
  });

  it("stops when the range is narrower than tcp_probe_threshold and starts over after tcp_probe_interval", () => {
    const p = new MtuProber(cfg({ mtuProbing: 2, probeThreshold: 8, probeInterval: 600_000 }));
    p.start(0, 1460, 0);
    p.searchLow = 1495;
    expect(p.probeSize(1000, roomy(1455))).toBe(0);
    expect(p.searchHigh).toBe(1500);
    p.searchHigh = 1496;
    expect(p.probeSize(600_001, roomy(1455))).toBe(0); // the restart itself sends nothing
    expect(p.searchHigh).toBe(1500);
  });

  it("on a suspected black hole: starts the search, then halves the low end down to the floor", () => {
    const p = new MtuProber(cfg({ mtuProbing: 1, baseMss: 1024, mtuProbeFloor: 48 }));
    p.start(0, 1460, 12);
    expect(p.onBlackHole(5)).toBe(true);
    expect(p.enabled).toBe(true);
    expect(p.limit(1448)).toBe(1024);
    p.onBlackHole(6);
    expect(p.limit(1448)).toBe(512);
    for (let i = 0; i < 10; i++) p.onBlackHole(7 + i);
    expect(p.limit(1448)).toBe(48);
    expect(new MtuProber(cfg({ mtuProbing: 0 })).onBlackHole(0)).toBe(false);
  });

  it("suspects a black hole after as long as tcp_retries1 = 3 backed-off timeouts from 200 ms take", () => {
    expect(MtuProber.blackHoleSuspected(2999)).toBe(false);
    expect(MtuProber.blackHoleSuspected(3000)).toBe(true);
  });

  it("has Linux's defaults: off, base MSS 1024, floor 48, threshold 8, re-probe after 10 minutes", () => {
    const { mtuProbing, baseMss, mtuProbeFloor, probeThreshold, probeInterval } = LINUX_DEFAULTS;
    expect({ mtuProbing, baseMss, mtuProbeFloor, probeThreshold, probeInterval }).toEqual({ mtuProbing: 0, baseMss: 1024, mtuProbeFloor: 48, probeThreshold: 8, probeInterval: 600_000 });
    expect(() => resolveConfig({ mtuProbing: 3 as 2 })).toThrow(/mtuProbing/);
  });
});

describe("PathMtuCache: MTUs learned from ICMP, per destination", () => {
  const table = () => {
    const r = new RoutingTable([{ address: ip("10.0.0.1"), prefixLength: 24, mtu: 1500 }]);
    return { r, cache: new PathMtuCache(r, 600_000) };
  };

  it("lowers the path of one destination only, never below 552, and never raises it", () => {
    const { cache } = table();
    expect(cache.learn(ip("10.0.0.2"), 1400, 0)).toBe(1400);
    expect(cache.lookup(ip("10.0.0.2"), 1).mtu).toBe(1400);
    expect(cache.lookup(ip("10.0.0.3"), 1).mtu).toBe(1500);
    expect(cache.learn(ip("10.0.0.2"), 1450, 2)).toBe(1400);
    expect(cache.learn(ip("10.0.0.2"), 100, 3)).toBe(552);
  });

  it("forgets a learned MTU after 10 minutes (RFC 1191 6.3), bumping the generation so connections re-read", () => {
    const { cache } = table();
    cache.learn(ip("10.0.0.2"), 1400, 0);
    const gen = cache.generation;
    cache.expire(599_999);
    expect(cache.generation).toBe(gen);
    cache.expire(600_000);
    expect(cache.generation).toBe(gen + 1);
    expect(cache.lookup(ip("10.0.0.2"), 600_000).mtu).toBe(1500);
    expect(cache.size).toBe(0);
  });

  it("ignores ICMP for a route whose MTU is locked, and takes the route's MTU over the interface's", () => {
    const { r, cache } = table();
    r.change({ destination: ip("10.0.0.2"), prefixLength: 32, metrics: { mtu: 1300, mtuLocked: true } });
    expect(cache.lookup(ip("10.0.0.2"), 0).mtu).toBe(1300);
    expect(cache.learn(ip("10.0.0.2"), 1000, 0)).toBe(1300);
    expect(() => r.change({ destination: ip("10.0.0.2"), prefixLength: 32, metrics: { mtu: 20 } })).toThrow(/at least 68/);
    expect(r.routes.filter((x) => x.prefix.length === 32)).toHaveLength(1);
  });
});

/** a sends `bytes` to b over a path whose a->b direction carries at most `mtu` bytes. */
const transfer = (pathMtu: number, bytes: number, tcp: Partial<TcpConfig>, mtuErrors: boolean, runFor = 20_000) =>
  transferOverNarrowPath({ pathMtu, bytes, tcp, mtuErrors, runFor });

describe("black holes: a path that drops big packets and says nothing (RFC 4821)", () => {
  it("stalls without probing (tcp_mtu_probing=0): nothing gets through", () => {
    const t = transfer(1400, 100_000, {}, false, 10_000);
    expect(t.received()).toBe(0);
    expect(t.conn.sendMss).toBe(1448);
  });

  it("recovers with tcp_mtu_probing=1: after 3 s of timeouts segments shrink to the base MSS, then the search climbs", () => {
    const t = transfer(1400, 400_000, { mtuProbing: 1 }, false, 30_000);
    expect(t.received()).toBe(400_000);
    const shrink = t.probes.find((e) => e.detail.startsWith("black hole suspected"));
    expect(shrink?.detail).toMatch(/segments shrink to 1024 bytes/);
    expect(shrink!.time).toBeGreaterThanOrEqual(3000);
    expect(shrink!.time).toBeLessThan(4000);
    expect(t.probes.some((e) => /acknowledged/.test(e.detail))).toBe(true);
    expect(t.probes.some((e) => /lost/.test(e.detail))).toBe(true);
    // The search ends within tcp_probe_threshold of the path: 1,400 less headers and timestamps.
    expect(t.conn.sendMss).toBeGreaterThan(1400 - 52 - 8);
    expect(t.conn.sendMss).toBeLessThanOrEqual(1400 - 52);
  });
});

describe("the path MTU is per destination, and connections share it", () => {
  it("a second connection to the same host starts with the MTU the first learned", () => {
    const t = transfer(1200, 20_000, {}, true, 3000);
    expect(t.received()).toBe(20_000);
    expect(t.a.pathMtus.lookup(t.B, 3000).mtu).toBe(1200);
    const second = t.a.tcp.connect({ localAddr: t.conn.tuple.localAddr, remoteAddr: t.B, remotePort: 80 });
    expect(second.path.announcedMss(0)).toBe(1160);
  });

  it("route metrics: advmss is what the SYN announces, initcwnd the first window", () => {
    const pair = familyPair(4);
    pair.a.routing.change({ destination: pair.B, prefixLength: 32, metrics: { advmss: 600, initcwnd: 20 } });
    const listener = pair.b.tcp.listen(80);
    const conn = pair.a.tcp.connect({ localAddr: pair.A, remoteAddr: pair.B, remotePort: 80 });
    pair.net.runFor(100);
    const server = listener.accept();
    expect(server?.sendMss).toBe(600 - 12); // b sends segments as small as a's SYN asked
    expect(conn.sendMss).toBe(1460 - 12); // a's own segments follow the path, not its advmss (Linux tcp_sync_mss)
    expect(conn.congestion.cwnd).toBe(20 * conn.sendMss);
  });
});
