/**
 * CUBIC (RFC 9438), Linux's default. After a loss at window W_max the window follows
 *   W_cubic(t) = C (t - K)^3 + W_max,   K = cbrt(W_max (1 - beta) / C)
 * in segments and seconds: a fast climb back towards W_max, a plateau around it, then a
 * probe beyond. It never grows slower than Reno would (the "Reno-friendly" region, 4.3).
 */
import type { Millis } from "../../env.js";
import type { WindowAlgorithm } from "./algorithm.js";

const C = 0.4;
const BETA = 0.7;
/** RFC 9438 4.3: alpha for the Reno-friendly estimate. */
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);

export class Cubic implements WindowAlgorithm {
  readonly name = "cubic";
  /** Window (segments) before the last reduction. */
  private wMax = 0;
  private k = 0;
  /** Start of the current avoidance epoch, or undefined before the first ACK of one. */
  private epoch: Millis | undefined;
  /** Reno-friendly window estimate (segments). */
  private wEst = 0;

  grow(now: Millis, cwnd: number, acked: number, mss: number, srtt: Millis | undefined): number {
    const segs = cwnd / mss;
    if (this.epoch === undefined) {
      this.epoch = now;
      if (this.wMax < segs) {
        // No loss yet, or the window already passed W_max: start the curve here.
        this.wMax = segs;
        this.k = 0;
      } else {
        this.k = Math.cbrt((this.wMax - segs) / C);
      }
      this.wEst = segs;
    }
    const rtt = (srtt ?? 100) / 1000;
    const t = (now - this.epoch) / 1000;
    // The target one RTT ahead (RFC 9438 4.2).
    const target = C * (t + rtt - this.k) ** 3 + this.wMax;
    // Reno-friendly estimate grows by alpha per window of ACKs (4.3).
    this.wEst += (ALPHA * acked) / mss / Math.max(segs, 1);
    let next = segs;
    if (this.wEst > target) {
      next = Math.max(segs, this.wEst);
    } else if (target > segs) {
      // Grow by (target - cwnd) / cwnd per acknowledged segment, at most 1.5x per RTT (4.4).
      next = segs + Math.min((target - segs) / segs, 0.5) * (acked / mss);
    } else {
      next = segs + acked / mss / (100 * segs); // plateau: creep
    }
    return Math.max(cwnd, Math.floor(next * mss));
  }

  reduce(_now: Millis, cwnd: number, _flight: number, mss: number): number {
    const segs = cwnd / mss;
    // Fast convergence (4.7): give way to newer flows if the window shrank since the last loss.
    this.wMax = segs < this.wMax ? (segs * (1 + BETA)) / 2 : segs;
    this.epoch = undefined;
    return Math.max(Math.floor(cwnd * BETA), 2 * mss);
  }
}
