/**
 * node:net over synack: `Socket` (a stream.Duplex) and `Server` (an EventEmitter) with
 * Node's semantics, so libraries written for node:net (http, database drivers, ws) run
 * unchanged over a synack Stack — real-time on a link, or in the simulator.
 *
 * What follows Node (lib/net.js) on purpose, because programs depend on it:
 * - Events: connect + ready; data, end, finish, close(hadError), error, timeout, drain;
 *   listening, connection, close on the server. 'close' comes a turn after the destroy, as
 *   libuv's handle-close callback does, so 'error' always precedes it.
 * - `write()` hands bytes to TCP's send buffer; its callback runs when TCP took them, and it
 *   returns false (then 'drain') only while the send buffer is full: TCP's buffer is the
 *   kernel's socket buffer here.
 * - `end()` is a half-close (FIN after the queued data); with allowHalfOpen false the
 *   peer's FIN ends our side too, and a later write fails with EPIPE as in node:net.
 * - `destroy()` closes (FIN, or RST if received data was never read, as Linux does);
 *   `resetAndDestroy()` sends RST.
 * - Errors carry Node's codes, errno, syscall and address ("connect ECONNREFUSED ...").
 *
 * Host names go through `lookup` or the stack's stub resolver, with Happy Eyeballs
 * (src/node/net-lookup.ts). Arguments are checked as node:net checks them (net-validate.ts):
 * switches are taken for their truth, numbers of the wrong type are ERR_INVALID_ARG_TYPE.
 * Not supported: IPC paths, file descriptors (`fd`), `localAddress` binding (a stack has
 * one address per route).
 */
import type { Stack } from "../api/stack.js";
import type { LookupFunction } from "../api/name-connect.js";
import type { NetError } from "./net-errors.js";
import type { ConnectArgs, ListenOptions, SocketConnectOptions } from "./net-args.js";
import { Socket, type SocketOptions } from "./net-socket.js";
import { Server, type ServerOptions } from "./net-server.js";
import { nodeError } from "./net-errors.js";
import { checkStack, invalidArgType } from "./net-validate.js";

// The classes live in net-socket.ts and net-server.ts; this module is what users import.
export { Socket, type AddressInfo, type SocketOptions } from "./net-socket.js";
export { Server, type ServerOptions } from "./net-server.js";
export type { LookupFunction, ListenOptions, SocketConnectOptions };

// -----------------------------------------------------------------------------------------
// node:net's factory functions, bound to a stack

export interface BoundNet {
  createServer(listener?: (socket: Socket) => void): Server;
  createServer(options: Omit<ServerOptions, "stack">, listener?: (socket: Socket) => void): Server;
  createConnection(...args: ConnectArgs): Socket;
  connect(...args: ConnectArgs): Socket;
  /** A Socket on this stack (not yet connected). */
  socket(options?: Omit<SocketOptions, "stack">): Socket;
}

/** `net.createServer` / `net.connect` for one stack: `const net = bindNet(stack)`. */
export function bindNet(stack: Stack): BoundNet {
  checkStack("bindNet(stack)", stack);
  const createConnection = (...args: ConnectArgs): Socket => {
    const [first] = args;
    const options = typeof first === "object" && first !== null ? first : undefined;
    const socket = new Socket({ ...(options === undefined ? {} : socketOptionsOf(options)), stack });
    // As net.connect(): a falsy timeout sets none; a bad one throws before connecting.
    if (options?.timeout) socket.setTimeout(options.timeout);
    return socket.connect(...args);
  };
  function createServer(a?: Omit<ServerOptions, "stack"> | ((socket: Socket) => void), b?: (socket: Socket) => void): Server {
    if (typeof a === "function") return new Server({ stack }, a);
    // As node:net's Server: no options, or an object; anything else is ERR_INVALID_ARG_TYPE.
    if (a !== undefined && a !== null && typeof a !== "object") throw invalidArgType("options", "of type object", a);
    return new Server({ ...a, stack }, typeof b === "function" ? b : undefined);
  }
  return {
    createServer,
    createConnection,
    connect: createConnection,
    socket: (options = {}) => {
      if (typeof options === "number") throw nodeError("ERR_INVALID_ARG_VALUE", "synack sockets do not wrap file descriptors", TypeError);
      return new Socket({ ...options, stack });
    },
  };
}

/** What net.connect(options) gives the new Socket, as Node's `new Socket(options)` takes them. */
const SOCKET_OPTION_NAMES = ["allowHalfOpen", "noDelay", "keepAlive", "keepAliveInitialDelay", "signal", "highWaterMark", "readableHighWaterMark", "writableHighWaterMark", "objectMode", "readableObjectMode", "writableObjectMode", "fd"] as const;

function socketOptionsOf(options: object): Partial<SocketOptions> {
  const picked: Record<string, unknown> = {};
  for (const name of SOCKET_OPTION_NAMES) if ((options as Record<string, unknown>)[name] !== undefined) picked[name] = (options as Record<string, unknown>)[name];
  return picked;
}

export type { NetError };
