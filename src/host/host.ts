/**
 * A host: IPv4 and IPv6 interfaces and routes on one link, with TCP, UDP and ICMP on top.
 * It is the sans-IO `Endpoint` the simulator and the real-time drivers run.
 *
 * This file only wires the parts together; each job lives in its own module of src/ip/
 * (and TCP in src/tcp/, which is why the host stands above both):
 *   input.ts      validation, local-delivery filter, IPv6 extension headers, demultiplexing
 *   reassembly.ts fragments back into datagrams (bounded memory, 30 s timeout); IPv6: reassembly6.ts (60 s)
 *   output.ts     route, header, ID, DF policy and fragmentation
 *   routing.ts    interfaces, routes, source-address choice
 *   icmp.ts       echo, errors (rate-limited), errors handed to transports, ping
 *   udp/          sockets, port table, receive queues
 *   drops.ts      drop counters and `drop` trace events
 *
 * Driving contract: `receive(now, packet)` for each packet, `poll(now)` when
 * `nextDeadline()` comes due. Application calls (UDP send, ping) queue their packets and
 * make `nextDeadline()` return the current time, so they leave on the next poll stamped
 * with the driver's time. Application callbacks (onWake, onEchoReply) run at the end of
 * `receive` and `poll`, never in the middle of a packet.
 */
import { IpAddress } from "../wire/address.js";
import type { Endpoint, Transmit } from "../endpoint.js";
import { MAX_CLOCK_MS, type Millis, type Rng } from "../env.js";
import { NULL_SINK, type DropReason, type FourTuple, type TraceSink } from "../trace/events.js";
import { ICMP_DEST_UNREACHABLE, ICMP_PARAMETER_PROBLEM, ICMP_TIME_EXCEEDED, TIME_EXCEEDED_REASSEMBLY, UNREACH_PORT, UNREACH_PROTOCOL } from "../wire/icmp.js";
import { PROTO_ICMP, PROTO_TCP, PROTO_UDP } from "../wire/ipv4.js";
import { readTcp, type PseudoHeader, type TcpSegment } from "../wire/tcp.js";
import { TcpDatagram } from "../ip/tcp-datagram.js";
import { GsoBatch, type GsoRun } from "../ip/gso-batch.js";
import { resolveConfig, type TcpConfig } from "../tcp/config.js";
import { TcpLayer } from "../tcp/layer.js";
import type { InboundDatagram } from "../ip/datagram.js";
import { DropRecorder, type IpDropReason } from "../ip/drops.js";
import { IcmpLayer, type IcmpStats } from "../ip/icmp.js";
import { IpInput, type DatagramHandler } from "../ip/input.js";
import { IpOutput } from "../ip/output.js";
import { ICMP_RATE_LIMIT_DEFAULTS, IcmpRateLimiter, type IcmpRateLimitConfig } from "../ip/rate-limit.js";
import { Icmp6Layer, type Icmp6Stats } from "../ip/icmp6.js";
import { ICMPV6_DEST_UNREACHABLE, ICMPV6_TIME_EXCEEDED, TIME_EXCEEDED6_REASSEMBLY, UNREACH6_PORT } from "../wire/icmpv6.js";
import { NH_ICMPV6 } from "../wire/ipv6.js";
import { Reassembler, REASSEMBLY_DEFAULTS, type ReassemblyConfig, type ReassemblyStats } from "../ip/reassembly.js";
import { LOOPBACK_BUDGET, LoopbackQueue } from "../ip/loopback.js";
import { DEFAULT_MTU, routeList, RoutingTable, toIpAddress, type AddressInput, type InterfaceConfig, type RouteChoice, type RouteConfig } from "../ip/routing.js";
import { Ipv6Reassembler, REASSEMBLY6_DEFAULTS } from "../ip/reassembly6.js";
import { PathMtuCache } from "../ip/path-mtu.js";
import { newIpStats, type IpStats } from "../ip/stats.js";
import { UdpLayer, type UdpStats } from "../ip/udp/layer.js";
import type { UdpSocketOptions } from "../ip/udp/socket.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

export interface HostOptions {
  /** A name for traces ("client", "server"). */
  name: string;
  /**
   * The host's address (an IpAddress of either family, or an IPv4 uint32): the simple
   * single-interface form. Without `interfaces`, the host gets one interface "eth0" with
   * this address (/32 or /128) and an on-link default route of its family, so every
   * destination of that family is reachable over its one link.
   */
  address?: AddressInput;
  /** Interfaces (address/prefix, MTU). Each gets a connected route; add others with `routes`. */
  interfaces?: InterfaceConfig[];
  /** Routes besides the connected ones. Default: none with `interfaces`, on-link default with `address`. */
  routes?: RouteConfig[];
  rng: Rng;
  transmit: Transmit;
  /** Largest IP packet the link carries (default 1500); an interface may override it. */
  mtu?: number;
  trace?: TraceSink;
  tcp?: Partial<TcpConfig>;
  /** Time-to-live of packets we send (Linux default 64). */
  ttl?: number;
  /** Fragment reassembly limits (Linux: 30 s, 4 MiB). */
  reassembly?: Partial<ReassemblyConfig>;
  /** ICMP error rate limits (Linux: 1 s per destination with a burst of 6, 1000/s host-wide). */
  icmpRateLimit?: Partial<IcmpRateLimitConfig>;
  /** Defaults for every UDP socket (buffer sizes, path-MTU policy). */
  udp?: UdpSocketOptions;
  /** Verify IPv4 header checksums (default true). */
  verifyChecksum?: boolean;
  /**
   * The link guarantees integrity, as Linux loopback does: TCP checksums are neither
   * computed nor verified, nor IPv4 header checksums verified (default false). Only for
   * in-memory links; captures of such traffic show checksums as wrong.
   */
  checksumOffload?: boolean;
  /**
   * The link takes TCP super-packets of up to this many bytes and segments them itself
   * (TSO/GSO, Linux gso_max_size; see GsoInfo): a connection's consecutive segments of one
   * transmission pass then leave as one packet (gso-batch.ts). Default 0: every segment
   * is its own packet, as on every simulated link.
   */
  gsoMaxSize?: number;
  /**
   * How late the driver may call poll() after nextDeadline(), in ms: the granularity of the
   * runtime's timers (Node's are whole milliseconds, and fire up to about one more late).
   * Pacing credits a release that much lateness, so a paced connection keeps its rate on
   * such a clock. Default 0 (a precise clock: the simulator, Linux's hrtimers).
   */
  timerSlack?: number;
  /**
   * The shortest wait the driver's timers can express, in ms (Node's setTimeout: 1). A paced
   * segment due sooner than that leaves now instead of after a wakeup that would come late
   * (as Chromium's pacing sender does with its alarm granularity), and a pacing deadline is
   * set that much early. The rate is kept: the schedule advances from the release time, not
   * from the early send. Default 0 (a precise clock: the simulator, Linux's hrtimers).
   */
  timerGranularity?: number;
}

export interface HostCounters {
  packetsIn: number;
  packetsOut: number;
  /** Drops by reason: the trace union's reasons plus the IP layer's finer ones. */
  drops: Partial<Record<DropReason | IpDropReason, number>>;
  ip: IpStats;
  icmp: IcmpStats;
  icmp6: Icmp6Stats;
  udp: UdpStats;
  reassembly: ReassemblyStats;
  reassembly6: ReassemblyStats;
}

const NO_PAYLOAD = new Uint8Array(0);

/** Rounds of "send queued output, then wake the application" per receive or poll. */
const MAX_FLUSH_ROUNDS = 16;

export class Host implements Endpoint {
  readonly name: string;
  /** The primary address: `address`, or the first interface's. */
  readonly address: IpAddress;
  readonly tcp: TcpLayer;
  readonly udp: UdpLayer;
  readonly icmp: IcmpLayer;
  /** ICMPv6: echo (ping -6), errors, errors handed to transports. */
  readonly icmp6: Icmp6Layer;
  readonly routing: RoutingTable;
  /** Path MTUs learned from ICMP, per destination, ageing out after 10 minutes. */
  readonly pathMtus: PathMtuCache;
  readonly reassembler: Reassembler;
  readonly reassembler6: Ipv6Reassembler;
  readonly counters: HostCounters;
  /** The host's randomness, for services above IP that need their own (DNS query IDs and ports). */
  readonly rng: Rng;
  private readonly input: IpInput;
  private readonly output: IpOutput;
  private readonly drops: DropRecorder;
  private readonly checksumOffload: boolean;
  /** The packet being received came with `checksumValid` (see Endpoint.receive). */
  private rxChecksumValid = false;
  /** The receive offload's segment size of the packet being received (Endpoint.receive), 0 for a plain packet. */
  private rxGsoSize = 0;
  /** The pseudo-header of the segment being parsed: readTcp reads it and keeps nothing. */
  private readonly rxPseudo: PseudoHeader = { src: 0, dst: 0 };
  /** Describes each outgoing TCP segment to IP output without allocating (tcp-datagram.ts). */
  private readonly tcpDatagram: TcpDatagram;
  /** Joins segments into super-packets when the link segments them (gsoMaxSize). */
  private readonly gso: GsoBatch | undefined;
  private now: Millis = 0;
  /** Datagrams to our own addresses, delivered after the call that sent them (loopback.ts). */
  private readonly looped = new LoopbackQueue();

  constructor(opts: HostOptions) {
    if (typeof opts !== "object" || opts === null) throw new InvalidSettingError(`Host options must be an object, got ${showValue(opts)}`);
    // The three things a driver must hand over (sans-IO): refused now rather than failing at the first packet.
    if (typeof opts.name !== "string") throw new InvalidSettingError(`Host name must be a string, got ${showValue(opts.name)}`);
    if (typeof opts.rng !== "object" || opts.rng === null || typeof opts.rng.nextU32 !== "function") throw new InvalidSettingError(`Host rng must be an object with nextU32() (src/env.ts Rng), got ${showValue(opts.rng)}`);
    if (typeof opts.transmit !== "function") throw new InvalidSettingError(`Host transmit must be a function, got ${showValue(opts.transmit)}`);
    this.name = opts.name;
    this.rng = opts.rng;
    checkFlag("checksumOffload", opts.checksumOffload);
    checkFlag("verifyChecksum", opts.verifyChecksum);
    this.checksumOffload = opts.checksumOffload === true;
    this.tcpDatagram = new TcpDatagram(!this.checksumOffload);
    for (const name of ["timerSlack", "timerGranularity"] as const) {
      const v = opts[name];
      if (v !== undefined && !(typeof v === "number" && v >= 0 && Number.isFinite(v))) throw new InvalidSettingError(`${name} must be a finite number of ms >= 0, got ${showValue(v)}`);
    }
    const gsoMaxSize = opts.gsoMaxSize ?? 0;
    if (!(Number.isInteger(gsoMaxSize) && gsoMaxSize >= 0)) throw new InvalidSettingError(`gsoMaxSize must be a whole number of bytes (0: no GSO), got ${showValue(gsoMaxSize)}`);
    if (gsoMaxSize > 0) {
      this.gso = new GsoBatch(gsoMaxSize, { one: (tuple, seg, tos) => this.sendSegment(tuple, seg, tos), run: (run) => this.sendRun(run) });
    }
    const trace = opts.trace ?? NULL_SINK;
    const mtu = opts.mtu ?? DEFAULT_MTU;
    this.routing = buildRouting(opts, mtu);
    this.address = opts.address !== undefined ? toIpAddress(opts.address) : this.routing.interfaces[0]!.address;
    const ttl = opts.ttl ?? 64;
    if (!(Number.isInteger(ttl) && ttl >= 1 && ttl <= 255)) throw new InvalidSettingError(`ttl must be an integer in [1, 255] (RFC 1122 3.2.1.7), got ${showValue(ttl)}`);

    const pathMtus = (this.pathMtus = new PathMtuCache(this.routing));
    this.tcp = new TcpLayer({
      hostName: opts.name,
      config: resolveConfig(opts.tcp),
      rng: opts.rng,
      trace,
      mtu: this.routing.interfaces[0]!.mtu,
      paths: pathMtus,
      output: (tuple, seg, tos) => this.sendTcp(tuple, seg, tos),
      ...(opts.timerSlack !== undefined ? { timerSlack: opts.timerSlack } : {}),
      ...(opts.timerGranularity !== undefined ? { timerGranularity: opts.timerGranularity } : {}),
      ...(this.gso !== undefined ? { burst: (open: boolean) => this.gso!.burst(open) } : {}),
    });

    this.reassembler = new Reassembler({ ...REASSEMBLY_DEFAULTS, ...opts.reassembly });
    this.reassembler6 = new Ipv6Reassembler({ ...REASSEMBLY6_DEFAULTS, ...opts.reassembly });
    const ipStats = newIpStats();
    const drops: HostCounters["drops"] = {};
    this.drops = new DropRecorder(opts.name, trace, drops);
    this.output = new IpOutput({
      routing: this.routing,
      transmit: (packet, gso) => {
        this.counters.packetsOut += gso?.segments ?? 1;
        opts.transmit(packet, gso);
      },
      loopback: (packet, gso) => this.looped.push(packet, gso?.size ?? 0),
      drops: this.drops,
      stats: ipStats,
      ttl,
      // Drawn after the TCP layer's draws, so TCP's random choices do not depend on IP.
      firstId: opts.rng.nextU32() & 0xffff,
      // RFC 7739 5.1: an unpredictable Identification per IPv6 datagram (drawn only when one is fragmented).
      nextId6: () => opts.rng.nextU32(),
      trace,
      hostName: opts.name,
    });
    this.udp = new UdpLayer({ routing: this.routing, output: this.output, drops: this.drops, rng: opts.rng, socketDefaults: opts.udp ?? {}, trace, hostName: opts.name });
    // RFC 4443 2.4(f) and Linux: one host-wide budget for ICMP errors of both families.
    const limiter = new IcmpRateLimiter({ ...ICMP_RATE_LIMIT_DEFAULTS, ...opts.icmpRateLimit });
    this.icmp = new IcmpLayer({ routing: this.routing, output: this.output, drops: this.drops, limiter, trace, hostName: opts.name });
    this.icmp6 = new Icmp6Layer({ routing: this.routing, output: this.output, drops: this.drops, limiter, trace, hostName: opts.name });
    this.icmp.setErrorHandler(PROTO_UDP, (quote, type, code, reporter) => this.udp.icmpError(quote, type, code, reporter));
    this.icmp.setErrorHandler(PROTO_TCP, (quote, type, code, reporter, mtu) => this.tcp.icmpError(quote, type, code, reporter, mtu));
    this.icmp6.setErrorHandler(PROTO_UDP, (quote, type, code, reporter) => this.udp.icmpError(quote, type, code, reporter));
    this.icmp6.setErrorHandler(PROTO_TCP, (quote, type, code, reporter, mtu) => this.tcp.icmpError(quote, type, code, reporter, mtu));

    const handlers = new Map<number, DatagramHandler>([
      [PROTO_TCP, (now, d) => this.deliverTcp(now, d)],
      [PROTO_UDP, (now, d) => this.deliverUdp(now, d)],
      [PROTO_ICMP, (now, d) => this.icmp.receive(now, d)],
    ]);
    const handlers6 = new Map<number, DatagramHandler>([
      [PROTO_TCP, (now, d) => this.deliverTcp(now, d)],
      [PROTO_UDP, (now, d) => this.deliverUdp(now, d)],
      [NH_ICMPV6, (now, d) => this.icmp6.receive(now, d)],
    ]);
    this.input = new IpInput({
      routing: this.routing,
      reassembler: this.reassembler,
      reassembler6: this.reassembler6,
      handlers6,
      onParamProblem: (now, packet, h, problem) => {
        this.icmp6.sendParamProblem(now, packet, h.src, h.dst, problem.code, problem.pointer);
      },
      // RFC 792 / Linux ip_options_compile: a malformed IPv4 option draws a Parameter Problem pointing at it.
      onParamProblem4: (now, d, pointer) => {
        this.icmp.sendError(now, d, ICMP_PARAMETER_PROBLEM, 0, (pointer << 24) >>> 0);
      },
      drops: this.drops,
      stats: ipStats,
      handlers,
      // RFC 1122 3.2.2.1: a host SHOULD send protocol unreachable.
      onUnknownProtocol: (now, d) => {
        this.icmp.sendError(now, d, ICMP_DEST_UNREACHABLE, UNREACH_PROTOCOL);
      },
      verifyChecksum: opts.verifyChecksum !== false && opts.checksumOffload !== true,
    });

    this.counters = {
      packetsIn: 0, packetsOut: 0, drops, ip: ipStats, icmp: this.icmp.stats, icmp6: this.icmp6.stats, udp: this.udp.stats, reassembly: this.reassembler.stats, reassembly6: this.reassembler6.stats,
    };
  }

  receive(now: Millis, packet: Uint8Array, checksumValid = false, gsoSize = 0): void {
    checkNow("receive", now);
    if (!(packet instanceof Uint8Array)) throw new InvalidSettingError(`Host.receive(now, packet): packet must be a Uint8Array, got ${showValue(packet)}`);
    this.now = now;
    this.pathMtus.expire(now);
    this.counters.packetsIn++;
    this.enterInput(now, packet, checksumValid, gsoSize, false);
    this.flushAndNotify(now);
  }

  /** One packet into IP input, with what the link (or our own loopback) vouched for. */
  private enterInput(now: Millis, packet: Uint8Array, checksumValid: boolean, gsoSize: number, looped: boolean): void {
    this.rxChecksumValid = checksumValid;
    this.rxGsoSize = gsoSize;
    try {
      this.input.receive(now, packet, looped);
    } finally {
      this.rxChecksumValid = false;
      this.rxGsoSize = 0;
    }
  }

  /** See Endpoint.beginBatch: TCP's transmission pass waits for endBatch. */
  beginBatch(): void {
    this.tcp.beginBatch();
  }

  endBatch(now: Millis): void {
    checkNow("endBatch", now);
    this.now = now;
    this.tcp.endBatch(now);
    this.flushAndNotify(now);
  }

  poll(now: Millis): void {
    checkNow("poll", now);
    this.now = now;
    this.pathMtus.expire(now);
    for (const e of this.reassembler.expire(now)) {
      this.drops.drop(now, "frag-timeout", `datagram id ${e.id} protocol ${e.protocol} incomplete after ${this.reassembler.config.timeout} ms; ${e.bytesHeld} bytes freed`);
      // RFC 1122 3.3.2: time exceeded (reassembly) SHOULD be sent if fragment 0 arrived.
      if (e.first !== undefined) this.icmp.sendError(now, e.first, ICMP_TIME_EXCEEDED, TIME_EXCEEDED_REASSEMBLY);
    }
    for (const e of this.reassembler6.expire(now)) {
      this.drops.drop(now, "frag-timeout", `IPv6 datagram id ${e.id} incomplete after ${this.reassembler6.config.timeout} ms; ${e.bytesHeld} bytes freed`);
      // RFC 8200 4.5: time exceeded (code 1) if the first fragment arrived; it is quoted.
      if (e.first !== undefined) {
        this.icmp6.sendError(now, { src: e.header.src, dst: e.header.dst, protocol: -1, payload: e.first.subarray(40), rawHeader: e.first.subarray(0, 40) }, ICMPV6_TIME_EXCEEDED, TIME_EXCEEDED6_REASSEMBLY);
      }
    }
    this.tcp.poll(now);
    this.flushAndNotify(now);
  }

  nextDeadline(): Millis {
    if (this.udp.hasPendingOutput() || this.icmp.hasPendingOutput() || this.icmp6.hasPendingOutput() || !this.looped.isEmpty) return this.now;
    return Math.min(this.tcp.nextDeadline(), this.reassembler.nextDeadline(), this.reassembler6.nextDeadline());
  }

  /** The route (interface, source address, next hop) to `destination`; throws ENETUNREACH / EHOSTUNREACH. */
  route(destination: AddressInput): RouteChoice {
    return this.routing.resolve(destination);
  }

  // -----------------------------------------------------------------------------------------

  private deliverTcp(now: Millis, d: InboundDatagram): void {
    const { src, dst } = d;
    // RFC 9293 3.1 / RFC 8200 8.1: the checksum covers the family's pseudo-header.
    // Not verified when the link vouched for it (a TUN device's virtio-net header said so).
    let pseudo: PseudoHeader | null = null;
    if (!this.checksumOffload && !this.rxChecksumValid) {
      pseudo = this.rxPseudo;
      pseudo.src = src;
      pseudo.dst = dst;
    }
    // Read where it lies in the packet: no view of the whole segment, no result object.
    const seg = readTcp(d.bytes, pseudo, d.payloadStart, d.payloadEnd);
    if (typeof seg === "string") return this.drops.drop(now, seg === "bad-checksum" ? "bad-checksum" : "malformed", `TCP: ${seg}`);
    this.tcp.receive(now, src, dst, seg, d.tos, this.rxGsoSize);
  }

  private deliverUdp(now: Millis, d: InboundDatagram): void {
    // RFC 1122 4.1.3.1: a datagram for a port nobody listens on SHOULD get port unreachable.
    // RFC 4443 3.1: over IPv6, destination unreachable code 4 (port unreachable).
    if (this.udp.receive(now, d) === "no-port") {
      if (d.src.family === 6) this.icmp6.sendError(now, d, ICMPV6_DEST_UNREACHABLE, UNREACH6_PORT);
      else this.icmp.sendError(now, d, ICMP_DEST_UNREACHABLE, UNREACH_PORT);
    }
  }

  /**
   * TCP segments are never fragmented: DF set. One larger than the MTU is still sent as
   * built (and counted in counters.ip.outOversize): sizing segments is the engine's job,
   * and a link with a smaller MTU drops them as a real wire would.
   */
  private sendTcp(tuple: FourTuple, seg: TcpSegment, tos = 0): void {
    if (this.gso !== undefined) this.gso.send(tuple, seg, tos);
    else this.sendSegment(tuple, seg, tos);
  }

  private sendSegment(tuple: FourTuple, seg: TcpSegment, tos: number): void {
    // RFC 3168 section 5: TCP chooses each segment's ECN codepoint; the rest of TOS is 0.
    const d = this.tcpDatagram.take(tuple, seg, tos);
    try {
      this.output.send(this.now, d);
    } finally {
      d.release();
    }
  }

  /** A super-packet: the first segment's header with the flags of the run, then every payload. */
  private sendRun(run: GsoRun): void {
    const header: TcpSegment = { ...run.first, flags: run.flags, payload: NO_PAYLOAD };
    const d = this.tcpDatagram.takeRun(run, header);
    try {
      this.output.send(this.now, d);
    } finally {
      d.release();
    }
  }

  /**
   * Sends what the application queued, then tells it what happened, then delivers what we
   * sent ourselves. A callback may queue more; a few rounds settle that within the same
   * instant, and anything left keeps `nextDeadline()` at now.
   */
  private flushAndNotify(now: Millis): void {
    this.flushTransports(now);
    // What we sent to ourselves, in the same instant, checksums vouched for as lo does
    // (CHECKSUM_UNNECESSARY); each may bring answers, which join the queue (loopback.ts).
    for (let n = 0; n < LOOPBACK_BUDGET && this.looped.deliverOne(this.deliverLooped); n++) this.flushTransports(now);
  }

  private readonly deliverLooped = (packet: Uint8Array, gsoSize: number): void => {
    this.enterInput(this.now, packet, true, gsoSize, true);
  };

  /** UDP's and ICMP's queued output, then their wake-ups, in rounds (see flushAndNotify). */
  private flushTransports(now: Millis): void {
    for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
      this.udp.flush(now);
      this.icmp.flush(now);
      this.icmp6.flush(now);
      this.udp.deliverWakes();
      this.icmp.deliverNotifications();
      this.icmp6.deliverNotifications();
      if (!this.udp.hasPendingOutput() && !this.icmp.hasPendingOutput() && !this.icmp6.hasPendingOutput()) return;
    }
  }
}

/**
 * The driver's clock reading: a finite number of ms. poll(Infinity) fired every timer and
 * each one's successor for ever (a re-armed timer is still due at Infinity), and NaN would
 * be stored as the time every timer is armed from.
 */
function checkNow(call: string, now: Millis): void {
  if (typeof now !== "number" || !(now >= 0 && now <= MAX_CLOCK_MS)) throw new InvalidSettingError(`Host.${call}(now): now must be a non-negative time in ms up to 2^42 (MAX_CLOCK_MS, about 139 years), got ${showValue(now)}`);
}

/** An optional switch: true, false or left out. */
function checkFlag(name: string, on: unknown): void {
  if (on !== undefined && typeof on !== "boolean") throw new InvalidSettingError(`${name} must be true or false, got ${showValue(on)}`);
}

function buildRouting(opts: HostOptions, mtu: number): RoutingTable {
  if (opts.interfaces === undefined) {
    if (opts.address === undefined) throw new InvalidSettingError("a host needs `address` or `interfaces`");
    const address = toIpAddress(opts.address);
    const table = new RoutingTable([{ name: "eth0", address, prefixLength: address.bitLength }], mtu);
    // One link, everything on it: what the simulator's flat network is.
    table.add({ destination: address.family === 4 ? IpAddress.ANY4 : IpAddress.ANY6, prefixLength: 0, interface: "eth0" });
    for (const r of routeList(opts.routes)) table.add(r);
    return table;
  }
  const table = new RoutingTable(opts.interfaces, mtu);
  if (opts.address !== undefined && !table.isLocal(opts.address)) {
    throw new InvalidSettingError("`address` must be one of the interfaces' addresses");
  }
  for (const r of routeList(opts.routes)) table.add(r);
  return table;
}
