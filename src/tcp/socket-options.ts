/**
 * Socket options on an open connection (Linux setsockopt at SOL_SOCKET and IPPROTO_TCP):
 * each checks its argument, throwing InvalidArgumentError (code ERR_INVALID_ARG_VALUE) for a bad one and
 * changing nothing then, and tells the connection what to do now that it is set.
 * SO_KEEPALIVE and its times are keepalive.ts's.
 */
import { checkBoolean, checkObject, InvalidArgumentError } from "./errors.js";
import { checkZerocopyOption } from "./zerocopy.js";
import type { Connection } from "./connection.js";
import { NOTSENT_UNLIMITED } from "./notsent-lowat.js";
import { DSCP_MASK, isTosByte } from "../wire/ip-ecn.js";
import { showValue } from "../show-value.js";

/**
 * SO_SNDBUF: later writes are charged against `bytes` (write-admission.ts). Bytes already
 * queued stay (Linux too keeps what sk_wmem_queued holds when the limit shrinks).
 */
export function setSendBufferSize(c: Connection, bytes: number): void {
  if (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes < 1) throw new InvalidArgumentError(`send buffer size must be a positive integer, got ${showValue(bytes)}`);
  c.sender.ownSendBuffer().lock(bytes);
  c.ctx.touched(c, false);
}

/** TCP_USER_TIMEOUT (RFC 5482): ms that data may stay unacknowledged before the connection fails; 0 = off. */
export function setUserTimeout(c: Connection, ms: number): void {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0) throw new InvalidArgumentError(`user timeout must be a non-negative integer of milliseconds, got ${showValue(ms)}`);
  c.sender.userTimeout = ms;
}

/**
 * TCP_NOTSENT_LOWAT (notsent-lowat.ts): at most about this many bytes written and not yet
 * sent; 0 = the setting's (`notsentLowat`, no limit by default), as Linux's setsockopt.
 */
export function setNotsentLowat(c: Connection, bytes: number): void {
  if (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes < 0 || bytes > NOTSENT_UNLIMITED) {
    throw new InvalidArgumentError(`TCP_NOTSENT_LOWAT must be an integer of bytes in 0..${NOTSENT_UNLIMITED}, got ${showValue(bytes)}`);
  }
  c.sender.notsentLowatOwn = bytes;
  c.wake(); // the limit moved: a writer may be able to write (Linux calls sk_write_space)
}

/** TCP_NODELAY. Turning Nagle off sends what it was holding, corked or not (as Linux does). */
export function setNoDelay(c: Connection, noDelay: boolean): void {
  c.sender.noDelay = checkBoolean("setNoDelay(noDelay)", noDelay);
  if (noDelay) {
    c.sender.pushOnce = true;
    c.ctx.touched(c, true);
  }
}

/** TCP_CORK: hold partial segments until uncorked; uncorking sends them. */
export function setCork(c: Connection, cork: boolean): void {
  c.sender.corked = checkBoolean("setCork(cork)", cork);
  if (!cork) c.ctx.touched(c, true);
}

/**
 * IP_TOS / IPV6_TCLASS (the DSCP of RFC 2474 and the bits before it): `tos` an integer in
 * 0..255. Returns it without its ECN bits, which TCP sets on each segment itself (RFC 3168
 * 6.1.1); Linux keeps them from the user the same way for a stream socket
 * (`__ip_sock_set_tos`, and `do_ipv6_setsockopt` for IPV6_TCLASS).
 */
export function typeOfServiceBits(tos: number): number {
  if (!isTosByte(tos)) throw new InvalidArgumentError(`type of service must be an integer in 0..255, got ${showValue(tos)}`);
  return tos & DSCP_MASK;
}

/** A positive, finite number of `name`, or InvalidArgumentError. */
export function positive(name: string, v: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got ${showValue(v)}`);
  return v;
}

/** send()'s flags as Linux's MSG_MORE, MSG_OOB, MSG_EOR, MSG_ZEROCOPY: checked before anything is queued; returns the zerocopy mode. */
export function checkSendOptions(opts: { more?: boolean; oob?: boolean; eor?: boolean; zerocopy?: boolean | "continue"; timestamp?: boolean } | undefined): boolean | "continue" {
  if (opts === undefined) return false;
  checkObject("send(data, options): options", opts);
  for (const name of ["more", "oob", "eor", "timestamp"] as const) checkBoolean(`send(data, { ${name} })`, opts[name], true);
  return checkZerocopyOption(opts.zerocopy);
}
