/**
 * The sender's state that only data in flight uses: the per-concern parts (the pacer, the
 * log of segments in flight, RACK, the tail loss probe, F-RTO, the TSO/GSO packet cursor and
 * the send chronograph) and the marks of loss episodes (the retransmission stamps, D-SACK
 * undo's marker, F-RTO's resume point, HighRxt, the D-SACK count).
 *
 * All of it lives in one object made by the first use of any of it, and each part in it is
 * made by its own first use, so an idle connection (handshake done, nothing sent) carries
 * one empty field here: the parts made up front cost ~330 bytes per idle connection, and a
 * field each for them and the marks another ~100 (bench/heap.js). Every part starts in
 * the state its constructor gives it, so creating it late is the same as creating it with
 * the connection; every mark reads its default (undefined or 0) until set, and writing that
 * default to a sender that has none makes nothing. (The marks every segment or ACK touches,
 * such as the SACK scoreboard and the push points, stay Sender's own fields: through an
 * accessor each, the transfer ran measurably slower while V8 warmed up.)
 */
import type { Millis } from "../env.js";
import { fromSeqField, fromSeqFieldOpt, seqLt, toSeqField, toSeqFieldOpt, type Seq } from "../wire/seq.js";
import { CHRONO_BUSY, Chronograph, type ChronoTotals } from "./chrono.js";
import { Frto } from "./loss/frto.js";
import { Rack } from "./loss/rack.js";
import { EVER_RETRANS, SentLog } from "./loss/sent-log.js";
import { TailLossProbe } from "./loss/tlp.js";
import { Pacer } from "./pacing.js";
import { TsoChunks } from "./tso-chunks.js";
import type { BbrModel } from "./sender-bbr.js";
import { CongestionControl } from "./congestion/recovery.js";

/** What SenderParts holds once anything of it is used. */
class Parts {
  pacer: Pacer | undefined;
  log: SentLog | undefined;
  rack: Rack | undefined;
  tlp: TailLossProbe | undefined;
  frto: Frto | undefined;
  chunks: TsoChunks | undefined;
  chrono: Chronograph | undefined;
  retransStamp: Millis | undefined;
  firstRetransmittedAt: Millis | undefined;
  undoMarker: number | undefined;
  frtoResume: number | undefined;
  highRxt = 0;
  dsackDups = 0;
  userTimeout: number | undefined;
  notsentLowat = 0;
  lowDelivered: number | undefined;
  newestDeliveredAt: Millis | undefined;
  ackTime: Millis | undefined; // undefined, then a number: tagged, it shares the ACK's time (timers.ts)
  model: BbrModel | undefined;
}

export class SenderParts extends CongestionControl {
  private parts: Parts | undefined;
  // Kept this small (the making is a call of its own) so that V8 inlines it everywhere.
  private get made(): Parts {
    return this.parts ?? this.makeParts();
  }
  private makeParts(): Parts {
    return (this.parts = new Parts());
  }

  // Read through the `...Part` getters (not the part getters) where a part that was never
  // made means "nothing to do", so that an ACK of the handshake creates none of them.
  get pacerPart(): Pacer | undefined { return this.parts?.pacer; }
  get logPart(): SentLog | undefined { return this.parts?.log; }
  get rackPart(): Rack | undefined { return this.parts?.rack; }
  get tlpPart(): TailLossProbe | undefined { return this.parts?.tlp; }
  protected get chunksPart(): TsoChunks | undefined { return this.parts?.chunks; }
  protected get chronoPart(): Chronograph | undefined { return this.parts?.chrono; }

  get pacer(): Pacer {
    return (this.made.pacer ??= new Pacer());
  }
  /** Every segment in flight with its send time (RACK's per-segment state). */
  get log(): SentLog {
    return (this.made.log ??= new SentLog());
  }
  get rack(): Rack {
    return (this.made.rack ??= new Rack());
  }
  get tlp(): TailLossProbe {
    return (this.made.tlp ??= new TailLossProbe());
  }
  get frto(): Frto {
    return (this.made.frto ??= new Frto());
  }
  /** Bytes marked lost and not yet resent (SentLog.lostBytes; none before anything was sent). */
  get lostBytes(): number {
    const log = this.parts?.log;
    return log === undefined ? 0 : log.lostBytes;
  }
  /** The send chronograph (chrono.ts), made by the first write. */
  protected get chrono(): Chronograph {
    return (this.made.chrono ??= new Chronograph());
  }
  /** Time busy, and limited by the peer's window or the send buffer (tcp_info); zeros before any write. */
  chronoTotals(now: Millis): ChronoTotals {
    return this.parts?.chrono?.totals(now) ?? { busy: 0, rwndLimited: 0, sndbufLimited: 0 };
  }
  /** The connection ended: nothing is queued or in flight any more (Linux tcp_write_queue_purge). */
  endChrono(now: Millis): void {
    this.parts?.chrono?.stop(now, CHRONO_BUSY, true);
  }
  /** The TSO/GSO packet the next new segment belongs to (tso-chunks.ts). */
  protected get chunks(): TsoChunks {
    return (this.made.chunks ??= new TsoChunks());
  }

  /**
   * When the first retransmission since everything was last acknowledged left (Linux
   * retrans_stamp): the user timeout runs from it, and an ACK echoing a timestamp older
   * than it shows the original arrived.
   */
  get retransStamp(): Millis | undefined { return this.parts?.retransStamp; }
  set retransStamp(t: Millis | undefined) { if (t !== undefined || this.parts !== undefined) this.made.retransStamp = t; }
  /** When the data first retransmitted was originally sent (Linux retrans_stamp, for the black-hole test). */
  get firstRetransmittedAt(): Millis | undefined { return this.parts?.firstRetransmittedAt; }
  set firstRetransmittedAt(t: Millis | undefined) { if (t !== undefined || this.parts !== undefined) this.made.firstRetransmittedAt = t; }
  // The sequence numbers are kept as int32s (toSeqField in wire/seq.ts: no heap number each).
  /** SND.UNA when the current loss episode began (Linux undo_marker), for D-SACK undo (sender-dsack.ts). */
  get undoMarker(): Seq | undefined { return fromSeqFieldOpt(this.parts?.undoMarker); }
  set undoMarker(s: Seq | undefined) { if (s !== undefined || this.parts !== undefined) this.made.undoMarker = toSeqFieldOpt(s); }
  /** Where resending from SND.UNA stood while F-RTO's new data is out (step 2.b). */
  get frtoResume(): Seq | undefined { return fromSeqFieldOpt(this.parts?.frtoResume); }
  set frtoResume(s: Seq | undefined) { if (s !== undefined || this.parts !== undefined) this.made.frtoResume = toSeqFieldOpt(s); }
  /** RFC 6675 HighRxt: the highest sequence number retransmitted during this recovery. */
  get highRxt(): Seq { return fromSeqField(this.parts?.highRxt ?? 0); }
  set highRxt(s: Seq) { if (s !== 0 || this.parts !== undefined) this.made.highRxt = toSeqField(s); }
  // Socket options most connections never set, and what the ACK being processed delivered
  // (only an ACK of data sent, so of a sender that has its parts, sets them).
  /** TCP_USER_TIMEOUT in ms (RFC 5482), 0 = off; the setting's until set on this socket. */
  get userTimeout(): number { return this.parts?.userTimeout ?? this.config.userTimeout; }
  set userTimeout(ms: number) { if (ms !== this.userTimeout) this.made.userTimeout = ms; }
  /** TCP_NOTSENT_LOWAT set on this socket, in bytes; 0 = the setting's (Linux tp->notsent_lowat). */
  get notsentLowatOwn(): number { return this.parts?.notsentLowat ?? 0; }
  set notsentLowatOwn(n: number) { if (n !== 0 || this.parts !== undefined) this.made.notsentLowat = n; }
  /** The lowest never-retransmitted segment the ACK being processed delivered. */
  get lowDelivered(): Seq | undefined { return fromSeqFieldOpt(this.parts?.lowDelivered); }
  /** When the newest never-retransmitted segment this ACK delivered was sent (Linux last_ackt / last_sackt). */
  protected get newestDeliveredAt(): Millis | undefined { return this.parts?.newestDeliveredAt; }
  /** BBR's model (sender-bbr.ts) when it is the congestion control; it sets the pacer's rate. A BBR sender has its parts from the start. */
  get model(): BbrModel | undefined { return this.parts?.model; }
  protected adoptModel(model: BbrModel): void { this.made.model = model; }
  /**
   * An ACK is being processed at `now`: nothing delivered yet. Its time is kept for the
   * segments it delivers (noteDelivered), only by a sender with its parts: a segment is
   * delivered only from the sent-segment log, which is one of them, so an ACK of the
   * handshake keeps nothing.
   */
  protected beginAckMarks(now: Millis): void {
    const p = this.parts;
    if (p === undefined) return;
    p.ackTime = now;
    p.lowDelivered = p.newestDeliveredAt = undefined;
  }
  /** The log delivered [start, ...) sent at `sentAt` (Sender.delivered): updates the marks, returns the ACK's time. */
  protected noteDelivered(start: Seq, sentAt: Millis, flags: number): Millis {
    const p = this.made;
    if ((flags & EVER_RETRANS) === 0) {
      if (p.lowDelivered === undefined || seqLt(start, fromSeqField(p.lowDelivered))) p.lowDelivered = toSeqField(start);
      if (!(sentAt <= (p.newestDeliveredAt ?? -Infinity))) p.newestDeliveredAt = sentAt;
    }
    return p.ackTime ?? 0;
  }
  /** Segments the peer reported twice by D-SACK (Linux tp->dsack_dups, TCP_INFO's tcpi_dsack_dups). */
  get dsackDups(): number { return this.parts?.dsackDups ?? 0; }
  set dsackDups(n: number) { if (n !== 0 || this.parts !== undefined) this.made.dsackDups = n; }
}
