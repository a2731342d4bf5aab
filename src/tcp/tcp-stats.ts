/**
 * Per-connection bookkeeping that exists only to be reported (TCP_INFO, `ss -i`): when
 * data and ACKs last went each way, segment and byte counters, and a ledger of the
 * segments in flight. Nothing in the engine's decisions reads it.
 *
 * Linux counts in packets (skbs) where synack's sender counts bytes: `tcpi_unacked`,
 * `tcpi_sacked`, `tcpi_lost`, `tcpi_retrans` and `tcpi_delivered` are numbers of segments.
 * The ledger keeps one entry per segment sent with new sequence space (SYN, data, FIN),
 * in order, so those counts can be given exactly as Linux keeps them (packets_out,
 * sacked_out, lost_out, retrans_out, delivered) rather than guessed from byte counts.
 * Entries at or below SND.UNA are dropped on the next send; until then they count as
 * delivered. Memory is bounded by the segments of one window.
 */
import type { Millis } from "../env.js";
import { seqAdd, seqGt, seqLt, type Seq } from "../wire/seq.js";
import { ACK, FIN, SYN, type TcpSegment } from "../wire/tcp.js";

/** One segment of the send sequence space, [start, end). */
export interface LedgerSegment {
  readonly start: Seq;
  readonly end: Seq;
  /** Retransmitted since it was last marked lost (Linux TCPCB_SACKED_RETRANS). */
  retrans: boolean;
}

export class ConnectionStats {
  /** Time of the first event: the "last" times start here, as Linux starts them at the open. */
  createdAt: Millis | undefined;
  /** Last segment carrying data sent (Linux lsndtime), received (icsk_ack.lrcvtime), ACK received (rcv_tstamp). */
  lastDataSentAt: Millis | undefined;
  lastDataRecvAt: Millis | undefined;
  lastAckRecvAt: Millis | undefined;
  dataSegsIn = 0;
  dataSegsOut = 0;
  /** Payload bytes sent, retransmissions included (RFC 4898 HCDataOctetsOut), and of those retransmitted. */
  bytesSent = 0;
  bytesRetrans = 0;
  /** Segments retransmitted, SYN and FIN included (Linux total_retrans). */
  totalRetrans = 0;
  /** Out-of-order segments queued (Linux rcv_ooopack). */
  rcvOoopack = 0;
  /** Largest payload received: the peer's MSS as far as we can tell (Linux icsk_ack.rcv_mss). */
  largestPayloadIn = 0;
  /** SND.MAX when the last retransmission timeout fired (Linux high_seq on entering Loss). */
  lossUntil: Seq | undefined;

  /**
   * Segments in flight, oldest first, from entry `head` on: entry i is start, end and
   * retrans (0 or 1) at [i * 3, i * 3 + 3). Plain numbers in one array rather than an
   * object per segment, so a bulk sender allocates nothing here per segment.
   */
  private ledger: number[] = NO_LEDGER;
  private head = 0;
  /** Segments dropped from the ledger because SND.UNA covered them. */
  private ackedSegments = 0;

  /** A segment left (called for every segment, before it is handed to the layer). */
  onSend(now: Millis, seg: TcpSegment, retransmit: boolean, sndUna: Seq): void {
    this.createdAt ??= now;
    this.prune(sndUna);
    // Sequence space sent before is a resend whatever the sender calls it: the part of a
    // SYN's data the SYN-ACK did not cover goes again as new data (Linux marks it lost and
    // retransmits it: tcp_rcv_fastopen_synack).
    const tail = this.entries > this.head ? (this.ledger[this.ledger.length - 2]! as Seq) : undefined;
    if (tail !== undefined && seqLt(seg.seq, tail)) retransmit = true;
    const len = seg.payload.length;
    if (len > 0) {
      this.dataSegsOut++;
      this.bytesSent += len;
      this.lastDataSentAt = now;
      if (retransmit) this.bytesRetrans += len;
    }
    const span = len + ((seg.flags & SYN) !== 0 ? 1 : 0) + ((seg.flags & FIN) !== 0 ? 1 : 0);
    if (span === 0) return; // ACKs, RSTs and probes take no sequence space
    if (retransmit) this.totalRetrans++;
    const end = seqAdd(seg.seq, span);
    const l = this.ledger;
    if (retransmit) {
      for (let i = this.head; i < this.entries; i++) {
        const from = l[i * 3]! as Seq;
        const to = l[i * 3 + 1]! as Seq;
        if (!seqLt(from, end)) break;
        if (!seqGt(to, seg.seq)) continue;
        // A resend that covers part of a segment cuts it there, as Linux's tcp_fragment does
        // when it resends in a smaller MSS (SYN data after the SYN-ACK's MSS, a lowered path
        // MTU): what is in flight is counted in the segments that were actually resent.
        const flag = l[i * 3 + 2]!;
        if (seqLt(from, seg.seq)) {
          l.splice(i * 3, 3, from, seg.seq, flag, seg.seq, to, flag);
          continue; // the part from seg.seq on is the next entry
        }
        if (seqGt(to, end)) l.splice(i * 3, 3, from, end, 1, end, to, flag);
        else l[i * 3 + 2] = 1;
      }
    }
    // Whatever lies beyond the highest end so far is new sequence space.
    const start = tail !== undefined && seqGt(tail, seg.seq) ? tail : seg.seq;
    if (seqLt(start, end)) {
      if (l === NO_LEDGER) this.ledger = [start, end, 0];
      else l.push(start, end, 0);
    }
  }

  /**
   * The handshake completed: Linux starts its "last data received/sent" clocks here
   * (icsk_ack.lrcvtime in tcp_finish_connect and tcp_create_openreq_child, lsndtime in
   * tcp_init_transfer), so an idle new connection reports the time since it opened.
   * `sndUna` is at least past our SYN (or SYN-ACK).
   */
  onEstablished(now: Millis, sndUna: Seq): void {
    this.lastDataRecvAt ??= now;
    this.lastDataSentAt ??= now;
    // The SYN's entry is acknowledged by now: let the array go too, so an idle connection
    // holds none (the next send would only have emptied it).
    this.prune(sndUna);
    if (this.head === this.entries) this.ledger = NO_LEDGER;
  }

  /** A segment arrived (called first thing, whatever becomes of it). */
  onReceive(now: Millis, seg: TcpSegment): void {
    this.createdAt ??= now;
    if (seg.payload.length > 0) {
      this.dataSegsIn++;
      this.lastDataRecvAt = now;
      if (seg.payload.length > this.largestPayloadIn) this.largestPayloadIn = seg.payload.length;
    }
    if ((seg.flags & ACK) !== 0) this.lastAckRecvAt = now;
  }

  /**
   * The retransmission timer fired with data outstanding: like Linux tcp_enter_loss, every
   * segment sent so far counts as lost until SND.UNA passes `sndMax`, and the retransmitted
   * marks are cleared (each will be resent again).
   */
  onRto(sndMax: Seq): void {
    this.lossUntil = sndMax;
    for (let i = this.head; i < this.entries; i++) this.ledger[i * 3 + 2] = 0;
  }

  /** Segments still in flight above `sndUna`, oldest first (copies: changing them changes nothing). */
  inFlight(sndUna: Seq): LedgerSegment[] {
    const out: LedgerSegment[] = [];
    const l = this.ledger;
    for (let i = this.head; i < this.entries; i++) {
      if (seqGt(l[i * 3 + 1]! as Seq, sndUna)) out.push({ start: l[i * 3]! as Seq, end: l[i * 3 + 1]! as Seq, retrans: l[i * 3 + 2] === 1 });
    }
    return out;
  }

  /** Segments SND.UNA has covered, ever (Linux counts them into `delivered`). */
  acked(sndUna: Seq): number {
    let n = this.ackedSegments;
    for (let i = this.head; i < this.entries && !seqGt(this.ledger[i * 3 + 1]! as Seq, sndUna); i++) n++;
    return n;
  }

  private prune(sndUna: Seq): void {
    while (this.head < this.entries && !seqGt(this.ledger[this.head * 3 + 1]! as Seq, sndUna)) {
      this.head++;
      this.ackedSegments++;
    }
    if (this.head === this.entries) {
      if (this.ledger !== NO_LEDGER) this.ledger.length = 0; // reused: no new array per fully acknowledged flight
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.entries) {
      this.ledger = this.ledger.slice(this.head * 3);
      this.head = 0;
    }
  }

  private get entries(): number {
    return this.ledger.length / 3;
  }
}

/** The ledger of every connection that has sent nothing yet (shared, never written). */
const NO_LEDGER: number[] = [];
