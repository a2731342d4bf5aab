/**
 * Settings below TCP (a host's MTU and TTL, reassembly limits, a link's loss rate, a seed)
 * that are out of range are refused with a RangeError that carries the stable code of the
 * TCP settings' errors, so a program can switch on `code` whichever layer refused.
 */
import { describe, expect, it } from "vitest";
import { Host } from "../../src/host/host.js";
import { SimNetwork, SimRng } from "../../src/sim/index.js";

const refused = expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE", name: "InvalidSettingError" });
const host = (extra: object) => () => new Host({ name: "h", address: 0x0a000001, rng: new SimRng(1), transmit: () => {}, ...extra });

describe("settings below TCP out of range", () => {
  it.each([
    ["mtu 67", { mtu: 67 }],
    ["mtu NaN", { mtu: Number.NaN }],
    ["ttl 0", { ttl: 0 }],
    ["reassembly timeout 0", { reassembly: { timeout: 0 } }],
    ["reassembly maxDatagrams 1.5", { reassembly: { maxDatagrams: 1.5 } }],
    // Found by test/ip/host-options-fuzz.test.ts: each threw an uncoded TypeError, or was taken silently.
    ["routes -1", { routes: -1 }],
    ["a route that is null", { routes: [null] }],
    ["interfaces 5", { interfaces: 5 }],
    ["an interface named 7", { interfaces: [{ name: 7, address: 0x0a000001, prefixLength: 24 }] }],
    ["gsoMaxSize that cannot be converted", { gsoMaxSize: { toString: false } }],
    ["gsoMaxSize 1.5", { gsoMaxSize: 1.5 }],
    ["checksumOffload \"yes\"", { checksumOffload: "yes" }],
    ["a reassembly timeout that cannot be converted", { reassembly: { timeout: { toString: false } } }],
    ["an ICMP rate limit maxPeers that cannot be converted", { icmpRateLimit: { maxPeers: { toString: false } } }],
    ["an ICMP rate limit perPeerInterval \"1s\"", { icmpRateLimit: { perPeerInterval: "1s" } }],
    ["timerSlack NaN", { timerSlack: Number.NaN }],
    ["timerGranularity -1", { timerGranularity: -1 }],
    ["timerGranularity \"1\"", { timerGranularity: "1" }],
    // What a driver hands over: refused at construction, not at the first packet.
    ["no rng", { rng: undefined }],
    ["an rng without nextU32", { rng: { next: () => 0.5 } }],
    ["a transmit that is not a function", { transmit: "eth0" }],
    ["a name that is not a string", { name: 42 }],
  ])("a host with %s is refused with a RangeError coded ERR_INVALID_ARG_VALUE", (_what, extra) => {
    expect(host(extra)).toThrow(refused);
    expect(host(extra)).toThrow(RangeError);
  });

  it.each([
    ["receiveBufferSize that cannot be converted", { receiveBufferSize: { toString: false } }],
    ["pmtuDiscovery \"maybe\"", { pmtuDiscovery: "maybe" }],
    ["ttl 0", { ttl: 0 }],
  ])("a host whose UDP socket defaults have %s is refused with EINVAL", (_what, udp) => {
    expect(host({ udp })).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("a driver's clock reading must be a finite time, and a packet a Uint8Array", () => {
    const h = host({})();
    // poll(Infinity) fired every timer and its successor for ever: it hung.
    // Past 2^42 ms (MAX_CLOCK_MS) a timer re-armed a few ms later can land on the same
    // double and be due again at once: poll(1e20) with a connection open never returned.
    for (const now of [Number.NaN, -1, "5", undefined, Infinity, 2 ** 42 + 1, 1e20]) {
      expect(() => h.poll(now as number)).toThrow(refused);
      expect(() => h.receive(now as number, new Uint8Array(20))).toThrow(refused);
      expect(() => h.endBatch(now as number)).toThrow(refused);
    }
    for (const packet of [null, "x", [69, 0]]) expect(() => h.receive(1, packet as never)).toThrow(refused);
    expect(h.counters.packetsIn).toBe(0);
    h.poll(1);
    expect(h.nextDeadline()).toBeGreaterThan(1);
  });

  it("a link with a loss rate above 1, and a seed that is not a safe integer, too", () => {
    const net = new SimNetwork({ seed: 1 });
    net.addHost("a", 0x0a000001, (transmit, ctx) => new Host({ name: "a", address: 0x0a000001, rng: ctx.rng, transmit }));
    net.addHost("b", 0x0a000002, (transmit, ctx) => new Host({ name: "b", address: 0x0a000002, rng: ctx.rng, transmit }));
    expect(() => net.connect("a", "b", { loss: 1.5 })).toThrow(refused);
    expect(() => new SimRng(0.5)).toThrow(refused);
    // Found by test/sim/link-config-fuzz.test.ts: an uncoded TypeError each, or an array's filter method taken for a fault rule.
    expect(() => net.connect("a", "b", { loss: { toString: false } as never })).toThrow(refused);
    expect(() => net.connect("a", "b", [] as never)).toThrow(refused);
    expect(() => net.connect("a", "b", { filter: "drop" as never })).toThrow(refused);
    // A delay past the clock's end (MAX_CLOCK_MS) would have its packet polled in at 1e300 ms.
    expect(() => net.connect("a", "b", { delay: 1e300 })).toThrow(refused);
    expect(() => net.connect("a", "b", { jitter: 2 ** 43 })).toThrow(refused);
  });

  it.each([
    ["null", null],
    ["a delay of Infinity, past the clock's end", { delay: Infinity }],
  ])("a fault rule that answers something other than a verdict is refused when it answers: %s", (_what, verdict) => {
    const net = new SimNetwork({ seed: 1 });
    const a = net.addHost("a", 0x0a000001, (transmit, ctx) => new Host({ name: "a", address: 0x0a000001, rng: ctx.rng, transmit })).endpoint;
    net.addHost("b", 0x0a000002, (transmit, ctx) => new Host({ name: "b", address: 0x0a000002, rng: ctx.rng, transmit }));
    net.connect("a", "b", { filter: (() => verdict) as never });
    a.udp.open().send(new Uint8Array(1), { address: 0x0a000002, port: 9 });
    // The datagram leaves as the network runs; the rule answers then.
    expect(() => net.runFor(10)).toThrow(refused);
  });

  it("a simulated host whose name or address is taken is refused the same way", () => {
    const net = new SimNetwork({ seed: 1 });
    const make = (name: string, address: number) => net.addHost(name, address, (transmit, ctx) => new Host({ name, address, rng: ctx.rng, transmit }));
    make("a", 0x0a000001);
    expect(() => make("a", 0x0a000002)).toThrow(refused);
    expect(() => make("b", 0x0a000001)).toThrow(refused);
  });
});
