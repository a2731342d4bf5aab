/**
 * The connections that want a flush (application calls, received segments), each listed
 * once, in the order they were first marked.
 *
 * Arrays that are never shortened and a mark on each item rather than a Set: this runs
 * once per received segment, and Set.clear allocates a fresh table every time (as does
 * setting an array's length to 0, which drops its storage). `take` swaps the arrays, so
 * an item marked again while a batch is being flushed joins the next batch, as it would
 * join a Set swapped for an empty one. An item removed while listed keeps its entry with
 * the mark cleared and is left out of the batch. No entry outlives its use: the consumer
 * clears each batch entry as it handles it, and removing the last listed item clears the rest.
 */
export interface Flushable {
  /** Set while listed; owned by the list. */
  dirtyQueued: boolean;
}

export class FlushList<T extends Flushable> {
  private pending: (T | undefined)[] = [];
  private pendingCount = 0;
  /** The batch the last `take` handed out: entries [0, batchCount). */
  batch: (T | undefined)[] = [];
  batchCount = 0;
  /** Items marked now (entries of removed items do not count). */
  size = 0;

  add(item: T): void {
    if (item.dirtyQueued) return;
    item.dirtyQueued = true;
    this.pending[this.pendingCount++] = item;
    this.size++;
  }

  remove(item: T): void {
    if (!item.dirtyQueued) return;
    item.dirtyQueued = false;
    // Every listed item was removed: drop the stale entries now, not at the next take, so
    // the list keeps no removed (typically closed) item alive in the meantime.
    if (--this.size === 0) {
      for (let i = 0; i < this.pendingCount; i++) this.pending[i] = undefined;
      this.pendingCount = 0;
    }
  }

  /**
   * Moves the items marked now into `batch`, their marks cleared (so marking one again
   * lists it for the next batch); returns how many. The previous batch is forgotten.
   */
  take(): number {
    const old = this.batch;
    for (let i = 0; i < this.batchCount; i++) old[i] = undefined;
    const batch = this.pending;
    const count = this.pendingCount;
    this.pending = old;
    this.pendingCount = 0;
    this.size = 0;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const item = batch[i]!;
      batch[i] = undefined;
      if (!item.dirtyQueued) continue;
      item.dirtyQueued = false;
      batch[n++] = item;
    }
    this.batch = batch;
    this.batchCount = n;
    return n;
  }
}
