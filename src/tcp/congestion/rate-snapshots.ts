/**
 * The send-time snapshots of delivery-rate.ts: one per segment in flight, found again by
 * the segment's end sequence number when an ACK delivers it. Linux keeps the same four
 * values in each skb's control block (tcp_rate_skb_sent); here they live in one
 * Float64Array, five numbers an entry, in a ring ordered by end sequence number, so a
 * bulk sender's steady flight allocates nothing per segment. (A Map from end to a
 * snapshot object, as this was before, cost an object and a hash insert per segment sent
 * and a hash lookup and delete per segment delivered: about 6% of a BBR sender's CPU time
 * in bulk at MTU 1500.)
 *
 * New data joins at the back, in order. A retransmission of a segment as it was sent
 * overwrites its entry; one cut differently (a smaller MSS after a path MTU drop, SYN data
 * after the SYN-ACK) is inserted in its place in the order, which moves the entries after
 * it: rare, and correct. A delivered entry is marked taken; taken entries leave the front,
 * and `dropThrough` removes what SND.UNA covers, which no ACK can deliver again.
 *
 * Ends are compared as sequence numbers (RFC 9293 3.4): the ring spans less than 2^31
 * bytes of sequence space, as every window does.
 */
import { seqDiff, type Seq } from "../../wire/seq.js";

/** Numbers per entry: end, delivered, deliveredAt, firstSentAt, flags. */
const STRIDE = 5;
const END = 0;
const DELIVERED = 1;
const DELIVERED_AT = 2;
const FIRST_SENT_AT = 3;
const FLAGS = 4;
/** Flag bits: the segment left while the sender was application-limited; the entry was delivered. */
const APP_LIMITED = 1;
const TAKEN = 2;

const INITIAL_CAPACITY = 16;
/** A ring this large is let go once empty, so an idle connection does not keep a burst's worth. */
const KEEP_CAPACITY = 256;
const NONE = new Float64Array(0);

export class RateSnapshots {
  private recs = NONE;
  /** Entries in the ring (a power of two), or 0 before the first. */
  private capacity = 0;
  /** Logical entry 0 (the smallest end) is at physical slot `head`. */
  private head = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Records the snapshot of the segment ending at `end` (replacing one with that end). */
  set(end: Seq, delivered: number, deliveredAt: number, firstSentAt: number, appLimited: boolean): void {
    let i = this.count;
    if (i > 0 && seqDiff(end, this.endAt(i - 1)) <= 0) {
      i = this.lowerBound(end); // below count: the last end is at or after `end`
      if (this.endAt(i) !== end) this.insertGap(i);
    } else {
      if (this.count === this.capacity) this.grow();
      this.count++;
    }
    const o = this.offset(i);
    const r = this.recs;
    r[o + END] = end;
    r[o + DELIVERED] = delivered;
    r[o + DELIVERED_AT] = deliveredAt;
    r[o + FIRST_SENT_AT] = firstSentAt;
    r[o + FLAGS] = appLimited ? APP_LIMITED : 0;
  }

  /**
   * Takes the snapshot of the segment ending at `end`: the offset to read it at (the
   * accessors below, valid until the next `set`), or -1 when there is none (never
   * recorded, or delivered already).
   */
  take(end: Seq): number {
    if (this.count === 0) return -1;
    const i = this.lowerBound(end);
    if (i === this.count) return -1;
    const o = this.offset(i);
    const r = this.recs;
    if (r[o + END] !== end || (r[o + FLAGS]! & TAKEN) !== 0) return -1;
    r[o + FLAGS] = r[o + FLAGS]! | TAKEN;
    if (i === 0) this.dropTaken();
    return o;
  }

  delivered(o: number): number {
    return this.recs[o + DELIVERED]!;
  }

  deliveredAt(o: number): number {
    return this.recs[o + DELIVERED_AT]!;
  }

  firstSentAt(o: number): number {
    return this.recs[o + FIRST_SENT_AT]!;
  }

  appLimited(o: number): boolean {
    return (this.recs[o + FLAGS]! & APP_LIMITED) !== 0;
  }

  /** Removes the entries of segments that end at or before `sndUna`. */
  dropThrough(sndUna: Seq): void {
    while (this.count > 0 && seqDiff(this.endAt(0), sndUna) <= 0) this.popFront();
    this.dropTaken();
    if (this.count === 0 && this.capacity > KEEP_CAPACITY) {
      this.recs = NONE;
      this.capacity = 0;
      this.head = 0;
    }
  }

  private offset(i: number): number {
    return ((this.head + i) & (this.capacity - 1)) * STRIDE;
  }

  private endAt(i: number): Seq {
    return this.recs[this.offset(i) + END]! as Seq;
  }

  /** The first logical index whose end is at or after `end` (count if none). */
  private lowerBound(end: Seq): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqDiff(this.endAt(mid), end) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Opens a free entry at logical index i, moving the entries from i on one place back. */
  private insertGap(i: number): void {
    if (this.count === this.capacity) this.grow();
    const r = this.recs;
    for (let j = this.count; j > i; j--) r.copyWithin(this.offset(j), this.offset(j - 1), this.offset(j - 1) + STRIDE);
    this.count++;
  }

  private popFront(): void {
    this.head = (this.head + 1) & (this.capacity - 1);
    this.count--;
  }

  private dropTaken(): void {
    while (this.count > 0 && (this.recs[this.offset(0) + FLAGS]! & TAKEN) !== 0) this.popFront();
  }

  /** Doubles the ring, its entries moved to the front in order. */
  private grow(): void {
    const capacity = this.capacity === 0 ? INITIAL_CAPACITY : this.capacity * 2;
    const recs = new Float64Array(capacity * STRIDE);
    // The live entries are at most two runs of the old array: from head to its end, then from its start.
    const from = this.head * STRIDE;
    const first = Math.min(this.count * STRIDE, this.recs.length - from);
    recs.set(this.recs.subarray(from, from + first));
    recs.set(this.recs.subarray(0, this.count * STRIDE - first), first);
    this.recs = recs;
    this.capacity = capacity;
    this.head = 0;
  }
}
