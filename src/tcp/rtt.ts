/**
 * Retransmission timeout estimator: RFC 6298's smoothed RTT and variance, computed the
 * way Linux's tcp_rtt_estimator() and __tcp_set_rto() do, because that is what peers and
 * Linux's own tests expect of a stack (RFC 6298 leaves the details open: 2.4's minimum
 * and the granularity term are SHOULDs). The differences from RFC 6298's formulas:
 *
 * - The minimum RTO is added to SRTT rather than applied to the sum: RTO = SRTT +
 *   max(4 * RTTVAR, min RTO), so at small RTTs the timeout is about RTT + 200 ms (a
 *   first sample of R gives RTO = 3R for R >= 100 ms: "make sure rto = 3*rtt").
 * - The variance term used for the RTO (Linux rttvar) follows the largest deviation of
 *   the current window of data (mdev_max) and decays towards it by a quarter once per
 *   window, instead of on every sample.
 * - A sample below SRTT lowers the deviation eight times more slowly than one above it,
 *   so a few fast ACKs do not shrink the timeout.
 *
 * Karn's rule (RFC 6298 section 3) is the caller's job: only samples from segments that
 * were never retransmitted are fed in. Backoff doubles the RTO on each expiry (5.5) and
 * the first valid sample after a backoff resets it (5.7 via recomputation).
 */
import type { Millis } from "../env.js";
import { fromSeqFieldOpt, seqGt, toSeqFieldOpt, type Seq } from "../wire/seq.js";

/** The timeout's bounds and first value (TcpConfig has them; connections share it rather than copy them). */
export interface RtoLimits {
  readonly initialRto: Millis;
  readonly minRto: Millis;
  readonly maxRto: Millis;
}

/**
 * Also the bottom of Sender's class chain (sender.ts, sender-parts.ts): a connection's
 * estimator lives in its Sender object, `sender.rtt` being the sender itself, and reads
 * the sender's `config` for its limits; an object of its own cost 40 B per connection
 * (header, pointer, a second reference to the settings). Standalone instances (tests)
 * take just the limits.
 */
export class RttEstimator<L extends RtoLimits = RtoLimits> {
  /** Smallest sample seen (Infinity before the first); reported as TCP_INFO's min_rtt. */
  minRtt!: Millis; // tagged, set in the constructor: the shared Infinity, no box of its own (timers.ts)
  /** 8 * SRTT and 4 * RTTVAR in microseconds (Linux srtt_us, mdev_us). */
  private srtt8 = 0;
  private mdev4 = 0;
  /** Largest 4 * RTTVAR in the current window of data, us (Linux mdev_max_us), at least the minimum RTO. */
  private mdevMax = 0;
  /** The variance term of the RTO, us (Linux rttvar_us, = 4 * RTTVAR at least the minimum RTO). */
  private rtoVar = 0;
  /** The window of data the current mdevMax covers ends here (Linux rtt_seq), as an int32 (toSeqField in wire/seq.ts). */
  private windowEnd32: number | undefined;
  private get windowEnd(): Seq | undefined { return fromSeqFieldOpt(this.windowEnd32); }
  private set windowEnd(s: Seq | undefined) { this.windowEnd32 = toSeqFieldOpt(s); }
  private backoffShift = 0;

  /** The timeout's bounds: the connection's settings, for a sender. */
  readonly config: L;

  constructor(config: L) {
    this.config = config;
    this.minRtt = Infinity;
  }

  // SRTT, RTTVAR and the RTO follow from the microsecond counters (they were fields set
  // with them in sample(): each a heap number box per connection).
  /** RFC 6298 SRTT; undefined before the first sample (srtt8 is never 0 after one: a sample counts at least 1 us). */
  get srtt(): Millis | undefined {
    return this.srtt8 === 0 ? undefined : this.srtt8 / 8000;
  }

  /** RFC 6298 RTTVAR (Linux mdev / 4): what TCP_INFO reports as rttvar. */
  get rttvar(): Millis {
    return this.mdev4 / 4000;
  }

  /** The timeout without backoff: the initial one until the first sample (Linux __tcp_set_rto). */
  private get baseRto(): Millis {
    return this.srtt8 === 0 ? this.config.initialRto : Math.min(((this.srtt8 >> 3) + this.rtoVar) / 1000, this.config.maxRto);
  }

  /** The current timeout including backoff, at most maxRto. */
  get rto(): Millis {
    return Math.min(this.baseRto * 2 ** this.backoffShift, this.config.maxRto);
  }

  get backoff(): number {
    return this.backoffShift;
  }

  /**
   * A round-trip sample `r`. `sndUna` and `sndNxt` (after the ACK) mark windows of data:
   * the variance term decays once per window. Without them every sample starts one.
   */
  sample(r: Millis, sndUna?: Seq, sndNxt?: Seq): void {
    if (r < this.minRtt) this.minRtt = r;
    // Integer microseconds, as Linux keeps them, so timeouts are exact and reproducible.
    const m = Math.max(Math.round(r * 1000), 1); // Linux counts a zero sample as 1 us
    const minRto = Math.round(this.config.minRto * 1000);
    if (this.srtt8 === 0) {
      this.srtt8 = m * 8;
      this.mdev4 = m * 2;
      this.mdevMax = this.rtoVar = Math.max(this.mdev4, minRto);
      this.windowEnd = sndNxt;
    } else {
      let err = m - (this.srtt8 >> 3);
      this.srtt8 += err;
      if (err < 0) {
        err = -err - (this.mdev4 >> 2);
        if (err > 0) err >>= 3; // RTT falling: damp the deviation's growth
      } else {
        err -= this.mdev4 >> 2;
      }
      this.mdev4 += err;
      if (this.mdev4 > this.mdevMax) {
        this.mdevMax = this.mdev4;
        if (this.mdevMax > this.rtoVar) this.rtoVar = this.mdevMax;
      }
      if (sndUna === undefined || this.windowEnd === undefined || seqGt(sndUna, this.windowEnd)) {
        if (this.mdevMax < this.rtoVar) this.rtoVar -= (this.rtoVar - this.mdevMax) >> 2;
        this.windowEnd = sndNxt;
        this.mdevMax = minRto;
      }
    }
    this.backoffShift = 0;
  }

  /** 5.5: the timer expired, double the timeout (bounded by maxRto). */
  backOff(): void {
    if (this.rto < this.config.maxRto) this.backoffShift++;
  }

  /** A fresh ACK of new data ends the backoff even without a sample (Linux does the same). */
  /** One doubling taken back (RFC 6069: the timeout was caused by a connectivity disruption, not congestion). */
  undoBackoff(): void {
    if (this.backoffShift > 0) this.backoffShift--;
  }

  resetBackoff(): void {
    this.backoffShift = 0;
  }
}
