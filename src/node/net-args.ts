/**
 * node:net's argument forms for connect() and listen() (options objects, or port, host,
 * backlog and listener in any of the orders Node accepts), normalised in one place.
 */
import type { LookupFunction } from "../api/name-connect.js";
import { nodeError } from "./net-errors.js";
import { showValue } from "../show-value.js";

export interface SocketConnectOptions {
  port: number;
  /** Used by createConnection/connect for the new socket (as node:net does). */
  allowHalfOpen?: boolean;
  /**
   * An IPv4 or IPv6 literal, "localhost", or a name resolved by `lookup` or the stack's DNS
   * servers (`dns: { servers }`); default: the stack's own address.
   */
  host?: string;
  /** Only addresses of this family (4 or 6; default either), as node:net's option. */
  family?: number;
  /** Resolves a name that is not an address literal (node:net's option, dns.lookup's signature). */
  lookup?: LookupFunction;
  /** Happy Eyeballs over both families (RFC 8305), node:net's option; default true as in Node 20. */
  autoSelectFamily?: boolean;
  /** The Connection Attempt Delay in ms (default 250, kept within 100..2000 as RFC 8305 5 says). */
  autoSelectFamilyAttemptTimeout?: number;
  localPort?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** Idle timeout in ms ('timeout' event), as socket.setTimeout. */
  timeout?: number;
  /** TCP Fast Open (RFC 7413): a write() in the same tick as connect() rides in the SYN once a cookie is cached. */
  fastOpen?: boolean;
  /** IP_TOS / IPV6_TCLASS of its packets, as socket.setTypeOfService() (Node 24's option). */
  typeOfService?: number;
}

export type ConnectArgs = [options: SocketConnectOptions, listener?: () => void] | [port: number, host?: string, listener?: () => void] | [port: number, listener?: () => void];

export interface ListenOptions {
  port?: number;
  /** "0.0.0.0" (IPv4 only), "::" (both families, IPv4 peers shown as ::ffff:a.b.c.d, unless ipv6Only), or an address. */
  host?: string;
  backlog?: number;
  /** With host "::": IPv6 only, as node:net's option (IPV6_V6ONLY). */
  ipv6Only?: boolean;
}

export type ListenArgs =
  | [options: ListenOptions, listener?: () => void]
  | [port?: number, host?: string, backlog?: number, listener?: () => void]
  | [port: number, host: string, listener?: () => void]
  | [port: number, backlog: number, listener?: () => void]
  | [port: number, listener?: () => void]
  | [listener?: () => void];


export function normalizeConnectArgs(args: ConnectArgs): { options: SocketConnectOptions; listener: (() => void) | undefined } {
  const [first, second, third] = args;
  let options: SocketConnectOptions;
  let listener: (() => void) | undefined;
  if (typeof first === "object" && first !== null) {
    options = { ...first };
    listener = typeof second === "function" ? second : undefined;
  } else {
    options = { port: Number(first) };
    if (typeof second === "string") options.host = second;
    listener = typeof second === "function" ? second : typeof third === "function" ? third : undefined;
  }
  const port = options.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535 || port === 0) {
    throw nodeError("ERR_SOCKET_BAD_PORT", `Port should be >= 0 and < 65536. Received ${showValue(port)}.`, RangeError);
  }
  return { options, listener };
}

export function normalizeListenArgs(args: ListenArgs): { port: number; host: string | undefined; backlog: number | undefined; listener: (() => void) | undefined; ipv6Only: boolean | undefined } {
  const listener = args.find((a): a is () => void => typeof a === "function");
  const rest = args.filter((a) => typeof a !== "function" && a !== undefined);
  let port = 0;
  let host: string | undefined;
  let backlog: number | undefined;
  let ipv6Only: boolean | undefined;
  const [first, second, third] = rest;
  if (typeof first === "object" && first !== null) {
    port = first.port ?? 0;
    host = first.host;
    backlog = first.backlog;
    ipv6Only = first.ipv6Only;
  } else {
    if (typeof first === "number" || typeof first === "string") port = Number(first);
    if (typeof second === "string") host = second;
    else if (typeof second === "number") backlog = second;
    if (typeof third === "number") backlog = third;
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw nodeError("ERR_SOCKET_BAD_PORT", `options.port should be >= 0 and < 65536. Received ${showValue(port)}.`, RangeError);
  }
  return { port, host, backlog, listener, ipv6Only };
}
