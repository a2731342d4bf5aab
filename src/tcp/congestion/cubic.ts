/**
 * CUBIC (RFC 9438), Linux's default. After a loss at window W_max the window follows
 *   W_cubic(t) = C (t - K)^3 + W_max,   K = cbrt(W_max (1 - beta) / C)
 * in segments and seconds: a fast climb back towards W_max, a plateau around it, then a
 * probe beyond. It never grows slower than Reno would (the "Reno-friendly" region, 4.3).
 *
 * Growth is counted as Linux counts it (tcp_cubic.c bictcp_update, tcp_cong_avoid_ai):
 * whole segments, one more each time `cnt` segments have been acknowledged, where `cnt`
 * is cwnd / (target - cwnd), recomputed at most once a millisecond and, while the window
 * has not changed, at most every 1/32 s. Where the RFC leaves room, Linux's choices:
 * - Before the first loss (and again after a timeout, which resets CUBIC, Linux
 *   cubictcp_state on TCP_CA_Loss) the curve starts flat at the current window, which on
 *   its own would hardly grow for seconds after HyStart ended slow start without a loss.
 *   Linux grows at least 5% per RTT there (cnt <= 20), "when the available bandwidth is
 *   still unknown".
 * - The Reno-friendly estimate (4.3) counts acknowledged segments against
 *   cwnd * 15/8 (Linux beta_scale for beta 717/1024) and, where Reno would be ahead,
 *   lowers cnt so the window catches up within a window of ACKs.
 * - At most one segment per two acknowledged (4.4: 1.5x per RTT; cnt >= 2).
 */
import type { Millis } from "../../env.js";
import type { WindowAlgorithm } from "./algorithm.js";

const C = 0.4;
const BETA = 0.7;
/** Linux beta_scale: 8 (1024 + 717) / 3 / (1024 - 717), acknowledged segments per 8/cwnd of Reno growth. */
const RENO_SCALE = 15;
/** Linux bictcp_update: cnt <= 20 (5% per RTT) while no loss has set W_max. */
const MAX_CNT_BEFORE_LOSS = 20;
/** Linux: the target is recomputed at most every HZ / 32 while cwnd is unchanged. */
const RECOMPUTE_INTERVAL: Millis = 1000 / 32;
/** Linux bictcp_acked: RTT samples within HZ of an epoch's start do not lower delay_min. */
const EPOCH_SETTLING: Millis = 1000;

export class Cubic implements WindowAlgorithm {
  readonly name = "cubic";
  /** Window (segments) before the last reduction; 0 before the first loss and after a timeout. */
  private wMax = 0;
  /** The curve and its counters, made by the first ACK in congestion avoidance (an idle connection has none). */
  private curve: CubicCurve | undefined;
  /** The smallest RTT sample (ms) since the start or the last timeout; 0 before any (Linux delay_min). */
  private delayMin: Millis = 0;

  /**
   * Linux bictcp_acked: the minimum RTT the curve looks ahead by. Samples in the first
   * second of an avoidance epoch are left out, as Linux does ("right after fast recovery",
   * when the queue the reduction drains still inflates them).
   */
  onRttSample(now: Millis, rtt: Millis): void {
    if (this.curve !== undefined && now - this.curve.epochStart < EPOCH_SETTLING) return;
    if (this.delayMin === 0 || rtt < this.delayMin) this.delayMin = rtt;
  }

  /**
   * RFC 9438 5.8 (application-limited flows), as Linux does it (cubictcp_cwnd_event on
   * CA_EVENT_TX_START, since 2015): after the application left the connection idle, the
   * curve is shifted later by the idle time, so it keeps its shape instead of counting the
   * idle seconds as growth (which would grow cwnd by half of every ACK at once).
   */
  onTransmitStart(now: Millis, idle: Millis): void {
    this.curve?.shiftEpoch(now, idle);
  }

  grow(now: Millis, cwnd: number, acked: number, mss: number): number {
    const c = (this.curve ??= new CubicCurve());
    const segs = Math.floor(cwnd / mss);
    const ackedSegs = acked / mss;
    c.update(now, segs, ackedSegs, this.wMax, this.delayMin);
    // Linux tcp_cong_avoid_ai: credits banked at a larger cnt are applied gently first.
    let increase = 0;
    if (c.credit >= c.cnt) {
      c.credit = 0;
      increase = 1;
    }
    c.credit += ackedSegs;
    if (c.credit >= c.cnt) {
      const delta = Math.floor(c.credit / c.cnt);
      c.credit -= delta * c.cnt;
      increase += delta;
    }
    return cwnd + increase * mss;
  }

  reduce(_now: Millis, cwnd: number, _flight: number, mss: number): number {
    const segs = cwnd / mss;
    // Fast convergence (4.7): give way to newer flows if the window shrank since the last loss.
    this.wMax = segs < this.wMax ? (segs * (1 + BETA)) / 2 : segs;
    this.curve?.endEpoch();
    return Math.max(Math.floor(cwnd * BETA), 2 * mss);
  }

  /** A timeout: start over as a new connection would (Linux bictcp_reset on TCP_CA_Loss). */
  enterLoss(): void {
    this.wMax = 0;
    this.curve = undefined;
    this.delayMin = 0;
  }
}

/**
 * The CUBIC of every connection whose window CUBIC has not acted on yet (no RTT sample
 * from data, no ACK in congestion avoidance, no reduction, no timeout): shared, so never
 * written. The
 * congestion control swaps in one of its own before the first call (recovery.ts `acting`).
 */
export const FRESH_CUBIC = new Cubic();

/** One avoidance epoch's curve and Linux's counters for it (struct bictcp, less W_max). */
class CubicCurve {
  /** Start of the epoch, or undefined until the first ACK of one. */
  private epoch: Millis | undefined;

  /** When the epoch began (-Infinity between epochs, Linux epoch_start = 0). */
  get epochStart(): Millis {
    return this.epoch ?? -Infinity;
  }
  /** The curve's plateau (segments): W_max, or the window the epoch began at if that is higher. */
  private origin = 0;
  private k = 0;
  /** Acknowledged segments per segment of growth (Linux ca->cnt). */
  cnt = 0;
  /** Acknowledged segments towards the next increment (Linux tp->snd_cwnd_cnt). */
  credit = 0;
  /** The window and time cnt was last computed at (Linux last_cwnd, last_time). */
  private lastCwnd = 0;
  private lastTime: Millis = 0;
  /** Reno-friendly estimate (segments) and the acknowledged segments not yet counted in it. */
  private renoCwnd = 0;
  private ackCount = 0;

  /** A loss ended the epoch (Linux epoch_start = 0); the next ACK in avoidance starts another. */
  endEpoch(): void {
    this.epoch = undefined;
    this.credit = 0;
  }

  /** The epoch moves `idle` ms later, never past `now` (an epoch not begun stays so). */
  shiftEpoch(now: Millis, idle: Millis): void {
    if (this.epoch === undefined || idle <= 0) return;
    this.epoch = Math.min(this.epoch + idle, now);
  }

  /** Linux bictcp_update: cnt for the window `segs` at `now`. */
  update(now: Millis, segs: number, ackedSegs: number, wMax: number, delayMin: Millis): void {
    this.ackCount += ackedSegs;
    const tick = Math.floor(now);
    if (this.epoch !== undefined && this.lastCwnd === segs && tick - this.lastTime <= RECOMPUTE_INTERVAL) return;
    if (this.epoch === undefined || tick !== this.lastTime) {
      this.lastCwnd = segs;
      this.lastTime = tick;
      if (this.epoch === undefined) {
        this.epoch = now;
        this.ackCount = ackedSegs;
        this.renoCwnd = segs;
        if (wMax <= segs) {
          // No loss yet, or the window already passed W_max: start the curve here.
          this.origin = segs;
          this.k = 0;
        } else {
          this.origin = wMax;
          this.k = Math.cbrt((wMax - segs) / C);
        }
      }
      // The target one RTT ahead: RFC 9438 4.2 says the smoothed RTT; Linux looks ahead by
      // the minimum (delay_min, nothing before any sample), which grows a little slower.
      const t = (now - this.epoch + delayMin) / 1000;
      const target = Math.floor(C * (t - this.k) ** 3 + this.origin);
      this.cnt = target > segs ? Math.floor(segs / (target - segs)) : 100 * segs;
      if (wMax === 0 && this.cnt > MAX_CNT_BEFORE_LOSS) this.cnt = MAX_CNT_BEFORE_LOSS;
    }
    // Reno-friendly (4.3, Linux tcp_friendliness).
    const perSegment = Math.max(Math.floor((segs * RENO_SCALE) / 8), 1);
    while (this.ackCount > perSegment) {
      this.ackCount -= perSegment;
      this.renoCwnd++;
    }
    if (this.renoCwnd > segs) this.cnt = Math.min(this.cnt, Math.floor(segs / (this.renoCwnd - segs)));
    if (this.cnt < 2) this.cnt = 2;
  }
}
