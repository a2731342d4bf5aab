/**
 * TCP urgent data: the urgent pointer on the segments we send, and the out-of-band byte
 * on the ones we receive.
 *
 * Read first: RFC 9293 section 3.8.5 (the urgent mechanism) and 3.10.7.4 "sixth, check the
 * URG bit"; RFC 6093 (what implementations really do, and that new applications should not
 * use it). Like Linux, and as RFC 6093 section 4 documents of every implementation:
 * - the urgent pointer points to the byte *after* the last urgent byte (RFC 9293 says "the
 *   sequence number of the last urgent octet" plus one, which is the same thing);
 * - only the last urgent byte is "out of band": unless SO_OOBINLINE is set, that one byte
 *   is taken out of the stream and can be read only with recv(MSG_OOB) (RFC 6093 section 3.4);
 * - a later urgent pointer replaces an unread earlier one; the earlier byte is then
 *   ordinary data again (Linux tcp_check_urg).
 *
 * Sending follows Linux tcp_mark_urg and tcp_transmit_skb: SND.UP is the end of the MSG_OOB
 * write; every segment that starts before SND.UP carries URG until SND.UNA passes it.
 * Receiving follows tcp_check_urg, tcp_urg, tcp_recvmsg (reads stop at the mark) and
 * tcp_recv_urg (the errors recv(MSG_OOB) returns).
 */
import { seqAdd, seqDiff, seqGt, seqLt, type Seq } from "../wire/seq.js";

/** The urgent pointer field is 16 bits (RFC 9293 3.1). */
const MAX_POINTER = 0xffff;

/** The sending side's SND.UP (Linux tp->snd_up). */
export class UrgentSender {
  private up: Seq | undefined;

  /** A MSG_OOB write ended at `writeSeq`: its last byte is the urgent one (Linux tcp_mark_urg). */
  mark(writeSeq: Seq): void {
    this.up = writeSeq;
  }

  /** SND.UP while urgent mode lasts (it ends when SND.UNA reaches SND.UP), else undefined. */
  pointer(sndUna: Seq): Seq | undefined {
    return this.up !== undefined && seqLt(sndUna, this.up) ? this.up : undefined;
  }

  /**
   * The urgent pointer of a segment starting at `seq`, or undefined when it carries no URG
   * (Linux tcp_transmit_skb). A pointer more than 64K ahead cannot be written: the segment
   * then says 0xFFFF, "urgent data is further on", as long as that does not point into data
   * already sent (`sndNxt`, before this segment advances it).
   */
  field(seq: Seq, sndUna: Seq, sndNxt: Seq): number | undefined {
    const up = this.pointer(sndUna);
    if (up === undefined || !seqLt(seq, up)) return undefined;
    const distance = seqDiff(up, seq);
    if (distance <= MAX_POINTER) return distance;
    return seqGt(seqAdd(seq, MAX_POINTER), sndNxt) ? MAX_POINTER : undefined;
  }
}

/** Why recv(MSG_OOB) returned no byte: the errno Linux tcp_recv_urg gives. */
export type OobError = "EINVAL" | "EAGAIN";

/** What recv(MSG_OOB) got: the byte, or an errno, or `eof` (0 returned: the peer finished first). */
export type OobResult = { byte: number } | { error: OobError } | { eof: true };

type MarkState =
  /** No urgent pointer we still care about (Linux urg_data == 0). */
  | "none"
  /** A mark was announced but its byte has not arrived (TCP_URG_NOTYET). */
  | "pending"
  /** The byte arrived and may be read with MSG_OOB (TCP_URG_VALID). */
  | "valid"
  /** The byte was read with MSG_OOB; reads still stop at the mark (TCP_URG_READ). */
  | "read";

/** The receiving side's urgent mark (Linux tp->urg_seq and tp->urg_data). */
export class UrgentReceiver {
  /** SO_OOBINLINE: the urgent byte stays in the stream (and recv(MSG_OOB) fails with EINVAL). */
  inline: boolean;
  private state: MarkState = "none";
  /** Sequence number of the urgent byte: the pointer minus one (RFC 6093 section 2). */
  private markSeq: Seq = 0 as Seq;
  private byte = 0;

  constructor(inline = false) {
    this.inline = inline;
  }

  /** The urgent byte's sequence number while a mark is set. */
  get mark(): Seq | undefined {
    return this.state === "none" ? undefined : this.markSeq;
  }

  /** The urgent byte's value, once it arrived (for narration and notifications). */
  get peek(): number {
    return this.byte;
  }

  /** Urgent bytes that arrived so far: API layers compare it to tell the application once per byte. */
  arrivals = 0;

  /** The urgent byte has arrived and has not been read with MSG_OOB (Linux: POLLPRI). */
  get oobReady(): boolean {
    return this.state === "valid";
  }

  /**
   * A segment at `segSeq` with URG and pointer `ptr` arrived (Linux tcp_check_urg; RFC 9293
   * 3.10.7.4 "sixth"). `readSeq` is the next byte the application reads. Returns whether
   * this is a new mark (the application is told), and whether the byte at `readSeq`, an
   * older out-of-band byte the reader is stopped at, is to be discarded.
   */
  onPointer(segSeq: Seq, ptr: number, readSeq: Seq, rcvNxt: Seq): { fresh: boolean; discardAtReader: boolean } {
    // Linux (tcp_stdurg=0): the pointer is one past the urgent byte; a zero pointer, which
    // RFC 6093 calls meaningless, is taken as is.
    const urgentSeq = seqAdd(segSeq, ptr > 0 ? ptr - 1 : 0);
    const none = { fresh: false, discardAtReader: false };
    if (seqGt(readSeq, urgentSeq)) return none; // already read past it
    if (seqLt(urgentSeq, rcvNxt)) return none; // do not replay a pointer into data we hold
    if (this.state !== "none" && !seqGt(urgentSeq, this.markSeq)) return none; // not newer
    // The reader is stopped at an older out-of-band byte it never took: that byte goes,
    // as in Linux (which would otherwise read it as data, against its own SIOCATMARK).
    const discardAtReader = this.state !== "none" && this.markSeq === readSeq && !this.inline && readSeq !== rcvNxt;
    this.state = "pending";
    this.markSeq = urgentSeq;
    return { fresh: true, discardAtReader };
  }

  /**
   * Takes the urgent byte if `payload` (starting at `segSeq`) holds it (Linux tcp_urg).
   * Returns true when the byte became readable with MSG_OOB.
   */
  capture(segSeq: Seq, payload: Uint8Array): boolean {
    if (this.state !== "pending") return false;
    const offset = seqDiff(this.markSeq, segSeq);
    if (offset < 0 || offset >= payload.length) return false;
    this.byte = payload[offset]!;
    this.state = "valid";
    this.arrivals++;
    return true;
  }

  /**
   * How a read starting at `readSeq` that wants `max` bytes is cut by the mark (Linux
   * tcp_recvmsg): it stops before the urgent byte; at the mark, without SO_OOBINLINE, the
   * byte is skipped first. `skip` is 1 when the byte at `readSeq` must be dropped.
   */
  plan(readSeq: Seq, max: number, buffered: number): { skip: number; max: number } {
    if (this.state === "none") return { skip: 0, max };
    const offset = seqDiff(this.markSeq, readSeq);
    if (offset > 0) return { skip: 0, max: Math.min(max, offset) };
    if (offset === 0 && !this.inline && buffered > 0) return { skip: 1, max };
    return { skip: 0, max };
  }

  /** The reader moved to `readSeq`: once past the mark, the mark is forgotten (Linux skip_copy). */
  afterRead(readSeq: Seq): void {
    if (this.state !== "none" && seqGt(readSeq, this.markSeq)) this.state = "none";
  }

  /** Out-of-band bytes hidden from ordinary reads at `readSeq` (for the readable count, as Linux tcp_poll's target). */
  hidden(readSeq: Seq, buffered: number): number {
    return this.state !== "none" && !this.inline && this.markSeq === readSeq && buffered > 0 ? 1 : 0;
  }

  /** SIOCATMARK / sockatmark(): the next byte read is the urgent one. */
  atMark(readSeq: Seq): boolean {
    return this.state !== "none" && this.markSeq === readSeq;
  }

  /**
   * recv(MSG_OOB) (Linux tcp_recv_urg): the byte once; EINVAL when inline, when there is no
   * mark or it was read already; end of stream when the peer finished before the byte
   * came; otherwise EAGAIN, never blocking ("not yet arrived").
   */
  readOob(peek: boolean, finished: boolean): OobResult {
    if (this.inline || this.state === "none" || this.state === "read") return { error: "EINVAL" };
    if (this.state === "valid") {
      if (!peek) this.state = "read";
      return { byte: this.byte };
    }
    return finished ? { eof: true } : { error: "EAGAIN" };
  }
}
