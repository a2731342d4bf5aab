/**
 * SO_KEEPALIVE's per-connection state (RFC 1122 4.2.3.6; Linux TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT). Made by the first setKeepAlive: until then keep-alive is off and the
 * stack's settings apply, so a connection that never asks keeps no copy of them (40 B of
 * fields on every connection before; bench/heap.js). The probes and their timer are here too.
 */
import type { Millis } from "../env.js";
import { ACK, RST } from "../wire/tcp.js";
import { seqAdd } from "../wire/seq.js";
import type { Connection } from "./connection.js";
import { checkBoolean, checkObject, InvalidArgumentError } from "./errors.js";
import { showValue } from "../show-value.js";
import { positive } from "./socket-options.js";
import { SYNCHRONIZED } from "./states.js";

export class KeepAlive {
  enabled = false;
  /** Probes sent and unanswered since the peer was last heard from. */
  probes = 0;

  constructor(
    /** Idle time before the first probe. */
    public idle: Millis,
    /** Time between unanswered probes. */
    public interval: Millis,
    /** Unanswered probes before the connection is dropped. */
    public count: number,
  ) {}
}

/**
 * SO_KEEPALIVE with optional per-connection TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT
 * (the stack's settings otherwise); arms or cancels the timer at once.
 */
export function setKeepAlive(c: Connection, enabled: boolean, now: Millis, opts: { idle?: Millis; interval?: Millis; probes?: number }): void {
  checkBoolean("setKeepAlive(enabled)", enabled);
  // A time that is not one (NaN) would arm a timer no queue can order.
  if (typeof now !== "number" || !Number.isFinite(now) || now < 0) throw new InvalidArgumentError(`setKeepAlive(enabled, now): now must be the stack's time in ms, got ${showValue(now)}`);
  checkObject("setKeepAlive(enabled, now, options): options", opts);
  // All checked before any is set: a refused call changes nothing.
  const idle = opts.idle !== undefined ? positive("keep-alive idle", opts.idle) : undefined;
  const interval = opts.interval !== undefined ? positive("keep-alive interval", opts.interval) : undefined;
  const count = opts.probes !== undefined ? positive("keep-alive probes", opts.probes) : undefined;
  const ka = (c.ka ??= new KeepAlive(c.config.keepAliveIdle, c.config.keepAliveInterval, c.config.keepAliveProbes));
  if (idle !== undefined) ka.idle = idle;
  if (interval !== undefined) ka.interval = interval;
  if (count !== undefined) ka.count = count;
  ka.enabled = enabled;
  ka.probes = 0;
  if (enabled && SYNCHRONIZED.has(c.state)) c.armTimer(now, "keepalive", now + ka.idle);
  else c.cancelTimer(now, "keepalive");
  c.ctx.touched(c, false);
}

/** RFC 1122 4.2.3.6 keep-alive (S21): probe an idle peer, give up after N probes. */
export function onKeepAliveTimeout(c: Connection, now: Millis): void {
  c.fireTimer(now, "keepalive");
  const ka = c.ka;
  if (ka?.enabled !== true || !SYNCHRONIZED.has(c.state) || c.state === "TIME_WAIT") return;
  if (c.sndMax !== c.sndUna || c.sendBuffer.length > 0) {
    // Data is outstanding or waits to be sent: the retransmission or persist timer watches
    // the peer instead (Linux: packets_out or a non-empty write queue).
    c.armTimer(now, "keepalive", now + ka.idle);
    return;
  }
  if (givesUp(c, ka, now)) {
    // Linux sends a RST before reporting the dead peer.
    c.sendControl(RST | ACK, c.sndMax, c.rcvNxt, false);
    c.terminate(c.softError ?? "ETIMEDOUT", "keep-alive probes unanswered");
    return;
  }
  ka.probes++;
  // The probe is the byte before SND.UNA: old, so the peer answers with an ACK (RFC 1122 4.2.3.6).
  c.sendControl(ACK, seqAdd(c.sndUna, -1), c.rcvNxt, false);
  c.armTimer(now, "keepalive", now + ka.interval);
}

/**
 * Whether the unanswered probes are enough. With TCP_USER_TIMEOUT, Linux ignores
 * TCP_KEEPCNT: it gives up once a probe is out and the peer has been silent for the user
 * timeout (tcp_keepalive_timer; RFC 5482 leaves keep-alive to the implementation).
 */
function givesUp(c: Connection, ka: KeepAlive, now: Millis): boolean {
  const userTimeout = c.sender.userTimeout;
  if (userTimeout === 0) return ka.probes >= ka.count;
  const heard = Math.max(c.stats.lastAckRecvAt ?? -Infinity, c.stats.lastDataRecvAt ?? -Infinity);
  return ka.probes > 0 && now - heard >= userTimeout;
}
