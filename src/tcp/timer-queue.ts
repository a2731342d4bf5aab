/**
 * Which connection's timer fires next: an indexed binary min-heap with one entry per
 * connection. Each owner records its position in the heap, so moving a deadline (a
 * retransmission timer restarted by nearly every ACK) is an in-place sift, and a closed
 * connection leaves the heap at once instead of lingering until its old deadline (which
 * kept closed connections in memory).
 *
 * The deadlines sit in an array of the queue's own, beside the owners at the same index,
 * not in a field of each owner: an owner out of the queue (an idle connection) needs none,
 * and a field on every connection cost 8 B each (bench/heap.js). The sifts compare
 * numbers of one array instead of reading a field through each owner.
 *
 * Both arrays hold the entries [0, count) and are never shortened: a connection joins and
 * leaves the queue three or four times in its life (each RTO or probe armed, then its data
 * acknowledged), so the queue's size swings, and V8 gives back the storage of an array that
 * pop() shortened to well under its capacity, then allocates and copies it again as pushes
 * grow it (about 80 of the bytes allocated per connection in bench/connrate.js). The entry
 * past the end that a removal leaves is cleared, so it keeps no owner alive.
 */
import type { Millis } from "../env.js";

/** Something that can be scheduled. `timerIndex` is -1 while it is not in the heap. */
export interface Schedulable {
  timerIndex: number;
}

export class TimerQueue<T extends Schedulable> {
  private readonly heap: (T | undefined)[] = [];
  /** times[i] is heap[i]'s deadline (doubles only: V8 keeps them unboxed in the array). */
  private readonly times: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** `owner`'s deadline, Infinity when it is not queued. */
  deadlineOf(owner: T): Millis {
    const i = owner.timerIndex;
    return i < 0 ? Infinity : this.times[i]!;
  }

  /** Sets `owner`'s deadline; Infinity takes it out of the queue. */
  schedule(owner: T, at: Millis): void {
    if (at === Infinity) {
      this.remove(owner);
      return;
    }
    const i = owner.timerIndex;
    if (i < 0) {
      const n = this.count++;
      this.heap[n] = owner;
      this.times[n] = at;
      this.up(n);
    } else {
      if (this.times[i] === at) return; // most calls (one per segment) leave the deadline where it was
      this.times[i] = at;
      this.up(i);
      this.down(owner.timerIndex);
    }
  }

  remove(owner: T): void {
    const i = owner.timerIndex;
    if (i < 0) return;
    const n = --this.count;
    const last = this.heap[n]!;
    const lastAt = this.times[n]!;
    this.heap[n] = undefined;
    owner.timerIndex = -1;
    if (last === owner) return;
    this.heap[i] = last;
    this.times[i] = lastAt;
    last.timerIndex = i;
    this.up(i);
    this.down(last.timerIndex);
  }

  /** Earliest deadline, or Infinity. */
  peekTime(): Millis {
    return this.count > 0 ? this.times[0]! : Infinity;
  }

  /** Removes and returns an owner whose deadline is at or before `now`, or undefined. */
  popDue(now: Millis): T | undefined {
    if (this.count === 0 || this.times[0]! > now) return undefined;
    const top = this.heap[0]!;
    this.remove(top);
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    const t = this.times;
    const item = h[i]!;
    const at = t[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (t[parent]! <= at) break;
      h[i] = h[parent]!;
      t[i] = t[parent]!;
      h[i]!.timerIndex = i;
      i = parent;
    }
    h[i] = item;
    t[i] = at;
    item.timerIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const t = this.times;
    const n = this.count;
    const item = h[i]!;
    const at = t[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && t[r]! < t[l]! ? r : l;
      if (t[c]! >= at) break;
      h[i] = h[c]!;
      t[i] = t[c]!;
      h[i]!.timerIndex = i;
      i = c;
    }
    h[i] = item;
    t[i] = at;
    item.timerIndex = i;
  }
}
