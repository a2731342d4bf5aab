/**
 * HyStart, as Linux's CUBIC runs it (tcp_cubic.c hystart_update; the idea RFC 9406
 * HyStart++ also builds on): slow start ends before the queue overflows. Without it, slow
 * start doubles the window until a loss, typically losing a window's worth at once.
 *
 * Two detectors, each a bit of Linux's hystart_detect (default 3, both), working per round
 * (one window of data, ended when the ACK passes the SND.NXT it began with), and only from
 * a window of 16 segments (hystart_low_window):
 * - ACK train (bit 1): while ACKs keep arriving at most 2 ms apart (hystart_ack_delta_us),
 *   a train that has lasted longer than the minimum RTT plus Linux's allowance of 1 ms
 *   (hystart_ack_delay), halved when the connection is not paced (sk_pacing_status
 *   SK_PACING_NONE), means the window already fills the path: the bottleneck is spacing
 *   the ACKs. A paced sender spreads slow start's window over up to half an RTT itself, so
 *   its ACKs form such a train without any bottleneck, and Linux's hystart_update waits the
 *   whole RTT for it then.
 * - Delay (bit 2): the smallest RTT of the round's first 8 samples is above the path's
 *   minimum by more than an eighth of it (clamped to 4..16 ms): a queue is building.
 * Either sets ssthresh to the current cwnd.
 */
import type { Millis } from "../../env.js";
import { seqGt, type Seq } from "../../wire/seq.js";

const MIN_SAMPLES = 8;
export const LOW_WINDOW = 16;
const DELAY_MIN: Millis = 4;
const DELAY_MAX: Millis = 16;
/** Linux hystart_ack_delta_us: ACKs further apart than this break the train. */
const ACK_DELTA: Millis = 2;
/** Linux hystart_ack_delay(): min(1 ms, GSO burst time at the pacing rate), 1 ms in practice. */
const ACK_DELAY: Millis = 1;
export const HYSTART_ACK_TRAIN = 1;
export const HYSTART_DELAY = 2;

export class HyStart {
  /** The SND.NXT at which the current round ends (Linux ca->end_seq). */
  private roundEnd: Seq | undefined;
  /** Smallest RTT of this round's first samples (Linux ca->curr_rtt). */
  private roundMin = Infinity;
  private samples = 0;
  /** Smallest RTT ever seen (Linux ca->delay_min). */
  private pathMin = Infinity;
  /** When the round began, and when the train's last ACK came (Linux round_start, last_ack). */
  private roundStart: Millis = 0;
  private lastAck: Millis = 0;
  /** Slow start was ended by this detector (Linux ca->found). */
  found = false;

  /**
   * `detect`: Linux's hystart_detect bits (HYSTART_ACK_TRAIN | HYSTART_DELAY by default).
   * `pathMin`: the smallest RTT seen before the detector was made (below LOW_WINDOW only
   * that is kept, so the owner makes the detector late and hands it over).
   */
  constructor(
    private readonly detect = HYSTART_ACK_TRAIN | HYSTART_DELAY,
    pathMin = Infinity,
    /** The sender paces (TcpConfig.pacing, Linux under fq): the train must last a whole RTT. */
    private readonly paced = false,
  ) {
    this.pathMin = pathMin;
  }

  /**
   * An RTT sample from an ACK of `ack` at `now` during slow start with window
   * `cwndSegments`. Returns the detector that ends slow start now (HYSTART_ACK_TRAIN or
   * HYSTART_DELAY; set ssthresh = cwnd), or 0.
   */
  onRtt(now: Millis, rtt: Millis, ack: Seq, sndNxt: Seq, cwndSegments: number): number {
    if (rtt < this.pathMin) this.pathMin = rtt;
    if (this.found || cwndSegments < LOW_WINDOW || this.detect === 0) return 0;
    if (this.roundEnd === undefined || seqGt(ack, this.roundEnd)) {
      this.roundEnd = sndNxt;
      this.roundMin = Infinity;
      this.samples = 0;
      this.roundStart = this.lastAck = now;
    }
    if ((this.detect & HYSTART_ACK_TRAIN) !== 0 && now - this.lastAck <= ACK_DELTA) {
      this.lastAck = now;
      const threshold = this.paced ? this.pathMin + ACK_DELAY : (this.pathMin + ACK_DELAY) / 2;
      if (now - this.roundStart > threshold) {
        this.found = true;
        return HYSTART_ACK_TRAIN;
      }
    }
    if ((this.detect & HYSTART_DELAY) === 0) return 0;
    if (rtt < this.roundMin) this.roundMin = rtt;
    if (this.samples < MIN_SAMPLES) {
      this.samples++;
      return 0;
    }
    const threshold = Math.min(Math.max(this.pathMin / 8, DELAY_MIN), DELAY_MAX);
    if (this.roundMin > this.pathMin + threshold) {
      this.found = true;
      return HYSTART_DELAY;
    }
    return 0;
  }

  /** The smallest RTT it has seen (for narration). */
  get minRtt(): Millis {
    return this.pathMin;
  }

  /** A loss: a later slow start (after an undo) may detect again. */
  reset(): void {
    this.found = false;
    this.roundEnd = undefined;
  }
}
