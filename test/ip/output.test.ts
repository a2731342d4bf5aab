/**
 * IPv4 output (RFC 791 3.2, RFC 1122 3.3.3, RFC 6864): the DF policy, identification,
 * fragmentation, and what is refused.
 */
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { DropRecorder } from "../../src/ip/drops.js";
import { IpOutput, type FragmentPolicy } from "../../src/ip/output.js";
import { RoutingTable } from "../../src/ip/routing.js";
import { newIpStats } from "../../src/ip/stats.js";
import { NULL_SINK } from "../../src/trace/events.js";
import { parseIpv4 } from "../../src/wire/ipv4.js";
import { A, B, header, pattern } from "./helpers.js";

function setup(mtu = 1500) {
  const sent: Uint8Array[] = [];
  const routing = new RoutingTable([{ address: A, prefixLength: 24, mtu }]);
  const stats = newIpStats();
  const counts = {};
  const out = new IpOutput({ routing, transmit: (p) => sent.push(p), drops: new DropRecorder("t", NULL_SINK, counts), stats, ttl: 64, firstId: 0xfffe });
  const send = (length: number, policy: FragmentPolicy, extra: { allowOversize?: boolean; dst?: number } = {}) =>
    out.send(0, {
      dst: IpAddress.v4(extra.dst ?? B), protocol: 253, payloadLength: length, policy,
      writePayload: (buf, offset) => buf.set(pattern(length), offset),
      ...(extra.allowOversize !== undefined ? { allowOversize: extra.allowOversize } : {}),
    });
  return { sent, stats, counts, send };
}

describe("DF policy (Linux IP_MTU_DISCOVER)", () => {
  it("\"want\": DF when it fits, fragments with DF clear when it does not", () => {
    const { sent, send } = setup();
    expect(send(1480, "want")).toEqual({ ok: true, source: IpAddress.v4(A), fragments: 1 });
    expect(send(1481, "want")).toEqual({ ok: true, source: IpAddress.v4(A), fragments: 2 });
    expect(sent.map((p) => header(p).dontFragment)).toEqual([true, false, false]);
  });

  it("\"dont\": never DF", () => {
    const { sent, send } = setup();
    send(100, "dont");
    expect(header(sent[0]!).dontFragment).toBe(false);
  });

  it("\"do\": over the MTU is EMSGSIZE and counted, unless oversize is allowed (TCP)", () => {
    const { sent, stats, counts, send } = setup();
    expect(send(1481, "do")).toEqual({ ok: false, code: "EMSGSIZE", mtu: 1500 });
    expect(stats.fragFails).toBe(1);
    expect(counts).toEqual({ "too-big": 1 });
    expect(send(1481, "do", { allowOversize: true }).ok).toBe(true);
    expect(stats.outOversize).toBe(1);
    expect(sent).toHaveLength(1);
    expect(header(sent[0]!)).toMatchObject({ totalLength: 1501, dontFragment: true });
  });

  it("nothing beyond 65,535 bytes leaves, whatever the policy", () => {
    const { sent, send } = setup(9000);
    expect(send(65_516, "want")).toMatchObject({ ok: false, code: "EMSGSIZE" });
    expect(send(65_515, "want").ok).toBe(true);
    expect(sent.length).toBeGreaterThan(1);
  });

  it("no route: ENETUNREACH, counted in outNoRoutes", () => {
    const { stats, send } = setup();
    expect(send(10, "want", { dst: 0x08080808 })).toEqual({ ok: false, code: "ENETUNREACH", mtu: 0 });
    expect(stats.outNoRoutes).toBe(1);
  });
});

describe("identification and fragments", () => {
  it("one ID per datagram, shared by its fragments, wrapping at 16 bits", () => {
    const { sent, send } = setup(576);
    send(2000, "want");
    send(10, "want");
    send(10, "want");
    const ids = sent.map((p) => header(p).id);
    expect(ids).toEqual([0xfffe, 0xfffe, 0xfffe, 0xfffe, 0xffff, 0]);
  });

  it("fragments carry the payload in order at offsets in 8-byte units, checksums valid", () => {
    const { sent, stats, send } = setup(576);
    send(2000, "want");
    let joined = new Uint8Array(0);
    for (const p of sent) {
      const ip = parseIpv4(p);
      expect(ip.ok).toBe(true);
      if (!ip.ok) continue;
      expect(ip.value.header.fragmentOffset).toBe(joined.length);
      expect(ip.value.header.fragmentOffset % 8).toBe(0);
      const next = new Uint8Array(joined.length + ip.value.payload.length);
      next.set(joined);
      next.set(ip.value.payload, joined.length);
      joined = next;
    }
    expect(joined).toEqual(pattern(2000));
    expect(stats).toMatchObject({ fragOks: 1, fragCreates: 4 });
  });

  it("TTL 64 by default (Linux ip_default_ttl)", () => {
    const { sent, send } = setup();
    send(1, "want");
    expect(header(sent[0]!).ttl).toBe(64);
  });
});

describe("checksum offload (in-memory links)", () => {
  it("two hosts with checksumOffload exchange TCP data with zero TCP checksums; a normal host drops such segments", async () => {
    const { SimNetwork } = await import("../../src/sim/index.js");
    const { Host } = await import("../../src/host/host.js");
    const { parseIpv4Address } = await import("../../src/wire/ipv4.js");
    const a = parseIpv4Address("10.0.0.1")!;
    const b = parseIpv4Address("10.0.0.2")!;
    const run = (offloadServer: boolean) => {
      const net = new SimNetwork({ seed: 1, packetLog: true });
      const client = net.addHost("a", a, (transmit, ctx) => new Host({ name: "a", address: a, rng: ctx.rng, transmit, checksumOffload: true })).endpoint;
      const server = net.addHost("b", b, (transmit, ctx) => new Host({ name: "b", address: b, rng: ctx.rng, transmit, checksumOffload: offloadServer })).endpoint;
      net.connect("a", "b", { delay: 1 });
      const l = server.tcp.listen(80);
      const c = client.tcp.connect({ localAddr: IpAddress.v4(a), remoteAddr: IpAddress.v4(b), remotePort: 80 });
      net.runFor(100);
      return { c, l, net, server };
    };
    const ok = run(true);
    expect(ok.c.state).toBe("ESTABLISHED");
    const syn = ok.net.packetLog.find((e) => e.event === "send" && e.from === "a")!;
    expect((syn.bytes[20 + 16]! << 8) | syn.bytes[20 + 17]!).toBe(0); // TCP checksum left zero
    const strict = run(false);
    expect(strict.c.state).toBe("SYN_SENT");
    expect(strict.server.counters.drops["bad-checksum"]).toBeGreaterThan(0);
  });
});
