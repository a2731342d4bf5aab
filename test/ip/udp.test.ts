/**
 * UDP sockets (S33) between two simulated hosts: echo, errors with stable codes, the
 * bounded receive buffer, ICMP port unreachable surfacing as ECONNREFUSED.
 */
import type { UdpAddress } from "../../src/ip/udp/address.js";
import { describe, expect, it } from "vitest";
import { IpError } from "../../src/ip/errors.js";
import { DATAGRAM_OVERHEAD } from "../../src/ip/udp/receive-queue.js";
import { UDP_MAX_PAYLOAD, type UdpSocket } from "../../src/ip/udp/socket.js";
import { UDP_EPHEMERAL_HIGH, UDP_EPHEMERAL_LOW } from "../../src/ip/udp/layer.js";
import { ICMP_DEST_UNREACHABLE, parseIcmp, UNREACH_PORT } from "../../src/wire/icmp.js";
import { parseIpv4, PROTO_ICMP, PROTO_UDP } from "../../src/wire/ipv4.js";
import { A, B, C, pair, pattern, sameBytes, standalone, udpPacket } from "./helpers.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof IpError) return e.code;
    throw e;
  }
  return undefined;
}

/** Drains a socket's queue into `into`, echoing each datagram back when `echo` is set. */
function drain(s: UdpSocket, into: string[], echo = false): void {
  for (let m = s.recv(); m !== undefined; m = s.recv()) {
    into.push(str(m.data));
    if (echo) s.send(m.data, { address: m.address, port: m.port });
  }
}

describe("UDP echo", () => {
  it("a datagram goes out, the server echoes it, the client reads it back with the sender's address", () => {
    const { net, a, b } = pair();
    const server = b.udp.bind(7);
    const seenByServer: string[] = [];
    server.onWake = (s) => drain(s, seenByServer, true);
    const client = a.udp.open();
    const replies: Array<{ data: string; address: UdpAddress; port: number }> = [];
    client.onWake = (s) => {
      for (let m = s.recv(); m !== undefined; m = s.recv()) replies.push({ data: str(m.data), address: m.address, port: m.port });
    };
    net.at(0, () => client.send(text("hello"), { address: B, port: 7 }));
    net.at(5, () => client.send(text("world"), { address: B, port: 7 }));
    net.runFor(100);
    expect(seenByServer).toEqual(["hello", "world"]);
    expect(replies).toEqual([
      { data: "hello", address: B, port: 7 },
      { data: "world", address: B, port: 7 },
    ]);
    expect(client.localPort).toBeGreaterThanOrEqual(UDP_EPHEMERAL_LOW);
    expect(client.localPort).toBeLessThanOrEqual(UDP_EPHEMERAL_HIGH);
    expect(client.stats).toMatchObject({ datagramsOut: 2, datagramsIn: 2, bytesOut: 10, bytesIn: 10 });
    expect(a.counters.udp.outDatagrams).toBe(2);
    expect(b.counters.udp.inDatagrams).toBe(2);
  });

  it("a datagram leaves at the time of the poll after send(), not earlier", () => {
    const { net, a, b } = pair();
    const server = b.udp.bind(9);
    const arrivals: number[] = [];
    server.onWake = (s) => {
      while (s.recv() !== undefined) arrivals.push(net.now);
    };
    const client = a.udp.bind(5000);
    net.at(250, () => client.send(text("x"), { address: B, port: 9 }));
    net.runFor(1000);
    expect(arrivals).toEqual([260]);
  });

  it("a zero-length datagram is a datagram", () => {
    const { net, a, b } = pair();
    const server = b.udp.bind(9);
    const client = a.udp.open();
    client.send(new Uint8Array(0), { address: B, port: 9 });
    net.runFor(50);
    const m = server.recv();
    expect(m?.data.length).toBe(0);
    expect(server.recv()).toBeUndefined();
  });

  it("the largest datagram (65,507 bytes) arrives intact; one byte more is EMSGSIZE at send()", () => {
    const { net, a, b } = pair();
    const server = b.udp.bind(9);
    const client = a.udp.open();
    const big = pattern(UDP_MAX_PAYLOAD, 3);
    expect(UDP_MAX_PAYLOAD).toBe(65_507);
    client.send(big, { address: B, port: 9 });
    net.runFor(100);
    expect(sameBytes(server.recv()?.data, big)).toBe(true);
    expect(codeOf(() => client.send(new Uint8Array(65_508), { address: B, port: 9 }))).toBe("EMSGSIZE");
    net.runFor(100);
    expect(server.recv()).toBeUndefined();
  });
});

describe("UDP errors are typed with stable codes", () => {
  it("bind: EADDRINUSE for a taken port, EADDRNOTAVAIL for a foreign address, EINVAL when bound twice", () => {
    const { a } = pair();
    a.udp.bind(53);
    expect(codeOf(() => a.udp.bind(53))).toBe("EADDRINUSE");
    expect(codeOf(() => a.udp.bind(54, C))).toBe("EADDRNOTAVAIL");
    const s = a.udp.bind(55);
    expect(codeOf(() => s.bind(56))).toBe("EINVAL");
    s.close();
    expect(() => a.udp.bind(55)).not.toThrow();
  });

  it("ephemeral ports come from 32768-60999 and are not reused while bound", () => {
    const { a } = pair();
    const ports = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = a.udp.bind().localPort!;
      expect(p).toBeGreaterThanOrEqual(32768);
      expect(p).toBeLessThanOrEqual(60999);
      ports.add(p);
    }
    expect(ports.size).toBe(200);
  });

  it("send: EDESTADDRREQ without a destination, EINVAL for port 0 or multicast, EBADF after close", () => {
    const { a } = pair();
    const s = a.udp.open();
    expect(codeOf(() => s.send(text("x")))).toBe("EDESTADDRREQ");
    expect(codeOf(() => s.send(text("x"), { address: B, port: 0 }))).toBe("EINVAL");
    expect(codeOf(() => s.send(text("x"), { address: 0xe0000001, port: 9 }))).toBe("EINVAL");
    s.close();
    expect(codeOf(() => s.send(text("x"), { address: B, port: 9 }))).toBe("EBADF");
  });

  it("send of anything but a Uint8Array, and bind or send to what is no address: EINVAL, not a TypeError", () => {
    const { a } = pair();
    const s = a.udp.open();
    expect(codeOf(() => s.send(undefined as unknown as Uint8Array, { address: B, port: 9 }))).toBe("EINVAL");
    expect(codeOf(() => s.send("x" as unknown as Uint8Array, { address: B, port: 9 }))).toBe("EINVAL");
    expect(codeOf(() => s.bind(0, null as unknown as UdpAddress))).toBe("EINVAL");
    expect(codeOf(() => s.send(text("x"), { address: "10.0.0.2" as unknown as UdpAddress, port: 9 }))).toBe("EINVAL");
    expect(s.inspect().state).not.toBe("bound"); // nothing was taken
  });

  it("send: ENETUNREACH without a route, EHOSTUNREACH on an unreachable route", () => {
    const { a } = pair({
      a: {
        interfaces: [{ address: A, prefixLength: 24 }],
        routes: [{ destination: 0xc0a80000, prefixLength: 16, kind: "unreachable" }],
      },
    });
    const s = a.udp.open();
    expect(codeOf(() => s.send(text("x"), { address: 0x08080808, port: 53 }))).toBe("ENETUNREACH");
    expect(codeOf(() => s.send(text("x"), { address: 0xc0a80101, port: 53 }))).toBe("EHOSTUNREACH");
    expect(codeOf(() => s.connect(0x08080808, 53))).toBe("ENETUNREACH");
    expect(codeOf(() => s.send(text("x"), { address: B, port: 53 }))).toBeUndefined();
  });

  it("pmtuDiscovery \"do\" refuses a datagram over the MTU with EMSGSIZE instead of fragmenting", () => {
    const { a } = pair();
    const s = a.udp.open({ pmtuDiscovery: "do" });
    expect(codeOf(() => s.send(new Uint8Array(1472), { address: B, port: 9 }))).toBeUndefined();
    expect(codeOf(() => s.send(new Uint8Array(1473), { address: B, port: 9 }))).toBe("EMSGSIZE");
  });

  it("a full send buffer refuses with EAGAIN (sent too fast, S33) and wakes the socket once drained", () => {
    const { net, a, b } = pair();
    b.udp.bind(9);
    const s = a.udp.open({ sendBufferSize: 4000 });
    let wakes = 0;
    s.onWake = () => wakes++;
    const results: Array<string | undefined> = [];
    net.at(0, () => {
      for (let i = 0; i < 4; i++) results.push(codeOf(() => s.send(new Uint8Array(1400), { address: B, port: 9 })));
    });
    net.runFor(50);
    expect(results).toEqual([undefined, undefined, undefined, "EAGAIN"]);
    expect(s.stats.sendBufferFull).toBe(1);
    expect(a.counters.udp.sndbufErrors).toBe(1);
    expect(wakes).toBe(1);
    expect(b.counters.udp.inDatagrams).toBe(3);
  });
});

describe("UDP to a closed port (RFC 1122 4.1.3.1, 4.1.3.3)", () => {
  it("gets ICMP port unreachable; a connected socket reports ECONNREFUSED once, from recv()", () => {
    const { net, a, b } = pair();
    const s = a.udp.open();
    s.connect(B, 9999);
    const woken: number[] = [];
    s.onWake = () => woken.push(net.now);
    s.send(text("anyone?"));
    net.runFor(100);
    expect(b.counters.udp.noPorts).toBe(1);
    expect(b.counters.icmp.outDestUnreachs).toBe(1);
    expect(a.counters.icmp.inDestUnreachs).toBe(1);
    expect(woken).toEqual([20]);
    expect(s.pendingError?.code).toBe("ECONNREFUSED");
    let thrown: unknown;
    try {
      s.recv();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(IpError);
    expect((thrown as IpError).code).toBe("ECONNREFUSED");
    expect(s.recv()).toBeUndefined(); // reported once
    expect(a.counters.udp.icmpErrorsReported).toBe(1);
  });

  it("the ICMP error quotes the offending datagram's header and UDP header", () => {
    const { net, a } = pair();
    const icmpOut: Uint8Array[] = [];
    net.setPath("b", "a", {
      delay: 10,
      filter: (p) => {
        if (p[9] === PROTO_ICMP) icmpOut.push(p.slice());
        return "pass";
      },
    });
    const s = a.udp.bind(4000);
    s.send(text("x"), { address: B, port: 9999 });
    net.runFor(100);
    expect(icmpOut).toHaveLength(1);
    const ip = parseIpv4(icmpOut[0]!);
    expect(ip.ok && ip.value.header.src).toBe(B);
    const m = ip.ok ? parseIcmp(ip.value.payload) : undefined;
    expect(m?.ok).toBe(true);
    if (m?.ok && m.value.kind === "dest-unreachable") {
      expect(m.value.code).toBe(UNREACH_PORT);
      const quoted = parseIpv4(m.value.original);
      expect(quoted.ok && quoted.value.header.protocol).toBe(PROTO_UDP);
      expect(m.value.original.subarray(20, 24)).toEqual(new Uint8Array([4000 >> 8, 4000 & 0xff, 9999 >> 8, 9999 & 0xff]));
    } else {
      expect.unreachable("expected destination unreachable");
    }
    expect(ICMP_DEST_UNREACHABLE).toBe(3);
  });

  it("an unconnected socket is not told (Linux without IP_RECVERR)", () => {
    const { net, a } = pair();
    const s = a.udp.open();
    s.send(text("x"), { address: B, port: 9999 });
    net.runFor(100);
    expect(a.counters.icmp.inDestUnreachs).toBe(1);
    expect(s.pendingError).toBeUndefined();
    expect(a.counters.udp.icmpErrorsIgnored).toBe(1);
  });

  it("a connected socket filters other senders, and their datagrams draw port unreachable", () => {
    const { net, a, b } = pair();
    const s = b.udp.bind(9);
    s.connect(C, 1234);
    const other = a.udp.bind(5000);
    other.send(text("not you"), { address: B, port: 9 });
    net.runFor(100);
    expect(s.recv()).toBeUndefined();
    expect(b.counters.udp.noPorts).toBe(1);
  });
});

describe("the receive buffer is bounded (S33)", () => {
  it("datagrams beyond the buffer are dropped and counted; the application reads the ones that fit", () => {
    const rcvbuf = 10_000;
    const { net, a, b } = pair();
    const server = b.udp.bind(9, 0, { receiveBufferSize: rcvbuf });
    const client = a.udp.open();
    const size = 1000;
    const sent = 30;
    net.at(0, () => {
      for (let i = 0; i < sent; i++) client.send(pattern(size, i), { address: B, port: 9 });
    });
    net.runFor(100);
    // Linux's rule: accept while the queued charge does not exceed the buffer.
    const charge = size + DATAGRAM_OVERHEAD;
    const fit = Math.floor(rcvbuf / charge) + 1;
    expect(server.receiveQueueLength).toBe(fit);
    expect(server.stats.receiveBufferDrops).toBe(sent - fit);
    expect(b.counters.udp.rcvbufErrors).toBe(sent - fit);
    expect(b.counters.drops["rcvbuf-full"]).toBe(sent - fit);
    for (let i = 0; i < fit; i++) expect(server.recv()?.data).toEqual(pattern(size, i));
    expect(server.recv()).toBeUndefined();
    // Reading made room: the next datagram is accepted.
    client.send(text("later"), { address: B, port: 9 });
    net.runFor(100);
    expect(str(server.recv()!.data)).toBe("later");
  });

  it("the default buffer is Linux's rmem_default (212,992 bytes)", () => {
    const { b } = pair();
    expect(b.udp.bind(9).receiveBufferSize).toBe(212_992);
  });

  it("one datagram larger than the whole buffer still fits an empty queue", () => {
    const h = standalone(B);
    const s = h.host.udp.bind(9, 0, { receiveBufferSize: 1000 });
    h.host.receive(0, udpPacket(A, B, 1, 9, pattern(1400)));
    h.host.receive(0, udpPacket(A, B, 1, 9, pattern(10)));
    expect(s.recv()?.data.length).toBe(1400);
    expect(s.recv()).toBeUndefined();
    expect(s.stats.receiveBufferDrops).toBe(1);
  });
});

describe("UDP type of service (IP_TOS)", () => {
  it("marks each datagram with the socket's byte as it was at send(), ECN bits included; bad values are EINVAL", () => {
    const h = standalone(B);
    const s = h.host.udp.bind(9, 0, { typeOfService: 0xb9 }); // EF with ECT(1): UDP keeps every bit
    s.send(pattern(10), { address: A, port: 7 });
    s.setTypeOfService(0x20);
    s.send(pattern(10), { address: A, port: 7 });
    s.setTypeOfService(0);
    s.send(pattern(10), { address: A, port: 7 });
    h.host.poll(1);
    const tos = h.take().map((p) => {
      const ip = parseIpv4(p, { verifyChecksum: true });
      if (!ip.ok) throw new Error(ip.reason);
      return ip.value.header.tos;
    });
    expect(tos).toEqual([0xb9, 0x20, 0]);
    for (const bad of [-1, 256, 1.5, Number.NaN, "8" as unknown as number]) {
      expect(() => s.setTypeOfService(bad), String(bad)).toThrow(expect.objectContaining({ code: "EINVAL" }));
      expect(() => h.host.udp.open({ typeOfService: bad }), String(bad)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
    expect(s.typeOfService).toBe(0);
  });
});

describe("UDP has no retransmission (S33)", () => {
  it("sent faster than the bottleneck drains, datagrams are lost at its queue and never sent again", () => {
    const { net, a, b } = pair({ link: { delay: 10, rate: 1_000_000, queueLimit: 10 } });
    const server = b.udp.bind(9);
    const client = a.udp.open();
    net.at(0, () => {
      for (let i = 0; i < 100; i++) client.send(pattern(1000, i), { address: B, port: 9 });
    });
    net.runFor(10_000);
    const got: number[] = [];
    for (let m = server.recv(); m !== undefined; m = server.recv()) got.push(m.data[0]!);
    expect(net.path("a", "b").stats.queueDrops).toBe(100 - got.length);
    expect(got.length).toBe(11); // one on the wire plus ten queued
    expect(a.counters.udp.outDatagrams).toBe(100); // each left once, none again
    expect(got).toEqual(Array.from({ length: 11 }, (_, i) => pattern(1000, i)[0]));
  });

  it("a lossy path loses datagrams for good", () => {
    const { net, a, b } = pair({ seed: 3, link: { delay: 10, loss: 0.3 } });
    const server = b.udp.bind(9);
    const client = a.udp.open();
    net.at(0, () => {
      for (let i = 0; i < 200; i++) client.send(pattern(100, i), { address: B, port: 9 });
    });
    net.runFor(10_000);
    const arrived = server.receiveQueueLength;
    expect(arrived).toBeLessThan(200);
    expect(arrived).toBe(200 - net.path("a", "b").stats.losses);
    expect(a.counters.udp.outDatagrams).toBe(200);
  });
});

describe("UDP checksums", () => {
  it("a corrupt datagram is dropped and counted, a zero checksum (none sent) is accepted", () => {
    const h = standalone(B);
    const s = h.host.udp.bind(9);
    const bad = udpPacket(A, B, 1, 9, text("abc"));
    bad[bad.length - 1]! ^= 0xff;
    h.host.receive(0, bad);
    const none = udpPacket(A, B, 1, 9, text("abc"));
    none[26] = 0;
    none[27] = 0;
    h.host.receive(0, none);
    expect(h.host.counters.udp.inCsumErrors).toBe(1);
    expect(str(s.recv()!.data)).toBe("abc");
    expect(h.sent).toHaveLength(0); // no ICMP for a corrupt datagram
  });
});
