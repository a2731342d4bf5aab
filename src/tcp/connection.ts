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
 * Segments leave through `ctx.transmit`. The sending side (segmentation, retransmission,
 * loss recovery) is sender.ts, the receiving side (reassembly, ACK policy, SACK/D-SACK
 * blocks) receiver.ts; this file is the state machine that decides what happens when.
 */
import type { Millis } from "../env.js";
import type { DropReason, FourTuple, TcpState, TraceSink } from "../trace/events.js";
import { ACK, RST, SYN, URG, type TcpOptions, type TcpSegment } from "../wire/tcp.js";
import { seqAdd, seqGt, seqMax, type Seq } from "../wire/seq.js";
import type { TcpConfig } from "./config.js";
import type { CongestionControl } from "./congestion/recovery.js";
import { checkBoolean, InvalidArgumentError, messageFor, TcpError, type TcpErrorCode } from "./errors.js";
import { connectionInfo, type ConnectionInfo } from "./connection-info.js";
import { ConnectionTimers } from "./connection-timers.js";
import { onKeepAliveTimeout, setKeepAlive } from "./keepalive.js";
import { checkSendOptions, setCork, setNoDelay, setNotsentLowat, setSendBufferSize, setUserTimeout, typeOfServiceBits } from "./socket-options.js";
import { ECN_OFF, ecnOnSyn, ecnSynFlags, type EcnState } from "./ecn.js";
import type { Negotiation } from "./options.js";
import type { ReceiveBuffer } from "./receive-buffer.js";
import { Receiver } from "./receiver.js";
import type { RttEstimator } from "./rtt.js";
import type { Scoreboard } from "./sack.js";
import { EMPTY, type SendBuffer } from "./send-buffer.js";
import { icmpError, pathMtuReduced } from "./icmp-input.js";
import { clampToUserTimeout, onPersistTimeout, onRetransmitTimeout } from "./timeouts.js";
import { acceptFin, acceptText, onSegmentSynchronizing, onSegmentSynSent, onSegmentTimeWait } from "./input.js";
import { Sender, type SenderHost } from "./sender.js";
import { synFastOpen } from "./fast-open/client.js";
import { acceptSynData } from "./fast-open/server.js";
import type { ConnectionStats } from "./tcp-stats.js";
import type { ConnectionPath, PathSource } from "./path.js";
import type { TimeWaitHandover } from "./time-wait.js";
import { notsentWritable } from "./notsent-lowat.js";
import { sendQueueState, sendQueueWritable, writeAdmits } from "./write-admission.js";
import { type OobResult, UrgentReceiver, UrgentSender } from "./urgent.js";
import { inqBytes, inqHint } from "./inq.js";
import { atMark, markUrgentWrite, readableBytes, readAroundMark, readOob, urgentField } from "./urgent-io.js";
import { SYNCHRONIZED } from "./states.js";
import { setZerocopy } from "./zerocopy.js";
import { setTxTimestamping } from "./tx-timestamps.js";
import type { ErrorQueueEntry } from "./error-queue.js";
import { showValue } from "../show-value.js";

/** What a connection needs from the layer that owns it. */
export interface ConnectionContext extends PathSource {
  readonly config: TcpConfig;
  readonly hostName: string;
  readonly trace: TraceSink;
  /** How late the driver may call poll() after a deadline (HostOptions.timerSlack). */
  readonly timerSlack: Millis;
  /** The shortest wait the driver's timers can express (HostOptions.timerGranularity). */
  readonly timerGranularity: Millis;
  /** Largest IP packet the link carries; our MSS is derived from it (RFC 6691). */
  readonly mtu: number;
  /** The current time, for events caused by application calls (which carry no time of their own). */
  now(): Millis;
  transmit(conn: Connection, seg: TcpSegment, retransmit: boolean, ecn?: number): void;
  /** A connection's transmission pass starts or ends (SenderHost.burst). */
  burst(open: boolean): void;
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

export interface OpenParams {
  tuple: FourTuple;
  iss: Seq;
  /** Random offset of this connection's timestamp clock. */
  tsOffset: number;
  /** Settings of this connection when they differ from the layer's (per-socket options). */
  config?: TcpConfig;
  /** IP_TOS / IPV6_TCLASS bits, a passive open's from its listener (Linux inet_csk_clone_lock copies them). */
  typeOfService?: number;
}

export type { ConnectionInfo };

/**
 * A connection's state and the calls that drive it. Members that are neither private nor
 * documented as API (setState, terminate, drop, challengeAck, sendControl, sendAckNow,
 * enterTimeWait, armFinWait2, negotiate, synAckPending, ctx) are used by input.ts, which
 * processes arriving segments as this class's other half (Linux: tcp_input.c), and by
 * icmp-input.ts for ICMP errors about our segments.
 */
export class Connection extends ConnectionTimers implements SenderHost {
  private current: TcpState = "CLOSED";

  /** The RFC 9293 state; CLOSED once the TIME_WAIT record that took this connection's place has ended. */
  get state(): TcpState {
    if (this.current === "TIME_WAIT") {
      const r = this.timeWaitRecord;
      if (r !== undefined && !r.table.holds(r)) {
        this.current = "CLOSED";
        this.timeWaitRecord = undefined;
      }
    }
    return this.current;
  }

  set state(to: TcpState) {
    this.current = to;
    if (to !== "TIME_WAIT") this.timeWaitRecord = undefined;
  }

  readonly tuple: FourTuple;
  /** This connection's settings (options.ts): its sender's, the same object. */
  get config(): TcpConfig { return this.sender.config; }
  /** Set by the application (or an API layer) to hear about changes; called after processing. */
  onWake: ((conn: Connection) => void) | undefined;
  // listenerPort, set by a listener for its own bookkeeping, is kept in the flags' integer (connection-flags.ts).

  /** Time of the event being processed (application calls read the driver's clock). */
  private lastNow!: Millis; // tagged: it shares the event's time, no box of its own (timers.ts)

  /** The sending side: send sequence variables, segmentation, retransmission, recovery. */
  readonly sender: Sender;
  /** The receiving side: receive sequence variables, reassembly, ACK policy. */
  readonly receiver: Receiver;
  /** Window scaling, timestamps and SACK as agreed in the handshake (S5): a layer of this class's chain (options.ts), no object of its own. */
  get negotiation(): Negotiation { return this; }
  /** ECN (RFC 3168) as agreed in the handshake and the flags it owes; `ecn` arguments below are IP ECN codepoints (ecn.ts). */
  ecn: EcnState = ECN_OFF; // shared until ECN is asked for or agreed (ecn.ts ecnOn)

  // Counters, read through inspect().
  segmentsIn = 0;
  segmentsOut = 0;
  // retransmits: connection-seldom.ts (0 on most connections).
  /** What TCP_INFO and `ss -i` report beyond the counters above (see tcp-info.ts). */
  get stats(): ConnectionStats { return this; } // the bottom of this class's chain (tcp-stats.ts): no object of its own
  /** The route to the peer, its MTU and the MTU search (RFC 4821). */
  get path(): ConnectionPath { return this; } // a layer of this class's chain (path.ts), no object of its own
  /** Urgent data (RFC 9293 3.8.5), made on first use (the `Part`s, connection-seldom.ts: none yet, no urgent data). */
  get urgentOut(): UrgentSender { return (this.urgentOutPart ??= new UrgentSender()); }
  get urgentIn(): UrgentReceiver { return (this.urgentInPart ??= new UrgentReceiver(this.config.oobInline)); }
  constructor(
    readonly ctx: ConnectionContext,
    params: OpenParams & { passive: boolean },
  ) {
    const cfg = params.config ?? ctx.config;
    super(cfg, params.tsOffset);
    this.tuple = params.tuple;
    this.passive = params.passive;
    this.refresh(ctx.now());
    this.sender = new Sender(this, cfg, params.iss);
    this.receiver = new Receiver(cfg, ctx.mtu - HEADERS);
    if (params.typeOfService !== undefined) this.typeOfService = params.typeOfService;
    this.lastNow = 0; // small, not a box each (timers.ts)
  }

  // The sequence variables and parts that tables, tests and TCP_INFO read.
  get iss(): Seq { return this.sender.iss; }
  get sndUna(): Seq { return this.sender.sndUna; }
  get sndNxt(): Seq { return this.sender.sndNxt; }
  get sndMax(): Seq { return this.sender.sndMax; }
  get sndWnd(): number { return this.sender.sndWnd; }
  get sendMss(): number { return this.sender.sendMss; }
  get sendBuffer(): SendBuffer { return this.sender.sendBuffer; }
  get rtt(): RttEstimator { return this.sender.rtt; }
  get congestion(): CongestionControl { return this.sender.congestion; }
  get retries(): number { return this.sender.retries; }
  get noDelay(): boolean { return this.sender.noDelay; }
  set noDelay(v: boolean) { this.sender.noDelay = v; }
  get bytesAcked(): number { return this.sender.bytesAcked; }
  get irs(): Seq { return this.receiver.irs; }
  get rcvNxt(): Seq { return this.receiver.rcvNxt; }
  get peerFinished(): boolean { return this.receiver.peerFinished; }
  get receiveBuffer(): ReceiveBuffer { return this.receiver.buffer; }
  get bytesReceived(): number { return this.receiver.bytesReceived; }
  get hostName(): string { return this.ctx.hostName; }
  get timerSlack(): Millis { return this.ctx.timerSlack; }
  get timerGranularity(): Millis { return this.ctx.timerGranularity; }
  get trace(): TraceSink { return this.ctx.trace; }

  // ---------------------------------------------------------------------------------------
  // Opening (RFC 9293 3.10.1)

  /** Active open (S4): CLOSED -> SYN_SENT; the SYN leaves on the next flush. */
  openActive(now: Millis): void {
    this.lastNow = now;
    this.setState("SYN_SENT", "connect()");
    this.ctx.touched(this, true);
  }

  /**
   * Passive open from a listener that received `syn` (RFC 9293 3.10.7.2): LISTEN -> SYN_RCVD.
   * A Fast Open child (`fastOpen.child`) takes the SYN's data first, so the SYN-ACK acks it.
   */
  openPassive(now: Millis, syn: TcpSegment, ecn = 0): void {
    this.lastNow = now;
    this.receiver.onSyn(syn.seq);
    ecnOnSyn(this, this.config.ecn, now, syn.flags, ecn);
    this.negotiate(now, syn.options);
    this.sender.updateWindow(syn, true, this.sndShift);
    if (this.fastOpen?.child === true) acceptSynData(this, syn);
    this.setState("SYN_RCVD", this.fastOpen?.child === true ? "Fast Open SYN received" : "SYN received");
    this.synAckPending = true;
    this.flush(now);
  }

  /**
   * A listener validated the SYN cookie in `ack` (S12): the handshake is complete though no
   * state was kept for it. Rebuild what the SYN-ACK promised (MSS from the cookie, the
   * `options` its timestamp's echo gave back) and go on as ESTABLISHED with the ACK.
   */
  openFromCookie(now: Millis, ack: TcpSegment, mss: number, options?: TcpOptions): void {
    this.lastNow = now;
    this.receiver.onSyn(seqAdd(ack.seq, -1));
    this.sender.resumeAfterCookie();
    if (options !== undefined) this.negotiate(now, options); // what the cookie's timestamp carried (syn-cookies.ts)
    else {
      this.sender.setMss(this.start(now, this.config.userMss > 0 ? Math.min(mss, this.config.userMss) : mss, 0, this.config.minMss), this.initcwnd || this.config.initialCwndSegments);
      this.none();
    }
    this.receiver.window.offerUnscaled(this.rcvNxt); // what our cookie SYN-ACK offered
    this.sender.updateWindow(ack, true, 0);
    // Scaled once agreed (RFC 7323 2.2); the call above set SND.WL1 and SND.WL2.
    if (this.negotiation.sndShift > 0) this.sender.updateWindow(ack, false, this.negotiation.sndShift);
    this.setState("ESTABLISHED", "ACK with a valid SYN cookie");
    acceptText(this, now, ack);
    if (!this.isClosed()) acceptFin(this, now, ack);
    if (!this.isClosed()) this.flush(now);
  }

  // ---------------------------------------------------------------------------------------
  // Application calls (RFC 9293 3.10.2 - 3.10.5)

  /**
   * Queues bytes for sending. Returns how many were taken (0 when the buffer is full).
   * The bytes taken are not copied: TCP keeps `data` itself (a view of it) until they are
   * acknowledged, to send and resend from, so they must not be written meanwhile. A
   * caller that reuses its buffer passes a copy, as the node:net and Web Streams sockets do.
   * `more` is MSG_MORE; `oob` is MSG_OOB: the last byte taken is urgent (urgent-io.ts).
   * `eor` is MSG_EOR: `data` ends a record, so no segment (sent or resent) carries its last
   * byte together with any byte written after it (record-ends.ts). It takes effect only when
   * all of `data` is taken; the record's first bytes may still share a segment with earlier
   * data.
   * `zerocopy` is MSG_ZEROCOPY: with SO_ZEROCOPY on, a send taking bytes takes the next id,
   * completed once they are all acknowledged ("continue": the previous id's send goes on); zerocopy.ts.
   * `timestamp: false` leaves the send's last byte unmarked for SO_TIMESTAMPING: a write made of
   * several sends marks only its end (tx-timestamps.ts).
   */
  send(data: Uint8Array, opts?: { more?: boolean; oob?: boolean; eor?: boolean; zerocopy?: boolean | "continue"; timestamp?: boolean }): number {
    if (!(data instanceof Uint8Array)) throw new InvalidArgumentError("send() takes a Uint8Array");
    const zerocopy = checkSendOptions(opts);
    this.lastNow = this.ctx.now();
    if (!this.canSend) throw new TcpError("EPIPE", `cannot send in state ${this.state}`);
    const n = this.sender.queue(this.lastNow, data, opts?.more === true, opts?.eor === true);
    if (n > 0 && opts?.oob === true) markUrgentWrite(this, n);
    if (n > 0 && zerocopy !== false) this.sender.zerocopy()?.wrote(seqAdd(this.sender.sndBufSeq, this.sendBuffer.length), zerocopy === "continue");
    if (n > 0 && opts?.timestamp !== false) this.markWriteEnd();
    if (n > 0) this.ctx.touched(this, true);
    return n;
  }

  /** True while send() is allowed: the handshake is under way or done and we have not closed. */
  get canSend(): boolean {
    return !this.sender.finQueued && (this.state === "SYN_SENT" || this.state === "SYN_RCVD" || this.state === "ESTABLISHED" || this.state === "CLOSE_WAIT");
  }

  /** Reads up to `max` received bytes in order (empty when none), stopping at an urgent mark. Opens the window as it goes. */
  read(max = Infinity): Uint8Array {
    if (typeof max !== "number" || Number.isNaN(max) || max < 0) throw new InvalidArgumentError(`read(max): max must be a non-negative number, got ${showValue(max)}`);
    const r = this.receiver;
    const data = r.afterRead(readAroundMark(this, max), this.ctx.now());
    if (data.length > 0 && SYNCHRONIZED.has(this.state) && !r.peerFinished && (r.window.updateWorthSending(r.rcvNxt, this.rcvShift) || r.ackAfterRead(data.length))) {
      r.ackNow = true;
      this.ctx.touched(this, true);
    }
    return data;
  }

  /** Bytes read() can return, less an out-of-band byte it skips (urgent-io.ts). */
  get readable(): number {
    return readableBytes(this);
  }

  /** SIOCINQ / FIONREAD (Linux tcp_inq): bytes waiting, without the FIN, cut at an urgent mark ahead (inq.ts). */
  get inq(): number { return inqBytes(this); }
  /** TCP_INQ's TCP_CM_INQ (Linux tcp_inq_hint): bytes waiting plus 1 for a received FIN (inq.ts). */
  get inqHint(): number { return inqHint(this); }

  /**
   * Half-close (shutdown(SHUT_WR)): FIN after the queued data, keep reading (S24).
   * Before the handshake completes the FIN waits for ESTABLISHED (RFC 9293 3.10.4).
   */
  shutdown(): void {
    if (this.sender.finQueued) return;
    this.lastNow = this.ctx.now();
    switch (this.state) {
      case "SYN_SENT":
      case "SYN_RCVD":
        this.sender.finQueued = true;
        return;
      case "ESTABLISHED":
        this.sender.finQueued = true;
        this.setState("FIN_WAIT_1", "close()");
        break;
      case "CLOSE_WAIT":
        this.sender.finQueued = true;
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
    const errors = this.sender.errorQueue();
    if (errors !== undefined) errors.dead = true; // nothing more on the error queue of a closed socket (error-queue.ts)
    this.lastNow = this.ctx.now();
    if (this.state === "SYN_SENT") {
      this.terminate(undefined, "close() in SYN_SENT");
      return;
    }
    if (this.receiver.buffer.readable > 0 && (SYNCHRONIZED.has(this.state) || this.fastOpen?.child === true)) {
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

  // Socket options: the rules are socket-options.ts's and keepalive.ts's.

  /** SO_KEEPALIVE with optional per-connection TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT (the stack's settings otherwise). */
  setKeepAlive(enabled: boolean, now: Millis, opts: { idle?: Millis; interval?: Millis; probes?: number } = {}): void {
    this.lastNow = now;
    setKeepAlive(this, enabled, now, opts);
  }

  get keepAlive(): boolean {
    return this.ka?.enabled === true;
  }

  /** SO_SNDBUF on an open connection: later writes may queue up to `bytes`; what is queued stays. */
  setSendBufferSize(bytes: number): void { setSendBufferSize(this, bytes); }

  /** An ICMP error quoted a segment of ours: see icmp-input.ts. Returns whether it was acted on. */
  onIcmpError(now: Millis, seq: Seq, code: TcpErrorCode, why: string, revertsBackoff = false): boolean {
    this.lastNow = now;
    return icmpError(this, now, seq, code, why, revertsBackoff);
  }

  /** "Fragmentation needed" / "packet too big" quoted a segment of ours: see icmp-input.ts. */
  onPathMtu(now: Millis, seq: Seq, mtu: number, why: string): boolean {
    this.lastNow = now;
    return pathMtuReduced(this, now, seq, mtu, why);
  }

  /** TCP_USER_TIMEOUT (RFC 5482): ms that data may stay unacknowledged before the connection fails; 0 = off. */
  setUserTimeout(ms: number): void { setUserTimeout(this, ms); }

  /** TCP_NOTSENT_LOWAT: at most about this many bytes written and not yet sent; 0 = the setting's. */
  setNotsentLowat(bytes: number): void { setNotsentLowat(this, bytes); }

  /** IP_TOS / IPV6_TCLASS for the segments sent from now on (0..255; the ECN bits are TCP's, see `typeOfService`). */
  setTypeOfService(tos: number): void { this.typeOfService = typeOfServiceBits(tos); }

  /** TCP_NOTSENT_LOWAT as set on this connection (0: none set, the setting applies). */
  get notsentLowat(): number {
    return this.sender.notsentLowatOwn;
  }

  /**
   * The send side would poll writable as far as TCP_NOTSENT_LOWAT goes: the bytes not sent
   * yet are under half the limit (always true without a limit). The send buffer's own
   * space is the other condition.
   */
  get belowNotsentLowat(): boolean {
    return notsentWritable(this.sender.unsentBytes(), this.sender.notsentLowat);
  }

  /**
   * The send side polls writable (Linux tcp_poll's EPOLLOUT, __sk_stream_is_writeable): the
   * free space is at least half what is queued and TCP_NOTSENT_LOWAT allows (write-space.ts).
   * A writer that waits on it must say so with `waitForSpace`.
   */
  get sendSpaceReady(): boolean {
    return sendQueueWritable(this.sender);
  }

  /** How many of `length` bytes a send() would take now: Linux fills the skb it starts, so it may be more than the buffer's free space (write-admission.ts). */
  sendRoom(length: number): number {
    if (typeof length !== "number" || !Number.isInteger(length) || length < 0) throw new InvalidArgumentError(`sendRoom(length): length must be a whole number of bytes, got ${showValue(length)}`);
    return this.canSend ? writeAdmits(length, sendQueueState(this.sender)).bytes : 0;
  }

  /**
   * The application holds bytes the send buffer did not take (Linux SOCK_NOSPACE, which a
   * short send() sets by itself): onWake is called once `sendSpaceReady` holds again.
   * ACKs alone wake a writer only then, not for every segment they free.
   */
  waitForSpace(): void {
    this.sender.noSpace = true;
  }

  /** TCP_NODELAY. Turning Nagle off sends what it was holding, corked or not (as Linux does). */
  setNoDelay(noDelay: boolean): void { setNoDelay(this, noDelay); }

  /** TCP_CORK: hold partial segments until uncorked; uncorking sends them. */
  setCork(cork: boolean): void { setCork(this, cork); }

  /** recv(MSG_OOB): the urgent byte, or EINVAL, EAGAIN or end of stream as Linux (urgent-io.ts). */
  readOob(peek = false): OobResult { return readOob(this, checkBoolean("readOob(peek)", peek)); }
  /** SIOCATMARK: the next byte read() returns (or skips) is the urgent one. */
  get atMark(): boolean { return atMark(this); }
  /** SO_OOBINLINE: urgent bytes stay in the stream and recv(MSG_OOB) fails with EINVAL. */
  setOobInline(inline: boolean): void { this.urgentIn.inline = checkBoolean("setOobInline(inline)", inline); }

  /** SO_ZEROCOPY (zerocopy.ts): sends with `zerocopy` take ids and complete; while off the flag is ignored. */
  setZerocopy(on: boolean): void { setZerocopy(this.sender, checkBoolean("setZerocopy(on)", on)); }
  get zerocopy(): boolean { return this.sender.zerocopy()?.enabled === true; }
  /** SO_TIMESTAMPING (tx-timestamps.ts): SOF_TIMESTAMPING_* flags; each write then gets TX stamps of its last byte. */
  setTimestamping(flags: number): void { setTxTimestamping(this.sender, flags, this.isClosed(), this.sender.sndUna, seqAdd(this.sender.sndBufSeq, this.sendBuffer.length)); }
  get timestamping(): number { return this.sender.txTimestamps()?.flags ?? 0; }
  /** tcp_tx_timestamp: the last byte queued ends a write, stamped as the flags ask (send() does this unless `timestamp: false`). */
  markWriteEnd(): void { if (this.sendBuffer.length > 0) this.sender.txTimestamps()?.wrote(seqAdd(this.sender.sndBufSeq, this.sendBuffer.length - 1)); }
  /** recvmsg(MSG_ERRQUEUE): the oldest entry, a zerocopy completion or a TX timestamp (error-queue.ts); undefined when none waits (EAGAIN). */
  readErrorQueue(): ErrorQueueEntry | undefined { return this.sender.errorQueue()?.read(); }
  /** The error queue holds entries: poll says POLLERR. */
  get errorQueueReady(): boolean { return this.sender.errorQueue()?.ready === true; }

  /** A method rather than a comparison so TypeScript does not narrow `state` across calls that change it. */
  isClosed(): boolean {
    return this.state === "CLOSED";
  }

  /**
   * Called by the layer once an event has been processed and the application told: with no
   * timer armed and nothing queued or held, the connection is idle, and gives back its own
   * timer set and its receive buffer's holder (connection-timers.ts, receive-buffer.ts). Data
   * still waiting means more events soon: keep them. So does a last segment that brought
   * data: a bulk receiver that ACKs every second segment would otherwise make both anew each
   * time; the next segment without data (an ACK, the FIN) or timer lets them go. The
   * holder of seldom-set fields goes whenever they are all back at their defaults.
   */
  settle(): void {
    this.settleSeldom();
    if (this.receiving || this.deadline !== Infinity || this.sendBuffer.length > 0 || !this.receiver.buffer.empty) return;
    this.clearTimers();
    this.receiver.buffer.compact();
  }

  // ---------------------------------------------------------------------------------------
  // Segment arrival (RFC 9293 3.10.7)

  onSegment(now: Millis, seg: TcpSegment, ecn = 0, gsoSize = 0): void {
    this.receiving = false; // set again if this one brings data (acceptText)
    this.segmentsIn++;
    if (this.ecn !== ECN_OFF) this.ecn.arrived = ecn;
    this.onReceive(now, seg, gsoSize);
    this.lastNow = now;
    const ka = this.ka;
    if (ka?.enabled === true && this.timers.keepalive !== Infinity) {
      // Anything from the peer proves it alive (RFC 1122 4.2.3.6).
      ka.probes = 0;
      this.timers.keepalive = now + ka.idle;
    }
    switch (this.state) {
      case "CLOSED":
      case "LISTEN":
        return; // the layer handles these
      case "SYN_SENT":
        onSegmentSynSent(this, now, seg);
        break;
      case "TIME_WAIT":
        onSegmentTimeWait(this, now, seg);
        return;
      default:
        onSegmentSynchronizing(this, now, seg);
    }
    // The layer flushes after telling the application, so a reply can carry this ACK.
    if (!this.isClosed()) this.ctx.touched(this, true);
  }

  // ---------------------------------------------------------------------------------------
  // Timers

  onTimer(now: Millis): void {
    this.receiving = false;
    this.lastNow = now;
    if (this.timers.linger <= now) {
      this.fireTimer(now, "linger");
      this.terminate(undefined, this.lingerKind === "time-wait" ? "2MSL timer expired" : "FIN_WAIT_2 timeout");
      return;
    }
    if (this.timers.rto <= now) onRetransmitTimeout(this, now);
    if (this.state === "CLOSED") return;
    if (this.timers.reorder <= now) {
      this.fireTimer(now, "reorder");
      this.sender.onReorderTimeout(now);
    }
    if (this.timers.tlp <= now) {
      this.fireTimer(now, "tlp");
      this.sender.onProbeTimeout(now);
    }
    if (this.timers.persist <= now) onPersistTimeout(this, now);
    if (this.timers.keepalive <= now) onKeepAliveTimeout(this, now);
    if (this.isClosed()) return;
    if (this.timers.delayedAck <= now) {
      this.fireTimer(now, "delayedAck");
      this.receiver.onDelayedAckTimeout();
      this.receiver.ackNow = true;
    }
    if (this.timers.pacing <= now) this.fireTimer(now, "pacing"); // the flush releases what pacing held
    this.flush(now);
  }

  armFinWait2(): void {
    this.lingerKind = "fin-wait-2";
    this.armTimer(this.lastNow, "linger", this.lastNow + this.config.finWait2Timeout);
  }

  enterTimeWait(now: Millis, cause: string): void {
    if (!this.ctx.mayEnterTimeWait(this)) {
      // Like Linux on TIME_WAIT bucket overflow: send the last ACK, then close at once.
      if (this.receiver.ackNow) this.sendAckNow();
      this.terminate(undefined, `${cause}; TIME_WAIT table full, closed at once`);
      return;
    }
    this.setState("TIME_WAIT", cause);
    this.lingerKind = "time-wait";
    this.clearTimers();
    this.armTimer(now, "linger", now + 2 * this.config.msl);
  }

  /**
   * Hook for the layer: what a compact TIME_WAIT record (time-wait.ts) needs beyond the
   * public fields, asked once this connection's last ACK has left. The record then answers
   * for the 4-tuple as onSegmentTimeWait and the linger timer did.
   */
  timeWaitHandover(): TimeWaitHandover {
    return { window: this.receiver.window.advertise(this.rcvNxt, this.rcvShift), lastChallengeAck: this.lastChallengeAck ?? -Infinity, expiry: this.timers.linger };
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
        if (this.receiver.ackNow && this.state === "TIME_WAIT") this.sendAckNow();
        return;
      case "SYN_SENT":
        if (this.sndNxt === this.iss) this.sendSyn(now);
        return;
      case "SYN_RCVD":
        if (this.synAckPending) this.sendSynAck(now);
        // A Fast Open child may send before the handshake completes (Linux tcp_passive_fastopen).
        if (this.fastOpen?.child === true && this.sndMax !== this.iss) this.sender.transmit(now);
        return;
      default:
        break;
    }
    if (this.urgentOutPart?.pointer(this.sndUna) !== undefined) this.sender.pushOnce = true; // urgent mode: no Nagle or cork (Linux tcp_nagle_test)
    this.sender.transmit(now);
    if (this.receiver.ackNow) this.sendAckNow();
  }

  private sendSyn(now: Millis): void {
    const s = this.sender;
    const retransmit = s.sndMax !== this.iss;
    const options = this.synOptions(now, this.ourMss());
    const data = synFastOpen(this, retransmit, options); // Fast Open's option and data, if any
    this.emit(now, SYN | ecnSynFlags(this, this.config.ecn, retransmit), this.iss, 0 as Seq, data, options, retransmit);
    // SND.MAX keeps covering data a first SYN carried, so a SYN-ACK may still acknowledge it;
    // the SYN alone is timed, so an ACK of just the SYN samples the RTT (as Linux does).
    s.sndNxt = seqAdd(this.iss, 1 + data.length);
    if (!retransmit) s.sndMax = s.sndNxt;
    if (!retransmit) s.timed = { end: seqAdd(this.iss, 1), at: now };
    if (!retransmit) this.synSentAt = now;
    // After a resend, never past the user timeout (counted from the first SYN).
    this.armTimer(now, "rto", clampToUserTimeout(now + s.rtt.rto, retransmit ? this.synSentAt : undefined, s.userTimeout, now + 1));
  }

  private sendSynAck(now: Millis): void {
    const s = this.sender;
    const retransmit = this.synAckSent;
    this.synAckSent = true;
    const options = this.synAckOptions(now, this.ourMss());
    if (this.passive && this.fastOpen?.synOption !== undefined) options.fastOpen = this.fastOpen.synOption;
    this.emit(now, SYN | ACK | this.ecn.synAckFlags(), this.iss, this.rcvNxt, EMPTY, options, retransmit);
    this.synAckPending = false;
    s.sndNxt = seqAdd(this.iss, 1);
    // In a simultaneous open SND.MAX keeps covering the data our SYN carried (Fast Open): the
    // peer's SYN-ACK may acknowledge it (Linux's SYN-ACK is its SYN skb again; snd_nxt stays).
    const synDataOut = !this.passive && seqGt(s.sndMax, s.sndNxt);
    if ((!retransmit || s.sndMax === this.iss) && !synDataOut) s.sndMax = s.sndNxt;
    if (!retransmit) s.timed = { end: s.sndNxt, at: now };
    this.armTimer(now, "rto", now + s.rtt.rto);
  }

  /**
   * A bare ACK. Its sequence number is SND.MAX, not a SND.NXT rewound by a timeout: the
   * peer has seen everything up to SND.MAX, so anything lower could be out of its window
   * (Linux tcp_acceptable_seq does the same).
   */
  sendAckNow(): void {
    this.emit(this.lastNow, ACK, this.sndMax, this.rcvNxt, EMPTY, undefined, false);
  }

  /** RFC 5961 challenge ACK, rate-limited per connection (Linux tcp_invalid_ratelimit). */
  challengeAck(now: Millis): void {
    if (this.lastChallengeAck !== undefined && now - this.lastChallengeAck < this.config.challengeAckInterval) return;
    this.lastChallengeAck = now;
    this.receiver.ackNow = true;
    if (this.state === "TIME_WAIT") this.sendAckNow();
  }

  /** A segment with no payload that is not part of the data stream (RST, probes). */
  sendControl(flags: number, seq: Seq, ack: Seq, retransmit: boolean): void {
    this.emit(this.lastNow, flags, seq, (flags & ACK) !== 0 ? ack : (0 as Seq), EMPTY, undefined, retransmit);
  }

  burst(open: boolean): void {
    this.ctx.burst(open);
  }

  /** SenderHost: a segment of our stream, with the current ACK and window. */
  emitData(now: Millis, flags: number, seq: Seq, payload: Uint8Array, retransmit: boolean): void {
    this.emit(now, flags, seq, this.rcvNxt, payload, undefined, retransmit);
  }

  private emit(now: Millis, flags: number, seq: Seq, ack: Seq, payload: Uint8Array, options: TcpOptions | undefined, retransmit: boolean): void {
    flags = this.ecn.outgoing(now, flags, payload.length, retransmit); // ECE, CWR and the IP codepoint
    const isSyn = (flags & SYN) !== 0;
    const r = this.receiver;
    const window = (flags & RST) !== 0 ? 0 : isSyn ? r.window.offerUnscaled(r.rcvNxt) : r.window.advertise(r.rcvNxt, this.rcvShift);
    const hasAck = (flags & ACK) !== 0;
    const sack = hasAck && this.sack ? r.sackBlocks(this.maxSackBlocks) : undefined;
    const urgent = isSyn ? undefined : urgentField(this, seq); // every segment in urgent mode, as Linux tcp_transmit_skb
    if (urgent !== undefined) flags |= URG;
    const seg: TcpSegment = {
      srcPort: this.tuple.localPort,
      dstPort: this.tuple.remotePort,
      seq,
      ack: hasAck ? ack : (0 as Seq),
      flags,
      window,
      urgentPointer: urgent ?? 0,
      options: options ?? this.segmentOptions(now, flags, sack) ?? NO_OPTS,
      payload,
    };
    if (hasAck) {
      // Every ACK we send covers what we have received so far.
      r.onAckSent(ack);
      if (this.timers.delayedAck !== Infinity) this.timers.delayedAck = Infinity;
    }
    if (payload.length > 0) r.onDataSent(now);
    this.segmentsOut++;
    if (retransmit) this.retransmits++;
    this.onSend(now, seg, retransmit, this.sndUna);
    this.lastNow = now;
    this.ctx.transmit(this, seg, retransmit, this.ecn.codepoint);
    // Linux __sk_dst_check on transmit: a changed route is noticed here, used from the next burst.
    this.refresh(now);
  }

  /** Payload that fits this segment: SACK blocks, when we have any to send, take room (Linux tcp_current_mss). */
  segmentMss(): number {
    const mss = this.sender.sendMss;
    const count = this.receiver.sackBlockCount;
    if (!this.sack || count === 0) return mss;
    const blocks = Math.min(count, this.maxSackBlocks);
    return Math.max(this.config.minMss, mss - (4 + 8 * blocks));
  }

  /** The MSS we announce: the route's (advmss, else MTU - 40), clamped by TCP_MAXSEG (Linux user_mss) when set. */
  private ourMss(): number {
    return this.announcedMss(this.config.userMss);
  }

  /** SenderHost: out-of-order data is held, so our ACKs carry SACK blocks. */
  get sendingSacks(): boolean {
    return this.sack && this.receiver.sackBlockCount > 0;
  }

  /** Reads the peer's SYN options (S5): MSS here, the rest in Negotiation. */
  negotiate(now: Millis, o: TcpOptions): void {
    this.onPeerSyn(now, o);
    this.sender.sack = this.sack;
    const peerMss = o.mss ?? this.config.defaultMss;
    // Linux rx_opt.mss_clamp: the peer's MSS, no more than TCP_MAXSEG. Timestamps take 12
    // bytes of every segment: payload per segment shrinks by that much.
    const clamp = this.config.userMss > 0 ? Math.min(peerMss, this.config.userMss) : peerMss;
    const mss = this.start(now, clamp, this.perSegmentOptionBytes, this.config.minMss);
    this.sender.setMss(mss, this.initcwnd || this.config.initialCwndSegments);
  }

  // ---------------------------------------------------------------------------------------
  // Bookkeeping

  setState(to: TcpState, cause: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    if (from === "SYN_SENT") this.synSentAt = 0; // read only there: an idle end keeps no holder for it (connection-seldom.ts)
    // Our SYN is acknowledged by now, though a passive end's SND.UNA passes it only when this ACK is processed.
    if (to === "ESTABLISHED" && from !== "FIN_WAIT_1") this.onEstablished(this.lastNow, seqMax(this.sndUna, seqAdd(this.iss, 1)));
    // Linux sets icsk_ack.lrcvtime at birth (tcp_create_openreq_child; a Fast Open child at its SYN) or connect (tcp_finish_connect).
    if (to === "ESTABLISHED" || to === "SYN_RCVD") this.receiver.established(this.lastNow);
    if ((to === "ESTABLISHED" || to === "CLOSE_WAIT") && this.ka?.enabled === true && this.timers.keepalive === Infinity) {
      this.armTimer(this.lastNow, "keepalive", this.lastNow + this.ka.idle);
    }

    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "state", time: this.lastNow, host: this.ctx.hostName, tuple: this.tuple, from, to, cause });
    }
    this.ctx.stateChanged(this, from, to);
    this.wake();
    // A shutdown() during the handshake takes effect once there is a connection to close.
    if (to === "ESTABLISHED" && this.sender.finQueued) {
      this.setState("FIN_WAIT_1", "FIN queued by close() during the handshake");
      this.ctx.touched(this, true);
    }
  }

  /** Ends the connection: CLOSED, timers off, error recorded for the application. */
  terminate(code: TcpErrorCode | undefined, cause: string): void {
    if (code !== undefined && this.error === undefined) {
      this.error = new TcpError(code, messageFor(code, cause));
      if (this.ctx.trace.enabled) {
        this.ctx.trace.emit({ type: "error", time: this.lastNow, host: this.ctx.hostName, tuple: this.tuple, code, message: this.error.message });
      }
    }
    this.clearTimers();
    this.sender.endChrono(this.lastNow);
    if (!this.orphaned) this.sender.zerocopy()?.purged(); // unacknowledged bytes dropped: their writes complete
    this.sender.txTimestamps()?.purged(); // and their stamps will never come
    this.setState("CLOSED", cause);
    this.ctx.touched(this, false);
  }

  /** SenderHost: the application should hear about a change. */
  wake(): void {
    this.pendingWake = true;
    this.ctx.touched(this, false);
  }

  drop(seg: TcpSegment, reason: DropReason, detail: string): void {
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "drop", time: this.lastNow, host: this.ctx.hostName, reason, tuple: this.tuple, segment: seg, detail });
    }
  }

  /** The SACK scoreboard (undefined until the peer sent SACK blocks), read-only for TCP_INFO. */
  get sackScoreboard(): Pick<Scoreboard, "sackedUntil" | "sackedBytes"> | undefined { return this.sender.scoreboard; }

  /** Unanswered zero-window or keep-alive probes (Linux icsk_probes_out). */
  get probesOut(): number { return this.timers.persist !== Infinity ? this.sender.retries : (this.ka?.probes ?? 0); }

  /** The settings and link MTU this connection runs with (read-only, for TCP_INFO). */
  get settings(): { readonly config: Readonly<TcpConfig>; readonly mtu: number } { return { config: this.ctx.config, mtu: this.ctx.mtu }; }

  /** A read-only snapshot for tests, tables and debugging (connection-info.ts). */
  inspect(): ConnectionInfo {
    return connectionInfo(this);
  }
}

const NO_OPTS: TcpOptions = Object.freeze({}) as TcpOptions;
