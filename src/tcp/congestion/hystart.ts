/**
 * HyStart's delay detector, as Linux's CUBIC runs it (tcp_cubic.c, hystart_update with
 * HYSTART_DELAY; the idea RFC 9406 HyStart++ also builds on): slow start ends before the
 * queue overflows, when the round trip of the current round rises clearly above the
 * smallest ever seen. Without it, slow start doubles the window until a loss, typically
 * losing a window's worth of segments at once.
 *
 * Per round (one window of data, ended when the ACK passes the SND.NXT it began with),
 * the smallest RTT of its first 8 samples is compared with the path's minimum; above it by
 * more than an eighth of it (clamped to 4..16 ms), ssthresh becomes the current cwnd.
 * Only from a window of 16 segments (Linux hystart_low_window). Linux's second detector,
 * the ACK train, times ACK spacing against the minimum RTT and is not modelled.
 */
import type { Millis } from "../../env.js";
import { seqGt, type Seq } from "../../wire/seq.js";

const MIN_SAMPLES = 8;
const LOW_WINDOW = 16;
const DELAY_MIN: Millis = 4;
const DELAY_MAX: Millis = 16;

export class HyStart {
  /** The SND.NXT at which the current round ends (Linux ca->end_seq). */
  private roundEnd: Seq | undefined;
  /** Smallest RTT of this round's first samples (Linux ca->curr_rtt). */
  private roundMin = Infinity;
  private samples = 0;
  /** Smallest RTT ever seen (Linux ca->delay_min). */
  private pathMin = Infinity;
  /** Slow start was ended by this detector (Linux ca->found). */
  found = false;

  /**
   * An RTT sample from an ACK of `ack` during slow start with window `cwndSegments`.
   * Returns true when slow start should end now (set ssthresh = cwnd).
   */
  onRtt(rtt: Millis, ack: Seq, sndNxt: Seq, cwndSegments: number): boolean {
    if (rtt < this.pathMin) this.pathMin = rtt;
    if (this.found || cwndSegments < LOW_WINDOW) return false;
    if (this.roundEnd === undefined || seqGt(ack, this.roundEnd)) {
      this.roundEnd = sndNxt;
      this.roundMin = Infinity;
      this.samples = 0;
    }
    if (rtt < this.roundMin) this.roundMin = rtt;
    if (this.samples < MIN_SAMPLES) {
      this.samples++;
      return false;
    }
    const threshold = Math.min(Math.max(this.pathMin / 8, DELAY_MIN), DELAY_MAX);
    if (this.roundMin > this.pathMin + threshold) {
      this.found = true;
      return true;
    }
    return false;
  }

  /** A loss or timeout: the next slow start (after an RTO) may detect again (Linux bictcp_reset on loss). */
  reset(): void {
    this.found = false;
    this.roundEnd = undefined;
  }
}
