/**
 * BBR's two path estimators (draft-cardwell-iccrg-bbr-congestion-control section 4.5;
 * Linux tcp_bbr.c): the bottleneck bandwidth as the maximum delivery rate seen over the
 * last 10 round trips, and the propagation delay as the minimum RTT seen over 10 seconds.
 */
import type { Millis } from "../../env.js";

/**
 * The maximum of per-round samples over the last `window` rounds. Exact (one slot per
 * round) rather than Linux's three-sample minmax approximation (lib/minmax.c): the window
 * is ten rounds, so the exact form costs ten numbers and is simpler to reason about.
 */
export class WindowedMaxFilter {
  private readonly rounds: number[];
  private readonly values: number[];
  /**
   * The last `max` answer and the round it was for (-1: none). BBR asks for the maximum
   * four or five times an ACK, and it changes only with a sample or a new round.
   */
  private maxRound = -1;
  private maxValue = 0;

  constructor(private readonly window: number) {
    this.rounds = new Array<number>(window).fill(-1);
    this.values = new Array<number>(window).fill(0);
  }

  /** A sample taken in round `round` (round counts never decrease). */
  update(round: number, value: number): void {
    this.maxRound = -1;
    const k = round % this.window;
    if (this.rounds[k] !== round) {
      this.rounds[k] = round;
      this.values[k] = value;
    } else if (value > this.values[k]!) {
      this.values[k] = value;
    }
  }

  /** The largest sample of rounds (current - window, current]. */
  max(current: number): number {
    if (current === this.maxRound) return this.maxValue;
    let best = 0;
    for (let k = 0; k < this.window; k++) {
      const r = this.rounds[k]!;
      if (r >= 0 && r > current - this.window && r <= current && this.values[k]! > best) best = this.values[k]!;
    }
    this.maxRound = current;
    this.maxValue = best;
    return best;
  }

  reset(): void {
    this.maxRound = -1;
    this.rounds.fill(-1);
    this.values.fill(0);
  }
}

/** Linux bbr_min_rtt_win_sec: a minimum older than this is stale and PROBE_RTT refreshes it. */
export const MIN_RTT_WINDOW: Millis = 10_000;

/** The minimum RTT over MIN_RTT_WINDOW (Linux bbr_update_min_rtt's filter part). */
export class MinRttFilter {
  value: Millis = Infinity;
  /** When `value` was taken. */
  stamp: Millis = 0;

  /** True when the current minimum is older than the window at `now`. */
  expired(now: Millis): boolean {
    return now > this.stamp + MIN_RTT_WINDOW;
  }

  /** A sample; it replaces the minimum when lower, or when the minimum has expired. */
  update(now: Millis, rtt: Millis): boolean {
    const expired = this.expired(now);
    if (rtt >= 0 && (rtt < this.value || expired)) {
      this.value = rtt;
      this.stamp = now;
    }
    return expired;
  }
}
