/**
 * The receive window we offer the peer (RFC 9293 3.8.6): what it may send, which
 * segments are acceptable, and when a larger window is worth announcing.
 *
 * The right edge we advertised never moves left (3.8.6), and it only moves right by
 * useful amounts (receiver-side SWS avoidance, 3.8.6.2.2). RCV.NXT, the left edge, is the
 * connection's; it is passed in.
 */
import { seqAdd, seqDiff, seqGe, seqInWindow, seqLt, type Seq } from "../wire/seq.js";
import { isSharedReceiveBuffer, ReceiveBuffer } from "./receive-buffer.js";

/** The window field of a SYN is never scaled (RFC 7323 2.2): it says at most 65535. */
const UNSCALED_MAX = 65535;
/** rcv_ssthresh before our SYN or SYN-ACK set it: no limit (an integer, so V8 keeps it unboxed). */
const NO_LIMIT = 0x7fffffff;

/**
 * What a window needs that many connections share: the MSS we announced, used until the peer
 * has sent a segment. One object for every connection of the same settings and link
 * (Receiver interns them, receiver.ts), never written: a pointer to it is a field less than
 * the MSS and the settings each (8 B per connection).
 */
export interface WindowSettings {
  readonly ourMss: number;
}

/**
 * Also the bottom of Receiver's class chain (receiver.ts): a connection's window lives in
 * its Receiver object, `receiver.window` being the receiver itself, and shares its `buffer`;
 * an object of its own cost 40 B per connection (header, pointer, a second reference to the
 * buffer). Standalone instances (tests) work the same.
 */
export class ReceiveWindow<S extends WindowSettings = WindowSettings> {
  /** Right edge of the window we last advertised (an int32: toSeqField in wire/seq.ts). */
  private right32 = 0;
  private get right(): Seq { return (this.right32 >>> 0) as Seq; }
  private set right(s: Seq) { this.right32 = s | 0; }
  /** Size of the window last advertised, from the RCV.NXT it was sent at (Linux tp->rcv_wnd). */
  offered = 0;
  /** Largest payload seen from the peer: its idea of a full-sized segment. */
  peerMss = 0;
  /**
   * Linux's rcv_ssthresh: the window offered grows from the SYN's toward the free buffer as
   * data arrives (tcp_grow_window), so a new connection offers about 64 KiB, not its whole
   * buffer. Set by the SYN or SYN-ACK we send.
   */
  ssthresh = NO_LIMIT;

  /** The receive buffer: for a receiver, a shared empty one until it stores anything (receive-buffer.ts emptyReceiveBuffer). */
  get buffer(): ReceiveBuffer {
    return this.buf;
  }
  protected buf: ReceiveBuffer;
  /** The receive buffer to write to: the connection's own, made (empty, of the same size) if it still had a shared one. */
  ownBuffer(): ReceiveBuffer {
    const b = this.buf;
    // A buffer holding data is the connection's own: no lookup for every segment of a transfer.
    return b.active || !isSharedReceiveBuffer(b) ? b : (this.buf = new ReceiveBuffer(b.capacity, b.maxRanges));
  }

  constructor(
    buffer: ReceiveBuffer,
    /** The MSS we announced (and, for a Receiver, its settings); shared, never written. */
    protected readonly settings: S,
  ) {
    this.buf = buffer;
  }

  /** The window promised: from `rcvNxt` to the advertised right edge. */
  size(rcvNxt: Seq): number {
    return Math.max(0, seqDiff(this.right, rcvNxt));
  }

  /** Bytes from `seq` to the advertised right edge: data beyond it is trimmed. */
  roomFrom(seq: Seq): number {
    return seqDiff(this.right, seq);
  }

  /**
   * RFC 9293 segment acceptability test (3.10.7.4 "first", the four cases), against the
   * window we advertised. SYN-bearing segments are checked from their first byte.
   */
  acceptable(rcvNxt: Seq, seq: Seq, segLen: number): boolean {
    const wnd = this.size(rcvNxt);
    // A segment without data at exactly RCV.NXT + RCV.WND: RFC 9293's test rejects it,
    // Linux's tcp_sequence() accepts it (!after(seq, rcv_nxt + window)). We follow Linux:
    // a peer whose whole window was lost sends its ACKs there, and rejecting them left a
    // SYN_RCVD end unable to complete the handshake and an established one deaf to ACKs.
    if (segLen === 0) return wnd === 0 ? seq === rcvNxt : seqInWindow(seq, rcvNxt, wnd + 1);
    if (wnd === 0) return false;
    return seqInWindow(seq, rcvNxt, wnd) || seqInWindow(seqAdd(seq, segLen - 1), rcvNxt, wnd);
  }

  /** The window offered in a SYN or SYN-ACK (unscaled), starting at `rcvNxt`. */
  offerUnscaled(rcvNxt: Seq): number {
    const w = Math.min(this.buf.free, UNSCALED_MAX);
    this.right = seqAdd(rcvNxt, w);
    this.offered = w;
    if (this.ssthresh === NO_LIMIT) this.ssthresh = w; // Linux: rcv_ssthresh = rcv_wnd at the SYN (tcp_connect_init, tcp_create_openreq_child)
    return w;
  }

  /**
   * Data of `length` bytes arrived (in order or not): Linux tcp_grow_window raises
   * rcv_ssthresh by max(2 * advmss, 2 * length), up to the free buffer. Linux's check
   * of the skb's truesize against its length is left out: synack's buffer counts payload only.
   * Returns whether the window grew (Linux then asks for a quick ACK: receiver.ts).
   */
  grow(length: number): boolean {
    const room = this.buf.free - this.ssthresh;
    if (room <= 0) return false;
    this.ssthresh += Math.min(room, 2 * Math.max(this.settings.ourMss, length));
    return true;
  }

  /** The window field for a non-SYN segment with our scale `shift`; moves the right edge. */
  advertise(rcvNxt: Seq, shift: number): number {
    const granule = 1 << shift;
    // Linux __tcp_select_window: with less than half the buffer free the free space is
    // rounded down to the scale's granule (the window must not grow by the rounding); with
    // half or more, up (ALIGN), so that scaling does not take the window away. Rounded down
    // there too, a buffer smaller than the granule would offer a zero window for ever.
    const bufFree = this.buf.free;
    const free = 2 * bufFree < this.buf.capacity ? Math.floor(bufFree / granule) * granule : Math.ceil(bufFree / granule) * granule;
    // At most rcv_ssthresh, rounded up to the granule as well, within the free space.
    const limit = this.ssthresh < free ? Math.min(Math.ceil(this.ssthresh / granule) * granule, free) : free;
    let right = seqAdd(rcvNxt, limit);
    if (seqLt(right, this.right) || seqDiff(right, this.right) < this.swsThreshold()) {
      right = seqGe(this.right, rcvNxt) ? this.right : rcvNxt;
    }
    // A kept edge need not sit on the granule: round up, never down, so the window offered
    // does not shrink (Linux tcp_select_window: ALIGN(cur_win, 1 << rcv_wscale)).
    const field = Math.min(Math.ceil(seqDiff(right, rcvNxt) / granule), 0xffff);
    this.right = seqAdd(rcvNxt, field << shift);
    this.offered = field << shift;
    return field;
  }

  /** Remembers the size of a segment the peer sent (capped at what fits our link). */
  notePayload(length: number, cap: number): void {
    if (length > this.peerMss) this.peerMss = Math.min(length, cap);
  }

  /** A full-sized segment from the peer, as far as we know. */
  get fullSegment(): number {
    return this.peerMss > 0 ? this.peerMss : this.settings.ourMss;
  }

  /**
   * After the application read: is the larger window worth an update of its own? As
   * Linux tcp_cleanup_rbuf(): only when the window still offered is at most half the
   * largest this connection can offer (its clamp: the buffer, or 65535 << shift), and
   * the new one at least doubles it and holds a full segment. Without the first test, a
   * connection without window scaling would announce every read as an update.
   */
  updateWorthSending(rcvNxt: Seq, shift: number): boolean {
    const current = this.size(rcvNxt);
    const clamp = Math.min(this.buf.capacity, UNSCALED_MAX * (1 << shift)); // shift <= 14 (RFC 7323 2.3)
    if (2 * current > clamp) return false;
    const offer = Math.min(this.buf.free, clamp, this.ssthresh); // Linux: __tcp_select_window's offer, rcv_ssthresh included
    return offer >= this.fullSegment && offer >= 2 * current;
  }

  /** RFC 9293 3.8.6.2.2: move the edge by at least min(buffer / 2, one full segment). */
  private swsThreshold(): number {
    return Math.min(this.buf.capacity / 2, this.fullSegment);
  }
}
