/**
 * Congestion control: RFC 5681 slow start, fast retransmit and fast recovery with the
 * RFC 6582 NewReno modification for partial acknowledgements. How the window grows in
 * congestion avoidance and how far it falls on loss is the WindowAlgorithm's (CUBIC by
 * default, as Linux; Reno on request).
 *
 * With SACK (`sack` true) recovery follows RFC 6675 instead: loss is also detected from
 * the scoreboard, cwnd is set to ssthresh and not inflated, and the connection limits
 * sending by the "pipe" (bytes in flight that were not SACKed) rather than by flight size.
 *
 * The controller only does window arithmetic; the connection decides what to retransmit
 * from the `AckOutcome` it returns. Windows are in bytes.
 */
import type { Millis } from "../../env.js";
import { seqGe, seqGt, type Seq } from "../../wire/seq.js";
import type { WindowAlgorithm } from "./algorithm.js";

export type AckOutcome =
  | "none"
  /** Third duplicate ACK: retransmit the first unacknowledged segment (RFC 5681 3.2 step 4). */
  | "fast-retransmit"
  /** Partial ACK during recovery: retransmit the next unacknowledged segment (RFC 6582 3.2 step 5). */
  | "partial-ack";

const DUPACK_THRESHOLD = 3;

export class CongestionControl {
  cwnd: number;
  ssthresh = Number.MAX_SAFE_INTEGER;
  dupAcks = 0;
  /** RFC 6582 "recover": the highest sequence sent when loss was detected. */
  private recover: Seq | undefined;
  inRecovery = false;
  /** SACK was negotiated: RFC 6675 recovery (see above). */
  sack = false;
  /**
   * Whether the window was the limit (Linux tcp_cwnd_validate / tcp_is_cwnd_limited,
   * RFC 7661's idea): the window grows only while it is what holds the sender back, so
   * an application-limited sender does not build a window it never tested.
   */
  private cwndLimited = false;
  /** Most bytes in flight in the current window (Linux max_packets_out, in bytes). */
  private maxBytesOut = 0;
  /** Until SND.UNA passes this, the window's limitedness is remembered (Linux cwnd_usage_seq). */
  private usageSeq: Seq | undefined;
  constructor(
    readonly algorithm: WindowAlgorithm,
    private mss: number,
    initialWindowSegments: number,
  ) {
    this.cwnd = initialWindowSegments * mss;
  }

  setMss(mss: number, initialWindowSegments: number): void {
    this.mss = mss;
    this.cwnd = initialWindowSegments * mss;
  }

  /**
   * A cumulative ACK acknowledged `acked` new bytes. `ack` is the new SND.UNA and `flight`
   * the bytes still outstanding after it.
   */
  onNewAck(now: Millis, acked: number, ack: Seq, _flight: number, srtt: Millis | undefined): AckOutcome {
    this.dupAcks = 0;
    if (this.inRecovery) {
      if (this.recover !== undefined && seqGe(ack, this.recover)) {
        // Full acknowledgement (RFC 6582 3.2 step 3, option 2, as Linux): cwnd = ssthresh.
        // Option 1 (flight + 1 MSS) restarts at almost nothing when the pipe drained.
        this.cwnd = this.ssthresh;
        this.inRecovery = false;
        return "none";
      }
      // Partial acknowledgement (RFC 6582 step 5): deflate by the amount acked, add back
      // one MSS. With SACK, cwnd is not inflated in the first place (RFC 6675).
      if (!this.sack) this.cwnd = Math.max(this.cwnd - acked + this.mss, this.mss);
      return "partial-ack";
    }
    // Linux tcp_cong_avoid() returns early when !tcp_is_cwnd_limited().
    if (!this.isCwndLimited()) return "none";
    if (this.cwnd < this.ssthresh) {
      // Slow start (RFC 5681 3.1) counting every byte acknowledged, as Linux's
      // tcp_slow_start() counts every segment: no RFC 3465 limit L, capped at ssthresh.
      this.cwnd = Math.min(this.cwnd + acked, Math.max(this.ssthresh, this.cwnd));
    } else {
      this.cwnd = this.algorithm.grow(now, this.cwnd, acked, this.mss, srtt);
    }
    return "none";
  }

  /**
   * A duplicate ACK while data is outstanding (RFC 5681 section 2, or with SACK an ACK
   * that reported new SACKed data, RFC 6675 section 2). `lost` says the scoreboard already
   * shows SND.UNA lost (RFC 6675 IsLost: DupThresh segments SACKed above it).
   */
  onDuplicateAck(now: Millis, sndMax: Seq, flight: number, lost = false): AckOutcome {
    this.dupAcks++;
    if (this.inRecovery) {
      if (!this.sack) this.cwnd += this.mss; // RFC 5681 step 4: inflate per segment that left
      return "none";
    }
    if (this.dupAcks < DUPACK_THRESHOLD && !lost) return "none";
    // RFC 6582 3.2 step 2: only enter recovery if this loss is after the last one.
    if (this.recover !== undefined && !seqGt(sndMax, this.recover)) return "none";
    this.ssthresh = this.algorithm.reduce(now, this.cwnd, flight, this.mss);
    this.recover = sndMax;
    this.inRecovery = true;
    this.cwnd = this.sack ? this.ssthresh : this.ssthresh + DUPACK_THRESHOLD * this.mss;
    return "fast-retransmit";
  }

  /**
   * After a transmission pass: `flight` bytes are out, `cwndLimited` says the window
   * stopped the sender while it had more to send. Linux tcp_cwnd_validate(): a limited
   * pass, or more in flight than before, is remembered for the window that ends at
   * `sndNxt`; an unlimited one only once SND.UNA has passed it.
   */
  validate(sndUna: Seq, sndNxt: Seq, flight: number, cwndLimited: boolean): void {
    if (this.usageSeq === undefined || seqGe(sndUna, this.usageSeq) || cwndLimited || (!this.cwndLimited && flight > this.maxBytesOut)) {
      this.cwndLimited = cwndLimited;
      this.maxBytesOut = flight;
      this.usageSeq = sndNxt;
    }
  }

  /** Linux tcp_is_cwnd_limited(): in slow start, also while cwnd is under twice the most in flight. */
  isCwndLimited(): boolean {
    if (this.cwndLimited) return true;
    if (this.cwnd < this.ssthresh) return this.cwnd < 2 * this.maxBytesOut;
    return false;
  }

  /** The retransmission timer expired (RFC 5681 3.1 equation 4; window back to one segment). */
  onTimeout(now: Millis, sndMax: Seq, flight: number): void {
    this.ssthresh = this.algorithm.reduce(now, this.cwnd, flight, this.mss);
    this.cwnd = this.mss;
    this.dupAcks = 0;
    this.inRecovery = false;
    this.recover = sndMax;
  }
}
