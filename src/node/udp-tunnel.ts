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
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { newCounters, type PacketLink } from "./tun.js";

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "host:port" (IPv6 as "[::1]:port"). */
export function parseHostPort(text: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = m !== null ? Number(m[3]) : NaN;
  if (m === null || !(port >= 0 && port <= 65535)) throw new Error(`expected host:port, got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2]!, port };
}

export interface UdpTunnelOptions {
  listen: HostPort;
  peer?: HostPort;
  /** Largest IP packet carried (default 1400). */
  mtu?: number;
}

export class UdpTunnel implements PacketLink {
  readonly counters = newCounters();
  onPacket: ((packet: Uint8Array) => void) | undefined;
  /** Datagrams from a source other than the peer. */
  foreignDrops = 0;
  private peer: HostPort | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly mtu: number,
    peer: HostPort | undefined,
    readonly local: HostPort,
  ) {
    this.peer = peer;
    socket.on("message", (msg: Buffer, rinfo: RemoteInfo) => this.onMessage(msg, rinfo));
  }

  get name(): string {
    return `udp ${this.local.host}:${this.local.port}${this.peer !== undefined ? ` <-> ${this.peer.host}:${this.peer.port}` : ""}`;
  }

  get remote(): HostPort | undefined {
    return this.peer;
  }

  static async open(opts: UdpTunnelOptions): Promise<UdpTunnel> {
    const mtu = opts.mtu ?? 1400;
    if (!(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65507)) throw new RangeError(`tunnel mtu must be an integer in [68, 65507], got ${mtu}`);
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
    return new UdpTunnel(socket, mtu, opts.peer, { host: addr.address, port: addr.port });
  }

  send(packet: Uint8Array): void {
    const peer = this.peer;
    if (peer === undefined || this.closing !== undefined || packet.length > this.mtu) {
      this.counters.dropsOut++;
      return;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    this.socket.send(packet, peer.port, peer.host, (err) => {
      if (err !== null && err !== undefined) this.counters.dropsOut++;
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => this.socket.close(() => resolve()));
    return this.closing;
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.peer === undefined) {
      this.peer = { host: rinfo.address, port: rinfo.port };
    } else if (!samePeer(this.peer, rinfo)) {
      this.foreignDrops++;
      return;
    }
    this.counters.packetsIn++;
    this.counters.bytesIn += msg.length;
    // A plain Uint8Array view: the stack must not see Buffer's different slice() semantics.
    this.onPacket?.(new Uint8Array(msg.buffer, msg.byteOffset, msg.length));
  }
}

function samePeer(peer: HostPort, rinfo: RemoteInfo): boolean {
  if (peer.port !== rinfo.port) return false;
  if (peer.host === rinfo.address) return true;
  // "localhost" and friends: compare after the first datagram resolved them.
  return peer.host === "localhost" && (rinfo.address === "127.0.0.1" || rinfo.address === "::1");
}
