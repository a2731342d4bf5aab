/**
 * The sending side of a connection: the send sequence variables (RFC 9293 3.3.1),
 * segmentation with Nagle and sender SWS avoidance, the retransmission timer (RFC 6298),
 * zero-window probing, and loss recovery: RACK-TLP (RFC 8985) or duplicate-ACK counting
 * (RFC 5681 / RFC 6675, Linux's tcp_recovery=0), PRR (RFC 9937), D-SACK undo (RFC 3708),
 * and the window reduction for an ECN echo (RFC 3168 6.1.2; the flags are ecn.ts's).
 *
 * The state machine (connection.ts) decides when ACKs are processed and what the state
 * allows; this module decides what to send and when to resend. It reaches the wire and
 * the timers only through `SenderHost`. Four companions act on it with its non-private
 * members: sender-loss.ts (what an ACK says about loss: duplicate-ACK counting or RACK,
 * and the window that follows), sender-tlp.ts (the tail loss probe), sender-frto.ts
 * (F-RTO, RFC 5682) and sender-mtu.ts (path MTU probing, RFC 4821).
 */
import type { Millis } from "../env.js";
import type { FourTuple, LossAction, TraceSink } from "../trace/events.js";
import { ACK, FIN, PSH, SYN, type SackBlock, type TcpSegment } from "../wire/tcp.js";
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMin, toSeqField, type Seq } from "../wire/seq.js";
import type { TcpConfig } from "./config.js";
import { HYSTART_ACK_TRAIN, HYSTART_DELAY } from "./congestion/hystart.js";
import { CongestionControl } from "./congestion/recovery.js";
import { formatMillis } from "../trace/format.js";
import { sendLossProbe } from "./sender-tlp.js";
import { mtuProbeAcked, sendMtuProbe, suspectBlackHole } from "./sender-mtu.js";
import { tsoDefers } from "./sender-defer.js";
import { EVER_RETRANS } from "./loss/sent-log.js";
import type { EcnState } from "./ecn.js";
import type { Negotiation } from "./options.js";
import type { ConnectionPath } from "./path.js";
import { PushMarks } from "./push-marks.js";
import { RecordEnds } from "./record-ends.js";
import { Zerocopy } from "./zerocopy.js";
import { TxTimestamps } from "./tx-timestamps.js";
import { ErrorQueue } from "./error-queue.js";
import { CHRONO_BUSY } from "./chrono.js";
import { chronoAfterAck, chronoAfterPass } from "./send-chrono.js";
import { armPersistIfWaiting, clampToUserTimeout } from "./timeouts.js";
import { newTsoState, tsoPath, type TsoPath } from "./tso-chunks.js";
import type { RttEstimator } from "./rtt.js";
import { isValidSackBlock, Scoreboard, splitDsack } from "./sack.js";
import { EMPTY, emptySendBuffer, isSharedSendBuffer, SendBuffer } from "./send-buffer.js";
import { tunedSendBuffer } from "./send-buffer-tuning.js";
import { sendQueueState, sendQueueWritable, writeAdmits } from "./write-admission.js";
import { SenderParts } from "./sender-parts.js";
import { onDsack } from "./sender-dsack.js";
import { ackChangesNothing, afterAckLoss, detectLoss, onDuplicateAck } from "./sender-loss.js";
import { bbrAfterTransmit, bbrOnSend, pacingHolds, windowAlgorithm, windowPacingOnSend } from "./sender-bbr.js";
import type { TimerSet, TimerSlot } from "./timers.js";

/** What the sender needs from its connection. */
export interface SenderHost {
  readonly trace: TraceSink;
  readonly hostName: string;
  readonly tuple: FourTuple;
  readonly timers: TimerSet;
  /** Segments resent so far (TCP_INFO's tcpi_total_retrans): D-SACK credit stops beyond them. */
  readonly retransmits: number;
  /** How late the driver may call back after a deadline: pacing credits that much lateness. */
  readonly timerSlack: Millis;
  /** The shortest wait the driver's timers can express: a paced segment due within it leaves now. */
  readonly timerGranularity: Millis;
  /** A transmission pass starts or ends: the link may join its segments into one packet (src/ip/gso-batch.ts). */
  burst(open: boolean): void;
  /** Sends a segment of our stream; the connection adds ACK, window and options. */
  emitData(now: Millis, flags: number, seq: Seq, payload: Uint8Array, retransmit: boolean): void;
  armTimer(now: Millis, slot: TimerSlot, at: Millis): void;
  cancelTimer(now: Millis, slot: TimerSlot): void;
  /** Send space opened: the application may write again. */
  wake(): void;
  /** Payload that fits the next segment (the SACK blocks we send take option space). */
  segmentMss(): number;
  /** The path and its MTU search (RFC 4821). */
  readonly path: ConnectionPath;
  /** SACK blocks ride on the ACKs we send (out-of-order data held). */
  readonly sendingSacks: boolean;
  /** Window scaling and timestamps as agreed: the scale of the peer's window, echoed timestamps. */
  readonly negotiation: Negotiation;
  /** When the current zero-window episode's first probe went out; 0 before it (timeouts.ts). */
  persistSince: Millis;
  /** ECN as agreed in the handshake: whether an ACK's ECE counts, and where CWR is owed. */
  readonly ecn: EcnState;
}

/** Sender.flags bits. */
const FIN_QUEUED = 1 << 0;
const NO_DELAY = 1 << 1;
const CORKED = 1 << 2;
const PUSH_ONCE = 1 << 3;
const MORE_COMING = 1 << 4;
const SACK = 1 << 5;
const RETRANSMITTING = 1 << 6;
const FORCE_ONE = 1 << 7;
const WINDOW_PROBE = 1 << 8;
const PROBING = 1 << 9;
const NO_SPACE = 1 << 10;
const HEAD_PROBE = 1 << 11;

/** The pacer, sent-segment log, RACK, TLP, F-RTO and TSO cursor come from SenderParts, made on first use. */
export class Sender extends SenderParts {
  // The sequence variables are kept as int32s (toSeqField in wire/seq.ts: no heap number per
  // field, half the sequence space being above 2^31) and read back as Seqs through the
  // accessors, which spell out `>>> 0` and `| 0` rather than call the helpers: these run
  // for every segment, and until V8 has optimized their callers each call counts.
  private iss32 = 0;
  private una32 = 0;
  private nxt32 = 0;
  private max32 = 0;
  private wl1 = 0;
  private wl2 = 0;
  private bufSeq32 = 0;
  private sml32 = 0;
  get iss(): Seq { return (this.iss32 >>> 0) as Seq; }
  get sndUna(): Seq { return (this.una32 >>> 0) as Seq; }
  set sndUna(s: Seq) { this.una32 = s | 0; }
  get sndNxt(): Seq { return (this.nxt32 >>> 0) as Seq; }
  set sndNxt(s: Seq) { this.nxt32 = s | 0; }
  /** Highest sequence number sent so far (SND.NXT can be rewound by a timeout). */
  get sndMax(): Seq { return (this.max32 >>> 0) as Seq; }
  set sndMax(s: Seq) { this.max32 = s | 0; }
  private get sndWl1(): Seq { return (this.wl1 >>> 0) as Seq; }
  private set sndWl1(s: Seq) { this.wl1 = s | 0; }
  private get sndWl2(): Seq { return (this.wl2 >>> 0) as Seq; }
  private set sndWl2(s: Seq) { this.wl2 = s | 0; }
  /** Sequence number of sendBuffer's first byte. */
  get sndBufSeq(): Seq { return (this.bufSeq32 >>> 0) as Seq; }
  set sndBufSeq(s: Seq) { this.bufSeq32 = s | 0; }
  /** End of the last short (sub-MSS) segment sent: Minshall's Nagle check (Linux snd_sml). */
  private get sndSml(): Seq { return (this.sml32 >>> 0) as Seq; }
  private set sndSml(s: Seq) { this.sml32 = s | 0; }
  sndWnd = 0;
  maxSndWnd = 0;
  /** Where segments get PSH: the end of each write, as Linux (push-marks.ts). */
  private pushMarks: PushMarks | undefined; // made by the first write: an idle connection has no push points
  /** Scratch for tsoPath, made by the first segment sent (an idle connection has none). */
  private tsoState: TsoPath | undefined;
  /** What the peer reported holding beyond SND.UNA (SACK); created by the first SACK blocks. */
  scoreboard: Scoreboard | undefined;
  /** When data last left (Linux lsndtime): the restart after idle, and TSO deferral (sender-defer.ts). */
  lastSendAt: Millis | undefined;
  /** Without SACK, each duplicate ACK stands for one segment the receiver holds (Linux tcp_add_reno_sack). */
  renoSacked = 0;
  // sendMss, the largest payload we put in one segment, is the congestion control's field (its windows count in it).
  /** Consecutive expiries of the current timer (RTO or persist). */
  retries = 0;
  /** Payload bytes the peer has acknowledged. */
  bytesAcked = 0;
  // TCP_USER_TIMEOUT and TCP_NOTSENT_LOWAT as set on this socket are SenderParts' (sender-parts.ts).

  /** What the application queued: until its first write, a shared empty buffer of the settings' size (send-buffer.ts emptySendBuffer). */
  get sendBuffer(): SendBuffer { return this.sendBuf; }
  private sendBuf: SendBuffer;
  /** The send buffer to write to: the connection's own, made (empty, of the same size) if it still had the shared one. */
  ownSendBuffer(): SendBuffer {
    const b = this.sendBuf;
    return b.active || !isSharedSendBuffer(b) ? b : (this.sendBuf = new SendBuffer(b.capacity));
  }
  /** The RTO estimator (rtt.ts): the bottom of this class's chain, no object of its own. */
  get rtt(): RttEstimator<TcpConfig> { return this; }
  /** The congestion control (congestion/recovery.ts): a layer of this class's chain, no object of its own. */
  get congestion(): CongestionControl { return this; }
  // BBR's model and the time of the ACK being processed are SenderParts' (sender-parts.ts).
  /** The sent-segment log's DeliveryListener: a segment an ACK delivered (RFC 8985 6.2 steps 2-3). */
  delivered(start: Seq, end: Seq, sentAt: Millis, flags: number): void {
    const at = this.noteDelivered(start, sentAt, flags); // the marks, in SenderParts: one call, not one per mark
    this.rack.onDelivered(at, end, sentAt, flags, this.minRtt);
    this.model?.rate.onDelivered(at, end, sentAt, seqDiff(end, start), (flags & EVER_RETRANS) !== 0);
  }

  // Eleven yes/no states in one small integer (Linux keeps such flags in bitfields too, e.g.
  // tp->nonagle): one field instead of eleven, 72 B less per connection (bench/heap.js).
  private flags = 0;
  private setFlag(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }
  /** Our FIN is queued behind the data (no write may follow it). */
  get finQueued(): boolean { return (this.flags & FIN_QUEUED) !== 0; }
  set finQueued(on: boolean) { this.setFlag(FIN_QUEUED, on); }
  /** TCP_NODELAY: Nagle's algorithm is off (Linux TCP_NAGLE_OFF). */
  get noDelay(): boolean { return (this.flags & NO_DELAY) !== 0; }
  set noDelay(on: boolean) { this.setFlag(NO_DELAY, on); }
  /** TCP_CORK: a partial segment waits until uncorked (Linux TCP_NAGLE_CORK). */
  get corked(): boolean { return (this.flags & CORKED) !== 0; }
  set corked(on: boolean) { this.setFlag(CORKED, on); }
  /** Send what is held once, whatever cork and Nagle say (Linux TCP_NAGLE_PUSH, set by TCP_NODELAY). */
  get pushOnce(): boolean { return (this.flags & PUSH_ONCE) !== 0; }
  set pushOnce(on: boolean) { this.setFlag(PUSH_ONCE, on); }
  /** The last write came with MSG_MORE: its partial tail waits for the next write. */
  private get moreComing(): boolean { return (this.flags & MORE_COMING) !== 0; }
  private set moreComing(on: boolean) { this.setFlag(MORE_COMING, on); }
  /** SACK was negotiated. */
  get sack(): boolean { return (this.flags & SACK) !== 0; }
  set sack(on: boolean) { this.setFlag(SACK, on); }
  /**
   * The receiver SACKed the byte at SND.UNA yet still has not acknowledged it: it reneged
   * (RFC 2018 section 8: a SACK is advisory) or never held it. The ACK path gives it a short
   * grace (sender-loss.ts), the timeout then forgets every SACK (onRetransmitTimeout).
   */
  get unaSacked(): boolean {
    return this.scoreboard?.sackedUntil(this.sndUna) !== undefined;
  }
  /** A timeout is resending: segments go out whatever Nagle and SWS avoidance say. */
  get retransmitting(): boolean { return (this.flags & RETRANSMITTING) !== 0; }
  set retransmitting(on: boolean) { this.setFlag(RETRANSMITTING, on); }
  /** Send one segment of new data whatever cwnd says (a tail loss probe, Linux push_one == 2). */
  get forceOne(): boolean { return (this.flags & FORCE_ONE) !== 0; }
  set forceOne(on: boolean) { this.setFlag(FORCE_ONE, on); }
  /** A timeout with the peer's window closed on data in flight: its resend of SND.UNA's segment is the window probe (timeouts.ts). */
  get headProbe(): boolean { return (this.flags & HEAD_PROBE) !== 0; }
  set headProbe(on: boolean) { this.setFlag(HEAD_PROBE, on); }
  /** The persist timer fired with the window open: send what fits, with PSH. */
  get windowProbe(): boolean { return (this.flags & WINDOW_PROBE) !== 0; }
  set windowProbe(on: boolean) { this.setFlag(WINDOW_PROBE, on); }
  /** A probe is being sent: the timer is set once it has gone. */
  get probing(): boolean { return (this.flags & PROBING) !== 0; }
  /**
   * A writer left bytes the send buffer did not take and waits to be woken (Linux
   * SOCK_NOSPACE): ACKs grow the buffer for it and wake it once there is room (write-space.ts).
   */
  get noSpace(): boolean { return (this.flags & NO_SPACE) !== 0; }
  set noSpace(on: boolean) { this.setFlag(NO_SPACE, on); }
  set probing(on: boolean) { this.setFlag(PROBING, on); }

  /** The one segment being timed for an RTT sample (Karn: never a retransmitted one). */
  timed: { end: Seq; at: Millis } | undefined;
  constructor(readonly host: SenderHost, config: TcpConfig, iss: Seq) {
    const { algorithm, model } = windowAlgorithm(config, iss);
    super(algorithm, config.defaultMss, config.initialCwndSegments, config);
    this.iss32 = this.una32 = this.nxt32 = this.max32 = this.sml32 = toSeqField(iss);
    this.bufSeq32 = toSeqField(seqAdd(iss, 1));
    this.noDelay = config.noDelay;
    this.sendBuf = emptySendBuffer(config.sendBufferSize);
    if (model !== undefined) this.adoptModel(model);
  }

  // ---------------------------------------------------------------------------------------
  // The application's bytes

  /** Queues bytes at `now`; returns how many fit. `more` is MSG_MORE: the application has more to write at once; `eor` MSG_EOR. */
  queue(now: Millis, data: Uint8Array, more = false, eor = false): number {
    const queuedEnd = seqAdd(this.sndBufSeq, this.sendBuf.length);
    const q = sendQueueState(this);
    const { bytes: n, gridStart } = writeAdmits(data.length, q);
    if (n > 0) this.ownSendBuffer().append(n === data.length ? data : data.subarray(0, n));
    if (n < data.length) {
      this.chrono.writeBlocked = true;
      this.noSpace = true;
    }
    if (n > 0) {
      if (this.sndNxt === queuedEnd) this.chrono.start(now, CHRONO_BUSY); // nothing was unsent
      (this.pushMarks ??= new PushMarks(seqAdd(this.iss, 1))).wrote(queuedEnd, seqAdd(queuedEnd, n), seqAdd(this.sndNxt, gridStart), q.sizeGoal, this.maxSndWnd, more);
      this.moreComing = more;
      if (eor && n === data.length) (this.pushMarks.records ??= new RecordEnds()).add(seqAdd(queuedEnd, n)); // Linux: once the last byte is in
    }
    return n;
  }

  /** The not-sent limit in force (notsent-lowat.ts; Linux tcp_notsent_lowat()). */
  get notsentLowat(): number {
    return this.notsentLowatOwn || this.config.notsentLowat;
  }

  /** Bytes queued and not sent yet (Linux write_seq - snd_nxt). */
  unsentBytes(): number {
    return Math.max(0, seqDiff(seqAdd(this.sndBufSeq, this.sendBuf.length), this.sndNxt));
  }

  /** Bytes from `from` to the end of its MSG_EOR record (record-ends.ts): the most a segment starting there may carry. */
  recordLeft(from: Seq): number {
    return this.pushMarks?.records?.left(from) ?? Infinity;
  }

  /** MSG_ZEROCOPY's ids and completions (zerocopy.ts), with the other write boundaries; `make` creates them (SO_ZEROCOPY set). */
  zerocopy(make = false): Zerocopy | undefined {
    if (!make) return this.pushMarks?.zerocopy;
    const m = (this.pushMarks ??= new PushMarks(seqAdd(this.iss, 1)));
    return (m.zerocopy ??= new Zerocopy((m.errors ??= new ErrorQueue())));
  }

  /** SO_TIMESTAMPING's marks (tx-timestamps.ts), sharing the error queue with zerocopy; `make` creates them. */
  txTimestamps(make = false): TxTimestamps | undefined {
    if (!make) return this.pushMarks?.timestamps;
    const m = (this.pushMarks ??= new PushMarks(seqAdd(this.iss, 1)));
    return (m.timestamps ??= new TxTimestamps((m.errors ??= new ErrorQueue())));
  }

  /** The socket's error queue (error-queue.ts), once zerocopy or timestamping made it. */
  errorQueue(): ErrorQueue | undefined {
    return this.pushMarks?.errors;
  }

  /** Sets the MSS from the handshake (S5) and restarts the initial window with it. */
  setMss(mss: number, initialCwndSegments = this.config.initialCwndSegments): void {
    this.sendMss = mss;
    this.setWindowMss(mss, initialCwndSegments);
  }

  /** Our FIN has been sent and acknowledged. */
  finAcked(): boolean {
    return this.finQueued && seqGt(this.sndUna, this.finSeq());
  }

  /** Sequence number our FIN occupies (valid once a FIN is queued: no data follows it). */
  finSeq(): Seq {
    return seqAdd(this.sndBufSeq, this.sendBuf.length);
  }

  flightSize(): number {
    return seqDiff(this.sndMax, this.sndUna);
  }

  /**
   * Bytes in the network (RFC 6675 "pipe", Linux tcp_packets_in_flight): sent up to SND.NXT,
   * less what the receiver holds (SACKed, or one segment per duplicate ACK without SACK)
   * and what was declared lost and not yet resent.
   */
  pipe(): number {
    // Our SYN's sequence number is not data in flight: a Fast Open server sends data before
    // its SYN-ACK is acknowledged, and Linux's child socket counts only that data (the
    // SYN-ACK is the request socket's), so all of cwnd is for data.
    const flight = seqDiff(this.sndNxt, this.sndUna) - (this.una32 === this.iss32 ? 1 : 0);
    if (this.scoreboard === undefined) return Math.max(0, flight - this.renoSacked - this.lostBytes);
    return Math.max(0, flight - this.scoreboard.sackedBelow(this.sndNxt) - this.lostBytes);
  }

  /** RACK and TLP run when SACK is on and the settings allow (Linux tcp_recovery, tcp_early_retrans). */
  get rackOn(): boolean {
    return this.sack && this.config.rack;
  }

  // ---------------------------------------------------------------------------------------
  // ACK processing (RFC 9293 3.10.7.4 "fifth", after the connection's validity checks)

  /**
   * The sender's part of an acceptable ACK: SACK and D-SACK, cumulative acknowledgement,
   * duplicate ACKs, loss detection and the window reduction, and the timer that watches
   * what is still in flight.
   */
  onAck(now: Millis, seg: TcpSegment): void {
    const ack = seg.ack;
    // MSG_MORE corks only the write's own push; ACK-driven sends follow TCP_NODELAY and Nagle (Linux tp->nonagle).
    this.moreComing = false;
    const neg = this.host.negotiation;
    const oldWindow = this.sndWnd;
    const window = seg.window << neg.sndShift;
    if (ackChangesNothing(this, seg, window)) return this.updateWindow(seg, false, neg.sndShift); // sender-loss.ts
    // The peer answers our zero-window probes: it is alive, however long its window stays
    // closed (RFC 1122 4.2.2.17; Linux resets icsk_probes_out on every ACK).
    if (this.host.timers.persist !== Infinity) this.retries = 0;
    const priorUna = this.sndUna;
    let delivered = 0;
    let newlySacked = false;
    let dsack: SackBlock | undefined;
    let sackedSentAt: Millis | undefined; // the oldest segment this ACK newly SACKs (Linux first_sackt)
    const priorFack = this.rackPart?.fack;
    this.beginAckMarks(now);
    this.model?.rate.beginAck();
    if (this.sack && seg.options.sackBlocks !== undefined) {
      const split = splitDsack(seg.options.sackBlocks, ack);
      dsack = split.dsack;
      this.scoreboard ??= new Scoreboard();
      const before = this.scoreboard.sackedBytes;
      const whole: SackBlock[] = [];
      for (const b of split.blocks) {
        if (!isValidSackBlock(b, ack, this.sndMax)) continue;
        const w = this.log.wholeRecords(b.left, b.right);
        if (w === undefined) continue;
        whole.push(w);
        // Only what the scoreboard does not hold yet can be newly SACKed: the walk stays off
        // the records earlier ACKs SACKed (most of a large window, in a recovery).
        for (const part of this.scoreboard.uncovered(w.left, w.right)) {
          const sentAt = this.log.sackRttStart(part.left, part.right);
          if (sentAt !== undefined && !(sentAt >= (sackedSentAt ?? Infinity))) sackedSentAt = sentAt;
          this.log.onSack(part.left, part.right, this);
        }
      }
      this.scoreboard.update(whole, this.sndUna, this.sndMax);
      delivered += this.scoreboard.sackedBytes - before;
      newlySacked = this.scoreboard.sackedBytes > before;
    }
    // Linux times every ACK by its own clock (tcp_ack_update_rtt): the oldest segment the
    // cumulative ACK newly delivers, else the oldest one newly SACKed, and only then the
    // echoed timestamp. RFC 7323 4.1 prefers the echo; Linux does not trust it first, as
    // middleboxes and peers may corrupt TSecr.
    const cumulativeSentAt = seqGt(ack, this.sndUna) ? this.logPart?.cumulativeRttStart(ack) : undefined;
    const measured = cumulativeSentAt !== undefined ? now - cumulativeSentAt : sackedSentAt !== undefined ? now - sackedSentAt : undefined;
    if (seqGt(ack, this.sndUna)) {
      this.logPart?.onAck(ack, this);
      // Without a sample by our clock (Karn's rule: the ACK covers resent data), the echoed
      // timestamp times it (RFC 7323 4.1; Linux tcp_ack_update_rtt uses TSecr then, for
      // ACKs that advance SND.UNA): the echo is the resent segment's own TSval (4.3).
      const rttSample = measured ?? neg.rttFromEcho(now, seg);
      delivered += this.ackNewData(now, ack, rttSample);
    } else {
      // An ACK that only SACKs times the estimator too (Linux tcp_ack_update_rtt with sack_rtt_us).
      if (measured !== undefined) this.sample(measured, this.sndUna, this.sndNxt);
      if (seg.payload.length === 0 && (seg.flags & (SYN | FIN)) === 0 && ack === this.sndUna && this.sndMax !== this.sndUna) {
        // RFC 5681: same window. With SACK, any ACK reporting new SACKed data counts
        // (RFC 6675): Linux grows its window with every out-of-order segment it queues.
        if (window === oldWindow || newlySacked) delivered += onDuplicateAck(this, now);
      }
    }
    if (this.lowDelivered !== undefined) this.rack.onReordering(this.lowDelivered, priorFack, this.sendMss);
    this.updateWindow(seg, false, neg.sndShift);
    if (dsack !== undefined) delivered += onDsack(this, now, dsack);
    afterAckLoss(this, now, seg, priorUna, delivered, newlySacked, dsack, window !== oldWindow);
    // Linux tcp_new_space, for a writer that waits (SOCK_NOSPACE): tcp_sndbuf_expand.
    if (this.noSpace && !this.sendBuf.locked) this.ownSendBuffer().capacity = tunedSendBuffer(this.sendBuf.capacity, this.config.sendBufferMax, this.cwnd, this.pipe(), this.sendMss, this.model !== undefined ? 3 : 2);
  }

  /** SND.UNA advanced to `ack`: free acknowledged bytes, sample RTT, grow the window. Returns newly delivered bytes. */
  private ackNewData(now: Millis, ack: Seq, rttSample: Millis | undefined): number {
    let acked = seqDiff(ack, this.sndUna);
    const synAcked = this.sndUna === this.iss;
    if (synAcked) acked--; // our SYN
    const dataAcked = Math.min(Math.max(acked, 0), this.sendBuf.length);
    this.sendBuf.consume(dataAcked);
    this.pushMarks?.acked(seqAdd(this.sndBufSeq, dataAcked), now);
    this.sndBufSeq = seqAdd(this.sndBufSeq, dataAcked);
    this.bytesAcked += dataAcked;
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    if (this.chronoPart !== undefined) chronoAfterAck(this, this.chronoPart, now);
    // Bytes the peer had already SACKed were counted as delivered then: window growth
    // counts only what this ACK newly delivers (Linux tcp_ack's acked_sacked).
    const alreadySacked = this.scoreboard?.sackedBelow(ack) ?? Math.min(this.renoSacked, Math.max(acked, 0));
    this.renoSacked = Math.max(0, this.renoSacked - Math.max(acked, 0));
    this.scoreboard?.prune(ack);
    this.retries = 0;
    const timedRtt = this.timed !== undefined && seqGe(ack, this.timed.end) ? now - this.timed.at : undefined;
    const sample = rttSample ?? timedRtt;
    if (sample !== undefined) this.sample(sample, this.sndUna, this.sndNxt);
    // Congestion control gets the newest delivered segment's RTT by our clock on every ACK
    // (Linux ca_rtt_us): an echo is of the oldest acknowledged segment (stretch ACKs would
    // look like a queue), and without timestamps one timed segment a round is too few.
    const caSample = this.newestDeliveredAt !== undefined ? now - this.newestDeliveredAt : sample;
    // Not the ACK of our SYN: Linux sets its congestion control up only once the handshake is
    // done (tcp_finish_connect, and tcp_rcv_state_process in SYN-RECV, call tcp_init_transfer
    // after tcp_ack; cubictcp_init then zeroes delay_min), so HyStart's minimum comes from
    // data. A lone SYN is never queued behind a burst, and a minimum below what any data
    // segment can see ends slow start at the first round whose early ACKs queue at all.
    if (caSample !== undefined && !synAcked) {
      const hystart = this.onRttSample(now, caSample, ack, this.sndNxt);
      if (hystart === HYSTART_DELAY) this.traceCwnd(now, `HyStart: RTT ${formatMillis(caSample)} ms rose above the minimum ${formatMillis(this.hystartMinRtt ?? this.minRtt)} ms, slow start ends`);
      if (hystart === HYSTART_ACK_TRAIN) this.traceCwnd(now, `HyStart: this round's ACKs came close together for over half the minimum RTT (${formatMillis(this.minRtt)} ms): the window fills the path, slow start ends`);
    }
    if (sample !== undefined) {
      if (timedRtt !== undefined) this.timed = undefined;
      if (this.host.trace.enabled) {
        this.host.trace.emit({
          type: "rtt", time: now, host: this.host.hostName, tuple: this.host.tuple,
          sample, srtt: this.srtt ?? 0, rttvar: this.rttvar, rto: this.rto,
        });
      }
    } else {
      this.resetBackoff();
    }
    this.onNewAck();
    const prober = this.host.path.prober;
    if (prober.probeMtu !== 0 && seqGe(ack, prober.probeEnd)) mtuProbeAcked(this, now);
    return Math.max(acked - alreadySacked, 0);
  }

  /** A new segment size; windows keep their segment counts (Linux counts them in packets). */
  resize(mss: number): void {
    if (mss === this.sendMss) return;
    this.rescale(this.sendMss, mss);
    this.sendMss = mss;
  }

  /** Undo a reduction shown spurious: the window comes back, and nothing counts as lost any more. */
  undoSpurious(now: Millis, why: string): void {
    this.frto.stop();
    this.frtoResume = undefined;
    const wasLoss = this.state === "loss";
    this.undo();
    this.log.clearLost();
    this.rack.onRecoveryExit();
    if (wasLoss) this.sndNxt = this.sndMax; // stop going back N: the rest was never lost
    this.traceLoss(now, "undo", `spurious: ${why}; the reduction is undone`);
    this.traceCwnd(now, "undo");
  }

  /** The reordering timer fired (RFC 8985 6.3, Linux tcp_rack_reo_timeout). */
  onReorderTimeout(now: Millis): void {
    detectLoss(this, now, true);
    this.armRtoOrProbe(now, false);
  }

  /** A loss episode begins: D-SACK undo measures from here, and the tail loss probe starts over. */
  startEpisode(): void {
    this.undoMarker = this.sndUna;
    this.tlpPart?.reset();
  }

  /** RFC 9293 3.10.7.4 "fifth": window update when the segment is newer than the last one used. */
  updateWindow(seg: TcpSegment, isSyn: boolean, sndShift: number): void {
    if (isSyn || seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, seg.ack))) {
      // RFC 7323 2.2: the window field of a SYN is never scaled.
      this.sndWnd = isSyn ? seg.window : seg.window << sndShift;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      if (this.sndWnd > this.maxSndWnd) this.maxSndWnd = this.sndWnd;
      if (this.sndWnd > 0 && this.host.timers.persist !== Infinity) {
        this.host.timers.persist = Infinity;
        this.retries = 0;
      }
    }
  }

  /** Our SYN was acknowledged (SYN_SENT -> ESTABLISHED, or a simultaneous open). */
  synAcked(now: Millis, ack: Seq, echoedRtt?: Millis): void {
    this.ackNewData(now, ack, echoedRtt);
    this.host.cancelTimer(now, "rto");
  }

  /** A cookie ACK completed a handshake for which no state was kept. */
  resumeAfterCookie(): void {
    this.sndUna = this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
  }

  // ---------------------------------------------------------------------------------------
  // Timers

  /**
   * What watches the flight after an ACK or a transmission: a tail loss probe when RACK-TLP
   * may probe (RFC 8985 7.2; Linux tcp_schedule_loss_probe: SACK, not in recovery, data
   * out), otherwise the RTO. `restart` rearms an RTO that is already running.
   */
  armRtoOrProbe(now: Millis, restart: boolean): void {
    if (this.sndUna === this.sndMax) return;
    // Linux tcp_rto_delta_us: when not restarted, the RTO runs from the oldest segment's send time.
    let rtoAt = restart || this.log.size === 0 ? now + this.rto : Math.max(now, this.log.sentAt(0) + this.rto);
    // Linux tcp_clamp_rto_to_user_timeout: never wait past the user timeout.
    rtoAt = clampToUserTimeout(rtoAt, this.retransStamp, this.userTimeout, now);
    const mayProbe = this.rackOn && this.config.tlp && this.tlpPart?.highSeq === undefined && (this.state === "open" || this.state === "disorder" || this.state === "cwr") && this.sndNxt === this.sndMax;
    if (mayProbe) {
      const segmentsOut = Math.max(1, this.log.size);
      const pto = this.tlp.timeout(this.srtt, segmentsOut, this.config.minRto, this.config.initialRto, rtoAt - now);
      this.host.cancelTimer(now, "rto");
      this.host.armTimer(now, "tlp", now + pto);
      return;
    }
    this.host.cancelTimer(now, "tlp");
    if (restart || this.host.timers.rto === Infinity) this.host.armTimer(now, "rto", rtoAt);
  }

  /**
   * The probe timeout (RFC 8985 7.3, Linux tcp_send_loss_probe): new data if the window
   * allows, else the last segment again; then the RTO watches.
   */
  onProbeTimeout(now: Millis): void {
    sendLossProbe(this, now);
  }

  /** RFC 6298 5.4 - 5.6 for data: back off, collapse the window, resend from SND.UNA. */
  onRetransmitTimeout(now: Millis): void {
    const prober = this.host.path.prober;
    this.frto.onTimeout(this.config.frto, prober.probeMtu !== 0);
    this.frtoResume = undefined;
    if (prober.probeMtu !== 0 && seqLe(this.sndUna, prober.probeStart)) prober.failed(now);
    suspectBlackHole(this, now);
    this.backOff();
    this.timed = undefined; // Karn's rule
    if (this.state !== "loss") this.startEpisode();
    this.onTimeout(now, this.sndMax, this.flightSize());
    this.tlp.reset();
    this.log.clearLost();
    // Reneged: every SACK is forgotten and the data resent from SND.UNA, as Linux does
    // (tcp_timeout_mark_lost, is_reneg). Trusted, the mark let go-back-N skip that byte and send
    // nothing, which left data outstanding with no timer at all, the connection hung for good.
    if (this.unaSacked) {
      this.scoreboard!.clear();
      this.log.clearSacked();
    }
    this.renoSacked = 0;
    this.highRxt = this.sndUna;
    this.host.cancelTimer(now, "reorder");
    this.traceCwnd(now, "retransmission timeout");
    this.sndNxt = this.sndUna; // go back N: resend from the first unacknowledged byte
  }

  // ---------------------------------------------------------------------------------------
  // Output

  /** Sends what recovery, the windows, Nagle and SWS avoidance allow. Returns whether anything went. */
  transmit(now: Millis): boolean {
    this.host.burst(true);
    const sent = this.transmitPass(now);
    this.host.burst(false);
    return sent;
  }

  private transmitPass(now: Millis): boolean {
    let sent = false;
    // Linux tcp_current_mss: the route changed since the MSS was computed.
    if (this.host.path.stale) this.resize(this.host.path.syncMss(this.config.minMss));
    this.restartAfterIdle(now);
    if (this.rackOn && this.state !== "loss" && this.lostBytes > 0) sent = this.retransmitLost(now);
    this.chunksPart?.startPass();
    let sentNew = sendMtuProbe(this, now);
    if (sentNew) sent = true;
    for (;;) {
      const n = this.sendNextSegment(now);
      if (n === 0) break;
      sent = sentNew = true;
    }
    // Linux tcp_write_xmit ends with tcp_schedule_loss_probe: new data moves the probe.
    if (sentNew) this.armRtoOrProbe(now, false);
    this.pushOnce = false;
    if (this.model !== undefined) bbrAfterTransmit(this, this.model);
    if (sent) {
      const flight = this.flightSize();
      const unsent = this.sendBuf.length - seqDiff(this.sndNxt, this.sndBufSeq);
      this.validate(this.sndUna, this.sndNxt, flight, unsent > 0 && flight + this.host.segmentMss() > this.cwnd);
    } else {
      armPersistIfWaiting(this, now);
    }
    if (this.chronoPart !== undefined) chronoAfterPass(this, this.chronoPart, now, sent);
    // Linux tcp_data_snd_check: tcp_check_space once what an ACK allowed was sent, so the
    // not-sent bytes are counted after it left; the writer hears only of room worth a write.
    if (this.noSpace && sendQueueWritable(this)) {
      this.noSpace = false;
      this.host.wake();
    }
    return sent;
  }

  /**
   * RFC 6675 NextSeg rule 1 with RACK's marks (Linux tcp_xmit_retransmit_queue): lost
   * segments first, as cwnd allows. Linux resends a lost skb of several segments as one
   * TSO/GSO packet with the skb's flags: PSH, which every multi-segment packet carried on
   * its last segment (tso-chunks.ts), stays at the skb's end. Here a run of two or more
   * contiguous lost segments resent back to back, up to the end of the lost range, is such
   * a packet and its last segment gets PSH (the corpus's TFO recovery script; Linux 6.18
   * does the same over TUN). A run cut short by cwnd is the front of a split skb, which
   * tcp_fragment leaves without PSH (the corpus's prr-ss scripts); a lone segment gets none.
   */
  private retransmitLost(now: Millis): boolean {
    let sent = false;
    let run = 0;
    let i = this.log.nextLost(this.sndUna);
    while (i >= 0 && this.pipe() < this.cwnd && !pacingHolds(this, now)) {
      const start = this.log.start(i);
      const recordEnd = this.log.end(i);
      const end = seqMin(recordEnd, seqAdd(start, this.host.segmentMss()));
      // Looked up past this whole record, which resending any of it marks resent.
      const next = this.log.nextLost(recordEnd);
      const contiguous = end === recordEnd && next >= 0 && this.log.start(next) === end;
      run++;
      this.retransmitRange(now, start, end, run >= 2 && !contiguous);
      if (!contiguous) run = 0;
      sent = true;
      i = this.log.nextLost(end);
    }
    return sent;
  }

  /** Sends one segment of new (or, after a timeout, resent) data and/or FIN. Returns its length. */
  sendNextSegment(now: Millis): number {
    // Resending after a timeout: skip what the receiver reported holding (SACK).
    if (seqLt(this.sndNxt, this.sndMax)) {
      const sackedEnd = this.scoreboard?.sackedUntil(this.sndNxt);
      if (sackedEnd !== undefined) this.sndNxt = seqMin(sackedEnd, this.sndMax);
    }
    const offset = seqDiff(this.sndNxt, this.sndBufSeq);
    const pending = this.sendBuf.length - Math.max(offset, 0);
    const flight = seqDiff(this.sndNxt, this.sndUna);
    // Into a closed window a timeout resends an MSS at SND.UNA: the probe (timeouts.ts headProbe).
    const windowLeft = flight === 0 && this.headProbe && this.sndWnd <= 0 ? this.host.segmentMss() : this.sndWnd - flight;
    // Without SACK, each duplicate ACK says a segment left the network: Limited Transmit
    // (RFC 3042) follows from counting them out of the pipe, as Linux does.
    const cwndLeft = this.forceOne ? this.host.segmentMss() : this.cwnd - this.pipe();
    const mss = this.host.segmentMss();
    const toRecordEnd = this.recordLeft(this.sndNxt);
    let len = Math.max(0, Math.min(pending, mss, windowLeft, cwndLeft, toRecordEnd));
    const hole = seqLt(this.sndNxt, this.sndMax) ? this.scoreboard?.nextHole(this.sndNxt) : undefined;
    if (hole !== undefined && hole.start === this.sndNxt) len = Math.min(len, seqDiff(hole.end, hole.start));
    const finNow = this.finQueued && offset + len === this.sendBuf.length && seqLe(this.sndNxt, this.finSeq()) && offset >= 0;
    if (len === 0 && !finNow) return 0;
    // Data sent before goes again whatever Nagle and SWS avoidance say: they govern new data only.
    const resending = this.retransmitting || seqLt(this.sndNxt, this.sndMax);
    if (len < mss && !finNow && !resending && !this.forceOne && !this.windowProbe) {
      if (len === toRecordEnd && len < pending) {
        // A record's short end with data behind it: Linux's Nagle and cork hold only the queue's last skb (tcp_write_xmit).
      } else if (len < pending) {
        // Window-limited (RFC 9293 3.8.6.2.1, sender SWS avoidance): a runt goes out only if it is
        // a large share of the largest window offered, or on the persist timer (windowProbe).
        if (!(this.maxSndWnd > 0 && len >= this.maxSndWnd / 2)) return 0;
      } else if (this.pushOnce) {
        // TCP_NODELAY was just set: what was held goes now (Linux TCP_NAGLE_PUSH).
      } else if (this.corked || this.moreComing) {
        // TCP_CORK or MSG_MORE: only full segments leave (Linux tcp_nagle_check with TCP_NAGLE_CORK).
        return 0;
      } else if (!this.noDelay && seqGt(this.sndSml, this.sndUna) && seqLe(this.sndSml, this.sndNxt)) {
        // Nagle (RFC 1122 4.2.3.4) in Minshall's form, as Linux: the tail of a write waits
        // only while an earlier short segment is unacknowledged, so a full segment in
        // flight plus the peer's delayed ACK cannot stall the tail for 40 ms.
        return 0;
      }
    }
    // A window with room for a sliver of a TSO packet waits for the ACK due soon (Linux tcp_tso_should_defer).
    if (len === mss && !resending && !this.forceOne && !this.windowProbe && this.chunks.startsChunk && tsoDefers(this, now, mss, pending, toRecordEnd)) return 0;
    // Released at the pacing deadline (pacing.ts); not what a retransmission timeout resends,
    // which Linux sends at once (tcp_retransmit_timer calls tcp_retransmit_skb, no pacing check).
    if (!this.retransmitting && pacingHolds(this, now)) return 0;
    const used = this.emitData(now, this.sndNxt, len, finNow, this.windowProbe || this.chunkEnds(len, mss, pending, cwndLeft, windowLeft, len === toRecordEnd));
    // Linux updates snd_sml for new data only (tcp_minshall_update in tcp_write_xmit), never
    // for a retransmission: a resent short segment (Fast Open's SYN data) holds no tail back.
    if (len < mss && !resending) this.sndSml = seqAdd(this.sndNxt, used);
    this.sndNxt = seqAdd(this.sndNxt, used);
    return used;
  }

  /** Whether this new segment ends a multi-segment TSO/GSO packet (none spans a `recordEnd`), so carries PSH (tso-chunks.ts). */
  private chunkEnds(len: number, mss: number, pending: number, cwndLeft: number, windowLeft: number, recordEnd: boolean): boolean {
    const rest = recordEnd ? 0 : Math.min(pending - len, mss);
    const fresh = !this.reducing && len === mss && !seqLt(this.sndNxt, this.sndMax);
    const moreNow = rest > 0 && cwndLeft - len >= rest && windowLeft - len >= rest;
    return this.chunks.withoutQuota(fresh, moreNow) ?? this.chunks.segment(tsoPath(this.congestion, this.rtt, mss, this.config.minTsoSegments, (this.tsoState ??= newTsoState())), this.pipe(), fresh, moreNow);
  }

  /** Emits bytes [from, from + len) of the stream, with our FIN if `fin`; returns the sequence space used. */
  emitData(now: Millis, from: Seq, len: number, fin: boolean, push = false): number {
    const offset = seqDiff(from, this.sndBufSeq);
    const payload = len > 0 ? this.sendBuf.peek(offset, len) : EMPTY;
    let flags = ACK;
    if (len > 0 && (push || this.pushMarks?.covers(from, seqAdd(from, len)) === true)) flags |= PSH;
    if (fin) flags |= FIN;
    const retransmit = seqLt(from, this.sndMax);
    if (retransmit) this.rackPart?.onResend(now, this.sndMax);
    if (retransmit && this.retransStamp === undefined) {
      this.retransStamp = now;
      this.firstRetransmittedAt = this.log.size > 0 ? this.log.sentAt(0) : now;
    }
    this.host.emitData(now, flags, from, payload, retransmit);
    if (len > 0) this.pushMarks?.timestamps?.transmitted(from, seqAdd(from, len), now); // SCHED and SND stamps (tx-timestamps.ts)
    const used = len + (fin ? 1 : 0);
    const end = seqAdd(from, used);
    if (this.model !== undefined) bbrOnSend(this, this.model, now, end, used, this.sndUna === this.sndMax);
    else if (this.config.pacing) windowPacingOnSend(this, now, used);
    // Linux tcp_event_data_sent: data leaving with nothing in flight tells the congestion
    // control how long the sender sat idle (CA_EVENT_TX_START), before lsndtime moves.
    if (len > 0 && this.lastSendAt !== undefined && this.pipe() === 0) this.congestion.onTransmitStart(now, now - this.lastSendAt);
    this.lastSendAt = now;
    this.log.onSend(from, end, now);
    this.onSent(used);
    if (retransmit) this.onRetransmit();
    if (!retransmit && this.timed === undefined) this.timed = { end, at: now };
    if (seqGt(end, this.sndMax)) this.sndMax = end;
    const t = this.host.timers;
    if (t.rto === Infinity && t.tlp === Infinity && !this.probing) this.armRtoOrProbe(now, true);
    if (this.host.timers.persist !== Infinity) this.host.timers.persist = Infinity; // (armRtoOrProbe may have replaced the set)
    return used;
  }

  /**
   * Congestion window restart after idle (RFC 5681 4.1; Linux tcp_slow_start_after_idle):
   * nothing in flight for more than an RTO, so the window no longer reflects the path.
   */
  private restartAfterIdle(now: Millis): void {
    if (!this.config.slowStartAfterIdle || this.sndUna !== this.sndMax || this.lastSendAt === undefined) return;
    const idle = now - this.lastSendAt;
    if (idle <= this.rto) return;
    if (seqDiff(this.sndNxt, this.sndBufSeq) >= this.sendBuf.length && !this.finQueued) return; // nothing to send
    this.restartWindowAfterIdle(idle, this.rto, this.config.initialCwndSegments);
    this.lastSendAt = now;
    this.traceCwnd(now, `restart after ${formatMillis(idle)} ms idle`);
  }

  /** Resends [start, end) (one segment at most), whatever cwnd says; `push` sets PSH on it. */
  retransmitRange(now: Millis, start: Seq, end: Seq, push = false): void {
    const offset = seqDiff(start, this.sndBufSeq);
    if (offset < 0) return;
    const len = Math.max(0, Math.min(seqDiff(end, start), this.sendBuf.length - offset, this.recordLeft(start))); // Linux tcp_can_collapse: not past an eor skb
    const fin = this.finQueued && offset + len === this.sendBuf.length && seqLt(this.finSeq(), this.sndMax) && seqGt(end, this.finSeq());
    if (len === 0 && !fin) return;
    this.timed = undefined; // Karn: this range is now ambiguous
    if (start === this.sndUna) {
      // Resending the head restarts the RTO in place of a probe (Linux tcp_xmit_retransmit_queue).
      this.host.cancelTimer(now, "tlp");
      this.host.armTimer(now, "rto", now + this.rto);
    }
    const used = this.emitData(now, start, len, fin, push);
    const stop = seqAdd(start, used);
    if (seqGt(stop, this.highRxt)) this.highRxt = stop;
  }

  // ---------------------------------------------------------------------------------------
  // Trace

  traceCwnd(now: Millis, cause: string): void {
    const t = this.host.trace;
    if (t.enabled) t.emit({ type: "cwnd", time: now, host: this.host.hostName, tuple: this.host.tuple, cwnd: this.cwnd, ssthresh: this.ssthresh, cause });
  }

  traceLoss(now: Millis, action: LossAction, detail: string): void {
    const t = this.host.trace;
    if (t.enabled) t.emit({ type: "loss", time: now, host: this.host.hostName, tuple: this.host.tuple, action, detail });
  }
}
