/**
 * Which connection's timer fires next: a binary min-heap with lazy deletion.
 *
 * A connection restarts its retransmission timer on nearly every ACK; pushing a heap entry
 * each time would fill the heap with stale entries. Instead an owner is only pushed when
 * its deadline moves *earlier* than the entry it already has. When an entry comes due the
 * caller checks the owner's real deadline and reschedules it if it moved later.
 */
import type { Millis } from "../env.js";

interface Entry<T> {
  at: Millis;
  owner: T;
}

export class TimerQueue<T extends object> {
  private heap: Entry<T>[] = [];
  /** The time of each owner's live entry. */
  private scheduled = new WeakMap<T, Millis>();

  /** Makes sure `owner` is popped no later than `at` (Infinity: nothing to schedule). */
  schedule(owner: T, at: Millis): void {
    if (at === Infinity) return;
    const current = this.scheduled.get(owner);
    if (current !== undefined && current <= at) return;
    this.scheduled.set(owner, at);
    this.push({ at, owner });
  }

  /** Earliest scheduled time, or Infinity. */
  peekTime(): Millis {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (this.scheduled.get(top.owner) === top.at) return top.at;
      this.pop(); // stale
    }
    return Infinity;
  }

  /** Removes and returns an owner whose entry is due at `now`, or undefined. */
  popDue(now: Millis): T | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (this.scheduled.get(top.owner) !== top.at) {
        this.pop();
        continue;
      }
      if (top.at > now) return undefined;
      this.pop();
      this.scheduled.delete(top.owner);
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
