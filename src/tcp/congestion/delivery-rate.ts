/**
 * Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation; Linux tcp_rate.c):
 * how fast the path delivered data, measured from ACKs, for BBR's bandwidth filter.
 *
 * At send time each segment records a snapshot of the connection's delivery counters
 * (bytes delivered so far, when the last delivery was seen, when the current send "flight"
 * began, and whether the sender was application-limited). When an ACK delivers segments,
 * the most recently sent of them (the largest snapshot of `delivered`) gives the rate
 * sample: bytes delivered since its send divided by the longer of the send interval and
 * the ACK interval (draft section 3.3: the longer one rules out ACK compression and send
 * bursts inflating the estimate).
 *
 * The sent-segment log (loss/sent-log.ts) keeps RACK's per-segment state in typed arrays;
 * these snapshots are kept apart (rate-snapshots.ts), keyed by the segment's end sequence
 * (which neither a partial ACK nor a SACK changes), so the loss detectors stay independent
 * of BBR.
 * Units: bytes and milliseconds; rates in bytes per millisecond.
 */
import type { Millis } from "../../env.js";
import type { Seq } from "../../wire/seq.js";
import { RateSnapshots } from "./rate-snapshots.js";

/** One ACK's measurement (the draft's RS, Linux struct rate_sample). */
export interface RateSample {
  /** Bytes delivered over `interval` (RS.delivered); -1 when no sent snapshot was found. */
  delivered: number;
  /** RS.interval: max(send elapsed, ACK elapsed), ms; -1 when the sample is not valid. */
  interval: Millis;
  /** delivered / interval in bytes per ms, 0 when the sample is not valid. */
  deliveryRate: number;
  /** RTT of the most recently sent segment this ACK delivered, ms (-1 when none: all retransmitted). */
  rtt: Millis;
  /** The segment was sent while the application, not the network, limited the sender. */
  isAppLimited: boolean;
  /** C.delivered when that segment was sent (RS.prior_delivered), for BBR's round counting. */
  priorDelivered: number;
  /** Bytes this ACK newly delivered (cumulatively ACKed or SACKed). */
  newlyDelivered: number;
}

export class DeliveryRate {
  /** C.delivered: bytes delivered over the connection's life. */
  delivered = 0;
  /** C.delivered_time: when `delivered` last grew. */
  deliveredAt: Millis = 0;
  /** C.first_sent_time: send time of the segment that began the current flight. */
  private firstSentAt: Millis = 0;
  /**
   * C.app_limited: the `delivered` count up to which samples are application-limited
   * (0 = not limited). Set when the sender runs out of data with room in cwnd (draft 3.4).
   */
  appLimitedUntil = 0;
  private readonly snapshots = new RateSnapshots();
  /** The sample being gathered for the current ACK. */
  private readonly sample: RateSample = { delivered: 0, interval: 0, deliveryRate: 0, rtt: -1, isAppLimited: false, priorDelivered: 0, newlyDelivered: 0 };
  private priorDeliveredAt: Millis = 0;
  private sendElapsed: Millis = 0;
  private hasSnapshot = false;
  /** Send time of the segment the sample's RTT came from (the latest never-retransmitted one delivered). */
  private rttSentAt: Millis = -Infinity;

  /**
   * A segment ending at `end` left at `now` (draft 3.2 "upon sending a packet"). With
   * nothing in flight the flight restarts here, so an idle gap does not count as
   * delivery time.
   */
  onSend(now: Millis, end: Seq, nothingInFlight: boolean): void {
    if (nothingInFlight) this.firstSentAt = this.deliveredAt = now;
    this.snapshots.set(end, this.delivered, this.deliveredAt, this.firstSentAt, this.appLimitedUntil !== 0);
  }

  /** An ACK's processing begins. */
  beginAck(): void {
    this.hasSnapshot = false;
    this.sample.newlyDelivered = 0;
    this.sample.rtt = -1;
    this.rttSentAt = -Infinity;
  }

  /**
   * A segment [.., end) sent at `sentAt` was delivered (cumulatively ACKed or SACKed) by
   * the ACK at `now` (draft 3.3 "upon receiving an ACK", per packet).
   */
  onDelivered(now: Millis, end: Seq, sentAt: Millis, bytes: number, retransmitted = false): void {
    this.delivered += bytes;
    this.sample.newlyDelivered += bytes;
    // Karn's rule for the RTT (Linux tcp_clean_rtx_ack / tcp_sacktag_one take ca_rtt_us only
    // from never-retransmitted segments): a retransmission whose original was already on its
    // way is "delivered" by an ACK moments after it left, and an RTT of ~0 made BBR's min
    // RTT 0, its BDP 0 and its window 4 segments for the next 10 s.
    if (!retransmitted && sentAt > this.rttSentAt) {
      this.rttSentAt = sentAt;
      // Microseconds, as Linux measures: float noise must not count as a new minimum RTT.
      this.sample.rtt = Math.round((now - sentAt) * 1000) / 1000;
    }
    const snaps = this.snapshots;
    const snap = snaps.take(end);
    if (snap < 0) return;
    // The most recently sent packet carries the most recent snapshot (largest delivered).
    if (this.hasSnapshot && snaps.delivered(snap) < this.sample.priorDelivered) return;
    this.hasSnapshot = true;
    this.sample.priorDelivered = snaps.delivered(snap);
    this.priorDeliveredAt = snaps.deliveredAt(snap);
    this.sample.isAppLimited = snaps.appLimited(snap);
    this.sendElapsed = sentAt - snaps.firstSentAt(snap);
    // The next flight's send interval starts at this packet (draft: C.first_sent_time = P.send_time).
    this.firstSentAt = sentAt;
  }

  /**
   * A D-SACK showed `bytes` we resent arrived twice: the resend counts as delivered (Linux
   * tcp_dsack_seen adds it to tp->delivered, which this ACK's sample reads).
   */
  onDsackDelivered(bytes: number): void {
    this.delivered += bytes;
    this.sample.newlyDelivered += bytes;
  }

  /**
   * The ACK is processed: the sample for it, or undefined when it delivered nothing. A
   * sample shorter than `minRtt` is marked invalid (rate 0), as Linux: intervals that
   * short come from ACK compression or a burst, not from the bottleneck.
   */
  finishAck(now: Millis, minRtt: Millis, sndUna: Seq): RateSample | undefined {
    if (this.appLimitedUntil !== 0 && this.delivered > this.appLimitedUntil) this.appLimitedUntil = 0;
    if (this.sample.newlyDelivered > 0) this.deliveredAt = now;
    // No ACK can deliver what SND.UNA covers again (the sent-segment log let those go).
    this.snapshots.dropThrough(sndUna);
    const s = this.sample;
    if (!this.hasSnapshot) {
      // Only retransmitted or unrecorded segments: no sample (Linux rs->delivered = -1).
      if (s.newlyDelivered === 0) return undefined;
      s.delivered = -1;
      s.interval = -1;
      s.deliveryRate = 0;
      return s;
    }
    s.delivered = this.delivered - s.priorDelivered;
    s.interval = Math.max(this.sendElapsed, now - this.priorDeliveredAt);
    // Linux tcp_rate_gen: an interval under min_rtt is ACK compression or a burst, not the path.
    if (s.interval < minRtt || s.interval <= 0) s.interval = -1;
    s.deliveryRate = s.interval > 0 ? s.delivered / s.interval : 0;
    return s;
  }

  /**
   * After a transmission pass (draft 3.4, Linux tcp_rate_check_app_limited): less than a
   * segment waits to be sent, there is room in the window and nothing is lost awaiting
   * retransmission, so the application is what limits the rate: samples taken until what
   * is now in flight is delivered are marked app-limited.
   */
  checkAppLimited(unsentBytes: number, mss: number, pipe: number, cwnd: number, lostBytes: number): void {
    if (unsentBytes < mss && pipe < cwnd && lostBytes === 0) this.appLimitedUntil = Math.max(this.delivered + pipe, 1);
  }
}
