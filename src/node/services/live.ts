/**
 * A synack host on a real packet link, driven by Node's clock, and a small callback-style
 * socket over its connections for the built-in services.
 *
 * This is a deliberately minimal real-time driver, private to the TUN / tunnel tools: it
 * keeps the Endpoint contract (receive on every packet, poll when nextDeadline is due,
 * poll again soon after any application call). When src/node/driver.ts (the general
 * real-time driver) and src/node/net.ts (node:net-compatible sockets) are finished, the
 * services can move onto them; only this file would change.
 */
import { randomFillSync } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Millis, Rng } from "../../env.js";
import { Host } from "../../ip/host.js";
import type { TcpConfig } from "../../tcp/config.js";
import type { Connection } from "../../tcp/connection.js";
import type { TcpError } from "../../tcp/errors.js";
import type { Listener } from "../../tcp/listener.js";
import type { TraceSink } from "../../trace/events.js";
import type { PacketLink } from "../tun.js";

/** Randomness for a real stack (ISNs, ephemeral ports): the operating system's CSPRNG. */
export class CryptoRng implements Rng {
  private readonly pool = new Uint32Array(256);
  private next = this.pool.length;
  nextU32(): number {
    if (this.next === this.pool.length) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    return this.pool[this.next++]!;
  }
}

/** Which way a packet went, seen from the stack. */
export type PacketDirection = "in" | "out";

export interface LiveStackOptions {
  link: PacketLink;
  /** synack's own IPv4 address (uint32). */
  address: number;
  name?: string;
  /** Largest IP packet synack sends (default: the link's MTU). */
  mtu?: number;
  tcp?: Partial<TcpConfig>;
  trace?: TraceSink;
  /** Sees every packet in and out (for --pcap). `time` is wall-clock milliseconds since the epoch. */
  tap?: (time: Millis, direction: PacketDirection, packet: Uint8Array) => void;
}

export class LiveStack {
  readonly host: Host;
  readonly link: PacketLink;
  private readonly tap: LiveStackOptions["tap"];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private kickPending = false;
  private closed = false;

  constructor(opts: LiveStackOptions) {
    this.link = opts.link;
    this.tap = opts.tap;
    this.host = new Host({
      name: opts.name ?? "synack",
      address: opts.address,
      rng: new CryptoRng(),
      mtu: opts.mtu ?? opts.link.mtu,
      trace: opts.trace,
      tcp: opts.tcp,
      transmit: (packet) => {
        if (this.tap !== undefined) this.tap(wallClock(), "out", packet);
        this.link.send(packet);
      },
    });
    this.link.onPacket = (packet) => {
      if (this.closed) return;
      if (this.tap !== undefined) this.tap(wallClock(), "in", packet);
      this.host.receive(this.now(), packet);
      this.kick();
    };
  }

  /** The stack's clock: monotonic milliseconds. */
  now(): Millis {
    return performance.now();
  }

  /** Asks for a poll soon: call after any application call on a connection (many calls share one poll). */
  kick(): void {
    if (this.kickPending || this.closed) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.service();
    });
  }

  listen(port: number, onSocket: (socket: LiveSocket) => void, backlog = 511): Listener {
    const listener = this.host.tcp.listen(port, backlog);
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
  connect(remoteAddr: number, remotePort: number): LiveSocket {
    const conn = this.host.tcp.connect({ localAddr: this.host.address, remoteAddr, remotePort });
    const socket = new LiveSocket(this, conn);
    this.kick();
    return socket;
  }

  /** Stops the clock and closes the link (connections are left as they are: the peer sees silence). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.link.close();
  }

  private service(): void {
    if (this.closed) return;
    const now = this.now();
    if (this.host.nextDeadline() <= now) this.host.poll(now);
    this.arm(now);
  }

  private arm(now: Millis): void {
    const at = this.host.nextDeadline();
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    if (at <= now) {
      this.kick();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.service();
    }, Math.ceil(at - now));
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
  /** The connection is CLOSED; `error` says why when it ended abnormally. Called once. */
  onClose: ((error: TcpError | undefined) => void) | undefined;

  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private ending = false;
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

  /** Full close (FIN, or RST when received data is left unread, as Linux does). */
  close(): void {
    this.conn.close();
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
    if (conn.isClosed() && !this.closeReported) {
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
      conn.shutdown();
    }
  }
}
