/**
 * A UDP socket (RFC 768, RFC 1122 4.1), sans-IO: the application calls bind, connect,
 * send, recv and close between packets; datagrams it sends leave on the host's next poll,
 * datagrams that arrive wait in a bounded receive queue (S33), and `onWake` is called after
 * the host finished processing a packet or timer (never in the middle) whenever the socket
 * became readable, got an error, or has send-buffer space again.
 *
 * Semantics follow Linux where the RFCs leave a choice:
 *   - One socket per port and address; a socket bound to 0.0.0.0 takes the port for every
 *     address (no SO_REUSEADDR / SO_REUSEPORT).
 *   - connect() only records the peer: it picks the source address by route (so it fails
 *     at once with ENETUNREACH / EHOSTUNREACH), filters incoming datagrams to that peer,
 *     and lets ICMP errors about it surface on the socket (ECONNREFUSED for port
 *     unreachable). Unconnected sockets never see ICMP errors (no IP_RECVERR).
 *   - A pending error is reported once, by the next recv() (before queued data, as
 *     Linux's __skb_try_recv_datagram checks sk_err first) or by takeError().
 *   - send() checks what it can at once: size (EMSGSIZE over 65,507 bytes, or over the
 *     MTU with pmtuDiscovery "do"), destination (EDESTADDRREQ, EINVAL), route, and the
 *     send buffer (EAGAIN).
 */
import { formatIpv4Address } from "../../wire/ipv4.js";
import { IpAddress } from "../../wire/address.js";
import { formatEndpoint } from "../../trace/format.js";
import { isWildcard, reported, udpIp, udpKey, type UdpAddress } from "./address.js";
import { UDP_HEADER_LENGTH } from "../../wire/udp.js";
import { isTosByte } from "../../wire/ip-ecn.js";
import {
  DestinationRequiredError,
  InvalidArgumentError,
  MessageTooLongError,
  SocketClosedError,
  WouldBlockError,
  type IpError,
} from "../errors.js";
import { IPV4_MAX_PACKET, type FragmentPolicy } from "../output.js";
import type { RouteChoice } from "../routing.js";
import { SendQueue } from "../send-queue.js";
import { DEFAULT_RECEIVE_BUFFER, ReceiveQueue, type UdpMessage } from "./receive-queue.js";
import { showValue } from "../../show-value.js";

/** The largest UDP payload over IPv4: 65,535 - 20 (IP header) - 8 (UDP header). */
export const UDP_MAX_PAYLOAD = IPV4_MAX_PACKET - 20 - UDP_HEADER_LENGTH;

/** Linux net.core.wmem_default. */
export const DEFAULT_SEND_BUFFER = 212_992;

export interface UdpSocketOptions {
  /** Receive buffer in bytes (Linux rmem_default 212,992). */
  receiveBufferSize?: number;
  /** Send buffer in bytes (Linux wmem_default 212,992). */
  sendBufferSize?: number;
  /** IP_MTU_DISCOVER: "want" (default, Linux), "do" (never fragment), "dont" (never DF). */
  pmtuDiscovery?: FragmentPolicy;
  /** Time-to-live of this socket's datagrams (default: the host's). */
  ttl?: number;
  /**
   * IP_TOS / IPV6_TCLASS: the TOS byte (IPv4) or traffic class (IPv6) of this socket's
   * datagrams, 0..255 (default 0). All eight bits as given, the ECN field too: Linux masks
   * that only for stream sockets (__ip_sock_set_tos), and an application doing its own
   * congestion control over UDP (RFC 8085 3.1.5, RFC 9331) sets ECT itself.
   */
  typeOfService?: number;
}

function checkTypeOfService(tos: unknown): number {
  if (!isTosByte(tos)) throw new InvalidArgumentError(`type of service must be an integer in 0..255, got ${showValue(tos)}`);
  return tos;
}

export interface UdpEndpoint {
  /** An IPv4 uint32 or an IpAddress of either family. */
  address: UdpAddress;
  port: number;
}

export interface UdpSocketStats {
  datagramsIn: number;
  bytesIn: number;
  datagramsOut: number;
  bytesOut: number;
  /** Datagrams dropped because the receive buffer was full (S33). */
  receiveBufferDrops: number;
  /** send() calls refused with EAGAIN because the send buffer was full. */
  sendBufferFull: number;
}

/** A datagram waiting for the next poll. */
export interface PendingDatagram {
  socket: UdpSocket;
  /** Source address: the socket's bound address, or 0 to let the route choose. */
  src: UdpAddress;
  srcPort: number;
  dst: UdpAddress;
  dstPort: number;
  data: Uint8Array;
  /** The socket's type of service when send() queued it (Linux reads it per sendmsg). */
  tos: number;
}

/** What a socket needs from the UDP layer that owns it. */
export interface UdpSocketContext {
  /** Claims `port` (0: an ephemeral one) on `address` (0: every address); returns the port. */
  bind(socket: UdpSocket, address: UdpAddress, port: number): number;
  release(socket: UdpSocket): void;
  /** The route to `destination`; throws ENETUNREACH / EHOSTUNREACH. */
  route(destination: UdpAddress): RouteChoice;
  /** The socket queued output: the host must poll. */
  queued(socket: UdpSocket): void;
  /** A send was refused with EAGAIN (counted host-wide). */
  sendBufferFull(socket: UdpSocket): void;
}

export type UdpSocketState = "open" | "bound" | "closed";

export class UdpSocket {
  /** Called after packet or timer processing when the socket became readable, got an error or can send again. */
  onWake: ((socket: UdpSocket) => void) | undefined = undefined;
  readonly stats: UdpSocketStats = { datagramsIn: 0, bytesIn: 0, datagramsOut: 0, bytesOut: 0, receiveBufferDrops: 0, sendBufferFull: 0 };
  readonly pmtuDiscovery: FragmentPolicy;
  readonly ttl: number | undefined;
  /** The TOS / traffic class byte of its datagrams (`typeOfService`, setTypeOfService()). */
  typeOfService: number;
  private readonly rx: ReceiveQueue;
  private readonly tx: SendQueue<PendingDatagram>;
  private socketState: UdpSocketState = "open";
  private address: UdpAddress = 0;
  private port: number | undefined = undefined;
  private peer: UdpEndpoint | undefined = undefined;
  private error: IpError | undefined = undefined;
  /** A send was refused for lack of buffer: wake the application once it drains. */
  private blocked = false;

  constructor(
    private readonly ctx: UdpSocketContext,
    options: UdpSocketOptions = {},
  ) {
    checkUdpSocketOptions(options);
    this.rx = new ReceiveQueue(options.receiveBufferSize ?? DEFAULT_RECEIVE_BUFFER);
    this.tx = new SendQueue(options.sendBufferSize ?? DEFAULT_SEND_BUFFER);
    this.pmtuDiscovery = options.pmtuDiscovery ?? "want";
    this.ttl = options.ttl;
    this.typeOfService = options.typeOfService === undefined ? 0 : checkTypeOfService(options.typeOfService);
  }

  /** IP_TOS / IPV6_TCLASS for the datagrams sent from now on (see UdpSocketOptions.typeOfService); EINVAL for a bad value. */
  setTypeOfService(tos: number): void {
    this.typeOfService = checkTypeOfService(tos);
  }

  get state(): UdpSocketState {
    return this.socketState;
  }

  /** The bound address; 0 (or ::) means every local address. */
  get localAddress(): UdpAddress {
    return this.address;
  }

  /** The bound port, or undefined before bind (or the first send, which binds). */
  get localPort(): number | undefined {
    return this.port;
  }

  /** The connected peer, if any. */
  get remote(): UdpEndpoint | undefined {
    return this.peer;
  }

  /** Bytes charged in the receive queue, and datagrams waiting there. */
  get receiveQueueBytes(): number {
    return this.rx.bytes;
  }
  get receiveQueueLength(): number {
    return this.rx.length;
  }
  get receiveBufferSize(): number {
    return this.rx.limit;
  }

  /** Bytes queued to leave on the next poll. */
  get sendQueueBytes(): number {
    return this.tx.bytes;
  }

  /** The error waiting to be reported, without taking it. */
  get pendingError(): IpError | undefined {
    return this.error;
  }

  /** Binds to `port` (0: ephemeral, 32768-60999) on `address` (0: every local address). */
  bind(port = 0, address: UdpAddress = 0): this {
    this.checkOpen();
    if (this.socketState === "bound") throw new InvalidArgumentError("socket is already bound");
    checkPort(port, "port");
    checkAddress(address, "local address");
    const a = typeof address === "number" ? address >>> 0 : address;
    this.port = this.ctx.bind(this, a, port);
    this.address = a;
    this.socketState = "bound";
    return this;
  }

  /**
   * Sets the default destination and accepts datagrams only from it. Binds an ephemeral
   * port first if needed and fixes the source address by route, as Linux does.
   */
  connect(address: UdpAddress, port: number): void {
    this.checkOpen();
    checkDestination(address, port);
    const route = this.ctx.route(address);
    if (this.socketState !== "bound") this.bind(0, 0);
    // ip4_datagram_connect (ip6_datagram_connect alike): an unbound source address becomes the route's.
    if (isWildcard(this.address)) this.address = reported(route.source);
    this.peer = { address: typeof address === "number" ? address >>> 0 : address, port };
  }

  /** Forgets the connected peer (connect with AF_UNSPEC). The source address stays. */
  disconnect(): void {
    this.checkOpen();
    this.peer = undefined;
  }

  /**
   * Queues one datagram to `to` (or the connected peer). It leaves on the next poll.
   * Throws EMSGSIZE, EDESTADDRREQ, EINVAL, ENETUNREACH, EHOSTUNREACH, EAGAIN or EBADF.
   */
  send(data: Uint8Array, to?: UdpEndpoint): void {
    this.checkOpen();
    if (!(data instanceof Uint8Array)) throw new InvalidArgumentError(`send() takes a Uint8Array, got ${typeof data}`);
    if (data.length > UDP_MAX_PAYLOAD) {
      throw new MessageTooLongError(data.length, UDP_MAX_PAYLOAD, `a UDP datagram carries at most ${UDP_MAX_PAYLOAD} bytes over IPv4, got ${data.length}`);
    }
    const dest = to ?? this.peer;
    if (dest === undefined) throw new DestinationRequiredError("send() on an unconnected socket needs a destination");
    checkDestination(dest.address, dest.port);
    const route = this.ctx.route(dest.address);
    const ipHeader = udpIp(dest.address).family === 6 ? 40 : 20;
    const packetLength = ipHeader + UDP_HEADER_LENGTH + data.length;
    if (this.pmtuDiscovery === "do" && packetLength > route.iface.mtu) {
      throw new MessageTooLongError(data.length, route.iface.mtu - ipHeader - UDP_HEADER_LENGTH, `${packetLength}-byte packet exceeds MTU ${route.iface.mtu} and pmtuDiscovery is "do"`);
    }
    if (this.tx.full) {
      this.stats.sendBufferFull++;
      this.blocked = true;
      this.ctx.sendBufferFull(this);
      throw new WouldBlockError(`send buffer full (${this.tx.bytes} of ${this.tx.limit} bytes queued)`);
    }
    if (this.socketState !== "bound") this.bind(0, 0);
    // Copied: the application may reuse its buffer as soon as send() returns.
    this.tx.push({ socket: this, src: this.address, srcPort: this.port!, dst: typeof dest.address === "number" ? dest.address >>> 0 : dest.address, dstPort: dest.port, data: data.slice(), tos: this.typeOfService }, data.length);
    this.ctx.queued(this);
  }

  /** The next datagram, or undefined when none waits. Throws (once) a pending error first. */
  recv(): UdpMessage | undefined {
    const error = this.takeError();
    if (error !== undefined) throw error;
    return this.rx.shift();
  }

  /** Takes the pending error (SO_ERROR), clearing it. */
  takeError(): IpError | undefined {
    const error = this.error;
    this.error = undefined;
    return error;
  }

  /** Releases the port and drops queued input. Datagrams already sent still leave. */
  close(): void {
    if (this.socketState === "closed") return;
    if (this.socketState === "bound") this.ctx.release(this);
    this.socketState = "closed";
    this.rx.clear();
    this.error = undefined;
    this.onWake = undefined;
  }

  /** A read-only snapshot for tables and tests. */
  inspect(): {
    state: UdpSocketState; localAddress: UdpAddress; localPort: number | undefined; remote: UdpEndpoint | undefined;
    receiveQueueBytes: number; receiveQueueLength: number; sendQueueBytes: number; stats: UdpSocketStats;
  } {
    return {
      state: this.socketState, localAddress: this.address, localPort: this.port, remote: this.peer && { ...this.peer },
      receiveQueueBytes: this.rx.bytes, receiveQueueLength: this.rx.length, sendQueueBytes: this.tx.bytes, stats: { ...this.stats },
    };
  }

  // -----------------------------------------------------------------------------------------
  // Layer side: called by the UDP layer during packet and timer processing.

  /** Would this socket accept a datagram from src:srcPort to dst? (binding and peer filter) */
  accepts(src: IpAddress, srcPort: number, dst: IpAddress): boolean {
    if (this.socketState !== "bound") return false;
    if (!isWildcard(this.address) && udpKey(this.address) !== dst.key) return false;
    return this.peer === undefined || (udpKey(this.peer.address) === src.key && this.peer.port === srcPort);
  }

  /** Queues an arrived datagram; false when the receive buffer is full (counted). */
  deliver(m: UdpMessage): boolean {
    if (!this.rx.push(m)) {
      this.stats.receiveBufferDrops++;
      return false;
    }
    this.stats.datagramsIn++;
    this.stats.bytesIn += m.data.length;
    return true;
  }

  /** Records an error reported by ICMP. */
  setError(error: IpError): void {
    if (this.socketState !== "closed") this.error = error;
  }

  /** Takes the queued datagrams; reports whether the application should hear it may send again. */
  drainOutput(): { datagrams: PendingDatagram[]; unblocked: boolean } {
    const datagrams = this.tx.drain();
    const unblocked = this.blocked && this.socketState !== "closed";
    this.blocked = false;
    return { datagrams, unblocked };
  }

  describe(): string {
    const local = `${udpIp(this.address).toString()}:${this.port ?? "*"}`;
    return this.peer === undefined ? local : `${local}->${formatEndpoint(udpIp(this.peer.address), this.peer.port)}`;
  }

  private checkOpen(): void {
    if (this.socketState === "closed") throw new SocketClosedError("socket is closed");
  }
}

/** A socket's options (or a host's defaults for its sockets), checked before any is used. */
export function checkUdpSocketOptions(options: UdpSocketOptions): void {
  if (typeof options !== "object" || options === null) throw new InvalidArgumentError(`UDP socket options must be an object, got ${showValue(options)}`);
  const { pmtuDiscovery, ttl, receiveBufferSize, sendBufferSize } = options;
  for (const [name, bytes] of [["receiveBufferSize", receiveBufferSize], ["sendBufferSize", sendBufferSize]] as const) {
    if (bytes !== undefined && !(typeof bytes === "number" && bytes > 0)) throw new InvalidArgumentError(`${name} must be a number of bytes > 0, got ${showValue(bytes)}`);
  }
  if (pmtuDiscovery !== undefined && pmtuDiscovery !== "want" && pmtuDiscovery !== "do" && pmtuDiscovery !== "dont") {
    throw new InvalidArgumentError(`pmtuDiscovery must be "want", "do" or "dont", got ${showValue(pmtuDiscovery)}`);
  }
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 1 && ttl <= 255)) throw new InvalidArgumentError(`ttl must be an integer in [1, 255], got ${showValue(ttl)}`);
}

function checkPort(port: number, what: string): void {
  if (!(Number.isInteger(port) && port >= 0 && port <= 0xffff)) throw new InvalidArgumentError(`${what} must be an integer in [0, 65535], got ${showValue(port)}`);
}

/** An address is a uint32 (IPv4) or an IpAddress. */
function checkAddress(address: UdpAddress, what: string): void {
  const ok = typeof address === "number" ? Number.isInteger(address) && address >= 0 && address <= 0xffffffff : address instanceof IpAddress;
  if (!ok) throw new InvalidArgumentError(`${what} must be a uint32 address or an IpAddress, got ${showValue(address)}`);
}

/**
 * Unicast destinations only: port 0 is refused as Linux does (EINVAL), and so are 0.0.0.0,
 * multicast and broadcast, which synack does not support.
 */
function checkDestination(address: UdpAddress, port: number): void {
  checkPort(port, "destination port");
  if (port === 0) throw new InvalidArgumentError("destination port 0");
  checkAddress(address, "destination");
  if (typeof address === "number") {
    const first = address >>> 24;
    if (address === 0 || first >= 224) throw new InvalidArgumentError(`destination ${formatIpv4Address(address)}: only unicast destinations are supported`);
    return;
  }
  if (address.isUnspecified || address.isMulticast || address.kind === "broadcast") throw new InvalidArgumentError(`destination ${address.toString()}: only unicast destinations are supported`);
}
