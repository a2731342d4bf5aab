/** Small builders the TCP layer uses for segments that belong to no connection. */
import type { FourTuple } from "../trace/events.js";
import type { Seq } from "../wire/seq.js";
import type { TcpSegment } from "../wire/tcp.js";
import type { TcpConfig } from "./config.js";

/** A bare control segment (RST, RST|ACK) for a 4-tuple, from our side of it. */
export function controlSegment(tuple: FourTuple, flags: number, seq: Seq, ack: Seq): TcpSegment {
  return {
    srcPort: tuple.localPort, dstPort: tuple.remotePort, seq, ack, flags,
    window: 0, urgentPointer: 0, options: {}, payload: new Uint8Array(0),
  };
}

/** The MSS a SYN announces: the link's, clamped by TCP_MAXSEG (Linux advmss with user_mss). */
export function advertisedMss(mtu: number, config: TcpConfig): number {
  return config.userMss > 0 ? Math.min(mtu - 40, config.userMss) : mtu - 40;
}
