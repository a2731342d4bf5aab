/**
 * S7/S12: a SYN flood from spoofed addresses against a listener while legitimate clients
 * connect. With SYN cookies every legitimate client gets in and the listener's state stays
 * bounded; without them the SYN queue stays full and legitimate clients time out, which
 * is the failure the seed documents describe.
 */
import { IpAddress, parseIpAddress, type IpFamily } from "../../src/wire/address.js";
import { emitIpv6Header, IPV6_HEADER_LENGTH } from "../../src/wire/ipv6.js";
import { describe, expect, it } from "vitest";
import type { Endpoint, Transmit } from "../../src/endpoint.js";
import { Host } from "../../src/host/host.js";
import { SimNetwork, type SimRng } from "../../src/sim/index.js";
import type { Connection } from "../../src/tcp/connection.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { emitIpv4Header, IPV4_MIN_HEADER, parseIpv4Address, PROTO_TCP } from "../../src/wire/ipv4.js";
import { seq } from "../../src/wire/seq.js";
import { emitTcp, SYN } from "../../src/wire/tcp.js";

const ADDRESSES = {
  4: { server: IpAddress.v4(parseIpv4Address("10.0.0.2")!), clients: IpAddress.v4(parseIpv4Address("10.0.0.3")!), attacker: IpAddress.v4(parseIpv4Address("10.0.0.66")!) },
  6: { server: parseIpAddress("fd00::2")!, clients: parseIpAddress("fd00::3")!, attacker: parseIpAddress("fd00::66")! },
} as const;

/** Sends `total` SYNs from random spoofed sources, one every `interval` ms. Never answers anything. */
class SynFlooder implements Endpoint {
  sent = 0;
  private next = 0;
  constructor(
    private readonly transmit: Transmit,
    private readonly rng: SimRng,
    private readonly total: number,
    private readonly interval: number,
    private readonly server: IpAddress,
  ) {}
  receive(): void {}
  poll(now: number): void {
    while (this.sent < this.total && this.next <= now) {
      // A spoofed unicast source no host in the simulation has: 11.0.0.0 - 90.255.255.255,
      // or 2001:db8::/32 (RFC 3849) with random low bits.
      const dst = this.server;
      const v6 = dst.family === 6;
      const src = v6 ? IpAddress.v6(0x20010db8, this.rng.nextU32(), this.rng.nextU32(), this.rng.nextU32()) : IpAddress.v4((0x0b000000 + (this.rng.nextU32() % (80 * 2 ** 24))) >>> 0);
      const header = v6 ? IPV6_HEADER_LENGTH : IPV4_MIN_HEADER;
      const pkt = new Uint8Array(header + 24);
      if (v6) emitIpv6Header({ src, dst, nextHeader: PROTO_TCP, payloadLength: 24 }, pkt, 0);
      else emitIpv4Header({ src: src.w3, dst: dst.w3, protocol: PROTO_TCP, payloadLength: 24 }, pkt, 0);
      emitTcp(
        { srcPort: 1024 + (this.rng.nextU32() % 60000), dstPort: 80, seq: seq(this.rng.nextU32()), ack: seq(0), flags: SYN, window: 64240, urgentPointer: 0, options: { mss: 1460 }, payload: new Uint8Array(0) },
        pkt, header, { src, dst },
      );
      this.transmit(pkt);
      this.sent++;
      this.next += this.interval;
    }
  }
  nextDeadline(): number {
    return this.sent < this.total ? this.next : Infinity;
  }
}

function flood(serverTcp: Partial<TcpConfig>, family: IpFamily) {
  const { server: SERVER, clients: CLIENTS, attacker: ATTACKER } = ADDRESSES[family];
  const net = new SimNetwork({ seed: 12, maxEvents: 5_000_000 });
  const server = net.addHost("server", SERVER, (transmit, ctx) => new Host({ name: "server", address: SERVER, rng: ctx.rng, transmit, tcp: serverTcp })).endpoint;
  const clients = net.addHost("clients", CLIENTS, (transmit, ctx) => new Host({ name: "clients", address: CLIENTS, rng: ctx.rng, transmit })).endpoint;
  const flooder = net.addHost("attacker", ATTACKER, (transmit, ctx) => new SynFlooder(transmit, ctx.rng, 100_000, 1.5, SERVER)).endpoint;
  net.connect("clients", "server", { delay: 5 });
  net.connect("attacker", "server", { delay: 5 });
  const listener = server.tcp.listen(80, 4096);
  const accepted: Connection[] = [];
  listener.onConnection = () => {
    for (let c = listener.accept(); c !== undefined; c = listener.accept()) accepted.push(c);
  };
  const conns: Connection[] = [];
  for (let i = 0; i < 100; i++) {
    net.at(5_000 + i * 100, () => conns.push(clients.tcp.connect({ localAddr: CLIENTS, remoteAddr: SERVER, remotePort: 80 })));
  }
  let maxSynRcvd = 0;
  let maxConnections = 0;
  for (let t = 1_000; t <= 160_000; t += 1_000) {
    net.run({ until: t });
    // Every socket, half-open request records included (what `ss -tan` lists).
    const all = server.tcp.allSockets();
    maxConnections = Math.max(maxConnections, all.length);
    // S34: how many SYN_RCVD right now (what `netstat -n | grep SYN_RECV` counts).
    maxSynRcvd = Math.max(maxSynRcvd, all.filter((s) => s.info.state === "SYN_RCVD").length);
  }
  return { net, server, flooder, listener, conns, accepted, maxSynRcvd, maxConnections };
}

describe.each([4, 6] as const)("SYN flood over IPv%i (S7, S12, S34)", (family) => {
  it("with SYN cookies every legitimate client connects and the listener's state stays bounded", () => {
    const r = flood({ synCookies: "overflow" }, family);
    expect(r.flooder.sent).toBe(100_000);
    expect(r.conns).toHaveLength(100);
    expect(r.conns.filter((c) => c.state === "ESTABLISHED")).toHaveLength(100);
    expect(r.accepted).toHaveLength(100);
    expect(r.maxSynRcvd).toBe(1024); // the queue was full: the flood worked
    expect(r.maxConnections).toBeLessThanOrEqual(1024 + 100);
    expect(r.listener.cookiesSent).toBeGreaterThan(90_000);
    expect(r.listener.cookiesAccepted).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("without SYN cookies the queue stays full and legitimate clients time out (the documented failure)", () => {
    const r = flood({ synCookies: "never" }, family);
    expect(r.maxSynRcvd).toBe(1024);
    expect(r.listener.synQueueDrops).toBeGreaterThan(90_000);
    expect(r.conns.filter((c) => c.error?.code === "ETIMEDOUT").length).toBeGreaterThanOrEqual(95);
    expect(r.accepted.length).toBeLessThanOrEqual(5);
  }, 120_000);
});
