/**
 * A TCP connection as Web Streams, in the shape of Cloudflare's `connect()` and the WICG
 * Direct Sockets `TCPSocket`: `readable`, `writable`, `opened`, `closed`, `close()`.
 *
 * - Reading pulls from the connection's receive buffer only while the readable's queue
 *   has room (byte-length strategy), so a slow reader leaves data in TCP, the advertised
 *   window closes and the sender is held back: backpressure end to end.
 * - A write resolves once TCP's send buffer took the whole chunk (a copy: the caller may
 *   reuse its buffer), so a full send buffer makes `writer.ready` wait.
 * - `writable.close()` is a half-close (FIN after the queued data); reading goes on (S24).
 *   `writable.abort()` resets the connection (RST).
 * - Failures reject `opened` / `closed` and error both streams with a SocketError whose
 *   `code` is ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...
 */
import type { Connection } from "../tcp/connection.js";
import { tcpInfo, type TcpInfo } from "../tcp/tcp-info.js";
import type { TcpState } from "../trace/events.js";
import { checkPortNumber, formatAddress } from "./address.js";
import { ConnectionAbortedError, InvalidArgumentError, SocketClosedError, SocketError, socketError, toSocketError } from "./errors.js";
import { connectByName, nameFailureError } from "./name-connect.js";
import type { IpAddress } from "../wire/address.js";
import { isTosByte } from "../wire/ip-ecn.js";
import type { SocketStack } from "./socket-stack.js";
import { showValue } from "../show-value.js";
import { guardWritesAfterClose } from "./writer-guard.js";

export interface ConnectOptions {
  hostname: string;
  port: number;
  /** Local port to bind (default: ephemeral). */
  localPort?: number;
  /** Disable Nagle's algorithm (TCP_NODELAY). */
  noDelay?: boolean;
  /** Enable keep-alive probes (S21) with the stack's timings. */
  keepAlive?: boolean;
  /** TCP_USER_TIMEOUT (RFC 5482): ms data may stay unacknowledged before the socket fails with ETIMEDOUT (0: off, the default). */
  userTimeout?: number;
  /** TCP Fast Open (RFC 7413): a write made at once rides in the SYN when a cookie for the server is cached. */
  fastOpen?: boolean;
  /** IP_TOS / IPV6_TCLASS (0..255) of every packet from the SYN on; its ECN bits are TCP's and read as 0. */
  typeOfService?: number;
  /** Bytes the readable may hold before it stops pulling from TCP (default 64 KiB). */
  readableHighWaterMark?: number;
  /** Bytes the writable may queue before `writer.ready` waits (default 16 KiB). */
  writableHighWaterMark?: number;
}

export interface SocketInfo {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** What `opened` resolves with (the Direct Sockets shape: addresses and the two streams). */
export interface SocketOpenInfo extends SocketInfo {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

function checkUserTimeout(ms: unknown): void {
  if (ms === undefined) return;
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) throw new InvalidArgumentError(`userTimeout must be an integer of milliseconds from 0 to 2147483647, got ${showValue(ms)}`);
}

function checkTypeOfService(tos: unknown): void {
  if (tos === undefined) return;
  if (!isTosByte(tos)) throw new InvalidArgumentError(`typeOfService must be an integer from 0 to 255, got ${showValue(tos)}`);
}

/** A queue's high-water mark, as the Streams standard takes it: a number of bytes, not NaN, not negative (Infinity allowed). */
function checkHighWaterMark(name: string, bytes: unknown): void {
  if (bytes === undefined) return;
  if (typeof bytes !== "number" || Number.isNaN(bytes) || bytes < 0) throw new InvalidArgumentError(`${name} must be a number of bytes >= 0, got ${showValue(bytes)}`);
}

function checkFlag(name: string, on: unknown): void {
  if (on !== undefined && typeof on !== "boolean") throw new InvalidArgumentError(`${name} must be true or false, got ${showValue(on)}`);
}

/**
 * The options of a socket, checked before anything is opened: a connect() that throws
 * leaves no connection behind, and a listener's options for the sockets it will accept
 * cannot fail later, inside the stack, when a connection arrives.
 */
export function checkSocketOptions(options: Omit<ConnectOptions, "hostname" | "port" | "localPort">): void {
  checkFlag("noDelay", options.noDelay);
  checkFlag("keepAlive", options.keepAlive);
  checkFlag("fastOpen", options.fastOpen);
  checkUserTimeout(options.userTimeout);
  checkTypeOfService(options.typeOfService);
  checkHighWaterMark("readableHighWaterMark", options.readableHighWaterMark);
  checkHighWaterMark("writableHighWaterMark", options.writableHighWaterMark);
}

function checkNotsentLowat(bytes: unknown): void {
  if (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes < 0 || bytes > 0xffffffff) throw new InvalidArgumentError(`notsentLowat must be an integer of bytes from 0 to 4294967295, got ${showValue(bytes)}`);
}

function chunkSize(chunk: unknown): number {
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

const PRE_ESTABLISHED: ReadonlySet<TcpState> = new Set<TcpState>(["SYN_SENT", "SYN_RCVD", "LISTEN"]);
const DEFAULT_READ_HWM = 64 * 1024;
/** Largest chunk taken from TCP for a pending read when the queue itself has no room. */
const READ_CHUNK = 64 * 1024;
const DEFAULT_WRITE_HWM = 16 * 1024;

interface PendingWrite {
  data: Uint8Array;
  resolve: () => void;
  reject: (e: SocketError) => void;
}

/** A settable promise, marked handled so that an ignored rejection is not "unhandled". */
class Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  private res!: (v: T) => void;
  private rej!: (e: unknown) => void;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.res = res;
      this.rej = rej;
    });
    this.promise.catch(() => {});
  }
  resolve(v: T): void {
    if (this.settled) return;
    this.settled = true;
    this.res(v);
  }
  reject(e: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rej(e);
  }
}

export class StreamSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  private readonly stack: SocketStack;
  /** Undefined while a host name is being resolved and its attempts race. */
  private conn: Connection | undefined;
  /** Stops that resolution and race (close() or abort() before it ended). */
  private cancelResolve: (() => void) | undefined;
  /** The writable was closed before the connection existed: shut down once it does. */
  private shutdownWanted = false;
  /** setUserTimeout() before the connection existed (a host name still resolving). */
  private pendingUserTimeout: number | undefined;
  /** setNotsentLowat() before the connection existed. */
  private pendingNotsentLowat: number | undefined;
  /** setTypeOfService() before the connection existed. */
  private pendingTypeOfService: number | undefined;
  /** setCork(true) before the connection existed: cork it once it does. */
  private corked = false;
  private readonly openedD = new Deferred<SocketOpenInfo>();
  private readonly closedD = new Deferred<void>();
  private rc!: ReadableStreamDefaultController<Uint8Array>;
  /** The writable's close algorithm ran (writer-guard.ts). */
  private closeBegan = false;
  private wc!: WritableStreamDefaultController;
  /** The readable asked for data that TCP did not have yet. */
  private pullWaiter: (() => void) | undefined;
  private pendingWrite: PendingWrite | undefined;
  private readDone = false;
  private writeDone = false;
  private finished = false;

  /** Active open through `stack.connect()`. */
  static connect(stack: SocketStack, options: ConnectOptions): StreamSocket {
    if (typeof options !== "object" || options === null) throw new InvalidArgumentError("connect() needs { hostname, port }");
    const remotePort = checkPortNumber("port", options.port, false);
    const localPort = options.localPort === undefined ? undefined : checkPortNumber("localPort", options.localPort, false);
    checkSocketOptions(options);
    let remoteAddress: IpAddress | undefined;
    try {
      remoteAddress = stack.resolve(options.hostname);
    } catch (e) {
      if (!(e instanceof SocketError && e.code === "ENOTFOUND")) throw e;
    }
    if (remoteAddress !== undefined) {
      const conn = stack.openConnection({ remoteAddress, remotePort, ...(localPort === undefined ? {} : { localPort }), fastOpen: options.fastOpen === true });
      return new StreamSocket(stack, conn, options);
    }
    // A host name: the stack's resolver (or "localhost") and a Happy Eyeballs race; failures reject `opened`.
    const socket = new StreamSocket(stack, undefined, options);
    const hostname = options.hostname;
    socket.cancelResolve = connectByName(stack, { hostname, port: remotePort, ...(localPort === undefined ? {} : { localPort }) }, (result) => {
      socket.cancelResolve = undefined;
      if ("connection" in result) socket.attach(result.connection, options);
      else socket.fail(nameFailureError(hostname, result));
    });
    return socket;
  }

  /** Wraps an engine connection (a listener's accepted one, or one opened by `connect`), or none yet while a name resolves. */
  constructor(stack: SocketStack, conn: Connection | undefined, options: Omit<ConnectOptions, "hostname" | "port" | "localPort"> = {}) {
    this.stack = stack;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.rc = c;
        },
        pull: () => this.pull(),
        cancel: () => {
          // The application will not read again; once it is also done writing, the
          // connection is given up (close() turns into RST if data arrived unread).
          this.readDone = true;
          this.wakePull();
          this.maybeFinish();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: options.readableHighWaterMark ?? DEFAULT_READ_HWM }),
    );
    this.writable = new WritableStream<Uint8Array>(
      {
        start: (c) => {
          this.wc = c;
        },
        write: (chunk) => this.write(chunk),
        close: () => this.closeWrite(),
        abort: () => this.abort(),
      },
      // Not ByteLengthQueuingStrategy: its size() of a non-chunk throws a runtime-specific
      // RangeError before write() can answer with this API's own EINVAL.
      { highWaterMark: options.writableHighWaterMark ?? DEFAULT_WRITE_HWM, size: chunkSize },
    );
    guardWritesAfterClose(this.writable, () => this.closeBegan);
    if (conn !== undefined) this.attach(conn, options);
  }

  /**
   * TCP_CORK (Linux): while corked only full segments leave; uncorking sends what was held.
   * For a writer that sends a header and a body in separate writes and wants them in one
   * segment where they fit.
   */
  setCork(enable: boolean): void {
    this.corked = enable === true;
    if (this.conn === undefined) return;
    this.conn.setCork(this.corked);
    this.stack.kick();
  }

  /** TCP_USER_TIMEOUT (RFC 5482), as the `userTimeout` option: 0 turns it off. EINVAL for anything but an integer from 0 to 2^31 - 1. */
  setUserTimeout(ms: number): void {
    checkUserTimeout(ms);
    if (this.conn !== undefined) this.conn.setUserTimeout(ms);
    else this.pendingUserTimeout = ms;
  }

  /**
   * TCP_NOTSENT_LOWAT (Linux): TCP takes written bytes only while fewer than about `bytes`
   * wait unsent, so the rest waits in the writable stream and its backpressure follows the
   * limit. 0 goes back to the stack's `notsentLowat` setting (no limit by default). EINVAL for
   * anything but an integer from 0 to 2^32 - 1.
   */
  setNotsentLowat(bytes: number): void {
    checkNotsentLowat(bytes);
    if (this.conn !== undefined) this.conn.setNotsentLowat(bytes);
    else this.pendingNotsentLowat = bytes;
  }

  /** IP_TOS / IPV6_TCLASS, as the `typeOfService` option, for the packets sent from now on. EINVAL for anything but an integer from 0 to 255. */
  setTypeOfService(tos: number): void {
    checkTypeOfService(tos);
    if (this.conn !== undefined) this.conn.setTypeOfService(tos);
    else this.pendingTypeOfService = tos;
  }

  /** The engine's connection, for `inspect()` and the connection table (EINVAL while a host name is still resolving). */
  get connection(): Connection {
    if (this.conn === undefined) throw new InvalidArgumentError("no connection yet: the host name is still being resolved");
    return this.conn;
  }

  private attach(conn: Connection, options: Pick<ConnectOptions, "noDelay" | "keepAlive" | "userTimeout" | "typeOfService">): void {
    if (this.finished) {
      conn.close();
      this.stack.kick();
      return;
    }
    this.conn = conn;
    if (options.noDelay !== undefined) conn.noDelay = options.noDelay;
    if (options.keepAlive === true) conn.setKeepAlive(true, this.stack.now());
    const userTimeout = this.pendingUserTimeout ?? options.userTimeout;
    if (userTimeout !== undefined) conn.setUserTimeout(userTimeout);
    if (this.corked) conn.setCork(true);
    if (this.pendingNotsentLowat !== undefined) conn.setNotsentLowat(this.pendingNotsentLowat);
    const typeOfService = this.pendingTypeOfService ?? options.typeOfService;
    if (typeOfService !== undefined) conn.setTypeOfService(typeOfService);
    if (this.shutdownWanted) conn.shutdown();
    conn.onWake = () => {
      this.onWake();
      // Something may have been handed to the application (opened, data, room to write, an
      // error): under the simulator this gives it a turn before virtual time moves on.
      this.stack.kick();
    };
    this.onWake();
    this.stack.kick();
  }

  /** Resolves once the handshake completed; rejects with ECONNREFUSED, ETIMEDOUT, ... */
  get opened(): Promise<SocketOpenInfo> {
    return this.openedD.promise;
  }

  /**
   * Resolves when the application is done with the connection: the readable reached the
   * end (or was cancelled) and the writable was closed, or `close()` was called. Rejects
   * if the connection failed first.
   */
  get closed(): Promise<void> {
    return this.closedD.promise;
  }

  get info(): SocketInfo {
    const t = this.connection.tuple;
    return { localAddress: formatAddress(t.localAddr), localPort: t.localPort, remoteAddress: formatAddress(t.remoteAddr), remotePort: t.remotePort };
  }

  /**
   * Linux's TCP_INFO for this connection, now: state, congestion window and threshold (in
   * segments), RTT and RTO (in µs), retransmissions, options, counters. Field names are
   * Linux's without `tcpi_`, in camelCase (`tcpi_snd_cwnd` is `sndCwnd`); see
   * src/tcp/tcp-info.ts for each field's unit and what synack does not track.
   */
  tcpInfo(): TcpInfo {
    return tcpInfo(this.connection, this.stack.now());
  }

  /**
   * Closes both directions at once: FIN after whatever TCP already holds (a RST if data
   * arrived that nobody read, as Linux does), and ends both streams. Returns `closed`.
   */
  close(): Promise<void> {
    if (!this.finished) {
      const closedError = new SocketClosedError("the socket was closed");
      if (!this.readDone) {
        this.readDone = true;
        try {
          this.rc.close();
        } catch {
          // already closed or errored by the stream itself
        }
        this.wakePull();
      }
      if (!this.writeDone) {
        this.writeDone = true;
        this.wc.error(closedError);
        this.pendingWrite?.reject(closedError);
        this.pendingWrite = undefined;
      }
      this.finish();
    }
    return this.closed;
  }

  // ---------------------------------------------------------------------------------------

  /** Everything the engine tells us, handled in one place: called after each batch. */
  private onWake(): void {
    const conn = this.conn;
    if (conn === undefined) return;
    if (conn.error !== undefined) {
      this.fail(toSocketError(conn.error));
      return;
    }
    if (!this.openedD.settled && !PRE_ESTABLISHED.has(conn.state)) {
      if (conn.isClosed()) {
        this.fail(socketError("ECONNABORTED", "the connection closed before it was established"));
        return;
      }
      this.openedD.resolve({ ...this.info, readable: this.readable, writable: this.writable });
    }
    if (this.pullWaiter !== undefined && this.fill()) this.wakePull();
    this.continueWrite(true);
  }

  private pull(): Promise<void> | undefined {
    if (this.fill()) return undefined;
    return new Promise<void>((resolve) => {
      this.pullWaiter = resolve;
    });
  }

  private wakePull(): void {
    const w = this.pullWaiter;
    this.pullWaiter = undefined;
    w?.();
  }

  /**
   * Moves received bytes into the readable, called only when the stream asked for data
   * (pull): at least one chunk, then more while its queue has room. True when anything
   * changed. With a high-water mark of 0 this reads only what the application asks for.
   */
  private fill(): boolean {
    if (this.readDone) return true;
    const conn = this.conn;
    if (conn === undefined) return false;
    let progressed = false;
    for (;;) {
      const room = this.rc.desiredSize ?? 0;
      if (progressed && room <= 0) break;
      const data = conn.read(room > 0 ? room : READ_CHUNK);
      if (data.length === 0) break;
      this.rc.enqueue(data);
      progressed = true;
    }
    // Reading may have opened the window enough for a window update.
    if (progressed) this.stack.kick();
    if (conn.readable === 0 && (conn.peerFinished || conn.isClosed())) {
      this.readDone = true;
      this.rc.close();
      this.maybeFinish();
      return true;
    }
    return progressed;
  }

  private write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) {
      return Promise.reject(new InvalidArgumentError(`write() takes a Uint8Array, got ${typeof chunk}`));
    }
    return new Promise<void>((resolve, reject) => {
      this.pendingWrite = { data: chunk, resolve, reject };
      this.continueWrite(false);
    });
  }

  /**
   * Hands as much of the pending chunk to TCP as its send buffer takes. A new write takes
   * whatever room there is (Linux tcp_sendmsg); the rest of one goes on after a wake only
   * once the buffer polls writable (half of it free: src/tcp/write-space.ts), so it
   * continues in large pieces rather than one segment's worth per ACK.
   */
  private continueWrite(woken: boolean): void {
    const p = this.pendingWrite;
    const conn = this.conn;
    if (p === undefined || conn === undefined) return;
    if (woken && !conn.sendSpaceReady) {
      conn.waitForSpace();
      return;
    }
    const room = conn.sendRoom(p.data.length);
    if (room > 0) {
      try {
        // A copy: TCP keeps what it takes until acknowledged, the caller may reuse its chunk.
        const taken = conn.send(p.data.slice(0, room));
        p.data = p.data.subarray(taken);
        this.stack.kick();
      } catch (e) {
        this.pendingWrite = undefined;
        p.reject(toSocketError(e));
        return;
      }
    }
    if (p.data.length === 0) {
      this.pendingWrite = undefined;
      p.resolve();
    } else {
      conn.waitForSpace();
    }
  }

  private closeWrite(): void {
    this.closeBegan = true;
    this.writeDone = true;
    if (this.conn === undefined) this.shutdownWanted = true;
    else this.conn.shutdown();
    this.stack.kick();
    this.maybeFinish();
  }

  private abort(): void {
    this.writeDone = true;
    this.conn?.abort();
    this.stack.kick();
    const e = new ConnectionAbortedError("the writable was aborted: the connection was reset");
    if (!this.readDone) {
      this.readDone = true;
      this.rc.error(e);
      this.wakePull();
    }
    this.finish();
  }

  private maybeFinish(): void {
    if (this.readDone && this.writeDone) this.finish();
  }

  /** The application is done: give the connection to TCP to finish closing on its own. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.cancelResolve?.();
    this.cancelResolve = undefined;
    // From here on TCP closes on its own (FIN_WAIT_2 timeout, TIME_WAIT): nothing to tell.
    if (this.conn !== undefined) {
      this.conn.onWake = undefined;
      this.conn.close();
    }
    this.stack.kick();
    if (!this.openedD.settled) this.openedD.reject(new SocketClosedError("closed before the connection was established"));
    this.closedD.resolve();
  }

  private fail(e: SocketError): void {
    this.finished = true;
    if (this.conn !== undefined) this.conn.onWake = undefined;
    this.openedD.reject(e);
    if (!this.readDone) {
      this.readDone = true;
      this.rc.error(e);
      this.wakePull();
    }
    if (!this.writeDone) {
      this.writeDone = true;
      this.wc.error(e);
    }
    this.pendingWrite?.reject(e);
    this.pendingWrite = undefined;
    this.closedD.reject(e);
  }
}
