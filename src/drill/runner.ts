/**
 * Runs one packetdrill script against a synack host, in virtual time, with packetdrill's
 * semantics (NOTES.md in the corpus describes them; this file cites the rules as it
 * applies them):
 *
 * - The script's local side is synack (192.168.0.1 by default); the script plays the
 *   remote peer (192.0.2.1). Inbound packets are injected at their times; outbound packets
 *   are collected as synack sends them and matched against `>` lines in order.
 * - A run has one of packetdrill's IP flavours (family.ts): ipv4, ipv4-mapped-ipv6
 *   (AF_INET6 sockets, IPv4 on the wire) or ipv6, which fixes the addresses, the link MTU,
 *   the `-D` defines and the IP version of every packet.
 * - Times are integer microseconds. Relative times count from the previous event's script
 *   time when both events are inbound packets, otherwise from when the previous event
 *   actually happened. An outbound packet must leave within the tolerance:
 *   max(--tolerance_usecs, 12.5% of the time since the previous event).
 * - Consecutive outbound segments are merged to match one longer expected packet (TSO/GSO
 *   as packetdrill sees it): the merged packet has the first segment's sequence number
 *   and the last one's headers and time.
 * - Blocking calls (`+0...0.200 read(...)`) start at the event time and must return at the
 *   end time; other events go on meanwhile.
 * - `%{ }%` blocks see TCP_INFO of the socket under test as it was at their time; like
 *   packetdrill, they are evaluated after the packet part has passed.
 *
 * The runner is sans-IO: it gets the script text and returns a result. Reading files,
 * printing and exit codes are the CLI's business.
 */
import type { Action, DrillEvent, IcmpPacketSpec, Script, SyscallSpec, TcpOptionSpec, TcpPacketSpec, Usecs } from "./ast.js";
import { describeExpr, errnoName, ERRNO, numberOf } from "./constants.js";
import { DrillFailure, DrillSyntaxError, DrillUnsupportedError, type SourcePos } from "./errors.js";
import { buildInbound, decodeOutbound, expectedEcn, flagText, formatOutbound, KIND, NumberMap, optionText, rawOption, type OutboundSegment } from "./packet.js";
import { buildInboundIcmp } from "./icmp-packet.js";
import { Nstat } from "./nstat.js";
import { parseScript } from "./parser.js";
import { PyAssertionError, PyError, runPython, type PyValue } from "./python.js";
import { DrillSockets, type CallResult, type Pending } from "./sockets.js";
import { applyCommand, type DrillSettings } from "./sysctl.js";
import { tcpInfoScope } from "./tcpi.js";
import { MAX_CLOCK_MS } from "../env.js";
import { Host } from "../host/host.js";
import { SimRng } from "../sim/rng.js";
import type { Connection } from "../tcp/connection.js";
import { ACK, SYN } from "../wire/tcp.js";
import { parseIpAddress, type IpAddress } from "../wire/address.js";
import { flavour, isIpVersion, PACKETDRILL_V6_REMOTE, runsAs, type IpFlavour, type IpVersion } from "./family.js";

/** The engine's clock range (MAX_CLOCK_MS) in the script's microseconds. */
const MAX_CLOCK_USECS: Usecs = MAX_CLOCK_MS * 1000;

export type DrillStatus = "pass" | "fail" | "unsupported";

export interface DrillResult {
  script: string;
  status: DrillStatus;
  /** Line of the failing or unsupported event. */
  line?: number;
  /** One line: what went wrong, or the missing feature. */
  reason?: string;
  /** For failures: the script line, then expected vs actual in packetdrill syntax. */
  details?: string[];
  /** Lines the script printed (`print()` in %{ }% blocks). */
  printed: string[];
  /** With `verbose`: the run as a timeline, script lines beside segments. */
  narration: string[];
}

export interface DrillOptions {
  /** packetdrill's `--ip_version` of the run (default ipv4), as run_all.py gives it on the command line. */
  ipVersion?: IpVersion;
  /** `-D NAME=VALUE` definitions; default: the flavour's (the corpus's runs use TFO_COOKIE and CODE). */
  defines?: ReadonlyMap<string, string>;
  verbose?: boolean;
  /** Seed of the host's randomness (ISNs, ports): a run is reproducible from it. */
  seed?: number;
}

/** The defines packetdrill's run_all.py passes for the IPv4 variant (NOTES.md 1.3). */
export const IPV4_DEFINES: ReadonlyMap<string, string> = flavour("ipv4").defines;

const DEFAULT_TOLERANCE: Usecs = 4000;
/** The remote port packetdrill picks for its side of a connection. */
const REMOTE_PORT = 44444;
/** A script that leaves synack waiting longer than this for an outbound `*` packet has failed. */
const ANY_TIME_HORIZON: Usecs = 600_000_000;

/** Parses and runs `source`. Throws DrillSyntaxError when the script does not parse. */
export function runDrill(source: string, file: string, options: DrillOptions = {}): DrillResult {
  const ip = flavour(options.ipVersion ?? "ipv4");
  const script = parseScript(source, file, options.defines ?? ip.defines);
  return new DrillRun(script, source, options, ip).run();
}

interface Previous {
  scriptTime: Usecs;
  actualTime: Usecs;
  inbound: boolean;
}

interface BlockingCall {
  event: DrillEvent;
  call: SyscallSpec;
  pending: Pending;
  expectedEnd: Usecs;
  tolerance: Usecs;
}

interface Assertion {
  pos: SourcePos;
  code: string;
  scope: Map<string, PyValue>;
}

class DrillRun {
  private now: Usecs = 0;
  /** Where the event being run is: a clock driven past the engine's range fails there. */
  private eventPos: SourcePos | undefined;
  private host!: Host;
  private readonly outbox: OutboundSegment[] = [];
  private readonly map = new NumberMap();
  private readonly settings: DrillSettings = { tcp: {} };
  private readonly nstat = new Nstat(() => this.host.tcp);
  private sockets!: DrillSockets;
  private tolerance = DEFAULT_TOLERANCE;
  private tsTick: Usecs | undefined;
  private strictSegments = false;
  /** --mss: inbound TCP packets come as GRO packets of segments this size (0: plain). */
  private inboundGsoSize = 0;
  private localAddr: IpAddress;
  private remoteAddr: IpAddress;
  private mtu: number;
  private localPort = 8080;
  private remotePort = REMOTE_PORT;
  private listens = 0;
  private underTest: Connection | undefined;
  private blocking: BlockingCall | undefined;
  private readonly assertions: Assertion[] = [];
  private readonly printed: string[] = [];
  private readonly narration: string[] = [];
  private readonly lines: string[];

  constructor(
    private readonly script: Script,
    source: string,
    private readonly options: DrillOptions,
    private readonly ip: IpFlavour,
  ) {
    this.lines = source.split("\n");
    this.localAddr = ip.local;
    this.remoteAddr = ip.remote;
    this.mtu = ip.mtu;
  }

  /** Builds the host once the script's options and init command have said how. */
  private boot(): void {
    this.host = new Host({
      name: "synack",
      address: this.localAddr,
      rng: new SimRng(this.options.seed ?? 1),
      transmit: (packet) => this.collect(packet),
      tcp: this.settings.tcp,
      mtu: this.mtu,
    });
    this.host.tcp.setClock(() => this.now / 1000);
    this.applyRoute();
    const settings = this.settings;
    this.sockets = new DrillSockets({
      layer: this.host.tcp,
      localAddr: this.localAddr,
      remoteAddr: this.remoteAddr,
      socketFamily: this.ip.socketFamily,
      scriptPort: 8080,
      get settings() {
        return settings.tcp;
      },
      connectionUnderTest: (conn) => {
        this.underTest = conn;
        if (!conn.passive) {
          this.localPort = conn.tuple.localPort;
          this.remotePort = conn.tuple.remotePort;
        }
      },
      listening: (port) => {
        // packetdrill gives each passive connection a fresh remote port, so a script that
        // listens again talks over a new 4-tuple while the old connection lingers.
        this.localPort = port;
        this.remotePort = REMOTE_PORT + this.listens++;
      },
    });
  }

  /** A route a command set (`ip route change`), installed as an on-link host route with its metrics. */
  private applyRoute(): void {
    const r = this.settings.route;
    if (r === undefined) return;
    this.settings.route = undefined;
    const destination = parseIpAddress(r.destination.toLowerCase());
    if (destination === undefined) throw new DrillUnsupportedError(`route to "${r.destination}"`, undefined);
    // A route of the other family than the run's wire family cannot reach the script's peer.
    if (destination.family !== this.ip.wireFamily) throw new DrillUnsupportedError(`an IPv${destination.family} route in an ${this.ip.version} run`, undefined);
    this.host.routing.change({ destination, prefixLength: destination.bitLength, metrics: r.metrics });
  }

  private applyOptions(): void {
    if (!runsAs(this.script.file, this.ip.version)) {
      const rule = this.ip.version === "ipv6" ? "*v4.pkt only over IPv4" : "*v6.pkt only as ipv6 (--ip-version ipv6)";
      throw new DrillUnsupportedError(`not run as ${this.ip.version}: Linux runs ${rule}`, undefined);
    }
    for (const o of this.script.options) {
      const int = () => {
        const n = Number(o.value);
        if (!Number.isInteger(n) || n < 0) throw new DrillSyntaxError(`--${o.name} needs a non-negative integer`, o.pos);
        return n;
      };
      switch (o.name) {
        case "tolerance_usecs":
          this.tolerance = int();
          break;
        case "tcp_ts_tick_usecs":
          this.tsTick = int();
          break;
        case "strict_segments":
          this.strictSegments = true;
          break;
        case "mss":
          // packetdrill hands inbound packets longer than this to the kernel as GRO packets of
          // segments this size (gso_size), as a NIC's receive offload would merge them.
          this.inboundGsoSize = int();
          break;
        case "tcp_ts_ecr_scaled":
          break; // unknown ecr values are mapped relative to the last TSval sent either way
        case "ip_version":
          // packetdrill lets its command line override the script's options; a script that
          // names a flavour is written for that one, so in another run it is not run at all.
          if (!isIpVersion(o.value)) throw new DrillSyntaxError(`--ip_version must be ipv4, ipv4-mapped-ipv6 or ipv6`, o.pos);
          if (o.value !== this.ip.version) throw new DrillUnsupportedError(`--ip_version=${o.value} in an ${this.ip.version} run (run it with --ip-version ${o.value})`, o.pos);
          break;
        case "local_ip":
        case "remote_ip":
        case "gateway_ip": {
          const addr = parseIpAddress((o.value ?? "").toLowerCase());
          if (addr === undefined) throw new DrillSyntaxError(`--${o.name} needs an IP address`, o.pos);
          // Linux runs its corpus with each flavour's addresses on packetdrill's command line,
          // which overrides the script's options (config.c parse_and_finalize_config); so an
          // address of the other family (a Fast Open script pinning IPv4 ones, in the IPv6
          // run) gives way to the run's. One of the run's family is honoured, as packetdrill
          // run on the script alone does (the IPv4 Fast Open cookies depend on them).
          if (addr.family !== this.ip.wireFamily) break;
          if (o.name === "local_ip") {
            this.localAddr = addr;
            // Run alone, packetdrill gives an address the script leaves out its built-in
            // default (config.c): an IPv6 script pinning only its local address talks to
            // 2001:db8::1 (RFC 3849), which is what its own `ip -6 route` lines then name.
            if (addr.family === 6 && !this.script.options.some((p) => p.name === "remote_ip")) this.remoteAddr = PACKETDRILL_V6_REMOTE;
          } else if (o.name === "remote_ip") this.remoteAddr = addr;
          break;
        }
        case "mtu":
          // Below the minimum link MTU (RFC 8200 section 5: 1280; RFC 791: 576 reassembled) the run has no usable link.
          this.mtu = int();
          if (this.mtu < (this.ip.wireFamily === 6 ? 1280 : 576)) throw new DrillUnsupportedError(`--mtu=${this.mtu} (below the family's minimum)`, o.pos);
          break;
        default:
          throw new DrillUnsupportedError(`option --${o.name}`, o.pos);
      }
    }
  }

  run(): DrillResult {
    try {
      this.applyOptions();
      if (this.script.initCommand) applyCommand(this.script.initCommand.text, this.settings, this.script.initCommand.pos);
      this.boot();
      this.execute();
      this.finishAssertions();
      return { script: this.script.file, status: "pass", printed: this.printed, narration: this.narration };
    } catch (e) {
      if (e instanceof DrillFailure) {
        return { script: this.script.file, status: "fail", line: e.pos.line, reason: e.message, details: e.details.length > 0 ? [...e.details] : [`script: ${this.lineText(e.pos)}`], printed: this.printed, narration: this.narration };
      }
      if (e instanceof DrillUnsupportedError) {
        return { script: this.script.file, status: "unsupported", line: e.pos?.line, reason: e.feature, printed: this.printed, narration: this.narration };
      }
      throw e;
    }
  }

  private lineText(pos: SourcePos): string {
    return (this.lines[pos.line - 1] ?? "").trim();
  }

  /**
   * One line of the run as a two-party diagram: time, synack's state after the event,
   * then what happened - `-->` a segment synack sent, `<--` one the script injected, or
   * a call - with the script line it answers to.
   */
  private narrate(kind: "in" | "out" | "call", text: string, line: number, note = ""): void {
    if (!this.options.verbose) return;
    // Sockets, half-open request records included (their last one is the newest).
    const socks = this.host?.tcp.allSockets() ?? [];
    const state = this.underTest?.state ?? socks[socks.length - 1]?.info.state ?? (this.host?.tcp.allListeners().length ? "LISTEN" : "CLOSED");
    const arrow = kind === "out" ? "-->" : kind === "in" ? "<--" : "   ";
    this.narration.push(`${(this.now / 1e6).toFixed(6).padStart(11)}  ${state.padEnd(12)} ${arrow} ${text.padEnd(64)} line ${line}${note}`);
  }

  // --- the clock ---------------------------------------------------------------------------

  private collect(packet: Uint8Array): void {
    const seg = decodeOutbound(packet, this.now);
    if (!("seq" in seg)) return; // ICMP and UDP from the host: no script here expects them
    this.map.learn(seg);
    this.outbox.push(seg);
  }

  /** Runs every timer due up to `t` (and work the last call left due now), then sets the clock to `t`. */
  private advanceTo(t: Usecs, stopWhenSent = false, before = false): void {
    // packetdrill would sleep that long; the engine's clock ends there (MAX_CLOCK_MS).
    if (t > MAX_CLOCK_USECS) throw new DrillFailure(`the script's clock would reach ${(t / 1e6).toPrecision(6)} s, past the ${MAX_CLOCK_USECS / 1e6} s (2^42 ms) the engine's clock counts to`, this.eventPos ?? { file: this.script.file, line: 1, column: 1 });
    for (let guard = 0; ; guard++) {
      if (guard > 1_000_000) throw new Error(`synack's nextDeadline() stays due at ${this.now} us: the engine is spinning`);
      if (stopWhenSent && this.outbox.length > 0) return;
      const deadlineMs = this.host.nextDeadline();
      const deadline = deadlineMs * 1000;
      if (!(deadline < t || (deadline === t && !before))) break;
      // Polled at the deadline itself, not at deadline * 1000 / 1000: that round trip can
      // land one ulp short, and a timer checked against `now` would then never be due.
      if (deadline >= this.now) {
        this.now = deadline;
        this.host.poll(deadlineMs);
      } else this.host.poll(this.now / 1000);
      this.checkBlocking();
    }
    this.now = Math.max(this.now, t);
  }

  private settle(): void {
    this.advanceTo(this.now);
    this.checkBlocking();
  }

  // --- events ------------------------------------------------------------------------------

  private execute(): void {
    let prev: Previous = { scriptTime: 0, actualTime: 0, inbound: false };
    for (const event of this.script.events) {
      this.eventPos = event.pos;
      const inbound = isInbound(event.action);
      const base = prev.inbound && inbound ? prev.scriptTime : prev.actualTime;
      const t = event.time;
      let from: Usecs | undefined;
      let to: Usecs | undefined;
      if (t.kind === "absolute") from = to = t.at;
      else if (t.kind === "relative") from = to = base + t.offset;
      else if (t.kind === "range") {
        from = t.relative ? base + t.from : t.from;
        to = t.relative ? base + t.to : t.to;
      }
      const tolerance = Math.max(this.tolerance, Math.round(0.125 * Math.max(0, (to ?? this.now) - prev.actualTime)));
      let actual: Usecs;
      const a = event.action;
      if (a.type === "tcp" && a.direction === "out") {
        actual = this.expectOutbound(event, a, from, to, tolerance);
      } else {
        // A timer due at the very time of a script event fires after it, as a kernel
        // timer does (timers run at or after their expiry, packets are injected on time).
        this.advanceTo(from ?? this.now, false, true);
        actual = this.now;
        this.perform(event, base, tolerance);
        this.settle();
      }
      prev = { scriptTime: from ?? actual, actualTime: t.kind === "any" || (a.type === "tcp" && a.direction === "out") ? actual : (from ?? actual), inbound };
    }
    if (this.blocking) {
      const b = this.blocking;
      throw new DrillFailure(`${b.call.name}() never returned (the script expects it to return at ${(b.expectedEnd / 1e6).toFixed(3)} s)`, b.event.pos);
    }
  }

  private perform(event: DrillEvent, base: Usecs, tolerance: Usecs): void {
    const a = event.action;
    switch (a.type) {
      case "tcp":
        this.inject(event, a);
        return;
      case "icmp":
        this.injectIcmp(event, a);
        return;
      case "udp":
        throw new DrillUnsupportedError("UDP packets in scripts", event.pos);
      case "command":
        this.narrate("call", `\`${a.text.trim().replace(/\s+/g, " ")}\``, event.pos.line);
        {
          if (this.nstat.run(a.text, event.pos)) return;
          const flushes = this.settings.metricsFlushes ?? 0;
          applyCommand(a.text, this.settings, event.pos);
          if ((this.settings.metricsFlushes ?? 0) !== flushes) this.host.tcp.fastOpenCache.clear();
          this.applyRoute();
        }
        return;
      case "code":
        this.assertions.push({ pos: event.pos, code: a.text, scope: this.snapshot() });
        return;
      case "syscall":
        this.syscall(event, a, base, tolerance);
        return;
    }
  }

  /** Options that name a feature synack lacks make the script unsupported, whichever way they travel. */
  private checkOptionsSupported(event: DrillEvent, spec: TcpPacketSpec): void {
    if (spec.options === "any" || spec.options === undefined) return;
    for (const o of spec.options) {
      if (o.kind === "md5") throw new DrillUnsupportedError("TCP MD5 signatures (RFC 2385)", event.pos);
    }
  }

  private inject(event: DrillEvent, spec: TcpPacketSpec): void {
    this.checkOptionsSupported(event, spec);
    const packet = buildInbound(spec, this.map, { localAddr: this.localAddr, remoteAddr: this.remoteAddr, localPort: this.localPort, remotePort: this.remotePort }, event.pos);
    this.host.receive(this.now / 1000, packet, false, this.inboundGsoSize);
    this.narrate("in", this.lineText(event.pos).replace(/^\S+\s+<\s*/, ""), event.pos.line);
    this.checkBlocking();
  }

  private injectIcmp(event: DrillEvent, spec: IcmpPacketSpec): void {
    if (spec.direction === "out") throw new DrillUnsupportedError("ICMP packets expected from synack", event.pos);
    const packet = buildInboundIcmp(spec, this.map, { localAddr: this.localAddr, remoteAddr: this.remoteAddr, localPort: this.localPort, remotePort: this.remotePort }, event.pos);
    this.host.receive(this.now / 1000, packet);
    this.narrate("in", this.lineText(event.pos).replace(/^\S+\s+<\s*/, ""), event.pos.line);
    this.checkBlocking();
  }

  // --- outbound packets --------------------------------------------------------------------

  private expectOutbound(event: DrillEvent, spec: TcpPacketSpec, from: Usecs | undefined, to: Usecs | undefined, tolerance: Usecs): Usecs {
    this.checkOptionsSupported(event, spec);
    const deadline = to === undefined ? this.now + ANY_TIME_HORIZON : to + tolerance;
    let first = this.nextSegment(deadline);
    // Segments of connections the script no longer follows are not what it describes: those
    // of a socket it closed (an orphan's retransmitted FIN), and, while a new connection's SYN
    // is awaited, any other connection's. The corpus relies on this (fastopen/client/poll.pkt,
    // fallback-exp-opt.pkt, valid-cookie-format.pkt pass on Linux without listing them).
    while (first !== undefined && (((spec.flags & (SYN | ACK)) === SYN && (first.flags & SYN) === 0) || this.ofClosedSocket(first))) {
      this.narrate("out", `${formatOutbound(first, this.map).slice(2)} (of an earlier connection: not checked)`, event.pos.line);
      first = this.nextSegment(deadline);
    }
    const scriptLine = this.lineText(event.pos);
    if (first === undefined) {
      throw new DrillFailure(`expected packet was not sent${to === undefined ? "" : ` (waited until ${(deadline / 1e6).toFixed(6)} s)`}`, event.pos, [`script: ${scriptLine}`, `synack sent nothing; its state: ${this.stateSummary()}`]);
    }
    // Merge consecutive segments until the expected length is reached (TSO/GSO view).
    const parts = [first];
    let length = first.payloadLength;
    if (!this.strictSegments) {
      while (length < spec.seq.len && first.payloadLength > 0) {
        const next = this.nextSegment(deadline);
        if (next === undefined) break;
        if (this.map.toScript(next.seq) !== this.map.toScript(first.seq) + length || next.payloadLength === 0) {
          this.outbox.unshift(next);
          break;
        }
        parts.push(next);
        length += next.payloadLength;
      }
    }
    const last = parts[parts.length - 1]!;
    const merged: OutboundSegment = { ...last, seq: first.seq, payloadLength: length, zeroPayload: parts.every((p) => p.zeroPayload) };
    const actualText = formatOutbound(merged, this.map);
    this.narrate("out", actualText.slice(2), event.pos.line, parts.length > 1 ? ` (${parts.length} segments merged)` : "");
    const problems = this.compare(spec, merged);
    if (problems.length > 0) {
      throw new DrillFailure(problems.join("; "), event.pos, [`script: ${scriptLine}`, `actual: ${actualText}`]);
    }
    if (from !== undefined && to !== undefined && (merged.time < from - tolerance || merged.time > to + tolerance)) {
      const want = from === to ? `${(from / 1e6).toFixed(6)} s` : `${(from / 1e6).toFixed(6)}~${(to / 1e6).toFixed(6)} s`;
      throw new DrillFailure(`packet sent at ${(merged.time / 1e6).toFixed(6)} s, expected at ${want} (tolerance ${tolerance} us)`, event.pos, [`script: ${scriptLine}`, `actual: ${actualText}`]);
    }
    this.recordTimestamps(spec, merged, event.pos);
    return merged.time;
  }

  /** The segment belongs to a connection the script closed that is not the one under test. */
  private ofClosedSocket(seg: OutboundSegment): boolean {
    const c = this.host.tcp.allConnections().find((x) => x.tuple.localPort === seg.srcPort && x.tuple.remotePort === seg.dstPort);
    return c !== undefined && c !== this.underTest && c.orphaned;
  }

  private nextSegment(deadline: Usecs): OutboundSegment | undefined {
    if (this.outbox.length === 0) this.advanceTo(deadline, true);
    return this.outbox.shift();
  }

  /** Field-by-field comparison; each difference as "field: expected X, got Y". */
  private compare(spec: TcpPacketSpec, seg: OutboundSegment): string[] {
    const out: string[] = [];
    if (spec.flags !== seg.flags) out.push(`flags: expected ${spec.flagText}, got ${flagText(seg.flags)}`);
    const start = this.map.toScript(seg.seq);
    // The ISN of synack's SYN or SYN-ACK is its own: the script's value for it is not checked.
    const startDiffers = (seg.flags & SYN) === 0 && start !== spec.seq.start >>> 0;
    if (startDiffers || seg.payloadLength !== spec.seq.len) {
      out.push(`sequence: expected ${spec.seq.start}:${spec.seq.end}(${spec.seq.len}), got ${start}:${(start + seg.payloadLength) >>> 0}(${seg.payloadLength})`);
    }
    const ack = this.map.remoteToScript(seg.ack, seg.flags);
    if (spec.ack !== undefined && ((seg.flags & ACK) === 0 || ack !== spec.ack >>> 0)) out.push(`ack: expected ${spec.ack}, got ${(seg.flags & ACK) === 0 ? "no ACK" : ack}`);
    if (spec.win !== undefined && seg.window !== spec.win) out.push(`window: expected ${spec.win}, got ${seg.window}`);
    if (spec.urg !== undefined && seg.urgentPointer !== spec.urg) out.push(`urgent pointer: expected ${spec.urg}, got ${seg.urgentPointer}`);
    const ecn = expectedEcn(spec.ip);
    if (ecn !== undefined && ecn >= 0 && (seg.tos & 3) !== ecn) out.push(`IP ECN bits: expected ${spec.ip.ecn}, got ${seg.tos & 3}`);
    if (spec.ip.tos !== undefined && (seg.tos & 0xfc) !== (spec.ip.tos & 0xfc)) out.push(`IP TOS: expected 0x${spec.ip.tos.toString(16)}, got 0x${seg.tos.toString(16)}`);
    if (spec.ip.ttl !== undefined && seg.ttl !== spec.ip.ttl) out.push(`IP TTL: expected ${spec.ip.ttl}, got ${seg.ttl}`);
    if (!seg.zeroPayload) out.push("payload: expected zero bytes (the script writes zero-filled buffers)");
    if (spec.options !== "any") out.push(...this.compareOptions(spec.options ?? [], seg));
    return out;
  }

  private compareOptions(expected: TcpOptionSpec[], seg: OutboundSegment): string[] {
    const actual = seg.options.filter((o, i) => !(o.kind === KIND.EOL && i === seg.options.length - 1 && expected[expected.length - 1]?.kind !== "eol"));
    const text = (list: string[]) => `<${list.join(",")}>`;
    const expectedText = expected.map((o) => optionText(rawOption(o, this.map, "out")));
    const actualText = actual.map(optionText);
    if (expected.length !== actual.length) return [`options: expected ${expected.length === 0 ? "none" : text(expectedText)}, got ${actual.length === 0 ? "none" : text(actualText)}`];
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i]!;
      const a = actual[i]!;
      const want = rawOption(e, this.map, "out");
      if (want.kind !== a.kind) return [`options: expected ${text(expectedText)}, got ${text(actualText)}`];
      if (e.kind === "ts") {
        const ecr = new DataView(a.data.buffer, a.data.byteOffset).getUint32(4);
        if (ecr !== e.ecr >>> 0) return [`TS ecr: expected ${e.ecr}, got ${ecr}`];
        continue; // TS val is checked against the tick rate only (recordTimestamps)
      }
      if ((e.kind === "fo" || e.kind === "foexp") && e.cookie === undefined && a.data.length <= 2) continue;
      if (want.data.length !== a.data.length || want.data.some((b, j) => b !== a.data[j])) return [`option ${i + 1}: expected ${expectedText[i]}, got ${actualText[i]}`];
    }
    return [];
  }

  /** Remembers outbound TS values (for inbound ecr mapping) and checks their rate with --tcp_ts_tick_usecs. */
  private recordTimestamps(spec: TcpPacketSpec, seg: OutboundSegment, pos: SourcePos): void {
    if (spec.options === "any" || spec.options === undefined) return;
    const e = spec.options.find((o): o is Extract<TcpOptionSpec, { kind: "ts" }> => o.kind === "ts");
    const a = seg.options.find((o) => o.kind === KIND.TS && o.data.length === 8);
    if (e === undefined || a === undefined) return;
    const val = new DataView(a.data.buffer, a.data.byteOffset).getUint32(0);
    this.map.tsSent.set(e.val >>> 0, val);
    this.map.tsLast = { script: e.val >>> 0, actual: val };
    if (this.map.tsFirst === undefined) this.map.tsFirst = { script: e.val >>> 0, actual: val };
    else if (this.tsTick !== undefined) {
      const want = (e.val - this.map.tsFirst.script) >>> 0;
      const got = (val - this.map.tsFirst.actual) >>> 0;
      const slack = Math.max(1, Math.ceil(this.tolerance / this.tsTick));
      if (Math.abs(got - want) > slack) throw new DrillFailure(`TS val: expected ${e.val} (${want} ticks after the first), got ${got} ticks after the first`, pos);
    }
  }

  // --- system calls ------------------------------------------------------------------------

  private syscall(event: DrillEvent, call: SyscallSpec, base: Usecs, tolerance: Usecs): void {

    if (call.end !== undefined && this.blocking !== undefined) {
      throw new DrillUnsupportedError("two blocking calls at once (one thread per script)", event.pos);
    }
    const started = this.sockets.start(call, event.pos);
    this.narrate("call", this.lineText(event.pos).replace(/^\S+\s+/, ""), event.pos.line, "done" in started ? "" : " (blocks)");
    if ("done" in started) {
      this.checkResult(event, call, started.done);
      if (call.end !== undefined) {
        const end = event.time.kind === "absolute" ? call.end : base + call.end;
        this.checkEndTime(event, call, end, tolerance);
      }
      return;
    }
    if (call.end === undefined) {
      throw new DrillFailure(`${call.name}() blocked; the script expects it to return at once (a blocking call is written +0...END)`, event.pos);
    }
    const expectedEnd = event.time.kind === "absolute" ? call.end : base + call.end;
    this.blocking = { event, call, pending: started.pending, expectedEnd, tolerance };
  }

  private checkBlocking(): void {
    const b = this.blocking;
    if (b === undefined) return;
    const result = b.pending();
    if (result === undefined) return;
    this.blocking = undefined;
    this.narrate("call", `${b.call.name}() returns ${result.errno !== undefined ? `-1 ${result.errno}` : result.ret}`, b.event.pos.line);
    this.checkResult(b.event, b.call, result);
    this.checkEndTime(b.event, b.call, b.expectedEnd, b.tolerance);
  }

  private checkEndTime(event: DrillEvent, call: SyscallSpec, end: Usecs, tolerance: Usecs): void {
    if (Math.abs(this.now - end) > tolerance) {
      throw new DrillFailure(`${call.name}() returned at ${(this.now / 1e6).toFixed(6)} s, expected at ${(end / 1e6).toFixed(6)} s (tolerance ${tolerance} us)`, event.pos);
    }
  }

  private checkResult(event: DrillEvent, call: SyscallSpec, r: CallResult): void {
    const expected = call.result.type === "ellipsis" ? undefined : numberOf(call.result);
    const got = r.errno !== undefined ? `-1 ${r.errno}` : String(r.ret);
    const want = `${expected ?? "..."}${call.errno ? ` ${call.errno}` : ""}`;
    const errnoWanted = call.errno === undefined ? undefined : ERRNO[call.errno] === ERRNO.EAGAIN && call.errno !== "EAGAIN" ? "EAGAIN" : call.errno;
    const errnoGot = r.errno === "EWOULDBLOCK" ? "EAGAIN" : r.errno;
    // `= -1` without an errno accepts any errno, as packetdrill does (the corpus relies on
    // it: fastopen/server/reset-after-accept.pkt).
    if ((expected !== undefined && expected !== r.ret) || (errnoWanted !== undefined && errnoWanted !== errnoGot) || (errnoWanted === undefined && r.errno !== undefined && expected !== undefined && expected !== -1)) {
      throw new DrillFailure(`${call.name}() returned ${got}, expected ${want}`, event.pos, [`script: ${this.lineText(event.pos)}`, `actual: = ${got}${r.errno ? ` (${describeErrno(r.errno)})` : ""}`]);
    }
    for (const o of r.outputs ?? []) {
      const value = o.expected.type === "ellipsis" ? undefined : numberOf(o.expected);
      // A timestamp (SCM_TIMESTAMPING, in ns) matches within the tolerance, as packetdrill checks one.
      if (value !== undefined && (o.time === true ? Math.abs(value - o.actual) > this.tolerance * 1000 : value !== o.actual)) {
        const shown = o.what === "SO_ERROR" ? `${o.actual} (${o.actual === 0 ? "no error" : errnoName(o.actual)})` : String(o.actual);
        throw new DrillFailure(`${call.name}() ${o.what}: expected ${describeExpr(o.expected)}, got ${shown}`, event.pos);
      }
    }
  }

  // --- TCP_INFO assertions -----------------------------------------------------------------

  private snapshot(): Map<string, PyValue> {
    const conn = this.underTest;
    return new Map(Object.entries(tcpInfoScope(conn, this.now / 1000)));
  }

  private finishAssertions(): void {
    const variables = new Map<string, PyValue>();
    for (const a of this.assertions) {
      const scope = new Map([...a.scope, ...variables]);
      try {
        runPython(a.code, scope, (line) => this.printed.push(line));
      } catch (e) {
        if (e instanceof PyAssertionError) throw new DrillFailure(`assertion failed: ${e.message}`, a.pos, [`script: ${a.code.trim()}`]);
        if (e instanceof PyError) {
          if (/name 'tcpi_\w+' is not defined/.test(e.message)) throw new DrillUnsupportedError(`TCP_INFO field ${/'(\w+)'/.exec(e.message)![1]}`, a.pos);
          throw new DrillUnsupportedError(`Python in %{ }%: ${e.message}`, a.pos);
        }
        throw e;
      }
      // Variables the block assigned carry over to later blocks (packetdrill runs all blocks in one interpreter).
      for (const [k, v] of scope) if (!a.scope.has(k) || a.scope.get(k) !== v) variables.set(k, v);
    }
  }

  private stateSummary(): string {
    const c = this.underTest;
    if (c === undefined) return "no connection";
    const i = c.inspect();
    return `${i.state}, snd.una ${this.map.toScript(i.sndUna)}, snd.nxt ${this.map.toScript(i.sndNxt)}, cwnd ${i.cwnd}, ${i.sendQueued} bytes queued, timers ${Object.entries(i.timers)
      .filter(([, v]) => Number.isFinite(v))
      .map(([k, v]) => `${k}@${(v / 1000).toFixed(3)}s`)
      .join(" ") || "none"}`;
  }
}

function isInbound(a: Action): boolean {
  return a.type !== "syscall" && a.type !== "command" && a.type !== "code" && a.direction === "in";
}

const ERRNO_TEXT: Record<string, string> = {
  EAGAIN: "Resource temporarily unavailable",
  EINPROGRESS: "Operation now in progress",
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  EPIPE: "Broken pipe",
  ETIMEDOUT: "Connection timed out",
  ENOTCONN: "Transport endpoint is not connected",
  EISCONN: "Transport endpoint is already connected",
  EALREADY: "Operation already in progress",
  EBADF: "Bad file descriptor",
  EINVAL: "Invalid argument",
};

function describeErrno(name: string): string {
  return ERRNO_TEXT[name] ?? name;
}
