/**
 * Which connection's timer fires next: a binary min-heap with lazy deletion.
 *
 * A connection restarts its retransmission timer on nearly every ACK; pushing a heap entry
 * each time would fill the heap with stale entries. Instead an owner is only pushed when
 * its deadline moves *earlier* than the entry it already has. When an entry comes due the
 * caller checks the owner's real deadline and reschedules it if it moved later.
 *
 * Each owner carries the time of its live entry (`timerAt`), so telling a live entry from
 * a stale one costs a field read rather than a map lookup.
 */
import type { Millis } from "../env.js";

interface Entry<T> {
  at: Millis;
  owner: T;
}

/** Something that can be scheduled: it remembers when its live entry is due (Infinity: none). */
export interface Schedulable {
  timerAt: Millis;
}

export class TimerQueue<T extends Schedulable> {
  private heap: Entry<T>[] = [];

  /** Makes sure `owner` is popped no later than `at` (Infinity: nothing to schedule). */
  schedule(owner: T, at: Millis): void {
    if (at === Infinity || owner.timerAt <= at) return;
    owner.timerAt = at;
    this.push({ at, owner });
  }

  /** Earliest scheduled time, or Infinity. */
  peekTime(): Millis {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (top.owner.timerAt === top.at) return top.at;
      this.pop(); // stale
    }
    return Infinity;
  }

  /** Removes and returns an owner whose entry is due at `now`, or undefined. */
  popDue(now: Millis): T | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (top.owner.timerAt !== top.at) {
        this.pop();
        continue;
      }
      if (top.at > now) return undefined;
      this.pop();
      top.owner.timerAt = Infinity;
      return top.owner;
    }
    return undefined;
  }

  get size(): number {
    return this.heap.length;
  }

  private push(e: Entry<T>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= e.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.at < h[l]!.at ? r : l;
      if (h[c]!.at >= last.at) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
