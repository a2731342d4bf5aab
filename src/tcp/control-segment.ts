/** Small builders the TCP layer uses for segments that belong to no connection. */
import type { FourTuple } from "../trace/events.js";
import { DSCP_MASK } from "../wire/ip-ecn.js";
import { seqAdd, type Seq } from "../wire/seq.js";
import { ACK, FIN, RST, SYN, type TcpSegment } from "../wire/tcp.js";
import type { TcpConfig } from "./config.js";

/** A bare control segment (RST, RST|ACK) for a 4-tuple, from our side of it. */
export function controlSegment(tuple: FourTuple, flags: number, seq: Seq, ack: Seq): TcpSegment {
  return {
    srcPort: tuple.localPort, dstPort: tuple.remotePort, seq, ack, flags,
    window: 0, urgentPointer: 0, options: {}, payload: new Uint8Array(0),
  };
}

/**
 * RFC 9293 3.10.7.1: the RST for a segment that belongs to nothing (S30), or undefined for
 * a RST, which is never answered. If the segment had an ACK the RST takes its sequence
 * number from it; otherwise it acknowledges everything the segment occupied.
 */
export function resetFor(tuple: FourTuple, seg: TcpSegment): TcpSegment | undefined {
  if ((seg.flags & RST) !== 0) return undefined;
  if ((seg.flags & ACK) !== 0) return controlSegment(tuple, RST, seg.ack, 0 as Seq);
  const segLen = seg.payload.length + ((seg.flags & SYN) !== 0 ? 1 : 0) + ((seg.flags & FIN) !== 0 ? 1 : 0);
  return controlSegment(tuple, RST | ACK, 0 as Seq, seqAdd(seg.seq, segLen));
}

/**
 * The TOS byte / traffic class of that RST: the segment's DSCP, its ECN bits cleared, as
 * Linux's tcp_v4_send_reset and tcp_v6_send_reset reflect it (Linux 6.18 on this project's
 * machine answered 0xb9 with 0xb8, over IPv4 and IPv6 alike).
 */
export function resetTos(segmentTos: number): number {
  return segmentTos & DSCP_MASK;
}

/** The MSS a SYN announces: the link's, clamped by TCP_MAXSEG (Linux advmss with user_mss). */
export function advertisedMss(mtu: number, config: TcpConfig): number {
  return config.userMss > 0 ? Math.min(mtu - 40, config.userMss) : mtu - 40;
}
