/**
 * node:net's argument forms for connect() and listen() (options objects, or port, host,
 * backlog and listener in any of the orders Node accepts), normalised in one place.
 */
import type { LookupFunction } from "../api/name-connect.js";
import { isIP } from "node:net";
import { nodeError } from "./net-errors.js";
import { invalidArgType, validateNumber, validatePort } from "./net-validate.js";
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
  /** The new socket's option: read by net.connect(), not by socket.connect() (as node:net). */
  noDelay?: boolean;
  /** The new socket's option: read by net.connect(), not by socket.connect() (as node:net). */
  keepAlive?: boolean;
  /** The new socket's option: read by net.connect(), not by socket.connect() (as node:net). */
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
  /** Closes the server when aborted, as node:net's option. */
  signal?: AbortSignal;
}

export type ListenArgs =
  | [options: ListenOptions, listener?: () => void]
  | [port?: number, host?: string, backlog?: number, listener?: () => void]
  | [port: number, host: string, listener?: () => void]
  | [port: number, backlog: number, listener?: () => void]
  | [port: number, listener?: () => void]
  | [listener?: () => void];


/**
 * connect()'s arguments as node:net reads them (normalizeArgs, Socket.connect and
 * lookupAndConnect in Node 20's lib/net.js), with the same refusals:
 * - an object is the options; a string that is not a number is an IPC path (not supported
 *   here: ERR_INVALID_ARG_VALUE); anything else is the port, then a string host;
 * - `timeout` is net.connect()'s option, not socket.connect()'s (createConnection applies it);
 * - the listener is the last argument if it is a function;
 * - no port is ERR_MISSING_ARGS; a port that is neither number nor string ERR_INVALID_ARG_TYPE;
 *   one outside 0-65535, fractional or blank ERR_SOCKET_BAD_PORT ("80" is port 80, and 0
 *   fails later, as connecting to port 0 does);
 * - a host that is not a string, a localPort that is not a number, autoSelectFamily that is
 *   not a boolean: ERR_INVALID_ARG_TYPE; a localAddress that is not an address literal:
 *   ERR_INVALID_IP_ADDRESS; autoSelectFamilyAttemptTimeout must be an int32 >= 1.
 * An empty host means the default, as `options.host || "localhost"` does in Node.
 */
export function normalizeConnectArgs(args: ConnectArgs | unknown[]): { options: SocketConnectOptions; listener: (() => void) | undefined } {
  const [first, second] = args as unknown[];
  const last = args[args.length - 1];
  const listener = typeof last === "function" ? (last as () => void) : undefined;
  let raw: Record<string, unknown>;
  if (typeof first === "object" && first !== null) raw = { ...first };
  else if (typeof first === "string" && !(Number(first) >= 0)) raw = { path: first };
  else {
    raw = args.length === 0 ? {} : { port: first };
    if (args.length > 1 && typeof second === "string") raw.host = second;
  }
  if (raw.port === undefined && (raw.path === undefined || raw.path === null)) {
    throw nodeError("ERR_MISSING_ARGS", 'The "options" or "port" or "path" argument must be specified', TypeError);
  }
  // A falsy path is no path, as `!!path` in Node.
  if (raw.path) {
    if (typeof raw.path !== "string") throw invalidArgType("options.path", "of type string", raw.path);
    throw nodeError("ERR_INVALID_ARG_VALUE", "synack sockets do not connect to IPC paths (options.path)", TypeError);
  }
  if (raw.localAddress && (typeof raw.localAddress !== "string" || isIP(raw.localAddress) === 0)) {
    throw nodeError("ERR_INVALID_IP_ADDRESS", `Invalid IP address: ${showValue(raw.localAddress)}`, TypeError);
  }
  if (raw.localPort) validateNumber(raw.localPort, "options.localPort");
  // No port with a falsy path passes Node's checks, as port 0.
  const port = raw.port === undefined ? 0 : raw.port;
  if (typeof port !== "number" && typeof port !== "string") throw invalidArgType("options.port", "one of type number or string", port);
  raw.port = validatePort(port, "Port");
  if (raw.autoSelectFamily !== undefined && raw.autoSelectFamily !== null && typeof raw.autoSelectFamily !== "boolean") {
    throw invalidArgType("options.autoSelectFamily", "of type boolean", raw.autoSelectFamily);
  }
  const attempt = raw.autoSelectFamilyAttemptTimeout;
  if (attempt !== undefined && attempt !== null) {
    validateNumber(attempt, "options.autoSelectFamilyAttemptTimeout");
    if (!Number.isInteger(attempt) || attempt < 1 || attempt > 2 ** 31 - 1) {
      throw nodeError("ERR_OUT_OF_RANGE", `The value of "options.autoSelectFamilyAttemptTimeout" is out of range. It must be an integer >= 1 && <= 2147483647. Received ${showValue(attempt)}`, RangeError);
    }
  }
  // The host last, as Node checks it when it looks the name up.
  if (!raw.host) delete raw.host;
  if (raw.host !== undefined && typeof raw.host !== "string") throw invalidArgType("options.host", "of type string", raw.host);
  return { options: raw as unknown as SocketConnectOptions, listener };
}

/** Node's toNumber for a backlog among listen()'s arguments: a number >= 0, else false. */
function backlogArg(x: unknown): number | false {
  let n: number;
  try {
    n = Number(x);
  } catch {
    // A symbol, or an object whose conversion throws: Node throws a bare TypeError here.
    throw invalidArgType("backlog", "of type number", x);
  }
  return n >= 0 ? n : false;
}

/**
 * listen()'s arguments as node:net reads them (normalizeArgs and Server.listen in Node 20's
 * lib/net.js), with the same refusals:
 * - an object is the options, a string that is not a number an IPC path, anything else the
 *   port then a string host; the listener is the last argument if it is a function;
 * - no port (listen(), listen(cb), listen(null), { port: undefined }) is any free port;
 * - a port outside 0-65535, fractional or blank is ERR_SOCKET_BAD_PORT; options with
 *   neither port nor path, or a port of another type, ERR_INVALID_ARG_VALUE;
 * - the backlog is `options.backlog`, else the second or third argument if it is a number
 *   >= 0 (as a string of digits too), taken as an int32 as libuv's listen() does;
 * - a host that is not a string is ERR_INVALID_ARG_TYPE (Node's lookup of it says so), and
 *   so is a `signal` that is not an AbortSignal;
 * Not supported here: IPC paths, handles and file descriptors (ERR_INVALID_ARG_VALUE).
 */
export function normalizeListenArgs(args: ListenArgs | unknown[]): { port: number; host: string | undefined; backlog: number | undefined; listener: (() => void) | undefined; ipv6Only: boolean | undefined; signal: AbortSignal | undefined } {
  const [first, second] = args as unknown[];
  const last = args[args.length - 1];
  const listener = typeof last === "function" ? (last as () => void) : undefined;
  let options: Record<string, unknown>;
  if (typeof first === "object" && first !== null) options = first as Record<string, unknown>;
  else if (typeof first === "string" && !(Number(first) >= 0)) options = { path: first };
  else {
    options = args.length === 0 ? {} : { port: first };
    if (args.length > 1 && typeof second === "string") options.host = second;
  }
  const backlogFromArgs = backlogArg(args.length > 1 && args[1]) || backlogArg(args.length > 2 && args[2]);
  if (options._handle || options.handle) throw nodeError("ERR_INVALID_ARG_VALUE", "synack servers do not listen on handles", TypeError);
  const signal = options.signal;
  if (signal !== undefined && (signal === null || typeof signal !== "object" || !("aborted" in signal))) throw invalidArgType("options.signal", "an instance of AbortSignal", signal);
  if (typeof options.fd === "number" && options.fd >= 0) throw nodeError("ERR_INVALID_ARG_VALUE", "synack servers do not listen on file descriptors", TypeError);
  let port = options.port;
  if (args.length === 0 || typeof first === "function" || (port === undefined && "port" in options) || port === null) port = 0;
  if (typeof port === "number" || typeof port === "string") {
    const portNumber = validatePort(port, "options.port");
    const host = options.host ? options.host : undefined;
    if (host !== undefined && typeof host !== "string") throw invalidArgType("hostname", "of type string", host);
    const rawBacklog = options.backlog || backlogFromArgs;
    // libuv's listen(backlog || 511) reads an int32; Linux takes a negative one as 0.
    const backlog = rawBacklog ? Math.max(0, (backlogArg(rawBacklog) || 0) | 0) : undefined;
    return { port: portNumber, host, backlog, listener, ipv6Only: options.ipv6Only === undefined ? undefined : Boolean(options.ipv6Only), signal: signal as AbortSignal | undefined };
  }
  if (typeof options.path === "string" && options.path !== "" && !(Number(options.path) >= 0)) {
    throw nodeError("ERR_INVALID_ARG_VALUE", "synack servers do not listen on IPC paths (options.path)", TypeError);
  }
  if (!("port" in options || "path" in options)) throw nodeError("ERR_INVALID_ARG_VALUE", `The argument 'options' must have the property "port" or "path". Received ${showValue(options)}`, TypeError);
  throw nodeError("ERR_INVALID_ARG_VALUE", `The argument 'options' is invalid. Received ${showValue(options)}`, TypeError);
}
