/**
 * node:net's Socket over a synack Connection: a stream.Duplex whose reads come from TCP's
 * receive queue and whose writes go to TCP's send buffer, with node:net's events, errors and
 * getters (the semantics kept on purpose are listed in src/node/net.ts).
 *
 * How it is driven: the engine calls the connection's onWake after each change (data in,
 * window opened, FIN, error); the socket then emits what follows from it, hands TCP what
 * waits to be written, and pushes what was received while the stream wants more. Every call
 * into the engine ends with `stack.kick()`, so the driver polls once on the next turn.
 */
import { Duplex, type DuplexOptions } from "node:stream";
import type { Stack } from "../api/stack.js";
import { holdOf, type Hold } from "../api/driver.js";
import { familyName, formatAddress } from "../api/address.js";
import type { IpAddress } from "../wire/address.js";
import { SocketError, toSocketError } from "../api/errors.js";
import type { Connection } from "../tcp/connection.js";
import { tcpInfo, type TcpInfo } from "../tcp/tcp-info.js";
import type { TcpState } from "../trace/events.js";
import { errnoError, lookupError, nodeError } from "./net-errors.js";
import { connectSocketByName } from "./net-lookup.js";
import { copyForTcp } from "./send-copy.js";
import { normalizeConnectArgs, type ConnectArgs, type SocketConnectOptions } from "./net-args.js";
import type { Server } from "./net-server.js";
import { isTosByte } from "../wire/ip-ecn.js";
import { checkKeepAliveDelayOption, checkStack, invalidArgType, keepAliveIdleMs, validateFunction, validateTimerDuration } from "./net-validate.js";
import { showValue } from "../show-value.js";

const PRE_ESTABLISHED: ReadonlySet<TcpState> = new Set<TcpState>(["SYN_SENT", "SYN_RCVD", "LISTEN"]);
/** Largest chunk handed to 'data' at once (Node reads 64 KiB at a time too). */
const READ_CHUNK = 64 * 1024;
/** Node's longest timer (timers.js TIMEOUT_MAX): a signed 32-bit millisecond count. */
const TIMEOUT_MAX = 2 ** 31 - 1;

export interface AddressInfo {
  address: string;
  family: "IPv4" | "IPv6";
  port: number;
}

export interface SocketOptions {
  /** The synack stack this socket lives on. */
  stack: Stack;
  /** Keep the writable side open after the peer's FIN (default false, as node:net). */
  allowHalfOpen?: boolean;
  /** Wrap an established engine connection (what a Server does for accepted ones). */
  connection?: Connection;
  /** Start paused (server's pauseOnConnect). */
  pauseOnCreate?: boolean;
  /** With `connection`: show IPv4 addresses in their mapped form (a dual-stack "::" server's). */
  mapped?: boolean;
  /** The stream buffer each way, in bytes (stream.Duplex's option, as node:net passes it on). */
  highWaterMark?: number;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  /** Destroys the socket when aborted (stream.Duplex's option, as node:net passes it on). */
  signal?: AbortSignal;
  /** TCP_NODELAY from the start (node:net's constructor option). */
  noDelay?: boolean;
  /** Keep-alive from the start, with `keepAliveInitialDelay` ms of idle time (node:net's options). */
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

/**
 * The stream.Duplex options of a Socket, after node:net's own checks of its constructor's
 * options: no object mode (ERR_INVALID_ARG_VALUE), a numeric keepAliveInitialDelay. The
 * stream options it passes on (highWaterMark, signal) are checked by stream.Duplex itself,
 * as they are under node:net.
 */
function duplexOptions(options: SocketOptions): DuplexOptions {
  if (options === null || typeof options !== "object" || options.stack === undefined) {
    throw nodeError("ERR_INVALID_ARG_VALUE", "a synack Socket needs { stack }", TypeError);
  }
  checkStack("a synack Socket's { stack }", options.stack);
  const o = options as SocketOptions & { objectMode?: unknown; readableObjectMode?: unknown; writableObjectMode?: unknown; fd?: unknown };
  for (const mode of ["objectMode", "readableObjectMode", "writableObjectMode"] as const) {
    if (o[mode]) throw nodeError("ERR_INVALID_ARG_VALUE", `The property 'options.${mode}' is not supported. Received ${showValue(o[mode])}`, TypeError);
  }
  if (o.fd !== undefined) throw nodeError("ERR_INVALID_ARG_VALUE", "synack sockets do not wrap file descriptors (options.fd)", TypeError);
  checkKeepAliveDelayOption(options);
  const stream: DuplexOptions = {
    allowHalfOpen: Boolean(options.allowHalfOpen),
    // node:net emits 'close' itself, after the handle closed, with hadError.
    emitClose: false,
    autoDestroy: true,
    decodeStrings: true,
  };
  if (options.highWaterMark !== undefined) stream.highWaterMark = options.highWaterMark;
  if (options.readableHighWaterMark !== undefined) stream.readableHighWaterMark = options.readableHighWaterMark;
  if (options.writableHighWaterMark !== undefined) stream.writableHighWaterMark = options.writableHighWaterMark;
  if (options.signal !== undefined) stream.signal = options.signal;
  return stream;
}

type WriteCallback = (error?: Error | null) => void;

interface EndInfo {
  address: string;
  port: number;
  family: "IPv4" | "IPv6";
}

/** One end of a 4-tuple as node:net shows it; a dual-stack IPv6 listener names an IPv4 peer ::ffff:a.b.c.d (RFC 4291 2.5.5.2), as Linux does. */
function endInfo(addr: IpAddress, port: number, mapped: boolean): EndInfo {
  const a = mapped ? addr.toMapped() : addr;
  return { address: formatAddress(a), port, family: familyName(a) };
}

/**
 * The accepting server's count of open sockets, told just before 'close' (a property
 * rather than a 'close' listener per socket, and one that removeAllListeners cannot drop).
 */
export const onSocketClosed: unique symbol = Symbol("synack.onSocketClosed");

const OOB = Object.freeze({ oob: true });

/*
 * Callbacks for process.nextTick and setImmediate, and closures only in methods of their
 * own: an arrow function that uses `this` makes V8 allocate a context on every call of the
 * function it is written in, even when that branch is not taken (#onWake runs per wake).
 */

function failLookup(socket: Socket, host: string, e: unknown): void {
  socket.destroy(lookupError(host, e));
}

function emitUrgent(socket: Socket, byte: number): void {
  socket.emit("urgent", byte);
}

/** setImmediate's callback for 'close' (no closure per socket). */
function emitClose(socket: Socket, hadError: boolean): void {
  socket[onSocketClosed]?.();
  socket.emit("close", hadError);
}

export class Socket extends Duplex {
  readonly stack: Stack;
  /** True from connect() until the handshake completed or failed. */
  connecting = false;
  /** The server that accepted this socket, if any. */
  server: Server | undefined;
  /** Set by that server: see onSocketClosed. */
  [onSocketClosed]: (() => void) | undefined;
  /** The idle timeout set by setTimeout (undefined until set), as node:net exposes it. */
  timeout: number | undefined;
  #conn: Connection | undefined;
  #hold: Hold | undefined;
  #unrefd = false;
  #pending: { data: Uint8Array; cb: WriteCallback; length: number; urgent: boolean } | undefined;
  /** Chunks written by sendUrgent(): their last byte is urgent (MSG_OOB). */
  #urgentChunks: WeakSet<Buffer> | undefined; // made by the first sendUrgent()
  #oobInline: boolean | undefined;
  /** Urgent bytes already announced with 'urgent'. */
  #urgentSeen = 0;
  #wantRead = false;
  #eof = false;
  #resetAndClosing = false;
  #bytesRead = 0;
  #bytesDispatched = 0;
  #noDelay: boolean | undefined;
  #cork: boolean | undefined;
  #userTimeout: number | undefined;
  #notsentLowat: number | undefined;
  #typeOfService: number | undefined;
  #keepAlive = false;
  /** Node's initialDelay (ms before the first probe); 0 keeps the stack's idle setting. */
  #keepAliveDelay = 0;
  #timeoutMs = 0;
  #cancelIdle: (() => void) | undefined;
  #lastActivity = 0;
  /**
   * The ends' addresses as node:net shows them, built from the connection's 4-tuple when
   * first asked for: most sockets are never asked, and formatting costs per connection.
   */
  #remote: EndInfo | undefined;
  #local: EndInfo | undefined;
  /** Show IPv4 ends in their mapped form (accepted by a dual-stack "::" server). */
  #mapped = false;
  #target: { address: string; port: number } | undefined;
  /** Stops a name's lookup and connection race (destroy() while connecting by name). */
  #cancelLookup: (() => void) | undefined;

  constructor(options: SocketOptions) {
    super(duplexOptions(options));
    this.stack = options.stack;
    // node:net's constructor options, taken for their truth as Node takes them.
    if (options.noDelay) this.#noDelay = true;
    if (options.keepAlive) this.#keepAlive = true;
    this.#keepAliveDelay = keepAliveIdleMs(options.keepAliveInitialDelay) ?? 0;
    if (options.pauseOnCreate === true) this.pause();
    if (options.connection !== undefined) {
      this.#attach(options.connection, options.mapped === true);
      // As node:net: an accepted socket starts reading at once (into its buffer), unless paused.
      if (options.pauseOnCreate !== true) this.read(0);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Opening

  connect(...args: ConnectArgs): this {
    const { options, listener } = normalizeConnectArgs(args);
    if (listener !== undefined) this.once("connect", listener);
    if (this.destroyed) throw nodeError("ERR_SOCKET_CLOSED", "Socket is closed");
    if (this.#conn !== undefined) throw nodeError("ERR_SOCKET_CONNECTED", "Socket is already connected");
    // noDelay, keepAlive and keepAliveInitialDelay are the new socket's options, read by
    // net.connect() (bindNet's createConnection hands them to the constructor); node:net's
    // socket.connect() does not look at them, and neither does this one.
    if (options.typeOfService !== undefined) this.setTypeOfService(options.typeOfService);
    const host = options.host ?? this.stack.address;
    this.connecting = true;
    this.#target = { address: host, port: options.port };
    let remoteAddress: IpAddress | undefined;
    try {
      remoteAddress = this.stack.resolve(host);
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOTFOUND") {
        process.nextTick(failLookup, this, host, e);
        return this;
      }
    }
    if (remoteAddress !== undefined) this.#open(remoteAddress, options);
    else this.#openByName(host, options);
    return this;
  }

  /** A name: resolved through `lookup` or the stack's DNS servers, then Happy Eyeballs (src/node/net-lookup.ts). */
  #openByName(host: string, options: SocketConnectOptions): void {
    // As a pending getaddrinfo does, the lookup keeps the process alive.
    this.#hold = holdOf(this.stack.driver);
    if (this.#unrefd) this.#hold.unref();
    const onAttempt = (a: IpAddress): void => {
      this.emit("lookup", null, formatAddress(a), a.family, host);
    };
    this.#cancelLookup = connectSocketByName(this.stack, host, options, onAttempt, (result) => {
      this.#cancelLookup = undefined;
      if (this.destroyed) return;
      if ("error" in result) return void this.destroy(result.error);
      this.#target = { address: formatAddress(result.address), port: options.port };
      this.#attach(result.connection, false, true);
    });
  }

  #open(remoteAddress: IpAddress, options: SocketConnectOptions): void {
    try {
      const conn = this.stack.openConnection({
        remoteAddress,
        remotePort: options.port,
        ...(options.localPort === undefined ? {} : { localPort: options.localPort }),
        fastOpen: options.fastOpen === true,
      });
      this.#attach(conn);
    } catch (e) {
      process.nextTick(Socket.#failOpen, this, toSocketError(e));
    }
  }

  static #failOpen(socket: Socket, err: SocketError): void {
    socket.destroy(errnoError(err.code, "connect", socket.#target, err));
  }

  /** Wires an engine connection to this socket (connect() or a server's accept). */
  #attach(conn: Connection, mapped = false, announce = false): void {
    this.#conn = conn;
    this.#mapped = mapped;
    this.#local = this.#remote = undefined;
    this.#hold?.release();
    this.#hold = holdOf(this.stack.driver);
    if (this.#unrefd) this.#hold.unref();
    if (this.#noDelay !== undefined) conn.setNoDelay(this.#noDelay);
    if (this.#cork !== undefined) conn.setCork(this.#cork);
    if (this.#userTimeout !== undefined) conn.setUserTimeout(this.#userTimeout);
    if (this.#notsentLowat !== undefined) conn.setNotsentLowat(this.#notsentLowat);
    if (this.#typeOfService !== undefined) conn.setTypeOfService(this.#typeOfService);
    if (this.#oobInline !== undefined) conn.setOobInline(this.#oobInline);
    if (this.#keepAlive) conn.setKeepAlive(true, this.stack.now(), this.#keepAliveDelay > 0 ? { idle: this.#keepAliveDelay } : {});
    conn.onWake = () => {
      this.#onWake();
      // Events were emitted: under the simulator, let the application answer before time moves.
      this.stack.kick();
    };
    this.#touch();
    // A connection that won a Happy Eyeballs race is established already, yet 'connect' is still due.
    this.connecting = announce || PRE_ESTABLISHED.has(conn.state);
    this.#onWake();
  }

  // ---------------------------------------------------------------------------------------
  // What the engine tells us

  #onWake(): void {
    const conn = this.#conn;
    if (conn === undefined || this.destroyed) return;
    if (conn.error !== undefined) {
      this.#failed(conn.error);
      return;
    }
    if (this.connecting) {
      if (PRE_ESTABLISHED.has(conn.state)) return;
      if (conn.isClosed()) {
        this.destroy(errnoError("ECONNABORTED", "connect", this.#target));
        return;
      }
      this.connecting = false;
      this.#touch();
      this.emit("connect");
      this.emit("ready");
      if (this.destroyed) return;
      if (!this.isPaused()) this.read(0);
    }
    if ((conn.urgentInPart?.arrivals ?? 0) !== this.#urgentSeen) {
      // synack's own event (node:net has no out-of-band data): the urgent byte's value. On
      // the next tick, so a socket accepted with the byte already there has its listener.
      this.#urgentSeen = conn.urgentIn.arrivals;
      const byte = conn.urgentIn.peek;
      process.nextTick(emitUrgent, this, byte);
    }
    this.#flushWrite(true);
    if (this.#wantRead || conn.readable === 0) this.#pull();
  }

  /** The connection failed: ECONNREFUSED / ETIMEDOUT while connecting, ECONNRESET / ETIMEDOUT after. */
  #failed(cause: Error): void {
    const err = toSocketError(cause);
    const syscall = this.connecting ? "connect" : err.code === "EPIPE" ? "write" : "read";
    this.destroy(errnoError(err.code, syscall, syscall === "connect" ? this.#target : undefined, err));
  }

  // ---------------------------------------------------------------------------------------
  // Reading

  /**
   * Readable.read, but a `size` that cannot become a string (a symbol, an object whose
   * conversion throws) is ERR_INVALID_ARG_TYPE: stream's parseInt would throw a bare TypeError.
   */
  override read(size?: number): unknown {
    if (size !== undefined && typeof size !== "number") {
      try {
        void `${size as unknown as string}`;
      } catch {
        throw invalidArgType("size", "of type number", size);
      }
    }
    return super.read(size);
  }

  override _read(): void {
    this.#wantRead = true;
    if (this.#conn !== undefined && !this.connecting) this.#pull(true);
  }

  /**
   * Pushes received bytes while the readable wants more; EOF once the peer's FIN is reached.
   * `inRead`: called from _read, inside Readable.read.
   */
  #pull(inRead = false): void {
    const conn = this.#conn;
    if (conn === undefined || this.#eof) return;
    let got = 0;
    while (this.#wantRead) {
      const data = conn.read(READ_CHUNK);
      if (data.length === 0) break;
      got += data.length;
      this.#bytesRead += data.length;
      this.#wantRead = this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
    if (got > 0) {
      this.#touch();
      // Reading opens the receive window; a window update may be due.
      this.stack.kick();
    }
    if (conn.readable === 0 && (conn.peerFinished || conn.isClosed())) {
      this.#eof = true;
      this.push(null);
      // As node:net: read(0) lets 'end' fire now when nothing is buffered, even if nobody reads.
      // A flowing stream, pushed to outside _read, read to the end in push(null) (flow()),
      // which scheduled 'end' already: a read(0) would only schedule that tick again.
      if (inRead || this.readableFlowing !== true) this.read(0);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Writing

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    // While a name is still resolving there is no connection yet: the chunk waits for it, as in node:net.
    if (this.#conn === undefined && !this.connecting) {
      cb(nodeError("ERR_SOCKET_CLOSED", "Socket is closed"));
      return;
    }
    this.#bytesDispatched += chunk.length;
    this.#pending = { data: chunk, cb, length: chunk.length, urgent: this.#urgentChunks?.has(chunk) === true };
    this.#flushWrite(false);
  }

  /**
   * Gives TCP as much of the pending chunk as its send buffer takes; the callback once all is
   * taken. As libuv over Linux: a new write takes whatever room there is, the rest goes on
   * after a wake only once the socket polls writable (EPOLLOUT: half the buffer free, src/tcp/write-space.ts).
   */
  #flushWrite(woken: boolean): void {
    const p = this.#pending;
    const conn = this.#conn;
    if (p === undefined || conn === undefined) return;
    if (woken && !conn.sendSpaceReady) {
      conn.waitForSpace();
      return;
    }
    const room = conn.sendRoom(p.data.length);
    if (room > 0) {
      try {
        // A copy: TCP keeps what it takes until acknowledged, and the caller may reuse its buffer.
        // A sendUrgent() chunk is MSG_OOB when its last byte goes: the urgent pointer follows it.
        const taken = conn.send(copyForTcp(p.data, room), p.urgent && room === p.data.length ? OOB : undefined);
        p.data = p.data.subarray(taken);
      } catch (e) {
        this.#pending = undefined;
        const err = e instanceof SocketError || e instanceof Error ? toSocketError(e) : undefined;
        p.cb(errnoError(err?.code ?? "EPIPE", "write", undefined, e));
        return;
      }
      this.#touch();
      this.stack.kick();
    }
    if (p.data.length === 0) {
      this.#pending = undefined;
      p.cb();
    } else {
      conn.waitForSpace();
    }
  }

  override _final(cb: (error?: Error | null) => void): void {
    // As node:net: a socket still connecting shuts down once connected.
    if (this.connecting) {
      this.#finalOnConnect(cb);
      return;
    }
    const conn = this.#conn;
    if (conn === undefined) {
      cb();
      return;
    }
    conn.shutdown();
    this.stack.kick();
    // libuv completes a shutdown request asynchronously; so does this.
    process.nextTick(cb);
  }

  #finalOnConnect(cb: (error?: Error | null) => void): void {
    this.once("connect", () => this._final(cb));
  }

  /**
   * Writing after the peer ended the connection, with allowHalfOpen false: node:net's
   * writeAfterFIN, an EPIPE "This socket has been ended by the other party".
   */
  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    if (this.#eof && !this.allowHalfOpen && this.writableEnded) {
      const callback = typeof encoding === "function" ? encoding : cb;
      const er = nodeError("EPIPE", "This socket has been ended by the other party");
      if (callback !== undefined) process.nextTick(callback, er);
      this.destroy(er);
      return false;
    }
    // All three as given, as node:net hands them to Writable.write: it sorts out the forms.
    return (Duplex.prototype.write as (chunk: unknown, encoding: unknown, cb: unknown) => boolean).call(this, chunk, encoding, cb);
  }

  // ---------------------------------------------------------------------------------------
  // Closing

  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    this.connecting = false;
    this.#cancelIdleTimer();
    this.#cancelLookup?.();
    this.#cancelLookup = undefined;
    const conn = this.#conn;
    const pending = this.#pending;
    this.#pending = undefined;
    // As libuv completing a cancelled write: the write's callback runs, without an error.
    if (pending !== undefined) pending.cb();
    if (conn !== undefined) {
      conn.onWake = undefined;
      if (this.#resetAndClosing) conn.abort("resetAndDestroy()");
      else conn.close();
      this.stack.kick();
    }
    this.#hold?.release();
    const hadError = error !== null && error !== undefined;
    cb(error);
    // node:net emits 'close' from the handle's close callback, a turn of the loop later.
    setImmediate(emitClose, this, hadError);
  }

  /** Sends RST instead of FIN (SO_LINGER 0) and destroys the socket. */
  resetAndDestroy(): this {
    if (this.#conn === undefined) {
      this.destroy(nodeError("ERR_SOCKET_CLOSED", "Socket is closed"));
    } else if (this.connecting) {
      this.once("connect", () => this.#reset());
    } else {
      this.#reset();
    }
    return this;
  }

  #reset(): void {
    this.#resetAndClosing = true;
    this.destroy();
  }

  /** End, then destroy once everything was handed to TCP (used by node:http). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once("finish", () => this.destroy());
  }

  // ---------------------------------------------------------------------------------------
  // Options

  /**
   * synack's addition to node:net: writes `data` after what is queued, its last byte urgent
   * (send() with MSG_OOB; see docs/urgent-data.md). The peer gets that byte out of band
   * unless it set SO_OOBINLINE.
   */
  sendUrgent(data: string | Uint8Array, cb?: WriteCallback): boolean {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) throw nodeError("ERR_INVALID_ARG_TYPE", "sendUrgent() takes a string or a Uint8Array", TypeError);
    const chunk = Buffer.from(typeof data === "string" ? Buffer.from(data) : data); // a chunk of our own, to mark
    if (chunk.length === 0) throw nodeError("ERR_INVALID_ARG_VALUE", "sendUrgent() needs at least one byte", RangeError);
    (this.#urgentChunks ??= new WeakSet()).add(chunk);
    return cb === undefined ? this.write(chunk) : this.write(chunk, cb);
  }

  /**
   * synack's addition: SO_OOBINLINE. Off (the default), a received urgent byte leaves the
   * stream and comes only with the 'urgent' event; on, it stays in the data too.
   */
  setOobInline(inline: unknown = true): this {
    this.#oobInline = Boolean(inline);
    this.#conn?.setOobInline(this.#oobInline);
    return this;
  }

  /** TCP_NODELAY; as node:net, any value is taken for its truth, and no argument means true. */
  setNoDelay(noDelay?: unknown): this {
    this.#noDelay = Boolean(noDelay === undefined ? true : noDelay);
    if (this.#conn !== undefined) {
      this.#conn.setNoDelay(this.#noDelay); // turning Nagle off sends what it held
      this.stack.kick();
    }
    return this;
  }

  /**
   * synack's addition: TCP_CORK (Linux). While corked only full segments leave; uncorking
   * sends what was held. Not Writable's `cork()`, which holds writes inside the stream and
   * is still there: this one holds bytes TCP already has, as the socket option does.
   */
  setCork(enable: unknown = true): this {
    this.#cork = Boolean(enable);
    if (this.#conn !== undefined) {
      this.#conn.setCork(this.#cork);
      this.stack.kick();
    }
    return this;
  }

  /**
   * synack's addition: TCP_USER_TIMEOUT (RFC 5482, Linux). Data left unacknowledged (or a
   * zero window left unanswered) for `ms` fails the socket with ETIMEDOUT; 0, the default,
   * leaves that to the retransmission count. ERR_OUT_OF_RANGE for anything but an integer
   * from 0 to 2^31 - 1, as Node says for its own timeouts.
   */
  setUserTimeout(ms: number): this {
    if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) {
      throw nodeError("ERR_OUT_OF_RANGE", `The value of "ms" is out of range. It must be an integer >= 0 and <= 2147483647. Received ${showValue(ms)}`, RangeError);
    }
    this.#userTimeout = ms;
    this.#conn?.setUserTimeout(ms);
    return this;
  }

  /**
   * synack's addition: TCP_NOTSENT_LOWAT (Linux). TCP takes a write only while fewer than
   * about `bytes` written bytes wait unsent, so the rest waits in the stream, where the
   * application still decides what goes next (backpressure and 'drain' follow). 0 goes back
   * to the stack's `notsentLowat` setting (no limit by default). ERR_OUT_OF_RANGE for
   * anything but an integer from 0 to 2^32 - 1.
   */
  setNotsentLowat(bytes: number): this {
    if (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes < 0 || bytes > 0xffffffff) {
      throw nodeError("ERR_OUT_OF_RANGE", `The value of "bytes" is out of range. It must be an integer >= 0 and <= 4294967295. Received ${showValue(bytes)}`, RangeError);
    }
    this.#notsentLowat = bytes;
    this.#conn?.setNotsentLowat(bytes);
    return this;
  }

  /**
   * IP_TOS (IPv4) or IPV6_TCLASS (IPv6), as Node 24's: kept until the socket has a connection,
   * then the TOS byte or traffic class of every packet it sends. Its two ECN bits are TCP's
   * own (RFC 3168 6.1.1), so once connected getTypeOfService() reads them as 0, as Linux
   * keeps them. ERR_INVALID_ARG_TYPE for a non-number, ERR_OUT_OF_RANGE for anything but an
   * integer from 0 to 255.
   */
  setTypeOfService(tos: number): this {
    if (typeof tos !== "number" || Number.isNaN(tos)) {
      throw nodeError("ERR_INVALID_ARG_TYPE", `The "tos" argument must be of type number. Received ${typeof tos === "number" ? "NaN" : typeof tos}`, TypeError);
    }
    if (!isTosByte(tos)) {
      throw nodeError("ERR_OUT_OF_RANGE", `The value of "tos" is out of range. It must be an integer >= 0 and <= 255. Received ${showValue(tos)}`, RangeError);
    }
    this.#typeOfService = tos;
    this.#conn?.setTypeOfService(tos);
    return this;
  }

  /** What setTypeOfService() set: the connection's value once there is one, 0 if never set. */
  getTypeOfService(): number {
    return this.#conn?.typeOfService ?? this.#typeOfService ?? 0;
  }

  /**
   * Keep-alive probes, as node:net: `enable` is taken for its truth, and `initialDelay` (ms)
   * sets this socket's idle time in whole seconds, as TCP_KEEPIDLE does; a delay under one
   * second (or past Linux's 32,767) keeps the idle time the socket had, the stack's at first.
   */
  setKeepAlive(enable?: unknown, initialDelay?: unknown): this {
    const idle = keepAliveIdleMs(initialDelay);
    this.#keepAlive = Boolean(enable);
    if (idle !== undefined) this.#keepAliveDelay = idle;
    if (this.#conn !== undefined && !this.#conn.isClosed()) {
      this.#conn.setKeepAlive(this.#keepAlive, this.stack.now(), this.#keepAliveDelay > 0 ? { idle: this.#keepAliveDelay } : {});
      this.stack.kick();
    }
    return this;
  }

  /**
   * Emits 'timeout' once `ms` pass without reads or writes (0 turns it off), and again only
   * after more activity, as node:net. Does not close the socket. As Node's timers, a
   * duration under 1 ms counts as 1 and one over 2^31 - 1 as that (getTimerDuration, Timeout).
   * A destroyed socket ignores the call, arguments and all, as Node's setStreamTimeout does.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (this.destroyed) return this;
    validateTimerDuration(ms, "msecs");
    if (callback !== undefined) validateFunction(callback, "callback");
    this.timeout = ms;
    this.#timeoutMs = ms === 0 ? 0 : Math.min(Math.max(ms, 1), TIMEOUT_MAX);
    if (callback !== undefined) {
      if (ms === 0) this.removeListener("timeout", callback);
      else this.once("timeout", callback);
    }
    this.#cancelIdleTimer();
    // Activity before this call was not noted (#touch): the idle time counts from now.
    this.#lastActivity = this.stack.now();
    if (this.#timeoutMs > 0 && !this.destroyed) this.#armIdleTimer(this.#lastActivity + this.#timeoutMs);
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

  /**
   * Notes activity for the idle timeout (without one there is nothing to note, and no clock
   * to read), and arms it again if it already fired.
   */
  #touch(): void {
    if (this.#timeoutMs === 0) return;
    this.#lastActivity = this.stack.now();
    if (this.#cancelIdle === undefined && !this.destroyed) this.#armIdleTimer(this.#lastActivity + this.#timeoutMs);
  }

  #armIdleTimer(at: number): void {
    this.#cancelIdle = this.stack.driver.setTimer(at, () => {
      this.#cancelIdle = undefined;
      if (this.destroyed || this.#timeoutMs === 0) return;
      // Activity since arming moves the deadline instead of re-arming on every chunk.
      const due = this.#lastActivity + this.#timeoutMs;
      if (due > this.stack.now()) {
        this.#armIdleTimer(due);
        return;
      }
      // Once per idle spell: node:net's timer waits for activity (#touch) to run again. Kept
      // running, it would fire forever while idle, and a 1e-300 ms timeout, which a clock
      // cannot add, at the same instant without end.
      this.emit("timeout");
    });
  }

  #cancelIdleTimer(): void {
    this.#cancelIdle?.();
    this.#cancelIdle = undefined;
  }

  // ---------------------------------------------------------------------------------------
  // Introspection (node:net's getters)

  #localEnd(): EndInfo | undefined {
    const t = this.#conn?.tuple;
    if (t !== undefined) this.#local ??= endInfo(t.localAddr, t.localPort, this.#mapped);
    return this.#local;
  }

  #remoteEnd(): EndInfo | undefined {
    const t = this.#conn?.tuple;
    if (t !== undefined) this.#remote ??= endInfo(t.remoteAddr, t.remotePort, this.#mapped);
    return this.#remote;
  }

  address(): AddressInfo | Record<string, never> {
    const local = this.#localEnd();
    return local === undefined ? {} : { address: local.address, family: local.family, port: local.port };
  }

  get remoteAddress(): string | undefined {
    return this.connecting ? undefined : this.#remoteEnd()?.address;
  }

  get remotePort(): number | undefined {
    return this.connecting ? undefined : this.#remoteEnd()?.port;
  }

  get remoteFamily(): "IPv4" | "IPv6" | undefined {
    return this.remoteAddress === undefined ? undefined : this.#remoteEnd()?.family;
  }

  get localAddress(): string | undefined {
    return this.#localEnd()?.address;
  }

  get localPort(): number | undefined {
    return this.#localEnd()?.port;
  }

  get localFamily(): "IPv4" | "IPv6" | undefined {
    return this.#localEnd()?.family;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes given to write(), including those still queued in the stream, as node:net counts. */
  get bytesWritten(): number {
    // writableLength counts the chunk being handed to TCP too, which #bytesDispatched has.
    return this.#bytesDispatched + this.writableLength - (this.#pending?.length ?? 0);
  }

  /** Deprecated in node:net for writableLength, and still there: undefined without a connection. */
  get bufferSize(): number | undefined {
    return this.connecting || (this.#conn !== undefined && !this.destroyed) ? this.writableLength : undefined;
  }

  get pending(): boolean {
    return this.#conn === undefined || this.connecting;
  }

  get readyState(): "opening" | "open" | "readOnly" | "writeOnly" | "closed" {
    if (this.connecting) return "opening";
    if (this.readable && this.writable) return "open";
    if (this.readable && !this.writable) return "readOnly";
    if (!this.readable && this.writable) return "writeOnly";
    return "closed";
  }

  /**
   * Linux's TCP_INFO (what `getsockopt(fd, IPPROTO_TCP, TCP_INFO)` returns there) for this
   * socket's connection, or undefined before connect(). Names are Linux's without `tcpi_`,
   * in camelCase: `socket.tcpInfo()?.sndCwnd` is `tcpi_snd_cwnd`. Units as Linux: µs for
   * rtt, rttvar and rto, segments for sndCwnd and sndSsthresh (see src/tcp/tcp-info.ts).
   */
  tcpInfo(): TcpInfo | undefined {
    return this.#conn === undefined ? undefined : tcpInfo(this.#conn, this.stack.now());
  }

  /** The engine's view of this connection (state, windows, counters), or undefined before connect. */
  inspectConnection(): ReturnType<Connection["inspect"]> | undefined {
    return this.#conn?.inspect();
  }
}
