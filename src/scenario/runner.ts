/**
 * Runs a scenario in the simulator: builds the hosts and paths, applies the faults, plays
 * the script at its virtual times and records every trace event. The same run feeds the
 * narration, the JSON lines, the pcap capture, the connection tables and the expectations.
 */
import { IpAddress, parseIpAddress, type AddressKey } from "../wire/address.js";
import { formatEndpoint } from "../trace/format.js";
import type { Transmit } from "../endpoint.js";
import { MAX_CLOCK_MS, type Millis } from "../env.js";
import { Host, type HostCounters } from "../host/host.js";
import { IpError } from "../ip/errors.js";
import { SimNetwork, type LinkConfig, type PacketRecorder } from "../sim/index.js";
import { AddressInUseError } from "../tcp/layer.js";
import { TraceHub, type FourTuple, type TraceEvent } from "../trace/events.js";
import type { NarrateHost } from "../trace/narrate/index.js";
import { renderNetstat } from "./netstat.js";
import { renderTable, type HostTable } from "../trace/table.js";
import { formatIpv4Address, parseIpv4Address } from "../wire/ipv4.js";
import { IPV6_MIN_MTU } from "../wire/ipv6.js";
import { AppConnection } from "./app.js";
import { FaultPlan } from "./faults.js";
import type { ActionSpec, HostSpec, LinkSettings, ScenarioSpec } from "./model.js";
import { RawHost } from "./raw-host.js";
import { hostTable } from "./snapshot.js";
import { toMillis } from "./time.js";
import { UdpApp } from "./udp-app.js";
import { parsePrefix } from "./validate.js";
import { InvalidSettingError } from "../invalid-setting.js";

/** Paths nobody configured get this one-way delay: a 20 ms round trip reads well. */
export const DEFAULT_DELAY = 10;
/**
 * Without `until`, a run stops when idle, or this long (a day of virtual time) after its
 * last scripted step at the latest, so that one that never goes idle (keep-alive probes, a
 * flood) still ends, and a step at any time still runs.
 */
export const DEFAULT_LIMIT: Millis = 86_400_000;
const DEFAULT_FLOOD_INTERVAL = 10;
const DEFAULT_SPOOF = "198.18.0.0/15";
/** Short reasons for failed calls, for the narration (the full message is in callErrors). */
const CALL_ERRORS: Record<string, string> = {
  EADDRINUSE: "that 4-tuple is still in use",
  EADDRNOTAVAIL: "no free local port",
  EPIPE: "the sending side is closed",
  ESCRIPT: "the script names no such connection",
};

export interface RunOptions {
  /** Replaces the scenario's seed. */
  seed?: number;
  /** Applied to every path on top of the scenario's settings (the CLI's --loss, --delay). */
  link?: { loss?: number; delay?: Millis };
  /** Receives every packet sent and delivered (a pcap capture). */
  recorder?: PacketRecorder;
  /** Called with each trace event as it happens (streaming --json). */
  onEvent?: (e: TraceEvent) => void;
  /**
   * Run over IPv6 (`--ipv6`): each host's IPv4 address a.b.c.d becomes fd00::a.b.c.d's
   * hex form (10.0.0.2 is fd00::a00:2), so the same scenario runs in the other family.
   * Scenarios with fault rules, raw hosts or UDP are IPv4-only so far.
   */
  ipv6?: boolean;
}

/** The IPv6 address a scenario host gets with `ipv6`: fd00::/96 plus its IPv4 address. */
export function ipv6For(v4: number): IpAddress {
  return IpAddress.v6(0xfd000000, 0, 0, v4);
}

/** A script call that failed (connect to a 4-tuple in TIME_WAIT, a write after close ...). */
export interface CallError {
  time: Millis;
  host: string;
  call: string;
  code: string;
  message: string;
}

export class ScenarioRun {
  readonly events: TraceEvent[] = [];
  readonly net: SimNetwork;
  readonly seed: number;
  readonly apps = new Map<string, AppConnection>();
  /** Scripted UDP sockets by label (`as`, or the host's name). */
  readonly udpApps = new Map<string, UdpApp>();
  readonly callErrors: CallError[] = [];
  /** Engine events whose time disagreed with the simulator clock: should stay 0. */
  restamped = 0;
  private readonly hub = new TraceHub();
  private readonly addresses = new Map<string, IpAddress>();
  private readonly names = new Map<AddressKey, string>();
  private readonly tcpHosts = new Map<string, Host>();
  private readonly rawHosts = new Map<string, RawHost>();
  private readonly unplugged = new Set<string>();
  private readonly accepted = new Map<string, number>();
  private readonly limit: Millis;

  constructor(
    readonly spec: ScenarioSpec,
    opts: RunOptions = {},
  ) {
    this.seed = opts.seed ?? spec.seed ?? 1;
    this.hub.subscribe((e) => {
      // Hosts read the simulator's clock (setClock below), so even events caused by
      // application calls between packets carry the time they happened.
      if (e.time !== this.net.now) this.restamped++;
      this.events.push(e);
      opts.onEvent?.(e);
    });
    this.net = new SimNetwork({ seed: this.seed, trace: this.hub, packetLog: opts.recorder ?? false, maxEvents: 10_000_000 });
    const script = spec.script.map((action, i) => ({ action, i, at: toMillis(action.at) }));
    script.sort((p, q) => p.at - q.at || p.i - q.i);
    this.limit = spec.until !== undefined ? toMillis(spec.until) : Math.min(MAX_CLOCK_MS, (script.at(-1)?.at ?? 0) + DEFAULT_LIMIT);
    if (opts.ipv6 === true) {
      const why = (spec.faults ?? []).length > 0 ? "fault rules" : spec.hosts.some((h) => h.kind === "raw") ? "raw hosts" : spec.script.some((a) => a.do.startsWith("udp")) ? "UDP" : undefined;
      if (why !== undefined) throw new InvalidSettingError(`scenario "${spec.name}" uses ${why}, which scenarios support over IPv4 only so far; --ipv6 needs a scenario without them`);
      // RFC 8200 5: every IPv6 link carries 1,280 bytes; below it IPv6 has no way through.
      const narrow = Math.min(...(spec.links ?? []).map((l) => l.mtu ?? Infinity), ...spec.hosts.map((h) => h.mtu ?? Infinity));
      if (narrow < IPV6_MIN_MTU) throw new InvalidSettingError(`scenario "${spec.name}" has an MTU of ${narrow} bytes, below IPv6's minimum of ${IPV6_MIN_MTU} (RFC 8200 5); --ipv6 needs a scenario whose links and hosts carry ${IPV6_MIN_MTU} bytes or more`);
    }
    for (const h of spec.hosts) {
      const v4 = parseIpv4Address(h.address)!;
      const addr = opts.ipv6 === true ? ipv6For(v4) : IpAddress.v4(v4);
      this.addresses.set(h.name, addr);
      this.names.set(addr.key, h.name);
    }
    const faults = new FaultPlan(spec.faults ?? [], (name) => this.addresses.get(name)?.v4Value ?? -1);
    for (const h of spec.hosts) this.addHost(h, faults);
    for (const a of spec.hosts) {
      for (const b of spec.hosts) {
        if (a === b) continue;
        const config = linkConfig(spec, a.name, b.name, opts.link);
        const filter = faults.linkFilter(a.name, b.name);
        if (filter !== undefined) config.filter = filter;
        this.net.setPath(a.name, b.name, config);
      }
    }
    for (const { action, at } of script) this.net.at(at, () => this.perform(action));
  }

  /** The address host `name` runs with (its IPv6 form under `ipv6`). */
  addressOf(name: string): IpAddress | undefined {
    return this.addresses.get(name);
  }

  /** Columns of the narration: the focus hosts (default all), in the scenario's order. */
  get columns(): NarrateHost[] {
    const focus = this.spec.narrate?.focus;
    return this.spec.hosts.filter((h) => focus === undefined || focus.includes(h.name)).map((h) => ({ name: h.name, address: this.addresses.get(h.name)! }));
  }

  get now(): Millis {
    return this.net.now;
  }

  /** Runs everything due up to and including `t`. Returns whether the run is over: nothing left to do, or its time limit reached. */
  advanceTo(t: Millis): boolean {
    const idle = t >= this.net.now ? this.net.run({ until: Math.min(t, this.limit) }).idle : false;
    return idle || this.net.now >= this.limit;
  }

  /** Runs to the end: the scenario's `until`, or until nothing is left to do. */
  finish(): void {
    if (this.spec.until !== undefined) this.advanceTo(this.limit);
    else if (this.net.now < this.limit) this.net.run({ until: this.limit });
  }

  /** The time the run stops at the latest: its `until`, or a day after its last step (DEFAULT_LIMIT). */
  get endTime(): Millis {
    return this.limit;
  }

  /** Time of the last thing that happened. */
  get lastEventTime(): Millis {
    return this.events.length === 0 ? 0 : this.events[this.events.length - 1]!.time;
  }

  tcpHostNames(): string[] {
    return [...this.tcpHosts.keys()];
  }

  /** A host's counters (UDP, IP, ICMP, reassembly, drops) right now. */
  counters(host: string): HostCounters {
    const h = this.tcpHosts.get(host);
    if (h === undefined) throw new InvalidSettingError(`no host named "${host}" with a stack`);
    return h.counters;
  }

  /**
   * A TCP host's stack, for read-only views that inspect connections and listeners at a
   * moment of the run (the web playground's TCB inspector and window bar).
   */
  tcpHost(name: string): Host | undefined {
    return this.tcpHosts.get(name);
  }

  /** The connection table of a TCP host right now (with `info`, each connection's TCP_INFO line, as `ss -i`). */
  table(host: string, opts: { info?: boolean } = {}): HostTable {
    const h = this.tcpHosts.get(host);
    if (h === undefined) throw new InvalidSettingError(`no TCP host named "${host}"`);
    return hostTable(h, this.net.now, opts);
  }

  // ---------------------------------------------------------------------------------------

  private addHost(h: HostSpec, faults: FaultPlan): void {
    const address = this.addresses.get(h.name)!;
    this.net.addHost(h.name, address, (transmit, ctx) => {
      const out = faults.wrapTransmit(h.name, this.guard(h.name, transmit), (e) => this.hub.emit(e), () => this.net.now, (a) => this.nameOf(IpAddress.v4(a)));
      if (h.kind === "raw") {
        const raw = new RawHost(h.name, out, ctx.rng, this.hub);
        this.rawHosts.set(h.name, raw);
        return this.guardInbound(h.name, raw);
      }
      const host = new Host({ name: h.name, address, rng: ctx.rng, transmit: out, trace: this.hub, ...(h.mtu !== undefined ? { mtu: h.mtu } : {}), ...(h.tcp !== undefined ? { tcp: h.tcp } : {}) });
      host.tcp.setClock(ctx.now);
      this.tcpHosts.set(h.name, host);
      return this.guardInbound(h.name, host);
    });
  }

  /** An unplugged host neither sends nor receives; what it would have sent is traced as lost. */
  private guard(name: string, transmit: Transmit): Transmit {
    return (packet) => {
      const v6 = packet.length > 0 && packet[0]! >>> 4 === 6;
      const dst = v6 ? (packet.length >= 40 ? IpAddress.fromBytes(packet, 24, 6) : IpAddress.ANY6) : packet.length >= 20 ? IpAddress.fromBytes(packet, 16, 4) : IpAddress.ANY4;
      const to = this.nameOf(dst);
      if (this.unplugged.has(name) || this.unplugged.has(to)) {
        this.hub.emit({ type: "link", time: this.net.now, link: `${name}->${to}`, action: "drop", reason: this.unplugged.has(name) ? `${name} unplugged` : `${to} unplugged`, bytes: packet.length });
        return;
      }
      transmit(packet);
    };
  }

  private guardInbound<E extends { receive(now: Millis, p: Uint8Array): void; poll(now: Millis): void; nextDeadline(): Millis }>(name: string, endpoint: E) {
    return {
      receive: (now: Millis, packet: Uint8Array) => {
        if (this.unplugged.has(name)) {
          this.hub.emit({ type: "link", time: now, link: `?->${name}`, action: "drop", reason: `${name} unplugged`, bytes: packet.length });
          return;
        }
        endpoint.receive(now, packet);
      },
      poll: (now: Millis) => endpoint.poll(now),
      nextDeadline: () => endpoint.nextDeadline(),
    };
  }

  private nameOf(addr: IpAddress): string {
    return this.names.get(addr.key) ?? addr.toString();
  }

  private app(host: string, call: string, detail?: string, tuple?: FourTuple): void {
    const e: TraceEvent = { type: "app", time: this.net.now, host, call };
    if (detail !== undefined) e.detail = detail;
    if (tuple !== undefined) e.tuple = tuple;
    this.hub.emit(e);
  }

  private fail(host: string, call: string, code: string, message: string): void {
    this.callErrors.push({ time: this.net.now, host, call, code, message });
    this.app(host, `${call} failed:`, CALL_ERRORS[code] !== undefined ? `${code} (${CALL_ERRORS[code]})` : code);
  }

  private perform(a: ActionSpec): void {
    switch (a.do) {
      case "listen":
        return this.listen(a);
      case "connect":
        return this.connect(a);
      case "note":
        return this.app("script", "note", a.text);
      case "ss": {
        const lines = renderTable(this.table(a.host), { maxPerState: 3 });
        return this.app(a.host, "ss", lines.join("\n"));
      }
      case "netstat": {
        const h = this.tcpHosts.get(a.host)!;
        return this.app(a.host, "netstat", renderNetstat(a.host, h.address, h.counters).join("\n"));
      }
      case "udp-bind":
        return this.udpBind(a);
      case "udp-send":
        return this.udpSend(a);
      case "udp-read": {
        const label = a.socket ?? a.host ?? "";
        const app = this.udpApps.get(label);
        if (app === undefined) return this.fail(a.host ?? label, "recv()", "ESCRIPT", `no UDP socket named "${label}" at ${this.net.now} ms`);
        if (app.take(a.count ?? Infinity) === 0) this.app(app.host, "recv()", "nothing queued");
        return;
      }
      case "unplug":
      case "plug":
        this.app(a.host, a.do === "unplug" ? "unplugged" : "plugged in");
        if (a.do === "unplug") this.unplugged.add(a.host);
        else this.unplugged.delete(a.host);
        return;
      case "syn-flood": {
        const raw = this.rawHosts.get(a.host)!;
        const interval = a.interval !== undefined ? toMillis(a.interval) : DEFAULT_FLOOD_INTERVAL;
        const spoof = a.spoof ?? DEFAULT_SPOOF;
        this.app(a.host, "SYN flood", `${a.count} SYNs to ${a.target}:${a.port}, one every ${interval}ms, from spoofed ${spoof}`);
        raw.flood({ start: this.net.now, count: a.count, interval, target: this.addresses.get(a.target)!.v4Value!, port: a.port, spoof: parsePrefix(spoof)! });
        return;
      }
      default:
        return this.onConnection(a);
    }
  }

  private listen(a: Extract<ActionSpec, { do: "listen" }>): void {
    const host = this.tcpHosts.get(a.host)!;
    this.app(a.host, `listen(${a.port})`);
    let listener;
    try {
      listener = host.tcp.listen(a.port, a.backlog);
      if (a.fastOpen !== undefined) listener.fastOpenQueueLimit = a.fastOpen; // TCP_FASTOPEN's qlen
    } catch (e) {
      return this.fail(a.host, "listen()", e instanceof AddressInUseError ? e.code : "EINVAL", String(e instanceof Error ? e.message : e));
    }
    if (a.accept === false) return;
    const base = a.as ?? a.host;
    listener.onConnection = (l) => {
      for (let conn = l.accept(); conn !== undefined; conn = l.accept()) {
        const n = (this.accepted.get(base) ?? 0) + 1;
        this.accepted.set(base, n);
        const label = n === 1 ? base : `${base}#${n}`;
        const app = new AppConnection(label, a.host, conn, this.events.length, (m, code) => this.fail(a.host, "send", code, m));
        this.apps.set(label, app);
        app.pump();
      }
    };
  }

  private connect(a: Extract<ActionSpec, { do: "connect" }>): void {
    const host = this.tcpHosts.get(a.host)!;
    const remote = this.addresses.get(a.to) ?? parseIpAddress(a.to)!;
    this.app(a.host, "connect()", `to ${formatEndpoint(remote, a.port)}${a.localPort !== undefined ? ` from port ${a.localPort}` : ""}`);
    try {
      const conn = host.tcp.connect({ localAddr: host.address, remoteAddr: remote, remotePort: a.port, ...(a.localPort !== undefined ? { localPort: a.localPort } : {}), fastOpen: a.fastOpen === true });
      const label = a.as ?? a.host;
      this.apps.set(label, new AppConnection(label, a.host, conn, this.events.length, (m, code) => this.fail(a.host, "send", code, m)));
    } catch (e) {
      this.fail(a.host, "connect()", e instanceof AddressInUseError ? e.code : "EINVAL", String(e instanceof Error ? e.message : e));
    }
  }

  private udpBind(a: Extract<ActionSpec, { do: "udp-bind" }>): void {
    const host = this.tcpHosts.get(a.host)!;
    const label = a.as ?? a.host;
    this.app(a.host, `udp bind(${a.port})`, a.rcvbuf !== undefined ? `rcvbuf ${a.rcvbuf}` : undefined);
    try {
      const socket = host.udp.bind(a.port, 0, a.rcvbuf !== undefined ? { receiveBufferSize: a.rcvbuf } : {});
      this.udpApps.set(label, this.newUdpApp(label, a.host, socket, a.reading !== false));
    } catch (e) {
      this.fail(a.host, "bind()", e instanceof IpError ? e.code : "EINVAL", String(e instanceof Error ? e.message : e));
    }
  }

  private newUdpApp(label: string, host: string, socket: UdpApp["socket"], reading: boolean): UdpApp {
    return new UdpApp(label, host, socket, reading, (n, bytes, left) => {
      const what = n === 1 ? `${bytes} bytes` : `${n} datagrams, ${bytes} bytes`;
      this.app(host, "recv()", `${what}${left > 0 ? `; ${left} still queued` : ""}`);
    });
  }

  private udpSend(a: Extract<ActionSpec, { do: "udp-send" }>): void {
    const label = a.socket ?? a.host ?? "";
    let app = this.udpApps.get(label);
    if (app === undefined && a.socket === undefined && a.host !== undefined) {
      // A host that never bound sends from an ephemeral port, bound by its first send.
      app = this.newUdpApp(label, a.host, this.tcpHosts.get(a.host)!.udp.open(), true);
      this.udpApps.set(label, app);
    }
    if (app === undefined) return this.fail(a.host ?? label, "sendto()", "ESCRIPT", `no UDP socket named "${label}" at ${this.net.now} ms`);
    const sender = app;
    const remote = this.addresses.get(a.to)?.v4Value ?? parseIpv4Address(a.to)!;
    const data = a.text !== undefined ? new TextEncoder().encode(a.text) : pattern(a.size ?? 0);
    const count = a.count ?? 1;
    const interval = a.interval !== undefined ? toMillis(a.interval) : 0;
    const what = a.text !== undefined ? `${JSON.stringify(a.text)} (${data.length} bytes)` : `${data.length} bytes`;
    const detail = count === 1 ? what : `${count} x ${what}${interval > 0 ? `, every ${interval}ms` : ", all at once"}`;
    this.app(sender.host, `sendto ${formatIpv4Address(remote)}:${a.port}:`, detail);
    const sendOne = (): void => {
      try {
        sender.socket.send(data, { address: remote, port: a.port });
        sender.sent++;
      } catch (e) {
        this.fail(sender.host, "sendto()", e instanceof IpError ? e.code : "EINVAL", String(e instanceof Error ? e.message : e));
      }
    };
    sendOne();
    for (let i = 1; i < count; i++) {
      if (interval === 0) sendOne();
      else this.net.at(this.net.now + i * interval, sendOne);
    }
  }

  private onConnection(a: Exclude<ActionSpec, { do: "listen" | "connect" | "note" | "ss" | "unplug" | "plug" | "syn-flood" | "netstat" | "udp-bind" | "udp-send" | "udp-read" }>): void {
    const label = a.conn ?? a.host ?? "";
    const app = this.apps.get(label);
    const host = app?.host ?? a.host ?? label;
    if (app === undefined) return this.fail(host, a.do, "ESCRIPT", `no connection named "${label}" at ${this.net.now} ms`);
    const conn = app.conn;
    const tuple = conn.tuple;
    try {
      switch (a.do) {
        case "send": {
          const bytes = a.text !== undefined ? new TextEncoder().encode(a.text) : pattern(a.bytes ?? 0);
          const what = a.text !== undefined ? `${JSON.stringify(a.text)} (${bytes.length} bytes)` : `${bytes.length} bytes`;
          this.app(host, a.urgent === true ? "send MSG_OOB" : "send", a.urgent === true ? `${what}, the last byte urgent` : what, tuple);
          app.write(bytes, a.urgent === true);
          return;
        }
        case "shutdown":
          this.app(host, "shutdown()", undefined, tuple);
          return conn.shutdown();
        case "close":
          this.app(host, "close()", undefined, tuple);
          return conn.close();
        case "abort":
          this.app(host, "abort()", undefined, tuple);
          return conn.abort();
        case "stop-reading":
          this.app(host, "stop reading", undefined, tuple);
          app.reading = false;
          return;
        case "read":
          this.app(host, "resume reading", undefined, tuple);
          app.reading = true;
          app.pump();
          return;
        case "keepalive":
          this.app(host, a.enabled === false ? "keep-alive off" : "keep-alive on", undefined, tuple);
          conn.setKeepAlive(a.enabled !== false, this.net.now);
          return;
      }
    } catch (e) {
      const code = typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : "EINVAL";
      this.fail(host, a.do, code, String(e instanceof Error ? e.message : e));
    }
  }
}

/** The settings of the path from -> to: defaults, then matching link entries, then overrides. */
function linkConfig(spec: ScenarioSpec, from: string, to: string, overrides: RunOptions["link"]): LinkConfig {
  const config: LinkConfig = { delay: DEFAULT_DELAY };
  for (const l of spec.links ?? []) {
    const applies = "between" in l ? l.between.includes(from) && l.between.includes(to) : l.from === from && l.to === to;
    if (applies) Object.assign(config, linkSettings(l));
  }
  if (overrides?.loss !== undefined) config.loss = overrides.loss;
  if (overrides?.delay !== undefined) config.delay = overrides.delay;
  return config;
}

function linkSettings(l: LinkSettings): LinkConfig {
  const out: LinkConfig = {};
  for (const k of ["loss", "duplicate", "reorder", "corrupt", "rate", "queueLimit", "mtu"] as const) if (l[k] !== undefined) out[k] = l[k];
  for (const k of ["delay", "jitter", "reorderDelay"] as const) {
    const v = l[k];
    if (v !== undefined) out[k] = toMillis(v);
  }
  if (l.mtuErrors !== undefined) out.mtuErrors = l.mtuErrors;
  if (l.aqm !== undefined) out.aqm = { markAbove: l.aqm.markAbove };
  return out;
}

/** N bytes of readable filler ("abcdefghijklmnopqrstuvwxyz" repeated), so captures show text. */
function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = 97 + (i % 26);
  return out;
}
