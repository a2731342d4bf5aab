/**
 * Records packed as a struct of typed arrays (one slot per record), with an indexed binary
 * min-heap of slots ordered by a deadline: the storage of the compact TIME_WAIT records
 * (time-wait.ts) and of the half-open request records (request-table.ts). Nothing is
 * allocated per record; moving a deadline is an in-place sift.
 *
 * The arrays grow by half their size (not double), so at most a third of the memory is
 * slack just after a growth: a record's worst-case cost stays close to its average.
 * Free slots wait in `heap` after the live entries, so allocating is taking heap[count].
 */
import type { Millis } from "../env.js";

type Ctor = Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor | Int32ArrayConstructor | Float64ArrayConstructor;
type Fields<S extends Record<string, Ctor>> = { [K in keyof S]: InstanceType<S[K]> };

const INITIAL_CAPACITY = 64;

export class SlotArrays<S extends Record<string, Ctor> & { deadline: Float64ArrayConstructor }> {
  /** The arrays, one per field; replaced (not resized) on growth, so read them through `f` each time. */
  f: Fields<S>;
  count = 0;
  capacity = 0;
  /** heap[i] is a slot, heapPos[slot] its index (-1 when free). heap[count..capacity) are the free slots. */
  private heap = new Int32Array(0);
  private heapPos = new Int32Array(0);

  constructor(private readonly spec: S) {
    // Made whole by Object.fromEntries, not field by field through a computed key: V8 turns
    // an object that gets more than 16 properties that way into a dictionary (the request
    // table's 23 fields), and then every `f.x` of the hot paths is a generic lookup instead
    // of a load at a known offset: calls to V8's LoadIC on every SYN, handshake and TIME_WAIT
    // record, about 4% of the connection rate (bench/connrate.js).
    this.f = Object.fromEntries(Object.keys(spec).map((k) => [k, new spec[k]!(0)])) as Fields<S>;
  }

  /** A free slot, live from now on with `deadline` (place it with `moved` once its fields are set). */
  alloc(deadline: Millis): number {
    if (this.count === this.capacity) this.grow();
    const s = this.heap[this.count]!;
    this.f.deadline[s] = deadline;
    this.heapPos[s] = this.count;
    this.count++;
    this.up(this.heapPos[s]!);
    return s;
  }

  /** The slot whose deadline comes first, or -1. */
  peek(): number {
    return this.count > 0 ? this.heap[0]! : -1;
  }

  peekTime(): Millis {
    return this.count > 0 ? this.f.deadline[this.heap[0]!]! : Infinity;
  }

  /** `s`'s deadline changed: restore the heap order. */
  moved(s: number): void {
    this.up(this.heapPos[s]!);
    this.down(this.heapPos[s]!);
  }

  /** Frees `s`: the last heap entry takes its place. */
  release(s: number): void {
    const i = this.heapPos[s]!;
    if (i < 0) return;
    const last = this.heap[--this.count]!;
    this.heapPos[s] = -1;
    this.heap[this.count] = s;
    if (last !== s) {
      this.heap[i] = last;
      this.heapPos[last] = i;
      this.up(i);
      this.down(this.heapPos[last]!);
    }
  }

  /** Live slots, in no particular order. */
  live(): number[] {
    return Array.from(this.heap.subarray(0, this.count));
  }

  private grow(): void {
    const old = this.capacity;
    const cap = old === 0 ? INITIAL_CAPACITY : old + (old >> 1);
    const f = this.f as Record<string, Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>;
    for (const k of Object.keys(this.spec)) {
      const b = new this.spec[k]!(cap);
      b.set(f[k]! as never);
      f[k] = b;
    }
    const heap = new Int32Array(cap);
    heap.set(this.heap);
    const pos = new Int32Array(cap);
    pos.set(this.heapPos);
    // The new slots are free: they follow the heap's live entries (count === old here).
    for (let s = old; s < cap; s++) {
      heap[s] = s;
      pos[s] = -1;
    }
    this.heap = heap;
    this.heapPos = pos;
    this.capacity = cap;
  }

  private up(i: number): void {
    const h = this.heap;
    const e = this.f.deadline;
    const item = h[i]!;
    const at = e[item]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = h[parent]!;
      if (e[ps]! <= at) break;
      h[i] = ps;
      this.heapPos[ps] = i;
      i = parent;
    }
    h[i] = item;
    this.heapPos[item] = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const e = this.f.deadline;
    const n = this.count;
    const item = h[i]!;
    const at = e[item]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && e[h[r]!]! < e[h[l]!]! ? r : l;
      const cs = h[c]!;
      if (e[cs]! >= at) break;
      h[i] = cs;
      this.heapPos[cs] = i;
      i = c;
    }
    h[i] = item;
    this.heapPos[item] = i;
  }
}
