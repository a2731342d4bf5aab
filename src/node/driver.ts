/**
 * The real-time driver: runs one sans-IO endpoint (a synack Host) on Node's clock.
 *
 * - Time is `performance.now()` in milliseconds: monotonic, unaffected by wall-clock steps.
 * - Packets from the link go to `receive` at once; afterwards the endpoint's deadline is
 *   re-read and one timer (setTimeout) is armed for it.
 * - Application calls only mark work in the engine, so `schedule()` arranges one poll on
 *   the next turn of the event loop (setImmediate). Many calls in one tick share that poll,
 *   which also batches their segments, the way a kernel coalesces small writes.
 * - Liveness follows node:net: an open, ref'd socket or server keeps the process alive
 *   (through `hold()`); the engine's own timers never do, so a process whose sockets are all
 *   closed or unref'd exits even with a TIME_WAIT timer pending, as it would on Linux.
 */
import { getRandomValues } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Endpoint } from "../endpoint.js";
import type { Millis, Rng } from "../env.js";
import type { Hold, HoldingDriver } from "../api/driver.js";

/**
 * How late this driver's polls may come after a deadline (HostOptions.timerSlack): setTimeout
 * takes whole milliseconds (a delay is rounded up) and libuv fires timers against a clock
 * cached per loop turn, so a timer comes up to about a millisecond after its time, more on
 * a loaded machine; 2 ms covers the usual case (BENCHMARKS.md, sixth session: median lateness
 * of paced releases 0.8 ms, 90th percentile 1.7 ms).
 */
export const NODE_TIMER_SLACK = 2;

/**
 * The shortest wait setTimeout can express (HostOptions.timerGranularity): whole
 * milliseconds, at least one. Paced segments due within it leave at once (pacing.ts).
 */
export const NODE_TIMER_GRANULARITY = 1;

/** Longest delay Node's setTimeout accepts (2^31 - 1 ms); later deadlines are re-armed. */
const MAX_TIMER_DELAY = 0x7fffffff;

export class RealTimeDriver implements HoldingDriver {
  private endpoint: Endpoint | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private keepAlive: NodeJS.Timeout | undefined;
  private refs = 0;
  /** What every hold calls to count itself in or out (one function per driver, shared by its holds). */
  private readonly adjustRefs = (delta: number): void => this.addRef(delta);
  /** Open beginBatch calls of the link. */
  private batching = 0;
  /** The link's burst ended; the endpoint's endBatch waits for the microtask (see endBatch). */
  private endPending = false;
  /** That microtask: one function per driver, not a closure per burst. */
  private readonly finishBatch = (): void => {
    if (!this.endPending) return;
    this.endPending = false;
    const ep = this.endpoint;
    if (ep === undefined || this.stopped) return;
    try {
      ep.endBatch?.(this.now());
    } catch (e) {
      this.onError(e);
    }
    this.arm();
  };
  /**
   * The immediate's and the timer's callbacks, made once: an arrow function written inside
   * schedule() or arm() would make V8 allocate a context for `this` on every call of them,
   * even the many that return early (schedule() runs after every application call).
   */
  private readonly onImmediate = (): void => {
    this.immediate = undefined;
    this.service();
  };
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.service();
  };
  private stopped = false;
  /** An exception thrown by the endpoint or an application callback while we drove it. */
  onError: (error: unknown) => void = (e) => {
    // Same fate as an exception thrown from any other Node callback.
    process.nextTick(() => {
      throw e;
    });
  };

  /** Attaches the endpoint (constructed after the driver, since it needs a transmit function first). */
  attach(endpoint: Endpoint): void {
    this.endpoint = endpoint;
    this.schedule();
  }

  now(): Millis {
    return performance.now();
  }

  /** A packet arrived from the link (`checksumValid`, `gsoSize`: see Endpoint.receive). */
  receive(packet: Uint8Array, checksumValid?: boolean, gsoSize?: number): void {
    const ep = this.endpoint;
    if (ep === undefined || this.stopped) return;
    if (this.endPending && this.batching === 0) this.finishBatch();
    // No closure (a try block of its own): this runs once per packet, and a closure per
    // packet shows in profiles.
    try {
      ep.receive(this.now(), packet, checksumValid, gsoSize);
    } catch (e) {
      this.onError(e);
    }
    // In a batch the deadline is read once at its end (the pass is still to come).
    if (this.batching === 0) this.arm();
  }

  /**
   * The link is about to hand over the packets of one read burst (PacketLink.onBatch): the
   * endpoint transmits once at `endBatch` instead of after each packet (src/tcp/batch.ts).
   */
  beginBatch(): void {
    const ep = this.endpoint;
    if (ep === undefined || this.stopped || this.batching++ > 0) return;
    // A burst right after another in the same callback: the first one's sending goes first.
    if (this.endPending) this.finishBatch();
    try {
      ep.beginBatch?.();
    } catch (e) {
      this.onError(e);
    }
  }

  /**
   * The burst is over; the endpoint sends once the process.nextTick queue has run (a
   * microtask runs only after it is empty). The wakes of the burst went out during it, but
   * node:stream hands most of what they bring to the application on the next tick ('data'
   * after a push, 'end', 'finish'), and what the application does then (a response, an end())
   * goes out in the same transmission pass: with the ACK of the request, as the engine's
   * settle() arranges for answers written in a wake callback, instead of a bare ACK now
   * and the answer on the driver's next poll.
   */
  endBatch(): void {
    if (this.batching === 0 || --this.batching > 0) return;
    const ep = this.endpoint;
    if (ep === undefined || this.stopped) return;
    this.endPending = true;
    queueMicrotask(this.finishBatch);
  }

  schedule(): void {
    if (this.immediate !== undefined || this.stopped) return;
    this.immediate = setImmediate(this.onImmediate);
  }

  setTimer(at: Millis, fn: () => void): () => void {
    const t = setTimeout(fn, clampDelay(at - this.now()));
    // A socket's idle timeout does not keep the process alive on its own (as in node:net).
    t.unref();
    return () => clearTimeout(t);
  }

  hold(): Hold {
    this.addRef(1);
    return new DriverHold(this.adjustRefs);
  }

  /** How many open, ref'd sockets and servers keep the process alive through this driver. */
  get holding(): number {
    return this.refs;
  }

  /** Stops driving: no more polls or packets. Connections stay as they are (the peer sees silence). */
  stop(): void {
    this.stopped = true;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.immediate = this.timer = this.keepAlive = undefined;
  }

  private service(): void {
    const ep = this.endpoint;
    if (ep === undefined || this.stopped) return;
    if (this.endPending) this.finishBatch();
    const now = this.now();
    if (ep.nextDeadline() <= now) {
      try {
        ep.poll(now);
      } catch (e) {
        this.onError(e);
      }
    }
    this.arm();
  }

  /** One timer for the endpoint's next deadline; an immediate poll when it is already due. */
  private arm(): void {
    const ep = this.endpoint;
    if (ep === undefined || this.stopped) return;
    const at = ep.nextDeadline();
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    const delay = at - this.now();
    if (delay <= 0) {
      this.schedule();
      return;
    }
    this.timer = setTimeout(this.onTimer, clampDelay(delay));
    this.timer.unref();
  }

  private addRef(delta: number): void {
    this.refs += delta;
    if (this.refs > 0 && this.keepAlive === undefined && !this.stopped) {
      // Nothing to do on it: its only job is to be a ref'd handle while sockets are open.
      this.keepAlive = setInterval(() => {}, MAX_TIMER_DELAY);
    } else if (this.refs === 0 && this.keepAlive !== undefined) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}

/** One socket's or server's claim on the event loop: a class, not three closures, since every connection makes one. */
class DriverHold implements Hold {
  private state: "ref" | "unref" | "released" = "ref";

  constructor(private readonly adjust: (delta: number) => void) {}

  ref(): void {
    if (this.state !== "unref") return;
    this.state = "ref";
    this.adjust(1);
  }

  unref(): void {
    if (this.state !== "ref") return;
    this.state = "unref";
    this.adjust(-1);
  }

  release(): void {
    if (this.state === "ref") this.adjust(-1);
    this.state = "released";
  }
}

function clampDelay(ms: Millis): number {
  return Math.min(MAX_TIMER_DELAY, Math.max(0, Math.ceil(ms)));
}

/** Randomness for a real stack (ISNs, ports, cookies' secret): the operating system's CSPRNG. */
export class CryptoRng implements Rng {
  private readonly pool = new Uint32Array(256);
  private next = this.pool.length;
  nextU32(): number {
    if (this.next === this.pool.length) {
      getRandomValues(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++]!;
  }
}
