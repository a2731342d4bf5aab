/**
 * The server side of Fast Open (RFC 7413 4.2; Linux tcp_try_fastopen): what a listener does
 * with a SYN's Fast Open option and data.
 *
 * - A cookie request (empty option) is answered with the cookie for the client's address;
 *   the handshake is otherwise ordinary.
 * - A valid cookie (or, with TFO_SERVER_COOKIE_NOT_REQD, none) makes a child connection at
 *   once, in SYN_RCVD, with the SYN's data queued for the application; the SYN-ACK
 *   acknowledges the data and the child is put in the accept queue before the handshake
 *   completes, as Linux does. A cookie made with the backup key is accepted and the SYN-ACK
 *   carries the current one.
 * - An invalid cookie: the SYN's data is ignored (the client sends it again after the
 *   handshake) and the SYN-ACK carries the valid cookie.
 * - Children still in SYN_RCVD count against the listener's Fast Open queue (its TCP_FASTOPEN
 *   qlen, Linux tcp_fastopen_queue_check); a full queue means an ordinary handshake.
 */
import type { IpAddress } from "../../wire/address.js";
import type { FastOpenOption, TcpSegment } from "../../wire/tcp.js";
import { seqAdd } from "../../wire/seq.js";
import type { Connection } from "../connection.js";
import { checkCookie, type FastOpenKey, makeCookie, validCookieLength } from "./cookie.js";
import { TFO_SERVER_COOKIE_NOT_REQD, TFO_SERVER_ENABLE } from "./settings.js";

export interface ServerSyn {
  syn: TcpSegment;
  client: IpAddress;
  server: IpAddress;
  /** The listener's `fastOpen` bits. */
  bits: number;
  /** The listener's Fast Open queue: its limit (0: Fast Open off for it) and children in it. */
  queueLimit: number;
  queued: number;
  /** Primary key, then the backup if any. */
  keys: readonly FastOpenKey[];
}

export interface ServerDecision {
  /** Make the connection a Fast Open child: data accepted, accept() at once. */
  child: boolean;
  /** The option for the SYN-ACK (a cookie), if any. */
  reply: FastOpenOption | undefined;
  /** Why, in a few words, for the trace. */
  why: string;
}

/** Linux tcp_try_fastopen. */
export function decideFastOpen(p: ServerSyn): ServerDecision {
  const opt = p.syn.options.fastOpen;
  // An option with an odd or out-of-range length counts as absent (tcp_parse_fastopen_option).
  const len = opt === undefined ? -1 : opt.cookie.length === 0 ? 0 : validCookieLength(opt.cookie.length) ? opt.cookie.length : -1;
  const synData = p.syn.payload.length > 0;
  const none = (why: string): ServerDecision => ({ child: false, reply: undefined, why });
  if ((p.bits & TFO_SERVER_ENABLE) === 0) return none("Fast Open server disabled");
  if (!synData && len < 0) return none("no Fast Open option");
  if (p.queueLimit === 0) return none("listener without Fast Open (TCP_FASTOPEN)");
  if (p.queued >= p.queueLimit) return none(`Fast Open queue full (${p.queued})`);
  if ((p.bits & TFO_SERVER_COOKIE_NOT_REQD) !== 0) return { child: true, reply: undefined, why: "data accepted without a cookie (TFO_SERVER_COOKIE_NOT_REQD)" };
  const exp = opt?.exp ?? false;
  const current = (): FastOpenOption => ({ cookie: makeCookie(p.keys[0]!, p.client, p.server), exp });
  if (len === 0) return { child: false, reply: current(), why: "cookie requested" };
  if (len < 0) return none("data without a cookie");
  const which = checkCookie(p.keys, opt!.cookie, p.client, p.server);
  if (which === 0) return { child: true, reply: undefined, why: "valid cookie" };
  if (which === 1) return { child: true, reply: current(), why: "cookie of the backup key: the current one sent" };
  return { child: false, reply: current(), why: "invalid cookie: data ignored, the valid one sent" };
}

/**
 * The SYN's data goes to the child's receive buffer before its SYN-ACK is built, so the
 * SYN-ACK acknowledges it (Linux tcp_fastopen_add_skb).
 */
export function acceptSynData(c: Connection, syn: TcpSegment): void {
  const fo = c.fastOpen;
  if (fo === undefined || syn.payload.length === 0) return;
  const r = c.receiver;
  const start = seqAdd(syn.seq, 1);
  r.window.offerUnscaled(r.rcvNxt); // the window the SYN's data may fill
  const data = syn.payload.subarray(0, Math.max(0, r.window.roomFrom(start)));
  if (data.length === 0) return;
  r.insert(start, data, c.ctx.mtu - 40);
  // The SYN-ACK carries the ACK: no separate one for this data.
  r.ackNow = false;
  fo.synDataAcked = true;
  c.wake();
}
