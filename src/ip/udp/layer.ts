/**
 * The UDP layer of one host (RFC 768, RFC 1122 4.1): the port table, demultiplexing of
 * arriving datagrams, ICMP errors handed to the socket they concern, and the output of
 * datagrams sockets queued.
 *
 * Demultiplexing prefers a socket bound to the datagram's destination address over one
 * bound to 0.0.0.0; a connected socket only takes datagrams from its peer (Linux's
 * compute_score gives a mismatched connected socket no score at all). A datagram nobody
 * takes is answered with ICMP port unreachable by the host (RFC 1122 4.1.3.1).
 *
 * Counters are the Linux `Udp:` MIB rows of /proc/net/snmp.
 */
import { IpAddress } from "../../wire/address.js";
import type { Millis, Rng } from "../../env.js";
import type { TraceSink, UdpOutcome } from "../../trace/events.js";
import { formatIpv4Address, PROTO_UDP } from "../../wire/ipv4.js";
import { formatEndpoint } from "../../trace/format.js";
import { isWildcard, reported, udpIp, udpKey, type UdpAddress } from "./address.js";
import { ICMP_DEST_UNREACHABLE, UNREACH_PORT, type IcmpQuote } from "../../wire/icmp.js";
import { ICMPV6_DEST_UNREACHABLE, UNREACH6_PORT, type Icmpv6Quote } from "../../wire/icmpv6.js";
import { emitUdp, parseUdp, UDP_HEADER_LENGTH } from "../../wire/udp.js";
import type { InboundDatagram } from "../datagram.js";
import type { DropRecorder } from "../drops.js";
import { ConnectionRefusedError, IcmpReportedError, PortInUseError, AddressNotAvailableError } from "../errors.js";
import { icmpErrorMeaning, icmpv6ErrorMeaning, reportedOnConnectedSocket, reportedOnConnectedSocket6 } from "../icmp-errors.js";
import type { IpOutput } from "../output.js";
import type { RouteChoice, RoutingTable } from "../routing.js";
import { DATAGRAM_OVERHEAD } from "./receive-queue.js";
import { checkUdpSocketOptions, UdpSocket, type PendingDatagram, type UdpSocketContext, type UdpSocketOptions } from "./socket.js";

/** Linux ip_local_port_range. */
export const UDP_EPHEMERAL_LOW = 32768;
export const UDP_EPHEMERAL_HIGH = 60999;

export interface UdpStats {
  /** Datagrams delivered to a socket's queue (InDatagrams). */
  inDatagrams: number;
  /** Datagrams for a port nobody bound (NoPorts). */
  noPorts: number;
  /** Malformed datagrams and receive-buffer drops (InErrors). */
  inErrors: number;
  /** Datagrams with a bad checksum (InCsumErrors). */
  inCsumErrors: number;
  /** Datagrams dropped because the socket's receive buffer was full (RcvbufErrors). */
  rcvbufErrors: number;
  /** Datagrams sent (OutDatagrams). */
  outDatagrams: number;
  /** Sends refused with EAGAIN (SndbufErrors). */
  sndbufErrors: number;
  /** ICMP errors reported on a socket. */
  icmpErrorsReported: number;
  /** ICMP errors about UDP that no socket was told about. */
  icmpErrorsIgnored: number;
}

export interface UdpLayerOptions {
  routing: RoutingTable;
  output: IpOutput;
  drops: DropRecorder;
  /** Picks where the ephemeral port search starts. */
  rng: Rng;
  /** Options every new socket starts with. */
  socketDefaults?: UdpSocketOptions;
  /** Traces datagrams sent (`udp-out`) and arriving (`udp-in`), named after `hostName`. */
  trace?: TraceSink;
  hostName?: string;
}

export type UdpReceiveResult = "delivered" | "no-port" | "dropped";

export class UdpLayer {
  readonly stats: UdpStats = {
    inDatagrams: 0, noPorts: 0, inErrors: 0, inCsumErrors: 0, rcvbufErrors: 0,
    outDatagrams: 0, sndbufErrors: 0, icmpErrorsReported: 0, icmpErrorsIgnored: 0,
  };
  private readonly byPort = new Map<number, UdpSocket[]>();
  private readonly pending = new Set<UdpSocket>();
  private readonly woken = new Set<UdpSocket>();
  private nextEphemeral: number;
  private readonly context: UdpSocketContext;

  constructor(private readonly opts: UdpLayerOptions) {
    // The host's defaults for its sockets fail the host, not the first socket opened.
    if (opts.socketDefaults !== undefined) checkUdpSocketOptions(opts.socketDefaults);
    const span = UDP_EPHEMERAL_HIGH - UDP_EPHEMERAL_LOW + 1;
    this.nextEphemeral = UDP_EPHEMERAL_LOW + (opts.rng.nextU32() % span);
    this.context = {
      bind: (socket, address, port) => this.claim(socket, address, port),
      release: (socket) => this.release(socket),
      route: (destination): RouteChoice => this.opts.routing.resolve(destination),
      queued: (socket) => {
        this.pending.add(socket);
      },
      sendBufferFull: () => {
        this.stats.sndbufErrors++;
      },
    };
  }

  // -----------------------------------------------------------------------------------------
  // Application side

  /** A new, unbound socket. */
  open(options: UdpSocketOptions = {}): UdpSocket {
    return new UdpSocket(this.context, { ...this.opts.socketDefaults, ...options });
  }

  /** A new socket bound to `port` (0: ephemeral) on `address` (0: every local address). */
  bind(port = 0, address = 0, options: UdpSocketOptions = {}): UdpSocket {
    return this.open(options).bind(port, address);
  }

  /** Every bound socket (for tables and tests). */
  sockets(): UdpSocket[] {
    return [...this.byPort.values()].flat();
  }

  // -----------------------------------------------------------------------------------------
  // Driver side

  /** An arrived datagram with protocol 17. The host answers "no-port" with ICMP. */
  receive(now: Millis, d: InboundDatagram): UdpReceiveResult {
    const { src, dst } = d;
    // RFC 768 / RFC 8200 8.1: the family's pseudo-header; over IPv6 a zero checksum is invalid.
    const parsed = parseUdp(d.payload, { src, dst });
    if (!parsed.ok) {
      this.stats.inErrors++;
      if (parsed.reason === "bad-checksum") {
        this.stats.inCsumErrors++;
        this.opts.drops.drop(now, "bad-checksum", "UDP checksum");
      } else {
        this.opts.drops.drop(now, "malformed", `UDP: ${parsed.reason}`);
      }
      return "dropped";
    }
    const { srcPort, dstPort, payload } = parsed.value;
    const socket = this.lookup(src, srcPort, dst, dstPort);
    if (socket === undefined) {
      this.traceIn(now, src, srcPort, dst, dstPort, payload.length, "no-port", 0, 0);
      this.stats.noPorts++;
      this.opts.drops.drop(now, "no-port", () => `UDP ${formatEndpoint(src, srcPort)} -> ${formatEndpoint(dst, dstPort)}: no socket`);
      return "no-port";
    }
    const before = socket.receiveQueueBytes;
    // Copied: the driver may reuse the packet buffer once receive returns.
    const queued = socket.deliver({ data: payload.slice(), address: reported(src), port: srcPort, localAddress: reported(dst) });
    this.traceIn(now, src, srcPort, dst, dstPort, payload.length, queued ? "queued" : "rcvbuf-full", before, socket.receiveBufferSize);
    if (!queued) {
      this.stats.rcvbufErrors++;
      this.stats.inErrors++;
      this.opts.drops.drop(now, "rcvbuf-full", () => `UDP ${socket.describe()}: receive buffer full (${socket.receiveQueueBytes} of ${socket.receiveBufferSize} bytes), ${payload.length}-byte datagram lost`);
      return "dropped";
    }
    this.stats.inDatagrams++;
    this.woken.add(socket);
    return "delivered";
  }

  /**
   * An ICMP error quoting a UDP datagram we sent (RFC 1122 4.1.3.3). Reported on the socket
   * only when it is connected to the quoted destination and the error is hard (Linux
   * without IP_RECVERR); returns whether it was reported.
   */
  /**
   * An ICMP or ICMPv6 error quoting one of our datagrams (RFC 1122 4.1.3.3, RFC 4443 2.4(b)):
   * reported on the connected socket that sent it, as Linux does without IP_RECVERR.
   */
  icmpError(quote: IcmpQuote | Icmpv6Quote, type: number, code: number, reporter: number | IpAddress): boolean {
    const t = quote.transport;
    const localPort = (t[0]! << 8) | t[1]!;
    const remotePort = (t[2]! << 8) | t[3]!;
    const socket = this.lookupOwn(quote.src, localPort);
    const v6 = typeof reporter !== "number";
    const meaning = v6 ? icmpv6ErrorMeaning(type, code) : icmpErrorMeaning(type, code);
    const peer = socket?.remote;
    const reportable = v6 ? reportedOnConnectedSocket6 : reportedOnConnectedSocket;
    if (
      socket === undefined || meaning === undefined || peer === undefined ||
      udpKey(peer.address) !== udpKey(quote.dst) || peer.port !== remotePort ||
      !reportable(type, code, socket.pmtuDiscovery === "dont")
    ) {
      this.stats.icmpErrorsIgnored++;
      return false;
    }
    const from = typeof reporter === "number" ? formatIpv4Address(reporter) : reporter.toString();
    const what = `ICMP${v6 ? "v6" : ""} type ${type} code ${code} from ${from} about ${socket.describe()}`;
    const refused = v6 ? type === ICMPV6_DEST_UNREACHABLE && code === UNREACH6_PORT : type === ICMP_DEST_UNREACHABLE && code === UNREACH_PORT;
    socket.setError(refused ? new ConnectionRefusedError(reporter, type, code, what) : new IcmpReportedError(meaning.code, reporter, type, code, what));
    this.stats.icmpErrorsReported++;
    this.woken.add(socket);
    return true;
  }

  hasPendingOutput(): boolean {
    return this.pending.size > 0;
  }

  /** Sends every queued datagram (called from the host's poll). */
  flush(now: Millis): void {
    while (this.pending.size > 0) {
      const batch = [...this.pending];
      this.pending.clear();
      for (const socket of batch) {
        const { datagrams, unblocked } = socket.drainOutput();
        for (const d of datagrams) this.transmit(now, d);
        if (unblocked) this.woken.add(socket);
      }
    }
  }

  /** Calls onWake of every socket that became readable, errored or writable. */
  deliverWakes(): void {
    while (this.woken.size > 0) {
      const batch = [...this.woken];
      this.woken.clear();
      for (const s of batch) s.onWake?.(s);
    }
  }

  // -----------------------------------------------------------------------------------------
  // Internals

  private traceIn(now: Millis, src: IpAddress, srcPort: number, dst: IpAddress, dstPort: number, length: number, outcome: UdpOutcome, queuedBytes: number, bufferBytes: number): void {
    const trace = this.opts.trace;
    if (!trace?.enabled) return;
    const tuple = { localAddr: dst, localPort: dstPort, remoteAddr: src, remotePort: srcPort };
    trace.emit({ type: "udp-in", time: now, host: this.opts.hostName ?? "", tuple, length, outcome, queuedBytes, bufferBytes, charge: length + DATAGRAM_OVERHEAD });
  }

  private transmit(now: Millis, d: PendingDatagram): void {
    const length = UDP_HEADER_LENGTH + d.data.length;
    const trace = this.opts.trace;
    // Before output, so the packet's (or its fragments') events follow it.
    if (trace?.enabled) {
      const route = this.opts.routing.lookup(d.dst);
      const localAddr = !isWildcard(d.src) ? udpIp(d.src) : route.ok ? route.value.source : udpIp(0);
      trace.emit({ type: "udp-out", time: now, host: this.opts.hostName ?? "", tuple: { localAddr, localPort: d.srcPort, remoteAddr: udpIp(d.dst), remotePort: d.dstPort }, length: d.data.length });
    }
    const dst = udpIp(d.dst);
    const result = this.opts.output.send(now, {
      dst,
      ...(!isWildcard(d.src) ? { src: udpIp(d.src) } : {}),
      protocol: PROTO_UDP,
      payloadLength: length,
      writePayload: (buf, offset, src) => {
        emitUdp({ srcPort: d.srcPort, dstPort: d.dstPort, payload: d.data }, buf, offset, { src, dst });
      },
      policy: d.socket.pmtuDiscovery,
      ...(d.socket.ttl !== undefined ? { ttl: d.socket.ttl } : {}),
      tos: d.tos,
    });
    if (result.ok) {
      this.stats.outDatagrams++;
      d.socket.stats.datagramsOut++;
      d.socket.stats.bytesOut += d.data.length;
    }
  }

  /** The socket that takes a datagram: exact local address first, then 0.0.0.0. */
  private lookup(src: IpAddress, srcPort: number, dst: IpAddress, dstPort: number): UdpSocket | undefined {
    const list = this.byPort.get(dstPort);
    if (list === undefined) return undefined;
    let wildcard: UdpSocket | undefined;
    for (const s of list) {
      if (!s.accepts(src, srcPort, dst)) continue;
      if (udpKey(s.localAddress) === dst.key) return s;
      wildcard ??= s;
    }
    return wildcard;
  }

  /** The socket that sent from localAddr:localPort. */
  private lookupOwn(localAddr: UdpAddress, localPort: number): UdpSocket | undefined {
    const list = this.byPort.get(localPort);
    if (list === undefined) return undefined;
    return list.find((s) => udpKey(s.localAddress) === udpKey(localAddr)) ?? list.find((s) => isWildcard(s.localAddress));
  }

  private claim(socket: UdpSocket, address: UdpAddress, port: number): number {
    if (!isWildcard(address) && !this.opts.routing.isLocal(address)) {
      throw new AddressNotAvailableError(address, `${udpIp(address).toString()} is not an address of this host`);
    }
    const chosen = port !== 0 ? port : this.pickEphemeral(address);
    const list = this.byPort.get(chosen) ?? [];
    // Without SO_REUSEADDR two sockets conflict when either takes every address or both take the same one.
    if (list.some((s) => conflicts(s.localAddress, address))) {
      throw new PortInUseError(chosen, `UDP port ${chosen} on ${udpIp(address).toString()} is in use`);
    }
    list.push(socket);
    this.byPort.set(chosen, list);
    return chosen;
  }

  private release(socket: UdpSocket): void {
    const port = socket.localPort;
    if (port === undefined) return;
    const list = this.byPort.get(port);
    if (list === undefined) return;
    const rest = list.filter((s) => s !== socket);
    if (rest.length === 0) this.byPort.delete(port);
    else this.byPort.set(port, rest);
  }

  /** Linux-style: walk the range from a rotating start, take the first free port. */
  private pickEphemeral(address: UdpAddress): number {
    const span = UDP_EPHEMERAL_HIGH - UDP_EPHEMERAL_LOW + 1;
    for (let i = 0; i < span; i++) {
      const port = UDP_EPHEMERAL_LOW + ((this.nextEphemeral - UDP_EPHEMERAL_LOW + i) % span);
      const list = this.byPort.get(port);
      if (list === undefined || !list.some((s) => conflicts(s.localAddress, address))) {
        this.nextEphemeral = port + 1 > UDP_EPHEMERAL_HIGH ? UDP_EPHEMERAL_LOW : port + 1;
        return port;
      }
    }
    throw new PortInUseError(0, `no ephemeral UDP port free in ${UDP_EPHEMERAL_LOW}-${UDP_EPHEMERAL_HIGH}`);
  }
}

/** Without SO_REUSEADDR two sockets conflict when either takes every address or both take the same one. */
function conflicts(a: UdpAddress, b: UdpAddress): boolean {
  return isWildcard(a) || isWildcard(b) || udpKey(a) === udpKey(b);
}
