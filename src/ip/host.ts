/**
 * A host: one IPv4 address on one link, with a TCP layer. It is the sans-IO `Endpoint`
 * the simulator and the real-time drivers run.
 *
 * Inbound packets are parsed (IPv4, then TCP with the pseudo-header checksum); anything
 * malformed, corrupt or addressed elsewhere is dropped silently, counted and traced (S20).
 * Outbound segments get an IPv4 header and leave through `transmit`.
 */
import type { Endpoint, Transmit } from "../endpoint.js";
import type { Millis, Rng } from "../env.js";
import { NULL_SINK, type DropReason, type FourTuple, type TraceSink } from "../trace/events.js";
import { emitIpv4Header, IPV4_MIN_HEADER, parseIpv4, PROTO_TCP } from "../wire/ipv4.js";
import { emitTcp, headerLength, parseTcp, type TcpSegment } from "../wire/tcp.js";
import { resolveConfig, type TcpConfig } from "../tcp/config.js";
import { TcpLayer } from "../tcp/layer.js";

export interface HostOptions {
  /** A name for traces ("client", "server"). */
  name: string;
  /** The host's IPv4 address (uint32). */
  address: number;
  rng: Rng;
  transmit: Transmit;
  /** Largest IP packet the link carries (default 1500). */
  mtu?: number;
  trace?: TraceSink;
  tcp?: Partial<TcpConfig>;
  /** Time-to-live of packets we send (Linux default 64). */
  ttl?: number;
}

export interface HostCounters {
  packetsIn: number;
  packetsOut: number;
  drops: Partial<Record<DropReason, number>>;
}

export class Host implements Endpoint {
  readonly name: string;
  readonly address: number;
  readonly tcp: TcpLayer;
  readonly counters: HostCounters = { packetsIn: 0, packetsOut: 0, drops: {} };
  private readonly transmitPacket: Transmit;
  private readonly trace: TraceSink;
  private readonly ttl: number;
  private ipId = 0;
  private now: Millis = 0;

  constructor(opts: HostOptions) {
    this.name = opts.name;
    this.address = opts.address >>> 0;
    this.transmitPacket = opts.transmit;
    this.trace = opts.trace ?? NULL_SINK;
    this.ttl = opts.ttl ?? 64;
    this.tcp = new TcpLayer({
      hostName: opts.name,
      config: resolveConfig(opts.tcp),
      rng: opts.rng,
      trace: this.trace,
      mtu: opts.mtu ?? 1500,
      output: (tuple, seg) => this.sendTcp(tuple, seg),
    });
  }

  receive(now: Millis, packet: Uint8Array): void {
    this.now = now;
    this.counters.packetsIn++;
    const ip = parseIpv4(packet);
    if (!ip.ok) return this.drop(ip.reason === "bad-checksum" ? "bad-checksum" : "malformed", `IPv4: ${ip.reason}`);
    const { header, payload } = ip.value;
    if (header.dst !== this.address) return this.drop("not-for-us", "destination is not this host");
    if (header.moreFragments || header.fragmentOffset !== 0) return this.drop("malformed", "IPv4 fragments are not reassembled yet");
    if (header.protocol !== PROTO_TCP) return this.drop("malformed", `protocol ${header.protocol} not handled`);
    const tcp = parseTcp(payload, { src: header.src, dst: header.dst });
    if (!tcp.ok) return this.drop(tcp.reason === "bad-checksum" ? "bad-checksum" : "malformed", `TCP: ${tcp.reason}`);
    this.tcp.receive(now, header.src, header.dst, tcp.value);
  }

  poll(now: Millis): void {
    this.now = now;
    this.tcp.poll(now);
  }

  nextDeadline(): Millis {
    return this.tcp.nextDeadline();
  }

  private sendTcp(tuple: FourTuple, seg: TcpSegment): void {
    const tcpLength = headerLength(seg.options) + seg.payload.length;
    const packet = new Uint8Array(IPV4_MIN_HEADER + tcpLength);
    emitIpv4Header(
      { src: tuple.localAddr, dst: tuple.remoteAddr, protocol: PROTO_TCP, payloadLength: tcpLength, ttl: this.ttl, id: this.ipId, dontFragment: true },
      packet,
      0,
    );
    this.ipId = (this.ipId + 1) & 0xffff;
    emitTcp(seg, packet, IPV4_MIN_HEADER, { src: tuple.localAddr, dst: tuple.remoteAddr });
    this.counters.packetsOut++;
    this.transmitPacket(packet);
  }

  private drop(reason: DropReason, detail: string): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
    if (this.trace.enabled) this.trace.emit({ type: "drop", time: this.now, host: this.name, reason, detail });
  }
}
