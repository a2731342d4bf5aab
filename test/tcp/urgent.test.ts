/**
 * Urgent data (RFC 9293 3.8.5, RFC 6093) as Linux: the urgent module's rules, then one
 * connection driven segment by segment, then a simulated pair.
 */
import { describe, expect, it } from "vitest";
import { IpAddress } from "../../src/wire/address.js";
import { seq, seqAdd } from "../../src/wire/seq.js";
import { ACK, PSH, URG } from "../../src/wire/tcp.js";
import { UrgentReceiver, UrgentSender } from "../../src/tcp/urgent.js";
import type { Connection } from "../../src/tcp/connection.js";
import { bytes, established, REMOTE_SEQ, text } from "./harness.js";
import { CLIENT_ADDR, pair, SERVER_ADDR } from "./fixtures.js";
import { dropNth, tcp } from "../../src/sim/index.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);

describe("UrgentSender (SND.UP, Linux tcp_transmit_skb)", () => {
  const una = seq(1000);
  it("carries no pointer until a MSG_OOB write, and none once SND.UNA reaches SND.UP", () => {
    const u = new UrgentSender();
    expect(u.field(una, una, una)).toBeUndefined();
    u.mark(seq(1010));
    expect(u.field(una, una, una)).toBe(10);
    expect(u.field(seq(1005), una, una)).toBe(5);
    expect(u.field(seq(1010), una, una)).toBeUndefined(); // a segment starting at SND.UP is past the urgent data
    expect(u.pointer(seq(1010))).toBeUndefined(); // acknowledged: urgent mode over
    expect(u.field(seq(1005), seq(1010), seq(1010))).toBeUndefined();
  });

  it("says 0xFFFF when SND.UP is more than 64K ahead, unless that points into data already sent", () => {
    const u = new UrgentSender();
    u.mark(seq(1000 + 100_000));
    expect(u.field(una, una, una)).toBe(0xffff);
    expect(u.field(seq(1000 + 100_000 - 0xffff), una, una)).toBe(0xffff);
    expect(u.field(seq(1000 + 100_000 - 0xffff + 1), una, una)).toBe(0xffff - 1);
    // A retransmission from SND.UNA while SND.NXT is 70000 further: 0xFFFF would point into sent data.
    expect(u.field(una, una, seq(1000 + 70_000))).toBeUndefined();
  });

  it("works across sequence number wrap-around", () => {
    const u = new UrgentSender();
    u.mark(seq(5));
    expect(u.field(seq(0xfffffffb), seq(0xfffffffb), seq(0xfffffffb))).toBe(10);
  });
});

describe("UrgentReceiver (Linux tcp_check_urg, tcp_urg, tcp_recv_urg)", () => {
  const start = seq(100);
  it("the byte before the pointer is urgent; it is taken once, then EINVAL", () => {
    const u = new UrgentReceiver();
    expect(u.readOob(false, false)).toEqual({ error: "EINVAL" }); // nothing pending
    expect(u.onPointer(start, 3, start, start)).toEqual({ fresh: true, discardAtReader: false });
    expect(u.mark).toBe(seq(102));
    expect(u.readOob(false, false)).toEqual({ error: "EAGAIN" }); // not arrived yet
    expect(u.capture(start, bytes("abX"))).toBe(true);
    expect(u.readOob(true, false)).toEqual({ byte: 0x58 }); // MSG_PEEK leaves it
    expect(u.readOob(false, false)).toEqual({ byte: 0x58 });
    expect(u.readOob(false, false)).toEqual({ error: "EINVAL" }); // already read
  });

  it("reads stop before the mark and skip the byte at it; SO_OOBINLINE keeps it", () => {
    const u = new UrgentReceiver();
    u.onPointer(start, 3, start, start);
    u.capture(start, bytes("abX"));
    expect(u.plan(start, 100, 3)).toEqual({ skip: 0, max: 2 });
    expect(u.atMark(start)).toBe(false);
    expect(u.atMark(seq(102))).toBe(true);
    expect(u.plan(seq(102), 100, 1)).toEqual({ skip: 1, max: 100 });
    expect(u.hidden(seq(102), 1)).toBe(1);
    u.inline = true;
    expect(u.plan(seq(102), 100, 1)).toEqual({ skip: 0, max: 100 });
    expect(u.readOob(false, false)).toEqual({ error: "EINVAL" });
    u.afterRead(seq(103));
    expect(u.mark).toBeUndefined();
  });

  it("ignores pointers already read past, into data held, or not newer", () => {
    const u = new UrgentReceiver();
    expect(u.onPointer(start, 1, seq(101), seq(101)).fresh).toBe(false); // reader is past byte 100
    expect(u.onPointer(start, 3, start, seq(110)).fresh).toBe(false); // byte 102 already received
    expect(u.onPointer(start, 5, start, start).fresh).toBe(true);
    expect(u.onPointer(start, 5, start, start).fresh).toBe(false); // the same pointer again
    expect(u.onPointer(start, 4, start, start).fresh).toBe(false); // an older one
    expect(u.onPointer(start, 9, start, start).fresh).toBe(true);
  });

  it("at end of stream without the byte, recv(MSG_OOB) returns 0", () => {
    const u = new UrgentReceiver();
    u.onPointer(start, 3, start, start);
    expect(u.readOob(false, true)).toEqual({ eof: true });
  });
});

describe("one connection: URG on the wire", () => {
  it("a MSG_OOB write carries URG with a pointer past its last byte, on every segment until acknowledged", () => {
    const { h, conn, iss } = established();
    conn.send(bytes("hello"), { oob: true });
    h.settle();
    const [first] = h.takeSent();
    expect(first!.flags).toBe(ACK | PSH | URG);
    expect(first!.urgentPointer).toBe(5);
    expect(first!.seq).toBe(seqAdd(iss, 1));
    // Unacknowledged: the retransmission carries URG too.
    h.advance(1000);
    const resent = h.takeSent();
    expect(resent.length).toBeGreaterThan(0);
    expect(resent[0]!.flags & URG).toBe(URG);
    expect(resent[0]!.urgentPointer).toBe(5);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 6) });
    conn.send(bytes("more"));
    h.settle();
    const [after] = h.takeSent();
    expect(after!.flags & URG).toBe(0);
    expect(after!.urgentPointer).toBe(0);
  });

  it("the urgent write goes out at once although Nagle holds the tail of earlier data", () => {
    const { h, conn, iss } = established();
    conn.send(new Uint8Array(100));
    h.settle();
    h.takeSent(); // a short segment is now unacknowledged: Nagle holds the next one
    conn.send(new Uint8Array(10));
    h.settle();
    h.expectNothingSent();
    conn.send(bytes("!"), { oob: true });
    h.settle();
    const [seg] = h.takeSent();
    expect(seg!.seq).toBe(seqAdd(iss, 101));
    expect(seg!.payload.length).toBe(11);
    expect(seg!.urgentPointer).toBe(11);
    expect(seg!.flags & URG).toBe(URG);
  });

  it("while urgent data is unacknowledged Nagle holds nothing; data after SND.UP carries no URG", () => {
    const { h, conn, iss } = established();
    conn.send(bytes("ab!"), { oob: true });
    h.settle();
    expect(h.takeSent().map((s) => s.urgentPointer)).toEqual([3]);
    conn.send(bytes("more"));
    h.settle();
    const [next] = h.takeSent();
    expect(next!.seq).toBe(seqAdd(iss, 4)); // Nagle would have held it for the ACK
    expect(next!.flags & URG).toBe(0);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 8) });
    conn.send(bytes("x"));
    h.settle();
    conn.send(bytes("y"));
    h.settle();
    expect(h.takeSent().map((s) => s.payload.length)).toEqual([1]); // urgent mode over: Nagle again
  });

  it("a pointer more than 64K ahead is sent as 0xFFFF, then exact once within reach", () => {
    const { h, conn, iss } = established({ sendBufferSize: 1 << 20 });
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 65535 });
    conn.send(new Uint8Array(100_000), { oob: true });
    h.settle();
    const sent = h.takeSent();
    expect(sent.length).toBeGreaterThan(0);
    for (const s of sent) {
      const distance = 100_001 - (s.seq - iss);
      expect(s.flags & URG).toBe(URG);
      expect(s.urgentPointer).toBe(Math.min(distance, 0xffff));
    }
    expect(sent[0]!.urgentPointer).toBe(0xffff);
  });

  function received(): { h: ReturnType<typeof established>["h"]; conn: Connection } {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK | PSH | URG, seq: R(1), ack: seqAdd(iss, 1), payload: "abcX", urg: 4 });
    h.deliver({ flags: ACK | PSH, seq: R(5), ack: seqAdd(iss, 1), payload: "def" });
    return { h, conn };
  }

  it("receiving: the byte before the pointer is taken out of band; reads stop at the mark and skip it", () => {
    const { conn } = received();
    expect(conn.atMark).toBe(false);
    expect(conn.readable).toBe(7); // every byte counts until the reader reaches the mark (SIOCINQ stops at it: inq.test.ts)
    expect(text(conn.read())).toBe("abc");
    expect(conn.readable).toBe(3); // at the mark, the out-of-band byte is not for read()
    expect(conn.atMark).toBe(true);
    expect(conn.readOob()).toEqual({ byte: "X".charCodeAt(0) });
    expect(conn.readOob()).toEqual({ error: "EINVAL" });
    expect(conn.readable).toBe(3);
    expect(text(conn.read())).toBe("def");
    expect(conn.atMark).toBe(false);
  });

  it("a read at the mark skips the byte even if it was never taken with MSG_OOB", () => {
    const { conn } = received();
    expect(text(conn.read())).toBe("abc");
    expect(text(conn.read())).toBe("def");
    expect(conn.readOob()).toEqual({ error: "EINVAL" }); // the mark is passed
  });

  it("with SO_OOBINLINE the byte stays in the stream and MSG_OOB says EINVAL", () => {
    const { h, conn, iss } = established();
    conn.setOobInline(true);
    h.deliver({ flags: ACK | PSH | URG, seq: R(1), ack: seqAdd(iss, 1), payload: "abcX", urg: 4 });
    h.deliver({ flags: ACK | PSH, seq: R(5), ack: seqAdd(iss, 1), payload: "def" });
    expect(conn.readOob()).toEqual({ error: "EINVAL" });
    expect(text(conn.read())).toBe("abc"); // still stops at the mark
    expect(conn.atMark).toBe(true);
    expect(text(conn.read())).toBe("Xdef");
  });

  it("a second urgent pointer replaces the first: the earlier byte becomes ordinary data", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK | PSH | URG, seq: R(1), ack: seqAdd(iss, 1), payload: "aX", urg: 2 });
    h.deliver({ flags: ACK | PSH | URG, seq: R(3), ack: seqAdd(iss, 1), payload: "bY", urg: 2 });
    expect(conn.readOob()).toEqual({ byte: "Y".charCodeAt(0) });
    expect(text(conn.read())).toBe("aXb");
    expect(conn.atMark).toBe(true);
    expect(text(conn.read())).toBe("");
  });

  it("a pointer into data not yet received: EAGAIN until the byte comes", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK | PSH | URG, seq: R(1), ack: seqAdd(iss, 1), payload: "ab", urg: 5 });
    expect(conn.readOob()).toEqual({ error: "EAGAIN" });
    expect(text(conn.read())).toBe("ab");
    h.deliver({ flags: ACK | PSH, seq: R(3), ack: seqAdd(iss, 1), payload: "cdZe" });
    expect(text(conn.read())).toBe("cd");
    expect(conn.readOob()).toEqual({ byte: "Z".charCodeAt(0) });
    expect(text(conn.read())).toBe("e");
  });
});

describe("a simulated pair", () => {
  function connected(opts: Parameters<typeof pair>[0] = {}) {
    const p = pair(opts);
    const listener = p.server.tcp.listen(80);
    const c = p.client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 80 });
    p.net.runUntil(() => c.state === "ESTABLISHED", 5000);
    p.net.runFor(50);
    const s = listener.accept()!;
    return { ...p, c, s };
  }

  it("one end sends an urgent byte, the other reads it out of band, then inline on a second connection", () => {
    const { net, c, s, events } = connected();
    c.send(bytes("data"));
    c.send(bytes("!"), { oob: true });
    c.send(bytes("tail"));
    net.runFor(200);
    expect(s.readOob()).toEqual({ byte: "!".charCodeAt(0) });
    expect(text(s.read())).toBe("data");
    expect(text(s.read())).toBe("tail");
    const urgent = events.filter((e) => e.type === "urgent").map((e) => (e.type === "urgent" ? `${e.host} ${e.action}: ${e.detail}` : ""));
    expect(urgent).toContain("server byte: URG: urgent pointer 5, byte '!' taken out of band");

    const inline = connected({ seed: 2 });
    inline.s.setOobInline(true);
    inline.c.send(bytes("data!"), { oob: true });
    inline.c.send(bytes("tail"));
    inline.net.runFor(200);
    expect(text(inline.s.read())).toBe("data");
    expect(inline.s.atMark).toBe(true);
    expect(text(inline.s.read())).toBe("!tail");
  });

  it("the urgent pointer survives a lost segment: the retransmission carries it", () => {
    const { net, c, s, events } = connected({ seed: 3 });
    net.setPath("client", "server", { delay: 10, filter: dropNth(tcp({ hasPayload: true }), 1) });
    c.send(bytes("urgent!"), { oob: true });
    net.runFor(2000);
    const out = events.flatMap((e) => (e.type === "segment-out" && e.host === "client" && e.segment.payload.length > 0 ? [e] : []));
    expect(out.length).toBe(2);
    expect(out[1]!.retransmit).toBe(true);
    for (const e of out) {
      expect(e.segment.flags & URG).toBe(URG);
      expect(e.segment.urgentPointer).toBe(7);
    }
    expect(s.readOob()).toEqual({ byte: "!".charCodeAt(0) });
    expect(text(s.read())).toBe("urgent");
  });
});
