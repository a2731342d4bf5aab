/**
 * Pacing: segments leave no faster than a rate, each at a release time (Linux's
 * earliest-departure-time model: tcp_update_skb_after_send advances tcp_wstamp_ns by
 * len / sk_pacing_rate from max(previous stamp, now), so idle time earns no burst).
 *
 * Sans-IO: the pacer only computes the next release time. The sender holds a segment
 * until then and arms the connection's "pacing" deadline; the layer's nextDeadline()
 * reports it, so the driver (node or simulator) calls back at that time. There is no
 * timer here. The rate comes from the congestion controller (BBR sets it; Reno and
 * CUBIC do not pace, as Linux without the fq qdisc).
 */
import type { Millis } from "../env.js";

export class Pacer {
  /** Bytes per millisecond; 0 = no pacing. */
  rate = 0;
  /** Earliest time the next segment may leave. */
  nextAt: Millis = 0;

  get enabled(): boolean {
    return this.rate > 0;
  }

  /** Whether a segment may leave at `now`. */
  ready(now: Millis): boolean {
    return this.rate <= 0 || this.nextAt <= now;
  }

  /** `bytes` left at `now`: the next one waits for their serialization at the pacing rate. */
  onSent(now: Millis, bytes: number): void {
    if (this.rate <= 0) return;
    this.nextAt = Math.max(this.nextAt, now) + bytes / this.rate;
  }
}
