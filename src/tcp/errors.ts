/**
 * Why a connection ended abnormally. The codes are the POSIX names users already switch
 * on (and node:net uses), so they stay stable across every API layer.
 */
import { IpAddress } from "../wire/address.js";
import { showValue } from "../show-value.js";
import type { FourTuple } from "../trace/events.js";

export type TcpErrorCode =
  /** RST in answer to our SYN (RFC 9293 3.10.7.3): nobody listens there. */
  | "ECONNREFUSED"
  /** RST on a synchronized connection (RFC 9293 3.10.7.4). */
  | "ECONNRESET"
  /** Retries exhausted: SYN, data, FIN or keep-alive probes went unanswered. */
  | "ETIMEDOUT"
  /** The local application aborted the connection (sent RST). */
  | "ECONNABORTED"
  /** send() after the sending side was closed. */
  | "EPIPE"
  /**
   * An ICMP error (RFC 1122 4.2.3.9, RFC 5927): during connect it fails the connection at
   * once; later it is remembered and reported instead of ETIMEDOUT if the retries run out.
   */
  | "ENETUNREACH"
  | "EHOSTUNREACH"
  | "ENOPROTOOPT"
  | "EHOSTDOWN"
  | "ENONET"
  | "EOPNOTSUPP"
  | "EACCES"
  | "EPROTO";

export class TcpError extends Error {
  constructor(
    readonly code: TcpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TcpError";
  }
}

/** A bad argument or setting from the application; nothing was changed. Code as Node uses. */
export class InvalidArgumentError extends Error {
  readonly code = "ERR_INVALID_ARG_VALUE";
  constructor(message: string) {
    super(message);
    this.name = "InvalidArgumentError";
  }
}

/** A switch the application sets: true or false (or, when `optional`, left out); anything else is refused rather than read as truthy. */
export function checkBoolean<T extends boolean | undefined = boolean>(name: string, value: T, optional = false): T {
  if (typeof value !== "boolean" && !(optional && value === undefined)) throw new InvalidArgumentError(`${name} must be true or false, got ${showValue(value)}`);
  return value;
}

/** An argument that must be an object (a parameter bag or a 4-tuple): not null, not a primitive. */
export function checkObject<T>(name: string, value: T): T {
  if (typeof value !== "object" || value === null) throw new InvalidArgumentError(`${name} must be an object, got ${showValue(value)}`);
  return value;
}

/** A 4-tuple from the application: two addresses and two ports. */
export function checkTuple(name: string, t: FourTuple): FourTuple {
  checkObject(name, t);
  checkAddress(`${name}.localAddr`, t.localAddr);
  checkAddress(`${name}.remoteAddr`, t.remoteAddr);
  checkPort(`${name}.localPort`, t.localPort, true);
  checkPort(`${name}.remotePort`, t.remotePort, true);
  return t;
}

export function checkPort(name: string, port: unknown, allowZero = false): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new InvalidArgumentError(`${name} must be an integer in ${allowZero ? 0 : 1}-65535, got ${showValue(port)}`);
  }
  return port;
}

export function checkAddress(name: string, addr: unknown): IpAddress {
  if (!(addr instanceof IpAddress)) {
    throw new InvalidArgumentError(`${name} must be an IpAddress (parseIpAddress, IpAddress.v4), got ${showValue(addr)}`);
  }
  return addr;
}

/** The message of an error that ended a connection, with what caused it. */
export function messageFor(code: TcpErrorCode, cause: string): string {
  switch (code) {
    case "ECONNREFUSED":
      return `connection refused (${cause})`;
    case "ECONNRESET":
      return `connection reset by peer (${cause})`;
    case "ETIMEDOUT":
      return `connection timed out (${cause})`;
    case "ECONNABORTED":
      return `connection aborted (${cause})`;
    case "EPIPE":
      return `broken pipe (${cause})`;
    case "ENETUNREACH":
      return `network unreachable (${cause})`;
    case "EHOSTUNREACH":
      return `no route to host (${cause})`;
    case "ENOPROTOOPT":
      return `protocol not available (${cause})`;
    case "EHOSTDOWN":
      return `host is down (${cause})`;
    case "ENONET":
      return `machine is not on the network (${cause})`;
    case "EOPNOTSUPP":
      return `operation not supported (${cause})`;
    case "EACCES":
      return `permission denied by the path (${cause})`;
    case "EPROTO":
      return `protocol error (${cause})`;
  }
}

/** No local port or 4-tuple free for a bind or connect (EADDRINUSE, EADDRNOTAVAIL). */
export class AddressInUseError extends Error {
  constructor(
    message: string,
    readonly code: "EADDRINUSE" | "EADDRNOTAVAIL" = "EADDRINUSE",
  ) {
    super(message);
    this.name = "AddressInUseError";
  }
}
