/**
 * BBR's long-term bandwidth estimate for token-bucket policers (Linux tcp_bbr.c
 * bbr_lt_bw_sampling, bbr_lt_bw_interval_done, bbr_reset_lt_bw_sampling; described in
 * draft-cardwell-iccrg-bbr-congestion-control-00 as an optional policer detection).
 *
 * Why: a policer lets a burst through while it has tokens, then drops everything above
 * its token rate. The max filter remembers the burst, so BBR keeps sending faster than
 * the policer allows and loses a large share of its packets for as long as the burst
 * stays in the 10-round window. Linux watches for that pattern: two consecutive sampling
 * intervals of 4 to 16 rounds, each starting and ending at a loss, each losing at least
 * 20% of what it delivered, with delivery rates within 1/8 (or 4 kbit/s) of each other.
 * Then it believes it is policed, uses the average of the two rates as its bandwidth and
 * pacing gain 1 for 48 rounds, and afterwards probes normally again.
 *
 * Units: bytes, milliseconds, bytes per millisecond (Linux counts packets).
 */
import type { Millis } from "../../env.js";

/** Linux bbr_lt_intvl_min_rtts: an interval spans at least 4 rounds (and at most 4x that). */
export const BBR_LT_INTERVAL_MIN_ROUNDS = 4;
/** Linux bbr_lt_loss_thresh = 50/256: the loss rate that suggests a policer, about 20%. */
export const BBR_LT_LOSS_THRESHOLD = 50 / 256;
/** Linux bbr_lt_bw_ratio = 1/8: two intervals' rates this close mean a steady (policed) rate. */
export const BBR_LT_BW_RATIO = 1 / 8;
/** Linux bbr_lt_bw_diff = 4000/8 bytes per second (4 kbit/s), here bytes per ms. */
export const BBR_LT_BW_DIFF = 4000 / 8 / 1000;
/** Linux bbr_lt_bw_max_rtts: how many rounds the policed rate is used before probing again. */
export const BBR_LT_BW_MAX_ROUNDS = 48;

/** The connection's counters at the ACK being processed. */
export interface LtSampleInput {
  roundStart: boolean;
  probeBw: boolean;
  /** Bytes newly marked lost by this ACK (rs->losses). */
  losses: number;
  isAppLimited: boolean;
  /** Cumulative bytes delivered and marked lost (tp->delivered, tp->lost). */
  delivered: number;
  lost: number;
  /** When `delivered` last grew (tp->delivered_mstamp). */
  deliveredAt: Millis;
}

export class LongTermBw {
  /** The policed rate, bytes per ms (Linux lt_bw); 0 when none was measured. */
  bw = 0;
  /** BBR uses `bw` instead of its max filter (Linux lt_use_bw). */
  useBw = false;
  private sampling = false;
  private rounds = 0;
  private lastStamp: Millis = 0;
  private lastDelivered = 0;
  private lastLost = 0;

  /** Linux bbr_reset_lt_bw_sampling_interval: a new interval starts at these counters. */
  private resetInterval(i: LtSampleInput): void {
    this.lastStamp = i.deliveredAt;
    this.lastDelivered = i.delivered;
    this.lastLost = i.lost;
    this.rounds = 0;
  }

  /** Linux bbr_reset_lt_bw_sampling: forget the policer. */
  reset(i: LtSampleInput): void {
    this.bw = 0;
    this.useBw = false;
    this.sampling = false;
    this.resetInterval(i);
  }

  /**
   * One ACK's sample (Linux bbr_lt_bw_sampling). Returns "engaged" when a policer was just
   * detected, "expired" when the 48 rounds of using it are over (the caller restarts
   * PROBE_BW gain cycling, Linux bbr_reset_probe_bw_mode), undefined otherwise.
   */
  sample(i: LtSampleInput): "engaged" | "expired" | undefined {
    if (this.useBw) {
      if (i.probeBw && i.roundStart && ++this.rounds >= BBR_LT_BW_MAX_ROUNDS) {
        this.reset(i);
        return "expired";
      }
      return undefined;
    }
    // Start at a loss: by then the policer's tokens are spent, and what follows is its rate.
    if (!this.sampling) {
      if (i.losses === 0) return undefined;
      this.resetInterval(i);
      this.sampling = true;
    }
    // Running out of data would make the rate look like a policer's: start over.
    if (i.isAppLimited) {
      this.reset(i);
      return undefined;
    }
    if (i.roundStart) this.rounds++;
    if (this.rounds < BBR_LT_INTERVAL_MIN_ROUNDS) return undefined;
    if (this.rounds > 4 * BBR_LT_INTERVAL_MIN_ROUNDS) {
      this.reset(i);
      return undefined;
    }
    // End the interval at a loss, when the tokens are surely exhausted again.
    if (i.losses === 0) return undefined;
    const lost = i.lost - this.lastLost;
    const delivered = i.delivered - this.lastDelivered;
    if (delivered <= 0 || lost < BBR_LT_LOSS_THRESHOLD * delivered) return undefined;
    const t = i.deliveredAt - this.lastStamp;
    if (t < 1) return undefined; // Linux: an interval under 1 ms is too short to measure
    return this.intervalDone(delivered / t, i);
  }

  /** Linux bbr_lt_bw_interval_done: two consistent intervals in a row mean a policer. */
  private intervalDone(bw: number, i: LtSampleInput): "engaged" | undefined {
    if (this.bw > 0) {
      const diff = Math.abs(bw - this.bw);
      if (diff <= BBR_LT_BW_RATIO * this.bw || diff <= BBR_LT_BW_DIFF) {
        this.bw = (bw + this.bw) / 2;
        this.useBw = true;
        this.rounds = 0;
        return "engaged";
      }
    }
    this.bw = bw;
    this.resetInterval(i);
    return undefined;
  }
}
