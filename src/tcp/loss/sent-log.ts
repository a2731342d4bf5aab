/**
 * What was sent and not yet cumulatively acknowledged, one record per segment, with the
 * time of its latest transmission: what RACK (RFC 8985 section 5.2, "per-segment
 * variables") needs and what the sequence-space scoreboard (sack.ts) does not keep.
 *
 * Records are in sequence order and stored in a ring of typed arrays, so a bulk sender
 * allocates nothing per segment. Each record carries the flags Linux keeps in
 * `TCP_SKB_CB(skb)->sacked`: SACKED, LOST, RETRANS_OUT (a retransmission is in flight,
 * Linux TCPCB_SACKED_RETRANS) and EVER_RETRANS (Linux TCPCB_EVER_RETRANS, for RACK's
 * ambiguity rule and Karn).
 */
import type { Millis } from "../../env.js";
import { seqDiff, seqGt, seqLe, seqLt, type Seq } from "../../wire/seq.js";

export const SACKED = 1;
export const LOST = 2;
export const RETRANS_OUT = 4;
export const EVER_RETRANS = 8;
/** Marked lost at some point of this episode (kept after the resend, as Linux's lost_out counts). */
export const LOST_ONCE = 16;

/** A record as the loss detectors see it. */
export interface SentRecord {
  readonly start: Seq;
  readonly end: Seq;
  readonly sentAt: Millis;
  readonly flags: number;
}

/**
 * Told of each record an ACK delivers. An object with a method rather than a callback, so
 * the sender passes itself and keeps no closure (and its context) per connection.
 */
export interface DeliveryListener {
  delivered(start: Seq, end: Seq, sentAt: Millis, flags: number): void;
}

/** Shared by every log that has never held a record: an idle connection allocates no arrays. */
const NONE = new Float64Array(0);
/**
 * Records the array holds when first needed; it doubles from there. Two records are 64
 * bytes, which V8 keeps inside the heap (typed arrays up to 64 bytes); larger ones get an
 * external backing store, which cost a short connection (SYN, request, FIN) more than the
 * rest of its log: 4% of connrate's time went to the first allocation of 16 records.
 */
const FIRST_CAPACITY = 2;
/**
 * One record is four numbers in one Float64Array (start, end, time of sending, flags):
 * one allocation when the log first fills or grows, not four (a short connection's whole
 * log is one array).
 */
const STRIDE = 4;

export class SentLog {
  /** Record slot k lives at [k * STRIDE, k * STRIDE + 4). */
  private recs = NONE;
  /** Capacity in records. */
  private capacity = 0;
  private head = 0;
  private count = 0;
  /** Bytes marked lost and not retransmitted since: they have left the network (RFC 6675 "pipe"). */
  lostBytes = 0;

  get size(): number {
    return this.count;
  }

  /** The i-th record in sequence order (0 = the one at SND.UNA). */
  at(i: number): SentRecord {
    const k = this.slot(i);
    return { start: this.recs[k * STRIDE]! as Seq, end: this.recs[k * STRIDE + 1]! as Seq, sentAt: this.recs[k * STRIDE + 2]!, flags: this.recs[k * STRIDE + 3]! };
  }

  start(i: number): Seq {
    return this.recs[this.slot(i) * STRIDE]! as Seq;
  }

  end(i: number): Seq {
    return this.recs[this.slot(i) * STRIDE + 1]! as Seq;
  }

  sentAt(i: number): Millis {
    return this.recs[this.slot(i) * STRIDE + 2]!;
  }

  flags(i: number): number {
    return this.recs[this.slot(i) * STRIDE + 3]!;
  }

  /** Segments marked lost and not yet retransmitted (for TCP_INFO's tcpi_lost). */
  get lostSegments(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if ((this.recs[this.slot(i) * STRIDE + 3]! & (LOST | RETRANS_OUT)) === LOST) n++;
    return n;
  }

  /** Segments marked lost, resent since or not (Linux lost_out; TCP_INFO's tcpi_lost). */
  get markedLostSegments(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if ((this.recs[this.slot(i) * STRIDE + 3]! & (LOST | LOST_ONCE)) !== 0 && (this.recs[this.slot(i) * STRIDE + 3]! & SACKED) === 0) n++;
    return n;
  }

  /** Records sent by a retransmission that is still in flight. */
  get retransOutSegments(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if ((this.recs[this.slot(i) * STRIDE + 3]! & RETRANS_OUT) !== 0) n++;
    return n;
  }

  /**
   * Bytes [start, end) left at `now`. New data extends the log; a retransmission restamps
   * every record it overlaps (so a partly resent record counts as resent, which can only
   * delay RACK, never make it mark something early).
   */
  onSend(start: Seq, end: Seq, now: Millis): void {
    if (!seqLt(start, end)) return;
    const last = this.count - 1;
    if (this.count === 0 || !seqLt(start, this.end(last))) {
      this.push(start, end, now);
      return;
    }
    for (let i = this.indexOf(start); i < this.count; i++) {
      const k = this.slot(i);
      if (!seqLt(this.recs[k * STRIDE]! as Seq, end)) break;
      const f = this.recs[k * STRIDE + 3]!;
      if ((f & SACKED) !== 0) continue;
      if ((f & (LOST | RETRANS_OUT)) === LOST) this.lostBytes -= this.length(k);
      this.recs[k * STRIDE + 3] = (f & ~LOST) | RETRANS_OUT | EVER_RETRANS;
      this.recs[k * STRIDE + 2] = now;
    }
    if (seqGt(end, this.end(last))) this.push(this.end(last), end, now);
  }

  /**
   * Cumulative ACK up to `una`: drops the records it covers and calls `delivered` for each
   * one that had not been SACKed (newly delivered, for RACK's update).
   */
  onAck(una: Seq, to: DeliveryListener): void {
    while (this.count > 0) {
      const k = this.head;
      const end = this.recs[k * STRIDE + 1]! as Seq;
      if (seqLe(end, una)) {
        const f = this.recs[k * STRIDE + 3]!;
        if ((f & SACKED) === 0) to.delivered(this.recs[k * STRIDE]! as Seq, end, this.recs[k * STRIDE + 2]!, f);
        this.forget(k);
        continue;
      }
      if (seqGt(una, this.recs[k * STRIDE]! as Seq)) {
        // An ACK inside a record: the rest of it is still outstanding.
        if ((this.recs[k * STRIDE + 3]! & (LOST | RETRANS_OUT | SACKED)) === LOST) this.lostBytes -= seqDiff(una, this.recs[k * STRIDE]! as Seq);
        this.recs[k * STRIDE] = una;
      }
      break;
    }
  }

  /**
   * The receiver holds [left, right): marks the records inside it SACKED and calls
   * `delivered` for each newly SACKed one.
   */
  onSack(left: Seq, right: Seq, to: DeliveryListener): void {
    for (let i = this.indexOf(left); i < this.count; i++) {
      const k = this.slot(i);
      const s = this.recs[k * STRIDE]! as Seq;
      const e = this.recs[k * STRIDE + 1]! as Seq;
      if (!seqLt(s, right)) break;
      const f = this.recs[k * STRIDE + 3]!;
      if ((f & SACKED) !== 0 || seqLt(s, left) || seqGt(e, right)) continue;
      if ((f & (LOST | RETRANS_OUT)) === LOST) this.lostBytes -= seqDiff(e, s);
      this.recs[k * STRIDE + 3] = (f | SACKED) & ~(LOST | RETRANS_OUT);
      to.delivered(s, e, this.recs[k * STRIDE + 2]!, f);
    }
  }

  /**
   * The part of [left, right) made of whole records, or undefined. Linux applies a SACK
   * block only to whole segments (tcp_match_skb_to_sack rounds to the MSS), so one byte
   * SACKed inside a segment changes nothing.
   */
  wholeRecords(left: Seq, right: Seq): { left: Seq; right: Seq } | undefined {
    let i = this.indexOf(left);
    if (i < this.count && seqLt(this.start(i), left)) i++;
    let j = this.indexOf(right);
    if (j >= this.count || !seqLe(this.end(j), right)) j--;
    if (i >= this.count || j < i) return undefined;
    return { left: this.start(i), right: this.end(j) };
  }

  /** RACK or the RTO declared record i lost; returns the bytes newly counted as lost. */
  markLost(i: number): number {
    const k = this.slot(i);
    const f = this.recs[k * STRIDE + 3]!;
    if ((f & SACKED) !== 0 || (f & (LOST | RETRANS_OUT)) === LOST) return 0;
    this.recs[k * STRIDE + 3] = (f | LOST | LOST_ONCE) & ~RETRANS_OUT;
    const n = this.length(k);
    this.lostBytes += n;
    return n;
  }

  /** After a timeout every outstanding byte is resent from SND.UNA: the lost marks are moot. */
  clearLost(): void {
    for (let i = 0; i < this.count; i++) {
      const k = this.slot(i);
      this.recs[k * STRIDE + 3] = this.recs[k * STRIDE + 3]! & ~(LOST | RETRANS_OUT | LOST_ONCE);
    }
    this.lostBytes = 0;
  }

  /**
   * The receiver reneged (sender.ts onRetransmitTimeout): no record counts as SACKed any
   * more, so the next SACK delivers it again and RACK may mark it lost.
   */
  clearSacked(): void {
    for (let i = 0; i < this.count; i++) {
      const k = this.slot(i);
      this.recs[k * STRIDE + 3] = this.recs[k * STRIDE + 3]! & ~SACKED;
    }
  }

  /** The first record at or after `from` marked lost and not yet resent, or -1. */
  nextLost(from: Seq): number {
    for (let i = this.indexOf(from); i < this.count; i++) {
      if ((this.recs[this.slot(i) * STRIDE + 3]! & (LOST | RETRANS_OUT | SACKED)) === LOST) return i;
    }
    return -1;
  }

  /**
   * When the oldest record a cumulative ACK up to `una` newly delivers was sent, for an RTT
   * sample (Linux tcp_clean_rtx_queue's first_ackt; call before onAck). Undefined when the
   * ACK covers retransmitted data, since it cannot tell which transmission it answers
   * (Karn's rule, RFC 6298 3; Linux FLAG_RETRANS_DATA_ACKED), or delivers nothing unSACKed.
   */
  cumulativeRttStart(una: Seq): Millis | undefined {
    let first: Millis | undefined;
    for (let i = 0; i < this.count && seqLt(this.start(i), una); i++) {
      const f = this.flags(i);
      if ((f & (EVER_RETRANS | RETRANS_OUT)) !== 0) return undefined;
      if ((f & SACKED) === 0 && first === undefined) first = this.sentAt(i);
    }
    return first;
  }

  /**
   * When the oldest never-retransmitted record in [left, right) not yet SACKed was sent:
   * a SACK's RTT sample (Linux tcp_sacktag_one's first_sackt; call before onSack).
   */
  sackRttStart(left: Seq, right: Seq): Millis | undefined {
    for (let i = this.indexOf(left); i < this.count && seqLt(this.start(i), right); i++) {
      if ((this.flags(i) & (SACKED | EVER_RETRANS | RETRANS_OUT)) === 0) return this.sentAt(i);
    }
    return undefined;
  }

  /** Index of the record containing `seq` (or the first after it). */
  indexOf(seq: Seq): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqLe(this.end(mid), seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  clear(): void {
    this.head = this.count = this.lostBytes = 0;
  }

  private length(k: number): number {
    return seqDiff(this.recs[k * STRIDE + 1]! as Seq, this.recs[k * STRIDE]! as Seq);
  }

  private slot(i: number): number {
    const k = this.head + i;
    return k < this.capacity ? k : k - this.capacity;
  }

  private forget(k: number): void {
    const f = this.recs[k * STRIDE + 3]!;
    if ((f & (LOST | RETRANS_OUT | SACKED)) === LOST) this.lostBytes -= this.length(k);
    this.head = k + 1 === this.capacity ? 0 : k + 1;
    this.count--;
  }

  private push(start: Seq, end: Seq, now: Millis): void {
    if (this.count === this.capacity) this.grow();
    const k = this.slot(this.count);
    this.recs[k * STRIDE] = start;
    this.recs[k * STRIDE + 1] = end;
    this.recs[k * STRIDE + 2] = now;
    this.recs[k * STRIDE + 3] = 0;
    this.count++;
  }

  private grow(): void {
    const n = Math.max(FIRST_CAPACITY, this.capacity * 2);
    // Copied in sequence order, so the record at SND.UNA moves to slot 0.
    const recs = new Float64Array(n * STRIDE);
    for (let i = 0; i < this.count; i++) {
      const from = this.slot(i) * STRIDE;
      for (let f = 0; f < STRIDE; f++) recs[i * STRIDE + f] = this.recs[from + f]!;
    }
    this.recs = recs;
    this.capacity = n;
    this.head = 0;
  }
}
