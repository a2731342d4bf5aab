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
import { SegmentLedger } from "./segment-ledger.js";
import { Seldom } from "./seldom.js";

/** One segment of the send sequence space, [start, end). */
export interface LedgerSegment {
  readonly start: Seq;
  readonly end: Seq;
  /** Retransmitted since it was last marked lost (Linux TCPCB_SACKED_RETRANS). */
  retrans: boolean;
}

/** Counters of data moved; made by the first segment with payload either way. */
class Traffic {
  dataSegsIn = 0;
  dataSegsOut = 0;
  bytesSent = 0;
  largestPayloadIn = 0;
}

/**
 * Counters of loss and reordering; made by the first retransmission, timeout or out-of-order
 * segment, and kept in the seldom-set fields' holder (seldom.ts), which a connection that
 * resends has anyway for its count of segments resent.
 */
export class Losses {
  bytesRetrans = 0;
  totalRetrans = 0;
  rcvOoopack = 0;
  lossUntil: Seq | undefined = undefined;
}

/**
 * The bottom of Connection's class chain (connection-seldom.ts): a connection's stats are
 * fields of the connection object, `conn.stats` being the connection itself. Standalone
 * instances (tests) work the same.
 */
export class ConnectionStats {
  /**
   * The seldom-set fields' holder (seldom.ts, connection-seldom.ts), made by the first
   * write of anything but a default and let go by Connection.settle.
   */
  protected seldom: Seldom | undefined = undefined;
  /** The holder, made now if there was none (a write of a non-default value). */
  protected held(): Seldom {
    return this.seldom ?? this.makeSeldom();
  }
  private makeSeldom(): Seldom {
    return (this.seldom = new Seldom());
  }

  /**
   * Time of the first event: the "last" times start here, as Linux starts them at the open.
   * Read only while one of them is unset, so it is kept only until the handshake has set
   * them all (onEstablished), with the seldom-set fields: 8 B less per connection.
   */
  get createdAt(): Millis | undefined { return this.seldom?.createdAt; }
  private set createdAt(t: Millis | undefined) { if (t !== undefined || this.seldom !== undefined) this.held().createdAt = t; }
  /** The first event (onSend, onReceive) sets createdAt: before the handshake, while the data clocks are unset. */
  private noteEvent(now: Millis): void {
    if (this.createdAt === undefined) this.createdAt = now;
  }
  /** Last segment carrying data sent (Linux lsndtime), received (icsk_ack.lrcvtime), ACK received (rcv_tstamp). */
  lastDataSentAt: Millis | undefined;
  lastDataRecvAt: Millis | undefined;
  lastAckRecvAt: Millis | undefined;
  // The counters live in two holders made by their first count (four fields each): a
  // connection that moved no data, or lost none, keeps 24 B less for each it lacks, and
  // one that has both costs 8 B more than with the counters in place (bench/heap.js). The
  // loss counters' holder hangs off the seldom-set fields' (one field for both).
  private traffic: Traffic | undefined = undefined;
  private get losses(): Losses | undefined { return this.seldom?.losses; }
  /** The loss counters, made now if there were none. */
  private get lossesMade(): Losses { const h = this.held(); return (h.losses ??= new Losses()); }

  get dataSegsIn(): number { return this.traffic?.dataSegsIn ?? 0; }
  get dataSegsOut(): number { return this.traffic?.dataSegsOut ?? 0; }
  /** Payload bytes sent, retransmissions included (RFC 4898 HCDataOctetsOut), and of those retransmitted. */
  get bytesSent(): number { return this.traffic?.bytesSent ?? 0; }
  get bytesRetrans(): number { return this.losses?.bytesRetrans ?? 0; }
  /** Segments retransmitted, SYN and FIN included (Linux total_retrans). */
  get totalRetrans(): number { return this.losses?.totalRetrans ?? 0; }
  /** Out-of-order segments queued (Linux rcv_ooopack). */
  get rcvOoopack(): number { return this.losses?.rcvOoopack ?? 0; }
  set rcvOoopack(n: number) { this.lossesMade.rcvOoopack = n; }
  /** Largest payload received: the peer's MSS as far as we can tell (Linux icsk_ack.rcv_mss). */
  get largestPayloadIn(): number { return this.traffic?.largestPayloadIn ?? 0; }
  /** SND.MAX when the last retransmission timeout fired (Linux high_seq on entering Loss). */
  get lossUntil(): Seq | undefined { return this.losses?.lossUntil; }

  /**
   * Segments in flight, oldest first (segment-ledger.ts): made by the first send, let go
   * at ESTABLISHED once empty, so an idle connection holds none.
   */
  private ledger: SegmentLedger | undefined;
  /** Segments dropped from the ledger because SND.UNA covered them. */
  private ackedSegments = 0;

  /** A segment left (called for every segment, before it is handed to the layer). */
  onSend(now: Millis, seg: TcpSegment, retransmit: boolean, sndUna: Seq): void {
    if (this.lastDataSentAt === undefined) this.noteEvent(now);
    this.prune(sndUna);
    // Sequence space sent before is a resend whatever the sender calls it: the part of a
    // SYN's data the SYN-ACK did not cover goes again as new data (Linux marks it lost and
    // retransmits it: tcp_rcv_fastopen_synack).
    const led = this.ledger;
    const tail = led !== undefined && led.size > 0 ? led.end(led.size - 1) : undefined;
    if (tail !== undefined && seqLt(seg.seq, tail)) retransmit = true;
    const len = seg.payload.length;
    if (len > 0) {
      const t = (this.traffic ??= new Traffic());
      t.dataSegsOut++;
      t.bytesSent += len;
      this.lastDataSentAt = now;
      if (retransmit) this.lossesMade.bytesRetrans += len;
    }
    const span = len + ((seg.flags & SYN) !== 0 ? 1 : 0) + ((seg.flags & FIN) !== 0 ? 1 : 0);
    if (span === 0) return; // ACKs, RSTs and probes take no sequence space
    // Made here, not for every segment: the active end's handshake ACK leaves after
    // onEstablished let the ledger go, and an idle connection keeps none (48 B).
    const l = (this.ledger ??= new SegmentLedger());
    if (retransmit) this.lossesMade.totalRetrans++;
    const end = seqAdd(seg.seq, span);
    if (retransmit) {
      for (let i = 0; i < l.size; i++) {
        const from = l.start(i);
        const to = l.end(i);
        if (!seqLt(from, end)) break;
        if (!seqGt(to, seg.seq)) continue;
        // A resend that covers part of a segment cuts it there, as Linux's tcp_fragment does
        // when it resends in a smaller MSS (SYN data after the SYN-ACK's MSS, a lowered path
        // MTU): what is in flight is counted in the segments that were actually resent.
        if (seqLt(from, seg.seq)) {
          l.split(i, seg.seq);
          continue; // the part from seg.seq on is the next entry
        }
        if (seqGt(to, end)) l.split(i, end);
        l.markRetransmitted(i);
      }
    }
    // Whatever lies beyond the highest end so far is new sequence space.
    const start = tail !== undefined && seqGt(tail, seg.seq) ? tail : seg.seq;
    if (seqLt(start, end)) l.push(start, end);
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
    // Every "last" time is set from here on (they are never unset): nothing reads createdAt again.
    if (this.lastAckRecvAt !== undefined) this.createdAt = undefined;
    // The SYN's entry is acknowledged by now: let the array go too, so an idle connection
    // holds none (the next send would only have emptied it).
    this.prune(sndUna);
    if (this.ledger?.size === 0) this.ledger = undefined;
  }

  /**
   * A segment arrived (called first thing, whatever becomes of it). `gsoSize`: the size of
   * the segments a receive offload merged it from (Endpoint.receive), which is what the
   * peer's segment size is measured by (Linux tcp_measure_rcv_mss: gso_size ?: skb->len).
   */
  onReceive(now: Millis, seg: TcpSegment, gsoSize = 0): void {
    if (this.lastDataSentAt === undefined) this.noteEvent(now);
    const len = seg.payload.length;
    if (len > 0) {
      const t = (this.traffic ??= new Traffic());
      t.dataSegsIn++;
      this.lastDataRecvAt = now;
      const segment = gsoSize > 0 && gsoSize < len ? gsoSize : len;
      if (segment > t.largestPayloadIn) t.largestPayloadIn = segment;
    }
    if ((seg.flags & ACK) !== 0) this.lastAckRecvAt = now;
  }

  /**
   * The retransmission timer fired with data outstanding: like Linux tcp_enter_loss, every
   * segment sent so far counts as lost until SND.UNA passes `sndMax`, and the retransmitted
   * marks are cleared (each will be resent again).
   */
  onRto(sndMax: Seq): void {
    this.lossesMade.lossUntil = sndMax;
    const l = this.ledger;
    if (l !== undefined) for (let i = 0; i < l.size; i++) l.markRetransmitted(i, false);
  }

  /** Segments still in flight above `sndUna`, oldest first (copies: changing them changes nothing). */
  inFlight(sndUna: Seq): LedgerSegment[] {
    const out: LedgerSegment[] = [];
    const l = this.ledger;
    for (let i = 0; l !== undefined && i < l.size; i++) {
      if (seqGt(l.end(i), sndUna)) out.push({ start: l.start(i), end: l.end(i), retrans: l.retransmitted(i) });
    }
    return out;
  }

  /** Segments SND.UNA has covered, ever (Linux counts them into `delivered`). */
  acked(sndUna: Seq): number {
    let n = this.ackedSegments;
    const l = this.ledger;
    for (let i = 0; l !== undefined && i < l.size && !seqGt(l.end(i), sndUna); i++) n++;
    return n;
  }

  private prune(sndUna: Seq): void {
    const l = this.ledger;
    while (l !== undefined && l.size > 0 && !seqGt(l.end(0), sndUna)) {
      l.shift();
      this.ackedSegments++;
    }
  }
}
