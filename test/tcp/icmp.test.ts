/**
 * ICMP errors acted on by TCP (RFC 5927, RFC 1122 4.2.3.9, Linux tcp_v4_err): during
 * connect a destination unreachable fails the connection at once with Linux's errno;
 * later it is a soft error, reported instead of ETIMEDOUT if the retries run out, and
 * forgotten when an ACK shows the path works. The quoted sequence number must be in flight.
 */
import { describe, expect, it } from "vitest";
import type { Connection } from "../../src/tcp/connection.js";
import { IpAddress } from "../../src/wire/address.js";
import { emitTcp } from "../../src/wire/tcp.js";
import { UNREACH_FRAG_NEEDED, UNREACH_HOST, UNREACH_NET, UNREACH_PORT } from "../../src/wire/icmp.js";
import { PROTO_TCP } from "../../src/wire/ipv4.js";
import { seqAdd, type Seq } from "../../src/wire/seq.js";
import { A, B, C, icmpPacket, rawPacket, standalone } from "../ip/helpers.js";
import { tcpPacket } from "../sim/helpers.js";
import { TIME_EXCEEDED_TTL } from "../../src/wire/icmp.js";
import { SYN } from "../../src/wire/tcp.js";
import { familyPair } from "../ipv6/helpers.js";
import { transferOverNarrowPath } from "./narrow-path.js";
import { emitIcmpv6, icmpv6Length } from "../../src/wire/icmpv6.js";
import { emitIpv6Header, NH_ICMPV6 } from "../../src/wire/ipv6.js";

/** The first 28 bytes of an IPv4 packet carrying a TCP header from A:port to B:80 with `seq`: what a router quotes. */
function quoteOf(localPort: number, seq: Seq): Uint8Array {
  const tcp = new Uint8Array(20);
  tcp[0] = localPort >> 8;
  tcp[1] = localPort & 0xff;
  tcp[3] = 80;
  tcp[4] = seq >>> 24;
  tcp[5] = (seq >>> 16) & 0xff;
  tcp[6] = (seq >>> 8) & 0xff;
  tcp[7] = seq & 0xff;
  return rawPacket({ src: A, dst: B, protocol: PROTO_TCP }, tcp).subarray(0, 28);
}

function connecting(tcp: { dataRetries?: number } = {}) {
  const h = standalone(A, { tcp });
  const conn = h.host.tcp.connect({ localAddr: IpAddress.v4(A), remoteAddr: IpAddress.v4(B), remotePort: 80 });
  h.host.poll(0);
  expect(h.take()).toHaveLength(1); // the SYN
  return { h, conn };
}

const unreachable = (conn: Connection, code: number, seq: Seq) =>
  icmpPacket(C, A, { kind: "dest-unreachable", code, nextHopMtu: 0, original: quoteOf(conn.tuple.localPort, seq) });

describe("ICMP errors during connect fail it at once", () => {
  it.each([
    [UNREACH_HOST, "EHOSTUNREACH"],
    [UNREACH_NET, "ENETUNREACH"],
    [UNREACH_PORT, "ECONNREFUSED"],
  ])("destination unreachable code %i: %s", (code, errno) => {
    const { h, conn } = connecting();
    h.host.receive(5, unreachable(conn, code, conn.iss));
    expect(conn.state).toBe("CLOSED");
    expect(conn.error?.code).toBe(errno);
  });

  it("ignores an error whose quoted sequence number is not in flight (a blind attacker's guess)", () => {
    const { h, conn } = connecting();
    h.host.receive(5, unreachable(conn, UNREACH_HOST, seqAdd(conn.iss, 1000)));
    expect(conn.state).toBe("SYN_SENT");
  });

  it("does not fail a connect on fragmentation needed (it is about size, not reachability)", () => {
    const { h, conn } = connecting();
    h.host.receive(5, unreachable(conn, UNREACH_FRAG_NEEDED, conn.iss));
    expect(conn.state).toBe("SYN_SENT");
  });
});

/** A connection from A that got B's SYN,ACK (MSS 1460, no options) and is ESTABLISHED. */
function connectingEstablished(tcp: { dataRetries?: number } = {}) {
  const { h, conn } = connecting(tcp);
  const synAck = new Uint8Array(24);
  emitTcp({ srcPort: 80, dstPort: conn.tuple.localPort, seq: 5000 as Seq, ack: seqAdd(conn.iss, 1), flags: 0x12, window: 65535, urgentPointer: 0, options: { mss: 1460 }, payload: new Uint8Array(0) }, synAck, 0, { src: B, dst: A });
  h.host.receive(10, rawPacket({ src: B, dst: A, protocol: PROTO_TCP }, synAck));
  h.host.poll(10);
  h.take();
  expect(conn.state).toBe("ESTABLISHED");
  return { h, conn };
}

describe("ICMP errors on an established connection are soft", () => {
  function established(dataRetries: number) {
    const { h, conn } = connectingEstablished({ dataRetries });
    conn.send(new Uint8Array(100));
    h.host.poll(10);
    h.take();
    return { h, conn };
  }

  it("keeps the connection, and reports the error instead of ETIMEDOUT when the retries run out", () => {
    const { h, conn } = established(2);
    h.host.receive(20, unreachable(conn, UNREACH_HOST, conn.sndUna));
    expect(conn.state).toBe("ESTABLISHED");
    expect(conn.softError).toBe("EHOSTUNREACH");
    for (let t = 20; conn.state !== "CLOSED" && t < 60_000; t += 50) h.host.poll(t);
    expect(conn.error?.code).toBe("EHOSTUNREACH");
  });
});

describe("RFC 6069: host unreachable during backoff reverts one doubling of the RTO", () => {
  it("takes one doubling back and runs the timer from the last retransmission", () => {
    const { h, conn } = connectingEstablished();
    conn.send(new Uint8Array(100));
    h.host.poll(10);
    h.take();
    // Three timeouts: backoff 3, the next RTO 8 RTOs after the third retransmission.
    let t = 10;
    while (conn.rtt.backoff < 3) {
      t = conn.timers.rto;
      h.host.poll(t);
    }
    const lastSent = t;
    const before = conn.timers.rto;
    h.host.receive(lastSent + 5, unreachable(conn, UNREACH_HOST, conn.sndUna));
    expect(conn.rtt.backoff).toBe(2);
    expect(conn.timers.rto).toBeCloseTo(lastSent + conn.rtt.rto, 6);
    expect(conn.timers.rto).toBeLessThan(before);
    // Port unreachable says nothing about the path: no revert.
    h.host.receive(lastSent + 6, unreachable(conn, UNREACH_PORT, conn.sndUna));
    expect(conn.rtt.backoff).toBe(2);
  });
});

describe("path MTU (RFC 1191): fragmentation needed shrinks the segments", () => {
  it("resends what is in flight in the smaller size, keeping the window's segment count", () => {
    const { h, conn } = connectingEstablished();
    conn.send(new Uint8Array(2 * 1460));
    h.host.poll(10);
    expect(h.take().map((p) => p.length - 40)).toEqual([1460, 1460]);
    const cwndSegments = conn.congestion.cwnd / conn.sendMss;
    const frag = icmpPacket(C, A, { kind: "dest-unreachable", code: UNREACH_FRAG_NEEDED, nextHopMtu: 1000, original: quoteOf(conn.tuple.localPort, conn.sndUna) });
    h.host.receive(20, frag);
    expect(conn.sendMss).toBe(960);
    expect(conn.congestion.cwnd / conn.sendMss).toBe(cwndSegments);
    // 2920 bytes again, from SND.UNA, in segments that fit a 1000-byte path.
    expect(h.take().map((p) => p.length - 40)).toEqual([960, 960, 960, 40]);
    expect(conn.state).toBe("ESTABLISHED");
  });

  it("never goes below Linux's 552-byte floor, and ignores a report for data not in flight", () => {
    const { h, conn } = connectingEstablished();
    conn.send(new Uint8Array(1460));
    h.host.poll(10);
    h.take();
    h.host.receive(20, icmpPacket(C, A, { kind: "dest-unreachable", code: UNREACH_FRAG_NEEDED, nextHopMtu: 1000, original: quoteOf(conn.tuple.localPort, seqAdd(conn.sndMax, 5000)) }));
    expect(conn.sendMss).toBe(1460);
    h.host.receive(20, icmpPacket(C, A, { kind: "dest-unreachable", code: UNREACH_FRAG_NEEDED, nextHopMtu: 100, original: quoteOf(conn.tuple.localPort, conn.sndUna) }));
    expect(conn.sendMss).toBe(552 - 40);
  });
});

describe("ICMPv6 errors reach TCP too (Linux tcp_v6_err)", () => {
  it("address unreachable fails a connect to fd00::2 with EHOSTUNREACH", () => {
    const { net, a, A, B } = familyPair(6);
    const sent: Uint8Array[] = [];
    net.setPath("a", "b", { delay: 10, filter: (p) => (sent.push(p.slice()), "drop") });
    const conn = a.tcp.connect({ localAddr: A, remoteAddr: B, remotePort: 80 });
    net.runFor(5);
    expect(sent).toHaveLength(1); // the SYN, quoted by a router on the way
    const msg = { kind: "dest-unreachable" as const, code: 3, original: sent[0]! };
    const pkt = new Uint8Array(40 + icmpv6Length(msg));
    const router = IpAddress.v6(0xfd000000, 0, 0, 0xfe);
    emitIpv6Header({ src: router, dst: A, nextHeader: NH_ICMPV6, payloadLength: icmpv6Length(msg) }, pkt, 0);
    emitIcmpv6(msg, pkt, 40, { src: router, dst: A });
    a.receive(net.now, pkt);
    expect(conn.state).toBe("CLOSED");
    expect(conn.error?.code).toBe("EHOSTUNREACH");
  });
});

describe("packet too big below 1,280 (Linux tcp_v6_err)", () => {
  it("is ignored by TCP: the segments keep their size; 1,280 itself is taken", () => {
    const { net, a, b, A, B } = familyPair(6);
    const sent: Uint8Array[] = [];
    net.setPath("a", "b", { delay: 10, filter: (p) => (sent.push(p.slice()), "pass") });
    b.tcp.listen(80);
    const conn = a.tcp.connect({ localAddr: A, remoteAddr: B, remotePort: 80 });
    net.runFor(50);
    conn.send(new Uint8Array(3000));
    net.runFor(1);
    const mss = conn.sendMss;
    const tooBig = (mtu: number) => {
      const msg = { kind: "packet-too-big" as const, mtu, original: sent[sent.length - 1]!.subarray(0, 1232) };
      const pkt = new Uint8Array(40 + icmpv6Length(msg));
      const router = IpAddress.v6(0xfd000000, 0, 0, 0xfe);
      emitIpv6Header({ src: router, dst: A, nextHeader: NH_ICMPV6, payloadLength: icmpv6Length(msg) }, pkt, 0);
      emitIcmpv6(msg, pkt, 40, { src: router, dst: A });
      a.receive(net.now, pkt);
    };
    tooBig(1000);
    expect(conn.sendMss).toBe(mss);
    tooBig(1280);
    expect(conn.sendMss).toBeLessThan(mss);
  });
});

describe("path MTU over IPv6: packet too big from the simulator's router (RFC 8201)", () => {
  it("a 1,280-byte path: the MSS drops to 1,220 and every byte arrives", () => {
    const { received, conn } = transferOverNarrowPath({ family: 6, pathMtu: 1280, bytes: 20_000, mtuErrors: true, runFor: 2000 });
    expect(received()).toBe(20_000);
    expect(conn.sendMss).toBe(1280 - 40 - 20 - 12); // timestamps take 12 bytes of each segment
    expect(conn.rtt.backoff).toBe(0);
  });
});

describe("ICMP errors quoting our SYN-ACK end a half-open entry only as Linux's tcp_req_err does", () => {
  /** A listener on A:80 holding one half-open entry for B:40000's SYN, and the ISS its SYN-ACK carried. */
  function halfOpen() {
    const h = standalone(A);
    const listener = h.host.tcp.listen(80);
    h.host.receive(0, tcpPacket(B, A, { flags: SYN, srcPort: 40000, dstPort: 80 }));
    h.host.poll(0);
    const [synAck] = h.take();
    const iss = (((synAck![24]! << 24) | (synAck![25]! << 16) | (synAck![26]! << 8) | synAck![27]!) >>> 0) as Seq;
    expect(listener.synQueue.size).toBe(1);
    return { h, listener, iss };
  }
  /** What a router quotes of our SYN-ACK: A:80 to B:40000 with `seq`. */
  function synAckQuote(seq: Seq): Uint8Array {
    const tcp = new Uint8Array(20);
    tcp[1] = 80;
    tcp[2] = 40000 >> 8;
    tcp[3] = 40000 & 0xff;
    for (let i = 0; i < 4; i++) tcp[4 + i] = (seq >>> (24 - 8 * i)) & 0xff;
    return rawPacket({ src: A, dst: B, protocol: PROTO_TCP }, tcp).subarray(0, 28);
  }

  it.each([
    ["net unreachable", "dest-unreachable", UNREACH_NET, true],
    ["host unreachable", "dest-unreachable", UNREACH_HOST, true],
    ["port unreachable", "dest-unreachable", UNREACH_PORT, false],
    ["time exceeded", "time-exceeded", TIME_EXCEEDED_TTL, true],
  ] as const)("%s quoting the ISS: entry ended %s", (_name, kind, code, ends) => {
    const { h, listener, iss } = halfOpen();
    const original = synAckQuote(iss);
    h.host.receive(5, icmpPacket(C, A, kind === "dest-unreachable" ? { kind, code, nextHopMtu: 0, original } : { kind, code, original }));
    expect(listener.synQueue.size).toBe(ends ? 0 : 1);
  });

  it("quoting ISS + 1 (not what the SYN-ACK carried) is out of window: the entry stays", () => {
    const { h, listener, iss } = halfOpen();
    h.host.receive(5, icmpPacket(C, A, { kind: "dest-unreachable", code: UNREACH_HOST, nextHopMtu: 0, original: synAckQuote(seqAdd(iss, 1)) }));
    expect(listener.synQueue.size).toBe(1);
  });
});

