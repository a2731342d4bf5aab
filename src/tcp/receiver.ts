/**
 * The receiving side of a connection: the receive sequence variables, reassembly into the
 * receive buffer (RFC 9293 3.10.7.4 "seventh"), when to acknowledge (RFC 9293 3.8.6.3,
 * RFC 5681 4.2, with Linux's quick-ACK start), the window we offer, and the SACK and D-SACK
 * blocks our ACKs carry (RFC 2018, RFC 2883).
 *
 * It decides; the connection sends. `ackNow` asks for an immediate ACK and `delayAck()`'s
 * answer for the delayed-ACK timer.
 */
import type { Millis } from "../env.js";
import type { SackBlock } from "../wire/tcp.js";
import { seqAdd, seqDiff, seqLe, seqLt, seqMax, seqMin, toSeqField, type Seq } from "../wire/seq.js";
import type { TcpConfig } from "./config.js";
import { emptyReceiveBuffer, type InsertResult } from "./receive-buffer.js";
import { ReceiveSpace } from "./receive-space.js";
import { ReceiveWindow, type WindowSettings } from "./receive-window.js";

/** Linux TCP_MAX_QUICKACKS. */
const MAX_QUICKACKS = 16;
/** In-order segments shorter than this do not grow the window (Linux tcp_event_data_recv: skb->len >= 128). */
const GROW_MIN_SEGMENT = 128;
/** Linux TCP_ATO_MIN (HZ/25): the delayed-ACK estimator's floor and starting value. */
const ATO_MIN = 40;

/** A receiver's shared part: its connection's settings and the MSS it announces (receive-window.ts). */
interface ReceiverSettings extends WindowSettings {
  readonly config: TcpConfig;
}

/** One ReceiverSettings per settings object and MSS (a layer has one or two MSSs: IPv4 and IPv6 links). */
const interned = new WeakMap<TcpConfig, ReceiverSettings[]>();
function receiverSettings(config: TcpConfig, ourMss: number): ReceiverSettings {
  let list = interned.get(config);
  if (list === undefined) interned.set(config, (list = []));
  for (const s of list) if (s.ourMss === ourMss) return s;
  const made: ReceiverSettings = { config, ourMss };
  list.push(made);
  return made;
}

/** Linux ICSK_ACK_PUSHED and ICSK_ACK_PUSHED2: one short segment arrived since the last ACK, or more. */
const PUSHED = 1;
const PUSHED2 = 2;
/** Interactive mode (`pingpong`), a bit of the same number. */
const PINGPONG = 4;
/** icsk_ack.last_seg_size is kept above the three bits. */
const SIZE_SHIFT = 3;
/** The TCP header without options, counted into segment sizes as Linux's tcp_measure_rcv_mss counts it. */
const TCP_MIN_HEADER = 20;
/** Linux TCP_MSS_DEFAULT (536) and TCP_MIN_MSS (88), each plus a TCP header. */
const MSS_DEFAULT_TOTAL = 536 + TCP_MIN_HEADER;
const MIN_MSS_TOTAL = 88 + TCP_MIN_HEADER;

export class Receiver extends ReceiveWindow<ReceiverSettings> {
  // Sequence numbers kept as int32s, read back as Seqs (toSeqField in wire/seq.ts: no heap
  // number per field); the accessors spell the conversions out, as Sender's do.
  private irs32 = 0;
  private rcvNxt32 = 0;
  private lastAckSent32 = 0;
  get irs(): Seq { return (this.irs32 >>> 0) as Seq; }
  get rcvNxt(): Seq { return (this.rcvNxt32 >>> 0) as Seq; }
  set rcvNxt(s: Seq) { this.rcvNxt32 = s | 0; }
  /** RCV.NXT as carried by the last ACK we sent (RFC 7323 Last.ACK.sent). */
  get lastAckSent(): Seq { return (this.lastAckSent32 >>> 0) as Seq; }
  /** The peer's FIN has been received and every byte before it delivered to the buffer. */
  peerFinished = false;
  // `buffer`, the receive buffer, is ReceiveWindow's field.
  /** The window we offer (acceptability, advertisement, updates): the bottom of this class's chain (receive-window.ts), no object of its own. */
  get window(): ReceiveWindow { return this; }
  /** Receive buffer autotuning's state (receive-space.ts), made by the first data it measures: an idle connection has none. */
  private spacePart: ReceiveSpace | undefined;
  /** An ACK must go out at the next flush. */
  ackNow = false;
  /** In-order bytes received since our last ACK. */
  private unackedBytes = 0;
  /** ACKs still to send at once before delayed ACKs start (Linux quick-ACK mode). */
  private quickAcks: number;
  /** Start of the out-of-order segment that arrived last: its SACK block goes first (RFC 2018 4). */
  private lastOutOfOrder: Seq | undefined;
  /** A duplicate segment to report in the next ACK's first SACK block (RFC 2883). */
  private dsack: SackBlock | undefined;
  bytesReceived = 0;
  /**
   * Linux's interactive ("pingpong") mode: we sent data soon after the peer's data arrived,
   * so the ACK of the peer's next data waits (delayed, not quick) to ride on our reply
   * (inet_csk_in_pingpong_mode with tcp_pingpong_thresh 1).
   */
  private get pingpong(): boolean { return (this.ackBits & PINGPONG) !== 0; }
  private set pingpong(on: boolean) { this.ackBits = on ? this.ackBits | PINGPONG : this.ackBits & ~PINGPONG; }
  /** Linux icsk_ack.ato: the delayed-ACK estimator, 0 until the first data arrives. */
  private ato = 0;
  /** Linux icsk_ack.lrcvtime: when data last arrived (or the connection was established). */
  /**
   * Linux icsk_ack's ACK-timing state in one number: the interactive mode above, and
   * last_seg_size with the ICSK_ACK_PUSHED / PUSHED2 bits (a short segment arrived,
   * tcp_measure_rcv_mss, so an application that then empties the buffer gets the delayed ACK
   * sent at once, `ackAfterRead`): size << SIZE_SHIFT | bits.
   */
  private ackBits = 0;
  private lastReceived!: Millis; // tagged, set in the constructor: it shares the event's time, no box of its own (timers.ts)

  /** The connection's settings, read through the shared part (no field of their own). */
  private get config(): TcpConfig {
    return this.settings.config;
  }

  constructor(config: TcpConfig, mtuPayload: number) {
    super(emptyReceiveBuffer(config.receiveBufferSize, config.maxOutOfOrderSegments), receiverSettings(config, mtuPayload));
    this.quickAcks = config.quickAcks;
    this.lastReceived = 0;
  }

  /** Receive buffer autotuning (receive-space.ts); undefined when the size is fixed. */
  get space(): ReceiveSpace | undefined {
    return this.spacePart ?? this.makeSpace(); // small, so V8 inlines it: the making is a call of its own
  }
  private makeSpace(): ReceiveSpace | undefined {
    return this.config.receiveBufferMax > this.config.receiveBufferSize ? (this.spacePart = new ReceiveSpace()) : undefined;
  }

  /** Autotuning's state if anything was measured yet (for TCP_INFO: a fresh one reads all zeros). */
  get spaceMeasured(): ReceiveSpace | undefined {
    return this.spacePart;
  }

  /** Sequence number of the next byte the application reads (Linux copied_seq). */
  get readSeq(): Seq {
    return seqAdd(this.rcvNxt, -(this.buf.readable + (this.peerFinished ? 1 : 0)));
  }

  /** The peer's SYN arrived: its sequence space starts here. */
  onSyn(seq: Seq): void {
    this.irs32 = toSeqField(seq);
    this.rcvNxt = seqAdd(seq, 1);
  }

  /**
   * Stores in-window payload starting at `seq` (already trimmed to the window). Returns how
   * it was stored; whether to ACK now or start the delayed-ACK timer is set here. `now`
   * (the arrival time) and the RTO feed the ACK estimator; a Fast Open SYN's data, which
   * Linux queues without tcp_event_data_recv (tcp_fastopen_add_skb), comes without them.
   */
  insert(seq: Seq, data: Uint8Array, mtuPayload: number, now?: Millis, rto: Millis = Infinity, sack = false, remnant = true): InsertResult {
    const hadGap = this.buf.outOfOrderRanges > 0;
    // Part of it was received before: report that part (RFC 2883 section 4.1.1), or the
    // part that overlaps out-of-order data already held (4.1.2; Linux tcp_data_queue_ofo).
    if (seqLt(seq, this.rcvNxt)) this.noteDuplicate(seq, this.rcvNxt);
    else if (this.buf.outOfOrderRanges > 0) this.noteHeldOverlap(seq, seqAdd(seq, data.length));
    const readableBefore = this.buf.readable;
    const result = this.ownBuffer().insert(this.rcvNxt, seq, data);
    this.notePayload(data.length, mtuPayload);
    // Linux tcp_grow_window, from tcp_event_data_recv and tcp_data_queue_ofo. Not for a Fast
    // Open SYN's data (no `now`: tcp_fastopen_add_skb skips it), and out of order only with
    // SACK: without it the duplicate ACKs must keep one window to count as duplicates
    // (RFC 5681 2; Linux "tcp: grow window for OOO packets only for SACK flows"). In order,
    // only for segments of 128 bytes or more, as tcp_event_data_recv; and a window that grew
    // asks for one quick ACK (tcp_grow_window: icsk_ack.quick |= 1), so while the window
    // still opens every segment is ACKed at once, not every second one: the sender learns of
    // the room as it appears. (An out-of-order segment is ACKed at once anyway.)
    if (now !== undefined) {
      if (result === "in-order" && data.length >= GROW_MIN_SEGMENT) {
        if (this.grow(data.length)) this.quickAcks |= 1;
      } else if (result === "out-of-order" && sack) this.grow(data.length);
    }
    switch (result) {
      case "in-order": {
        // RCV.NXT moves over everything that became readable (receive-buffer.ts insert).
        const advanced = this.buf.readable - readableBefore;
        this.rcvNxt = seqAdd(this.rcvNxt, advanced);
        this.bytesReceived += advanced;
        this.unackedBytes += advanced;
        if (now !== undefined) this.onDataReceived(now, rto);
        this.measureSegment(data.length, remnant);
        // RFC 5681 4.2: ACK at once when a gap fills, and at least every second full segment.
        // Linux (__tcp_ack_snd_check) ACKs as soon as more than one full segment is
        // unacknowledged, so a full segment and a short one (the end of a write) are ACKed at
        // once, not after the delayed-ACK timer; synack does the same. Quick ACKs only outside
        // interactive mode (Linux tcp_in_quickack_mode).
        const quick = this.quickAcks > 0 && !this.pingpong;
        if (hadGap || quick || this.unackedBytes > this.peerMss) {
          if (this.quickAcks > 0) this.quickAcks--;
          this.ackNow = true;
        }
        break;
      }
      case "out-of-order":
        this.lastOutOfOrder = seq;
        this.ackNow = true; // a duplicate ACK tells the sender about the gap (RFC 5681 4.2)
        break;
      case "duplicate":
        this.noteDuplicate(seq, seqAdd(seq, data.length));
        this.ackNow = true;
        break;
      case "ooo-limit":
        this.ackNow = true;
        break;
    }
    return result;
  }

  /**
   * Linux tcp_measure_rcv_mss for in-order data of `len` bytes (`remnant`: it carries PSH,
   * FIN, URG or SYN). A segment shorter than a full one marks the ACK "pushed" unless it is
   * the second of a run of equal short ones, which Linux takes for the peer's segment size.
   */
  private measureSegment(len: number, remnant: boolean): void {
    const previous = this.ackBits >>> SIZE_SHIFT;
    let bits = this.ackBits & (PUSHED | PUSHED2 | PINGPONG);
    let last = 0;
    if (len < this.fullSegment) {
      const total = len + TCP_MIN_HEADER;
      // Long enough to be an MSS free of SACK jitter, or short only for a link's low MTU.
      if (total >= MSS_DEFAULT_TOTAL || (total >= MIN_MSS_TOTAL && !remnant)) last = len;
      if (last === 0 || len !== previous) bits = (bits & PUSHED ? bits | PUSHED2 : bits) | PUSHED;
    }
    this.ackBits = (last << SIZE_SHIFT) | bits;
  }

  /**
   * Linux tcp_cleanup_rbuf: the application read `copied` bytes; whether the delayed ACK
   * should leave now. It does when more than a full segment waits for it, or when this read
   * emptied the buffer after a short (pushed) segment, outside interactive mode: the sender
   * may be holding its next small segment for this very ACK (Nagle), so waiting the delayed-ACK
   * time would stall both sides.
   */
  ackAfterRead(copied: number): boolean {
    if (this.unackedBytes === 0 || this.ackNow) return false;
    if (seqDiff(this.rcvNxt, this.lastAckSent) > this.fullSegment) return true;
    const bits = this.ackBits;
    return copied > 0 && ((bits & PUSHED2) !== 0 || ((bits & PUSHED) !== 0 && !this.pingpong)) && this.buf.readable === 0;
  }

  /** The application read `data` at `now`: the buffer may grow (receive-space.ts). Returns `data`. */
  afterRead(data: Uint8Array, now: Millis): Uint8Array {
    if (data.length > 0 && this.space !== undefined) {
      this.ownBuffer().capacity = this.space.afterRead(now, this.readSeq, this.buf.capacity, this.config.receiveBufferMax, this.fullSegment);
    }
    return data;
  }

  /**
   * The next `count` data segments are ACKed at once, leaving interactive mode (Linux
   * tcp_enter_quickack_mode: tcp_incr_quickack, inet_csk_exit_pingpong_mode, ato = TCP_ATO_MIN).
   */
  quickAck(count: number): void {
    this.quickAcks = Math.max(this.quickAcks, Math.min(count, MAX_QUICKACKS));
    this.pingpong = false;
    this.ato = ATO_MIN;
  }

  /** The connection reached ESTABLISHED at `now` (Linux tcp_finish_connect / tcp_create_openreq_child set lrcvtime). */
  established(now: Millis): void {
    this.lastReceived = now;
  }

  /**
   * In-order data arrived: Linux tcp_event_data_recv's estimate of the peer's sending
   * interval (icsk_ack.ato), capped by the RTO. After a silence longer than the RTO the
   * sender is taken to restart its window, and the next segments are quick-ACKed again
   * ("Too long gap": tcp_incr_quickack, which leaves interactive mode and ato as they are).
   */
  private onDataReceived(now: Millis, rto: Millis): void {
    if (this.ato === 0) {
      this.ato = ATO_MIN; // the first data: synack starts with config.quickAcks quick ACKs already
    } else {
      const gap = now - this.lastReceived;
      if (gap <= ATO_MIN / 2) this.ato = Math.floor(this.ato / 2) + ATO_MIN / 2;
      else if (gap < this.ato) this.ato = Math.min(Math.floor(this.ato / 2) + gap, rto);
      else if (gap > rto) this.quickAcks = Math.max(this.quickAcks, this.quickAckAllowance());
    }
    this.lastReceived = now;
  }

  /** Linux tcp_incr_quickack's count: half the window offered in full segments, 2 when that is none, 16 at most. */
  private quickAckAllowance(): number {
    const half = Math.floor(this.size(this.rcvNxt) / (2 * this.fullSegment));
    return Math.min(half === 0 ? 2 : half, MAX_QUICKACKS);
  }

  /**
   * We sent data at `now`: a reply within `ato` of the peer's data makes the connection
   * interactive (Linux tcp_event_data_sent -> inet_csk_inc_pingpong_cnt).
   */
  onDataSent(now: Millis): void {
    if (now - this.lastReceived < this.ato) this.pingpong = true;
  }

  /**
   * The delayed-ACK timer fired with an ACK owed: in interactive mode the reply it waited
   * for did not come, so leave it (Linux tcp_delack_timer_handler: exit pingpong, ato = TCP_ATO_MIN).
   */
  onDelayedAckTimeout(): void {
    if (this.pingpong) {
      this.pingpong = false;
      this.ato = ATO_MIN;
    }
  }

  /** Interactive mode (for inspection and tests). */
  get interactive(): boolean {
    return this.pingpong;
  }

  /** In-order data is waiting for an ACK that is not due yet: the delayed-ACK timer should run. */
  get wantsDelayedAck(): boolean {
    return !this.ackNow && this.unackedBytes > 0;
  }

  /**
   * A segment wholly below RCV.NXT (a retransmission of data we have): ACK it at once with
   * a D-SACK block, and leave delayed ACKs for a while, as Linux's tcp_send_dupack does
   * (the sender is evidently missing our ACKs).
   */
  onOldSegment(seq: Seq, end: Seq): void {
    this.noteDuplicate(seq, seqLe(end, this.rcvNxt) ? end : this.rcvNxt);
    // Linux tcp_enter_quickack_mode(sk, TCP_MAX_QUICKACKS), by way of tcp_incr_quickack.
    this.quickAck(this.quickAckAllowance());
    this.ackNow = true;
  }

  /** D-SACK for the first held out-of-order block [left, right) overlaps, the overlap only (blocks are in order). */
  private noteHeldOverlap(left: Seq, right: Seq): void {
    for (const b of this.buf.heldBlocks) {
      if (!seqLt(b.left, right)) return;
      if (seqLt(left, b.right)) return this.noteDuplicate(seqMax(left, b.left), seqMin(right, b.right));
    }
  }

  private noteDuplicate(left: Seq, right: Seq): void {
    if (this.config.dsack && seqLt(left, right)) this.dsack = { left, right };
  }

  /** The FIN's sequence number was reached: it takes one. */
  consumeFin(): void {
    this.rcvNxt = seqAdd(this.rcvNxt, 1);
    this.peerFinished = true;
    this.ackNow = true;
  }

  /** An ACK carrying RCV.NXT went out: everything received so far is acknowledged. */
  onAckSent(ack: Seq): void {
    this.lastAckSent32 = toSeqField(ack);
    this.ackNow = false;
    this.unackedBytes = 0;
    this.dsack = undefined;
    this.ackBits &= ~(PUSHED | PUSHED2); // Linux: icsk_ack.pending cleared with the ACK
  }

  /** SACK blocks for an ACK (RFC 2018 4): a D-SACK block first (RFC 2883), then the newest range, then the others. */
  sackBlocks(maxBlocks: number): SackBlock[] | undefined {
    const dsack = this.dsack;
    if (this.buf.outOfOrderRanges === 0) return dsack === undefined ? undefined : [dsack];
    // Only the blocks the option carries are copied, not every block held (a recovery may
    // hold hundreds): the one with the newest segment, then those below it nearest first,
    // then the highest ones (RFC 2018 section 4).
    const held = this.buf.heldBlocks;
    const newest = this.lastOutOfOrder;
    const first = newest === undefined ? -1 : held.findIndex((b) => seqLe(b.left, newest) && seqLt(newest, b.right));
    const out: SackBlock[] = dsack !== undefined && maxBlocks > 0 ? [dsack] : [];
    if (first >= 0 && out.length < maxBlocks) out.push(copyBlock(held[first]!));
    for (let k = first - 1; k >= 0 && out.length < maxBlocks; k--) out.push(copyBlock(held[k]!));
    for (let k = held.length - 1; k > first && out.length < maxBlocks; k--) out.push(copyBlock(held[k]!));
    return out;
  }

  /** SACK blocks the next ACK will carry (for the option space they take). */
  get sackBlockCount(): number {
    return this.buf.outOfOrderBlockCount + (this.dsack !== undefined ? 1 : 0);
  }

  /** Time the delayed-ACK timer should fire for data received at `now`. */
  delayedAckAt(now: Millis): Millis {
    return now + this.config.delayedAckTimeout;
  }
}

function copyBlock(b: Readonly<SackBlock>): SackBlock {
  return { left: b.left, right: b.right };
}
