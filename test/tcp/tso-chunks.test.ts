import { describe, expect, it } from "vitest";
import { PushMarks } from "../../src/tcp/push-marks.js";
import { RecordEnds } from "../../src/tcp/record-ends.js";
import { TsoChunks, cwndQuota, tsoSegments, tsoShouldDefer, writeSizeGoal, type DeferView, type TsoPath } from "../../src/tcp/tso-chunks.js";
import type { Seq } from "../../src/wire/seq.js";

const path = (over: Partial<TsoPath> = {}): TsoPath => ({ cwnd: 10_000, ssthresh: Number.MAX_SAFE_INTEGER, srtt: 100, minRtt: 100, mss: 1000, minTsoSegs: 2, ...over });

/** Which of `n` full segments sent in one pass carry PSH for ending a TSO packet. */
function pass(chunks: TsoChunks, p: TsoPath, n: number, pipe0 = 0): boolean[] {
  chunks.startPass();
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push(chunks.segment(p, pipe0 + i * p.mss, true, i < n - 1));
  return out;
}

describe("tcp_tso_autosize (tsoSegments)", () => {
  it("is tcp_min_tso_segs on a slow path: 200% of 10 kB per 100 ms is under a segment per ms", () => {
    expect(tsoSegments(path())).toBe(2);
    expect(tsoSegments(path({ minTsoSegs: 10 }))).toBe(10);
  });
  it("adds gso_max_size >> (min_rtt_us >> 9) on short paths and caps at 64 KiB", () => {
    expect(tsoSegments(path({ minRtt: 0 }))).toBe(65);
    expect(tsoSegments(path({ minRtt: 5, srtt: 5 }))).toBe(Math.floor((Math.floor(4_000_000 / 1024) + Math.floor(65536 / 2 ** 9)) / 1000));
  });
  it("is unlimited before an RTT sample (the pacing rate starts unlimited)", () => {
    expect(tsoSegments(path({ srtt: undefined, minRtt: Infinity }))).toBe(65);
  });
  it("paces at 200% of cwnd / srtt in slow start, 120% after", () => {
    // 40 kB per 10 ms: 8 MB/s in slow start, 7812 bytes per 1/1024 s; 4.8 MB/s after, 4687.
    expect(tsoSegments(path({ cwnd: 40_000, srtt: 10 }))).toBe(7);
    expect(tsoSegments(path({ cwnd: 40_000, ssthresh: 40_000, srtt: 10 }))).toBe(4);
  });
});

describe("tcp_cwnd_test (cwndQuota)", () => {
  it("keeps two packets in flight: at most half the window per packet", () => {
    expect(cwndQuota(10, 0)).toBe(5);
    expect(cwndQuota(10, 7)).toBe(3);
    expect(cwndQuota(3, 1)).toBe(1);
    expect(cwndQuota(2, 2)).toBe(0);
    expect(cwndQuota(1, 0)).toBe(1);
  });
});

describe("TSO packets and PSH (TsoChunks)", () => {
  it("ends each packet of a cwnd-limited burst with PSH (the old rule marked only the burst's last segment)", () => {
    // cwnd 10, tcp_min_tso_segs 10: packets of cwnd / 2 = 5 segments.
    expect(pass(new TsoChunks(), path({ minTsoSegs: 10 }), 10)).toEqual([false, false, false, false, true, false, false, false, false, true]);
  });
  it("cuts packets at tcp_tso_segs when that is smaller than the cwnd quota", () => {
    expect(pass(new TsoChunks(), path(), 5)).toEqual([false, true, false, true, false]);
  });
  it("gives a one-segment packet no PSH of its own", () => {
    // cwnd 3 with 1 in flight: quota max(3 / 2, 1) = 1 segment per packet.
    expect(pass(new TsoChunks(), path({ cwnd: 3000 }), 2, 1000)).toEqual([false, false]);
  });
  it("ends a packet where nothing more can go now (window or cwnd), if it has two segments", () => {
    const c = new TsoChunks();
    c.startPass();
    expect(c.segment(path({ minRtt: 0 }), 0, true, true)).toBe(false);
    expect(c.segment(path({ minRtt: 0 }), 1000, true, false)).toBe(true);
  });
  it("restarts at a retransmission or runt, and at each pass", () => {
    const c = new TsoChunks();
    c.startPass();
    expect(c.segment(path(), 0, true, true)).toBe(false);
    expect(c.segment(path(), 1000, false, true)).toBe(false);
    expect(c.segment(path(), 2000, true, true)).toBe(false);
    c.startPass();
    expect(c.segment(path(), 3000, true, true)).toBe(false);
    expect(c.segment(path(), 4000, true, true)).toBe(true);
  });
});

describe("forced push on skb boundaries (writeSizeGoal, PushMarks)", () => {
  it("sizes skbs at 64 KiB in whole segments, bounded to half the largest window", () => {
    expect(writeSizeGoal(1000, 65_000)).toBe(32_000);
    expect(writeSizeGoal(1000, 32_896)).toBe(16_000);
    expect(writeSizeGoal(1000, 0)).toBe(65_000);
    expect(writeSizeGoal(1000, 1000)).toBe(1000);
  });
  it("puts the forced push at the first skb boundary past pushed_seq + max_window / 2, not the first MSS one", () => {
    const start = 2001 as Seq;
    const marks = new PushMarks(start);
    marks.wrote(start, 202_001 as Seq, start, 2000, 32_896);
    // 2001 + 16448 = 18449: the MSS rule marked 19001, Linux's skbs of 2000 end at 20001.
    expect(marks.covers(18_001 as Seq, 19_001 as Seq)).toBe(false);
    expect(marks.covers(19_001 as Seq, 20_001 as Seq)).toBe(true);
    expect(marks.covers(20_001 as Seq, 38_001 as Seq)).toBe(true);
    expect(marks.covers(20_001 as Seq, 36_001 as Seq)).toBe(false);
  });
  it("puts it on the skbs as a split laid them out: after the window let the head skb out in part", () => {
    // Linux epoll_out_edge: skbs of 16000, the first split at 10001 by a window of 10 segments,
    // then refilled: skbs end at 26001, 42001, ... and 26001 is the first past 1 + 16448.
    const marks = new PushMarks(1 as Seq);
    marks.wrote(1 as Seq, 58_001 as Seq, 10_001 as Seq, 16_000, 32_896);
    expect(marks.covers(16_001 as Seq, 26_000 as Seq)).toBe(false);
    expect(marks.covers(25_001 as Seq, 26_001 as Seq)).toBe(true);
    expect(marks.covers(26_001 as Seq, 42_001 as Seq)).toBe(false);
    expect(marks.covers(42_001 as Seq, 58_001 as Seq)).toBe(true);
  });
});

describe("a write joining the unsent tail skb (PushMarks)", () => {
  // Skbs of 16000 from SND.NXT = 1 (no window: no forced push); writes of 10000 bytes.
  const write = (marks: PushMarks, start: number, end: number, grid = 1): void => marks.wrote(start as Seq, end as Seq, grid as Seq, 16_000, 0);
  it("moves the previous write's push point to the skb's end, as Linux's PSH is the skb's flag", () => {
    const marks = new PushMarks(1 as Seq);
    write(marks, 1, 10_001);
    write(marks, 10_001, 20_001); // fills the tail skb to 16001, then starts one
    expect(marks.covers(9_001 as Seq, 10_001 as Seq)).toBe(false);
    expect(marks.covers(15_001 as Seq, 16_001 as Seq)).toBe(true);
    expect(marks.covers(19_001 as Seq, 20_001 as Seq)).toBe(true);
    write(marks, 20_001, 25_001); // ends inside the same skb: only its own end is marked
    expect(marks.covers(19_001 as Seq, 20_001 as Seq)).toBe(false);
    expect(marks.covers(24_001 as Seq, 25_001 as Seq)).toBe(true);
  });
  it("keeps it where the tail skb was sent, full, or ends a MSG_EOR record", () => {
    const sent = new PushMarks(1 as Seq);
    write(sent, 1, 10_001);
    write(sent, 10_001, 20_001, 10_001); // everything was sent: the write starts an skb of its own
    expect(sent.covers(9_001 as Seq, 10_001 as Seq)).toBe(true);
    const full = new PushMarks(1 as Seq);
    write(full, 1, 16_001);
    write(full, 16_001, 20_001);
    expect(full.covers(15_001 as Seq, 16_001 as Seq)).toBe(true);
    const record = new PushMarks(1 as Seq);
    write(record, 1, 10_001);
    (record.records = new RecordEnds()).add(10_001 as Seq);
    write(record, 10_001, 20_001);
    expect(record.covers(9_001 as Seq, 10_001 as Seq)).toBe(true);
  });
});

describe("TSO deferral (tsoShouldDefer, Linux tcp_tso_should_defer)", () => {
  // A LAN path in slow start: SRTT 0.2 ms, 20 segments of cwnd with 18 in flight, so 2
  // segments of room; the peer's window is large; the head of the flight left 0.15 ms ago,
  // so its ACK is due in 0.05 ms; the last send was 0.05 ms ago.
  const view = (over: Partial<DeferView> = {}): DeferView => ({
    now: 10, lastSendAt: 9.95, recovering: false, mss: 1000, cwndSegs: 20, inFlightSegs: 18, sendWindow: 500_000, sndWnd: 500_000,
    maxSegs: 44, skbLen: 64_000, tail: false, closed: false, headSentAt: 9.85, srtt: 0.2, winDivisor: 3, ...over,
  });
  it("waits for the ACK due soon when cwnd lets out a sliver of a full packet", () => {
    expect(tsoShouldDefer(view())).toBe(true);
  });
  it("sends once the room holds a full TSO packet", () => {
    expect(tsoShouldDefer(view({ maxSegs: 2 }))).toBe(false);
    expect(tsoShouldDefer(view({ cwndSegs: 70, inFlightSegs: 26 }))).toBe(false);
  });
  it("sends once the room is a third of the window (tcp_tso_win_divisor 3), or any of it with 100", () => {
    expect(tsoShouldDefer(view({ cwndSegs: 6, inFlightSegs: 4 }))).toBe(false); // 2000 >= 6000 / 3
    expect(tsoShouldDefer(view({ cwndSegs: 7, inFlightSegs: 5 }))).toBe(true); // 2000 < 7000 / 3
    expect(tsoShouldDefer(view({ winDivisor: 100 }))).toBe(false);
  });
  it("with tcp_tso_win_divisor 0 sends once the room exceeds 3 segments (tcp_max_tso_deferred_mss)", () => {
    expect(tsoShouldDefer(view({ winDivisor: 0, inFlightSegs: 17 }))).toBe(true); // 3 segments
    expect(tsoShouldDefer(view({ winDivisor: 0, inFlightSegs: 16 }))).toBe(false); // 4
  });
  it("never waits in recovery, after 1 ms without a send, or with nothing in flight", () => {
    expect(tsoShouldDefer(view({ recovering: true }))).toBe(false);
    expect(tsoShouldDefer(view({ lastSendAt: 9 }))).toBe(false);
    expect(tsoShouldDefer(view({ lastSendAt: undefined }))).toBe(false);
    expect(tsoShouldDefer(view({ headSentAt: undefined }))).toBe(false);
  });
  it("never waits when the ACK is due later than min(SRTT / 2, 1 ms), as on a long path right after its oldest segment left", () => {
    expect(tsoShouldDefer(view({ headSentAt: 9.95 }))).toBe(false); // due in 0.15 ms, after SRTT / 2
    expect(tsoShouldDefer(view({ headSentAt: 9.9 }))).toBe(true); // due in 0.1 ms: still waits
    expect(tsoShouldDefer(view({ srtt: 40, headSentAt: 9.95, lastSendAt: 9.95 }))).toBe(false);
    // An overdue ACK (due in the past) is waited for, as Linux does.
    expect(tsoShouldDefer(view({ headSentAt: 5 }))).toBe(true);
  });
  it("sends a middle skb that fits whole, and waits on a short tail skb unless FIN or a record end closes it", () => {
    expect(tsoShouldDefer(view({ skbLen: 2000 }))).toBe(false);
    expect(tsoShouldDefer(view({ skbLen: 1500, tail: true }))).toBe(true);
    expect(tsoShouldDefer(view({ skbLen: 1500, tail: true, closed: true }))).toBe(false);
    // Linux's `cong_win <= skb->len`: a tail skb exactly the room's size still waits, FIN or not.
    expect(tsoShouldDefer(view({ skbLen: 2000, tail: true, closed: true }))).toBe(true);
  });
  it("waits when the peer's window, not cwnd, holds the skb back", () => {
    expect(tsoShouldDefer(view({ cwndSegs: 100, inFlightSegs: 18, sendWindow: 2000, sndWnd: 20_000 }))).toBe(true);
    expect(tsoShouldDefer(view({ cwndSegs: 100, inFlightSegs: 18, sendWindow: 7000, sndWnd: 20_000 }))).toBe(false); // a third
  });
});
