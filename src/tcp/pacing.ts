/**
 * Pacing: segments leave no faster than a rate, each at a release time (Linux's
 * earliest-departure-time model, tcp_update_skb_after_send: tcp_wstamp_ns advances by
 * len / sk_pacing_rate from max(previous stamp, now), so idle time earns no burst).
 *
 * Three details as Linux has them:
 * - the first ten data segments of a connection are not paced ("Original sch_fq does not
 *   pace first 10 MSS", tcp_update_skb_after_send's `data_segs_out >= 10`);
 * - a release that comes late (the driver woke after the release time: OS jitter) earns up
 *   to half its burst's time back (the `credit` there, computed per TSO packet: Linux sends
 *   one skb of about a millisecond per release, so up to half a millisecond), or up to the
 *   driver's timer slack (HostOptions.timerSlack) where that is larger: Node's setTimeout
 *   fires about a millisecond late as a rule, and without it a paced connection lost a third
 *   of its rate to lateness;
 * - a release due within the driver's timer granularity (HostOptions.timerGranularity) goes
 *   at once, and the pacing deadline is set that much before the release time: a Node timer
 *   cannot wait less than a millisecond, so a release a fraction of one ahead would come
 *   late by up to two. Linux's hrtimers have no such floor; Chromium's QUIC pacing sender
 *   sends early by its alarm granularity for the same reason. The schedule still advances
 *   from the release time, so the rate is unchanged;
 * - each release sends one TSO packet's worth, not one segment: about a millisecond of data
 *   at the pacing rate (sk_pacing_rate >> sk_pacing_shift, sk_pacing_shift = 10), at least
 *   two segments above 1.2 Mbit/s, else one (bbr_tso_segs_goal, bbr_min_tso_segs), at most
 *   64 KiB. A driver then wakes about once a millisecond, not once a segment.
 *
 * Sans-IO: the pacer only computes the next release time. The sender holds a segment
 * until then and arms the connection's "pacing" deadline; the layer's nextDeadline()
 * reports it, so the driver (node or simulator) calls back at that time. There is no
 * timer here. The rate comes from the congestion controller (BBR sets it), or for Reno
 * and CUBIC from the window (windowPacingRate) when TcpConfig.pacing asks, as Linux with
 * the fq qdisc; by default they do not pace, as Linux without it.
 */
import type { Millis } from "../env.js";

/** Linux tcp_pacing_ss_ratio / tcp_pacing_ca_ratio defaults, in percent. */
export const PACING_SS_RATIO = 200;
export const PACING_CA_RATIO = 120;

/**
 * Linux tcp_update_pacing_rate, in bytes per ms: a ratio of what the window sends per round
 * trip, 200% while cwnd is below half of ssthresh (slow start still doubling) and 120% after,
 * so pacing never holds the sender below the window's own rate. `inFlight` counts as the
 * window when larger (Linux max(cwnd, packets_out)).
 */
export function windowPacingRate(cwnd: number, ssthresh: number, inFlight: number, srtt: Millis): number {
  const ratio = cwnd < ssthresh / 2 ? PACING_SS_RATIO : PACING_CA_RATIO;
  return (Math.max(cwnd, inFlight) * ratio) / 100 / Math.max(srtt, 0.001);
}

/** Data segments sent before pacing starts (Linux tcp_update_skb_after_send). */
const UNPACED_SEGMENTS = 10;
/** Largest burst per release: one GSO packet (GSO_MAX_SIZE less headers, rounded). */
const MAX_BURST_BYTES = 65_536;
/** Below this rate (bytes per ms; Linux bbr_min_tso_rate, 1.2 Mbit/s) a release is one segment. */
const MIN_TSO_RATE = 150;

export class Pacer {
  /** Bytes per millisecond; 0 = no pacing. */
  rate = 0;
  /** Earliest time the next burst may start. */
  nextAt: Millis = 0;
  private segmentsSent = 0;
  /** The burst being sent: when it started and how many bytes it has taken. */
  private burstAt: Millis = -1;
  private burstBytes = 0;

  get enabled(): boolean {
    return this.rate > 0;
  }

  /** Bytes one release may send (Linux bbr_tso_segs_goal): about 1 ms at the rate, in whole segments. */
  quantum(mss: number): number {
    const perMs = Math.min((this.rate * 1000) / 1024, MAX_BURST_BYTES);
    const minSegments = this.rate < MIN_TSO_RATE ? 1 : 2;
    return Math.max(Math.floor(perMs / mss), minSegments) * mss;
  }

  /**
   * Whether a segment may leave at `now`. `early`: the driver's timer granularity
   * (HostOptions.timerGranularity); a release due within it goes now, since a wakeup asked
   * for it would come after it (a whole millisecond on Node), and each round trip of a paced
   * flow would grow by that much.
   */
  ready(now: Millis, mss: number, early: Millis = 0): boolean {
    if (this.rate <= 0 || this.segmentsSent < UNPACED_SEGMENTS || this.nextAt - early <= now) return true; // the expression pacingHolds arms its deadline with
    return this.burstAt === now && this.burstBytes < this.quantum(mss);
  }

  /**
   * `bytes` of data left at `now`: the next burst waits for their serialization at the pacing
   * rate. `slack` is how late the driver's wakeups may come (HostOptions.timerSlack): that much
   * lateness is credited too, where Linux's hrtimers need only its half-burst credit.
   */
  onSent(now: Millis, bytes: number, mss: number, slack: Millis = 0): void {
    if (this.rate <= 0) return;
    if (this.segmentsSent++ < UNPACED_SEGMENTS) return;
    const quantum = this.quantum(mss);
    if (this.burstAt !== now || this.burstBytes >= quantum) {
      // A new burst (one TSO packet in Linux): the schedule restarts at max(release, now),
      // less the lateness up to half the burst's serialization time (tcp_update_skb_after_send).
      this.burstAt = now;
      this.burstBytes = 0;
      const late = Math.max(0, now - this.nextAt);
      this.nextAt = Math.max(this.nextAt, now) - Math.min(late, Math.max(quantum / this.rate / 2, slack));
    }
    this.burstBytes += bytes;
    this.nextAt += bytes / this.rate;
  }
}
