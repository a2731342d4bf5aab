/**
 * BBR's allowance for ACK aggregation (Linux tcp_bbr.c bbr_update_ack_aggregation and
 * bbr_ack_aggregation_cwnd, added in Linux 5.1; the BBR draft's "offload budget" and
 * later drafts' BBRUpdateACKAggregation describe the same estimator).
 *
 * Why: wifi links, receivers that ACK every few segments, GRO/LRO and stretched ACKs
 * deliver ACKs in bursts. Between bursts nothing is ACKed, so a window of gain x BDP
 * runs dry and the sender idles until the next burst although the bottleneck could take
 * more. The estimator measures how far the ACKed data runs ahead of what the bandwidth
 * estimate says should have been ACKed since the current "ACK epoch" began, keeps the
 * largest such excess over the last 5 to 10 rounds, and BBR adds it to its cwnd target,
 * capped at 100 ms worth of data at the estimated bandwidth.
 *
 * Units: bytes, milliseconds, bytes per millisecond (Linux counts packets and microseconds).
 */
import type { Millis } from "../../env.js";

/** Linux bbr_extra_acked_gain: BBR_UNIT, the whole measured excess is allowed. */
export const BBR_EXTRA_ACKED_GAIN = 1;
/** Linux bbr_extra_acked_win_rtts: each of the two max-filter slots lives 5 rounds. */
export const BBR_EXTRA_ACKED_WIN_ROUNDS = 5;
/** Linux bbr_extra_acked_max_us: the allowance never exceeds 100 ms at the estimated bandwidth. */
export const BBR_EXTRA_ACKED_MAX_MS: Millis = 100;
/** Linux bbr_ack_epoch_acked_reset_thresh: 2^20 packets, then the epoch is restarted anyway. */
const ACK_EPOCH_RESET_PACKETS = 1 << 20;

export class AckAggregation {
  /** Two slots of a max filter over 5..10 rounds (Linux extra_acked[2]). */
  private readonly extra = [0, 0];
  private slot = 0;
  private slotRounds = 0;
  /** When the current ACK epoch began (Linux ack_epoch_mstamp) and what it has ACKed so far. */
  private epochStart: Millis = 0;
  private epochAcked = 0;

  /** Linux bbr_init: the first epoch starts at the first transmission. */
  start(now: Millis): void {
    this.epochStart = now;
    this.epochAcked = 0;
    this.extra[0] = this.extra[1] = 0;
    this.slot = 0;
    this.slotRounds = 0;
  }

  /** The excess ACKed data the filter holds (Linux bbr_extra_acked). */
  get extraAcked(): number {
    return Math.max(this.extra[0]!, this.extra[1]!);
  }

  /**
   * One valid rate sample (Linux bbr_update_ack_aggregation). `deliveredAt` is when the
   * connection's delivered count last grew (tp->delivered_mstamp), `acked` what this ACK
   * newly delivered, `bw` BBR's bandwidth estimate.
   */
  update(roundStart: boolean, deliveredAt: Millis, acked: number, bw: number, cwnd: number, mss: number): void {
    if (acked <= 0) return;
    if (roundStart) {
      this.slotRounds = Math.min(0x1f, this.slotRounds + 1);
      if (this.slotRounds >= BBR_EXTRA_ACKED_WIN_ROUNDS) {
        this.slotRounds = 0;
        this.slot = 1 - this.slot;
        this.extra[this.slot] = 0;
      }
    }
    // What the estimated bandwidth would have delivered since the epoch began.
    let expected = bw * (deliveredAt - this.epochStart);
    // ACKs arriving no faster than the estimate (or a very old epoch): start a new epoch here.
    if (this.epochAcked <= expected || this.epochAcked + acked >= ACK_EPOCH_RESET_PACKETS * mss) {
      this.epochAcked = 0;
      this.epochStart = deliveredAt;
      expected = 0;
    }
    this.epochAcked += acked;
    // Never more than a window: a burst cannot have ACKed more than was in flight.
    const extra = Math.min(this.epochAcked - expected, cwnd);
    if (extra > this.extra[this.slot]!) this.extra[this.slot] = extra;
  }

  /** Linux bbr_ack_aggregation_cwnd: the cwnd headroom, only once the pipe was found full. */
  allowance(bw: number, fullBwReached: boolean): number {
    if (!fullBwReached) return 0;
    return Math.min(BBR_EXTRA_ACKED_GAIN * this.extraAcked, bw * BBR_EXTRA_ACKED_MAX_MS);
  }
}
