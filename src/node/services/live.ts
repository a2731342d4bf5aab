/**
 * A synack stack on a real packet link for the built-in services, and a small
 * callback-style socket over its connections.
 *
 * The clock is the project's real-time driver: LiveStack wraps a NodeStack (Host +
 * RealTimeDriver from src/node/stack.ts and driver.ts) and adds what the TUN / tunnel
 * programs need on top: a packet tap for --pcap and accept/connect helpers that hand out
 * LiveSockets, which talk to the engine's Connection directly (no stream machinery on the
 * bulk-transfer path).
 */
import { IpAddress } from "../../wire/address.js";
import type { InterfaceConfig } from "../../ip/routing.js";
import { performance } from "node:perf_hooks";
import type { Millis } from "../../env.js";
import type { Host } from "../../host/host.js";
import type { TcpConfig } from "../../tcp/config.js";
import type { Connection } from "../../tcp/connection.js";
import type { TcpError } from "../../tcp/errors.js";
import type { Listener } from "../../tcp/listener.js";
import type { TraceSink } from "../../trace/events.js";
import { NodeStack } from "../stack.js";
import type { LinkCounters, PacketLink } from "../tun.js";

/** Which way a packet went, seen from the stack. */
export type PacketDirection = "in" | "out";

/** Sees every packet in and out. `time` is wall-clock milliseconds since the epoch. */
export type PacketTap = (time: Millis, direction: PacketDirection, packet: Uint8Array) => void;

/** Wraps a link so that every packet in and out is shown to a tap first (for --pcap). */
export class TappedLink implements PacketLink {
  private receiver: ((packet: Uint8Array, checksumValid?: boolean, gsoSize?: number) => void) | undefined;

  constructor(
    readonly inner: PacketLink,
    private readonly tap: PacketTap,
  ) {
    inner.onPacket = (packet, checksumValid, gsoSize) => {
      this.tap(wallClock(), "in", packet);
      this.receiver?.(packet, checksumValid, gsoSize);
    };
  }

  get name(): string {
    return this.inner.name;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  get counters(): LinkCounters {
    return this.inner.counters;
  }
  get onPacket(): ((packet: Uint8Array, checksumValid?: boolean, gsoSize?: number) => void) | undefined {
    return this.receiver;
  }
  set onPacket(fn: ((packet: Uint8Array, checksumValid?: boolean, gsoSize?: number) => void) | undefined) {
    this.receiver = fn;
  }
  get onBatch(): ((open: boolean) => void) | undefined {
    return this.inner.onBatch;
  }
  set onBatch(fn: ((open: boolean) => void) | undefined) {
    this.inner.onBatch = fn;
  }

  send(packet: Uint8Array): void {
    this.tap(wallClock(), "out", packet);
    this.inner.send(packet);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface LiveStackOptions {
  link: PacketLink;
  /** synack's own address (the primary one, with `interfaces`). */
  address: number | IpAddress;
  /** Every address with its prefix, for a dual-stack device (see NodeStack). */
  interfaces?: InterfaceConfig[];
  name?: string;
  /** Largest IP packet synack sends (default: the link's MTU). */
  mtu?: number;
  tcp?: Partial<TcpConfig>;
  trace?: TraceSink;
  tap?: PacketTap;
}

export class LiveStack {
  readonly stack: NodeStack;
  readonly host: Host;
  /** The link as given (not the tap around it). */
  readonly link: PacketLink;

  constructor(opts: LiveStackOptions) {
    this.link = opts.link;
    this.stack = new NodeStack({
      link: opts.tap !== undefined ? new TappedLink(opts.link, opts.tap) : opts.link,
      address: opts.address,
      ...(opts.interfaces !== undefined ? { interfaces: opts.interfaces } : {}),
      name: opts.name ?? "synack",
      ...(opts.mtu !== undefined ? { mtu: opts.mtu } : {}),
      ...(opts.tcp !== undefined ? { tcp: opts.tcp } : {}),
      ...(opts.trace !== undefined ? { trace: opts.trace } : {}),
    });
    this.host = this.stack.host;
  }

  /** The stack's clock: monotonic milliseconds. */
  now(): Millis {
    return this.stack.now();
  }

  /** Asks for a poll soon: call after any application call on a connection (many calls share one poll). */
  kick(): void {
    this.stack.kick();
  }

  listen(port: number, onSocket: (socket: LiveSocket) => void, backlog = 511): Listener {
    const listener = this.stack.openListener(port, backlog);
    listener.onConnection = () => {
      for (let c = listener.accept(); c !== undefined; c = listener.accept()) {
        const socket = new LiveSocket(this, c);
        onSocket(socket);
        socket.update();
      }
    };
    return listener;
  }

  /** Opens a connection; wire the socket's callbacks before the current tick ends. */
  connect(remoteAddr: number | IpAddress, remotePort: number): LiveSocket {
    return new LiveSocket(this, this.stack.openConnection({ remoteAddress: typeof remoteAddr === "number" ? IpAddress.v4(remoteAddr) : remoteAddr, remotePort }));
  }

  /** Stops the clock and closes the link (connections are left as they are: the peer sees silence). */
  close(): Promise<void> {
    return this.stack.close();
  }
}

function wallClock(): Millis {
  return performance.timeOrigin + performance.now();
}

/** Bytes a socket holds beyond what TCP's send buffer took before write() says "wait". */
const HIGH_WATER = 64 * 1024;

/**
 * A callback-style socket over one synack connection, in the spirit of net.Socket:
 * data, end (the peer half-closed), drain, close. Writes beyond TCP's send buffer wait
 * here; end() sends FIN after them (half-close, reading goes on); close() gives the
 * connection up; destroy() resets it.
 */
export class LiveSocket {
  onConnect: (() => void) | undefined;
  onData: ((chunk: Uint8Array) => void) | undefined;
  /** The peer finished sending (its FIN arrived and every byte before it was read). */
  onEnd: (() => void) | undefined;
  /** Everything written so far was taken by TCP's send buffer. */
  onDrain: (() => void) | undefined;
  /** The connection is CLOSED, or in TIME_WAIT (the rest is the stack's); `error` says why when it ended abnormally. Called once. */
  onClose: ((error: TcpError | undefined) => void) | undefined;

  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private ending = false;
  private closing = false;
  private finSent = false;
  private paused = false;
  private connected = false;
  private ended = false;
  private closeReported = false;
  private needDrain = false;
  bytesRead = 0;
  bytesWritten = 0;

  constructor(
    readonly stack: LiveStack,
    readonly conn: Connection,
  ) {
    conn.onWake = () => this.update();
  }

  get state(): string {
    return this.conn.state;
  }

  /** Bytes written that TCP's send buffer has not taken yet. */
  get pendingWrites(): number {
    return this.pendingBytes;
  }

  /**
   * Queues bytes (the socket keeps a reference). False when the caller should wait for
   * onDrain. Once the connection can no longer send (reset, closed) the bytes are dropped
   * and false is returned; onClose says why.
   */
  write(data: Uint8Array): boolean {
    if (this.ending) throw new Error("write after end()");
    if (!this.conn.canSend) return false;
    if (data.length > 0) {
      this.pending.push(data);
      this.pendingBytes += data.length;
      this.flushWrites();
      this.stack.kick();
    }
    const ok = this.pendingBytes < HIGH_WATER;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Half-close: FIN after everything written; data from the peer is still delivered. */
  end(): void {
    if (this.ending) return;
    this.ending = true;
    this.flushWrites();
    this.stack.kick();
  }

  /**
   * Full close, as close(2) on a kernel socket: FIN after everything written, or RST when
   * received data is left unread (as Linux does). The connection is then the stack's
   * (orphaned), so FIN_WAIT_2 and the retries of an unanswered FIN are bounded as Linux
   * bounds them (tcp_fin_timeout, tcp_orphan_retries); after end() alone they are not.
   */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.ending = true;
    if (this.finSent || this.pending.length === 0) {
      this.finSent = true;
      this.conn.close();
    } else this.flushWrites(); // conn.close() once the writes are in TCP's buffer
    this.stack.kick();
  }

  /** Resets the connection (RST). */
  destroy(): void {
    this.conn.abort();
    this.stack.kick();
    this.update();
  }

  /** Stops delivering data: TCP's receive window closes once its buffer fills. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    queueMicrotask(() => this.update());
  }

  /** Brings the application side up to date with the connection (called on every wake). */
  update(): void {
    const conn = this.conn;
    if (!this.connected && (conn.state === "ESTABLISHED" || conn.state === "CLOSE_WAIT" || conn.state === "FIN_WAIT_1" || conn.state === "FIN_WAIT_2")) {
      this.connected = true;
      this.onConnect?.();
    }
    this.flushWrites();
    let readSome = false;
    while (!this.paused) {
      const chunk = conn.read();
      if (chunk.length === 0) break;
      readSome = true;
      this.bytesRead += chunk.length;
      this.onData?.(chunk);
    }
    if (readSome) this.stack.kick();
    if (!this.ended && conn.peerFinished && conn.readable === 0) {
      this.ended = true;
      this.onEnd?.();
    }
    // TIME_WAIT is the end for the application (a kernel socket's descriptor is gone by then):
    // the 2MSL wait is the stack's, and nothing wakes this socket when it runs out.
    if ((conn.isClosed() || conn.state === "TIME_WAIT") && !this.closeReported) {
      this.closeReported = true;
      this.onClose?.(conn.error);
    }
  }

  private flushWrites(): void {
    const conn = this.conn;
    while (this.pending.length > 0 && conn.canSend) {
      const head = this.pending[0]!;
      const n = conn.send(head);
      if (n === 0) break;
      this.bytesWritten += n;
      this.pendingBytes -= n;
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
    if (this.needDrain && this.pendingBytes < HIGH_WATER) {
      this.needDrain = false;
      queueMicrotask(() => this.onDrain?.());
    }
    if (this.ending && !this.finSent && this.pending.length === 0) {
      this.finSent = true;
      if (this.closing) conn.close();
      else conn.shutdown();
    }
  }
}
