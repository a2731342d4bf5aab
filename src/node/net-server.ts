/**
 * node:net's Server over a synack Listener: an EventEmitter that turns each connection in
 * TCP's accept queue into a Socket ('connection'), with node:net's listen() forms, 'listening',
 * 'close' once the listener and every accepted socket are closed, maxConnections and 'drop'.
 */
import { EventEmitter } from "node:events";
import type { Stack } from "../api/stack.js";
import { holdOf, type Hold } from "../api/driver.js";
import { familyName, formatAddress } from "../api/address.js";
import { toSocketError } from "../api/errors.js";
import type { Listener } from "../tcp/listener.js";
import { errnoError, nodeError } from "./net-errors.js";
import { checkKeepAliveDelayOption, checkStack, validateNumber } from "./net-validate.js";
import { normalizeListenArgs, type ListenArgs } from "./net-args.js";
import { onSocketClosed, Socket, type AddressInfo } from "./net-socket.js";

export interface ServerOptions {
  stack: Stack;
  allowHalfOpen?: boolean;
  /** Accepted sockets start paused. */
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** The stream buffer of accepted sockets, each way, in bytes (node:net's option). */
  highWaterMark?: number;
  /** TCP Fast Open queue length (TCP_FASTOPEN); needs the stack's `tcp.fastOpen` server bit 0x2. */
  fastOpen?: number;
}

export class Server extends EventEmitter {
  readonly stack: Stack;
  /** Further connections are closed at once (and 'drop' is emitted) once this many are open. */
  maxConnections: number | undefined;
  #options: ServerOptions;
  #listener: Listener | undefined;
  #host: string | undefined;
  #connections = 0;
  #hold: Hold | undefined;
  #unrefd = false;
  #closeEmitted = false;
  #dualStack = false;
  #family: "IPv4" | "IPv6" = "IPv4";

  constructor(options: ServerOptions, connectionListener?: (socket: Socket) => void) {
    super();
    if (options === null || typeof options !== "object" || options.stack === undefined) {
      throw nodeError("ERR_INVALID_ARG_VALUE", "a synack Server needs { stack }", TypeError);
    }
    checkStack("a synack Server's { stack }", options.stack);
    checkKeepAliveDelayOption(options);
    if (options.highWaterMark !== undefined) validateNumber(options.highWaterMark, "options.highWaterMark");
    this.stack = options.stack;
    this.#options = options;
    if (connectionListener !== undefined) this.on("connection", connectionListener);
  }

  listen(...args: ListenArgs): this {
    if (this.#listener !== undefined) throw nodeError("ERR_SERVER_ALREADY_LISTEN", "Listen method has been called more than once without closing.");
    const { port, host, backlog, listener, ipv6Only, signal } = normalizeListenArgs(args);
    if (listener !== undefined) this.once("listening", listener);
    // As node:net: an abort closes the server, at once if it came before listen().
    if (signal !== undefined) {
      if (signal.aborted) process.nextTick(() => this.close());
      else signal.addEventListener("abort", () => this.close(), { once: true });
    }
    this.#host = host;
    try {
      const bound = host !== undefined ? this.stack.resolve(host) : undefined;
      // The families this listener takes: an IPv4 address only IPv4; an IPv6 one IPv6, and
      // IPv4 too when it is "::" without ipv6Only (Linux bindv6only=0). No host: both.
      const family = bound === undefined ? undefined : bound.family === 4 ? 4 : ipv6Only === true || !bound.isUnspecified ? 6 : undefined;
      this.#dualStack = bound !== undefined && bound.family === 6 && family === undefined;
      this.#family = bound === undefined ? "IPv4" : familyName(bound);
      const l = this.stack.openListener(port, backlog, family, this.#options.fastOpen);
      l.onConnection = () => this.#accept();
      this.#listener = l;
      this.#closeEmitted = false;
    } catch (e) {
      const err = toSocketError(e);
      process.nextTick(() => this.emit("error", errnoError(err.code, "listen", { address: host ?? "0.0.0.0", port }, err)));
      return this;
    }
    this.#hold = holdOf(this.stack.driver);
    if (this.#unrefd) this.#hold.unref();
    process.nextTick(() => {
      if (this.#listener !== undefined) this.emit("listening");
    });
    return this;
  }

  get listening(): boolean {
    return this.#listener !== undefined;
  }

  address(): AddressInfo | null {
    if (this.#listener === undefined) return null;
    return { address: this.#host ?? "0.0.0.0", family: this.#family, port: this.#listener.port };
  }

  /**
   * Stops accepting; 'close' once every accepted socket has closed too. A `callback` that
   * is not a function is passed over, as node:net does (calling it at 'close' would throw
   * from inside the event loop, where no caller can catch it).
   */
  close(callback?: (err?: Error) => void): this {
    if (typeof callback === "function") {
      if (this.#listener === undefined) this.once("close", () => callback(nodeError("ERR_SERVER_NOT_RUNNING", "Server is not running.")));
      else this.once("close", () => callback());
    }
    if (this.#listener !== undefined) {
      this.stack.closeListener(this.#listener);
      this.#listener = undefined;
      this.#hold?.release();
    }
    this.#emitCloseIfDrained();
    return this;
  }

  /**
   * With `captureRejections`, a rejected async 'connection' listener destroys that socket
   * with the error, and any other rejected listener is an 'error', as node:net's Server.
   */
  override [EventEmitter.captureRejectionSymbol](err: Error, event: string | symbol, ...args: unknown[]): void {
    if (event === "connection" && args[0] instanceof Socket) args[0].destroy(err);
    else this.emit("error", err);
  }

  /**
   * `await using server = net.createServer()` closes the server when the scope ends, as
   * node:net's (Symbol.asyncDispose): resolved once it and its sockets are closed.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#listener === undefined) return;
    await new Promise<void>((resolve, reject) => this.close((err) => (err === undefined ? resolve() : reject(err))));
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this.#connections);
    return this;
  }

  ref(): this {
    this.#unrefd = false;
    this.#hold?.ref();
    return this;
  }

  unref(): this {
    this.#unrefd = true;
    this.#hold?.unref();
    return this;
  }

  /** Takes every connection waiting in TCP's accept queue. */
  #accept(): void {
    const l = this.#listener;
    if (l === undefined) return;
    for (let conn = l.accept(); conn !== undefined; conn = l.accept()) {
      if (this.maxConnections !== undefined && this.#connections >= this.maxConnections) {
        const t = conn.tuple;
        conn.close();
        this.stack.kick();
        this.emit("drop", {
          localAddress: formatAddress(t.localAddr), localPort: t.localPort, localFamily: familyName(t.localAddr),
          remoteAddress: formatAddress(t.remoteAddr), remotePort: t.remotePort, remoteFamily: familyName(t.remoteAddr),
        });
        continue;
      }
      const socket = new Socket({
        stack: this.stack,
        connection: conn,
        allowHalfOpen: Boolean(this.#options.allowHalfOpen),
        pauseOnCreate: Boolean(this.#options.pauseOnConnect),
        ...acceptedBuffer(this.#options.highWaterMark),
        mapped: this.#dualStack && conn.tuple.localAddr.family === 4,
      });
      // As node:net's Server, whose options are taken for their truth (noDelay: 1 is on).
      if (this.#options.noDelay) socket.setNoDelay(true);
      if (this.#options.keepAlive) socket.setKeepAlive(true, this.#options.keepAliveInitialDelay);
      socket.server = this;
      this.#connections++;
      socket[onSocketClosed] = this.#socketClosed;
      this.emit("connection", socket);
    }
    this.stack.kick();
  }

  /** An accepted socket closed (one function per server, shared by its sockets). */
  readonly #socketClosed = (): void => {
    this.#connections--;
    this.#emitCloseIfDrained();
  };

  #emitCloseIfDrained(): void {
    if (this.#listener !== undefined || this.#connections > 0 || this.#closeEmitted) return;
    this.#closeEmitted = true;
    process.nextTick(() => this.emit("close"));
  }
}

/**
 * The stream buffers of an accepted socket from the server's `highWaterMark`: a negative one
 * means the default, as in node:net, and a fraction is taken down to whole bytes.
 */
function acceptedBuffer(highWaterMark: number | undefined): { readableHighWaterMark?: number; writableHighWaterMark?: number } {
  if (highWaterMark === undefined || !(highWaterMark >= 0)) return {};
  const bytes = Math.min(Math.floor(highWaterMark), 2 ** 31 - 1);
  return { readableHighWaterMark: bytes, writableHighWaterMark: bytes };
}
