/**
 * MSG_ZEROCOPY completions (zerocopy.ts; Linux Documentation/networking/msg_zerocopy.rst).
 * With SO_ZEROCOPY on, each send that takes bytes takes the next id; the id completes once
 * SND.UNA has passed the send's last byte, and completions not yet read merge into one
 * range. The connection tests drive one established connection segment by segment and
 * read the error queue between ACKs.
 */
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, TcpError } from "../../src/tcp/errors.js";
import { Zerocopy, type ZerocopyCompletion } from "../../src/tcp/zerocopy.js";
import { isTxTimestamp, type ErrorQueueEntry } from "../../src/tcp/error-queue.js";
import { seq, seqAdd, seqDiff, type Seq } from "../../src/wire/seq.js";
import { ACK, RST, SYN } from "../../src/wire/tcp.js";
import { established, listening, REMOTE_SEQ } from "./harness.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);
/** Every completion waiting, oldest first, as [lo, hi]. */
function drain(read: () => ErrorQueueEntry | undefined): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let e = read(); e !== undefined; e = read()) {
    if (isTxTimestamp(e)) throw new Error("a TX timestamp on a zerocopy-only queue");
    const c: ZerocopyCompletion = e;
    expect(c.copied).toBe(true); // synack copies every payload into its packet
    out.push([c.lo, c.hi]);
  }
  return out;
}

/** An established connection with SO_ZEROCOPY on, and a way to acknowledge up to stream offset `n`. */
function zerocopyConnection(tcp = {}) {
  const { h, conn, iss } = established({ noDelay: true, ...tcp });
  conn.setZerocopy(true);
  /** The peer acknowledges up to stream offset `n`, in as many ACKs as the window needs to let it out. */
  const ackTo = (n: number) => {
    for (let round = 0; round < 100; round++) {
      h.settle(); // what was queued leaves first: an ACK above SND.NXT would be dropped
      const upTo = Math.min(n, seqDiff(conn.sender.sndNxt, seqAdd(iss, 1)));
      h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1 + upTo) });
      if (upTo >= n) return;
    }
    throw new Error(`offset ${n} never left`);
  };
  const read = () => drain(() => conn.readErrorQueue());
  return { h, conn, iss, ackTo, read };
}

describe("Zerocopy: ids and the error queue", () => {
  const end = (n: number): Seq => seq(n);

  it("ids are consecutive and complete in order as SND.UNA passes each send's end", () => {
    const z = new Zerocopy();
    z.enabled = true;
    expect([z.wrote(end(100)), z.wrote(end(200)), z.wrote(end(300))]).toEqual([0, 1, 2]);
    expect(z.acked(seq(99))).toBe(false);
    expect(z.ready).toBe(false);
    z.acked(seq(100));
    expect(z.read()).toEqual({ lo: 0, hi: 0, copied: true });
    z.acked(seq(300));
    expect(z.read()).toEqual({ lo: 1, hi: 2, copied: true });
    expect(z.read()).toBeUndefined();
  });

  it("a completion merges into the unread range before it, not into one already read", () => {
    const z = new Zerocopy();
    z.enabled = true;
    for (let i = 1; i <= 4; i++) z.wrote(end(i * 10));
    z.acked(seq(10));
    z.acked(seq(20));
    expect(z.read()).toEqual({ lo: 0, hi: 1, copied: true });
    z.acked(seq(30));
    z.acked(seq(40));
    expect(z.read()).toEqual({ lo: 2, hi: 3, copied: true });
    expect(z.reports).toBe(4); // every completion wakes the socket, merged or not
  });

  it("ids wrap at 2^32 and a range merges across the wrap", () => {
    const z = new Zerocopy();
    z.enabled = true;
    z.nextId = 0xffff_ffff;
    expect(z.wrote(end(10))).toBe(0xffff_ffff);
    expect(z.wrote(end(20))).toBe(0);
    z.acked(seq(10));
    z.acked(seq(20));
    expect(z.read()).toEqual({ lo: 0xffff_ffff, hi: 0, copied: true });
  });

  it("sequence numbers wrap too: a send ending past 2^32 completes when SND.UNA gets there", () => {
    const z = new Zerocopy();
    z.enabled = true;
    z.wrote(seq(0xffff_fff0 + 0x20)); // wraps to 0x10
    expect(z.acked(seq(0xffff_fff8))).toBe(false);
    expect(z.acked(seq(0x10))).toBe(true);
  });

  it("off, a send takes no id", () => {
    const z = new Zerocopy();
    expect(z.wrote(end(10))).toBeUndefined();
    expect(z.purged()).toBe(false);
    expect(z.nextId).toBe(0);
  });
});

describe("MSG_ZEROCOPY on a connection", () => {
  it("completes only when the peer has acknowledged every byte of the send", () => {
    const { conn, ackTo, read } = zerocopyConnection();
    expect(conn.send(new Uint8Array(3000), { zerocopy: true })).toBe(3000);
    ackTo(1460);
    ackTo(2920);
    expect(conn.errorQueueReady).toBe(false);
    expect(read()).toEqual([]);
    ackTo(3000);
    expect(conn.errorQueueReady).toBe(true);
    expect(read()).toEqual([[0, 0]]);
    expect(conn.errorQueueReady).toBe(false);
  });

  it("a SACK does not complete a send: its bytes are still the stack's until SND.UNA passes them", () => {
    const { h, listener } = listening({ sack: true, noDelay: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, sackPermitted: true } });
    const iss = h.takeSent()[0]!.seq;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    const conn = listener.accept()!;
    conn.setZerocopy(true);
    conn.send(new Uint8Array(1000), { zerocopy: true });
    conn.send(new Uint8Array(1000), { zerocopy: true });
    h.settle();
    // The second send SACKed, the first not acknowledged.
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), options: { sackBlocks: [{ left: seqAdd(iss, 1001), right: seqAdd(iss, 2001) }] } });
    expect(conn.inspect().sacked).toBe(540); // taken, for the whole segment 1460..2000 it covers
    expect(conn.readErrorQueue()).toBeUndefined();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 2001) });
    expect(conn.readErrorQueue()).toEqual({ lo: 0, hi: 1, copied: true });
  });

  it("ids are consecutive over sends; unread completions come as one range, read ones close it", () => {
    const { conn, ackTo, read } = zerocopyConnection();
    conn.send(new Uint8Array(100), { zerocopy: true });
    ackTo(100);
    conn.send(new Uint8Array(100), { zerocopy: true });
    ackTo(200);
    expect(read()).toEqual([[0, 1]]);
    conn.send(new Uint8Array(100), { zerocopy: true });
    ackTo(300);
    expect(read()).toEqual([[2, 2]]);
  });

  it("one ACK for several sends completes them as one range", () => {
    const { conn, ackTo, read } = zerocopyConnection();
    for (let i = 0; i < 5; i++) conn.send(new Uint8Array(100), { zerocopy: true });
    ackTo(250);
    expect(read()).toEqual([[0, 1]]);
    ackTo(500);
    expect(read()).toEqual([[2, 4]]);
  });

  it("is ignored before SO_ZEROCOPY is set: no id is used and nothing is queued", () => {
    const { h, conn, iss } = established({ noDelay: true });
    conn.send(new Uint8Array(100), { zerocopy: true });
    h.settle();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 101) });
    expect(conn.sendBuffer.length).toBe(0);
    expect(conn.readErrorQueue()).toBeUndefined();
    conn.setZerocopy(true);
    expect(conn.zerocopy).toBe(true);
    conn.send(new Uint8Array(100), { zerocopy: true });
    h.settle();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 201) });
    expect(conn.readErrorQueue()).toEqual({ lo: 0, hi: 0, copied: true });
  });

  it("sends without the flag, and zerocopy: false, take no id", () => {
    const { conn, ackTo, read } = zerocopyConnection();
    conn.send(new Uint8Array(100));
    conn.send(new Uint8Array(100), { zerocopy: false });
    conn.send(new Uint8Array(100), { zerocopy: true });
    ackTo(300);
    expect(read()).toEqual([[0, 0]]);
  });

  it("a send that takes nothing or fails uses no id: full buffer, empty data, after shutdown", () => {
    const { conn, ackTo, read } = zerocopyConnection({ sendBufferSize: 4608 });
    const room = conn.sendRoom(1_000_000); // the skbs a write may fill (write-admission.ts)
    expect(conn.send(new Uint8Array(room), { zerocopy: true })).toBe(room); // id 0 fills the buffer
    expect(conn.send(new Uint8Array(100), { zerocopy: true })).toBe(0);
    expect(conn.send(new Uint8Array(0), { zerocopy: true })).toBe(0);
    ackTo(room);
    conn.send(new Uint8Array(10), { zerocopy: true }); // id 1
    ackTo(room + 10);
    expect(read()).toEqual([[0, 1]]);
    conn.shutdown();
    expect(() => conn.send(new Uint8Array(10), { zerocopy: true })).toThrow(TcpError);
    expect(conn.sender.zerocopy()?.nextId).toBe(2);
  });

  it("a partial send takes an id for what it took; \"continue\" adds the rest to that id", () => {
    const { conn, ackTo, read } = zerocopyConnection({ sendBufferSize: 4608 });
    const room = conn.sendRoom(1_000_000);
    const data = new Uint8Array(room + 1392);
    expect(conn.send(data, { zerocopy: true })).toBe(room);
    ackTo(room - 1); // one byte and one skb's cost left: room for a new skb
    expect(conn.send(data.subarray(room), { zerocopy: "continue" })).toBe(1392);
    ackTo(room);
    expect(read()).toEqual([]); // id 0 now ends at room + 1392
    ackTo(room + 1392);
    expect(read()).toEqual([[0, 0]]);
  });

  it("keeps the caller's bytes by reference until the completion: the send buffer holds a view, not a copy", () => {
    const { conn, ackTo } = zerocopyConnection();
    const data = new Uint8Array(1000).fill(7);
    conn.send(data, { zerocopy: true });
    data[999] = 9; // the caller wrote too early: the stack sees it (why the completion matters)
    expect(conn.sendBuffer.peek(999, 1)[0]).toBe(9);
    ackTo(1000);
    expect(conn.sendBuffer.length).toBe(0);
    expect(conn.readErrorQueue()).toEqual({ lo: 0, hi: 0, copied: true });
  });

  it("a reset drops what is unacknowledged: every outstanding send completes at once", () => {
    const { h, conn, ackTo, read } = zerocopyConnection();
    conn.send(new Uint8Array(100), { zerocopy: true });
    conn.send(new Uint8Array(100), { zerocopy: true });
    conn.send(new Uint8Array(100), { zerocopy: true });
    ackTo(100);
    expect(read()).toEqual([[0, 0]]);
    h.deliver({ flags: RST, seq: R(1) });
    expect(conn.state).toBe("CLOSED");
    expect(read()).toEqual([[1, 2]]);
  });

  it("after close() nothing more is queued (Linux SOCK_DEAD), even when the data is acknowledged", () => {
    const { conn, ackTo, read } = zerocopyConnection();
    conn.send(new Uint8Array(100), { zerocopy: true });
    conn.close();
    ackTo(101); // the data and our FIN
    expect(conn.sender.sendBuffer.length).toBe(0);
    expect(read()).toEqual([]);
  });

  it("after abort() nothing is queued for the sends it dropped", () => {
    const { conn, read } = zerocopyConnection();
    conn.send(new Uint8Array(100), { zerocopy: true });
    conn.abort();
    expect(read()).toEqual([]);
  });

  it("turning SO_ZEROCOPY off stops new ids; those taken still complete", () => {
    const { conn, ackTo, read } = zerocopyConnection();
    conn.send(new Uint8Array(100), { zerocopy: true });
    conn.setZerocopy(false);
    expect(conn.zerocopy).toBe(false);
    conn.send(new Uint8Array(100), { zerocopy: true });
    ackTo(200);
    expect(read()).toEqual([[0, 0]]);
  });

  it("bad arguments are InvalidArgumentError (ERR_INVALID_ARG_VALUE) and change nothing", () => {
    const { conn } = zerocopyConnection();
    expect(() => conn.setZerocopy(1 as unknown as boolean)).toThrow(InvalidArgumentError);
    expect(() => conn.send(new Uint8Array(10), { zerocopy: "yes" as unknown as boolean })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
    expect(conn.sendBuffer.length).toBe(0);
    expect(conn.sender.zerocopy()?.nextId).toBe(0);
  });

  it("an idle connection holds no zerocopy state until SO_ZEROCOPY is set", () => {
    const { conn } = established();
    expect(conn.sender.zerocopy()).toBeUndefined();
    expect(conn.zerocopy).toBe(false);
    expect(conn.errorQueueReady).toBe(false);
    conn.setZerocopy(false);
    expect(conn.sender.zerocopy()).toBeUndefined();
  });
});
