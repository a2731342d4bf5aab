/**
 * The segments in flight that TCP_INFO counts (tcp-stats.ts): one entry per segment, in
 * sequence order, each [start, end) and a retransmitted mark. Entries leave from the
 * front (acknowledged) and join at the back (sent), as in a queue.
 *
 * Three numbers an entry in one array of numbers, live from entry `head` to `tail`. When
 * the back of the array is reached the live entries move to its front in place, and the
 * array grows only when they fill more than half of it: a bulk sender's steady flight
 * allocates nothing per segment. (Dropping acknowledged entries with slice() and
 * appending with push() made a new array every few dozen segments and grew it again:
 * 2-3% of bulk time at MTU 1500.)
 */
import type { Seq } from "../wire/seq.js";

const STRIDE = 3;
/** The array of a ledger that never held an entry (shared, never written). */
const NONE: number[] = [];

export class SegmentLedger {
  private recs = NONE;
  /** Live entries are [head, tail), counted in entries (not array indices). */
  private head = 0;
  private tail = 0;

  get size(): number {
    return this.tail - this.head;
  }

  /** Entry i (0 = the oldest) starts here. */
  start(i: number): Seq {
    return this.recs[(this.head + i) * STRIDE]! as Seq;
  }

  end(i: number): Seq {
    return this.recs[(this.head + i) * STRIDE + 1]! as Seq;
  }

  retransmitted(i: number): boolean {
    return this.recs[(this.head + i) * STRIDE + 2] === 1;
  }

  markRetransmitted(i: number, on = true): void {
    this.recs[(this.head + i) * STRIDE + 2] = on ? 1 : 0;
  }

  /** A new segment [start, end) at the back, not retransmitted. */
  push(start: Seq, end: Seq): void {
    this.makeRoom();
    const k = this.tail * STRIDE;
    this.recs[k] = start;
    this.recs[k + 1] = end;
    this.recs[k + 2] = 0;
    this.tail++;
  }

  /** Cuts entry i at `at` into [start, at) and [at, end); both keep its mark (Linux tcp_fragment). */
  split(i: number, at: Seq): void {
    this.makeRoom();
    const r = this.recs;
    const k = (this.head + i) * STRIDE;
    for (let j = this.tail * STRIDE - 1; j >= k; j--) r[j + STRIDE] = r[j]!;
    this.tail++;
    r[k + 1] = at;
    r[k + STRIDE] = at;
  }

  /** Drops the oldest entry. */
  shift(): void {
    this.head++;
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  /** Room for one more entry at the back: the live entries move to the front, or the array grows. */
  private makeRoom(): void {
    const r = this.recs;
    if (this.tail * STRIDE < r.length) return;
    if (r === NONE) {
      this.recs = [0, 0, 0]; // exactly one entry: most connections never hold more at a time
      return;
    }
    const live = this.tail - this.head;
    if (this.head > 0 && live * STRIDE * 2 <= r.length) {
      // A plain loop: copyWithin on an array of numbers takes the generic path, boxing each double.
      const from = this.head * STRIDE;
      for (let j = 0; j < live * STRIDE; j++) r[j] = r[from + j]!;
      this.head = 0;
      this.tail = live;
    } else {
      r.push(0, 0, 0); // the engine grows the store by half or more: amortised, like the entries
    }
  }
}
