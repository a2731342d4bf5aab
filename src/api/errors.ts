/**
 * Errors the user-facing APIs report: one class per failure, each with a stable `code`
 * (the POSIX name users already switch on, the same names node:net uses), so code written
 * against the Web Streams API and the node:net API handles failures the same way.
 *
 * The engine's own errors (TcpError, AddressInUseError, the IP layer's errors) are
 * translated here once, so every API layer reports one vocabulary.
 */
import { TcpError, type TcpErrorCode } from "../tcp/errors.js";

export type SocketErrorCode =
  | TcpErrorCode
  /** No route to the destination network / the destination is unreachable. */
  | "ENETUNREACH"
  | "EHOSTUNREACH"
  /** The stack was closed (its driver stopped, its link closed): nothing new opens on it. */
  | "ENETDOWN"
  /** The local port (or 4-tuple) is already in use. */
  | "EADDRINUSE"
  /** No local address/port can be used (e.g. the ephemeral range is exhausted). */
  | "EADDRNOTAVAIL"
  /** A bad argument: not an IPv4 address, a port out of range, a chunk that is not bytes. */
  | "EINVAL"
  /** The hostname does not exist, has no address, or no name service exists to resolve it. */
  | "ENOTFOUND"
  /** The hostname could not be resolved now: no DNS server answered, or they failed (getaddrinfo's EAI_AGAIN). */
  | "EAI_AGAIN"
  /** An operation on a socket or listener the application already closed. */
  | "ERR_SOCKET_CLOSED";

export class SocketError extends Error {
  constructor(
    readonly code: SocketErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SocketError";
  }
}

/** Nobody listens on the remote port (the peer answered our SYN with RST). */
export class ConnectionRefusedError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ECONNREFUSED", message, options);
    this.name = "ConnectionRefusedError";
  }
}

/** The peer reset an established connection. */
export class ConnectionResetError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ECONNRESET", message, options);
    this.name = "ConnectionResetError";
  }
}

/** Retransmissions (SYN, data, FIN or keep-alive probes) went unanswered. */
export class TimedOutError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ETIMEDOUT", message, options);
    this.name = "TimedOutError";
  }
}

/** The local side aborted the connection (sent RST). */
export class ConnectionAbortedError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ECONNABORTED", message, options);
    this.name = "ConnectionAbortedError";
  }
}

/** Writing after the sending direction was closed. */
export class BrokenPipeError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EPIPE", message, options);
    this.name = "BrokenPipeError";
  }
}

export class NetworkUnreachableError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ENETUNREACH", message, options);
    this.name = "NetworkUnreachableError";
  }
}

export class NetworkDownError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ENETDOWN", message, options);
    this.name = "NetworkDownError";
  }
}

export class HostUnreachableError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EHOSTUNREACH", message, options);
    this.name = "HostUnreachableError";
  }
}

export class AddressInUseError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EADDRINUSE", message, options);
    this.name = "AddressInUseError";
  }
}

export class AddressNotAvailableError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EADDRNOTAVAIL", message, options);
    this.name = "AddressNotAvailableError";
  }
}

export class InvalidArgumentError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EINVAL", message, options);
    this.name = "InvalidArgumentError";
  }
}

export class HostNotFoundError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ENOTFOUND", message, options);
    this.name = "HostNotFoundError";
  }
}

/** The name servers did not answer (or failed): try again later, as getaddrinfo's EAI_AGAIN says. */
export class NameResolutionError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("EAI_AGAIN", message, options);
    this.name = "NameResolutionError";
  }
}

export class SocketClosedError extends SocketError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_SOCKET_CLOSED", message, options);
    this.name = "SocketClosedError";
  }
}

/** The rarer errnos an ICMP error can end a connection with (Linux icmp_err_convert), one class each. */
function icmpErrorClass(code: SocketErrorCode, name: string): new (message: string, options?: { cause?: unknown }) => SocketError {
  return class extends SocketError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
      this.name = name;
    }
  };
}

export const ProtocolUnavailableError = icmpErrorClass("ENOPROTOOPT", "ProtocolUnavailableError");
export const HostDownError = icmpErrorClass("EHOSTDOWN", "HostDownError");
export const NotOnNetworkError = icmpErrorClass("ENONET", "NotOnNetworkError");
export const NotSupportedError = icmpErrorClass("EOPNOTSUPP", "NotSupportedError");
export const ProhibitedError = icmpErrorClass("EACCES", "ProhibitedError");
export const ProtocolError = icmpErrorClass("EPROTO", "ProtocolError");

const BY_CODE: Record<SocketErrorCode, new (message: string, options?: { cause?: unknown }) => SocketError> = {
  ENOPROTOOPT: ProtocolUnavailableError,
  EHOSTDOWN: HostDownError,
  ENONET: NotOnNetworkError,
  EOPNOTSUPP: NotSupportedError,
  EACCES: ProhibitedError,
  EPROTO: ProtocolError,
  ECONNREFUSED: ConnectionRefusedError,
  ECONNRESET: ConnectionResetError,
  ETIMEDOUT: TimedOutError,
  ECONNABORTED: ConnectionAbortedError,
  EPIPE: BrokenPipeError,
  ENETUNREACH: NetworkUnreachableError,
  EHOSTUNREACH: HostUnreachableError,
  ENETDOWN: NetworkDownError,
  EADDRINUSE: AddressInUseError,
  EADDRNOTAVAIL: AddressNotAvailableError,
  EINVAL: InvalidArgumentError,
  ENOTFOUND: HostNotFoundError,
  EAI_AGAIN: NameResolutionError,
  ERR_SOCKET_CLOSED: SocketClosedError,
};

/** The error class for `code`, built with `message`. */
export function socketError(code: SocketErrorCode, message: string, cause?: unknown): SocketError {
  const Ctor = BY_CODE[code];
  return cause === undefined ? new Ctor(message) : new Ctor(message, { cause });
}

const PASSED_THROUGH: ReadonlySet<string> = new Set<SocketErrorCode>(["EADDRINUSE", "EADDRNOTAVAIL", "EPIPE", "ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH"]);

function isPassedThrough(code: unknown): code is SocketErrorCode {
  return typeof code === "string" && PASSED_THROUGH.has(code);
}

/**
 * Translates whatever an engine call threw into a SocketError. The engine reports with
 * several classes (TcpError, the TCP layer's AddressInUseError, the IP layer's errors,
 * argument errors); all of them carry a `code`, and the codes are what users switch on.
 */
export function toSocketError(e: unknown): SocketError {
  if (e instanceof SocketError) return e;
  if (e instanceof TcpError) return socketError(e.code, e.message, e);
  if (e instanceof Error) {
    const code: unknown = Reflect.get(e, "code");
    if (isPassedThrough(code)) {
      return socketError(code, e.message, e);
    }
    if (code === "EINVAL" || code === "ERR_INVALID_ARG_VALUE" || e instanceof RangeError) {
      return socketError("EINVAL", e.message, e);
    }
    throw e; // a bug, not a network condition: let it surface as itself
  }
  throw e;
}
