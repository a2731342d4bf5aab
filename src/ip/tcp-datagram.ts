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
import type { FourTuple } from "../trace/events.js";
import { PROTO_TCP } from "../wire/ipv4.js";
import { emitTcp, headerLength, type PseudoHeader, type TcpSegment } from "../wire/tcp.js";
import type { OutgoingDatagram } from "./output.js";

export class TcpDatagram implements OutgoingDatagram {
  dst!: IpAddress;
  src: IpAddress | undefined;
  readonly protocol = PROTO_TCP;
  payloadLength = 0;
  // TCP segments are never fragmented: DF set; the engine sizes them (see Host.sendTcp).
  readonly policy = "do";
  readonly allowOversize = true;
  tos = 0;
  private seg: TcpSegment | undefined;
  /** Reused pseudo-header (RFC 9293 3.1 / RFC 8200 8.1), or null with checksum offload. */
  private readonly pseudo: PseudoHeader | null;
  private busy = false;

  constructor(checksum: boolean) {
    this.pseudo = checksum ? { src: 0, dst: 0 } : null;
  }

  /** This object set up for `seg` (or a fresh one if this one is in use); pass it to `release` after sending. */
  take(tuple: FourTuple, seg: TcpSegment, ecn: number): TcpDatagram {
    const d = this.busy ? new TcpDatagram(this.pseudo !== null) : this;
    d.busy = true;
    d.dst = tuple.remoteAddr;
    d.src = tuple.localAddr;
    d.payloadLength = headerLength(seg.options) + seg.payload.length;
    d.seg = seg;
    d.tos = ecn;
    return d;
  }

  release(): void {
    this.busy = false;
    this.seg = undefined; // the segment is not kept alive by the Host
  }

  writePayload(buf: Uint8Array, offset: number, src: IpAddress): void {
    const p = this.pseudo;
    if (p !== null) {
      p.src = src;
      p.dst = this.dst;
    }
    emitTcp(this.seg!, buf, offset, p);
  }
}
