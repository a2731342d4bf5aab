/**
 * How the congestion window grows and shrinks, separated from loss recovery (which
 * recovery.ts does the same way for every algorithm). Windows are in bytes, time in ms.
 */
import type { Millis } from "../../env.js";

export interface WindowAlgorithm {
  readonly name: string;
  /**
   * Congestion avoidance (cwnd >= ssthresh): `acked` new bytes were acknowledged.
   * Returns the new cwnd.
   */
  grow(now: Millis, cwnd: number, acked: number, mss: number): number;
  /**
   * An RTT sample (ms) from an ACK of data, in any state (Linux ca_ops->pkts_acked with
   * the newest delivered segment's RTT).
   */
  onRttSample?(now: Millis, rtt: Millis): void;
  /**
   * Data leaves with nothing in flight, `idle` ms after data last left (Linux
   * CA_EVENT_TX_START from tcp_event_data_sent). Must not write anything when the algorithm
   * has no state to shift: the shared FRESH_CUBIC (cubic.ts) is asked too.
   */
  onTransmitStart?(now: Millis, idle: Millis): void;
  /** A loss was detected (fast retransmit or timeout): the new ssthresh. */
  reduce(now: Millis, cwnd: number, flight: number, mss: number): number;
  /** A timeout entered the Loss state with `flight` bytes out (Linux ca_ops->set_state(TCP_CA_Loss)). */
  enterLoss?(flight: number): void;
}

/** RFC 5681 3.1: additive increase of one MSS per window acknowledged (byte counting), halve on loss. */
export class Reno implements WindowAlgorithm {
  readonly name = "reno";
  private credit = 0;

  grow(_now: Millis, cwnd: number, acked: number, mss: number): number {
    this.credit += acked;
    if (this.credit < cwnd) return cwnd;
    this.credit -= cwnd;
    return cwnd + mss;
  }

  /**
   * Half the window in whole segments, at least two: Linux's tcp_reno_ssthresh,
   * max(cwnd >> 1, 2). RFC 5681 equation 4 halves FlightSize instead, which counts SACKed
   * bytes too and so left synack's Reno with more than Linux's after each loss (0.55 of the
   * window against 0.49, measured through the relay), against the kernel's Reno it is compared with.
   */
  reduce(_now: Millis, cwnd: number, _flight: number, mss: number): number {
    this.credit = 0;
    return Math.max(Math.floor(cwnd / mss / 2) * mss, 2 * mss);
  }
}
