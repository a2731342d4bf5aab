/**
 * Segment-level tests, one describe per TCP state: exact segments in, exact segments out,
 * and nothing else. Window scaling is off in the harness so window fields are literal.
 */
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { seqAdd, type Seq } from "../../src/wire/seq.js";
import { ACK, FIN, PSH, RST, SYN } from "../../src/wire/tcp.js";
import { modelTimeout } from "../../src/tcp/timeouts.js";
import { bytes, established, halfOpen, stateOf, Harness, listening, LOCAL_ADDR, LOCAL_PORT, REMOTE_ADDR, REMOTE_SEQ, synReceived, synSent, text } from "./harness.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);

describe("CLOSED (no socket)", () => {
  it("answers a SYN to a closed port with RST,ACK acknowledging the SYN (S30, S32)", () => {
    const h = new Harness();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ });
    h.expectSent([{ flags: RST | ACK, seq: seqAdd(REMOTE_SEQ, -REMOTE_SEQ), ack: R(1) }]);
  });

  it("answers a segment with ACK by RST seq=SEG.ACK (S30: a retransmitted FIN after the peer closed)", () => {
    const h = new Harness();
    h.deliver({ flags: FIN | ACK, seq: R(10), ack: seqAdd(REMOTE_SEQ, 5000) });
    h.expectSent([{ flags: RST, seq: seqAdd(REMOTE_SEQ, 5000) }]);
  });

  it("never answers a RST", () => {
    const h = new Harness();
    h.deliver({ flags: RST, seq: R(0) });
    h.deliver({ flags: RST | ACK, seq: R(0), ack: R(7) });
    h.expectNothingSent();
  });

  it("drops corrupt segments silently (S20)", () => {
    const { h } = listening();
    const pkt = new Uint8Array([
      0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, ...[192, 168, 1, 2], ...[192, 168, 1, 1],
      0xc1, 0x5c, 0, 80, 0, 0x0f, 0x42, 0x40, 0, 0, 0, 0, 0x50, SYN, 0xff, 0xff, 0xde, 0xad, 0, 0,
    ]);
    // Fix the IPv4 checksum but leave the TCP checksum wrong.
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (pkt[i]! << 8) | pkt[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    pkt[10] = c >> 8;
    pkt[11] = c & 0xff;
    h.deliverRaw(pkt);
    h.expectNothingSent();
    expect(h.host.counters.drops["bad-checksum"]).toBe(1);
  });
});

describe("LISTEN", () => {
  it("answers SYN with SYN,ACK ack=x+1 carrying our MSS, and enters SYN_RCVD (S2, S5)", () => {
    const { h, listener } = listening();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1400 } });
    expect(listener.synQueue.size).toBe(1);
    const half = halfOpen(h)[0]!;
    expect(half.state).toBe("SYN_RCVD");
    h.expectSent([{ flags: SYN | ACK, seq: half.iss, ack: R(1), options: { mss: 1460 } }]);
    expect(half.sendMss).toBe(1400);
    // The connection built when the handshake completes sends with the same MSS.
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(half.iss, 1) });
    expect(listener.accept()!.sendMss).toBe(1400);
  });

  it("assumes MSS 536 when the SYN has none (S5)", () => {
    const { h, listener } = listening();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ });
    const half = halfOpen(h)[0]!;
    expect(half.sendMss).toBe(536);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(half.iss, 1) });
    expect(listener.accept()!.sendMss).toBe(536);
  });

  it("ignores RST and answers a bare ACK with RST seq=SEG.ACK (RFC 9293 3.10.7.2)", () => {
    const { h } = listening();
    h.deliver({ flags: RST, seq: REMOTE_SEQ });
    h.expectNothingSent();
    h.deliver({ flags: ACK, seq: REMOTE_SEQ, ack: seqAdd(REMOTE_SEQ, 77) });
    h.expectSent([{ flags: RST, seq: seqAdd(REMOTE_SEQ, 77) }]);
  });

  it("with SYN cookies off, drops new SYNs when the SYN queue is full (S7) and counts them", () => {
    const { h, listener } = listening({ synQueueSize: 2, synCookies: "never" });
    for (let i = 0; i < 3; i++) h.deliver({ flags: SYN, seq: REMOTE_SEQ }, { addr: REMOTE_ADDR, port: 40000 + i });
    expect(listener.synQueue.size).toBe(2);
    expect(listener.synQueueDrops).toBe(1);
    expect(h.takeSent()).toHaveLength(2);
  });

  it("the SYN's window field is never scaled and our SYN,ACK window is at most 65535 (RFC 7323 2.2)", () => {
    const { h } = listening({ windowScaling: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, window: 1000, options: { mss: 1460, windowScale: 7 } });
    expect(halfOpen(h)[0]!.sndWnd).toBe(1000);
    const [synAck] = h.takeSent();
    expect(synAck!.window).toBe(65535);
    expect(synAck!.options).toEqual({ mss: 1460, windowScale: 7 });
  });
});

describe("LISTEN with SYN cookies (S12, RFC 4987)", () => {
  function overflowing(tcp = {}) {
    const { h, listener } = listening({ synQueueSize: 1, ...tcp });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ }, { addr: REMOTE_ADDR, port: 40000 });
    h.takeSent();
    return { h, listener };
  }

  it("answers a SYN with a stateless SYN,ACK when the queue is full, then rebuilds the connection from the ACK", () => {
    const { h, listener } = overflowing();
    const peer = { addr: REMOTE_ADDR, port: 40001 };
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460 } }, peer);
    const [synAck] = h.takeSent();
    expect(synAck!.flags).toBe(SYN | ACK);
    expect(synAck!.ack).toBe(R(1));
    expect(listener.synQueue.size).toBe(1); // nothing was stored for this SYN
    expect(listener.cookiesSent).toBe(1);
    h.deliver({ flags: ACK | PSH, seq: R(1), ack: seqAdd(synAck!.seq, 1), payload: "hello" }, peer);
    const conn = listener.accept()!;
    expect(conn.state).toBe("ESTABLISHED");
    expect(conn.sendMss).toBe(1460);
    expect(text(conn.read())).toBe("hello");
    expect(listener.cookiesAccepted).toBe(1);
  });

  it("remembers the MSS only to the nearest table value at or below the peer's (536, 1300, 1440, 1460)", () => {
    const { h, listener } = overflowing();
    const peer = { addr: REMOTE_ADDR, port: 40002 };
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1400 } }, peer);
    const [synAck] = h.takeSent();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 1) }, peer);
    expect(listener.accept()!.sendMss).toBe(1300);
  });

  it("a forged ACK (wrong cookie) gets a RST and creates nothing", () => {
    const { h, listener } = overflowing();
    const peer = { addr: REMOTE_ADDR, port: 40003 };
    h.deliver({ flags: SYN, seq: REMOTE_SEQ }, peer);
    const [synAck] = h.takeSent();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 0x5a5a5a) }, peer);
    h.expectSent([{ flags: RST, seq: seqAdd(synAck!.seq, 0x5a5a5a) }]);
    expect(listener.acceptQueue).toHaveLength(0);
    expect(listener.cookiesRejected).toBe(1);
  });

  it("a cookie older than two minutes is refused", () => {
    const { h, listener } = overflowing();
    const peer = { addr: REMOTE_ADDR, port: 40004 };
    h.deliver({ flags: SYN, seq: REMOTE_SEQ }, peer);
    const [synAck] = h.takeSent();
    h.advance(119_000);
    h.deliver({ flags: SYN, seq: REMOTE_SEQ }, { addr: REMOTE_ADDR, port: 40005 }); // keep overflowing
    h.takeSent();
    h.advance(61_000);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 1) }, peer);
    expect(listener.acceptQueue).toHaveLength(0);
    expect(h.takeSent().filter((s) => s.dstPort === peer.port).map((s) => s.flags)).toEqual([RST]);
  });

  it("keeps window scale and SACK in the SYN-ACK's timestamp, as Linux's cookie_init_timestamp, and the connection has them (and timestamps) once the ACK echoes it", () => {
    const { h, listener } = listening({ synCookies: "always", timestamps: true, sack: true, windowScaling: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, windowScale: 9, sackPermitted: true, timestamp: { value: 700, echo: 0 } } });
    const [synAck] = h.takeSent();
    expect(listener.synQueue.size).toBe(0);
    expect(synAck!.options).toMatchObject({ mss: 1460, windowScale: 7, sackPermitted: true, timestamp: { echo: 700 } });
    const tsval = synAck!.options.timestamp!.value;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 1), window: 100, options: { timestamp: { value: 701, echo: tsval } } });
    const conn = listener.accept()!;
    expect(conn.state).toBe("ESTABLISHED");
    expect(conn.inspect()).toMatchObject({ sndShift: 9, rcvShift: 7, sack: true, timestamps: true, sndWnd: 100 << 9 });
    conn.send(bytes("hi"));
    h.settle();
    const [data] = h.takeSent();
    expect(data!.options.timestamp).toMatchObject({ echo: 701 });
    expect((data!.options.timestamp!.value - tsval) >>> 0).toBeLessThan(64); // the same clock and offset, moved back at most 63 ms by the options
  });

  it("a cookie SYN-ACK offers nothing a SYN without timestamps could not get back: only the MSS, and the connection has neither window scale nor SACK", () => {
    const { h, listener } = listening({ synCookies: "always", timestamps: true, sack: true, windowScaling: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, windowScale: 9, sackPermitted: true } });
    const [synAck] = h.takeSent();
    expect(synAck!.options).toEqual({ mss: 1460 });
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 1) });
    expect(listener.accept()!.inspect()).toMatchObject({ sndShift: 0, rcvShift: 0, sack: false, timestamps: false });
  });

  it('synCookies: "always" never stores a half-open connection', () => {
    const { h, listener } = listening({ synCookies: "always" });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ });
    const [synAck] = h.takeSent();
    expect(listener.synQueue.size).toBe(0);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 1) });
    expect(listener.accept()!.state).toBe("ESTABLISHED");
  });
});

describe("SYN_SENT", () => {
  it("sends SYN seq=ISS with MSS and no data (S2, S3)", () => {
    const { conn, sent } = synSent();
    expect(conn.state).toBe("SYN_SENT");
    expect(sent.flags).toBe(SYN);
    expect(sent.seq).toBe(conn.iss);
    expect(sent.payload.length).toBe(0);
    expect(sent.options).toEqual({ mss: 1460 });
  });

  it("on SYN,ACK with ack=ISS+1 sends ACK seq=x+1 ack=y+1 and is ESTABLISHED (S2)", () => {
    const { h, conn, iss } = synSent();
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(iss, 1) });
    expect(conn.state).toBe("ESTABLISHED");
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
  });

  it("answers a SYN,ACK with a wrong ack with RST seq=SEG.ACK and stays in SYN_SENT (S2, S11)", () => {
    const { h, conn, iss } = synSent();
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(iss, 1000) });
    h.expectSent([{ flags: RST, seq: seqAdd(iss, 1000) }]);
    expect(conn.state).toBe("SYN_SENT");
  });

  it("does not answer a RST,ACK with a wrong ack, and ignores it", () => {
    const { h, conn, iss } = synSent();
    h.deliver({ flags: RST | ACK, seq: REMOTE_SEQ, ack: seqAdd(iss, 5) });
    h.expectNothingSent();
    expect(conn.state).toBe("SYN_SENT");
  });

  it("RST,ACK acknowledging the SYN means connection refused (S32)", () => {
    const { h, conn, iss } = synSent();
    h.deliver({ flags: RST | ACK, seq: 0 as never, ack: seqAdd(iss, 1) });
    expect(conn.state).toBe("CLOSED");
    expect(conn.error?.code).toBe("ECONNREFUSED");
    h.expectNothingSent();
  });

  it("retransmits the SYN after 1, 2, 4, 8, 16, 32 s and fails with ETIMEDOUT at 127 s (S8)", () => {
    const { h, conn, iss } = synSent();
    const times: number[] = [];
    for (;;) {
      const t = h.nextTimer();
      const sent = h.takeSent();
      if (conn.state === "CLOSED") {
        expect(sent).toHaveLength(0);
        expect(t).toBe(127_000);
        break;
      }
      expect(sent.map((s) => [s.flags, s.seq])).toEqual([[SYN, iss]]);
      times.push(t);
    }
    expect(times).toEqual([1000, 3000, 7000, 15000, 31000, 63000]);
    expect(conn.error?.code).toBe("ETIMEDOUT");
  });

  it("a SYN without ACK is a simultaneous open: SYN,ACK with the same ISS, SYN_RCVD (S13)", () => {
    const { h, conn, iss } = synSent();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ });
    expect(conn.state).toBe("SYN_RCVD");
    h.expectSent([{ flags: SYN | ACK, seq: iss, ack: R(1) }]);
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(iss, 1) });
    expect(conn.state).toBe("ESTABLISHED");
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(1) }]); // its SYN is old: ACKed at once (Linux tcp_data_queue)
  });

  it("data on the SYN,ACK is queued for the application (RFC 9293 3.10.7.3)", () => {
    const { h, conn, iss } = synSent();
    h.deliver({ flags: SYN | ACK | PSH, seq: REMOTE_SEQ, ack: seqAdd(iss, 1), payload: "hi" });
    expect(text(conn.read())).toBe("hi");
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(3) }]);
  });
});

describe("SYN_RCVD", () => {
  it("an ACK with ack=y+1 completes the handshake; the connection joins the accept queue (S2, S7)", () => {
    const { h, listener, iss } = synReceived();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    expect(stateOf(h)).toBe("ESTABLISHED");
    expect(listener.synQueue.size).toBe(0);
    const conn = listener.accept()!;
    expect(conn.state).toBe("ESTABLISHED");
    expect([conn.iss, conn.irs, conn.sndUna]).toEqual([iss, REMOTE_SEQ, seqAdd(iss, 1)]);
    h.expectNothingSent();
  });

  it("the third segment may carry data (S3)", () => {
    const { h, listener, iss } = synReceived();
    h.deliver({ flags: ACK | PSH, seq: R(1), ack: seqAdd(iss, 1), payload: "GET /" });
    const conn = listener.accept()!;
    expect(conn.state).toBe("ESTABLISHED");
    expect(text(conn.read())).toBe("GET /");
  });

  it("an ACK with a wrong ack gets RST seq=SEG.ACK (RFC 9293 3.10.7.4)", () => {
    const { h, iss } = synReceived();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 99) });
    h.expectSent([{ flags: RST, seq: seqAdd(iss, 99) }]);
    expect(stateOf(h)).toBe("SYN_RCVD");
  });

  it("retransmits SYN,ACK at 1, 3, 7, 15, 31 s and drops the entry at 63 s (S9)", () => {
    const { h, listener, iss } = synReceived();
    const times: number[] = [];
    for (;;) {
      const t = h.nextTimer();
      const sent = h.takeSent();
      if (stateOf(h) === "CLOSED") {
        expect(sent).toHaveLength(0);
        expect(t).toBe(63_000);
        break;
      }
      expect(sent.map((s) => [s.flags, s.seq, s.ack])).toEqual([[SYN | ACK, iss, R(1)]]);
      times.push(t);
    }
    expect(times).toEqual([1000, 3000, 7000, 15000, 31000]);
    expect(listener.synQueue.size).toBe(0);
    expect(h.host.tcp.allSockets()).toHaveLength(0);
  });

  it("a retransmitted SYN gets the SYN,ACK again (the first was lost)", () => {
    const { h, iss } = synReceived();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ });
    h.expectSent([{ flags: SYN | ACK, seq: iss, ack: R(1) }]);
    expect(stateOf(h)).toBe("SYN_RCVD");
  });

  it("a RST (the client's answer to an old duplicate SYN) frees the entry (S11)", () => {
    const { h, listener } = synReceived();
    h.deliver({ flags: RST, seq: R(1) });
    expect(stateOf(h)).toBe("CLOSED");
    expect(listener.synQueue.size).toBe(0);
    h.expectNothingSent();
  });

  it("when the accept queue is full the final ACK is dropped and the SYN,ACK retransmission retries (S7)", () => {
    const { h, listener } = listening();
    h.host.tcp.closeListener(listener);
    const small = h.host.tcp.listen(LOCAL_PORT, 1);
    h.deliver({ flags: SYN, seq: REMOTE_SEQ }, { addr: REMOTE_ADDR, port: 40001 });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ }, { addr: REMOTE_ADDR, port: 40002 });
    const [a, b] = halfOpen(h);
    h.takeSent();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(a!.iss, 1) }, { addr: REMOTE_ADDR, port: 40001 });
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(b!.iss, 1) }, { addr: REMOTE_ADDR, port: 40002 });
    expect(stateOf(h, 40001)).toBe("ESTABLISHED");
    expect(stateOf(h, 40002)).toBe("SYN_RCVD");
    expect(small.acceptQueueDrops).toBe(1);
    // The child whose final ACK was dropped is still half-open: held in the SYN queue.
    expect(small.synQueue.size).toBe(1);
    small.accept();
    h.advance(1000);
    h.expectSent([{ flags: SYN | ACK, seq: b!.iss, ack: R(1) }]);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(b!.iss, 1) }, { addr: REMOTE_ADDR, port: 40002 });
    expect(stateOf(h, 40002)).toBe("ESTABLISHED");
    expect(small.synQueue.size).toBe(0);
    expect(small.accept()!.tuple.remotePort).toBe(40002);
  });
});

describe("ESTABLISHED", () => {
  it("acknowledges data cumulatively (S15); every segment carries ACK (S1)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK | PSH, seq: R(1), ack: seqAdd(iss, 1), payload: "abc" });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(4) }]);
    expect(text(conn.read())).toBe("abc");
  });

  it("holds out-of-order data, sends a duplicate ACK, and delivers in order when the gap fills (S18)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(4), ack: seqAdd(iss, 1), payload: "def" });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
    expect(conn.readable).toBe(0);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), payload: "abc" });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(7) }]);
    expect(text(conn.read())).toBe("abcdef");
  });

  it("discards duplicates and partial overlaps so no byte is delivered twice (S19)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), payload: "abc" });
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), payload: "abc" });
    h.deliver({ flags: ACK, seq: R(2), ack: seqAdd(iss, 1), payload: "bcdef" });
    expect(text(conn.read())).toBe("abcdef");
    const acks = h.takeSent().map((s) => s.ack);
    expect(acks).toEqual([R(4), R(4), R(7)]);
  });

  it("segments data by the peer's MSS and never exceeds its window (S14, S17)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 3000 });
    conn.send(new Uint8Array(5000).fill(7));
    h.settle();
    // 2 x 1460 fill the window but for 80 bytes; a runt that small waits (SWS avoidance).
    expect(h.takeSent().map((s) => [s.seq, s.payload.length])).toEqual([[seqAdd(iss, 1), 1460], [seqAdd(iss, 1461), 1460]]);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 2921), window: 3000 });
    // Minshall's Nagle: the 620-byte tail goes at once, as no earlier short segment is unacknowledged.
    expect(h.takeSent().map((s) => [s.seq, s.payload.length])).toEqual([[seqAdd(iss, 2921), 1460], [seqAdd(iss, 4381), 620]]);
  });

  it("Nagle: a second short write waits until the first short segment is acknowledged", () => {
    const { h, conn, iss } = established();
    conn.send(bytes("a"));
    h.settle();
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(1), payload: "a" }]);
    conn.send(bytes("b"));
    h.settle();
    h.expectNothingSent();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 2) });
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 2), ack: R(1), payload: "b" }]);
    conn.noDelay = true;
    conn.send(bytes("c"));
    conn.send(bytes("d"));
    h.settle();
    // Without Nagle nothing waits: both writes leave in the next segment.
    expect(h.takeSent().map((s) => text(s.payload))).toEqual(["cd"]);
  });

  it("FIN from the peer: ACK ack=w+1, CLOSE_WAIT, end of stream for the reader (S22, S23, S24)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(iss, 1) });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(2) }]);
    expect(conn.state).toBe("CLOSE_WAIT");
    expect(conn.peerFinished).toBe(true);
  });

  it("an exact RST resets the connection (ECONNRESET, S32)", () => {
    const { h, conn } = established();
    h.deliver({ flags: RST, seq: R(1) });
    expect(conn.state).toBe("CLOSED");
    expect(conn.error?.code).toBe("ECONNRESET");
    h.expectNothingSent();
  });

  it("an in-window RST that is not exact only gets a challenge ACK (RFC 5961 3.2)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: RST, seq: R(100) });
    expect(conn.state).toBe("ESTABLISHED");
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
  });

  it("a SYN gets a challenge ACK, rate-limited to one per 500 ms (RFC 5961 4.2)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: SYN, seq: R(500) });
    h.deliver({ flags: SYN, seq: R(600) });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
    h.advance(500);
    h.deliver({ flags: SYN, seq: R(700) });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
    expect(conn.state).toBe("ESTABLISHED");
  });

  it("data outside the window is not accepted; an ACK tells the peer where we are", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(1_000_000), ack: seqAdd(iss, 1), payload: "zzz" });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
    expect(conn.readable).toBe(0);
  });

  it("accepts a pure ACK at exactly RCV.NXT + RCV.WND, as Linux's tcp_sequence() (RFC 9293 would drop it)", () => {
    const { h, conn, iss } = established();
    conn.send(bytes("hello"));
    h.settle();
    h.takeSent();
    const wnd = conn.inspect().rcvWnd;
    expect(wnd).toBeGreaterThan(0);
    h.deliver({ flags: ACK, seq: seqAdd(R(1), wnd), ack: seqAdd(iss, 6) });
    expect(conn.inspect().sndUna).toBe(seqAdd(iss, 6));
  });

  it("an ACK for data never sent is dropped in ESTABLISHED and answered with a challenge ACK (RFC 9293 3.10.7.4; Linux since 6.18.38 / 7.1)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 50), payload: "x" });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
    expect(conn.readable).toBe(0);
  });

  it("an ACK for data never sent in CLOSE_WAIT gets a (rate-limited) challenge ACK", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK | FIN, seq: R(1), ack: seqAdd(iss, 1) });
    h.settle();
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(2) }]);
    expect(conn.state).toBe("CLOSE_WAIT");
    h.deliver({ flags: ACK, seq: R(2), ack: seqAdd(iss, 50), payload: "x" });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(2) }]);
  });

  it("retransmits unacknowledged data on timeout with exponential backoff (S16)", () => {
    const { h, conn, iss } = established();
    conn.send(bytes("hello"));
    h.settle();
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(1), payload: "hello" }]);
    const t1 = h.nextTimer();
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(1), payload: "hello" }]);
    const t2 = h.nextTimer();
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(1), payload: "hello" }]);
    expect(t2 - t1).toBeCloseTo(2 * t1, 6);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 6) });
    expect(conn.inspect().timers.rto).toBe(Infinity);
  });

  it("fast retransmit after three duplicate ACKs (RFC 5681 3.2)", () => {
    const { h, conn, iss } = established();
    conn.send(new Uint8Array(1460 * 5));
    h.settle();
    expect(h.takeSent()).toHaveLength(5);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1461) });
    for (let i = 0; i < 3; i++) h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1461) });
    const sent = h.takeSent();
    expect(sent.map((s) => [s.seq, s.payload.length])).toEqual([[seqAdd(iss, 1461), 1460]]);
    expect(conn.congestion.inRecovery).toBe(true);
  });

  it("probes a zero window with backoff and resumes when it opens (S17)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 0 });
    conn.send(bytes("data"));
    h.settle();
    h.expectNothingSent();
    const t1 = h.nextTimer();
    h.expectSent([{ flags: ACK, seq: iss, ack: R(1) }]);
    const t2 = h.nextTimer();
    h.expectSent([{ flags: ACK, seq: iss, ack: R(1) }]);
    expect(t2 - t1).toBeGreaterThan(t1 - 0);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 100 });
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(1), payload: "data" }]);
  });

  it("advertises a zero window when the reader stops, then a window update after reading (S17)", () => {
    const { h, conn, iss } = established({ receiveBufferSize: 4096 });
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), payload: new Uint8Array(2048) });
    h.deliver({ flags: ACK, seq: R(2049), ack: seqAdd(iss, 1), payload: new Uint8Array(2048) });
    const acks = h.takeSent();
    expect(acks.at(-1)!.window).toBe(0);
    h.deliver({ flags: ACK, seq: R(4097), ack: seqAdd(iss, 1), payload: "x" });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(4097), window: 0 }]);
    conn.read();
    h.settle();
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(4097), window: 4096 }]);
  });

  it("close() sends FIN seq=u and enters FIN_WAIT_1 (S22)", () => {
    const { h, conn, iss } = established();
    conn.close();
    h.settle();
    expect(conn.state).toBe("FIN_WAIT_1");
    h.expectSent([{ flags: FIN | ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
  });

  it("close() with unread data sends RST instead of FIN (like Linux, RFC 2525)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), payload: "unread" });
    h.takeSent();
    conn.close();
    h.settle();
    h.expectSent([{ flags: RST | ACK, seq: seqAdd(iss, 1), ack: R(7) }]);
    expect(conn.state).toBe("CLOSED");
  });

  it("abort() sends RST", () => {
    const { h, conn, iss } = established();
    conn.abort();
    h.expectSent([{ flags: RST | ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
    expect(conn.state).toBe("CLOSED");
  });

  it("delays a lone ACK by 40 ms once quick-ACK mode is over", () => {
    const { h, conn, iss } = established({ quickAcks: 0 });
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), payload: "a" });
    h.expectNothingSent();
    expect(h.nextTimer()).toBe(40);
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: R(2) }]);
    void conn;
  });
});

describe("FIN_WAIT_1", () => {
  function finWait1() {
    const e = established();
    e.conn.close();
    e.h.settle();
    e.h.takeSent();
    return e;
  }

  it("ACK of our FIN -> FIN_WAIT_2 (S22)", () => {
    const { h, conn, iss } = finWait1();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 2) });
    expect(conn.state).toBe("FIN_WAIT_2");
    h.expectNothingSent();
  });

  it("FIN+ACK of our FIN -> straight to TIME_WAIT (S26)", () => {
    const { h, conn, iss } = finWait1();
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(iss, 2) });
    expect(conn.state).toBe("TIME_WAIT");
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 2), ack: R(2) }]);
  });

  it("FIN without the ACK of ours -> CLOSING, then TIME_WAIT on the ACK (S26 simultaneous close)", () => {
    const { h, conn, iss } = finWait1();
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(iss, 1) });
    expect(conn.state).toBe("CLOSING");
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 2), ack: R(2) }]);
    h.deliver({ flags: ACK, seq: R(2), ack: seqAdd(iss, 2) });
    expect(conn.state).toBe("TIME_WAIT");
  });

  it("retransmits the FIN on timeout", () => {
    const { h, iss } = finWait1();
    h.nextTimer();
    h.expectSent([{ flags: FIN | ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
  });
});

describe("FIN_WAIT_2", () => {
  function finWait2(orphan = true) {
    const e = established();
    if (orphan) e.conn.close();
    else e.conn.shutdown();
    e.h.settle();
    e.h.takeSent();
    e.h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(e.iss, 2) });
    return e;
  }

  it("keeps receiving data after a half-close (S24)", () => {
    const { h, conn, iss } = finWait2(false);
    h.deliver({ flags: ACK | PSH, seq: R(1), ack: seqAdd(iss, 2), payload: "more" });
    expect(text(conn.read())).toBe("more");
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 2), ack: R(5) }]);
  });

  it("FIN -> ACK seq=u+1 ack=w+1, TIME_WAIT (S22)", () => {
    const { h, conn, iss } = finWait2();
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(iss, 2) });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 2), ack: R(2) }]);
    expect(conn.state).toBe("TIME_WAIT");
  });

  it("an orphan gives up FIN_WAIT_2 after 60 s (S31); a later FIN meets RST (S30)", () => {
    const { h, conn, iss } = finWait2(true);
    h.advance(59_999);
    expect(conn.state).toBe("FIN_WAIT_2");
    h.advance(1);
    expect(conn.state).toBe("CLOSED");
    h.expectNothingSent();
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(iss, 2) });
    h.expectSent([{ flags: RST, seq: seqAdd(iss, 2) }]);
  });

  it("a half-closed (not orphaned) socket waits in FIN_WAIT_2 indefinitely", () => {
    const { h, conn } = finWait2(false);
    h.advance(3_600_000);
    expect(conn.state).toBe("FIN_WAIT_2");
  });

  it("data for an orphan is answered with RST (Linux TCPAbortOnData)", () => {
    const { h, conn, iss } = finWait2(true);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 2), payload: "late" });
    h.expectSent([{ flags: RST, seq: seqAdd(iss, 2), ack: 0 as Seq }]);
    expect(conn.state).toBe("CLOSED");
  });
});

describe("CLOSE_WAIT", () => {
  function closeWait() {
    const e = established();
    e.h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(e.iss, 1) });
    e.h.takeSent();
    return e;
  }

  it("can still send data after the peer's FIN (S24 half-close)", () => {
    const { h, conn, iss } = closeWait();
    conn.send(bytes("still talking"));
    h.settle();
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(2), payload: "still talking" }]);
  });

  it("close() sends FIN seq=w ack=u+1 and enters LAST_ACK (S22, S25)", () => {
    const { h, conn, iss } = closeWait();
    conn.close();
    h.settle();
    h.expectSent([{ flags: FIN | ACK, seq: seqAdd(iss, 1), ack: R(2) }]);
    expect(conn.state).toBe("LAST_ACK");
  });
});

describe("LAST_ACK", () => {
  function lastAck() {
    const e = established();
    e.h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(e.iss, 1) });
    e.conn.close();
    e.h.settle();
    e.h.takeSent();
    return e;
  }

  it("the ACK of our FIN closes the connection (S22)", () => {
    const { h, conn, iss } = lastAck();
    h.deliver({ flags: ACK, seq: R(2), ack: seqAdd(iss, 2) });
    expect(conn.state).toBe("CLOSED");
    expect(conn.error).toBeUndefined();
  });

  it("retransmits the FIN on timeout until acknowledged (S29)", () => {
    const { h, conn, iss } = lastAck();
    const t1 = h.nextTimer();
    h.expectSent([{ flags: FIN | ACK, seq: seqAdd(iss, 1), ack: R(2) }]);
    const t2 = h.nextTimer();
    h.expectSent([{ flags: FIN | ACK, seq: seqAdd(iss, 1), ack: R(2) }]);
    expect(t2 - t1).toBeCloseTo(2 * t1, 6);
    h.deliver({ flags: ACK, seq: R(2), ack: seqAdd(iss, 2) });
    expect(conn.state).toBe("CLOSED");
  });

  /** Runs the timers until the connection gives up; when each FIN went again. */
  function finResends(h: Harness, conn: { isClosed(): boolean }): number[] {
    const times: number[] = [];
    while (!conn.isClosed() && h.now < 7_200_000) {
      const t = h.nextTimer();
      if (h.takeSent().length > 0) times.push(Math.round(t));
    }
    return times;
  }

  it("models Linux's retry times (tcp_model_timeout): 924.6 s for 15 retries from 200 ms, 127 s for 6 from 1 s, 102.2 s for 8", () => {
    expect(modelTimeout(15, 200, 120_000)).toBe(924_600);
    expect(modelTimeout(6, 1000, 120_000)).toBe(127_000);
    expect(modelTimeout(8, 200, 120_000)).toBe(102_200);
    expect(modelTimeout(0, 200, 120_000)).toBe(200);
  });

  it("gives up after the data retry limit (S29): TCP_RETRIES2 as a time, 924.6 s from the first resend (Linux tcp_model_timeout)", () => {
    const e = established();
    e.h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(e.iss, 1) });
    e.conn.shutdown(); // the application keeps the socket: not an orphan
    e.h.settle();
    e.h.takeSent();
    const times = finResends(e.h, e.conn);
    expect(e.conn.error?.code).toBe("ETIMEDOUT");
    // The 16th resend, 924.4 s after the first, is still inside 924.6 s; the next timeout is past it.
    expect(times).toHaveLength(16);
    expect(times[15]! - times[0]!).toBeCloseTo(924_400, -1);
    expect(Math.round(e.h.now) - times[0]!).toBeCloseTo(1_044_400, -1);
  });

  it("gives up sooner once the application closed the socket (S29): 8 orphan retries, 102.2 s from the first resend (Linux tcp_orphan_retries)", () => {
    const { h, conn } = lastAck();
    const times = finResends(h, conn);
    expect(conn.error?.code).toBe("ETIMEDOUT");
    expect(times).toHaveLength(9);
    expect(times[8]! - times[0]!).toBeCloseTo(102_000, -1);
  });
});

describe("CLOSING", () => {
  it("retransmits its FIN and reaches TIME_WAIT on the ACK", () => {
    const { h, conn, iss } = established();
    conn.close();
    h.settle();
    h.takeSent();
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(iss, 1) });
    h.takeSent();
    expect(conn.state).toBe("CLOSING");
    h.nextTimer();
    h.expectSent([{ flags: FIN | ACK, seq: seqAdd(iss, 1), ack: R(2) }]);
    h.deliver({ flags: ACK, seq: R(2), ack: seqAdd(iss, 2) });
    expect(conn.state).toBe("TIME_WAIT");
  });
});

describe("TIME_WAIT", () => {
  function timeWait(msl?: number) {
    const e = established(msl !== undefined ? { msl } : {});
    e.conn.close();
    e.h.settle();
    e.h.takeSent();
    e.h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(e.iss, 2) });
    e.h.takeSent();
    return e;
  }

  it("lasts 2 MSL = 60 s by default, then CLOSED (S27)", () => {
    const { h, conn } = timeWait();
    expect(conn.state).toBe("TIME_WAIT");
    h.advance(59_999);
    expect(conn.state).toBe("TIME_WAIT");
    h.advance(1);
    expect(conn.state).toBe("CLOSED");
    h.expectNothingSent();
  });

  it("MSL is a setting: msl=120 s (RFC 1122) gives a 240 s TIME_WAIT (S27)", () => {
    const { h, conn } = timeWait(120_000);
    h.advance(239_999);
    expect(conn.state).toBe("TIME_WAIT");
    h.advance(1);
    expect(conn.state).toBe("CLOSED");
  });

  it("a retransmitted FIN is ACKed again and restarts the 2 MSL timer (S27)", () => {
    const { h, conn, iss } = timeWait();
    h.advance(30_000);
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(iss, 2) });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 2), ack: R(2) }]);
    h.advance(59_999);
    expect(conn.state).toBe("TIME_WAIT");
    h.advance(1);
    expect(conn.state).toBe("CLOSED");
  });

  it("a SYN for the same 4-tuple does not open a new connection (S28)", () => {
    const { h, conn, iss, listener } = timeWait();
    h.deliver({ flags: SYN, seq: R(100_000) });
    expect(conn.state).toBe("TIME_WAIT");
    expect(listener.synQueue.size).toBe(0);
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 2), ack: R(2) }]);
  });

  it("connect() never picks an ephemeral port whose 4-tuple is in TIME_WAIT (S28)", () => {
    const h = new Harness({ ephemeralPorts: [40000, 40001] });
    const to = { localAddr: IpAddress.v4(LOCAL_ADDR), remoteAddr: IpAddress.v4(REMOTE_ADDR), remotePort: 443 };
    const first = h.host.tcp.connect(to);
    h.settle();
    const peer = { addr: REMOTE_ADDR, port: 443, toPort: first.tuple.localPort };
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(first.iss, 1) }, peer);
    first.close();
    h.settle();
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(first.iss, 2) }, peer);
    expect(first.state).toBe("TIME_WAIT");
    const second = h.host.tcp.connect(to);
    expect(second.tuple.localPort).not.toBe(first.tuple.localPort);
    expect(() => h.host.tcp.connect(to)).toThrow(expect.objectContaining({ code: "EADDRNOTAVAIL" }));
    h.advance(60_000);
    expect(first.state).toBe("CLOSED");
    expect(h.host.tcp.connect(to).tuple.localPort).toBe(first.tuple.localPort);
  });
});

describe("persist and keep-alive settings", () => {
  it("a receiver that answers every probe is never given up on, however long its window stays closed (RFC 1122 4.2.2.17)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 0 });
    conn.send(bytes("data"));
    h.settle();
    // Answer each probe with the same zero window for two hours of virtual time.
    for (let i = 0; i < 200 && h.now < 7_200_000; i++) {
      h.nextTimer();
      for (const probe of h.takeSent()) {
        expect(probe.seq).toBe(iss);
        h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 0 });
      }
    }
    expect(h.now).toBeGreaterThan(3_600_000);
    expect(conn.state).toBe("ESTABLISHED");
    expect(conn.error).toBeUndefined();
  });

  it("gives up a closed (orphaned) connection whose peer keeps answering with a zero window, as Linux (tcp_probe_timer, tcp_orphan_retries)", () => {
    for (const inFlight of [false, true]) {
      const { h, conn, iss } = established();
      const una = seqAdd(iss, 1);
      if (!inFlight) h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
      conn.send(new Uint8Array(5000));
      h.settle();
      h.takeSent();
      if (inFlight) h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
      conn.close();
      h.settle();
      h.takeSent();
      while (!conn.isClosed() && h.now < 36_000_000) {
        h.nextTimer();
        for (const _probe of h.takeSent()) h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
      }
      expect(conn.state, inFlight ? "data in flight" : "nothing in flight").toBe("CLOSED");
      // Probes until their interval reaches the 120 s maximum (324.6 s); with data in flight, the timeouts' 8 orphan retries (204.6 s).
      expect(Math.round(h.now), inFlight ? "data in flight" : "nothing in flight").toBe(inFlight ? 204_601 : 324_601);
    }
  });

  it("keep-alive timings can be set per connection (TCP_KEEPIDLE / KEEPINTVL / KEEPCNT)", () => {
    const { h, conn } = established();
    conn.setKeepAlive(true, h.now, { idle: 10_000, interval: 1_000, probes: 3 });
    const times: number[] = [];
    for (let i = 0; i < 10 && conn.state !== "CLOSED"; i++) {
      const t = h.nextTimer();
      if (h.takeSent().length > 0) times.push(t);
    }
    // Three unanswered probes at 10, 11, 12 s; at 13 s a RST and ETIMEDOUT.
    expect(times).toEqual([10_000, 11_000, 12_000, 13_000]);
    expect(conn.error?.code).toBe("ETIMEDOUT");
    expect(() => conn.setKeepAlive(true, 0, { idle: -1 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
  });

  it("with TCP_USER_TIMEOUT, keep-alive gives up once the peer was silent that long, whatever TCP_KEEPCNT says (Linux tcp_keepalive_timer)", () => {
    const { h, conn } = established({ userTimeout: 3_000 });
    const heard = h.now;
    conn.setKeepAlive(true, h.now, { idle: 10_000, interval: 1_000, probes: 9 });
    const times: number[] = [];
    for (let i = 0; i < 20 && conn.state !== "CLOSED"; i++) {
      const t = h.nextTimer();
      if (h.takeSent().length > 0) times.push(t - heard);
    }
    // One probe at 10 s (none was out before, so the 3 s already passed do not end it yet); at 11 s the RST and ETIMEDOUT.
    expect(times).toEqual([10_000, 11_000]);
    expect(conn.error?.code).toBe("ETIMEDOUT");
  });

  it("keep-alive stands aside while data waits in the send buffer: the persist timer's probes decide (Linux tcp_keepalive_timer)", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 0 });
    conn.setKeepAlive(true, h.now, { idle: 1_000, interval: 1_000, probes: 2 });
    conn.send(bytes("data"));
    h.settle();
    // The peer falls silent. Keep-alive's count would end the connection at 3 s; the
    // zero-window probes back off and end it only after TCP_RETRIES2 of them.
    while (conn.state !== "CLOSED" && h.now < 3_600_000) h.nextTimer();
    expect(conn.error?.code).toBe("ETIMEDOUT");
    expect(h.now).toBeGreaterThan(60_000);
  });

  it("setNoDelay(true) sends at once what Nagle was holding", () => {
    const { h, conn, iss } = established();
    conn.send(bytes("a"));
    conn.send(bytes(""));
    h.settle();
    h.takeSent();
    conn.send(bytes("b"));
    h.settle();
    h.expectNothingSent();
    conn.setNoDelay(true);
    h.settle();
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 2), ack: R(1), payload: "b" }]);
  });
});
