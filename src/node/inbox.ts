/**
 * Packets handed to the receiving end on a later turn of the event loop, in batches, as a
 * real device would: sending never re-enters the receiver. setImmediate rather than a
 * microtask, so a busy pair cannot starve I/O and timers.
 */
export class NextTurnInbox<T = Uint8Array> {
  private queue: T[] = [];
  private scheduled = false;

  constructor(private readonly deliver: (batch: T[]) => void) {}

  push(packet: T): void {
    this.queue.push(packet);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Made once: an arrow function inside push() would cost a context per packet (for `this`). */
  private readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    this.deliver(batch);
  };

  /** Forgets what is queued (the end closed). */
  clear(): void {
    this.queue = [];
  }
}

/** Runs `work` (one read burst of a link) between the stack's onBatch(true) and onBatch(false), also when it throws. */
export function inBatch(onBatch: ((open: boolean) => void) | undefined, work: () => void): void {
  onBatch?.(true);
  try {
    work();
  } finally {
    onBatch?.(false);
  }
}
