/**
 * TCP segmentation offload on output: the engine's consecutive data segments of one
 * connection, sent within one transmission pass, leave as one TCP super-packet for a link
 * that segments it itself (GsoInfo in endpoint.ts; a TUN device with virtio-net headers).
 *
 * Linux builds such packets up front (tcp_write_xmit hands tcp_transmit_skb one skb of up
 * to tcp_tso_segs segments, tso-chunks.ts) and the device or the GSO layer cuts them
 * (tcp_gso_segment). Here the engine keeps doing everything per segment, as before -
 * sequence space, PSH placement by tso-chunks.ts, the sent log, the scoreboard, RACK,
 * statistics and trace events - and only the IP output is joined: what costs per packet
 * below TCP (an allocation, the IP header, the software checksum over every byte, one
 * link write) is paid once per super-packet. Retransmissions go one MSS at a time as
 * before; they are joined only where they happen to be back to back, which the wire does
 * not show, since the link's split gives back the same segments.
 *
 * What the link's split does decides what may be joined (Linux tcp_gso_segment copies the
 * first segment's TCP header to every piece, advancing seq, and keeps PSH and FIN for the
 * last piece only, CWR for the first only; inet_gso_segment numbers IPv4 IDs one per piece):
 *   - same connection, contiguous sequence numbers, the same ACK number, window, ECN
 *     codepoint and options (the timestamp included: one pass is one instant);
 *   - every payload the size of the first (the GSO size), the last possibly shorter;
 *   - flags ACK (with ECE if the first has it) on every piece; PSH or FIN end the run on
 *     the piece that carries them; SYN, RST, URG and CWR segments go out alone;
 *   - the whole IP packet within the link's GSO limit (at most 65535 bytes).
 * A run of one segment goes out as a plain packet.
 */
import type { FourTuple } from "../trace/events.js";
import { ACK, CWR, FIN, PSH, RST, SYN, URG, headerLength, type TcpOptions, type TcpSegment } from "../wire/tcp.js";
import { seqAdd, type Seq } from "../wire/seq.js";

/** Largest IP packet: the IPv4 total length (and IPv6 payload length) field is 16 bits. */
const MAX_IP_PACKET = 65535;

/** One super-packet: the first segment's header fields with the last one's PSH / FIN. */
export interface GsoRun {
  tuple: FourTuple;
  /** The first segment; its payload is pieces[0]. */
  first: TcpSegment;
  /** Flags of the packet: the first's, with PSH / FIN of the last. */
  flags: number;
  /** The IP header's TOS / traffic class byte (the socket's DSCP and the ECN codepoint). */
  tos: number;
  /** The segments' payloads in order. */
  pieces: Uint8Array[];
  /** Sum of the pieces' lengths. */
  bytes: number;
}

export interface GsoBatchOutput {
  /** Sends one segment as a plain packet. */
  one(tuple: FourTuple, seg: TcpSegment, tos: number): void;
  /** Sends a run of two or more segments as one super-packet. */
  run(run: GsoRun): void;
}

export class GsoBatch {
  private pending: GsoRun | undefined;
  private nextSeq: Seq = 0 as Seq;
  private headerBytes = 0;
  /** Open while the engine is in a transmission pass: outside one, nothing is held. */
  private open = false;

  /**
   * `maxPacket`: the largest IP packet the link takes (its GSO limit, Linux gso_max_size).
   */
  constructor(
    private readonly maxPacket: number,
    private readonly out: GsoBatchOutput,
  ) {}

  /** A transmission pass starts (true) or ends (false, which sends what is held). */
  burst(open: boolean): void {
    this.open = open;
    if (!open) this.flush();
  }

  /**
   * Sends `seg`: held to be joined with the segments that follow it, or (after what is
   * held, to keep the order) on its own.
   */
  send(tuple: FourTuple, seg: TcpSegment, tos: number): void {
    const p = this.pending;
    if (p !== undefined) {
      if (this.extends(p, tuple, seg, tos)) {
        p.pieces.push(seg.payload);
        p.bytes += seg.payload.length;
        p.flags = seg.flags;
        this.nextSeq = seqAdd(seg.seq, seg.payload.length);
        // Only the last piece may be short or carry PSH / FIN.
        if (seg.payload.length < p.first.payload.length || (seg.flags & (PSH | FIN)) !== 0) this.flush();
        return;
      }
      this.flush();
    }
    if (this.open && startsRun(seg)) {
      this.pending = { tuple, first: seg, flags: seg.flags, tos, pieces: [seg.payload], bytes: seg.payload.length };
      this.nextSeq = seqAdd(seg.seq, seg.payload.length);
      this.headerBytes = (tuple.remoteAddr.family === 6 ? 40 : 20) + headerLength(seg.options);
      return;
    }
    this.out.one(tuple, seg, tos);
  }

  /** Sends what is held. */
  flush(): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    if (p.pieces.length === 1) this.out.one(p.tuple, p.first, p.tos);
    else this.out.run(p);
  }

  private extends(p: GsoRun, tuple: FourTuple, seg: TcpSegment, tos: number): boolean {
    const f = p.first;
    return (
      tuple === p.tuple &&
      seg.seq === this.nextSeq &&
      tos === p.tos &&
      (seg.flags & ~(PSH | FIN)) === f.flags &&
      seg.payload.length > 0 &&
      seg.payload.length <= f.payload.length &&
      seg.ack === f.ack &&
      seg.window === f.window &&
      seg.urgentPointer === 0 &&
      sameOptions(seg.options, f.options) &&
      this.headerBytes + p.bytes + seg.payload.length <= Math.min(this.maxPacket, MAX_IP_PACKET)
    );
  }
}

/** May this segment begin a run (it is not the last piece by its own flags)? */
function startsRun(seg: TcpSegment): boolean {
  const o = seg.options;
  return (
    seg.payload.length > 0 &&
    (seg.flags & ACK) !== 0 &&
    (seg.flags & (SYN | RST | URG | CWR | PSH | FIN)) === 0 &&
    o.mss === undefined &&
    o.windowScale === undefined &&
    o.sackPermitted !== true &&
    o.fastOpen === undefined
  );
}

/** The options a data segment may carry (timestamps, SACK blocks), byte for byte the same. */
function sameOptions(a: TcpOptions, b: TcpOptions): boolean {
  if (a === b) return true;
  const ta = a.timestamp;
  const tb = b.timestamp;
  if (ta === undefined ? tb !== undefined : tb === undefined || ta.value !== tb.value || ta.echo !== tb.echo) return false;
  const sa = a.sackBlocks ?? [];
  const sb = b.sackBlocks ?? [];
  if (sa.length !== sb.length) return false;
  for (let i = 0; i < sa.length; i++) if (sa[i]!.left !== sb[i]!.left || sa[i]!.right !== sb[i]!.right) return false;
  return a.mss === undefined && a.windowScale === undefined && a.sackPermitted !== true && a.fastOpen === undefined;
}
