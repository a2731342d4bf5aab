/**
 * The client side of Fast Open (RFC 7413 4.1; Linux tcp_send_syn_data and
 * tcp_rcv_fastopen_synack).
 *
 * - Without a cached cookie the SYN asks for one (an empty option) and carries no data;
 *   the data waits for the handshake.
 * - With one, the SYN carries the cookie and as much queued data as the server's cached MSS
 *   allows, less 40 bytes of option space left for middleboxes (MAX_TCP_OPTION_SPACE).
 * - A SYN-ACK that acknowledges only part of that data (or only the SYN) makes the client
 *   send the rest after the handshake; a retransmitted SYN is a plain SYN.
 * - Every SYN-ACK's cookie and MSS go to the cache for the next connection; a request that
 *   went unanswered switches between the option's two forms (kind 34 and 254).
 */
import type { FastOpenAction } from "../../trace/events.js";
import { seqAdd, seqDiff, seqLt } from "../../wire/seq.js";
import type { TcpOptions, TcpSegment } from "../../wire/tcp.js";
import { EMPTY } from "../send-buffer.js";
import type { Connection } from "../connection.js";
import type { FastOpenCache } from "./cache.js";
import { validCookieLength } from "./cookie.js";
import { MAX_TCP_OPTION_SPACE, TFO_CLIENT_ENABLE, TFO_CLIENT_NO_COOKIE } from "./settings.js";
import { FastOpenState } from "./state.js";

/**
 * Fast Open for an active open (Linux tcp_fastopen_cookie_check): what the SYN will carry,
 * from the cache. Undefined when the client side is off.
 */
export function clientFastOpen(cache: FastOpenCache, c: Pick<Connection, "tuple" | "config">, ourMss: number, noCookie = false): FastOpenState | undefined {
  const bits = c.config.fastOpen;
  if ((bits & TFO_CLIENT_ENABLE) === 0) return undefined;
  const server = c.tuple.remoteAddr;
  const fo = new FastOpenState(cache, server);
  const cached = cache.get(server);
  const mss = cached !== undefined && cached.mss > 0 ? Math.min(cached.mss, ourMss) : ourMss;
  const room = Math.max(0, mss - MAX_TCP_OPTION_SPACE);
  if (noCookie || (bits & TFO_CLIENT_NO_COOKIE) !== 0) {
    fo.synRoom = room; // data without any option
  } else if (cached !== undefined && cached.cookie.length > 0) {
    fo.synOption = { cookie: cached.cookie, exp: cached.exp };
    fo.synRoom = room;
  } else {
    fo.synOption = { cookie: new Uint8Array(0), exp: cached?.exp ?? false };
  }
  return fo;
}

/** The first SYN: sets its Fast Open option in `options` and returns the queued data it carries. */
export function synFastOpen(c: Connection, retransmit: boolean, options: TcpOptions): Uint8Array {
  const fo = c.fastOpen;
  if (fo === undefined || fo.cache === undefined) return EMPTY;
  if (retransmit) {
    // Linux retransmits the plain SYN: the server may be one that drops SYNs with data.
    fo.synRetransmitted = true;
    return EMPTY;
  }
  if (fo.synOption !== undefined) options.fastOpen = fo.synOption;
  fo.synData = Math.min(fo.synRoom, c.sendBuffer.length);
  return fo.synData > 0 ? c.sendBuffer.peek(0, fo.synData) : EMPTY;
}

/**
 * The SYN-ACK arrived and acknowledged our SYN (Linux tcp_rcv_fastopen_synack): remember its
 * cookie and MSS; data of the SYN it did not acknowledge is sent again as ordinary segments.
 */
export function clientSynAcked(c: Connection, synAck: TcpSegment): void {
  const fo = c.fastOpen;
  if (fo === undefined || fo.cache === undefined || fo.server === undefined) return;
  const opt = synAck.options.fastOpen;
  const cookie = opt !== undefined && validCookieLength(opt.cookie.length) ? opt : undefined;
  let tryExp = 0;
  let keep = cookie;
  if (!fo.requested) keep = undefined; // an unsolicited cookie is ignored
  else if (!fo.synRetransmitted && keep === undefined && fo.synData === 0) tryExp = fo.synOption?.exp ? 2 : 1;
  fo.cache.update(fo.server, synAck.options.mss ?? 0, keep, tryExp);
  if (keep !== undefined) note(c, "cookie-cached", `cookie ${hex(keep.cookie)} from ${fo.server.toString()} cached`);
  if (fo.synData === 0) return;
  const s = c.sender;
  const dataEnd = seqAdd(c.iss, 1 + fo.synData);
  if (seqLt(synAck.ack, dataEnd)) {
    // RFC 7413 4.1.3 / Linux: what the server did not take is sent after the handshake, as a
    // retransmission (tcp_rcv_fastopen_synack resends the SYN's data skb): SND.MAX stays past
    // it, so it counts in tcpi_retrans, gives no RTT sample (Karn) and is no new short segment
    // for Nagle.
    s.sndNxt = synAck.ack;
    note(c, "data-resent", `SYN-ACK acknowledged ${seqDiff(synAck.ack, c.iss) - 1} of ${fo.synData} bytes of SYN data: the rest is sent again`);
    return;
  }
  fo.synDataAcked = true;
  note(c, "data-acked", `SYN-ACK acknowledged the ${fo.synData} bytes of SYN data`);
}

function note(c: Connection, action: FastOpenAction, detail: string): void {
  if (c.trace.enabled) c.trace.emit({ type: "fast-open", time: c.ctx.now(), host: c.hostName, tuple: c.tuple, action, detail });
}

export function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
