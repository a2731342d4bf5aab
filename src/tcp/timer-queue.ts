/**
 * Which connection's timer fires next: an indexed binary min-heap with one entry per
 * connection. Each owner records its deadline and its position in the heap, so moving a
 * deadline (a retransmission timer restarted by nearly every ACK) is an in-place sift,
 * and a closed connection leaves the heap at once instead of lingering until its old
 * deadline (which kept closed connections in memory).
 */
import type { Millis } from "../env.js";

/** Something that can be scheduled. `timerIndex` is -1 while it is not in the heap. */
export interface Schedulable {
  timerAt: Millis;
  timerIndex: number;
}

export class TimerQueue<T extends Schedulable> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** Sets `owner`'s deadline; Infinity takes it out of the queue. */
  schedule(owner: T, at: Millis): void {
    if (at === Infinity) {
      this.remove(owner);
      return;
    }
    const i = owner.timerIndex;
    if (i >= 0 && owner.timerAt === at) return; // most calls (one per segment) leave the deadline where it was
    owner.timerAt = at;
    if (i < 0) {
      owner.timerIndex = this.heap.length;
      this.heap.push(owner);
      this.up(owner.timerIndex);
    } else {
      this.up(i);
      this.down(owner.timerIndex);
    }
  }

  remove(owner: T): void {
    const i = owner.timerIndex;
    if (i < 0) return;
    const last = this.heap.pop()!;
    owner.timerIndex = -1;
    owner.timerAt = Infinity;
    if (last === owner) return;
    this.heap[i] = last;
    last.timerIndex = i;
    this.up(i);
    this.down(last.timerIndex);
  }

  /** Earliest deadline, or Infinity. */
  peekTime(): Millis {
    return this.heap.length > 0 ? this.heap[0]!.timerAt : Infinity;
  }

  /** Removes and returns an owner whose deadline is at or before `now`, or undefined. */
  popDue(now: Millis): T | undefined {
    const top = this.heap[0];
    if (top === undefined || top.timerAt > now) return undefined;
    this.remove(top);
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    const item = h[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.timerAt <= item.timerAt) break;
      h[i] = h[parent]!;
      h[i]!.timerIndex = i;
      i = parent;
    }
    h[i] = item;
    item.timerIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.timerAt < h[l]!.timerAt ? r : l;
      if (h[c]!.timerAt >= item.timerAt) break;
      h[i] = h[c]!;
      h[i]!.timerIndex = i;
      i = c;
    }
    h[i] = item;
    item.timerIndex = i;
  }
}
