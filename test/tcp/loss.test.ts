/**
 * Loss detection and recovery: the sent-segment log, RACK (RFC 8985 section 6), the tail
 * loss probe (section 7), D-SACK (RFC 2883) on both ends, and TCP_USER_TIMEOUT (RFC 5482).
 * Algorithms are tested alone first, then through a connection with exact segments.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rack } from "../../src/tcp/loss/rack.js";
import { EVER_RETRANS, LOST, RETRANS_OUT, SACKED, SentLog } from "../../src/tcp/loss/sent-log.js";
import { TailLossProbe } from "../../src/tcp/loss/tlp.js";
import { Scoreboard, splitDsack } from "../../src/tcp/sack.js";
import { tcpInfo } from "../../src/tcp/tcp-info.js";
import { seq, seqAdd, seqDiff, seqLt, type Seq } from "../../src/wire/seq.js";
import { ACK, PSH, SYN } from "../../src/wire/tcp.js";
import { established, listening, REMOTE_SEQ, synSent, type Harness } from "./harness.js";

const MSS = 1000;
const R = (n: number) => seqAdd(REMOTE_SEQ, n);
const nothing = { delivered: () => {} };

/** A log of `n` segments of MSS bytes from sequence 0, sent at the given times (default 0). */
function logOf(n: number, times: number[] = []): SentLog {
  const log = new SentLog();
  for (let k = 0; k < n; k++) log.onSend(seq(k * MSS), seq((k + 1) * MSS), times[k] ?? 0);
  return log;
}

/**
 * A SACK connection (MSS 1000, a 10 ms handshake RTT) that has sent `n` full segments of
 * new data: the harness, SND.UNA before them and `at(k)`, where segment k starts.
 */
function sentSegments(n: number): { h: Harness; una: Seq; at: (k: number) => Seq } {
  const { h, listener } = listening({ sack: true });
  h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000, sackPermitted: true } });
  const una = seqAdd(h.takeSent()[0]!.seq, 1);
  h.advance(10);
  h.deliver({ flags: ACK, seq: R(1), ack: una, window: 65535 });
  listener.accept()!.send(new Uint8Array(n * MSS));
  h.settle();
  expect(h.takeSent()).toHaveLength(n);
  return { h, una, at: (k) => seqAdd(una, k * MSS) };
}

describe("SentLog", () => {
  it("keeps one record per segment, drops what a cumulative ACK covers and reports each as delivered", () => {
    const log = logOf(4, [0, 1, 2, 3]);
    const delivered: number[] = [];
    log.onAck(seq(2500), { delivered: (_s, end) => delivered.push(end) });
    expect(delivered).toEqual([1000, 2000]);
    expect(log.size).toBe(2);
    expect(log.start(0)).toBe(2500); // an ACK inside a record trims it
  });

  it("marks whole records SACKED only, and a retransmission restamps and flags a record", () => {
    const log = logOf(4);
    const sacked: number[] = [];
    log.onSack(seq(1000), seq(2500), { delivered: (_s, end) => sacked.push(end) });
    expect(sacked).toEqual([2000]); // 2000:3000 is only half covered
    expect(log.flags(1) & SACKED).toBe(SACKED);
    expect(log.wholeRecords(seq(3999), seq(4000))).toBeUndefined(); // one byte of a segment: nothing (Linux)
    expect(log.markLost(0)).toBe(MSS);
    expect(log.lostBytes).toBe(MSS);
    log.onSend(seq(0), seq(1000), 50);
    expect(log.flags(0) & (LOST | RETRANS_OUT | EVER_RETRANS)).toBe(RETRANS_OUT | EVER_RETRANS);
    expect(log.sentAt(0)).toBe(50);
    expect(log.lostBytes).toBe(0);
  });

  it("grows past its initial ring without losing order", () => {
    const log = logOf(100, Array.from({ length: 100 }, (_, k) => k));
    log.onAck(seq(30 * MSS), nothing);
    for (let k = 100; k < 140; k++) log.onSend(seq(k * MSS), seq((k + 1) * MSS), k);
    expect(log.size).toBe(110);
    expect(log.start(0)).toBe(30 * MSS);
    expect(log.end(109)).toBe(140 * MSS);
    expect(log.indexOf(seq(77 * MSS + 5))).toBe(47);
  });

  it("grows while its ring has wrapped, keeping every field of every record", () => {
    const log = logOf(16, Array.from({ length: 16 }, (_, k) => k));
    log.onAck(seq(10 * MSS), nothing); // head moves to slot 10
    for (let k = 16; k < 30; k++) log.onSend(seq(k * MSS), seq((k + 1) * MSS), k); // wraps, then grows
    log.markLost(log.indexOf(seq(20 * MSS)));
    for (let i = 0; i < log.size; i++) {
      expect([log.start(i), log.end(i), log.sentAt(i)]).toEqual([(10 + i) * MSS, (11 + i) * MSS, 10 + i]);
    }
    expect(log.flags(10) & LOST).toBe(LOST);
    expect(log.lostBytes).toBe(MSS);
  });
});

describe("RACK (RFC 8985 section 6)", () => {
  it("marks a segment lost once a later-sent one is delivered and RACK.rtt + reo_wnd has passed", () => {
    const log = logOf(3, [0, 0, 0]);
    const rack = new Rack();
    // At 20 ms the third segment is SACKed: RACK.rtt = 20, reordering window min_rtt/4 = 5 ms.
    log.onSack(seq(2000), seq(3000), { delivered: (_s, end, at, f) => rack.onDelivered(20, end, at, f, 20) });
    const early = rack.detectLoss(log, 20, rack.reorderWindow(false, 1, 20, 20));
    expect(early).toEqual({ lostBytes: 0, lostSegments: 0, timeout: 5 });
    const late = rack.detectLoss(log, 25, 5, true); // the reordering timer
    expect(late.lostSegments).toBe(2);
    expect(log.lostBytes).toBe(2 * MSS);
  });

  it("does not judge a segment resent in the same instant by the delivery of one first sent then", () => {
    // Four segments sent at 10 ms; the first is lost and resent at 10 ms too, then a SACK
    // delivers the third. With equal send times the end-sequence tie-break would call the
    // resent first segment "sent before" the third and mark it lost again; it went out after.
    const log = logOf(4, [10, 10, 10, 10]);
    const rack = new Rack();
    log.onSack(seq(1000), seq(2000), { delivered: (_s, end, at, f) => rack.onDelivered(10, end, at, f, Infinity) });
    expect(rack.detectLoss(log, 10, 0).lostSegments).toBe(1); // the first segment
    rack.onResend(10, seq(4000)); // resent at once, when SND.MAX was 4000
    log.onSend(seq(0), seq(1000), 10);
    log.onSack(seq(2000), seq(3000), { delivered: (_s, end, at, f) => rack.onDelivered(10, end, at, f, Infinity) });
    const again = rack.detectLoss(log, 10, 0);
    expect(again.lostSegments).toBe(0);
    expect(log.flags(0) & (LOST | RETRANS_OUT)).toBe(RETRANS_OUT);
    // Resent at 10 ms and still missing when a segment sent later (11 ms) is delivered: lost.
    log.onSend(seq(4000), seq(5000), 11);
    log.onSack(seq(4000), seq(5000), { delivered: (_s, end, at, f) => rack.onDelivered(12, end, at, f, Infinity) });
    expect(rack.detectLoss(log, 12, 0).lostSegments).toBe(2); // the resent first and the unSACKed fourth
  });

  it("remembers an instant's resends after later ones: a delivery judged a round trip on does not mark them lost again", () => {
    // As above, but another resend (at 15 ms) comes between the first resend and the SACK
    // of the third segment (at 30 ms): that resend must not make RACK forget that the first
    // segment went out after the third, in the same instant.
    const log = logOf(4, [10, 10, 10, 10]);
    const rack = new Rack();
    log.onSack(seq(1000), seq(2000), { delivered: (_s, end, at, f) => rack.onDelivered(10, end, at, f, Infinity) });
    expect(rack.detectLoss(log, 10, 0).lostSegments).toBe(1);
    rack.onResend(10, seq(4000));
    log.onSend(seq(0), seq(1000), 10);
    rack.onResend(15, seq(4000)); // some other resend, a moment later
    log.onSack(seq(2000), seq(3000), { delivered: (_s, end, at, f) => rack.onDelivered(30, end, at, f, Infinity) });
    expect(rack.detectLoss(log, 30, 0).lostSegments).toBe(0);
    expect(log.flags(0) & (LOST | RETRANS_OUT)).toBe(RETRANS_OUT);
  });

  it("judges a segment resent in an instant by the delivery of new data sent after it in that instant", () => {
    // One pass at 10 ms resends the lost first segment, then sends new data (4000-5000):
    // the resend went first, so the new data's delivery shows it lost (tie-break by end).
    const log = logOf(4, [0, 0, 0, 0]);
    const rack = new Rack();
    log.markLost(0);
    rack.onResend(10, seq(4000));
    log.onSend(seq(0), seq(1000), 10);
    log.onSend(seq(4000), seq(5000), 10);
    log.onSack(seq(1000), seq(5000), { delivered: (_s, end, at, f) => rack.onDelivered(30, end, at, f, Infinity) });
    expect(rack.detectLoss(log, 30, 0).lostSegments).toBe(1);
    expect(log.flags(0) & (LOST | RETRANS_OUT)).toBe(LOST);
  });

  it("hopping over the scoreboard's SACKed ranges marks what RFC 8985's record-by-record rule marks", () => {
    // A log of up to 60 segments (some sent in one instant), some SACKed, some marked lost
    // and resent later, a delivery that sets RACK; then one scan that hops over the SACKed
    // ranges and one that visits every record must mark the same segments and ask for the
    // same timer.
    const script = fc.record({
      times: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }),
      sacks: fc.array(fc.tuple(fc.nat(59), fc.integer({ min: 1, max: 8 })), { maxLength: 6 }),
      resends: fc.array(fc.tuple(fc.nat(59), fc.integer({ min: 0, max: 40 })), { maxLength: 5 }),
      delivered: fc.nat(59),
      now: fc.integer({ min: 0, max: 200 }),
      reoWnd: fc.integer({ min: 0, max: 10 }),
    });
    fc.assert(
      fc.property(script, ({ times, sacks, resends, delivered, now, reoWnd }) => {
        const n = times.length;
        const build = (): { log: SentLog; rack: Rack; blocks: { left: Seq; right: Seq }[] } => {
          const log = new SentLog();
          let t = 0;
          for (let k = 0; k < n; k++) log.onSend(seq(k * MSS), seq((k + 1) * MSS), (t += times[k]!));
          const rack = new Rack();
          const listener = { delivered: (_s: Seq, end: Seq, at: number, f: number) => rack.onDelivered(t + 50, end, at, f, 0) };
          for (const [k, resentAfter] of resends) {
            if (k >= n || (log.flags(k) & SACKED) !== 0) continue;
            log.markLost(k);
            rack.onResend(t + resentAfter, seq(n * MSS));
            log.onSend(seq(k * MSS), seq((k + 1) * MSS), t + resentAfter);
          }
          const blocks: { left: Seq; right: Seq }[] = [];
          for (const [k, len] of sacks) {
            const from = Math.min(k, n - 1);
            const to = Math.min(n, from + len);
            log.onSack(seq(from * MSS), seq(to * MSS), listener);
            blocks.push({ left: seq(from * MSS), right: seq(to * MSS) });
          }
          if (delivered < n) log.onSack(seq(delivered * MSS), seq((delivered + 1) * MSS), listener);
          blocks.push({ left: seq(Math.min(delivered, n) * MSS), right: seq(Math.min(delivered + 1, n) * MSS) });
          // The scoreboard's form: sorted, disjoint, merged.
          blocks.sort((x, y) => x.left - y.left);
          const merged: { left: Seq; right: Seq }[] = [];
          for (const b of blocks) {
            const last = merged[merged.length - 1];
            if (b.right <= b.left) continue;
            if (last !== undefined && b.left <= last.right) last.right = seq(Math.max(last.right, b.right));
            else merged.push({ ...b });
          }
          return { log, rack, blocks: merged };
        };
        const hopping = build();
        const visiting = build();
        // RFC 8985 6.2 step 5 record by record, as the reference: every outstanding record
        // sent before the RACK segment is overdue after RACK.rtt + the window (a resend in
        // the RACK segment's instant counts as after it: all resends here had SND.MAX n).
        const { log, rack } = build();
        const at = 1_000 + now;
        const lastSend = times.reduce((x, y) => x + y, 0);
        const resendInstants = new Set(resends.map(([, after]) => lastSend + after));
        let lostSegments = 0;
        let timeout = 0;
        const lost: number[] = [];
        for (let k = 0; k < n; k++) {
          const f = log.flags(k);
          if ((f & SACKED) !== 0 || (f & (LOST | RETRANS_OUT)) === LOST) continue;
          const sentAt = log.sentAt(k);
          const resentAfter = (f & RETRANS_OUT) !== 0 && sentAt === rack.xmitTime && resendInstants.has(sentAt);
          const before = rack.xmitTime > sentAt || (rack.xmitTime === sentAt && seqLt(log.end(k), rack.endSeq));
          if (resentAfter || !before) continue;
          const remaining = sentAt + rack.rtt + reoWnd - at;
          if (remaining <= 0) {
            lostSegments++;
            lost.push(k);
          } else timeout = Math.max(timeout, remaining);
        }
        const a = hopping.rack.detectLoss(hopping.log, at, reoWnd, true, hopping.blocks);
        const b = visiting.rack.detectLoss(visiting.log, at, reoWnd, true);
        expect(a).toEqual(b);
        expect({ lostSegments: a.lostSegments, timeout: a.timeout }).toEqual({ lostSegments, timeout });
        expect(Array.from({ length: n }, (_, k) => k).filter((k) => (hopping.log.flags(k) & LOST) !== 0 && (log.flags(k) & LOST) === 0)).toEqual(lost);
        expect(Array.from({ length: n }, (_, k) => hopping.log.flags(k))).toEqual(Array.from({ length: n }, (_, k) => visiting.log.flags(k)));
      }),
      { numRuns: 3_000 },
    );
  });

  it("the scoreboard names the parts of a block it does not hold yet, as a byte map does", () => {
    const range = fc.tuple(fc.nat(100), fc.integer({ min: 1, max: 30 }));
    fc.assert(
      fc.property(fc.array(range, { maxLength: 8 }), range, (held, [from, length]) => {
        const board = new Scoreboard();
        const have = new Array<boolean>(140).fill(false);
        for (const [left, n] of held) {
          board.update([{ left: seq(left), right: seq(left + n) }], seq(0), seq(1_000));
          for (let k = left; k < left + n; k++) have[k] = true;
        }
        const expected: Array<[number, number]> = [];
        for (let k = from; k < from + length; k++) {
          if (have[k]) continue;
          const last = expected[expected.length - 1];
          if (last !== undefined && last[1] === k) last[1] = k + 1;
          else expected.push([k, k + 1]);
        }
        expect(board.uncovered(seq(from), seq(from + length)).map((p) => [p.left, p.right])).toEqual(expected);
      }),
      { numRuns: 3_000 },
    );
  });

  it("has no reordering window in recovery or with DupThresh SACKed, unless reordering was seen", () => {
    const rack = new Rack();
    expect(rack.reorderWindow(true, 0, 20, 30)).toBe(0);
    expect(rack.reorderWindow(false, 3, 20, 30)).toBe(0);
    expect(rack.reorderWindow(false, 2, 20, 30)).toBe(5);
    rack.onReordering(seq(1000), seq(4000), MSS);
    expect(rack.reorderingSeen).toBe(true);
    expect(rack.reordering).toBe(3); // 3 segments: not above the default
    expect(rack.reorderWindow(true, 5, 20, 30)).toBe(5);
    rack.onReordering(seq(0), seq(6000), MSS);
    expect(rack.reordering).toBe(6); // Linux tcp_check_sack_reordering: distance in segments
    rack.onReordering(seq(7000), seq(6000), MSS); // above the highest delivered: no reordering
    expect(rack.reordSeen).toBe(2); // tcpi_reord_seen counts each detection, widening or not
  });

  it("widens the window per D-SACK round and narrows it again after 16 recoveries (RFC 8985 6.2 step 4)", () => {
    const rack = new Rack();
    rack.reorderingSeen = true;
    rack.onAck(seq(0), seq(5000), true);
    expect(rack.reoWndMult).toBe(2);
    rack.onAck(seq(1000), seq(6000), true); // same round: ignored
    expect(rack.reoWndMult).toBe(2);
    rack.onAck(seq(5000), seq(9000), true); // SND.UNA passed the round
    expect(rack.reoWndMult).toBe(3);
    expect(rack.reorderWindow(false, 0, 20, 100)).toBe(15);
    for (let i = 0; i < 16; i++) rack.onRecoveryExit();
    expect(rack.reoWndMult).toBe(1);
  });

  it("ignores a delivered retransmission whose RTT is below the minimum (ambiguous, Linux tcp_rack_advance)", () => {
    const rack = new Rack();
    rack.onDelivered(105, seq(1000), 100, EVER_RETRANS, 20);
    expect(rack.xmitTime).toBe(-Infinity);
    rack.onDelivered(125, seq(1000), 100, EVER_RETRANS, 20);
    expect(rack.xmitTime).toBe(100);
  });
});

describe("Tail loss probe (RFC 8985 section 7)", () => {
  it("PTO is 2 SRTT + 2 ms, or + the minimum RTO for one segment, and never after the RTO", () => {
    const tlp = new TailLossProbe();
    expect(tlp.timeout(20, 3, 200, 1000, 500)).toBe(42);
    expect(tlp.timeout(20, 1, 200, 1000, 500)).toBe(240);
    expect(tlp.timeout(20, 1, 200, 1000, 220)).toBe(220);
    expect(tlp.timeout(undefined, 2, 200, 1000, 5000)).toBe(1000);
  });

  it("a retransmitted probe whose ACK goes past it repaired one loss; a D-SACK for it means none", () => {
    const tlp = new TailLossProbe();
    tlp.onProbeSent(seq(4000), true);
    expect(tlp.onAck({ ack: seq(3000), dsackForProbe: false, notPureDuplicate: true })).toBe(false);
    expect(tlp.onAck({ ack: seq(4001), dsackForProbe: false, notPureDuplicate: true })).toBe(true);
    expect(tlp.highSeq).toBeUndefined();
    tlp.onProbeSent(seq(8000), true);
    expect(tlp.onAck({ ack: seq(8000), dsackForProbe: true, notPureDuplicate: true })).toBe(false);
    expect(tlp.highSeq).toBeUndefined();
  });
});

describe("D-SACK (RFC 2883)", () => {
  it("splits a first block below the cumulative ACK or inside the second block off as a D-SACK", () => {
    const below = splitDsack([{ left: seq(1000), right: seq(2000) }, { left: seq(5000), right: seq(6000) }], seq(3000));
    expect(below.dsack).toEqual({ left: seq(1000), right: seq(2000) });
    expect(below.blocks).toHaveLength(1);
    const inside = splitDsack([{ left: seq(5000), right: seq(5500) }, { left: seq(4000), right: seq(6000) }], seq(3000));
    expect(inside.dsack).toEqual({ left: seq(5000), right: seq(5500) });
    const plain = splitDsack([{ left: seq(4000), right: seq(5000) }], seq(3000));
    expect(plain.dsack).toBeUndefined();
  });

  /** An established connection with SACK negotiated, as the peer's SYN offered it. */
  function withSack(tcp: { dsack?: boolean; congestionControl?: "reno" | "cubic" | "bbr" } = {}) {
    const { h, listener } = listening({ sack: true, ...tcp });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, sackPermitted: true } });
    const [synAck] = h.takeSent();
    const una = seqAdd(synAck!.seq, 1);
    h.deliver({ flags: ACK, seq: R(1), ack: una });
    listener.accept();
    h.takeSent();
    return { h, una };
  }

  it("the receiver reports a segment it already has in the first SACK block of its ACK (Linux tcp_send_dupack)", () => {
    const { h, una } = withSack();
    h.deliver({ flags: ACK, seq: R(1), ack: una, payload: new Uint8Array(100) });
    expect(h.takeSent()[0]?.options.sackBlocks).toBeUndefined();
    h.deliver({ flags: ACK, seq: R(1), ack: una, payload: new Uint8Array(100) });
    const [dup] = h.takeSent();
    expect(dup?.ack).toBe(R(101));
    expect(dup?.options.sackBlocks).toEqual([{ left: R(1), right: R(101) }]);
    // Reported once: the next ACK carries no D-SACK.
    h.deliver({ flags: ACK, seq: R(101), ack: una, payload: new Uint8Array(100) });
    h.settle();
    h.now += 1000;
    h.settle();
    const later = h.takeSent();
    expect(later.every((s) => s.options.sackBlocks === undefined)).toBe(true);
  });

  it("the sender counts the duplicates D-SACK reports, per MSS, for TCP_INFO's tcpi_dsack_dups (Linux tcp_dsack_seen)", () => {
    const { h, una } = withSack();
    const conn = h.host.tcp.allConnections()[0]!;
    const mss = conn.sendMss;
    conn.send(new Uint8Array(4 * mss));
    h.settle();
    expect(h.takeSent()).toHaveLength(4);
    const acked = seqAdd(una, 4 * mss);
    h.deliver({ flags: ACK, seq: R(1), ack: acked, window: 65535, options: { sackBlocks: [{ left: una, right: seqAdd(una, mss) }] } });
    expect(tcpInfo(conn, h.now).dsackDups).toBe(1);
    h.deliver({ flags: ACK, seq: R(1), ack: acked, window: 65535, options: { sackBlocks: [{ left: seqAdd(una, mss), right: seqAdd(una, 3 * mss + 1) }] } });
    expect(tcpInfo(conn, h.now).dsackDups).toBe(4); // 2 MSS and a byte: 3 more
  });

  it("resends a run of contiguous lost segments as one TSO packet, PSH on its last segment", () => {
    // Linux resends a lost skb of several segments as one GSO packet with the skb's PSH at
    // its end (tso-chunks.ts); one segment alone carries only a write's push mark.
    const { h, una, at } = sentSegments(10);
    // Segments 0 and 1 lost, 2..4 SACKed; later 5 and 6 lost, 7 SACKed.
    h.advance(10);
    h.deliver({ flags: ACK, seq: R(1), ack: una, window: 65535, options: { sackBlocks: [{ left: at(2), right: at(5) }] } });
    const resent = h.takeSent().filter((x) => x.payload.length > 0 && x.seq !== at(10));
    expect(resent.map((x) => [seqDiff(x.seq, una) / MSS, (x.flags & PSH) !== 0])).toEqual([
      [0, false],
      [1, true],
    ]);
    h.advance(1);
    h.deliver({ flags: ACK, seq: R(1), ack: at(5), window: 65535, options: { sackBlocks: [{ left: at(7), right: at(8) }] } });
    h.advance(20); // past RACK's reordering window for segment 5
    const later = h.takeSent().filter((x) => x.payload.length > 0 && seqLt(x.seq, at(7)));
    expect(later.map((x) => [seqDiff(x.seq, una) / MSS, (x.flags & PSH) !== 0])).toEqual([
      [5, false],
      [6, true],
    ]);
  });

  it("resends each lost record once when segments have become shorter than the records (SACK blocks of our own take room)", () => {
    const { h, una, at } = sentSegments(6); // six records of 1,000 bytes
    // The peer's data arrives out of order: our ACKs now carry a SACK block, which takes
    // 12 bytes of every segment (segmentMss 988), so a resend covers less than a record.
    h.deliver({ flags: ACK, seq: R(101), ack: una, window: 65535, payload: new Uint8Array(10) });
    h.takeSent();
    h.advance(10);
    h.deliver({ flags: ACK, seq: R(1), ack: una, window: 65535, options: { sackBlocks: [{ left: at(3), right: at(6) }] } });
    h.advance(20);
    const resent = h.takeSent().filter((x) => x.payload.length > 0);
    const starts = resent.map((x) => seqDiff(x.seq, una));
    expect(starts.length).toBeGreaterThan(0);
    expect(new Set(starts).size).toBe(starts.length); // no range resent twice in one pass
    expect(starts[0]).toBe(0);
  });

  it("a duplicate ACK leaves the reordering timer armed: a lost last segment is resent long before the probe (Linux tcp_rack_mark_lost)", () => {
    // A 40 ms path: the handshake's ACK comes 40 ms after the SYN-ACK (SRTT 40).
    const { h, listener } = listening({ sack: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, sackPermitted: true } });
    const una = seqAdd(h.takeSent()[0]!.seq, 1);
    h.advance(40);
    h.deliver({ flags: ACK, seq: R(1), ack: una });
    const conn = listener.accept()!;
    const mss = conn.sendMss;
    conn.send(new Uint8Array(4 * mss));
    h.settle();
    expect(h.takeSent()).toHaveLength(4);
    h.advance(1);
    conn.close(); // every byte has left: the FIN is a segment of its own, sent after the last one
    h.settle();
    expect(h.takeSent().map((s) => s.payload.length)).toEqual([0]);
    const fin = seqAdd(una, 4 * mss);
    // One RTT later the last data segment is missing: the ACK for the first three SACKs the
    // FIN (RACK arms its reordering timer for the hole), and a duplicate of that ACK follows.
    h.advance(39);
    const ack = { flags: ACK, seq: R(1), ack: seqAdd(una, 3 * mss), window: 65535, options: { sackBlocks: [{ left: fin, right: seqAdd(fin, 1) }] } };
    h.deliver(ack);
    h.deliver(ack);
    expect(h.takeSent()).toHaveLength(0);
    // RACK.rtt + reo_wnd (min_rtt / 4) + 2 ms after the segment was sent, about 11 ms from
    // now; the tail loss probe (2 SRTT) would come 80 ms from now and resend only the FIN.
    h.advance(20);
    expect(h.takeSent().map((s) => [s.seq, s.payload.length])).toEqual([[seqAdd(una, 3 * mss), mss]]);
  });

  it("counts a duplicate of data we resent as delivered, for the window and BBR's rate sample (Linux tcp_dsack_seen)", () => {
    const { h, una } = withSack({ congestionControl: "bbr" });
    const conn = h.host.tcp.allConnections()[0]!;
    const mss = conn.sendMss;
    const rate = (conn as unknown as { sender: { model: { rate: { delivered: number } } } }).sender.model.rate;
    conn.send(new Uint8Array(2 * mss));
    h.settle();
    expect(h.takeSent()).toHaveLength(2);
    h.nextTimer(); // the tail loss probe resends the last segment
    const [probe] = h.takeSent();
    expect([probe?.seq, probe?.payload.length]).toEqual([seqAdd(una, mss), mss]);
    // Both originals arrived; the probe arrived as well, and the ACK reports it as a duplicate.
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(una, 2 * mss), window: 65535, options: { sackBlocks: [{ left: seqAdd(una, mss), right: seqAdd(una, 2 * mss) }] } });
    expect(tcpInfo(conn, h.now).dsackDups).toBe(1);
    expect(rate.delivered).toBe(3 * mss); // two segments acknowledged, and the resend
    // More duplicates reported than we ever resent: not credited (the peer's doing).
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(una, 2 * mss), window: 65535, options: { sackBlocks: [{ left: una, right: seqAdd(una, mss) }] } });
    expect(tcpInfo(conn, h.now).dsackDups).toBe(2);
    expect(rate.delivered).toBe(3 * mss);
  });

  it("is not sent with dsack: false (tcp_dsack=0)", () => {
    const { h, una } = withSack({ dsack: false });
    h.deliver({ flags: ACK, seq: R(1), ack: una, payload: new Uint8Array(100) });
    h.takeSent();
    h.deliver({ flags: ACK, seq: R(1), ack: una, payload: new Uint8Array(100) });
    const [dup] = h.takeSent();
    expect(dup?.ack).toBe(R(101)); // still ACKed at once
    expect(dup?.options.sackBlocks).toBeUndefined();
  });
});

describe("SACK reneging (RFC 2018 section 8; Linux tcp_timeout_mark_lost)", () => {
  it("forgets every SACK at a timeout when the byte at SND.UNA was SACKed, and resends from SND.UNA", () => {
    const { h, una, at } = sentSegments(3);
    // The peer SACKs everything it has not acknowledged, then closes its window: it will
    // have to take that back, since the data at SND.UNA stays unacknowledged.
    h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0, options: { sackBlocks: [{ left: at(0), right: at(3) }] } });
    expect(h.takeSent()).toEqual([]);
    h.advance(1000);
    // Trusting the marks, go-back-N found nothing to resend and armed no timer: the data
    // stayed outstanding for good. Forgotten, the timeout resends the segment at SND.UNA,
    // which into the closed window is the zero-window probe (Linux tcp_retransmit_timer).
    const conn = h.host.tcp.allConnections()[0]!;
    const probes = h.takeSent().filter((s) => s.payload.length > 0);
    expect(probes[0]?.seq).toBe(at(0));
    expect(conn.inspect().timers.rto).toBeLessThan(Infinity);
    // The window opens and the probe's segment is acknowledged: the segments after it go
    // again too, since none is taken as held any more.
    h.deliver({ flags: ACK, seq: R(1), ack: at(1), window: 65535 });
    const resent = h.takeSent().filter((s) => s.payload.length > 0);
    expect(resent[0]?.seq).toBe(at(1));
    h.advance(10_000);
    h.deliver({ flags: ACK, seq: R(1), ack: at(3), window: 65535 });
    expect(conn.inspect().sndUna).toBe(at(3));
  });

  it("gives a receiver whose ACK stops at SACKed data max(SRTT / 2, 10 ms) before the timeout (Linux tcp_check_sack_reneging)", () => {
    const { h, at } = sentSegments(3);
    h.deliver({ flags: ACK, seq: R(1), ack: at(0), options: { sackBlocks: [{ left: at(1), right: at(3) }] } });
    h.takeSent();
    // Segment 0 arrives and is acknowledged, but the ACK stops at segment 1, which the
    // receiver had SACKed: it dropped what it reported holding.
    h.advance(1);
    h.deliver({ flags: ACK, seq: R(1), ack: at(1) });
    expect(h.takeSent()).toEqual([]);
    const conn = h.host.tcp.allConnections()[0]!;
    expect(conn.inspect().timers.rto).toBe(h.now + 10); // SRTT is the 10 ms of the handshake: half is under 10 ms
    h.advance(10);
    // The timeout forgets the SACKs and resends from SND.UNA, not 200 ms later.
    expect(h.takeSent().filter((s) => s.payload.length > 0)[0]?.seq).toBe(at(1));
  });

  it("keeps SACKs at a timeout when the byte at SND.UNA was never SACKed", () => {
    const { h, una, at } = sentSegments(3);
    h.deliver({ flags: ACK, seq: R(1), ack: una, options: { sackBlocks: [{ left: at(1), right: at(3) }] } });
    h.takeSent();
    h.advance(1000);
    const resent = h.takeSent().filter((s) => s.payload.length > 0);
    // Only the hole (by RACK, then by the timeout): the SACKed segments are not sent again.
    expect(resent.length).toBeGreaterThan(0);
    expect(resent.every((s) => s.seq === at(0) && s.payload.length === MSS)).toBe(true);
  });
});

describe("TCP_USER_TIMEOUT (RFC 5482)", () => {
  it("fails the connection with ETIMEDOUT when data stays unacknowledged that long, the RTO clamped to it", () => {
    const { h, conn } = established({ tlp: false });
    conn.setUserTimeout(1000);
    const start = h.now;
    conn.send(new Uint8Array(100));
    h.settle();
    h.takeSent();
    const fired: number[] = [];
    while (conn.state !== "CLOSED" && fired.length < 20) fired.push(h.nextTimer() - start);
    expect(conn.error?.code).toBe("ETIMEDOUT");
    // RTOs at 200 ms (the first retransmission: the timeout runs from here, Linux
    // retrans_stamp) and 600 ms; the next, due at 1400 ms, is clamped to 200 + 1000 ms.
    expect(fired.map(Math.round)).toEqual([200, 600, 1200]);
  });

  /** Answers every segment sent until `until` with a zero window; the times of the timers that fired. */
  function answerWithZeroWindow(h: Harness, conn: ReturnType<typeof established>["conn"], una: Seq, until: number): number[] {
    const fired: number[] = [];
    while (conn.state !== "CLOSED" && h.now < until) {
      fired.push(h.nextTimer());
      for (const _probe of h.takeSent()) h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
    }
    return fired;
  }

  it("ends a zero-window episode that outlasts it, answered probes or not, counted from its first probe (Linux icsk_probes_tstamp)", () => {
    const { h, conn, iss } = established({ userTimeout: 30_000 });
    const una = seqAdd(iss, 1);
    h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
    conn.send(new Uint8Array(1000));
    h.settle();
    const fired = answerWithZeroWindow(h, conn, una, 3_600_000);
    expect(conn.error?.code).toBe("ETIMEDOUT");
    // The first probe an RTO (200 ms) after the write; the last timer is clamped to 30 s after that probe.
    expect(Math.round(fired[0]!)).toBe(200);
    expect(Math.round(fired.at(-1)! - fired[0]!)).toBe(30_000);
  });

  it("counts from the first resend when the window closes on data in flight, whose timeouts probe with the first segment", () => {
    const { h, conn, iss } = established({ userTimeout: 30_000 });
    const una = seqAdd(iss, 1);
    h.advance(100_000);
    conn.send(new Uint8Array(3000));
    h.settle();
    h.takeSent();
    // The peer closes its window without acknowledging the data.
    h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
    const fired: number[] = [];
    while (conn.state !== "CLOSED" && h.now < 3_600_000) {
      fired.push(h.nextTimer());
      const sent = h.takeSent();
      // Each timeout resends one MSS at SND.UNA into the closed window (Linux __tcp_retransmit_skb).
      if (!conn.isClosed()) expect(sent.map((x) => [x.seq, x.payload.length])).toEqual([[una, conn.sendMss]]);
      for (const _probe of sent) h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
    }
    expect(conn.error?.code).toBe("ETIMEDOUT");
    // Before, the timeout sent nothing, and the first zero-window probe found the episode's
    // start at 0 and failed the connection at once, 600 ms in.
    expect(Math.round(fired.at(-1)! - fired[0]!)).toBe(30_000);
  });

  it("without it, a peer that answers every probe keeps its window closed for hours (RFC 1122 4.2.2.17)", () => {
    const { h, conn, iss } = established();
    const una = seqAdd(iss, 1);
    h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
    conn.send(new Uint8Array(1000));
    h.settle();
    answerWithZeroWindow(h, conn, una, 7_200_000);
    expect(conn.state).toBe("ESTABLISHED");
  });

  it("keeps a window closed on data in flight probed while the peer answers, and gives up after twice the largest RTO of silence", () => {
    for (const answer of [true, false]) {
      const { h, conn, iss } = established();
      const una = seqAdd(iss, 1);
      conn.send(new Uint8Array(3000));
      h.settle();
      h.takeSent();
      h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
      const heard = h.now;
      let probes = 0;
      while (conn.state !== "CLOSED" && h.now < 7_200_000) {
        h.nextTimer();
        for (const _probe of h.takeSent()) {
          probes++;
          if (answer) h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
        }
      }
      if (answer) {
        // Not the 15 retries of TCP_RETRIES2: these timeouts are probes (RFC 9293 3.8.6.1).
        expect(conn.state).toBe("ESTABLISHED");
        expect(probes).toBeGreaterThan(15);
      } else {
        expect(conn.error?.code).toBe("ETIMEDOUT");
        // Linux tcp_rtx_probe0_timed_out: more than 2 x TCP_RTO_MAX (240 s) since the peer was last heard.
        expect(h.now - heard).toBeGreaterThan(240_000);
        expect(h.now - heard).toBeLessThan(240_000 + 120_000 + 1);
      }
    }
  });

  it("ends at a deadline that fractional times round onto, instead of firing there for ever", () => {
    // Found by the hostile property: stamp + timeout rounded to now, while now - stamp fell
    // short of the timeout by 1e-10 ms, so the clamped timer, armed for now, never expired
    // the connection and resent the same segment in one endless poll.
    const { h, conn, iss } = established({ userTimeout: 39_906 });
    const una = seqAdd(iss, 1);
    // The harness's list of sent segments, refusing more than 1,000 in one call.
    const capSent = (): void => {
      const out: unknown[] = [];
      out.push = (...x: unknown[]): number => {
        if (out.length + x.length > 1000) throw new Error("a timer fired for ever at one instant");
        return Array.prototype.push.apply(out, x);
      };
      (h as unknown as { out: unknown[] }).out = out;
    };
    h.advance(483_382);
    h.deliver({ flags: ACK, seq: R(1), ack: una, window: 0 });
    conn.send(new Uint8Array(2));
    h.settle();
    const windows = [0, 1, 0];
    let k = 1;
    while (!conn.isClosed() && h.now < 10 * 3600_000) {
      for (const _s of h.takeSent()) h.deliver({ flags: ACK, seq: R(1), ack: una, window: windows[k++ % 3]! });
      capSent();
      h.nextTimer();
    }
    expect(conn.error?.code).toBe("ETIMEDOUT");
  });

  it("bounds a connect too: counted from the first SYN once one was resent (Linux tcp_write_timeout in SYN_SENT)", () => {
    const { h, conn } = synSent({ userTimeout: 3000 });
    const resent: number[] = [];
    while (!conn.isClosed() && h.now < 600_000) {
      const t = h.nextTimer();
      if (h.takeSent().length > 0) resent.push(Math.round(t));
    }
    expect(conn.error?.code).toBe("ETIMEDOUT");
    // One SYN resent at 1 s; the next timeout, due at 3 s anyway, ends it (not six resends and 127 s).
    expect(resent).toEqual([1000]);
    expect(Math.round(h.now)).toBe(3000);
  });

  it("replaces TCP_RETRIES2: a user timeout of an hour keeps resending past the 924.6 s it would allow", () => {
    const { h, conn } = established({ tlp: false, userTimeout: 3_600_000 });
    conn.send(new Uint8Array(100));
    h.settle();
    h.takeSent();
    while (!conn.isClosed() && h.now < 7_200_000) h.nextTimer();
    expect(conn.error?.code).toBe("ETIMEDOUT");
    // The first resend at 200 ms; the last timeout clamped to an hour after it.
    expect(Math.round(h.now)).toBe(3_600_200);
  });

  it("rejects a negative or fractional value with a typed error", () => {
    const { conn } = established();
    expect(() => conn.setUserTimeout(-1)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
    expect(() => conn.setUserTimeout(1.5)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
  });
});

describe("undo of a spurious timeout (Eifel, RFC 3522; Linux tcp_try_undo_loss)", () => {
  it("an ACK echoing the original's timestamp after a timeout restores the window and stops resending", () => {
    const { h, listener } = listening({ timestamps: true, tlp: false });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000, timestamp: { value: 1, echo: 0 } } });
    const [synAck] = h.takeSent();
    const una = seqAdd(synAck!.seq, 1);
    const ourTs = synAck!.options.timestamp!.value;
    h.deliver({ flags: ACK, seq: R(1), ack: una, options: { timestamp: { value: 2, echo: ourTs } } });
    const conn = listener.accept()!;
    h.takeSent();
    conn.send(new Uint8Array(4 * conn.sendMss));
    h.settle();
    const sent = h.takeSent();
    expect(sent).toHaveLength(4);
    const originalTs = sent[0]!.options.timestamp!.value;
    const cwndBefore = conn.congestion.cwnd;
    h.nextTimer(); // the RTO: the first segment is resent, cwnd falls to one segment
    expect(conn.congestion.state).toBe("loss");
    expect(conn.congestion.cwnd).toBe(conn.sendMss);
    h.takeSent();
    // The ACK for the delayed originals arrives, echoing the first original's timestamp.
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(una, 2 * conn.sendMss), options: { timestamp: { value: 3, echo: originalTs } } });
    expect(conn.congestion.state).toBe("open");
    expect(conn.congestion.cwnd).toBeGreaterThanOrEqual(cwndBefore);
    expect(conn.congestion.undos).toBe(1);
    // Segments 3 and 4 were never lost: they are not resent.
    expect(h.takeSent().filter((x) => x.payload.length > 0)).toEqual([]);
  });
});

