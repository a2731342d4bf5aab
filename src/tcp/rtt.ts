/**
 * Retransmission timeout estimator (RFC 6298).
 *
 * Karn's rule (RFC 6298 section 3) is the caller's job: only samples from segments that
 * were never retransmitted are fed in. Backoff doubles the RTO on each expiry (5.5) and
 * the first valid sample after a backoff resets it (5.7 via recomputation).
 */
import type { Millis } from "../env.js";

const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;
/** Clock granularity G; our clock is milliseconds. */
const G = 1;

export class RttEstimator {
  srtt: Millis | undefined = undefined;
  rttvar: Millis = 0;
  /** Smallest sample seen (Infinity before the first); reported as TCP_INFO's min_rtt. */
  minRtt: Millis = Infinity;
  private baseRto: Millis;
  private backoffShift = 0;

  constructor(
    initialRto: Millis,
    private readonly minRto: Millis,
    private readonly maxRto: Millis,
  ) {
    this.baseRto = initialRto;
  }

  /** The current timeout including backoff, clamped to [minRto, maxRto]. */
  get rto(): Millis {
    return Math.min(this.baseRto * 2 ** this.backoffShift, this.maxRto);
  }

  get backoff(): number {
    return this.backoffShift;
  }

  /** RFC 6298 2.2 / 2.3. */
  sample(r: Millis): void {
    if (r < this.minRtt) this.minRtt = r;
    if (this.srtt === undefined) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = (1 - BETA) * this.rttvar + BETA * Math.abs(this.srtt - r);
      this.srtt = (1 - ALPHA) * this.srtt + ALPHA * r;
    }
    // 2.4: RTO below the minimum is rounded up.
    this.baseRto = Math.min(Math.max(this.srtt + Math.max(G, K * this.rttvar), this.minRto), this.maxRto);
    this.backoffShift = 0;
  }

  /** 5.5: the timer expired, double the timeout (bounded by maxRto). */
  backOff(): void {
    if (this.rto < this.maxRto) this.backoffShift++;
  }

  /** A fresh ACK of new data ends the backoff even without a sample (Linux does the same). */
  resetBackoff(): void {
    this.backoffShift = 0;
  }
}
