/**
 * Errors the IP layer and UDP sockets report to applications: one class per failure, each
 * with a stable POSIX `code` users can switch on (the same names Linux and node:dgram use),
 * so every API layer above can pass them through unchanged.
 *
 * They are thrown only from application calls (bind, connect, send, recv). Packet
 * processing never throws: what goes wrong there is counted and traced as a drop.
 */

import type { IpAddress } from "../wire/address.js";
export type IpErrorCode =
  /** No route matches the destination (Linux: no FIB entry). */
  | "ENETUNREACH"
  /** A route says the destination cannot be reached, or ICMP said so. */
  | "EHOSTUNREACH"
  /** A datagram too large to send (over 65,507 bytes, or over the MTU with DF forced). */
  | "EMSGSIZE"
  /** The local port (or address:port) is already bound. */
  | "EADDRINUSE"
  /** Binding to an address this host does not have. */
  | "EADDRNOTAVAIL"
  /** send() without a destination on an unconnected socket. */
  | "EDESTADDRREQ"
  /** ICMP port unreachable for a connected UDP socket (RFC 1122 4.1.3.3). */
  | "ECONNREFUSED"
  /** ICMP protocol unreachable. */
  | "ENOPROTOOPT"
  /** ICMP communication administratively prohibited. */
  | "EACCES"
  /** ICMP host unknown. */
  | "EHOSTDOWN"
  /** ICMP host isolated. */
  | "ENONET"
  /** ICMP source route failed. */
  | "EOPNOTSUPP"
  /** ICMPv6 parameter problem about a packet we sent. */
  | "EPROTO"
  /** The socket's send buffer is full: the application sends faster than the stack drains. */
  | "EAGAIN"
  /** The socket is closed. */
  | "EBADF"
  /** A call that makes no sense in the socket's state, or an out-of-range argument. */
  | "EINVAL";

export class IpError extends Error {
  constructor(
    readonly code: IpErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "IpError";
  }
}

/** No route to the destination's network (routing table has no matching entry). */
export class NetworkUnreachableError extends IpError {
  constructor(readonly destination: IpAddress, message: string) {
    super("ENETUNREACH", message);
    this.name = "NetworkUnreachableError";
  }
}

/** A route marks the destination unreachable. */
export class HostUnreachableError extends IpError {
  constructor(readonly destination: IpAddress, message: string) {
    super("EHOSTUNREACH", message);
    this.name = "HostUnreachableError";
  }
}

/** The datagram is larger than `limit` bytes. */
export class MessageTooLongError extends IpError {
  constructor(
    readonly size: number,
    readonly limit: number,
    message: string,
  ) {
    super("EMSGSIZE", message);
    this.name = "MessageTooLongError";
  }
}

export class PortInUseError extends IpError {
  constructor(readonly port: number, message: string) {
    super("EADDRINUSE", message);
    this.name = "PortInUseError";
  }
}

export class AddressNotAvailableError extends IpError {
  constructor(readonly address: number | IpAddress, message: string) {
    super("EADDRNOTAVAIL", message);
    this.name = "AddressNotAvailableError";
  }
}

export class DestinationRequiredError extends IpError {
  constructor(message: string) {
    super("EDESTADDRREQ", message);
    this.name = "DestinationRequiredError";
  }
}

/** The send buffer is full; wait for the socket's wake-up and try again. */
export class WouldBlockError extends IpError {
  constructor(message: string) {
    super("EAGAIN", message);
    this.name = "WouldBlockError";
  }
}

export class SocketClosedError extends IpError {
  constructor(message: string) {
    super("EBADF", message);
    this.name = "SocketClosedError";
  }
}

export class InvalidArgumentError extends IpError {
  constructor(message: string) {
    super("EINVAL", message);
    this.name = "InvalidArgumentError";
  }
}

/** An ICMP error about a datagram this socket sent, reported on the socket. */
export class IcmpReportedError extends IpError {
  constructor(
    code: IpErrorCode,
    /** Who sent the ICMP message (a router or the destination host): an IPv4 uint32 or an IPv6 address. */
    readonly reporter: number | IpAddress,
    readonly icmpType: number,
    readonly icmpCode: number,
    message: string,
  ) {
    super(code, message);
    this.name = "IcmpReportedError";
  }
}

/** ICMP port unreachable: nobody listens on the connected peer's port. */
export class ConnectionRefusedError extends IcmpReportedError {
  constructor(reporter: number | IpAddress, icmpType: number, icmpCode: number, message: string) {
    super("ECONNREFUSED", reporter, icmpType, icmpCode, message);
    this.name = "ConnectionRefusedError";
  }
}
