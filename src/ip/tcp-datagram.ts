/**
 * The datagram a Host hands to IP output for each TCP segment, as one reusable object.
 *
 * IpOutput.send calls `writePayload` synchronously and keeps nothing of the request once it
 * returns, so a Host can describe every segment with the same object instead of building a
 * request, a closure and a pseudo-header per packet (three allocations on the hottest path).
 * A reentrant send (a link that delivers synchronously back into the same Host while the
 * object is in use) gets a fresh one: `take` never hands out a busy object.
 */
import type { IpAddress } from "../wire/address.js";
import type { GsoInfo } from "../endpoint.js";
import type { FourTuple } from "../trace/events.js";
import { finishChecksum, pseudoSumOf } from "../wire/checksum.js";
import { PROTO_TCP } from "../wire/ipv4.js";
import { emitTcp, headerLength, type PseudoHeader, type TcpSegment } from "../wire/tcp.js";
import type { GsoRun } from "./gso-batch.js";
import type { OutgoingDatagram } from "./output.js";
import { claimFront } from "./packet-alloc.js";

/** TCP checksum field offset in the header (RFC 9293 3.1). */
const CHECKSUM_AT = 16;

export class TcpDatagram implements OutgoingDatagram {
  dst!: IpAddress;
  src: IpAddress | undefined;
  readonly protocol = PROTO_TCP;
  payloadLength = 0;
  // TCP segments are never fragmented: DF set; the engine sizes them (see Host.sendTcp).
  readonly policy = "do";
  readonly allowOversize = true;
  tos = 0;
  /** Set for a super-packet (gso-batch.ts): the link segments it. */
  gso: GsoInfo | undefined;
  private seg: TcpSegment | undefined;
  /** A super-packet's payloads, written one after another behind the first segment's header. */
  private pieces: Uint8Array[] | undefined;
  /** Reused pseudo-header (RFC 9293 3.1 / RFC 8200 8.1), or null with checksum offload. */
  private readonly pseudo: PseudoHeader | null;
  private busy = false;
  /** The packet `inPlace` built around the payload: written into, the payload is not copied again. */
  private around: Uint8Array | undefined;

  constructor(checksum: boolean) {
    this.pseudo = checksum ? { src: 0, dst: 0 } : null;
  }

  /** This object set up for `seg` (or a fresh one if this one is in use); pass it to `release` after sending. */
  take(tuple: FourTuple, seg: TcpSegment, tos: number): TcpDatagram {
    const d = this.busy ? new TcpDatagram(this.pseudo !== null) : this;
    d.busy = true;
    d.dst = tuple.remoteAddr;
    d.src = tuple.localAddr;
    d.payloadLength = headerLength(seg.options) + seg.payload.length;
    d.seg = seg;
    d.tos = tos;
    d.gso = undefined;
    d.pieces = undefined;
    d.around = undefined;
    return d;
  }

  /** This object set up for a super-packet of `run`'s segments (see `take`). */
  takeRun(run: GsoRun, header: TcpSegment): TcpDatagram {
    const d = this.take(run.tuple, header, run.tos);
    d.payloadLength += run.bytes;
    d.pieces = run.pieces;
    d.gso = { size: run.pieces[0]!.length, segments: run.pieces.length };
    return d;
  }

  release(): void {
    this.busy = false;
    this.seg = undefined; // the segment is not kept alive by the Host
    this.pieces = undefined;
    this.around = undefined;
  }

  /** OutgoingDatagram: the packet around a payload copied with headroom (packet-alloc.ts). */
  inPlace(ipHeaderLength: number): Uint8Array | undefined {
    if (this.pieces !== undefined) return undefined;
    const payload = this.seg!.payload;
    if (payload.length === 0) return undefined;
    return (this.around = claimFront(payload, ipHeaderLength + this.payloadLength - payload.length));
  }

  writePayload(buf: Uint8Array, offset: number, src: IpAddress): void {
    const pieces = this.pieces;
    if (pieces !== undefined) {
      // The header (its payload is empty), the payloads, and in the checksum field the
      // pseudo-header sum the link completes per segment (Linux __tcp_v4_send_check /
      // __tcp_v6_send_check leave th->check = ~tcp_v4_check(len, saddr, daddr, 0)).
      let at = offset + emitTcp(this.seg!, buf, offset, null);
      for (const piece of pieces) {
        buf.set(piece, at);
        at += piece.length;
      }
      const partial = ~finishChecksum(pseudoSumOf(src, this.dst, PROTO_TCP, at - offset)) & 0xffff;
      buf[offset + CHECKSUM_AT] = partial >>> 8;
      buf[offset + CHECKSUM_AT + 1] = partial & 0xff;
      return;
    }
    const p = this.pseudo;
    if (p !== null) {
      p.src = src;
      p.dst = this.dst;
    }
    emitTcp(this.seg!, buf, offset, p, buf === this.around);
  }
}
