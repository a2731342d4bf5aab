/**
 * The sender's per-concern state that only data in flight uses: the pacer, the log of
 * segments in flight, RACK, the tail loss probe, F-RTO, the TSO/GSO packet cursor and the
 * send chronograph.
 * Each is made by its first use, so an idle connection (handshake done, nothing sent)
 * carries none of them: a server holding many idle connections pays ~330 bytes less per
 * connection (bench/heap.js). Every part starts in the state its constructor gives it, so
 * creating it late is the same as creating it with the connection.
 */
import type { Millis } from "../env.js";
import { CHRONO_BUSY, Chronograph, type ChronoTotals } from "./chrono.js";
import { Frto } from "./loss/frto.js";
import { Rack } from "./loss/rack.js";
import { SentLog } from "./loss/sent-log.js";
import { TailLossProbe } from "./loss/tlp.js";
import { Pacer } from "./pacing.js";
import { TsoChunks } from "./tso-chunks.js";

export class SenderParts {
  // Read through the `...Part` fields (not the getters) where a part that was never made
  // means "nothing to do", so that an ACK of the handshake creates none of them.
  protected pacerPart: Pacer | undefined;
  protected logPart: SentLog | undefined;
  rackPart: Rack | undefined;
  tlpPart: TailLossProbe | undefined;
  protected frtoPart: Frto | undefined;
  protected chunksPart: TsoChunks | undefined;
  protected chronoPart: Chronograph | undefined;

  get pacer(): Pacer {
    return (this.pacerPart ??= new Pacer());
  }
  /** Every segment in flight with its send time (RACK's per-segment state). */
  get log(): SentLog {
    return (this.logPart ??= new SentLog());
  }
  get rack(): Rack {
    return (this.rackPart ??= new Rack());
  }
  get tlp(): TailLossProbe {
    return (this.tlpPart ??= new TailLossProbe());
  }
  get frto(): Frto {
    return (this.frtoPart ??= new Frto());
  }
  /** Bytes marked lost and not yet resent (SentLog.lostBytes; none before anything was sent). */
  get lostBytes(): number {
    return this.logPart === undefined ? 0 : this.logPart.lostBytes;
  }
  /** The send chronograph (chrono.ts), made by the first write. */
  protected get chrono(): Chronograph {
    return (this.chronoPart ??= new Chronograph());
  }
  /** Time busy, and limited by the peer's window or the send buffer (tcp_info); zeros before any write. */
  chronoTotals(now: Millis): ChronoTotals {
    return this.chronoPart?.totals(now) ?? { busy: 0, rwndLimited: 0, sndbufLimited: 0 };
  }
  /** The connection ended: nothing is queued or in flight any more (Linux tcp_write_queue_purge). */
  endChrono(now: Millis): void {
    this.chronoPart?.stop(now, CHRONO_BUSY, true);
  }
  /** The TSO/GSO packet the next new segment belongs to (tso-chunks.ts). */
  protected get chunks(): TsoChunks {
    return (this.chunksPart ??= new TsoChunks());
  }
}
