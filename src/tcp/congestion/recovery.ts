/**
 * The congestion window through loss and recovery: slow start and congestion avoidance
 * (RFC 5681), the reduction when loss is detected (by RACK, duplicate ACKs, a tail loss
 * probe or a timeout), the one reduction per window for an ECN echo (RFC 3168 6.1.2, the CWR
 * state), Proportional Rate Reduction during both (RFC 9937), and undo
 * when the reduction proves spurious (RFC 2883/3708 D-SACK, RFC 5682-style timestamps).
 *
 * The state names are Linux's `icsk_ca_state` (open, disorder, CWR, recovery, loss), because
 * TCP_INFO reports them and packetdrill scripts assert them. How the window grows in
 * congestion avoidance and how far it falls is the WindowAlgorithm's (CUBIC by default, as
 * Linux; Reno on request). The controller only does window arithmetic: which segments to
 * resend is the sender's decision (sender.ts).
 */
import type { Millis } from "../../env.js";
import { fromSeqFieldOpt, seqAdd, seqGe, seqGt, toSeqFieldOpt, type Seq } from "../../wire/seq.js";
import type { WindowAlgorithm } from "./algorithm.js";
import { Cubic, FRESH_CUBIC } from "./cubic.js";
import { HyStart, LOW_WINDOW as HYSTART_LOW_WINDOW } from "./hystart.js";
import { ProportionalRateReduction } from "./prr.js";
import { RttEstimator } from "../rtt.js";
import { LINUX_DEFAULTS, type TcpConfig } from "../config.js";

export type CaState = "open" | "disorder" | "cwr" | "recovery" | "loss";

/** RFC 5681 DupThresh. */
export const DUPACK_THRESHOLD = 3;

/**
 * ssthresh before any reduction. Read from a module constant, not Number.MAX_SAFE_INTEGER at
 * each use: V8's interpreter copies that property into a new heap number on every read, so
 * each connection's ssthresh held its own box (16 B); a constant's value is one shared object.
 */
const NO_SSTHRESH = Number.MAX_SAFE_INTEGER;

/**
 * What window reductions keep (made by the first one: a connection that never lost or was
 * ECN-marked carries none of it, 48 B less per idle connection, bench/heap.js). Sequence
 * numbers as int32s (toSeqField in wire/seq.ts).
 */
class Reductions {
  recover32: number | undefined;
  cwrHigh32: number | undefined;
  prr: ProportionalRateReduction | undefined;
  priorCwnd = 0;
  priorSsthresh = 0;
  undoRetrans: number | undefined;
  undos = 0;
}

/**
 * Also a layer of Sender's class chain (sender.ts, sender-parts.ts), above its RTT estimator:
 * a connection's congestion control lives in its Sender object, `sender.congestion` being
 * the sender itself; an object of its own cost 32 B per connection (header and pointer).
 * Standalone instances (tests) take the default settings for the estimator beneath.
 */
export class CongestionControl extends RttEstimator<TcpConfig> {
  cwnd: number;
  /** Declared bare and set in the constructor so the field stays tagged: an idle connection points at the one shared MAX_SAFE_INTEGER heap number (see timers.ts). */
  ssthresh!: number;
  /** Duplicate ACKs counted since the last new ACK (the classic detector; RFC 5681 3.2). */
  dupAcks = 0;
  state: CaState = "open";
  // Sequence numbers below are kept as int32s (toSeqField in wire/seq.ts: no heap number per field).
  private usageSeq32: number | undefined;
  /** What reductions keep; the accessors below read it (their defaults while it is missing). */
  private reductionsPart: Reductions | undefined;
  private get reductions(): Reductions {
    return this.reductionsPart ?? (this.reductionsPart = new Reductions());
  }
  /** RFC 6582 "recover": the highest sequence sent when the current episode began. */
  get recover(): Seq | undefined { return fromSeqFieldOpt(this.reductionsPart?.recover32); }
  set recover(s: Seq | undefined) { if (s !== undefined || this.reductionsPart !== undefined) this.reductions.recover32 = toSeqFieldOpt(s); }
  /** PRR's counters, made by the first window reduction. */
  get prr(): ProportionalRateReduction {
    const r = this.reductions;
    return (r.prr ??= new ProportionalRateReduction());
  }
  /**
   * Slow-start exit on rising delay, with CUBIC as Linux (undefined for Reno). Made by the
   * first slow-start RTT sample at a window of LOW_WINDOW segments or more: below that
   * HyStart only keeps the smallest RTT, and reset() of a detector that never ran is a
   * no-op, so an idle connection (one handshake sample) never makes it. Until it is made
   * the field holds that smallest slow-start sample instead (its pathMin, Linux delay_min),
   * or undefined before one: one field for the two, 8 B less per connection, read only
   * for RTT samples in slow start.
   */
  private hystart: HyStart | Millis | undefined;
  /** HyStart's detector bits for when it is made; false: no HyStart (not CUBIC). */
  private get hystartDetect(): number | false {
    return this.algo.name === "cubic" ? this.config.hystartDetect : false; // read, not copied: 8 B less per connection
  }
  /** CWR lasts until SND.UNA passes this: SND.NXT when the ECN reduction began (Linux high_seq). */
  private get cwrHigh(): Seq | undefined { return fromSeqFieldOpt(this.reductionsPart?.cwrHigh32); }
  private set cwrHigh(s: Seq | undefined) { if (s !== undefined || this.reductionsPart !== undefined) this.reductions.cwrHigh32 = toSeqFieldOpt(s); }
  /**
   * Retransmissions of the current episode not yet shown spurious by a D-SACK (Linux
   * undo_retrans); undefined when there is nothing to undo (Linux undo_marker == 0).
   */
  get undoRetrans(): number | undefined { return this.reductionsPart?.undoRetrans; }
  set undoRetrans(n: number | undefined) { if (n !== undefined || this.reductionsPart !== undefined) this.reductions.undoRetrans = n; }
  /** Times a reduction was undone (Linux TCPDSACKUndo + TCPLossUndo, for tests and narration). */
  get undos(): number { return this.reductionsPart?.undos ?? 0; }
  /**
   * Whether the window was the limit (Linux tcp_cwnd_validate / tcp_is_cwnd_limited,
   * RFC 7661's idea): the window grows only while it is what holds the sender back, so
   * an application-limited sender does not build a window it never tested.
   */
  private cwndLimited = false;
  /** Most bytes in flight in the current window (Linux max_packets_out, in bytes). */
  private maxBytesOut = 0;
  /** Until SND.UNA passes this, the window's limitedness is remembered (Linux cwnd_usage_seq). */
  private get usageSeq(): Seq | undefined { return fromSeqFieldOpt(this.usageSeq32); }
  private set usageSeq(s: Seq | undefined) { this.usageSeq32 = toSeqFieldOpt(s); }
  /** BBR sets the window itself on every ACK (Linux cong_control): no PRR, no growth here. */
  get modelBased(): boolean {
    return this.algo.name === "bbr";
  }

  /** The window algorithm (algorithm.ts): the shared FRESH_CUBIC until it first acts (`acting`). */
  get algorithm(): WindowAlgorithm {
    return this.algo;
  }
  private algo: WindowAlgorithm;
  /**
   * The algorithm to act with (grow, reduce, an RTT sample). A connection on the shared, never
   * written FRESH_CUBIC (cubic.ts) gets a CUBIC of its own first: a fresh one is in the same
   * state, and an idle connection keeps none (48 B).
   */
  private get acting(): WindowAlgorithm {
    return this.algo !== FRESH_CUBIC ? this.algo : (this.algo = new Cubic());
  }

  /**
   * The segment size windows are counted in: the largest payload we put in one segment. For
   * a sender this is its send MSS (Sender.sendMss is this field), kept in step by setMss and
   * resize through setWindowMss and rescale.
   */
  sendMss: number;

  constructor(
    algorithm: WindowAlgorithm,
    mss: number,
    initialWindowSegments: number,
    config: TcpConfig = LINUX_DEFAULTS,
  ) {
    super(config);
    this.sendMss = mss;
    this.algo = algorithm;
    this.cwnd = initialWindowSegments * mss;
    this.ssthresh = NO_SSTHRESH;
  }

  /** Data leaves with nothing in flight after `idle` ms without sending (WindowAlgorithm.onTransmitStart). */
  onTransmitStart(now: Millis, idle: Millis): void {
    this.algo.onTransmitStart?.(now, idle); // writes nothing without a curve: safe on FRESH_CUBIC
  }

  /**
   * An RTT sample from an ACK of new data. In slow start HyStart may end it here
   * (ssthresh = cwnd, Linux hystart_update); returns true when it did.
   */
  onRttSample(now: Millis, rtt: Millis, ack: Seq, sndNxt: Seq): number {
    this.acting.onRttSample?.(now, rtt); // it keeps the minimum RTT: never on the shared FRESH_CUBIC
    if (this.hystartDetect === false || this.cwnd >= this.ssthresh || this.state !== "open") return 0;
    const cwndSegments = Math.floor(this.cwnd / this.sendMss);
    const h = this.hystart;
    let detector: HyStart;
    if (typeof h !== "object") {
      if (cwndSegments < HYSTART_LOW_WINDOW) {
        if (h === undefined || rtt < h) this.hystart = rtt;
        return 0;
      }
      detector = this.hystart = new HyStart(this.hystartDetect, h, this.config.pacing);
    } else {
      detector = h;
    }
    const found = detector.onRtt(now, rtt, ack, sndNxt, cwndSegments);
    if (found !== 0) this.ssthresh = this.cwnd;
    return found;
  }

  /** HyStart's minimum RTT, from data segments only (for narration). */
  get hystartMinRtt(): Millis | undefined {
    const h = this.hystart;
    return typeof h === "object" ? h.minRtt : h;
  }

  get inRecovery(): boolean {
    return this.state === "recovery";
  }

  /** Recovery or CWR: PRR sets the window on each ACK (Linux tcp_in_cwnd_reduction). */
  get inCwndReduction(): boolean {
    return this.state === "recovery" || this.state === "cwr";
  }

  /** Recovery, CWR or loss: the window is being reduced or rebuilt, not grown as usual. */
  get reducing(): boolean {
    return this.state === "recovery" || this.state === "cwr" || this.state === "loss";
  }

  /** A smaller MSS (path MTU): windows keep their counts of segments, as Linux counts in packets. */
  rescale(oldMss: number, mss: number): void {
    const segments = (bytes: number) => Math.max(1, Math.round(bytes / oldMss));
    this.cwnd = segments(this.cwnd) * mss;
    if (this.ssthresh < Number.MAX_SAFE_INTEGER) this.ssthresh = segments(this.ssthresh) * mss;
    this.sendMss = mss;
  }

  /**
   * An MTU probe got through (Linux tcp_mtup_probe_success): the window keeps its bytes in
   * flight, counted in segments of the larger size (cwnd x old MTU / probe MTU, at least
   * one), and ssthresh stays at least 3/4 of it (tcp_current_ssthresh).
   */
  afterLargerSegments(oldMtu: number, probeMtu: number): void {
    const segments = Math.max(1, Math.floor((Math.round(this.cwnd / this.sendMss) * oldMtu) / probeMtu));
    this.cwnd = segments * this.sendMss;
    this.ssthresh = Math.max(this.ssthresh, (segments >> 1) * this.sendMss + (segments >> 2) * this.sendMss);
  }

  setWindowMss(mss: number, initialWindowSegments: number): void {
    this.sendMss = mss;
    this.cwnd = initialWindowSegments * mss;
  }

  /**
   * Window growth for `acked` newly delivered bytes outside recovery (Linux tcp_cong_avoid;
   * it returns early when !tcp_is_cwnd_limited()). In the loss state (after a timeout) the
   * window slow-starts back up to ssthresh, as Linux does.
   */
  grow(now: Millis, acked: number): void {
    if (this.state === "recovery" || this.state === "cwr" || acked <= 0 || this.modelBased) return;
    if (!this.isCwndLimited()) return;
    if (this.cwnd < this.ssthresh) {
      // Slow start (RFC 5681 3.1) counting every byte acknowledged, as Linux's
      // tcp_slow_start() counts every segment: no RFC 3465 limit L, capped at ssthresh.
      this.cwnd = Math.min(this.cwnd + acked, Math.max(this.ssthresh, this.cwnd));
    } else {
      this.cwnd = this.acting.grow(now, this.cwnd, acked, this.sendMss);
    }
  }

  /** A new cumulative ACK: the duplicate ACK count restarts (RFC 5681 3.2). */
  onNewAck(): void {
    this.dupAcks = 0;
  }

  /**
   * A duplicate ACK while data is outstanding (the classic detector, RFC 5681 3.2 and
   * RFC 6675 section 5 when `lost` says the scoreboard shows SND.UNA lost). True when
   * this one starts fast recovery: the caller retransmits SND.UNA.
   */
  onDuplicateAck(now: Millis, sndMax: Seq, flight: number, lost = false): boolean {
    this.dupAcks++;
    if (this.state === "recovery" || this.state === "loss") return false;
    if (this.dupAcks < DUPACK_THRESHOLD && !lost) {
      if (this.state === "open") this.state = "disorder"; // CWR stays (Linux tcp_try_to_open)
      return false;
    }
    // RFC 6582 3.2 step 2: only a loss after the last episode starts another one.
    if (this.recover !== undefined && !seqGt(sndMax, this.recover)) return false;
    this.enterRecovery(now, sndMax, flight);
    return true;
  }

  /**
   * Loss detected (fast retransmit, RACK): ssthresh from the algorithm, PRR from here on
   * (Linux tcp_enter_recovery + tcp_init_cwnd_reduction).
   */
  enterRecovery(now: Millis, sndMax: Seq, flight: number): void {
    // Linux tcp_enter_recovery: from CWR the window is already coming down; no second cut,
    // and PRR carries on. An ECN reduction is never undone.
    if (this.state !== "cwr") {
      this.saveForUndo();
      if (typeof this.hystart === "object") this.hystart.reset();
      this.ssthresh = this.acting.reduce(now, this.cwnd, flight, this.sendMss);
      this.prr.start(this.cwnd);
    }
    this.recover = sndMax;
    this.state = "recovery";
  }

  /**
   * An ACK with ECE while the window is neither reduced nor being reduced (RFC 3168 6.1.2;
   * Linux tcp_enter_cwr + tcp_init_cwnd_reduction): ssthresh from the algorithm as for a
   * loss, then PRR brings cwnd down until SND.UNA passes `sndNxt`, so one window of data
   * is reduced for once however many ECEs arrive. Nothing is resent. Returns false when
   * already in CWR, recovery or loss.
   */
  enterCwr(now: Millis, sndNxt: Seq, flight: number): boolean {
    if (this.state !== "open" && this.state !== "disorder") return false;
    this.ssthresh = this.acting.reduce(now, this.cwnd, flight, this.sendMss);
    this.prr.start(this.cwnd);
    this.cwrHigh = sndNxt;
    this.undoRetrans = undefined; // Linux: undo_marker = 0, an ECN signal is never spurious
    this.state = "cwr";
    return true;
  }

  /** PRR's step for one ACK in recovery or CWR (RFC 9937 section 3; Linux tcp_cwnd_reduction). */
  onRecoveryAck(newlyDelivered: number, pipe: number, sndUnaAdvanced: boolean, newlyLost: boolean): void {
    if (!this.inCwndReduction || this.modelBased) return;
    const cwnd = this.prr.cwndAfterAck(newlyDelivered, pipe, this.ssthresh, this.sendMss, sndUnaAdvanced, newlyLost);
    if (cwnd !== undefined) this.cwnd = cwnd;
  }

  /** Bytes sent (new or resent) while the window is being reduced count against PRR. */
  onSent(bytes: number): void {
    if (this.inCwndReduction) this.prr.onSent(bytes);
  }

  /**
   * A cumulative ACK at or beyond `recover` ends recovery or the loss state (RFC 6582
   * step 3; RFC 9937: cwnd = ssthresh at the end, Linux tcp_end_cwnd_reduction). Returns
   * true when an episode ended.
   */
  maybeEndEpisode(ack: Seq): boolean {
    if (this.state === "cwr") {
      // Linux tcp_fastretrans_alert: CWR holds until something *above* high_seq is ACKed,
      // so the CWR bit has reached the receiver; then cwnd = ssthresh (tcp_end_cwnd_reduction).
      if (this.cwrHigh !== undefined && !seqGt(ack, this.cwrHigh)) return false;
      // BBR's ssthresh is infinite (Linux bbr_ssthresh): it keeps the window it set itself.
      if (this.ssthresh < Number.MAX_SAFE_INTEGER) this.cwnd = this.ssthresh;
      this.state = "open";
      return true;
    }
    if (this.state !== "recovery" && this.state !== "loss") return false;
    if (this.recover !== undefined && !seqGe(ack, this.recover)) return false;
    if (this.state === "recovery" && this.ssthresh < Number.MAX_SAFE_INTEGER) this.cwnd = this.ssthresh;
    this.state = "open";
    this.dupAcks = 0;
    return true;
  }

  /**
   * A loss repaired by a tail loss probe (RFC 8985 7.4.2, Linux tcp_process_tlp_ack): one
   * reduction, applied at once (Linux enters CWR and ends it in the same step).
   */
  reduceOnce(now: Millis, flight: number): void {
    this.saveForUndo();
    this.ssthresh = this.acting.reduce(now, this.cwnd, flight, this.sendMss);
    this.cwnd = Math.min(this.cwnd, this.ssthresh);
    this.state = "open";
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
    // Linux tcp_enter_loss: a timeout during recovery keeps the undo state of that episode.
    // ssthresh is cut again only "if it has not yet been made inside this window": from open
    // or disorder, once the CWR or recovery episode's recover point is acknowledged, or in
    // loss before the first timeout resend. Cut again inside recovery, CUBIC took 0.7 of the
    // window PRR had already brought down (found comparing with kernel CUBIC at 3% loss).
    if (this.state === "open" || this.state === "disorder") this.saveForUndo();
    const sndUna = seqAdd(sndMax, -flight);
    const episodeAcked = this.recover === undefined || !seqGt(this.recover, sndUna);
    const cutAlready = this.state === "cwr" || this.state === "recovery" ? !episodeAcked : this.state === "loss" && this.undoRetrans !== undefined;
    if (!cutAlready) this.ssthresh = this.acting.reduce(now, this.cwnd, flight, this.sendMss);
    this.cwnd = this.sendMss;
    this.dupAcks = 0;
    // Linux cubictcp_state on TCP_CA_Loss: bictcp_reset zeroes delay_min too, so the slow
    // start after a timeout measures the path's minimum afresh.
    this.hystart = undefined;
    this.state = "loss";
    this.recover = sndMax;
    this.acting.enterLoss?.(flight);
  }

  /**
   * Linux tcp_cwnd_restart: after `idle` ms without sending, ssthresh keeps 3/4 of the
   * window, and the window halves for each RTO that passed, down to the initial window.
   */
  restartWindowAfterIdle(idle: Millis, rto: Millis, initialWindowSegments: number): void {
    if (!this.reducing) this.ssthresh = Math.max(this.ssthresh, Math.floor((3 * this.cwnd) / 4));
    const restart = Math.min(initialWindowSegments * this.sendMss, this.cwnd);
    let segments = Math.floor(this.cwnd / this.sendMss);
    for (let left = idle - rto; left > 0 && segments * this.sendMss > restart; left -= rto) segments >>= 1;
    this.cwnd = Math.max(segments * this.sendMss, restart);
  }

  /** A retransmission left during an episode that could still be undone. */
  onRetransmit(): void {
    if (this.undoRetrans !== undefined) this.undoRetrans++;
  }

  /**
   * A D-SACK reported one retransmission as unneeded (RFC 3708 section 3.2). When every
   * retransmission of the episode has been so reported, the reduction was spurious and is
   * undone (Linux tcp_try_undo_dsack). Returns true when it undid.
   */
  onSpuriousRetransmit(): boolean {
    if (this.undoRetrans === undefined) return false;
    this.undoRetrans = Math.max(0, this.undoRetrans - 1);
    if (this.undoRetrans > 0) return false;
    this.undo();
    return true;
  }

  /**
   * Undo the last reduction (Linux tcp_undo_cwnd_reduction): the window and threshold
   * come back to what they were, and the episode ends.
   */
  undo(): void {
    if (this.undoRetrans === undefined) return;
    const r = this.reductions;
    this.cwnd = Math.max(this.cwnd, r.priorCwnd);
    this.ssthresh = Math.max(this.ssthresh, r.priorSsthresh);
    r.undoRetrans = undefined;
    this.state = "open";
    this.dupAcks = 0;
    r.undos++;
  }

  /** What undo restores (Linux prior_cwnd / prior_ssthresh). */
  private saveForUndo(): void {
    const r = this.reductions;
    r.priorCwnd = this.cwnd;
    r.priorSsthresh = this.ssthresh;
    r.undoRetrans = 0;
  }
}
