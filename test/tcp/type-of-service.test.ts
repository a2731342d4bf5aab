/**
 * IP_TOS / IPV6_TCLASS (RFC 2474's DSCP): a connection's or listener's type of service is
 * the TOS byte (IPv4) or traffic class (IPv6) of every packet it sends, its ECN bits left
 * to TCP (RFC 3168 6.1.1). Two hosts back to back in virtual time, every packet captured
 * raw, so the byte on the wire is what is checked.
 */
import { describe, expect, it } from "vitest";
import { Host } from "../../src/host/host.js";
import { SimRng } from "../../src/sim/rng.js";
import type { Connection } from "../../src/tcp/connection.js";
import { InvalidArgumentError } from "../../src/tcp/errors.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { parseIpAddress, type IpAddress } from "../../src/wire/address.js";
import { emitIpv4Header, parseIpv4 } from "../../src/wire/ipv4.js";
import { emitIpv6Header, parseIpv6 } from "../../src/wire/ipv6.js";
import { emitTcp, headerLength, parseTcp, SYN, ACK, FIN, RST, type TcpSegment } from "../../src/wire/tcp.js";

interface Sent {
  from: "client" | "server";
  /** The TOS byte or traffic class. */
  tos: number;
  seg: TcpSegment;
  raw: Uint8Array;
}

/**
 * The TOS byte and TCP segment of a raw packet, its checksums verified but a super-packet's
 * TCP checksum (longer than the MTU), which holds only the pseudo-header sum the link completes.
 */
function decode(p: Uint8Array): { tos: number; seg: TcpSegment } {
  if (p[0]! >>> 4 === 4) {
    const ip = parseIpv4(p, { verifyChecksum: true });
    if (!ip.ok) throw new Error(ip.reason);
    const h = ip.value.header;
    const pseudo = p.length > 1500 ? null : { src: parseIpAddress(ipv4Text(h.src))!, dst: parseIpAddress(ipv4Text(h.dst))! };
    const t = parseTcp(ip.value.payload, pseudo);
    if (!t.ok) throw new Error(t.reason);
    return { tos: h.tos, seg: t.value };
  }
  const ip = parseIpv6(p);
  if (!ip.ok) throw new Error(ip.reason);
  const t = parseTcp(ip.value.payload, { src: ip.value.header.src, dst: ip.value.header.dst });
  if (!t.ok) throw new Error(t.reason);
  return { tos: ip.value.header.trafficClass, seg: t.value };
}

function ipv4Text(v: number): string {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join(".");
}

/** A client and a server host wired back to back, 1 ms a hop; every packet is kept in `sent`. */
function wire(family: 4 | 6, opts: { tcp?: Partial<TcpConfig>; gsoMaxSize?: number } = {}) {
  const a: IpAddress = parseIpAddress(family === 4 ? "10.0.0.1" : "fd00::1")!;
  const b: IpAddress = parseIpAddress(family === 4 ? "10.0.0.2" : "fd00::2")!;
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const sent: Sent[] = [];
  const rng = new SimRng(21);
  const extra = { ...(opts.tcp ? { tcp: opts.tcp } : {}), ...(opts.gsoMaxSize ? { gsoMaxSize: opts.gsoMaxSize } : {}) };
  const client = new Host({ name: "c", address: a, rng: rng.fork("c"), transmit: (p) => toServer.push(p), ...extra });
  const server = new Host({ name: "s", address: b, rng: rng.fork("s"), transmit: (p) => toClient.push(p), ...extra });
  let t = 0;
  const settle = (): void => {
    for (let quiet = 0; quiet < 5; ) {
      t += 1;
      const moved = toServer.length + toClient.length;
      for (const p of toServer.splice(0)) {
        sent.push({ from: "client", ...decode(p), raw: p.slice() });
        server.receive(t, p);
      }
      for (const p of toClient.splice(0)) {
        sent.push({ from: "server", ...decode(p), raw: p.slice() });
        client.receive(t, p);
      }
      client.poll(t);
      server.poll(t);
      quiet = moved === 0 && toServer.length + toClient.length === 0 ? quiet + 1 : 0;
    }
  };
  return { a, b, client, server, sent, settle, toClient, now: () => t };
}

const ECN_FIELD = 3;

describe("type of service on the wire", () => {
  for (const family of [4, 6] as const) {
    it(`marks every packet of a connection from its SYN on, and the ECN bits stay TCP's (IPv${family})`, () => {
      const w = wire(family, { tcp: { ecn: 1 } });
      const listener = w.server.tcp.listen(80);
      const c = w.client.tcp.connect({ localAddr: w.a, remoteAddr: w.b, remotePort: 80 });
      c.setTypeOfService(0xbb); // EF (46 << 2) with both ECN bits, which are dropped
      expect(c.typeOfService).toBe(0xb8);
      w.settle();
      const s = listener.accept()!;
      c.send(new Uint8Array(3000).fill(1));
      w.settle();
      s.send(new Uint8Array(100).fill(2));
      w.settle();
      const fromClient = w.sent.filter((p) => p.from === "client");
      expect(fromClient[0]!.seg.flags & SYN).toBe(SYN);
      expect(fromClient.length).toBeGreaterThan(3);
      for (const p of fromClient) expect(p.tos & ~ECN_FIELD).toBe(0xb8);
      // ECN was negotiated: new data is ECT(0) under the DSCP, pure ACKs are not ECN-capable.
      const data = fromClient.filter((p) => p.seg.payload.length > 0);
      expect(data.length).toBeGreaterThan(0);
      for (const p of data) expect(p.tos).toBe(0xba);
      expect(fromClient.filter((p) => p.seg.payload.length === 0 && (p.seg.flags & SYN) === 0).every((p) => p.tos === 0xb8)).toBe(true);
      // The server set nothing: its packets carry no DSCP.
      for (const p of w.sent.filter((q) => q.from === "server")) expect(p.tos & ~ECN_FIELD).toBe(0);
    });
  }

  it("a TIME_WAIT record re-ACKs a retransmitted FIN with the connection's value (Linux tw_tos)", () => {
    const w = wire(4);
    const listener = w.server.tcp.listen(80);
    const c = w.client.tcp.connect({ localAddr: w.a, remoteAddr: w.b, remotePort: 80 });
    c.setTypeOfService(0x68);
    w.settle();
    const s = listener.accept()!;
    c.close(); // the client closes first and ends in TIME_WAIT
    w.settle();
    s.close();
    w.settle();
    expect(w.client.tcp.allSockets().map((e) => [e.info.state, e.connection])).toEqual([["TIME_WAIT", undefined]]); // a compact record
    const fin = w.sent.filter((p) => p.from === "server" && (p.seg.flags & FIN) !== 0).at(-1)!;
    const before = w.sent.length;
    w.client.receive(w.now() + 1, fin.raw); // the server's FIN again
    w.client.poll(w.now() + 1);
    w.settle();
    const reAck = w.sent.slice(before).find((p) => p.from === "client");
    expect(reAck?.seg.flags).toBe(ACK);
    expect(reAck?.tos).toBe(0x68);
  });

  for (const family of [4, 6] as const) {
    it(`a RST for no connection reflects the segment's DSCP, its ECN bits cleared, as Linux (IPv${family})`, () => {
      const w = wire(family);
      w.server.tcp.listen(80);
      // Raw segments from the client's address: a SYN to a closed port, an ACK to a listener.
      for (const [dstPort, flags, tos] of [[81, SYN, 0xb9], [80, ACK, 0x2b], [81, SYN, 0x03]] as const) {
        const seg = { srcPort: 40000, dstPort, seq: 1000, ack: flags === ACK ? 5000 : 0, flags, window: 1000, urgentPointer: 0, options: {}, payload: new Uint8Array(0) } as unknown as TcpSegment;
        const ipLength = family === 4 ? 20 : 40;
        const p = new Uint8Array(ipLength + headerLength(seg.options));
        emitTcp(seg, p, ipLength, { src: w.a, dst: w.b });
        if (family === 4) emitIpv4Header({ src: w.a.v4Value!, dst: w.b.v4Value!, protocol: 6, payloadLength: p.length - 20, tos, dontFragment: true }, p, 0);
        else emitIpv6Header({ src: w.a, dst: w.b, nextHeader: 6, payloadLength: p.length - 40, hopLimit: 64, trafficClass: tos }, p, 0);
        const before = w.sent.length;
        w.server.receive(w.now() + 1, p);
        w.server.poll(w.now() + 1);
        w.settle();
        const reply = w.sent.slice(before).find((q) => q.from === "server");
        expect(reply, `${dstPort} ${tos}`).toBeDefined();
        expect(reply!.seg.flags & RST).toBe(RST);
        expect(reply!.tos, `${dstPort} ${tos}`).toBe(tos & 0xfc);
      }
    });
  }

  it("a new value marks what is sent after it; 0 goes back to none", () => {
    const w = wire(4);
    const listener = w.server.tcp.listen(80);
    const c = w.client.tcp.connect({ localAddr: w.a, remoteAddr: w.b, remotePort: 80 });
    w.settle();
    listener.accept();
    c.send(new Uint8Array(10));
    w.settle();
    c.setTypeOfService(0x28);
    c.send(new Uint8Array(10));
    w.settle();
    c.setTypeOfService(0);
    expect(c.typeOfService).toBe(0);
    c.send(new Uint8Array(10));
    w.settle();
    const data = w.sent.filter((p) => p.from === "client" && p.seg.payload.length > 0).map((p) => p.tos);
    expect(data).toEqual([0, 0x28, 0]);
  });

  it("a listener's marks its SYN-ACKs and the connections it makes, cookie SYN-ACKs too", () => {
    for (const synCookies of ["never", "always"] as const) {
      const w = wire(4, { tcp: { synCookies } });
      const listener = w.server.tcp.listen(80);
      listener.setTypeOfService(0x48);
      w.client.tcp.connect({ localAddr: w.a, remoteAddr: w.b, remotePort: 80 });
      w.settle();
      const s: Connection = listener.accept()!;
      expect(s.typeOfService).toBe(0x48);
      s.send(new Uint8Array(500));
      w.settle();
      const fromServer = w.sent.filter((p) => p.from === "server");
      expect(fromServer.find((p) => p.seg.flags === (SYN | ACK))?.tos, synCookies).toBe(0x48);
      expect(fromServer.some((p) => p.seg.payload.length > 0)).toBe(true);
      for (const p of fromServer) expect(p.tos, synCookies).toBe(0x48);
    }
  });

  it("super-packets of a GSO link carry it as the single segments do", () => {
    const w = wire(4, { gsoMaxSize: 65536 });
    const listener = w.server.tcp.listen(80);
    const c = w.client.tcp.connect({ localAddr: w.a, remoteAddr: w.b, remotePort: 80 });
    c.setTypeOfService(0x10);
    w.settle();
    listener.accept();
    c.send(new Uint8Array(60_000));
    w.settle();
    const data = w.sent.filter((p) => p.from === "client" && p.seg.payload.length > 0);
    expect(data.some((p) => p.seg.payload.length > 1460)).toBe(true); // a super-packet went out
    for (const p of data) expect(p.tos).toBe(0x10);
  });

  it("refuses anything but an integer in 0..255 with a typed error, and keeps the value it had", () => {
    const w = wire(4);
    const listener = w.server.tcp.listen(80);
    const c = w.client.tcp.connect({ localAddr: w.a, remoteAddr: w.b, remotePort: 80 });
    c.setTypeOfService(0x20);
    listener.setTypeOfService(0x40);
    for (const bad of [-1, 256, 1.5, Number.NaN, Infinity, "32" as unknown as number, undefined as unknown as number]) {
      for (const target of [c, listener]) {
        let error: unknown;
        try {
          target.setTypeOfService(bad);
        } catch (e) {
          error = e;
        }
        expect(error, String(bad)).toBeInstanceOf(InvalidArgumentError);
        expect((error as InvalidArgumentError).code).toBe("ERR_INVALID_ARG_VALUE");
      }
    }
    expect(c.typeOfService).toBe(0x20);
    expect(listener.typeOfService).toBe(0x40);
  });
});
