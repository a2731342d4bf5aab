/**
 * A UDP tunnel link: each IP packet travels in one UDP datagram between two synack
 * processes (`--listen host:port`, `--peer host:port`), so two stacks on different
 * machines talk without root rights or TUN devices.
 *
 * Without a configured peer the tunnel learns it from the first datagram that arrives
 * and sends nothing before that. Once it has a peer, datagrams from anywhere else are
 * dropped and counted. There is no encryption or authentication: run it on networks you
 * trust, as you would a plain GRE or VXLAN tunnel.
 *
 * MTU: an IP packet of `mtu` bytes becomes a datagram of mtu + 28 bytes on the outer
 * path, so across a network with a 1500-byte MTU use at most 1472 (default 1400, which
 * also leaves room for an outer tunnel or VPN). Over loopback anything up to 65507 works.
 *
 * Two transports carry the datagrams. By default a batched socket (udp-batch.ts):
 * the engine's packets of one turn are queued and sent after its synchronous pass (a
 * microtask, as the TUN device does) with sendmmsg, runs of equal sizes as one
 * UDP_SEGMENT (GSO) send each, and reads come in with recvmmsg and UDP_GRO. If koffi, the
 * platform or the system calls are missing it falls back, as `batch: false` (`synack
 * tunnel --no-batch`) asks outright, to node:dgram: one send and one 'message' per packet.
 * Both speak the same wire format, so either end may use either.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP, isIPv6 } from "node:net";
import { newCounters, type PacketLink } from "./tun.js";
import { BatchedUdpSocket, type BatchCounters } from "./udp-batch.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";
import { checkOpening, OPENING } from "./opening.js";

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses "host:port" (IPv6 as "[::1]:port"). Port 0 ("any free port") only where `anyPort`
 * (a listening address); a peer's port is 1-65535.
 */
export function parseHostPort(text: string, anyPort = true): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = m !== null ? Number(m[3]) : NaN;
  if (m === null || !(port >= (anyPort ? 0 : 1) && port <= 65535)) throw new InvalidSettingError(`expected host:port with a port of ${anyPort ? 0 : 1}-65535, got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port };
}

export interface UdpTunnelOptions {
  listen: HostPort;
  peer?: HostPort;
  /** Largest IP packet carried (default 1400). */
  mtu?: number;
  /**
   * Batched transport (sendmmsg / recvmmsg with UDP GSO and GRO; default true). When it
   * cannot be opened the tunnel uses node:dgram and `batchFallback` says why.
   */
  batch?: boolean;
  /** With batching: ask for UDP_SEGMENT and UDP_GRO (default true); false keeps plain batches. */
  offload?: boolean;
}

/** How datagrams reach the socket: node:dgram one at a time, or the batched socket. */
type Transport = { kind: "dgram"; socket: Socket } | { kind: "batch"; socket: BatchedUdpSocket };

export class UdpTunnel implements PacketLink {
  readonly counters = newCounters();
  onPacket: ((packet: Uint8Array) => void) | undefined;
  /** Set by the stack; the batched transport calls it around each drain (node:dgram never does). */
  onBatch: ((open: boolean) => void) | undefined;
  /** Datagrams from a source other than the peer. */
  foreignDrops = 0;
  /** Why batching was asked for but not used (undefined when it is used or was not asked for). */
  readonly batchFallback: string | undefined;
  private peer: HostPort | undefined;
  /** The peer with a numeric host, as the batched socket needs it. */
  private peerWire: HostPort | undefined;
  private closing: Promise<void> | undefined;
  /** Packets of this turn, sent together by `flush` (batched transport only). */
  private pending: Uint8Array[] = [];
  private flushQueued = false;

  private constructor(
    opening: typeof OPENING,
    private readonly transport: Transport,
    readonly mtu: number,
    peer: HostPort | undefined,
    peerWire: HostPort | undefined,
    readonly local: HostPort,
    batchFallback: string | undefined,
  ) {
    checkOpening(opening, "UdpTunnel");
    this.peer = peer;
    this.peerWire = peerWire;
    this.batchFallback = batchFallback;
    if (transport.kind === "dgram") transport.socket.on("message", (msg: Buffer, rinfo: RemoteInfo) => this.onMessage(msg, { host: rinfo.address, port: rinfo.port }));
    else {
      transport.socket.onDatagram = (data, from) => this.onMessage(data, from);
      transport.socket.onBatch = (open) => this.onBatch?.(open);
    }
  }

  get name(): string {
    return `udp ${this.local.host}:${this.local.port}${this.peer !== undefined ? ` <-> ${this.peer.host}:${this.peer.port}` : ""}`;
  }

  get remote(): HostPort | undefined {
    return this.peer;
  }

  /** True when the batched transport carries the datagrams. */
  get batched(): boolean {
    return this.transport.kind === "batch";
  }

  /** The batched socket's counters (system calls, GSO sends, GRO reads, errors), or undefined on node:dgram. */
  get batchCounters(): Readonly<BatchCounters> | undefined {
    return this.transport.kind === "batch" ? this.transport.socket.counters : undefined;
  }

  static async open(opts: UdpTunnelOptions): Promise<UdpTunnel> {
    if (typeof opts !== "object" || opts === null) throw new InvalidSettingError(`tunnel options must be an object, got ${showValue(opts)}`);
    for (const [name, hp] of [["listen", opts.listen], ["peer", opts.peer]] as const) {
      if (hp === undefined && name === "peer") continue;
      if (typeof hp !== "object" || hp === null || typeof hp.host !== "string" || !Number.isInteger(hp.port) || hp.port < 0 || hp.port > 65535) {
        throw new InvalidSettingError(`tunnel ${name} must be { host, port } (parseHostPort("127.0.0.1:7001")), got ${showValue(hp)}`);
      }
    }
    const mtu = opts.mtu ?? 1400;
    if (!(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65507)) throw new InvalidSettingError(`tunnel mtu must be an integer in [68, 65507], got ${showValue(mtu)}`);
    let fallback: string | undefined;
    if (opts.batch ?? true) {
      try {
        return await UdpTunnel.openBatched(opts, mtu);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        // A bind failure would fail node:dgram alike: report it rather than hide it behind a fallback.
        if (code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES") throw e;
        fallback = (e as Error).message;
      }
    }
    const socket = createSocket({ type: isIPv6(opts.listen.host) ? "udp6" : "udp4" });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(opts.listen.port, opts.listen.host, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    // Bursts of a whole congestion window arrive at once; the default buffers drop some of them.
    for (const set of [(n: number) => socket.setRecvBufferSize(n), (n: number) => socket.setSendBufferSize(n)]) {
      try {
        set(4 * 1024 * 1024);
      } catch {
        // Capped by net.core.rmem_max / wmem_max: the default still works, only with more loss under bursts.
      }
    }
    const addr = socket.address();
    return new UdpTunnel(OPENING, { kind: "dgram", socket }, mtu, opts.peer, opts.peer, { host: addr.address, port: addr.port }, fallback);
  }

  private static async openBatched(opts: UdpTunnelOptions, mtu: number): Promise<UdpTunnel> {
    const family = isIPv6(opts.listen.host) ? 6 : 4;
    const numeric = async (hp: HostPort): Promise<HostPort> => (isIP(hp.host) !== 0 ? hp : { host: (await lookup(hp.host, { family })).address, port: hp.port });
    const listen = await numeric(opts.listen);
    const peerWire = opts.peer !== undefined ? await numeric(opts.peer) : undefined;
    const socket = BatchedUdpSocket.open(listen, { offload: opts.offload ?? true });
    return new UdpTunnel(OPENING, { kind: "batch", socket }, mtu, opts.peer, peerWire, socket.local, undefined);
  }

  send(packet: Uint8Array): void {
    const peer = this.peerWire;
    if (peer === undefined || this.closing !== undefined || packet.length > this.mtu) {
      this.counters.dropsOut++;
      return;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    if (this.transport.kind === "batch") {
      this.pending.push(packet);
      if (!this.flushQueued) {
        this.flushQueued = true;
        // After the engine's synchronous pass: its packets of this turn go in one batch.
        queueMicrotask(() => this.flush());
      }
      return;
    }
    this.transport.socket.send(packet, peer.port, peer.host, (err) => {
      if (err !== null && err !== undefined) this.counters.dropsOut++;
    });
  }

  close(): Promise<void> {
    if (this.flushQueued) this.flush();
    const t = this.transport;
    this.closing ??= t.kind === "batch" ? t.socket.close() : new Promise<void>((resolve) => t.socket.close(() => resolve()));
    return this.closing;
  }

  private flush(): void {
    this.flushQueued = false;
    const packets = this.pending;
    this.pending = [];
    if (this.transport.kind !== "batch" || packets.length === 0) return;
    this.counters.dropsOut += this.transport.socket.sendBatch(packets, this.peerWire!);
  }

  private onMessage(msg: Uint8Array, from: HostPort): void {
    if (this.peer === undefined) {
      this.peer = { host: from.host, port: from.port };
      this.peerWire = this.peer;
    } else if (!samePeer(this.peer, from) && (this.peerWire === undefined || !samePeer(this.peerWire, from))) {
      this.foreignDrops++;
      return;
    }
    this.counters.packetsIn++;
    this.counters.bytesIn += msg.length;
    // A plain Uint8Array view: the stack must not see Buffer's different slice() semantics.
    this.onPacket?.(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
  }
}

function samePeer(peer: HostPort, from: HostPort): boolean {
  if (peer.port !== from.port) return false;
  if (peer.host === from.host) return true;
  // "localhost" and friends: compare after the first datagram resolved them.
  return peer.host === "localhost" && (from.host === "127.0.0.1" || from.host === "::1");
}
