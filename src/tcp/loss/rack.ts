/**
 * RACK (RFC 8985 sections 6.1 - 6.3): time-based loss detection. A segment is lost when a
 * segment sent sufficiently later has been delivered, "sufficiently" being the reordering
 * window. Duplicate-ACK counting only reacts to packet counts; RACK also repairs lost
 * retransmissions and losses at the tail, and adapts to reordering it observes.
 *
 * Linux is the reference where the RFC leaves a choice (net/ipv4/tcp_recovery.c):
 * - a delivered segment that was retransmitted updates RACK only if its RTT is not below
 *   the minimum RTT (tcp_rack_advance), rather than comparing echoed timestamps;
 * - the reordering window is zero until reordering is seen, during recovery or once
 *   DupThresh segments are SACKed (RFC 8985 6.2 step 4, Linux tcp_rack_reo_wnd);
 * - the reordering timer fires 2 ms after the computed time (TCP_TIMEOUT_MIN).
 */
import type { Millis } from "../../env.js";
import { seqDiff, seqGe, seqGt, seqLe, seqLt, type Seq } from "../../wire/seq.js";
import type { SackBlock } from "../../wire/tcp.js";
import { EVER_RETRANS, LOST, RETRANS_OUT, SACKED, type SentLog } from "./sent-log.js";

const NO_BLOCKS: readonly SackBlock[] = [];

/** RFC 8985 DupThresh, used in deciding the reordering window. */
export const DUP_THRESH = 3;
/** RFC 8985 6.2 step 4: recoveries a widened reordering window persists for. */
const REO_WND_PERSIST = 16;
/** Linux tcp_max_reordering. */
const MAX_REORDERING = 300;
/**
 * Resend instants remembered (see onResend): a recovery resends in a few instants per round
 * trip, and a resent segment is judged within about a round trip of its resend.
 */
const RESEND_INSTANTS = 8;
/** Linux TCP_TIMEOUT_MIN, added to a reordering timeout (2 jiffies at HZ=1000). */
export const REO_TIMEOUT_SLACK: Millis = 2;

/** RFC 8985 "RACK.segment is sent after": later in time, or at the same time with a higher end. */
export function sentAfter(t1: Millis, end1: Seq, t2: Millis, end2: Seq): boolean {
  return t1 > t2 || (t1 === t2 && seqGt(end1, end2));
}

export interface RackLossResult {
  /** Bytes newly marked lost. */
  lostBytes: number;
  /** Segments newly marked lost. */
  lostSegments: number;
  /** When some segments are not yet overdue: after how long to look again (0 = no timer). */
  timeout: Millis;
}

export class Rack {
  /** RACK.xmit_ts and RACK.end_seq: the most recently sent segment known delivered. */
  xmitTime: Millis = -Infinity;
  endSeq: Seq = 0 as Seq;
  /** RACK.rtt: the RTT measured from that segment. */
  rtt: Millis = 0;
  /** RACK.fack: the highest end of a delivered segment. */
  fack: Seq | undefined;
  reorderingSeen = false;
  /** Times reordering was detected (Linux tp->reord_seen, TCP_INFO's tcpi_reord_seen). */
  reordSeen = 0;
  /** Reordering degree in segments (Linux tp->reordering, starting at tcp_reordering = 3). */
  reordering = DUP_THRESH;
  /** RACK.reo_wnd_mult and RACK.reo_wnd_persist (RFC 8985 6.2 step 4). */
  reoWndMult = 1;
  private reoWndPersist = 0;
  /** RACK.dsack_round: no second widening until SND.UNA passes this. */
  private dsackRound: Seq | undefined;
  /** Something was delivered since the last loss scan (Linux rack.advanced). */
  private advanced = false;
  /**
   * The latest instants anything was resent, each with SND.MAX at the first resend of that
   * instant: what had been sent before it (see detectLoss). A ring of RESEND_INSTANTS, the
   * newest at `resendNewest`, made at the first resend. Remembering only the latest instant
   * was not enough: a resend judged a round trip later has usually been followed by others
   * (through the relay with BBR at 0.1% loss, a third of the resends were spurious).
   */
  private resendTimes: Float64Array | undefined;
  private resendSndMaxes: Uint32Array | undefined;
  private resendNewest = 0;

  /** A scan would run: something was delivered since the last one. */
  get advancedSinceScan(): boolean {
    return this.advanced;
  }

  /**
   * RFC 8985 6.2 steps 2 and 3 for one newly delivered (ACKed or SACKed) segment that was
   * sent at `sentAt` and ends at `end`. `minRtt` is the path's minimum RTT.
   */
  onDelivered(now: Millis, end: Seq, sentAt: Millis, flags: number, minRtt: Millis): void {
    const everRetransmitted = (flags & EVER_RETRANS) !== 0;
    if (this.fack === undefined || seqGt(end, this.fack)) this.fack = end;
    const rtt = now - sentAt;
    // Delivered after a retransmission faster than the path allows: the original was
    // delivered, not the retransmission, so its send time is unknown (Linux tcp_rack_advance).
    if (everRetransmitted && rtt < minRtt) return;
    this.advanced = true;
    this.rtt = rtt;
    if (sentAfter(sentAt, end, this.xmitTime, this.endSeq)) {
      this.xmitTime = sentAt;
      this.endSeq = end;
    }
  }

  /**
   * RFC 8985 6.2 step 3 as Linux's tcp_check_sack_reordering: an ACK delivered a segment
   * never retransmitted, starting at `lowSeq`, below the highest one delivered before it
   * (`priorFack`). The distance, in segments, is the reordering degree TCP_INFO reports.
   */
  onReordering(lowSeq: Seq, priorFack: Seq | undefined, mss: number): void {
    if (priorFack === undefined || !seqLt(lowSeq, priorFack)) return;
    const metric = seqDiff(priorFack, lowSeq);
    if (metric > this.reordering * mss) this.reordering = Math.min(Math.ceil(metric / mss), MAX_REORDERING);
    this.reorderingSeen = true;
    this.reordSeen++;
  }

  /** Data below `sndMax` is being resent at `now` (see detectLoss). */
  onResend(now: Millis, sndMax: Seq): void {
    const times = (this.resendTimes ??= new Float64Array(RESEND_INSTANTS).fill(-Infinity));
    const maxes = (this.resendSndMaxes ??= new Uint32Array(RESEND_INSTANTS));
    if (times[this.resendNewest] === now) return;
    this.resendNewest = this.resendNewest + 1 === RESEND_INSTANTS ? 0 : this.resendNewest + 1;
    times[this.resendNewest] = now;
    maxes[this.resendNewest] = sndMax;
  }

  /** SND.MAX when resending began at `instant`, if that instant is still remembered. */
  private sndMaxAtResend(instant: Millis): Seq | undefined {
    const times = this.resendTimes;
    if (times === undefined) return undefined;
    for (let k = 0; k < RESEND_INSTANTS; k++) if (times[k] === instant) return this.resendSndMaxes![k] as Seq;
    return undefined;
  }

  /** RFC 8985 6.2 step 4, DSACK part: an ACK carried a D-SACK block. */
  onAck(sndUna: Seq, sndNxt: Seq, dsack: boolean): void {
    if (this.dsackRound !== undefined && seqGe(sndUna, this.dsackRound)) this.dsackRound = undefined;
    if (this.dsackRound === undefined && dsack) {
      this.dsackRound = sndNxt;
      this.reoWndMult = Math.min(this.reoWndMult + 1, 255);
      this.reoWndPersist = REO_WND_PERSIST;
    }
  }

  /** RFC 8985 6.2 step 4: leaving fast or RTO recovery. */
  onRecoveryExit(): void {
    if (this.reoWndPersist > 0) this.reoWndPersist--;
    if (this.reoWndPersist === 0) this.reoWndMult = 1;
  }

  /** RFC 8985 6.2 step 4 / Linux tcp_rack_reo_wnd. */
  reorderWindow(inRecovery: boolean, sackedSegments: number, minRtt: Millis, srtt: Millis | undefined): Millis {
    if (!this.reorderingSeen && (inRecovery || sackedSegments >= DUP_THRESH)) return 0;
    const base = Number.isFinite(minRtt) ? minRtt : (srtt ?? 0);
    return Math.min((this.reoWndMult * base) / 4, srtt ?? base);
  }

  /**
   * RFC 8985 6.2 step 5 (RACK_detect_loss): marks every outstanding segment sent before the
   * RACK segment and overdue by more than the reordering window. Runs only when something
   * was delivered since the last scan, unless `force` (the reordering timer fired).
   */
  detectLoss(log: SentLog, now: Millis, reoWnd: Millis, force = false, sacked: readonly SackBlock[] = NO_BLOCKS): RackLossResult {
    const result: RackLossResult = { lostBytes: 0, lostSegments: 0, timeout: 0 };
    if (!this.advanced && !force) return result;
    this.advanced = false;
    // `sacked` (the scoreboard's ranges, sorted) holds only SACKed records, which the scan
    // skips anyway: it hops over them, as Linux's time-sorted list has dropped them, so one
    // ACK in a recovery with thousands of segments SACKed costs the holes, not the window.
    let k = 0;
    for (let i = 0; i < log.size; ) {
      const start = log.start(i);
      while (k < sacked.length && seqLe(sacked[k]!.right, start)) k++;
      if (k < sacked.length && seqLe(sacked[k]!.left, start)) {
        i = Math.max(i + 1, log.indexOf(sacked[k]!.right));
        k++;
        continue;
      }
      const f = log.flags(i);
      if ((f & SACKED) !== 0 || (f & (LOST | RETRANS_OUT)) === LOST) {
        i++;
        continue;
      }
      const sentAt = log.sentAt(i);
      const end = log.end(i);
      // Sent in the same instant as the RACK segment, the end-sequence tie-break orders
      // segments of one burst of new data, and a pass's resends before its new data. A
      // segment resent at that instant after the RACK segment had already gone (its end
      // within SND.MAX as the instant's resending began) went out after it, whatever its
      // sequence number: Linux's nanosecond send stamps say so, where a clock that stands
      // still within an event cannot. Judged by that delivery, the resent segment would be
      // marked lost again at once (the corpus's TFO recovery script: a resend, then a
      // SACK of data first sent in that instant).
      const sndMaxAtResend = (f & RETRANS_OUT) !== 0 && sentAt === this.xmitTime ? this.sndMaxAtResend(sentAt) : undefined;
      const resentAfter = sndMaxAtResend !== undefined && seqLe(this.endSeq, sndMaxAtResend);
      if (resentAfter || !sentAfter(this.xmitTime, this.endSeq, sentAt, end)) {
        // A first transmission no earlier than the RACK segment: every record above it was
        // first sent later still, and any resend of one later than that, so none is overdue.
        if ((f & EVER_RETRANS) === 0) break;
        i++;
        continue;
      }
      const remaining = sentAt + this.rtt + reoWnd - now;
      if (remaining <= 0) {
        const n = log.markLost(i);
        if (n > 0) {
          result.lostBytes += n;
          result.lostSegments++;
        }
      } else if (remaining > result.timeout) {
        result.timeout = remaining;
      }
      i++;
    }
    return result;
  }
}
