/**
 * MSG_EOR (Linux 4.14 "tcp: add MSG_EOR support"): the last byte of a write sent with
 * `eor` ends a record, and no segment carries it together with a byte written after it -
 * not new data (tcp_sendmsg starts a new skb), not a retransmission (tcp_can_collapse), not
 * an MTU probe (tcp_can_coalesce_send_queue_head). Each test checks the exact cut, and
 * `crossesNone` checks every segment against the record ends, so a segment that joins two
 * records fails whichever path sent it.
 */
import { describe, expect, it } from "vitest";
import { RecordEnds } from "../../src/tcp/record-ends.js";
import { seq, seqAdd, seqDiff, type Seq } from "../../src/wire/seq.js";
import { ACK, PSH, type TcpSegment } from "../../src/wire/tcp.js";
import { established, REMOTE_SEQ } from "./harness.js";
import { transferOverNarrowPath } from "./narrow-path.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);

/** Each segment as [offset of its first byte in the stream, length]; offset 0 is the byte after our SYN. */
const cuts = (sent: TcpSegment[], iss: Seq) => sent.filter((s) => s.payload.length > 0).map((s) => [seqDiff(s.seq, iss) - 1, s.payload.length]);

/** Asserts that no segment holds bytes on both sides of a record end (stream offsets). */
function crossesNone(sent: TcpSegment[], iss: Seq, ends: number[]): void {
  for (const [from, len] of cuts(sent, iss)) {
    for (const e of ends) expect(from < e && e < from! + len!, `segment ${from}+${len} crosses the record end at ${e}`).toBe(false);
  }
}

describe("RecordEnds", () => {
  it("finds the first record end above a sequence number, across wrap-around", () => {
    const r = new RecordEnds();
    const base = seq(0xffff_ff00);
    for (const n of [100, 300, 600]) r.add(seqAdd(base, n));
    expect(r.after(base)).toBe(seqAdd(base, 100));
    expect(r.after(seqAdd(base, 100))).toBe(seqAdd(base, 300)); // an end bounds what starts before it only
    expect(r.after(seqAdd(base, 299))).toBe(seqAdd(base, 300));
    expect(r.after(seqAdd(base, 600))).toBeUndefined();
    expect(r.left(seqAdd(base, 250))).toBe(50);
    expect(r.left(seqAdd(base, 600))).toBe(Infinity);
  });

  it("forgets ends the peer acknowledged, however many there were", () => {
    const r = new RecordEnds();
    for (let i = 1; i <= 100; i++) r.add(seq(i * 10));
    r.acked(seq(905));
    expect(r.after(seq(0))).toBe(seq(910));
    r.acked(seq(1000));
    expect(r.after(seq(0))).toBeUndefined();
    r.add(seq(1010));
    expect(r.after(seq(0))).toBe(seq(1010));
  });
});

describe("MSG_EOR: new data", () => {
  it("the write after a record starts a new segment, though both would fit one", () => {
    const { h, conn, iss } = established({ noDelay: true });
    conn.send(new Uint8Array(1000), { eor: true });
    conn.send(new Uint8Array(1000));
    h.settle();
    const sent = h.takeSent();
    expect(cuts(sent, iss)).toEqual([[0, 1000], [1000, 1000]]);
    expect(sent.map((s) => s.flags)).toEqual([ACK | PSH, ACK | PSH]);
  });

  it("without eor the same writes share a segment (the control for the test above)", () => {
    const { h, conn, iss } = established({ noDelay: true });
    conn.send(new Uint8Array(1000));
    conn.send(new Uint8Array(1000));
    h.settle();
    expect(cuts(h.takeSent(), iss)).toEqual([[0, 1460], [1460, 540]]);
  });

  it("a record's first bytes still join the data before it; only its end is a boundary", () => {
    const { h, conn, iss } = established({ noDelay: true });
    conn.send(new Uint8Array(1000));
    conn.send(new Uint8Array(1000), { eor: true });
    conn.send(new Uint8Array(1000));
    h.settle();
    const sent = h.takeSent();
    expect(cuts(sent, iss)).toEqual([[0, 1460], [1460, 540], [2000, 1000]]);
    crossesNone(sent, iss, [2000]);
  });

  it("Nagle does not hold a record's short last segment when data follows it (Linux: only the queue's last skb waits)", () => {
    const { h, conn, iss } = established();
    conn.send(new Uint8Array(500), { eor: true });
    conn.send(new Uint8Array(2920));
    h.settle();
    expect(cuts(h.takeSent(), iss)).toEqual([[0, 500], [500, 1460], [1960, 1460]]);
  });

  it("Nagle still holds a record that ends the queue while a short segment is unacknowledged", () => {
    const { h, conn, iss } = established();
    conn.send(new Uint8Array(100), { eor: true });
    h.settle();
    expect(cuts(h.takeSent(), iss)).toEqual([[0, 100]]);
    conn.send(new Uint8Array(100), { eor: true });
    h.settle();
    h.expectNothingSent();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 101) });
    expect(cuts(h.takeSent(), iss)).toEqual([[100, 100]]);
  });

  it("a TSO packet ends at a record end: with MSG_MORE too, its last segment carries PSH (tso-chunks.ts)", () => {
    const { h, conn, iss } = established({ noDelay: true });
    conn.send(new Uint8Array(2920), { eor: true, more: true });
    conn.send(new Uint8Array(1000));
    h.settle();
    const sent = h.takeSent();
    expect(cuts(sent, iss)).toEqual([[0, 1460], [1460, 1460], [2920, 1000]]);
    expect(sent.map((s) => s.flags)).toEqual([ACK, ACK | PSH, ACK | PSH]);
  });

  it("a write the buffer takes only part of ends no record: its last byte is yet to come", () => {
    const { conn, iss } = established({ sendBufferSize: 3000 });
    conn.setCork(true);
    const room = conn.sendRoom(1_000_000); // the skbs a write may fill (write-admission.ts)
    expect(conn.send(new Uint8Array(room + 1000), { eor: true })).toBe(room);
    expect(conn.sender.recordLeft(seqAdd(iss, 1))).toBe(Infinity); // no record ends anywhere
    const more = established({ sendBufferSize: 3000 });
    more.conn.setCork(true);
    expect(more.conn.send(new Uint8Array(1000), { eor: true })).toBe(1000);
    expect(more.conn.sender.recordLeft(seqAdd(more.iss, 1))).toBe(1000); // all of it taken: the record ends there
  });
});

describe("MSG_EOR: retransmissions", () => {
  /** Six records of 300 bytes and a 3,000-byte write, all sent: stream offsets of the record ends. */
  function sixRecords(tcp = {}) {
    const e = established({ noDelay: true, ...tcp });
    for (let i = 0; i < 6; i++) e.conn.send(new Uint8Array(300), { eor: true });
    e.conn.send(new Uint8Array(3000));
    e.h.settle();
    const sent = e.h.takeSent();
    expect(cuts(sent, e.iss)).toEqual([[0, 300], [300, 300], [600, 300], [900, 300], [1200, 300], [1500, 300], [1800, 1460], [3260, 1460], [4720, 80]]);
    return { ...e, ends: [300, 600, 900, 1200, 1500, 1800] };
  }

  it("a timeout resends the first record alone, then each record in its own segment (go-back-N)", () => {
    const { h, iss, ends } = sixRecords();
    h.nextTimer(); // RTO
    const first = h.takeSent();
    // The window of one MSS (counted in bytes, where Linux counts packets) takes the first
    // records whole and the next up to its edge: never the first record with the next one.
    expect(cuts(first, iss)).toEqual([[0, 300], [300, 300], [600, 300], [900, 300], [1200, 260]]);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 301) });
    const more = h.takeSent();
    expect(cuts(more, iss).slice(0, 2)).toEqual([[1460, 40], [1500, 300]]);
    crossesNone([...first, ...more], iss, ends);
  });

  it("fast retransmit and NewReno's partial ACKs resend one record at a time (RFC 6582 3.2)", () => {
    const { h, iss, ends } = sixRecords();
    for (let i = 0; i < 3; i++) h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    const fast = h.takeSent();
    expect(cuts(fast, iss)).toEqual([[0, 300]]);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 301) });
    const partial = h.takeSent();
    expect(cuts(partial, iss)[0]).toEqual([300, 300]);
    crossesNone([...fast, ...partial], iss, ends);
  });

  it("once the records are acknowledged, new data and its resends are cut by MSS alone", () => {
    const { h, conn, iss } = sixRecords();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 4801) });
    conn.send(new Uint8Array(3000));
    h.settle();
    expect(cuts(h.takeSent(), iss)).toEqual([[4800, 1460], [6260, 1460], [7720, 80]]);
    h.nextTimer();
    expect(cuts(h.takeSent(), iss)).toEqual([[4800, 1460]]);
  });
});

describe("MSG_EOR: MTU probes (RFC 4821, Linux tcp_mtu_probe)", () => {
  it("no probe is built across a record end (tcp_can_coalesce_send_queue_head), yet the search still climbs", () => {
    // A black hole at 1,400 bytes: after 3 s of timeouts segments shrink to 1,024 bytes and
    // the search probes upwards with segments of about 1,230 bytes (mtu-probe.test.ts). In
    // 2,500-byte records a probe due where less than that is left of the record would
    // cross its end (several do, if nothing stops them); it waits for a record's start.
    const record = 2500;
    const t = transferOverNarrowPath({ pathMtu: 1400, bytes: 400_000, tcp: { mtuProbing: 1 }, mtuErrors: false, runFor: 30_000, record });
    expect(t.received()).toBe(400_000);
    expect(t.probes.some((e) => /acknowledged/.test(e.detail))).toBe(true);
    expect(t.conn.sendMss).toBeGreaterThan(1024);
    crossesNone(t.sent, t.conn.iss, Array.from({ length: 400_000 / record }, (_, i) => (i + 1) * record));
  });
});
