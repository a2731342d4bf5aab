/**
 * Errors shaped the way node:net reports them, so code that switches on `err.code` or
 * prints `err.message` cannot tell synack from the kernel: an `Error` with `code`,
 * negative `errno`, `syscall`, and `address`/`port` for connect and listen failures
 * ("connect ECONNREFUSED 10.0.0.2:80"). The synack error it came from is the `cause`.
 */
import { constants } from "node:os";

export interface NetError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
  hostname?: string;
}

/** The messages libuv uses after "listen EADDRINUSE: ..." (uvExceptionWithHostPort). */
const UV_MESSAGES: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
};

/** An errno error as node:net builds it (errnoException / exceptionWithHostPort). */
export function errnoError(code: string, syscall: string, where?: { address?: string; port?: number }, cause?: unknown): NetError {
  let message = `${syscall} ${code}`;
  if (syscall === "listen" && UV_MESSAGES[code] !== undefined) message += `: ${UV_MESSAGES[code]}`;
  if (where?.address !== undefined) message += where.port !== undefined && where.port > 0 ? ` ${where.address}:${where.port}` : ` ${where.address}`;
  const e = (cause === undefined ? new Error(message) : new Error(message, { cause })) as NetError;
  e.code = code;
  const errno = (constants.errno as Record<string, number | undefined>)[code];
  if (errno !== undefined) e.errno = -errno;
  e.syscall = syscall;
  if (where?.address !== undefined) e.address = where.address;
  if (where?.port !== undefined && where.port > 0) e.port = where.port;
  return e;
}

/** Node's own ERR_* errors (ERR_SOCKET_CLOSED, ERR_SERVER_NOT_RUNNING, ...). */
export function nodeError(code: string, message: string, Ctor: ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor = Error): NetError {
  const e = new Ctor(message) as NetError;
  e.code = code;
  return e;
}

/**
 * The DNS failure node:net reports for a name it cannot resolve: "getaddrinfo ENOTFOUND
 * name" (or EAI_AGAIN when no server answered), with `hostname`, and the cause.
 */
export function lookupError(hostname: string, cause?: unknown, code = "ENOTFOUND"): NetError {
  const e = errnoError(code, "getaddrinfo", { address: hostname }, cause);
  e.hostname = hostname;
  delete e.errno;
  return e;
}
