/**
 * Virtual time for the simulator: a clock that only moves forward and a queue of things
 * due at given times.
 *
 * Ties matter for determinism: two packets due at the same millisecond must always come
 * out in the same order, whatever the heap happens to do internally. Every entry therefore
 * carries an insertion number and the heap orders by (time, insertion number): equal times
 * come out first-in, first-out.
 */
import type { Millis } from "../env.js";

/** The simulator's notion of "now". It never goes backwards. */
export class VirtualClock {
  private current: Millis;

  constructor(start: Millis = 0) {
    this.current = start;
  }

  get now(): Millis {
    return this.current;
  }

  /** Moves to `time`. Going backwards is a simulator bug, so it throws rather than hides it. */
  advanceTo(time: Millis): void {
    if (!(time >= this.current)) {
      throw new RangeError(`virtual clock cannot go backwards: now ${this.current}, asked for ${time}`);
    }
    this.current = time;
  }
}

interface Entry<T> {
  time: Millis;
  order: number;
  item: T;
}

/** A min-heap of items keyed by time, FIFO among equal times. */
export class EventQueue<T> {
  private readonly heap: Array<Entry<T>> = [];
  private inserted = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Time of the earliest entry, or Infinity when empty (so it composes with Math.min). */
  peekTime(): Millis {
    return this.heap.length > 0 ? this.heap[0]!.time : Infinity;
  }

  push(time: Millis, item: T): void {
    if (Number.isNaN(time)) throw new RangeError("cannot schedule an event at NaN");
    this.heap.push({ time, order: this.inserted++, item });
    this.siftUp(this.heap.length - 1);
  }

  /** Removes and returns the earliest entry, or undefined when empty. */
  pop(): { time: Millis; item: T } | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return { time: top.time, item: top.item };
  }

  private less(a: Entry<T>, b: Entry<T>): boolean {
    return a.time < b.time || (a.time === b.time && a.order < b.order);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.less(heap[right]!, heap[left]!) ? right : left;
      if (!this.less(heap[child]!, entry)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = entry;
  }
}
