/**
 * A host's datagrams to its own addresses (loopback.ts): delivered to its own input in
 * the same instant, never handed to the link, as Linux routes them through lo. And the
 * other side of that rule: a packet from the link whose source is one of our addresses
 * (a LAND attack, a spoofed source) is a martian, as Linux's fib_validate_source says
 * with accept_local=0.
 */
import { describe, expect, it } from "vitest";
import { ACK, emitTcp, SYN, type TcpSegment } from "../../src/wire/tcp.js";
import { emitIpv4Header, PROTO_TCP } from "../../src/wire/ipv4.js";
import { parseIpAddress, type IpAddress } from "../../src/wire/address.js";
import { Host } from "../../src/host/host.js";
import { LOOPBACK_BUDGET, LoopbackQueue } from "../../src/ip/loopback.js";
import { SimRng } from "../../src/sim/rng.js";
import { A, B, pattern, standalone } from "./helpers.js";
import type { Seq } from "../../src/wire/seq.js";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** An IPv4 packet carrying `seg` from src to dst, checksums right. */
function tcpPacket(src: number, dst: number, seg: TcpSegment): Uint8Array {
  const tcpLength = 20 + seg.payload.length + (seg.options.mss !== undefined ? 4 : 0);
  const packet = new Uint8Array(20 + tcpLength);
  emitIpv4Header({ src, dst, protocol: PROTO_TCP, payloadLength: tcpLength }, packet, 0);
  emitTcp(seg, packet, 20, { src, dst });
  return packet;
}

/** A host with 10.0.0.2 and 192.168.7.2, and what it sends to the link. */
function twoAddresses(): { host: Host; sent: Uint8Array[]; second: IpAddress } {
  const second = parseIpAddress("192.168.7.2")!;
  const sent: Uint8Array[] = [];
  const host = new Host({
    name: "h", rng: new SimRng(3), transmit: (p) => sent.push(p),
    interfaces: [{ address: B, prefixLength: 24 }, { address: second, prefixLength: 24 }],
  });
  return { host, sent, second };
}

const syn = (srcPort: number, dstPort: number): TcpSegment => ({
  srcPort, dstPort, seq: 1000 as Seq, ack: 0 as Seq, flags: SYN, window: 65535, urgentPointer: 0, options: { mss: 1460 }, payload: new Uint8Array(0),
});

describe("datagrams to our own address (Linux: through lo)", () => {
  it("a TCP connection to the host's own address opens, carries data both ways and closes without one packet reaching the link", () => {
    const h = standalone(B);
    const listener = h.host.tcp.listen(80);
    const client = h.host.tcp.connect({ localAddr: h.host.address, remoteAddr: h.host.address, remotePort: 80 });
    client.send(pattern(100_000, 1));
    h.host.poll(0);
    const server = listener.accept()!;
    expect(server.state).toBe("ESTABLISHED");
    expect(client.state).toBe("ESTABLISHED");
    server.send(new TextEncoder().encode("hello, self"));
    h.host.poll(1);
    let got = 0;
    for (let d = server.read(); d.length > 0; d = server.read()) got += d.length;
    expect(got).toBe(100_000);
    expect(text(client.read())).toBe("hello, self");
    client.close();
    h.host.poll(2);
    server.close();
    h.host.poll(3);
    expect(client.state).toBe("TIME_WAIT");
    expect(server.state).toBe("CLOSED");
    expect(h.sent).toEqual([]);
    expect(h.host.counters.packetsOut).toBe(0);
    expect(h.host.nextDeadline()).toBeGreaterThan(3); // nothing left due now
  });

  it("a UDP datagram to our own address comes back to our socket", () => {
    const h = standalone(B);
    const server = h.host.udp.bind(9);
    h.host.udp.open().send(new TextEncoder().encode("ping"), { address: h.host.address, port: 9 });
    h.host.poll(0);
    const m = server.recv()!;
    expect(text(m.data)).toBe("ping");
    expect(m.address).toBe(B);
    expect(h.sent).toEqual([]);
  });

  it("a host with two addresses reaches the second from the first locally", () => {
    const { host, sent } = twoAddresses();
    const listener = host.tcp.listen(80);
    host.tcp.connect({ localAddr: host.address, remoteAddr: host.routing.interfaces[1]!.address, remotePort: 80 });
    host.poll(0);
    expect(listener.accept()?.state).toBe("ESTABLISHED");
    expect(sent).toEqual([]);
  });
});

describe("the loopback queue's bounds", () => {
  it("two sockets that answer each other for ever get LOOPBACK_BUDGET datagrams a call; the rest stays due at once and the next call goes on", () => {
    const h = standalone(B);
    const ping = h.host.udp.bind(1);
    const pong = h.host.udp.bind(2);
    let bounces = 0;
    const bounce = (from: typeof ping, to: number) => () => {
      for (let m = from.recv(); m !== undefined; m = from.recv()) {
        bounces++;
        from.send(m.data, { address: h.host.address, port: to });
      }
    };
    ping.onWake = bounce(ping, 2);
    pong.onWake = bounce(pong, 1);
    ping.send(new Uint8Array([1]), { address: h.host.address, port: 2 });
    h.host.poll(0);
    expect(bounces).toBe(LOOPBACK_BUDGET);
    expect(h.host.nextDeadline()).toBe(0);
    h.host.poll(0);
    expect(bounces).toBe(2 * LOOPBACK_BUDGET);
    expect(h.sent).toEqual([]);
  });

  it("keeps order across its compaction (a queue that never empties)", () => {
    const q = new LoopbackQueue();
    const out: number[] = [];
    let next = 0;
    for (; next < 10; next++) q.push(new Uint8Array([next & 0xff, next >> 8]), next);
    // Each delivery pushes one more, so the queue holds 10 for 10,000 deliveries.
    for (let i = 0; i < 10_000; i++) {
      q.deliverOne((p, gso) => {
        expect(p[0]! | (p[1]! << 8)).toBe(gso);
        out.push(gso);
      });
      q.push(new Uint8Array([next & 0xff, next >> 8]), next);
      next++;
    }
    expect(out).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    let left = 0;
    while (q.deliverOne(() => left++));
    expect(left).toBe(10);
    expect(q.isEmpty).toBe(true);
  });
});

describe("the loopback interface (Linux lo: 127.0.0.0/8 and ::1)", () => {
  it("a connection to 127.0.0.1 leaves from 127.0.0.1, with lo's MTU, and a listener on every address takes it; nothing reaches the link", () => {
    const h = standalone(B);
    const listener = h.host.tcp.listen(80);
    const lo = parseIpAddress("127.0.0.1")!;
    expect(h.host.route(lo)).toMatchObject({ local: true, source: lo, iface: { name: "lo", mtu: 65535 } });
    const client = h.host.tcp.connect({ localAddr: lo, remoteAddr: lo, remotePort: 80 });
    h.host.poll(0);
    const server = listener.accept()!;
    expect(server.state).toBe("ESTABLISHED");
    expect(client.sendMss).toBe(65535 - 40 - 12); // timestamps on
    expect(h.host.route(parseIpAddress("127.9.9.9")!).local).toBe(true); // the whole /8, as Linux's local route
    expect(h.sent).toEqual([]);
  });

  it("::1 the same over IPv6", () => {
    const h = standalone(B);
    const listener = h.host.tcp.listen(80);
    const lo = parseIpAddress("::1")!;
    h.host.tcp.connect({ localAddr: lo, remoteAddr: lo, remotePort: 80 });
    h.host.poll(0);
    expect(listener.accept()?.state).toBe("ESTABLISHED");
    expect(h.sent).toEqual([]);
  });

  it("from a link, a packet to 127.0.0.1 or from it is a martian (Linux route_localnet=0), and nothing answers it", () => {
    const h = standalone(B);
    h.host.tcp.listen(80);
    const lo = parseIpAddress("127.0.0.1")!.v4Value!;
    h.host.receive(0, tcpPacket(A, lo, syn(40000, 80)));
    h.host.receive(0, tcpPacket(lo, B, syn(40001, 80)));
    expect(h.take()).toEqual([]);
    expect(h.host.counters.drops["not-for-us"]).toBe(1);
    expect(h.host.counters.drops["martian-source"]).toBe(1);
  });
});

describe("our own address as the source of a packet from the link: a martian (Linux fib_validate_source, accept_local=0)", () => {
  it("a LAND SYN (source = destination = us) gets no answer and is counted", () => {
    const h = standalone(B);
    h.host.tcp.listen(80);
    h.host.receive(0, tcpPacket(B, B, syn(80, 80)));
    expect(h.take()).toEqual([]);
    expect(h.host.counters.drops["martian-source"]).toBe(1);
    expect(h.host.tcp.allConnections()).toEqual([]);
    // The same SYN from another address is answered: it was the source that mattered.
    h.host.receive(1, tcpPacket(A, B, syn(40000, 80)));
    const [synAck] = h.take();
    expect(synAck).toBeDefined();
  });

  it("with two addresses, a packet to one from the other is a martian too", () => {
    const { host, sent, second } = twoAddresses();
    host.tcp.listen(80);
    host.receive(0, tcpPacket(second.v4Value!, B, syn(40000, 80)));
    expect(sent).toEqual([]);
    expect(host.counters.drops["martian-source"]).toBe(1);
  });

  it("an ACK with our address as its source resets nothing", () => {
    const h = standalone(B);
    h.host.tcp.listen(80);
    h.host.receive(0, tcpPacket(B, B, { ...syn(80, 81), flags: ACK, ack: 5 as Seq, options: {} }));
    expect(h.take()).toEqual([]);
  });
});
