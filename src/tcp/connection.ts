/**
 * One TCP connection: the RFC 9293 state machine and segment processing.
 *
 * Read first: RFC 9293 section 3.10 (event processing, which this file follows step by
 * step), RFC 6298 (retransmission timer), RFC 5681 and RFC 6582 (congestion control),
 * RFC 5961 (blind in-window attacks), RFC 7323 section 2 (window scaling).
 *
 * The connection is sans-IO. It is driven by `onSegment(now, seg)`, `onTimer(now)` and
 * `flush(now)` from its layer, and by the application through `send`, `read`, `close`,
 * `shutdown` and `abort`, which only change state and ask the layer for a flush.
 * Segments leave through `ctx.transmit`. Send and receive buffers, RTT estimation and
 * congestion control live in their own modules; this file decides what happens when.
 */
import type { Millis } from "../env.js";
import type { DropReason, FourTuple, TcpState, TimerKind, TraceSink } from "../trace/events.js";
import { ACK, FIN, PSH, RST, SYN, type SackBlock, type TcpOptions, type TcpSegment } from "../wire/tcp.js";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax, seqMin, type Seq } from "../wire/seq.js";
import type { TcpConfig } from "./config.js";
import { Reno } from "./congestion/algorithm.js";
import { Cubic } from "./congestion/cubic.js";
import { CongestionControl } from "./congestion/recovery.js";
import { InvalidArgumentError, TcpError, type TcpErrorCode } from "./errors.js";
import { PushMarks } from "./push-marks.js";
import { ReceiveBuffer } from "./receive-buffer.js";
import { ReceiveWindow } from "./receive-window.js";
import { RttEstimator } from "./rtt.js";
import { EMPTY, SendBuffer } from "./send-buffer.js";
import { Negotiation } from "./options.js";
import { Scoreboard } from "./sack.js";
import { ConnectionStats } from "./tcp-stats.js";
import { TimerSet, type TimerSlot, slotKind } from "./timers.js";
import type { TimeWaitHandover } from "./time-wait.js";

/** What a connection needs from the layer that owns it. */
export interface ConnectionContext {
  readonly config: TcpConfig;
  readonly hostName: string;
  readonly trace: TraceSink;
  /** Largest IP packet the link carries; our MSS is derived from it (RFC 6691). */
  readonly mtu: number;
  /** The current time, for events caused by application calls (which carry no time of their own). */
  now(): Millis;
  transmit(conn: Connection, seg: TcpSegment, retransmit: boolean): void;
  stateChanged(conn: Connection, from: TcpState, to: TcpState): void;
  /** The connection wants a flush, or its deadline or application-visible state changed. */
  touched(conn: Connection, wantsFlush: boolean): void;
  /** Asked before SYN_RCVD -> ESTABLISHED on a passive open: false drops the ACK (accept queue full). */
  mayEstablish(conn: Connection): boolean;
  /** Asked before entering TIME_WAIT: false when the TIME_WAIT table is full. */
  mayEnterTimeWait(conn: Connection): boolean;
}

/** Bytes of IPv4 + TCP header without options. */
const HEADERS = 40;
const SYNCHRONIZED: ReadonlySet<TcpState> = new Set([
  "ESTABLISHED",
  "FIN_WAIT_1",
  "FIN_WAIT_2",
  "CLOSE_WAIT",
  "CLOSING",
  "LAST_ACK",
  "TIME_WAIT",
]);

export interface OpenParams {
  tuple: FourTuple;
  iss: Seq;
  /** Random offset of this connection's timestamp clock. */
  tsOffset: number;
  /** Settings of this connection when they differ from the layer's (per-socket options). */
  config?: TcpConfig;
}

export class Connection {
  state: TcpState = "CLOSED";
  /** This connection's settings: the layer's, or its socket's own (setsockopt before connect/listen). */
  readonly config: TcpConfig;
  readonly tuple: FourTuple;
  /** Created by a listener (passive open) rather than connect(). */
  readonly passive: boolean;
  /** The application called close(): it will neither read nor write again. */
  orphaned = false;
  /** Why the connection ended abnormally, once it has. */
  error: TcpError | undefined;
  /** The peer's FIN has been received and every byte before it delivered to the buffer. */
  peerFinished = false;
  /** Set by the application (or an API layer) to hear about changes; called after processing. */
  onWake: ((conn: Connection) => void) | undefined;
  /** Set by a listener for its own bookkeeping. */
  listenerPort: number | undefined;

  // The layer's bookkeeping.
  /** Set when the application should be told something; cleared by the layer when it calls onWake. */
  pendingWake = false;
  /** The layer has this connection in its wake list (so it is listed once). */
  wakeQueued = false;
  /** This connection's place in the layer's timer queue (see timer-queue.ts). */
  timerAt = Infinity;
  timerIndex = -1;

  /** Time of the event being processed (application calls read the driver's clock). */
  private lastNow: Millis = 0;
  /** A timeout is resending: segments go out whatever Nagle and SWS avoidance say. */
  private retransmitting = false;

  // Send sequence variables (RFC 9293 3.3.1).
  readonly iss: Seq;
  sndUna: Seq;
  sndNxt: Seq;
  /** Highest sequence number sent so far (SND.NXT can be rewound by a timeout). */
  sndMax: Seq;
  sndWnd = 0;
  private sndWl1: Seq = 0 as Seq;
  private sndWl2: Seq = 0 as Seq;
  private maxSndWnd = 0;
  /** Sequence number of sendBuffer's first byte. */
  private sndBufSeq: Seq;
  private finQueued = false;

  // Receive sequence variables.
  irs: Seq = 0 as Seq;
  rcvNxt: Seq = 0 as Seq;

  // Negotiated in the handshake (S5).
  /** Largest payload we put in one segment. */
  sendMss: number;
  /** Window scaling, timestamps and SACK as agreed in the handshake. */
  readonly negotiation: Negotiation;
  /** What the peer reported holding beyond SND.UNA (SACK). */
  /** Created by the first SACK blocks received: most connections never need one. */
  private scoreboard: Scoreboard | undefined;
  /** RFC 6675 HighRxt: the highest sequence number retransmitted during this recovery. */
  private highRxt: Seq = 0 as Seq;
  /** End of the last short (sub-MSS) segment sent: Minshall's Nagle check (Linux snd_sml). */
  private sndSml: Seq;
  /** End of the highest range ever retransmitted: ACKs at or below it give no RTT sample. */
  private retransmittedUpTo: Seq;
  /** RCV.NXT as carried by the last ACK we sent (RFC 7323 Last.ACK.sent). */
  private lastAckSent: Seq = 0 as Seq;
  /** Start of the out-of-order segment that arrived last: its SACK block goes first (RFC 2018 4). */
  private lastOutOfOrder: Seq | undefined;

  readonly sendBuffer: SendBuffer;
  /** Where segments get PSH: the end of each write, as Linux (push-marks.ts). */
  private readonly pushMarks: PushMarks;
  readonly receiveBuffer: ReceiveBuffer;
  /** The window we offer (acceptability, advertisement, updates). */
  private readonly rcvWindow: ReceiveWindow;
  readonly rtt: RttEstimator;
  readonly congestion: CongestionControl;
  readonly timers = new TimerSet();
  private lingerKind: TimerKind = "time-wait";
  /** Segments of data sent at `burstAt` so far (one instant's transmissions are a burst). */
  private burstSegments = 0;
  private burstAt = -1;

  /** Consecutive expiries of the current timer (RTO, persist or keep-alive probes). */
  retries = 0;
  /** The one segment being timed for an RTT sample (Karn: never a retransmitted one). */
  private timed: { end: Seq; at: Millis } | undefined;
  private ackNow = false;
  private unackedBytes = 0;
  private quickAcks: number;
  private lastChallengeAck = -Infinity;
  noDelay: boolean;
  private keepAliveEnabled = false;
  private keepAliveIdle: Millis;
  private keepAliveInterval: Millis;
  private keepAliveCount: number;
  private keepAliveProbes = 0;
  /** A SYN-ACK is owed (passive open or simultaneous open) and must be (re)sent. */
  private synAckPending = false;
  /** Our SYN-ACK went out at least once (so the next one is a retransmission). */
  private synAckSent = false;

  // Counters, read through inspect().
  segmentsIn = 0;
  segmentsOut = 0;
  retransmits = 0;
  bytesAcked = 0;
  bytesReceived = 0;
  /** What TCP_INFO and `ss -i` report beyond the counters above (see tcp-info.ts). */
  readonly stats = new ConnectionStats();

  constructor(
    private readonly ctx: ConnectionContext,
    params: OpenParams & { passive: boolean },
  ) {
    const cfg = (this.config = params.config ?? ctx.config);
    this.tuple = params.tuple;
    this.passive = params.passive;
    this.iss = params.iss;
    this.sndUna = this.sndNxt = this.sndMax = this.retransmittedUpTo = this.sndSml = params.iss;
    this.sndBufSeq = seqAdd(params.iss, 1);
    this.sendMss = cfg.defaultMss;
    this.sendBuffer = new SendBuffer(cfg.sendBufferSize);
    this.pushMarks = new PushMarks(this.sndBufSeq);
    this.receiveBuffer = new ReceiveBuffer(cfg.receiveBufferSize, cfg.maxOutOfOrderSegments);
    this.rcvWindow = new ReceiveWindow(this.receiveBuffer, ctx.mtu - HEADERS);
    this.rtt = new RttEstimator(cfg.initialRto, cfg.minRto, cfg.maxRto);
    const algorithm = cfg.congestionControl === "reno" ? new Reno() : new Cubic();
    this.congestion = new CongestionControl(algorithm, cfg.defaultMss, cfg.initialCwndSegments);
    this.quickAcks = cfg.quickAcks;
    this.noDelay = cfg.noDelay;
    this.keepAliveIdle = cfg.keepAliveIdle;
    this.keepAliveInterval = cfg.keepAliveInterval;
    this.keepAliveCount = cfg.keepAliveProbes;
    this.negotiation = new Negotiation(cfg, params.tsOffset);
  }

  // ---------------------------------------------------------------------------------------
  // Opening (RFC 9293 3.10.1)

  /** Active open (S4): CLOSED -> SYN_SENT; the SYN leaves on the next flush. */
  openActive(now: Millis): void {
    this.lastNow = now;
    this.setState("SYN_SENT", "connect()");
    this.ctx.touched(this, true);
  }

  /** Passive open from a listener that received `syn` (RFC 9293 3.10.7.2): LISTEN -> SYN_RCVD. */
  openPassive(now: Millis, syn: TcpSegment): void {
    this.lastNow = now;
    this.irs = syn.seq;
    this.rcvNxt = seqAdd(syn.seq, 1);
    this.negotiate(now, syn.options);
    this.updateSendWindow(syn, true);
    this.setState("SYN_RCVD", "SYN received");
    this.synAckPending = true;
    this.flush(now);
  }

  /**
   * A listener validated the SYN cookie in `ack` (S12): the handshake is complete though no
   * state was kept for it. Rebuild what the SYN-ACK promised (MSS from the cookie, our
   * unscaled window) and continue as ESTABLISHED with whatever the ACK carried.
   */
  openFromCookie(now: Millis, ack: TcpSegment, mss: number): void {
    this.lastNow = now;
    this.irs = seqAdd(ack.seq, -1);
    this.rcvNxt = ack.seq;
    this.sndUna = this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.sendMss = Math.max(this.config.minMss, Math.min(mss, this.ourMss()));
    this.congestion.setMss(this.sendMss, this.config.initialCwndSegments);
    this.negotiation.none();
    this.rcvWindow.offerUnscaled(this.rcvNxt); // what our cookie SYN-ACK offered
    this.updateSendWindow(ack, true);
    this.setState("ESTABLISHED", "ACK with a valid SYN cookie");
    this.acceptText(now, ack);
    if (!this.isClosed()) this.acceptFin(now, ack);
    if (!this.isClosed()) this.flush(now);
  }

  // ---------------------------------------------------------------------------------------
  // Application calls (RFC 9293 3.10.2 - 3.10.5)

  /** Queues bytes for sending. Returns how many were taken (0 when the buffer is full). */
  send(data: Uint8Array): number {
    if (!(data instanceof Uint8Array)) throw new InvalidArgumentError("send() takes a Uint8Array");
    this.lastNow = this.ctx.now();
    if (!this.canSend) throw new TcpError("EPIPE", `cannot send in state ${this.state}`);
    const queuedEnd = seqAdd(this.sndBufSeq, this.sendBuffer.length);
    const n = this.sendBuffer.append(data);
    if (n > 0) {
      this.pushMarks.wrote(queuedEnd, seqAdd(queuedEnd, n), this.sendMss, this.maxSndWnd);
      this.ctx.touched(this, true);
    }
    return n;
  }

  /** True while send() is allowed: the handshake is under way or done and we have not closed. */
  get canSend(): boolean {
    return !this.finQueued && (this.state === "SYN_SENT" || this.state === "SYN_RCVD" || this.state === "ESTABLISHED" || this.state === "CLOSE_WAIT");
  }

  /** Reads up to `max` received bytes in order (empty when none). Opens the window as it goes. */
  read(max = Infinity): Uint8Array {
    if (typeof max !== "number" || Number.isNaN(max) || max < 0) throw new InvalidArgumentError(`read(max): max must be a non-negative number, got ${String(max)}`);
    const data = this.receiveBuffer.read(max);
    if (data.length > 0 && SYNCHRONIZED.has(this.state) && !this.peerFinished && this.rcvWindow.updateWorthSending(this.rcvNxt, this.negotiation.rcvShift)) {
      this.ackNow = true;
      this.ctx.touched(this, true);
    }
    return data;
  }

  get readable(): number {
    return this.receiveBuffer.readable;
  }

  /**
   * Half-close (shutdown(SHUT_WR)): FIN after the queued data, keep reading (S24).
   * Before the handshake completes the FIN waits for ESTABLISHED (RFC 9293 3.10.4).
   */
  shutdown(): void {
    if (this.finQueued) return;
    this.lastNow = this.ctx.now();
    switch (this.state) {
      case "SYN_SENT":
      case "SYN_RCVD":
        this.finQueued = true;
        return;
      case "ESTABLISHED":
        this.finQueued = true;
        this.setState("FIN_WAIT_1", "close()");
        break;
      case "CLOSE_WAIT":
        this.finQueued = true;
        this.setState("LAST_ACK", "close()");
        break;
      default:
        return; // not open, or already closing
    }
    this.ctx.touched(this, true);
  }

  /**
   * Full close: FIN after queued data and give the connection up (orphan). Like Linux,
   * unread received data turns the close into an abort (RFC 2525 2.17), so the peer
   * learns the data was not consumed.
   */
  close(): void {
    if (this.orphaned) return;
    this.orphaned = true;
    this.lastNow = this.ctx.now();
    if (this.state === "SYN_SENT") {
      this.terminate(undefined, "close() in SYN_SENT");
      return;
    }
    if (this.receiveBuffer.readable > 0 && SYNCHRONIZED.has(this.state)) {
      this.abort("close() with unread data");
      return;
    }
    this.shutdown();
    if (this.state === "FIN_WAIT_2") this.armFinWait2();
  }

  /** Aborts with RST (RFC 9293 3.10.5 ABORT). */
  abort(cause = "abort()"): void {
    if (this.state === "CLOSED" || this.state === "LISTEN") return;
    this.lastNow = this.ctx.now();
    if (SYNCHRONIZED.has(this.state) || this.state === "SYN_RCVD") {
      this.sendControl(RST | ACK, this.sndMax, this.rcvNxt, false);
    }
    this.orphaned = true;
    this.terminate(undefined, cause);
  }

  /**
   * SO_KEEPALIVE with optional per-connection TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT
   * (the stack's settings otherwise).
   */
  setKeepAlive(enabled: boolean, now: Millis, opts: { idle?: Millis; interval?: Millis; probes?: number } = {}): void {
    if (opts.idle !== undefined) this.keepAliveIdle = positive("keep-alive idle", opts.idle);
    if (opts.interval !== undefined) this.keepAliveInterval = positive("keep-alive interval", opts.interval);
    if (opts.probes !== undefined) this.keepAliveCount = positive("keep-alive probes", opts.probes);
    this.keepAliveEnabled = enabled;
    this.keepAliveProbes = 0;
    this.lastNow = now;
    if (enabled && SYNCHRONIZED.has(this.state)) this.armTimer(now, "keepalive", now + this.keepAliveIdle);
    else this.cancelTimer(now, "keepalive");
    this.ctx.touched(this, false);
  }

  get keepAlive(): boolean {
    return this.keepAliveEnabled;
  }

  /**
   * SO_SNDBUF on an open connection: later writes may queue up to `bytes`. Bytes already
   * queued stay (Linux too keeps what sk_wmem_queued holds when the limit shrinks).
   */
  setSendBufferSize(bytes: number): void {
    if (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes < 1) throw new InvalidArgumentError(`send buffer size must be a positive integer, got ${String(bytes)}`);
    this.sendBuffer.capacity = bytes;
    this.ctx.touched(this, false);
  }

  /** TCP_NODELAY. Turning Nagle off sends what it was holding (as Linux does). */
  setNoDelay(noDelay: boolean): void {
    this.noDelay = noDelay;
    if (noDelay) this.ctx.touched(this, true);
  }

  /** A method rather than a comparison so TypeScript does not narrow `state` across calls that change it. */
  isClosed(): boolean {
    return this.state === "CLOSED";
  }

  /** Earliest time onTimer has work, or Infinity. */
  get deadline(): Millis {
    return this.timers.earliest();
  }

  // ---------------------------------------------------------------------------------------
  // Segment arrival (RFC 9293 3.10.7)

  onSegment(now: Millis, seg: TcpSegment): void {
    this.segmentsIn++;
    this.stats.onReceive(now, seg);
    this.lastNow = now;
    if (this.keepAliveEnabled && this.timers.keepalive !== Infinity) {
      // Anything from the peer proves it alive (RFC 1122 4.2.3.6).
      this.keepAliveProbes = 0;
      this.timers.keepalive = now + this.keepAliveIdle;
    }
    switch (this.state) {
      case "CLOSED":
      case "LISTEN":
        return; // the layer handles these
      case "SYN_SENT":
        this.onSegmentSynSent(now, seg);
        break;
      case "TIME_WAIT":
        this.onSegmentTimeWait(now, seg);
        return;
      default:
        this.onSegmentSynchronizing(now, seg);
    }
    // The layer flushes after telling the application, so a reply can carry this ACK.
    if (!this.isClosed()) this.ctx.touched(this, true);
  }

  /** RFC 9293 3.10.7.3: SYN-SENT. */
  private onSegmentSynSent(now: Millis, seg: TcpSegment): void {
    const hasAck = (seg.flags & ACK) !== 0;
    // First: the ACK must acknowledge our SYN exactly (S2).
    if (hasAck && (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndMax))) {
      if ((seg.flags & RST) === 0) this.sendControl(RST, seg.ack, 0 as Seq, false); // S10, S11
      this.drop(seg, "bad-ack", "ACK does not acknowledge our SYN");
      return;
    }
    // Second: RST. Only believed when it acknowledges our SYN (RFC 5961 3.2 for SYN-SENT).
    if ((seg.flags & RST) !== 0) {
      if (hasAck) this.terminate("ECONNREFUSED", "RST in SYN_SENT");
      else this.drop(seg, "rst-invalid", "RST without ACK in SYN_SENT");
      return;
    }
    if ((seg.flags & SYN) === 0) {
      this.drop(seg, "state", "neither SYN nor RST in SYN_SENT");
      return;
    }
    // Fourth: SYN.
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    // The window our SYN offered now has a left edge: the peer's first data byte.
    this.rcvWindow.offerUnscaled(this.rcvNxt);
    this.negotiate(now, seg.options);
    if (hasAck) {
      this.ackNewData(now, seg.ack);
      this.updateSendWindow(seg, true);
      this.setState("ESTABLISHED", "SYN,ACK received");
      this.ackNow = true;
      this.acceptText(now, seg); // data on a SYN-ACK is legal; queue it
      this.acceptFin(now, seg);
      return;
    }
    // Simultaneous open (S13, RFC 9293 figure 7).
    this.updateSendWindow(seg, true);
    this.setState("SYN_RCVD", "SYN received in SYN_SENT (simultaneous open)");
    this.synAckPending = true;
  }

  /**
   * TIME_WAIT (S27, S28). The only thing expected is a retransmission of the peer's FIN,
   * meaning our last ACK was lost: ACK it again and restart the 2 MSL timer. Like Linux,
   * any segment with ACK restarts the timer and gets an ACK; an exact RST ends TIME_WAIT
   * (tcp_rfc1337=0); a SYN never reopens the 4-tuple here (S28), it gets an ACK instead.
   */
  private onSegmentTimeWait(now: Millis, seg: TcpSegment): void {
    if ((seg.flags & RST) !== 0) {
      if (seg.seq === this.rcvNxt) this.onReset();
      else this.drop(seg, "rst-invalid", "RST in TIME_WAIT not at RCV.NXT");
      return;
    }
    if ((seg.flags & SYN) !== 0) {
      this.drop(seg, "state", "SYN for a 4-tuple in TIME_WAIT");
      this.challengeAck(now);
      if (this.ackNow) this.sendAckNow();
      return;
    }
    const bareInWindowAck = seg.seq === this.rcvNxt && seg.payload.length === 0 && (seg.flags & FIN) === 0;
    if (bareInWindowAck) return;
    if ((seg.flags & ACK) !== 0) {
      const cause = (seg.flags & FIN) !== 0 ? "retransmitted FIN" : "segment";
      this.drop(seg, "duplicate", `${cause} in TIME_WAIT: re-ACK and restart 2MSL`);
      this.armTimer(now, "linger", now + 2 * this.config.msl);
    }
    this.sendAckNow();
  }

  /** RFC 9293 3.10.7.4: SYN-RECEIVED and every synchronized state. */
  private onSegmentSynchronizing(now: Millis, seg: TcpSegment): void {
    const segLen = seg.payload.length + ((seg.flags & SYN) !== 0 ? 1 : 0) + ((seg.flags & FIN) !== 0 ? 1 : 0);

    // Simultaneous open, step 5 of figure 7: the peer's SYN,ACK completes our SYN_RCVD.
    // (Linux accepts it the same way rather than challenge-ACKing the SYN.)
    if (
      this.state === "SYN_RCVD" &&
      !this.passive &&
      (seg.flags & (SYN | ACK | RST)) === (SYN | ACK) &&
      seg.seq === this.irs &&
      seg.ack === this.sndMax
    ) {
      this.ackNewData(now, seg.ack);
      this.updateSendWindow(seg, true);
      this.setState("ESTABLISHED", "SYN,ACK received in SYN_RCVD (simultaneous open)");
      return;
    }

    // A retransmitted SYN for a half-open passive connection: our SYN-ACK was lost (S9).
    if (this.state === "SYN_RCVD" && this.passive && (seg.flags & (SYN | ACK | RST)) === SYN && seg.seq === this.irs) {
      this.synAckPending = true;
      this.retransmits++;
      return;
    }

    // RFC 7323 5.3: PAWS, before the sequence check.
    if (this.negotiation.pawsRejects(now, seg)) {
      this.drop(seg, "duplicate", "PAWS: timestamp older than TS.Recent");
      if (segLen > 0) this.ackNow = true;
      else this.challengeAck(now);
      return;
    }

    // First: sequence number acceptable? (RFC 9293 3.10.7.4 "first")
    if (!this.rcvWindow.acceptable(this.rcvNxt, seg.seq, segLen)) {
      const windowClosedAckOnly = this.rcvWindow.size(this.rcvNxt) === 0 && seg.seq === this.rcvNxt && (seg.flags & ACK) !== 0;
      if ((seg.flags & RST) === 0) {
        this.drop(seg, "out-of-window", `seq ${seg.seq} len ${segLen} outside rcv window`);
        // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. Answers to bare ACKs are rate-limited like
        // Linux (tcp_oow_rate_limited): two stacks that disagree must not ACK each other forever.
        if (segLen > 0) this.ackNow = true;
        else this.challengeAck(now);
      } else {
        this.drop(seg, "out-of-window", "RST outside window");
      }
      // A zero window makes no data acceptable, but ACKs must still be processed (3.10.7.4).
      if (!windowClosedAckOnly) return;
      this.processAck(now, seg, segLen);
      return;
    }

    // Second: RST (RFC 5961 section 3: only an exact match resets; in-window gets a challenge ACK).
    if ((seg.flags & RST) !== 0) {
      if (seg.seq !== this.rcvNxt) {
        this.drop(seg, "rst-invalid", "RST in window but not at RCV.NXT");
        this.challengeAck(now);
        return;
      }
      this.onReset();
      return;
    }

    // Fourth: SYN in a synchronized state (RFC 5961 section 4): challenge ACK.
    if ((seg.flags & SYN) !== 0) {
      this.drop(seg, "state", `SYN in ${this.state}`);
      this.challengeAck(now);
      return;
    }

    // Fifth: the ACK field.
    if ((seg.flags & ACK) === 0) {
      this.drop(seg, "no-ack-flag", "segment without ACK");
      return;
    }
    if (this.state === "SYN_RCVD") {
      if (seqLe(seg.ack, this.sndUna) || seqGt(seg.ack, this.sndMax)) {
        this.sendControl(RST, seg.ack, 0 as Seq, false);
        this.drop(seg, "bad-ack", "ACK in SYN_RCVD does not acknowledge our SYN");
        return;
      }
      if (this.passive && !this.ctx.mayEstablish(this)) {
        // Linux: the accept queue is full, so the final ACK is dropped and the SYN-ACK
        // retransmission gives the client another chance later.
        this.drop(seg, "accept-queue-full", "accept queue full");
        return;
      }
      this.setState("ESTABLISHED", "ACK of SYN received");
      this.synAckPending = false;
    }
    if (!this.processAck(now, seg, segLen)) return;
    if (this.state === "CLOSED") return;

    // Sixth (URG) is not supported; seventh: segment text.
    this.acceptText(now, seg);
    if (this.isClosed()) return;
    // Eighth: FIN. A FIN,ACK acknowledging our FIN takes FIN_WAIT_1 straight to TIME_WAIT
    // (S26); the FIN_WAIT_2 step is only for an ACK that comes without the peer's FIN.
    this.acceptFin(now, seg);
    if (this.state === "FIN_WAIT_1" && this.ourFinAcked()) {
      this.setState("FIN_WAIT_2", "ACK of FIN received");
      if (this.orphaned) this.armFinWait2();
    }
  }

  private ourFinAcked(): boolean {
    return this.finQueued && seqGt(this.sndUna, this.finSeq());
  }

  private onReset(): void {
    switch (this.state) {
      case "SYN_RCVD":
        // Passive: the half-open entry is simply forgotten (back to LISTEN, S11).
        // Active (simultaneous open): the connection was refused.
        this.terminate(this.passive ? undefined : "ECONNREFUSED", "RST received in SYN_RCVD");
        return;
      case "TIME_WAIT":
        // Linux (tcp_rfc1337=0) lets an exact RST end TIME_WAIT early; nobody is told.
        this.terminate(undefined, "RST received in TIME_WAIT");
        return;
      default:
        // Every other synchronized state: reset by peer (Linux tcp_reset also reports
        // ECONNRESET for CLOSING and LAST_ACK, where RFC 9293 just closes).
        this.terminate("ECONNRESET", `RST received in ${this.state}`);
    }
  }

  /**
   * RFC 9293 3.10.7.4 "fifth" for synchronized states. Returns false when the segment must
   * be dropped after the ACK check.
   */
  private processAck(now: Millis, seg: TcpSegment, segLen: number): boolean {
    const ack = seg.ack;
    if (seqGt(ack, this.sndMax)) {
      // Acknowledges something not yet sent. RFC 9293 3.10.7.4 says drop and ACK; Linux
      // drops silently in ESTABLISHED (tcp_rcv_established: tcp_ack() < 0 -> discard) and
      // answers with a rate-limited challenge ACK in the other states
      // (tcp_rcv_state_process). We follow Linux: a silent drop cannot be turned into an
      // ACK storm between two stacks that disagree about what was sent.
      this.drop(seg, "bad-ack", "ACK for data not sent");
      if (this.state !== "ESTABLISHED") this.challengeAck(now);
      return false;
    }
    // RFC 5961 5.2: an ACK older than the largest window the peer ever offered is bogus.
    if (seqLt(ack, seqAdd(this.sndUna, -Math.max(this.maxSndWnd, 1)))) {
      this.drop(seg, "bad-ack", "ACK too old (RFC 5961 5.2)");
      this.challengeAck(now);
      return false;
    }
    // RFC 7323 4.3 updates TS.Recent once a segment is acceptable; Linux waits until its
    // ACK has passed too (tcp_ack with FLAG_UPDATE_TS_RECENT), so a segment whose ACK is
    // dropped cannot move TS.Recent, and with it PAWS, forward. It is updated before the
    // ACK's effects, so a retransmission the ACK triggers echoes it.
    this.negotiation.noteTimestamp(now, seg, segLen, this.lastAckSent);
    const oldWindow = this.sndWnd;
    // The peer answers our zero-window probes: it is alive, however long its window stays
    // closed (RFC 1122 4.2.2.17: the connection MUST NOT be dropped; Linux resets
    // icsk_probes_out on every ACK).
    if (this.timers.persist !== Infinity) this.retries = 0;
    let newlySacked = false;
    if (this.negotiation.sack && seg.options.sackBlocks !== undefined) {
      this.scoreboard ??= new Scoreboard();
      const before = this.scoreboard.sackedBytes;
      this.scoreboard.update(seg.options.sackBlocks, this.sndUna, this.sndMax);
      newlySacked = this.scoreboard.sackedBytes > before;
    }
    if (seqGt(ack, this.sndUna)) {
      // An echoed timestamp times every ACK, but not ACKs covering retransmitted data: the
      // peer may echo an older segment's timestamp then, inflating the sample (Karn's rule).
      const echoed = seqLe(this.retransmittedUpTo, this.sndUna) ? this.negotiation.rttFromEcho(now, seg) : undefined;
      this.ackNewData(now, ack, echoed);
    } else if (
      ack === this.sndUna &&
      seg.payload.length === 0 &&
      (seg.flags & (SYN | FIN)) === 0 &&
      this.sndMax !== this.sndUna &&
      // RFC 5681: same window. With SACK, any ACK reporting new SACKed data counts
      // (RFC 6675): Linux grows its window with every out-of-order segment it queues.
      ((seg.window << this.negotiation.sndShift) === oldWindow || newlySacked)
    ) {
      this.onDuplicateAck(now);
    }
    this.updateSendWindow(seg, false);
    this.afterAck(now);
    return this.state !== "CLOSED";
  }

  /** SND.UNA advanced to `ack`: free acknowledged bytes, sample RTT, grow the window. */
  private ackNewData(now: Millis, ack: Seq, echoedRtt?: Millis): void {
    let acked = seqDiff(ack, this.sndUna);
    if (this.sndUna === this.iss) acked--; // our SYN
    const dataAcked = Math.min(Math.max(acked, 0), this.sendBuffer.length);
    this.sendBuffer.consume(dataAcked);
    this.pushMarks.acked(seqAdd(this.sndBufSeq, dataAcked));
    this.sndBufSeq = seqAdd(this.sndBufSeq, dataAcked);
    this.bytesAcked += dataAcked;
    if (dataAcked > 0) this.wake(); // send space opened (the application may be waiting to write)
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    // Bytes the peer had already SACKed were counted as delivered then: window growth
    // counts only what this ACK newly delivers (Linux tcp_ack's acked_sacked).
    // Without SACK, Linux counts each duplicate ACK as one segment SACKed (tcp_add_reno_sack).
    const alreadySacked = this.scoreboard?.sackedBelow(ack) ?? Math.min(this.congestion.dupAcks * this.sendMss, Math.max(acked, 0));
    this.scoreboard?.prune(ack);
    this.retries = 0;
    const timedRtt = this.timed !== undefined && seqGe(ack, this.timed.end) ? now - this.timed.at : undefined;
    const sample = echoedRtt ?? timedRtt;
    if (sample !== undefined) {
      this.rtt.sample(sample, this.sndUna, this.sndNxt);
      if (timedRtt !== undefined) this.timed = undefined;
      if (this.ctx.trace.enabled) {
        this.ctx.trace.emit({
          type: "rtt", time: now, host: this.ctx.hostName, tuple: this.tuple,
          sample, srtt: this.rtt.srtt ?? 0, rttvar: this.rtt.rttvar, rto: this.rtt.rto,
        });
      }
    } else {
      this.rtt.resetBackoff();
    }
    if (this.state === "SYN_SENT") {
      this.cancelTimer(now, "rto"); // our SYN is acknowledged; nothing else is in flight
      return;
    }
    const outcome = this.congestion.onNewAck(now, Math.max(acked - alreadySacked, 0), ack, this.flightSize(), this.rtt.srtt);
    this.traceCwnd(now, outcome === "partial-ack" ? "partial ACK" : "ACK");
    if (outcome === "partial-ack" && !(this.negotiation.sack && this.retransmitNextHole(now))) this.retransmitAt(now, this.sndUna);
    // RFC 6298 5.2 / 5.3: stop the timer when all is acked, otherwise restart it.
    if (this.sndUna === this.sndMax) this.cancelTimer(now, "rto");
    else this.armTimer(now, "rto", now + this.rtt.rto);
  }

  private onDuplicateAck(now: Millis): void {
    // RFC 6675 IsLost(SND.UNA): DupThresh segments' worth SACKed above it.
    const lost = this.scoreboard !== undefined && this.scoreboard.sackedBytes >= 3 * this.sendMss;
    const outcome = this.congestion.onDuplicateAck(now, this.sndMax, this.flightSize(), lost);
    if (outcome === "fast-retransmit") {
      this.traceCwnd(now, "3 duplicate ACKs: fast retransmit");
      this.highRxt = this.sndUna;
      this.retransmitAt(now, this.sndUna);
    } else if (this.congestion.inRecovery && this.negotiation.sack) {
      this.retransmitNextHole(now);
    }
  }

  /**
   * State changes caused by our FIN being acknowledged (3.10.7.4 "fifth"). FIN_WAIT_1 is
   * settled after the FIN bit, in onSegmentSynchronizing.
   */
  private afterAck(now: Millis): void {
    if (!this.ourFinAcked()) return;
    switch (this.state) {
      case "CLOSING":
        this.enterTimeWait(now, "ACK of FIN received");
        break;
      case "LAST_ACK":
        this.terminate(undefined, "ACK of FIN received");
        break;
      default:
        break;
    }
  }

  /** RFC 9293 3.10.7.4 "fifth": window update when the segment is newer than the last one used. */
  private updateSendWindow(seg: TcpSegment, isSyn: boolean): void {
    if (isSyn || seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, seg.ack))) {
      // RFC 7323 2.2: the window field of a SYN is never scaled.
      this.sndWnd = isSyn ? seg.window : seg.window << this.negotiation.sndShift;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      if (this.sndWnd > this.maxSndWnd) this.maxSndWnd = this.sndWnd;
      if (this.sndWnd > 0 && this.timers.persist !== Infinity) {
        this.timers.persist = Infinity;
        this.retries = 0;
      }
    }
  }

  /** RFC 9293 3.10.7.4 "seventh": text in ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2. */
  private acceptText(now: Millis, seg: TcpSegment): void {
    if (seg.payload.length === 0) return;
    if (this.state !== "ESTABLISHED" && this.state !== "FIN_WAIT_1" && this.state !== "FIN_WAIT_2") {
      this.drop(seg, "state", `data after the peer's FIN, in ${this.state}`);
      return;
    }
    if (this.orphaned) {
      // Nobody will read it: tell the peer (Linux "TCPAbortOnData", RFC 9293 3.10.4).
      this.abort("data received after close()");
      return;
    }
    let seq = seg.seq;
    let data = seg.payload;
    if ((seg.flags & SYN) !== 0) seq = seqAdd(seq, 1);
    // Trim anything beyond the window we advertised.
    const room = this.rcvWindow.roomFrom(seq);
    if (room < data.length) data = data.subarray(0, Math.max(0, room));
    if (data.length === 0) return;
    const hadGap = this.receiveBuffer.outOfOrderRanges > 0;
    const { result, rcvNxt } = this.receiveBuffer.insert(this.rcvNxt, seq, data);
    this.rcvWindow.notePayload(data.length, this.ctx.mtu - HEADERS);
    switch (result) {
      case "in-order": {
        const advanced = seqDiff(rcvNxt, this.rcvNxt);
        this.rcvNxt = rcvNxt;
        this.bytesReceived += advanced;
        this.unackedBytes += advanced;
        this.wake();
        if (hadGap || this.quickAcks > 0 || this.unackedBytes >= 2 * this.rcvWindow.peerMss) {
          if (this.quickAcks > 0) this.quickAcks--;
          this.ackNow = true;
        } else if (this.timers.delayedAck === Infinity) {
          this.armTimer(now, "delayedAck", now + this.config.delayedAckTimeout);
        }
        break;
      }
      case "out-of-order":
        this.lastOutOfOrder = seq;
        this.stats.rcvOoopack++;
        this.ackNow = true; // a duplicate ACK tells the sender about the gap (RFC 5681 4.2)
        break;
      case "duplicate":
        this.drop(seg, "duplicate", "already received");
        this.ackNow = true;
        break;
      case "ooo-limit":
        this.drop(seg, "ooo-limit", "too many out-of-order ranges held");
        this.ackNow = true;
        break;
    }
  }

  /** RFC 9293 3.10.7.4 "eighth": the FIN bit, processed only once everything before it arrived. */
  private acceptFin(now: Millis, seg: TcpSegment): void {
    if ((seg.flags & FIN) !== 0) {
      if (this.peerFinished) {
        this.ackNow = true; // a retransmitted FIN: our ACK was lost
        return;
      }
      const finSeq = seqAdd(seg.seq, seg.payload.length + ((seg.flags & SYN) !== 0 ? 1 : 0));
      if (seqGt(finSeq, this.rcvNxt)) {
        this.receiveBuffer.holdFin(finSeq); // data before it is missing (S18)
        this.ackNow = true;
        return;
      }
      if (finSeq !== this.rcvNxt) return; // its data was trimmed off: not yet reachable
    } else if (this.peerFinished || !this.receiveBuffer.finReached(this.rcvNxt)) {
      return;
    }
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.peerFinished = true;
    this.ackNow = true;
    this.wake();
    switch (this.state) {
      case "SYN_RCVD":
      case "ESTABLISHED":
        this.setState("CLOSE_WAIT", "FIN received");
        break;
      case "FIN_WAIT_1":
        // Our FIN acknowledged by this same segment: FIN_WAIT_1 -> TIME_WAIT (S26).
        if (this.ourFinAcked()) this.enterTimeWait(now, "FIN,ACK received");
        else this.setState("CLOSING", "FIN received (simultaneous close)");
        break;
      case "FIN_WAIT_2":
        this.enterTimeWait(now, "FIN received");
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Timers

  onTimer(now: Millis): void {
    this.lastNow = now;
    const t = this.timers;
    if (t.linger <= now) {
      this.fireTimer(now, "linger");
      this.terminate(undefined, this.lingerKind === "time-wait" ? "2MSL timer expired" : "FIN_WAIT_2 timeout");
      return;
    }
    if (t.rto <= now) this.onRetransmitTimeout(now);
    if (this.state === "CLOSED") return;
    if (t.persist <= now) this.onPersistTimeout(now);
    if (t.keepalive <= now) this.onKeepAliveTimeout(now);
    if (this.isClosed()) return;
    if (t.delayedAck <= now) {
      this.fireTimer(now, "delayedAck");
      this.ackNow = true;
    }
    this.flush(now);
  }

  /** RFC 6298 5.4 - 5.7, with the retry limits of Linux (S8, S9, S16, S29). */
  private onRetransmitTimeout(now: Millis): void {
    this.fireTimer(now, "rto");
    this.retries++;
    const cfg = this.config;
    const limit = this.state === "SYN_SENT" ? cfg.synRetries : this.state === "SYN_RCVD" ? cfg.synAckRetries : cfg.dataRetries;
    if (this.retries > limit) {
      if (this.state === "SYN_RCVD" && this.passive) this.terminate(undefined, "SYN-ACK retries exhausted");
      else this.terminate("ETIMEDOUT", `retransmission limit (${limit}) reached in ${this.state}`);
      return;
    }
    this.rtt.backOff();
    this.timed = undefined; // Karn's rule
    if (this.state === "SYN_SENT") {
      this.sndNxt = this.iss; // resend the SYN
    } else if (this.state === "SYN_RCVD") {
      this.synAckPending = true;
    } else {
      this.congestion.onTimeout(now, this.sndMax, this.flightSize());
      this.stats.onRto(this.sndMax);
      this.highRxt = this.sndUna;
      this.traceCwnd(now, "retransmission timeout");
      this.sndNxt = this.sndUna; // go back N: resend from the first unacknowledged byte
    }
    this.timers.rto = Infinity;
    this.retransmitting = true;
    this.flush(now);
    this.retransmitting = false;
  }


  /** Zero-window probing (RFC 9293 3.8.6.1, S17). Linux probes with an old sequence number. */
  private onPersistTimeout(now: Millis): void {
    this.fireTimer(now, "persist");
    this.retries++;
    if (this.retries > this.config.dataRetries) {
      this.terminate("ETIMEDOUT", "zero-window probes unanswered");
      return;
    }
    this.rtt.backOff();
    this.sendControl(ACK, seqAdd(this.sndUna, -1), this.rcvNxt, false);
    this.armTimer(now, "persist", now + this.rtt.rto);
  }

  /** RFC 1122 4.2.3.6 keep-alive (S21): probe an idle peer, give up after N probes. */
  private onKeepAliveTimeout(now: Millis): void {
    this.fireTimer(now, "keepalive");
    if (!this.keepAliveEnabled || !SYNCHRONIZED.has(this.state) || this.state === "TIME_WAIT") return;
    if (this.sndMax !== this.sndUna) {
      // Data is outstanding; the retransmission timer watches the peer instead.
      this.armTimer(now, "keepalive", now + this.keepAliveIdle);
      return;
    }
    if (this.keepAliveProbes >= this.keepAliveCount) {
      // Linux sends a RST before reporting the dead peer.
      this.sendControl(RST | ACK, this.sndMax, this.rcvNxt, false);
      this.terminate("ETIMEDOUT", "keep-alive probes unanswered");
      return;
    }
    this.keepAliveProbes++;
    this.sendControl(ACK, seqAdd(this.sndUna, -1), this.rcvNxt, false);
    this.armTimer(now, "keepalive", now + this.keepAliveInterval);
  }

  private armFinWait2(): void {
    this.lingerKind = "fin-wait-2";
    this.armTimer(this.lastNow, "linger", this.lastNow + this.config.finWait2Timeout);
  }

  private enterTimeWait(now: Millis, cause: string): void {
    if (!this.ctx.mayEnterTimeWait(this)) {
      // Like Linux on TIME_WAIT bucket overflow: send the last ACK, then close at once.
      if (this.ackNow) this.sendAckNow();
      this.terminate(undefined, `${cause}; TIME_WAIT table full, closed at once`);
      return;
    }
    this.setState("TIME_WAIT", cause);
    this.lingerKind = "time-wait";
    this.timers.clearAll();
    this.armTimer(now, "linger", now + 2 * this.config.msl);
  }

  /**
   * Hook for the layer: what a compact TIME_WAIT record (time-wait.ts) needs beyond the
   * public fields, asked once this connection's last ACK has left. The record then answers
   * for the 4-tuple as onSegmentTimeWait and the linger timer did.
   */
  timeWaitHandover(): TimeWaitHandover {
    return { window: this.rcvWindow.advertise(this.rcvNxt, this.negotiation.rcvShift), lastChallengeAck: this.lastChallengeAck, expiry: this.timers.linger };
  }

  // ---------------------------------------------------------------------------------------
  // Output


  /** Sends whatever the state, windows and timers allow. Called by the layer and after every event. */
  flush(now: Millis): void {
    this.lastNow = now;
    switch (this.state) {
      case "CLOSED":
      case "LISTEN":
      case "TIME_WAIT":
        if (this.ackNow && this.state === "TIME_WAIT") this.sendAckNow();
        return;
      case "SYN_SENT":
        if (this.sndNxt === this.iss) this.sendSyn(now);
        return;
      case "SYN_RCVD":
        if (this.synAckPending) this.sendSynAck(now);
        return;
      default:
        break;
    }
    let sent = false;
    for (;;) {
      const n = this.sendNextSegment(now);
      if (n === 0) break;
      sent = true;
    }
    if (sent) {
      const flight = this.flightSize();
      const unsent = this.sendBuffer.length - seqDiff(this.sndNxt, this.sndBufSeq);
      this.congestion.validate(this.sndUna, this.sndNxt, flight, unsent > 0 && flight + this.segmentMss() > this.congestion.cwnd);
    }
    if (!sent) this.maybeArmPersist(now);
    if (this.ackNow) this.sendAckNow();
  }

  /** Sends one segment of new (or, after a timeout, resent) data and/or FIN. Returns its length. */
  private sendNextSegment(now: Millis): number {
    // Resending after a timeout: skip what the receiver reported holding (SACK).
    if (seqLt(this.sndNxt, this.sndMax)) {
      const sackedEnd = this.scoreboard?.sackedUntil(this.sndNxt);
      if (sackedEnd !== undefined) this.sndNxt = seqMin(sackedEnd, this.sndMax);
    }
    const offset = seqDiff(this.sndNxt, this.sndBufSeq);
    const pending = this.sendBuffer.length - Math.max(offset, 0);
    const flight = seqDiff(this.sndNxt, this.sndUna);
    const windowLeft = this.sndWnd - flight;
    // With SACK, what the receiver holds has left the network: count the pipe (RFC 6675).
    // Without SACK, each of the first duplicate ACKs says a segment left the network:
    // Limited Transmit (RFC 3042) sends new data for them, as Linux does by counting
    // duplicate ACKs as SACKed segments (tcp_add_reno_sack).
    const limitedTransmit = this.scoreboard === undefined && !this.congestion.inRecovery ? Math.min(this.congestion.dupAcks, 2) * this.segmentMss() : 0;
    const pipe = this.scoreboard !== undefined ? flight - this.scoreboard.sackedBelow(this.sndNxt) : flight - limitedTransmit;
    const cwndLeft = this.congestion.cwnd - pipe;
    const mss = this.segmentMss();
    let len = Math.max(0, Math.min(pending, mss, windowLeft, cwndLeft));
    const hole = seqLt(this.sndNxt, this.sndMax) ? this.scoreboard?.nextHole(this.sndNxt) : undefined;
    if (hole !== undefined && hole.start === this.sndNxt) len = Math.min(len, seqDiff(hole.end, hole.start));
    const finNow = this.finQueued && offset + len === this.sendBuffer.length && seqLe(this.sndNxt, this.finSeq()) && offset >= 0;
    if (len === 0 && !finNow) return 0;
    if (len < mss && !finNow && !this.retransmitting) {
      if (len < pending) {
        // Window-limited (RFC 9293 3.8.6.2.1, sender SWS avoidance): a runt goes out only if
        // nothing is in flight (no ACK is coming to open the window) or it is a large share
        // of the largest window the peer offered.
        const bigEnough = this.maxSndWnd > 0 && len >= this.maxSndWnd / 2;
        if (!(flight === 0 || bigEnough)) return 0;
      } else if (!this.noDelay && seqGt(this.sndSml, this.sndUna) && seqLe(this.sndSml, this.sndNxt)) {
        // Nagle (RFC 1122 4.2.3.4) in Minshall's form, as Linux: the tail of a write waits
        // only while an earlier short segment is unacknowledged, so a full segment in
        // flight plus the peer's delayed ACK cannot stall the tail for 40 ms.
        return 0;
      }
    }
    // The last full segment of a burst of new data that the window cuts short carries PSH,
    // as Linux's do: there the burst is one TSO/GSO packet whose flags are the PSH-marked
    // skb's (see push-marks.ts for the marks themselves).
    if (now !== this.burstAt) {
      this.burstAt = now;
      this.burstSegments = 0;
    }
    const burstEnd = this.burstSegments >= 1 && len === mss && pending > len && !seqLt(this.sndNxt, this.sndMax) && (cwndLeft - len < mss || windowLeft - len < mss);
    const used = this.emitData(now, this.sndNxt, len, finNow, burstEnd);
    this.burstSegments++;
    if (len < mss) this.sndSml = seqAdd(this.sndNxt, used);
    this.sndNxt = seqAdd(this.sndNxt, used);
    return used;
  }

  /** Emits bytes [from, from + len) of the stream, with our FIN if `fin`; returns the sequence space used. */
  private emitData(now: Millis, from: Seq, len: number, fin: boolean, push = false): number {
    const offset = seqDiff(from, this.sndBufSeq);
    const payload = len > 0 ? this.sendBuffer.peek(offset, len) : EMPTY;
    let flags = ACK;
    if (len > 0 && (push || this.pushMarks.covers(from, seqAdd(from, len)))) flags |= PSH;
    if (fin) flags |= FIN;
    const retransmit = seqLt(from, this.sndMax);
    this.emit(now, flags, from, this.rcvNxt, payload, undefined, retransmit);
    const used = len + (fin ? 1 : 0);
    const end = seqAdd(from, used);
    if (!retransmit && this.timed === undefined) this.timed = { end, at: now };
    if (retransmit && seqGt(end, this.retransmittedUpTo)) this.retransmittedUpTo = end;
    if (seqGt(end, this.sndMax)) this.sndMax = end;
    if (this.timers.rto === Infinity) this.armTimer(now, "rto", now + this.rtt.rto);
    this.timers.persist = Infinity;
    return used;
  }

  /**
   * Resends one segment starting at `from`, whatever cwnd says (RFC 5681 3.2 step 4):
   * fast retransmit and partial ACKs at SND.UNA, or the next hole the SACK scoreboard shows.
   */
  private retransmitAt(now: Millis, from: Seq): void {
    if (!seqLt(from, this.sndMax)) return;
    const offset = seqDiff(from, this.sndBufSeq);
    if (offset < 0) return;
    let len = Math.max(0, Math.min(this.segmentMss(), this.sendBuffer.length - offset));
    const hole = this.scoreboard?.nextHole(from);
    if (hole !== undefined && hole.start === from) len = Math.min(len, seqDiff(hole.end, from));
    const fin = this.finQueued && offset + len === this.sendBuffer.length && seqLt(this.finSeq(), this.sndMax);
    if (len === 0 && !fin) return;
    this.timed = undefined; // Karn: this range is now ambiguous
    const end = seqAdd(from, this.emitData(now, from, len, fin));
    if (seqGt(end, this.highRxt)) this.highRxt = end;
  }

  /** During SACK recovery: repair the next hole not yet retransmitted (RFC 6675 NextSeg, rule 1). */
  private retransmitNextHole(now: Millis): boolean {
    const hole = this.scoreboard?.nextHole(seqMax(this.highRxt, this.sndUna));
    if (hole === undefined) return false;
    this.retransmitAt(now, hole.start);
    return true;
  }

  /** Data waits, the peer's window is closed and nothing is in flight: probe (S17). */
  private maybeArmPersist(now: Millis): void {
    const offset = seqDiff(this.sndNxt, this.sndBufSeq);
    const pending = this.sendBuffer.length - offset;
    if (pending > 0 && this.sndWnd === 0 && this.sndNxt === this.sndUna && this.timers.persist === Infinity && this.timers.rto === Infinity) {
      this.armTimer(now, "persist", now + this.rtt.rto);
    }
  }

  private sendSyn(now: Millis): void {
    const retransmit = this.sndMax !== this.iss;
    this.emit(now, SYN, this.iss, 0 as Seq, EMPTY, this.negotiation.synOptions(now, this.ourMss()), retransmit);
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    if (!retransmit) this.timed = { end: this.sndNxt, at: now };
    this.armTimer(now, "rto", now + this.rtt.rto);
  }

  private sendSynAck(now: Millis): void {
    const retransmit = this.synAckSent;
    this.synAckSent = true;
    this.emit(now, SYN | ACK, this.iss, this.rcvNxt, EMPTY, this.negotiation.synAckOptions(now, this.ourMss()), retransmit);
    this.synAckPending = false;
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    if (!retransmit) this.timed = { end: this.sndNxt, at: now };
    this.armTimer(now, "rto", now + this.rtt.rto);
  }

  /**
   * A bare ACK. Its sequence number is SND.MAX, not a SND.NXT rewound by a timeout: the
   * peer has seen everything up to SND.MAX, so anything lower could be out of its window
   * (Linux tcp_acceptable_seq does the same).
   */
  private sendAckNow(): void {
    this.emit(this.lastNow, ACK, this.sndMax, this.rcvNxt, EMPTY, undefined, false);
  }

  /** RFC 5961 challenge ACK, rate-limited per connection (Linux tcp_invalid_ratelimit). */
  private challengeAck(now: Millis): void {
    if (now - this.lastChallengeAck < this.config.challengeAckInterval) return;
    this.lastChallengeAck = now;
    this.ackNow = true;
    if (this.state === "TIME_WAIT") this.sendAckNow();
  }

  /** A segment with no payload that is not part of the data stream (RST, probes). */
  private sendControl(flags: number, seq: Seq, ack: Seq, retransmit: boolean): void {
    this.emit(this.lastNow, flags, seq, (flags & ACK) !== 0 ? ack : (0 as Seq), EMPTY, undefined, retransmit);
  }

  private emit(now: Millis, flags: number, seq: Seq, ack: Seq, payload: Uint8Array, options: TcpOptions | undefined, retransmit: boolean): void {
    const isSyn = (flags & SYN) !== 0;
    const window = (flags & RST) !== 0 ? 0 : isSyn ? this.rcvWindow.offerUnscaled(this.rcvNxt) : this.rcvWindow.advertise(this.rcvNxt, this.negotiation.rcvShift);
    const seg: TcpSegment = {
      srcPort: this.tuple.localPort,
      dstPort: this.tuple.remotePort,
      seq,
      ack: (flags & ACK) !== 0 ? ack : (0 as Seq),
      flags,
      window,
      urgentPointer: 0,
      options: options ?? this.negotiation.segmentOptions(now, flags, (flags & ACK) !== 0 ? this.sackBlocks() : undefined) ?? NO_OPTS,
      payload,
    };
    if ((flags & ACK) !== 0) {
      this.lastAckSent = ack;
      // Every ACK we send covers what we have received so far.
      this.ackNow = false;
      this.unackedBytes = 0;
      if (this.timers.delayedAck !== Infinity) this.timers.delayedAck = Infinity;
    }
    this.segmentsOut++;
    if (retransmit) this.retransmits++;
    this.stats.onSend(now, seg, retransmit, this.sndUna);
    this.lastNow = now;
    this.ctx.transmit(this, seg, retransmit);
  }

  /** Payload that fits this segment: SACK blocks, when we have any to send, take room (Linux tcp_current_mss). */
  private segmentMss(): number {
    if (!this.negotiation.sack || this.receiveBuffer.outOfOrderRanges === 0) return this.sendMss;
    const blocks = Math.min(this.receiveBuffer.outOfOrderRanges, this.negotiation.maxSackBlocks);
    return Math.max(this.config.minMss, this.sendMss - (4 + 8 * blocks));
  }

  /** SACK blocks for an ACK: the newest out-of-order range first, then the others (RFC 2018 4). */
  private sackBlocks(): SackBlock[] | undefined {
    if (!this.negotiation.sack || this.receiveBuffer.outOfOrderRanges === 0) return undefined;
    const blocks = this.receiveBuffer.outOfOrderBlocks();
    const newest = this.lastOutOfOrder;
    const first = newest === undefined ? -1 : blocks.findIndex((b) => seqLe(b.left, newest) && seqLt(newest, b.right));
    const ordered = first >= 0 ? [blocks[first]!, ...blocks.slice(0, first).reverse(), ...blocks.slice(first + 1).reverse()] : blocks.reverse();
    return ordered.slice(0, this.negotiation.maxSackBlocks);
  }

  /** The MSS we announce: the link's, clamped by TCP_MAXSEG (Linux user_mss) when set. */
  private ourMss(): number {
    const linkMss = this.ctx.mtu - HEADERS;
    return this.config.userMss > 0 ? Math.min(linkMss, this.config.userMss) : linkMss;
  }

  /** Reads the peer's SYN options (S5): MSS here, the rest in Negotiation. */
  private negotiate(now: Millis, o: TcpOptions): void {
    this.negotiation.onPeerSyn(now, o);
    this.congestion.sack = this.negotiation.sack;
    const peerMss = o.mss ?? this.config.defaultMss;
    // Timestamps take 12 bytes of every segment: payload per segment shrinks by that much.
    const mss = Math.min(peerMss, this.ourMss()) - this.negotiation.perSegmentOptionBytes;
    this.sendMss = Math.max(this.config.minMss, mss);
    this.congestion.setMss(this.sendMss, this.config.initialCwndSegments);
  }

  private flightSize(): number {
    return seqDiff(this.sndMax, this.sndUna);
  }

  /** Sequence number our FIN occupies (valid once a FIN is queued: no data follows it). */
  private finSeq(): Seq {
    return seqAdd(this.sndBufSeq, this.sendBuffer.length);
  }

  // ---------------------------------------------------------------------------------------
  // Bookkeeping

  private setState(to: TcpState, cause: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    if (to === "ESTABLISHED" && from !== "FIN_WAIT_1") this.stats.onEstablished(this.lastNow);
    if ((to === "ESTABLISHED" || to === "CLOSE_WAIT") && this.keepAliveEnabled && this.timers.keepalive === Infinity) {
      this.armTimer(this.lastNow, "keepalive", this.lastNow + this.keepAliveIdle);
    }

    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "state", time: this.lastNow, host: this.ctx.hostName, tuple: this.tuple, from, to, cause });
    }
    this.ctx.stateChanged(this, from, to);
    this.wake();
    // A shutdown() during the handshake takes effect once there is a connection to close.
    if (to === "ESTABLISHED" && this.finQueued) {
      this.setState("FIN_WAIT_1", "FIN queued by close() during the handshake");
      this.ctx.touched(this, true);
    }
  }

  /** Ends the connection: CLOSED, timers off, error recorded for the application. */
  private terminate(code: TcpErrorCode | undefined, cause: string): void {
    if (code !== undefined && this.error === undefined) {
      this.error = new TcpError(code, messageFor(code, cause));
      if (this.ctx.trace.enabled) {
        this.ctx.trace.emit({ type: "error", time: this.lastNow, host: this.ctx.hostName, tuple: this.tuple, code, message: this.error.message });
      }
    }
    this.timers.clearAll();
    this.setState("CLOSED", cause);
    this.ctx.touched(this, false);
  }

  private wake(): void {
    this.pendingWake = true;
    this.ctx.touched(this, false);
  }


  private armTimer(now: Millis, slot: TimerSlot, at: Millis): void {
    this.timers[slot] = at;
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({
        type: "timer-armed", time: now, host: this.ctx.hostName, tuple: this.tuple,
        timer: slotKind(slot, this.lingerKind), at, backoff: slot === "rto" || slot === "persist" ? this.rtt.backoff : 0,
      });
    }
    this.ctx.touched(this, false);
  }

  private cancelTimer(now: Millis, slot: TimerSlot): void {
    if (this.timers[slot] === Infinity) return;
    this.timers[slot] = Infinity;
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "timer-cancelled", time: now, host: this.ctx.hostName, tuple: this.tuple, timer: slotKind(slot, this.lingerKind) });
    }
  }

  private fireTimer(now: Millis, slot: TimerSlot): void {
    this.timers[slot] = Infinity;
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({
        type: "timer-fired", time: now, host: this.ctx.hostName, tuple: this.tuple,
        timer: slotKind(slot, this.lingerKind), backoff: this.rtt.backoff,
      });
    }
  }

  private drop(seg: TcpSegment, reason: DropReason, detail: string): void {
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "drop", time: this.lastNow, host: this.ctx.hostName, reason, tuple: this.tuple, segment: seg, detail });
    }
  }

  private traceCwnd(now: Millis, cause: string): void {
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({
        type: "cwnd", time: now, host: this.ctx.hostName, tuple: this.tuple,
        cwnd: this.congestion.cwnd, ssthresh: this.congestion.ssthresh, cause,
      });
    }
  }

  /** The SACK scoreboard (undefined until the peer sent SACK blocks), read-only for TCP_INFO. */
  get sackScoreboard(): Pick<Scoreboard, "sackedUntil" | "sackedBytes"> | undefined {
    return this.scoreboard;
  }

  /** Unanswered zero-window or keep-alive probes (Linux icsk_probes_out). */
  get probesOut(): number {
    return this.timers.persist !== Infinity ? this.retries : this.keepAliveProbes;
  }

  /** The settings and link MTU this connection runs with (read-only, for TCP_INFO). */
  get settings(): { readonly config: Readonly<TcpConfig>; readonly mtu: number } {
    return { config: this.ctx.config, mtu: this.ctx.mtu };
  }

  /** A read-only snapshot for tests, tables and debugging (no reaching into private fields). */
  inspect(): ConnectionInfo {
    return {
      state: this.state,
      tuple: this.tuple,
      iss: this.iss,
      irs: this.irs,
      sndUna: this.sndUna,
      sndNxt: this.sndNxt,
      sndMax: this.sndMax,
      sndWnd: this.sndWnd,
      rcvNxt: this.rcvNxt,
      rcvWnd: this.rcvWindow.size(this.rcvNxt),
      sendMss: this.sendMss,
      sndShift: this.negotiation.sndShift,
      rcvShift: this.negotiation.rcvShift,
      timestamps: this.negotiation.timestamps,
      sack: this.negotiation.sack,
      sacked: this.scoreboard?.sackedBytes ?? 0,
      cwnd: this.congestion.cwnd,
      ssthresh: this.congestion.ssthresh,
      srtt: this.rtt.srtt,
      rto: this.rtt.rto,
      retries: this.retries,
      sendQueued: this.sendBuffer.length,
      receiveQueued: this.receiveBuffer.readable,
      outOfOrderBytes: this.receiveBuffer.outOfOrderBytes,
      timers: { ...this.timers },
      segmentsIn: this.segmentsIn,
      segmentsOut: this.segmentsOut,
      retransmits: this.retransmits,
      bytesAcked: this.bytesAcked,
      bytesReceived: this.bytesReceived,
      error: this.error?.code,
    };
  }
}

export interface ConnectionInfo {
  state: TcpState;
  tuple: FourTuple;
  iss: Seq;
  irs: Seq;
  sndUna: Seq;
  sndNxt: Seq;
  sndMax: Seq;
  sndWnd: number;
  rcvNxt: Seq;
  rcvWnd: number;
  sendMss: number;
  sndShift: number;
  rcvShift: number;
  timestamps: boolean;
  sack: boolean;
  sacked: number;
  cwnd: number;
  ssthresh: number;
  srtt: number | undefined;
  rto: number;
  retries: number;
  sendQueued: number;
  receiveQueued: number;
  outOfOrderBytes: number;
  timers: { rto: number; persist: number; keepalive: number; delayedAck: number; linger: number };
  segmentsIn: number;
  segmentsOut: number;
  retransmits: number;
  bytesAcked: number;
  bytesReceived: number;
  error: TcpErrorCode | undefined;
}

const NO_OPTS: TcpOptions = Object.freeze({}) as TcpOptions;

function positive(name: string, v: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got ${String(v)}`);
  return v;
}

function messageFor(code: TcpErrorCode, cause: string): string {
  switch (code) {
    case "ECONNREFUSED":
      return `connection refused (${cause})`;
    case "ECONNRESET":
      return `connection reset by peer (${cause})`;
    case "ETIMEDOUT":
      return `connection timed out (${cause})`;
    case "ECONNABORTED":
      return `connection aborted (${cause})`;
    case "EPIPE":
      return `broken pipe (${cause})`;
  }
}
