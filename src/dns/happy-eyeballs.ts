/**
 * Happy Eyeballs version 2 (RFC 8305) for two address families: connection attempts race
 * over the addresses of a name, preferring IPv6, so that a broken IPv6 path costs a
 * quarter of a second instead of a connect timeout. Sans-IO and generic over what an
 * "attempt" is: the caller starts attempts and reports their outcome; this module decides
 * when to start which, and which one wins.
 *
 * Read first: RFC 8305 sections 3 (hostname resolution: AAAA and A asked together; start
 * on the AAAA answer, or 50 ms after the A answer if AAAA is still out), 4 (interleave the
 * families, IPv6 first, First Address Family Count 1; addresses arriving later join the
 * list), 5 (a new attempt every Connection Attempt Delay, 250 ms by default, kept within
 * 100 ms .. 2 s; the next one at once when an attempt fails) and 6 (the first connection
 * established wins; the others are cancelled).
 */
import type { Millis } from "../env.js";
import type { IpAddress } from "../wire/address.js";

/** RFC 8305 3: wait this long for AAAA after A answered. */
export const RESOLUTION_DELAY: Millis = 50;
/** RFC 8305 5: the recommended Connection Attempt Delay and its limits. */
export const CONNECTION_ATTEMPT_DELAY: Millis = 250;
export const MIN_CONNECTION_ATTEMPT_DELAY: Millis = 100;
export const MAX_CONNECTION_ATTEMPT_DELAY: Millis = 2000;

export type Family = 4 | 6;

export interface RaceTimers {
  now(): Millis;
  setTimer(at: Millis, fn: () => void): () => void;
}

/** A connection attempt in progress, as the caller's `start` made it. */
export interface Attempt {
  /** Give up on it (the race was won by another, or abandoned). */
  cancel(): void;
}

export interface RaceOptions<A extends Attempt> {
  timers: RaceTimers;
  /** Which answers to wait for (default both: [6, 4]). */
  families?: readonly Family[];
  /** Connection Attempt Delay (default 250 ms, clamped to 100 ms .. 2 s as RFC 8305 5 says). */
  attemptDelay?: Millis;
  /** Resolution Delay (default 50 ms). */
  resolutionDelay?: Millis;
  /**
   * Attempts at most this many addresses (default all). 1 with both families waited for
   * is a plain "connect to the first address" (node:net without autoSelectFamily).
   */
  maxAttempts?: number;
  /**
   * Starts an attempt to `address`. It reports exactly once: `done()` when connected,
   * `done(error)` when it failed. A throw counts as a failure at once.
   */
  start(address: IpAddress, done: (error?: Error) => void): A;
  /** The race is over: the winning attempt, or every error (resolution and connection) in order. */
  finished(result: { winner: A; address: IpAddress } | { errors: Error[] }): void;
}

export class HappyEyeballs<A extends Attempt> {
  private readonly waiting: Set<Family>;
  private readonly queued: Record<Family, IpAddress[]> = { 4: [], 6: [] };
  private readonly active = new Map<A, IpAddress>();
  private readonly errors: Error[] = [];
  private readonly attemptDelay: Millis;
  private readonly resolutionDelay: Millis;
  private attemptsLeft: number;
  /** The family of the last attempt started: the next one is the other, when it has addresses. */
  private lastFamily: Family | undefined;
  private started = false;
  private over = false;
  private cancelTimer: (() => void) | undefined;

  constructor(private readonly opts: RaceOptions<A>) {
    this.waiting = new Set(opts.families ?? [6, 4]);
    const delay = opts.attemptDelay ?? CONNECTION_ATTEMPT_DELAY;
    this.attemptDelay = Math.min(MAX_CONNECTION_ATTEMPT_DELAY, Math.max(MIN_CONNECTION_ATTEMPT_DELAY, delay));
    this.resolutionDelay = opts.resolutionDelay ?? RESOLUTION_DELAY;
    this.attemptsLeft = opts.maxAttempts ?? Infinity;
  }

  /** The addresses one family's query returned (possibly none). */
  answered(family: Family, addresses: readonly IpAddress[]): void {
    if (this.over || !this.waiting.delete(family)) return;
    this.queued[family].push(...addresses.filter((a) => a.family === family));
    this.afterAnswer(family);
  }

  /** One family's query failed. */
  failed(family: Family, error: Error): void {
    if (this.over || !this.waiting.delete(family)) return;
    this.errors.push(error);
    this.afterAnswer(family);
  }

  /** Abandons the race: cancels every attempt and timer; `finished` is not called. */
  cancel(): void {
    if (this.over) return;
    this.over = true;
    this.clearTimer();
    for (const a of this.active.keys()) a.cancel();
    this.active.clear();
  }

  private afterAnswer(family: Family): void {
    if (this.started) {
      // RFC 8305 4: late addresses join the list; start at once if nothing is in flight.
      if (this.active.size === 0 && this.cancelTimer === undefined) this.startNext();
      else this.checkExhausted();
      return;
    }
    const has = this.queued[4].length + this.queued[6].length > 0;
    if (this.waiting.size === 0) {
      this.begin();
    } else if (family === 6 && has) {
      // RFC 8305 3: the AAAA answer starts the attempts without waiting for A.
      this.begin();
    } else if (has && this.waiting.has(6) && this.cancelTimer === undefined) {
      // RFC 8305 3: A came first; give AAAA the Resolution Delay.
      if (Number.isFinite(this.resolutionDelay)) this.cancelTimer = this.opts.timers.setTimer(this.opts.timers.now() + this.resolutionDelay, () => {
        this.cancelTimer = undefined;
        this.begin();
      });
    }
  }

  private begin(): void {
    if (this.started) return;
    this.clearTimer();
    this.started = true;
    this.startNext();
  }

  /** Starts attempts until one is in flight (an attempt can fail as it starts), arming the delay. */
  private startNext(): void {
    this.clearTimer();
    while (!this.over) {
      const address = this.attemptsLeft > 0 ? this.take() : undefined;
      if (address === undefined) {
        this.checkExhausted();
        return;
      }
      this.attemptsLeft--;
      let settled = false;
      let attempt: A | undefined;
      let syncError: Error | undefined;
      try {
        attempt = this.opts.start(address, (error) => {
          if (settled) return;
          settled = true;
          if (attempt === undefined) syncError = error ?? syncError;
          else this.outcome(attempt, address, error);
        });
      } catch (e) {
        settled = true;
        syncError = e instanceof Error ? e : new Error(String(e));
      }
      if (attempt !== undefined && !settled) {
        this.active.set(attempt, address);
        // RFC 8305 5: the next attempt starts after the Connection Attempt Delay (or on failure).
        this.cancelTimer = this.opts.timers.setTimer(this.opts.timers.now() + this.attemptDelay, () => {
          this.cancelTimer = undefined;
          this.startNext();
        });
        return;
      }
      if (attempt !== undefined && syncError === undefined) {
        // Connected as it started.
        this.active.set(attempt, address);
        this.outcome(attempt, address, undefined);
        return;
      }
      this.errors.push(syncError ?? new Error(`attempt to ${address.toString()} failed`));
    }
  }

  private outcome(attempt: A, address: IpAddress, error: Error | undefined): void {
    if (this.over || !this.active.delete(attempt)) return;
    if (error === undefined) {
      // RFC 8305 6: the first established connection wins; every other attempt is cancelled.
      this.over = true;
      this.clearTimer();
      for (const other of this.active.keys()) other.cancel();
      this.active.clear();
      this.opts.finished({ winner: attempt, address });
      return;
    }
    this.errors.push(error);
    // RFC 8305 5: a failed attempt lets the next one start without waiting out the delay.
    this.startNext();
  }

  /** Interleaves the families (RFC 8305 4): IPv6 first, then alternating while both have addresses. */
  private take(): IpAddress | undefined {
    const first: Family = this.lastFamily === 6 ? 4 : 6;
    const second: Family = first === 6 ? 4 : 6;
    const address = this.queued[first].shift() ?? this.queued[second].shift();
    if (address !== undefined) this.lastFamily = address.family;
    return address;
  }

  /** Nothing left to try, nothing in flight, no answer to wait for: the race is lost. */
  private checkExhausted(): void {
    if (this.over || this.active.size > 0 || this.cancelTimer !== undefined) return;
    if (this.waiting.size > 0 && this.attemptsLeft > 0) return;
    this.over = true;
    this.opts.finished({ errors: this.errors.length > 0 ? [...this.errors] : [new Error("no addresses")] });
  }

  private clearTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}
