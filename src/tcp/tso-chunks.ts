/**
 * How Linux groups the new data of one transmission pass into TSO/GSO packets, and the PSH
 * that grouping puts on the wire (RFC 9293 3.9.1 leaves PSH placement to the sender; this
 * follows Linux, whose packetdrill scripts record it).
 *
 * Linux's tcp_write_xmit sends the write queue one skb at a time, each cut
 * (tcp_mss_split_point, tso_fragment) to at most
 *
 *   min(tcp_cwnd_test(): max(cwnd / 2, 1) and cwnd - in_flight,  tcp_tso_segs())
 *
 * segments, where tcp_tso_segs() is tcp_tso_autosize(): the pacing rate's worth of ~1 ms
 * (rate >> sk_pacing_shift 10), plus gso_max_size >> (min_rtt_us >> tcp_tso_rtt_log 9)
 * on short paths, capped at gso_max_size 64 KiB, and at least tcp_min_tso_segs (2).
 *
 * The kernels that recorded the corpus show every such multi-segment packet with PSH on
 * its last segment (a packet of one segment has PSH only where the stream has a push
 * point, push-marks.ts): a write cut by the congestion window or the segment budget shows
 * `P.` on each full-size piece. Modelled here as: the segment that ends a chunk of two or
 * more segments carries PSH. That PSH is the packet's, not the stream's: the corpus shows
 * a resent segment that once ended such a packet without PSH (prr-ss-30pkt-lost1_4), so
 * it is no push mark: a lone resent segment carries only the write ends and forced pushes
 * of push-marks.ts, and a run of lost segments resent together, a packet again, carries
 * PSH at its end (Sender.retransmitLost).
 */
import type { Millis } from "../env.js";
import { PACING_CA_RATIO, PACING_SS_RATIO } from "./pacing.js";

/** Linux sk_gso_max_size (GSO_LEGACY_MAX_SIZE): the largest TSO/GSO packet. */
const GSO_MAX_SIZE = 65536;
/** Linux sk_pacing_shift default: a TSO packet holds about 1 ms (2^-10 s) of pacing rate. */
const PACING_SHIFT = 10;
/** Linux tcp_tso_rtt_log default. */
const TSO_RTT_LOG = 9;
// The shifts as divisors, computed once: the rate and RTT are not integers, and `2 ** n`
// in the per-segment path is a call to pow each time.
const PACING_DIVISOR = 2 ** PACING_SHIFT;
const TSO_RTT_DIVISOR = 2 ** TSO_RTT_LOG;

export interface TsoPath {
  /** Congestion window and ssthresh, bytes. */
  cwnd: number;
  ssthresh: number;
  /** Smoothed and minimum RTT in ms (undefined / Infinity before a sample). */
  srtt: number | undefined;
  minRtt: number;
  mss: number;
  /** tcp_min_tso_segs. */
  minTsoSegs: number;
}

/** A fresh `into` object for tsoPath. */
export function newTsoState(): TsoPath {
  return { cwnd: 0, ssthresh: 0, srtt: undefined, minRtt: Infinity, mss: 0, minTsoSegs: 0 };
}

/**
 * The path state tcp_tso_autosize reads, from the sender's congestion control and RTT
 * estimator. With `into` the fields are written there: the sender asks once per segment
 * and reuses one object rather than allocating.
 */
export function tsoPath(c: { cwnd: number; ssthresh: number }, r: { srtt: number | undefined; minRtt: number }, mss: number, minTsoSegs: number, into?: TsoPath): TsoPath {
  if (into === undefined) return { cwnd: c.cwnd, ssthresh: c.ssthresh, srtt: r.srtt, minRtt: r.minRtt, mss, minTsoSegs };
  into.cwnd = c.cwnd;
  into.ssthresh = c.ssthresh;
  into.srtt = r.srtt;
  into.minRtt = r.minRtt;
  into.mss = mss;
  into.minTsoSegs = minTsoSegs;
  return into;
}

/**
 * Linux tcp_tso_segs() -> tcp_tso_autosize(): the most segments one TSO packet may hold.
 * The pacing rate is tcp_update_pacing_rate's: ratio * cwnd / srtt (200% in slow start,
 * 120% after); before any RTT sample it is unlimited.
 */
export function tsoSegments(p: TsoPath): number {
  let bytes = GSO_MAX_SIZE;
  if (p.srtt !== undefined && p.srtt > 0) {
    const ratio = p.cwnd < p.ssthresh / 2 ? PACING_SS_RATIO : PACING_CA_RATIO;
    const rate = (p.cwnd * ratio) / 100 / (p.srtt / 1000); // bytes per second
    bytes = Math.floor(rate / PACING_DIVISOR);
  }
  if (Number.isFinite(p.minRtt)) {
    const r = Math.floor((p.minRtt * 1000) / TSO_RTT_DIVISOR);
    if (r < 32) bytes += GSO_MAX_SIZE >>> r;
  }
  bytes = Math.min(bytes, GSO_MAX_SIZE);
  return Math.max(Math.floor(bytes / p.mss), p.minTsoSegs);
}

/** Linux tcp_cwnd_test(): segments the window lets one packet hold (at least 2 packets in flight). */
export function cwndQuota(cwndSegs: number, inFlightSegs: number): number {
  if (inFlightSegs >= cwndSegs) return 0;
  return Math.min(Math.max(cwndSegs >> 1, 1), cwndSegs - inFlightSegs);
}

/** Tracks the chunk the next new segment belongs to within one transmission pass. */
export class TsoChunks {
  private left = 0;
  private size = 0;

  /** A new tcp_write_xmit pass: the next segment starts a new chunk. */
  startPass(): void {
    this.left = 0;
  }

  /** The next new segment starts a chunk (where Linux would weigh sending its skb at all). */
  get startsChunk(): boolean {
    return this.left <= 0;
  }

  /**
   * A full segment of new data is about to go. `quota` is the chunk size if one starts
   * here (min of cwndQuota and tsoSegments); `moreNow` says whether another full segment
   * can follow in this pass. Returns true when this segment ends a multi-segment chunk.
   */
  next(quota: number, moreNow: boolean): boolean {
    if (this.left <= 0) {
      this.size = Math.max(1, quota);
      this.left = this.size;
    }
    const first = this.left === this.size;
    this.left--;
    const ends = this.left === 0 || !moreNow;
    if (ends) this.left = 0;
    return ends && !first;
  }

  /**
   * One segment goes: `fresh` when it is full-size new data (retransmissions, runts and
   * segments sent during recovery end any chunk instead). `pipe` is the bytes in flight
   * before it. Returns true when the segment carries PSH for ending a chunk.
   */
  segment(p: TsoPath, pipe: number, fresh: boolean, moreNow: boolean): boolean {
    return this.withoutQuota(fresh, moreNow) ?? this.next(Math.min(cwndQuota(Math.floor(p.cwnd / p.mss), Math.ceil(pipe / p.mss)), tsoSegments(p)), moreNow);
  }

  /**
   * `segment` for a segment that needs no quota: one that is not fresh, or one inside a
   * chunk; undefined where a chunk starts (call `segment` then). The sender gathers the
   * path state and the pipe only for that call: once per chunk, not once per segment
   * (2.5% of bulk time at MTU 1500, where a chunk is up to 45 segments).
   */
  withoutQuota(fresh: boolean, moreNow: boolean): boolean | undefined {
    if (!fresh) {
      this.left = 0;
      return false;
    }
    return this.left > 0 ? this.next(0, moreNow) : undefined;
  }
}

/**
 * Linux tcp_xmit_size_goal() ("tcp: tcp_tso_autosize() will eventually split this later"):
 * how much a write puts in one skb before starting the next - half the largest window the
 * peer offered (tcp_bound_to_half_wnd), up to the GSO maximum, in whole segments, whatever
 * the pacing rate. A write's limits are checked (write-admission.ts) and its forced push
 * points fall (push-marks.ts) on these skb boundaries.
 */
export function writeSizeGoal(mss: number, maxWindow: number): number {
  return boundToHalfWindow(GSO_MAX_SIZE, mss, maxWindow);
}

/** tcp_bound_to_half_wnd, then whole segments, at least one. */
function boundToHalfWindow(goal: number, mss: number, maxWindow: number): number {
  const cutoff = maxWindow > 536 ? maxWindow >> 1 : maxWindow;
  if (cutoff > 0 && goal > cutoff) goal = cutoff;
  return Math.max(Math.floor(goal / mss) * mss, mss);
}

/** Linux tcp_max_tso_deferred_mss: with tcp_tso_win_divisor 0, room for more than 3 segments sends. */
const MAX_TSO_DEFERRED_SEGMENTS = 3;
/** Linux defers only while the last packet left less than 1 ms ago, and waits no longer than 1 ms for the ACK. */
const DEFER_HORIZON: Millis = 1;

/** What tcp_tso_should_defer reads, at the start of a chunk of new full-size segments. */
export interface DeferView {
  now: Millis;
  /** When the last packet left (Linux tcp_wstamp_ns; without pacing, the last send). */
  lastSendAt: Millis | undefined;
  /** In recovery or loss (icsk_ca_state >= TCP_CA_Recovery): those send at once. */
  recovering: boolean;
  mss: number;
  cwndSegs: number;
  inFlightSegs: number;
  /** Bytes the peer's window takes from SND.NXT on (tcp_wnd_end - seq), and the window itself. */
  sendWindow: number;
  sndWnd: number;
  /** The most segments one TSO packet may hold (tcp_tso_segs, tsoSegments). */
  maxSegs: number;
  /** Bytes of the write-queue skb that would go next; whether it is the queue's last. */
  skbLen: number;
  tail: boolean;
  /** That skb ends in FIN or a record end (MSG_EOR): no more data will join it. */
  closed: boolean;
  /** When the oldest unacknowledged segment left; undefined with nothing in flight. */
  headSentAt: Millis | undefined;
  srtt: Millis | undefined;
  /** tcp_tso_win_divisor. */
  winDivisor: number;
}

/**
 * Linux tcp_tso_should_defer: whether the next skb, which the windows let go only in part
 * (or, at the queue's tail, whole but short), should wait for the ACK about to arrive, so
 * that it leaves as one larger TSO/GSO packet rather than the sliver each ACK frees. It
 * waits only outside recovery, right after a send (1 ms), while the room is below a full
 * packet and below 1/tcp_tso_win_divisor of the window, and when the oldest segment's ACK
 * is due within min(SRTT/2, 1 ms), as the oldest segment's is in a full pipe. On slow
 * paths a full packet (1 ms at the pacing rate) is a few segments, so it rarely waits. The
 * ACK's pass sends it; if the ACK is lost, the RTO or loss probe is armed already.
 *
 * synack cuts segments from a byte stream rather than keep skbs, so `skbLen` is the part
 * of the queue one skb would hold (the write size goal); Linux's head skb can be a shorter
 * remainder of one cut by an earlier window, which this does not model.
 */
export function tsoShouldDefer(d: DeferView): boolean {
  // Linux sends at once when more than 1 ms passed since the last send, counted in
  // nanoseconds on a real clock; on a virtual clock exactly 1 ms is common (the corpus's
  // shutdown-rdwr-send-queue-ack-close, where Linux sent), so 1 ms sends too.
  if (d.recovering || d.lastSendAt === undefined || d.now - d.lastSendAt >= DEFER_HORIZON) return false;
  const congWin = (d.cwndSegs - d.inFlightSegs) * d.mss;
  const limit = Math.min(d.sendWindow, congWin);
  // A full-sized packet can go; or a middle skb fits whole, so it cannot grow.
  if (limit >= d.maxSegs * d.mss || (!d.tail && limit >= d.skbLen)) return false;
  if (d.winDivisor > 0 ? limit >= Math.floor(Math.min(d.sndWnd, d.cwndSegs * d.mss) / d.winDivisor) : limit > MAX_TSO_DEFERRED_SEGMENTS * d.mss) return false;
  if (d.headSentAt === undefined || d.srtt === undefined) return false;
  // The ACK is due too late to wait for.
  if (d.headSentAt + d.srtt - d.now > Math.min(d.srtt / 2, DEFER_HORIZON)) return false;
  // Limited by cwnd or by the peer's window: wait for the room.
  if (congWin < d.sendWindow ? congWin <= d.skbLen : d.sendWindow <= d.skbLen) return true;
  // The whole skb fits: wait for the application to add to it, unless nothing can join it.
  return !d.closed;
}
