/**
 * A deterministic network of sans-IO endpoints in virtual time.
 *
 * Hosts are endpoints with a name and addresses (IPv4 or IPv6); a packet goes to the host
 * whose address is its destination (IPv4 bytes 16..19, IPv6 bytes 24..39), through the impaired path for that ordered
 * pair of hosts. Nothing here knows TCP: the network moves bytes and calls the three
 * methods of the Endpoint contract (receive, poll, nextDeadline).
 *
 * The driver loop repeatedly takes the earliest of (a) the next queued delivery or action
 * and (b) the earliest host deadline, advances the clock to it and does that one thing.
 * At equal times queued events go first (in the order they were queued), then timers (in
 * host order), so every tie is broken the same way on every run.
 */
import { destinationOf } from "./too-big.js";
import { showValue } from "../show-value.js";
import type { Endpoint, Transmit } from "../endpoint.js";
import { MAX_CLOCK_MS, type Millis } from "../env.js";
import { NULL_SINK, type TraceSink } from "../trace/events.js";
import { IpAddress, type AddressKey } from "../wire/address.js";
import { formatIpv4Address } from "../wire/ipv4.js";
import { EventQueue, VirtualClock } from "./clock.js";
import { SimConditionTimeoutError, SimEndpointError, SimLivelockError } from "./errors.js";
import { ImpairedLink, type LinkConfig } from "./link.js";
import type { PacketLogEntry, PacketRecorder } from "../trace/packet-log.js";
import { SimRng } from "./rng.js";
import { checkKnownKeys, InvalidSettingError } from "../invalid-setting.js";


/** A host's address: an IPv4 uint32 (as before) or an IpAddress of either family. */
export type SimAddress = number | IpAddress;

function keyOf(a: SimAddress): AddressKey {
  return typeof a === "number" ? a >>> 0 : a.key;
}

function textOf(a: SimAddress): string {
  return typeof a === "number" ? formatIpv4Address(a) : a.toString();
}

const DEFAULT_MAX_EVENTS = 1_000_000;

export interface SimNetworkOptions {
  /** Seeds every random choice of the run (any safe integer; default 1). */
  seed?: number;
  /** Receives link events (drops, corruption, ...). Also handed to each host's factory. */
  trace?: TraceSink;
  /** true: keep every sent and delivered packet in `packetLog`. A function: call it instead. */
  packetLog?: boolean | PacketRecorder;
  /** Default event budget of each run call before it reports a livelock. Default 1,000,000. */
  maxEvents?: number;
}

/** What a host's factory gets besides its transmit function. */
export interface HostContext {
  readonly name: string;
  /** The address given to addHost (a uint32 for IPv4 hosts added the old way). */
  readonly address: SimAddress;
  /** This host's own random stream (e.g. for ISNs), independent of links and other hosts. */
  readonly rng: SimRng;
  readonly trace: TraceSink;
  /** The virtual time, for code that needs it outside receive/poll (such as application calls). */
  now(): Millis;
}

export type EndpointFactory<E extends Endpoint> = (transmit: Transmit, context: HostContext) => E;

export interface HostStats {
  sent: number;
  received: number;
  polls: number;
}

/** A host as the caller sees it: its identity, its endpoint, its counters. */
export interface SimHost<E extends Endpoint = Endpoint> {
  readonly name: string;
  readonly address: SimAddress;
  readonly endpoint: E;
  readonly stats: Readonly<HostStats>;
}

export interface NetworkStats {
  /** Packets sent to an address no host has, or too short to carry one. */
  unroutable: number;
}

export interface RunOptions {
  /** Stop before anything due after this time, with the clock set to it. Default: run until idle. */
  until?: Millis;
  /** Event budget (deliveries, actions and polls) of this call. Default: the network's maxEvents. */
  maxEvents?: number;
}

export interface RunResult {
  now: Millis;
  events: number;
  /** Nothing at all is left to do: no queued packet or action, and no host deadline (before the clock's end, MAX_CLOCK_MS). */
  idle: boolean;
}

class HostRecord<E extends Endpoint = Endpoint> implements SimHost<E> {
  /** Set right after the factory returns; the factory itself never sees its own record. */
  endpoint!: E;
  /** The endpoint's nextDeadline(), cached; undefined once something may have changed it. */
  deadline: Millis | undefined = undefined;
  readonly stats: HostStats = { sent: 0, received: 0, polls: 0 };
  constructor(
    readonly name: string,
    readonly address: SimAddress,
  ) {}
}

type QueuedEvent =
  | { kind: "deliver"; from: string; to: HostRecord; packet: Uint8Array }
  | { kind: "action"; fn: (now: Millis) => void };

/** The next thing the driver would do, found before doing it so budgets can be checked. */
type Next = { kind: "queued" } | { kind: "poll"; host: HostRecord; deadline: Millis } | { kind: "idle" } | { kind: "until" };

export class SimNetwork {
  /** The root random stream; fork it (`rng.fork("app")`) for test-side randomness. */
  readonly rng: SimRng;
  /** Every packet sent and delivered, when created with `packetLog: true`. */
  readonly packetLog: PacketLogEntry[] = [];
  private readonly clock = new VirtualClock();
  private readonly queue = new EventQueue<QueuedEvent>();
  private readonly trace: TraceSink;
  private readonly recorder: PacketRecorder | undefined;
  private readonly maxEvents: number;
  private readonly hostList: HostRecord[] = [];
  private readonly byName = new Map<string, HostRecord>();
  private readonly byAddress = new Map<AddressKey, HostRecord>();
  private readonly links = new Map<HostRecord, Map<HostRecord, ImpairedLink>>();
  private readonly counters: NetworkStats = { unroutable: 0 };

  constructor(options: SimNetworkOptions = { seed: 1 }) {
    if (typeof options !== "object" || options === null) throw new InvalidSettingError(`SimNetwork's options must be an object like { seed }, got ${showValue(options)}`);
    checkKnownKeys("SimNetwork", options, ["seed", "trace", "packetLog", "maxEvents"]);
    this.rng = new SimRng(options.seed ?? 1);
    this.trace = options.trace ?? NULL_SINK;
    this.maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    const log = options.packetLog;
    this.recorder = typeof log === "function" ? log : log === true ? (e) => this.packetLog.push(e) : undefined;
  }

  get now(): Millis {
    return this.clock.now;
  }

  get hosts(): readonly SimHost[] {
    return this.hostList;
  }

  get stats(): Readonly<NetworkStats> {
    return this.counters;
  }

  /** Adds a host. `factory` builds its endpoint around the transmit function it must use. */
  addHost<E extends Endpoint>(name: string, address: SimAddress, factory: EndpointFactory<E>): SimHost<E> {
    if (this.byName.has(name)) throw new InvalidSettingError(`a host named "${name}" already exists`);
    if (typeof address === "number" && !(Number.isInteger(address) && address >= 0 && address <= 0xffffffff)) {
      throw new InvalidSettingError(`host address must be a uint32 or an IpAddress, got ${address}`);
    }
    const owner = this.byAddress.get(keyOf(address));
    if (owner !== undefined) throw new InvalidSettingError(`address ${textOf(address)} already belongs to "${owner.name}"`);
    const host = new HostRecord<E>(name, address);
    const context: HostContext = {
      name,
      address,
      rng: this.rng.fork(`host:${name}`),
      trace: this.trace,
      now: () => this.clock.now,
    };
    host.endpoint = factory((packet) => this.transmit(host, packet), context);
    this.hostList.push(host);
    this.byName.set(name, host);
    this.byAddress.set(keyOf(address), host);
    return host;
  }

  /**
   * Gives host `name` one more address (another family, for a dual-stack host): packets to
   * it are delivered to that host too. The endpoint must own the address itself.
   */
  addAddress(name: string, address: IpAddress): void {
    const host = this.record(name);
    const owner = this.byAddress.get(address.key);
    if (owner !== undefined) throw new InvalidSettingError(`address ${address.toString()} already belongs to "${owner.name}"`);
    this.byAddress.set(address.key, host);
  }

  host(name: string): SimHost {
    return this.record(name);
  }

  /** Sets the impairments of the direction from -> to (replacing earlier ones). */
  setPath(from: SimHost | string, to: SimHost | string, config: LinkConfig): void {
    this.link(this.record(from), this.record(to)).configure(config);
  }

  /**
   * Sets both directions between a and b to `config`. Each direction keeps its own queue and
   * random stream, but a `filter` in `config` is shared: use setPath for per-direction rules.
   */
  connect(a: SimHost | string, b: SimHost | string, config: LinkConfig = {}): void {
    this.setPath(a, b, config);
    this.setPath(b, a, config);
  }

  /** The link of the direction from -> to, for its settings and stats. */
  path(from: SimHost | string, to: SimHost | string): ImpairedLink {
    return this.link(this.record(from), this.record(to));
  }

  /** Runs `fn` at virtual time `time` (not in the past), e.g. an application calling connect(). */
  at(time: Millis, fn: (now: Millis) => void): void {
    if (!(typeof time === "number" && time >= this.clock.now && time <= MAX_CLOCK_MS)) {
      throw new InvalidSettingError(`cannot schedule an action at ${showValue(time)}: now is ${this.clock.now}, and the clock counts to 2^42 ms (MAX_CLOCK_MS)`);
    }
    if (typeof fn !== "function") throw new InvalidSettingError(`at(time, fn): fn must be a function, got ${showValue(fn)}`);
    this.queue.push(time, { kind: "action", fn });
  }

  /** Runs `fn` `delay` ms from now. */
  after(delay: Millis, fn: (now: Millis) => void): void {
    this.at(this.clock.now + delay, fn);
  }

  /** Runs until idle, until `until`, or throws when `maxEvents` is exceeded. */
  run(options: RunOptions = {}): RunResult {
    const until = options.until ?? Infinity;
    if (until < this.clock.now) throw new InvalidSettingError(`run until ${until}: now is already ${this.clock.now}`);
    const { events, stop } = this.drive(until, options.maxEvents ?? this.maxEvents);
    if (until !== Infinity) this.clock.advanceTo(until);
    return { now: this.clock.now, events, idle: stop === "idle" };
  }

  /** Lets `ms` of virtual time pass (the clock ends exactly `ms` later). */
  runFor(ms: Millis, maxEvents?: number): RunResult {
    if (typeof ms !== "number" || Number.isNaN(ms)) throw new InvalidSettingError(`runFor(ms) takes a number of ms, got ${showValue(ms)}`);
    return this.run({ until: this.clock.now + ms, ...(maxEvents === undefined ? {} : { maxEvents }) });
  }

  /**
   * Runs event by event until `predicate()` holds, checking it before the first event and
   * after each one. Returns the time at which it held. Throws when `limit` ms of virtual
   * time pass (or all work runs out) first, so a scenario that hangs fails with a reason.
   */
  runUntil(predicate: () => boolean, limit: Millis = 60_000, maxEvents?: number): Millis {
    if (typeof predicate !== "function") throw new InvalidSettingError(`runUntil(predicate) takes a function that says when to stop, got ${showValue(predicate)}`);
    if (!(limit >= 0)) throw new InvalidSettingError(`runUntil limit must be >= 0 ms, got ${limit}`);
    if (predicate()) return this.clock.now;
    const startedAt = this.clock.now;
    const until = startedAt + limit;
    const { stop } = this.drive(until, maxEvents ?? this.maxEvents, predicate);
    if (stop === "done") return this.clock.now;
    if (until !== Infinity) this.clock.advanceTo(until);
    const why = stop === "idle" ? "the network went idle" : `the ${limit} ms limit was reached`;
    throw new SimConditionTimeoutError(`runUntil: condition still false at ${this.clock.now} ms (${why}; started at ${startedAt} ms)`);
  }

  /** The driver loop shared by run and runUntil: one event at a time, within a budget. */
  private drive(until: Millis, budget: number, done?: () => boolean): { events: number; stop: "idle" | "until" | "done" } {
    const startedAt = this.clock.now;
    // Test code may have called endpoint methods since the last run; trust no cached deadline.
    this.invalidateDeadlines();
    let events = 0;
    // How many events in a row happened at the current instant, to describe a livelock well.
    let sameInstant = 0;
    for (;;) {
      const next = this.next(until);
      if (next.kind === "idle" || next.kind === "until") return { events, stop: next.kind };
      if (events >= budget) throw new SimLivelockError(budget, startedAt, this.clock.now, sameInstant);
      const before = this.clock.now;
      events++;
      this.execute(next);
      sameInstant = this.clock.now === before ? sameInstant + 1 : 1;
      if (done?.()) return { events, stop: "done" };
    }
  }

  private next(until: Millis): Next {
    const queued = this.queue.peekTime();
    let due: HostRecord | undefined;
    let dueAt = Infinity;
    // Strict `<`: among equal deadlines the host added first is polled first.
    for (const host of this.hostList) {
      const d = this.deadlineOf(host);
      if (d < dueAt) {
        dueAt = d;
        due = host;
      }
    }
    // A deadline already in the past is polled now: time never goes backwards.
    const pollAt = Math.max(dueAt, this.clock.now);
    const time = Math.min(queued, pollAt);
    // Past the clock's end nothing can happen: a TIME_WAIT started a minute before it, or a
    // packet whose link delay carries it beyond, is never reached.
    if (time > MAX_CLOCK_MS) return { kind: "idle" };
    if (time > until) return { kind: "until" };
    if (queued <= pollAt) return { kind: "queued" };
    return { kind: "poll", host: due!, deadline: dueAt };
  }

  private execute(next: Next): void {
    if (next.kind === "queued") {
      const { time, item } = this.queue.pop()!;
      this.clock.advanceTo(time);
      this.dispatch(item);
    } else if (next.kind === "poll") {
      this.clock.advanceTo(Math.max(next.deadline, this.clock.now));
      this.poll(next.host, next.deadline);
    }
  }

  private dispatch(event: QueuedEvent): void {
    const now = this.clock.now;
    if (event.kind === "action") {
      event.fn(now);
      // An action may call into any endpoint (connect, write, close): any deadline may move.
      this.invalidateDeadlines();
      return;
    }
    const host = event.to;
    host.stats.received++;
    this.recorder?.({ time: now, event: "deliver", from: event.from, to: host.name, bytes: event.packet.slice() });
    host.endpoint.receive(now, event.packet);
    host.deadline = undefined;
  }

  /** Polls a due host and insists that its deadline moves forward, or names it as broken. */
  private poll(host: HostRecord, before: Millis): void {
    const now = this.clock.now;
    host.stats.polls++;
    host.endpoint.poll(now);
    const after = host.endpoint.nextDeadline();
    if (!(after > before)) {
      throw new SimEndpointError(
        host.name,
        `nextDeadline() is ${after} after poll(${now}), which did not move it forward from ${before}; ` +
          `poll must run every timer due at or before now (or the endpoint must report a later deadline)`,
      );
    }
    host.deadline = after;
  }

  private deadlineOf(host: HostRecord): Millis {
    if (host.deadline === undefined) {
      const d = host.endpoint.nextDeadline();
      if (Number.isNaN(d)) throw new SimEndpointError(host.name, "nextDeadline() returned NaN");
      host.deadline = d;
    }
    return host.deadline;
  }

  private invalidateDeadlines(): void {
    for (const host of this.hostList) host.deadline = undefined;
  }

  /** An endpoint's transmit: route by destination address, then through the path's link. */
  private transmit(from: HostRecord, packet: Uint8Array): void {
    const now = this.clock.now;
    from.stats.sent++;
    const dstAddress = destinationOf(packet);
    const to = dstAddress !== undefined ? this.byAddress.get(dstAddress.key) : undefined;
    if (this.recorder !== undefined) {
      const toName = to?.name ?? dstAddress?.toString() ?? "?";
      this.recorder({ time: now, event: "send", from: from.name, to: toName, bytes: packet.slice() });
    }
    if (to === undefined) {
      this.counters.unroutable++;
      if (this.trace.enabled) {
        const short = dstAddress === undefined;
        const dst = dstAddress?.toString() ?? "?";
        this.trace.emit({ type: "link", time: now, link: `${from.name}->${dst}`, action: "drop", reason: short ? "malformed" : "no-route", bytes: packet.length });
      }
      return;
    }
    const link = this.link(from, to);
    for (const d of link.send(now, packet)) {
      this.queue.push(d.time, { kind: "deliver", from: from.name, to, packet: d.packet });
    }
    // Too big for the link (mtuErrors): the router's ICMP error travels back like any packet.
    const error = link.takeTooBig();
    if (error !== undefined) {
      for (const d of this.link(to, from).send(now, error)) this.queue.push(d.time, { kind: "deliver", from: to.name, to: from, packet: d.packet });
    }
  }

  /** The link of one direction, created with default settings on first use. */
  private link(from: HostRecord, to: HostRecord): ImpairedLink {
    let row = this.links.get(from);
    if (row === undefined) {
      row = new Map();
      this.links.set(from, row);
    }
    let link = row.get(to);
    if (link === undefined) {
      const name = `${from.name}->${to.name}`;
      link = new ImpairedLink(name, {}, this.rng.fork(`path:${name}`), this.trace);
      row.set(to, link);
    }
    return link;
  }

  private record(host: SimHost | string): HostRecord {
    const name = typeof host === "string" ? host : host.name;
    const record = this.byName.get(name);
    if (record === undefined) throw new InvalidSettingError(`no host named "${name}"`);
    return record;
  }
}
