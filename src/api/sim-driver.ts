/**
 * Stacks in the deterministic simulator, for ordinary asynchronous application code.
 *
 * The simulator runs in virtual time, but application code written against promises and
 * streams needs the event loop to get a turn before it can react. The driver therefore
 * "pumps": it runs network events until the stack has handed the application something
 * (data, a connection, an error: every such hand-over calls `schedule()`), then yields one
 * macrotask so that every promise reaction and stream callback runs, then goes on. When
 * the network is idle (no packet in flight, no timer) the pump stops, and the next
 * application call starts it again. Virtual time only moves while the pump runs, so a
 * transfer that takes 30 virtual seconds of retransmissions finishes in milliseconds.
 *
 * Runtime-neutral: the macrotask is a MessageChannel round trip (browsers, Node, Deno and
 * Workers all have one); pass `turn` to use something else.
 */
import type { Millis } from "../env.js";
import { Host } from "../host/host.js";
import { defaultRoutes } from "../ip/routing.js";
import { SimConditionTimeoutError, SimLivelockError, SimNetwork, type LinkConfig } from "../sim/index.js";
import { resolveLinkConfig } from "../sim/link.js";
import type { TcpConfig } from "../tcp/config.js";
import type { TraceSink } from "../trace/events.js";
import { resolveHostname } from "./address.js";
import type { Driver } from "./driver.js";
import { Stack } from "./stack.js";
import type { ResolverConfig } from "../dns/resolver.js";
import { checkKnownKeys, InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

export interface SimDriverOptions {
  /** Seeds every random choice (ISNs, loss, jitter). Default 1. */
  seed?: number;
  trace?: TraceSink;
  /** Link settings between every pair of stacks (default: 1 ms delay, no loss). */
  link?: LinkConfig;
  /**
   * Events one pump step may run without handing anything to the application (default
   * 10,000). Exceeding it without virtual time moving is reported as a livelock.
   */
  maxEvents?: number;
  /** Yields to the event loop until queued promise reactions ran. Default: a MessageChannel round trip. */
  turn?: () => Promise<void>;
}

export interface SimStackOptions {
  tcp?: Partial<TcpConfig>;
  mtu?: number;
  /** Name servers for host names in connect(): `{ servers: ["10.0.0.53"] }` (see Stack). */
  dns?: ResolverConfig;
}

/** Events one pump step may run without handing anything to the application. */
const STEP_EVENTS = 10_000;

export class SimDriver {
  readonly network: SimNetwork;
  private readonly link: LinkConfig;
  private readonly turn: () => Promise<void>;
  private readonly closeTurn: () => void;
  private readonly stacks: Stack[] = [];
  private readonly stepEvents: number;
  private pumping = false;
  private turnWanted = false;
  private idleWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private failure: unknown;

  constructor(options: SimDriverOptions = {}) {
    if (typeof options !== "object" || options === null) throw new InvalidSettingError(`SimDriver's options must be an object like { seed, link }, got ${showValue(options)}`);
    checkKnownKeys("SimDriver", options, ["seed", "trace", "link", "maxEvents", "turn"]);
    const { maxEvents, turn } = options;
    if (maxEvents !== undefined && !(Number.isInteger(maxEvents) && maxEvents >= 1)) throw new InvalidSettingError(`maxEvents must be an integer >= 1, got ${showValue(maxEvents)}`);
    if (turn !== undefined && typeof turn !== "function") throw new InvalidSettingError(`turn must be a function returning a promise, got ${showValue(turn)}`);
    // The link settings are checked now, not when the second stack is added.
    if (options.link !== undefined) resolveLinkConfig(options.link);
    this.network = new SimNetwork({
      seed: options.seed ?? 1,
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    });
    this.link = options.link ?? {};
    this.stepEvents = options.maxEvents ?? STEP_EVENTS;
    if (options.turn !== undefined) {
      this.turn = options.turn;
      this.closeTurn = () => {};
    } else {
      const t = messageChannelTurn();
      this.turn = t.turn;
      this.closeTurn = t.close;
    }
  }

  now(): Millis {
    return this.network.now;
  }

  /** Adds a stack with one interface at `address`, linked to every stack added before. */
  addStack(name: string, address: string | readonly string[], options: SimStackOptions = {}): Stack {
    if (typeof name !== "string" || name === "") throw new InvalidSettingError(`a stack's name must be a non-empty string, got ${showValue(name)}`);
    if (typeof address !== "string" && !Array.isArray(address)) throw new InvalidSettingError(`a stack's address must be an address string or an array of them, got ${showValue(address)}`);
    if (typeof options !== "object" || options === null) throw new InvalidSettingError(`addStack's options must be an object like { mtu, tcp, dns }, got ${showValue(options)}`);
    checkKnownKeys("addStack", options, ["tcp", "mtu", "dns"]);
    // Several addresses (one of each family, say) make a dual-stack host; the first is primary.
    const all = (typeof address === "string" ? [address] : address).map((a) => resolveHostname(a));
    const addr = all[0];
    if (addr === undefined) throw new InvalidSettingError("a stack needs an address");
    const interfaces = all.length > 1 ? all.map((a, i) => ({ name: `eth${i}`, address: a, prefixLength: a.bitLength })) : undefined;
    const sim = this.network.addHost(name, addr, (transmit, ctx) =>
      new Host({
        name,
        address: addr,
        ...(interfaces !== undefined ? { interfaces, routes: defaultRoutes(interfaces) } : {}),
        rng: ctx.rng,
        transmit,
        trace: ctx.trace,
        ...(options.tcp === undefined ? {} : { tcp: options.tcp }),
        ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
      }),
    );
    for (const extra of all.slice(1)) this.network.addAddress(name, extra);
    for (const other of this.stacks) this.network.connect(other.name, name, this.link);
    const stack = new Stack({ host: sim.endpoint, driver: this.driverFor(), ...(options.dns !== undefined ? { dns: options.dns } : {}) });
    this.stacks.push(stack);
    return stack;
  }

  /**
   * Resolves once the pump stopped: nothing in flight, no timer pending, and the
   * application had its turn after the last hand-over. Rejects if the simulation failed
   * (a livelock, or an application callback that threw).
   */
  settled(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.pumping) return Promise.resolve();
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  /** Resolves after `ms` of virtual time (the network keeps running meanwhile). */
  sleep(ms: Millis): Promise<void> {
    return new Promise((resolve) => {
      // As runFor(-1): a negative or unreadable time rejects, rather than mean "now".
      if (typeof ms !== "number" || !(ms >= 0)) throw new InvalidSettingError(`sleep(ms) takes a time of 0 ms or more, got ${showValue(ms)}`);
      this.setTimer(this.network.now + ms, resolve);
    });
  }

  private driverFor(): Driver {
    return {
      now: () => this.network.now,
      schedule: () => this.requestTurn(),
      setTimer: (at, fn) => this.setTimer(at, fn),
    };
  }

  /** A timer in virtual time: an action in the network's event queue that can be cancelled. */
  private setTimer(at: Millis, fn: () => void): () => void {
    let live = true;
    this.network.at(Math.max(at, this.network.now), () => {
      if (!live) return;
      live = false;
      fn();
      this.turnWanted = true;
    });
    this.requestTurn();
    return () => {
      live = false;
    };
  }

  private requestTurn(): void {
    this.turnWanted = true;
    if (!this.pumping && this.failure === undefined) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        await this.turn();
        this.turnWanted = false;
        if (!this.advance() && !this.turnWanted) break;
      }
    } catch (e) {
      this.failure = e;
    } finally {
      this.pumping = false;
      this.closeTurn();
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) {
        if (this.failure === undefined) w.resolve();
        else w.reject(this.failure);
      }
      // A failure nobody waits for must not vanish: surface it like an uncaught exception.
      if (this.failure !== undefined && waiters.length === 0) {
        const f = this.failure;
        queueMicrotask(() => {
          throw f;
        });
      }
    }
  }

  /**
   * Runs events until one hands something to the application (then it wants a turn) or a
   * budget of events passes. False when the network is idle.
   */
  private advance(): boolean {
    const before = this.network.now;
    try {
      // No time limit: when nothing is left the clock stays at the last event.
      this.network.runUntil(() => this.turnWanted, Infinity, this.stepEvents);
      return true;
    } catch (e) {
      // With an infinite limit this only means "nothing at all is left to do".
      if (e instanceof SimConditionTimeoutError) return false;
      // A long quiet stretch (timers, no hand-over): give the event loop a turn, go on. If
      // time did not move at all, it is a real livelock: report it.
      if (e instanceof SimLivelockError && this.network.now > before) return true;
      throw e;
    }
  }
}

/** A macrotask via MessageChannel: lets every queued promise reaction run first. */
function messageChannelTurn(): { turn: () => Promise<void>; close: () => void } {
  let channel: MessageChannel | undefined;
  let pending: (() => void) | undefined;
  return {
    turn: () =>
      new Promise<void>((resolve) => {
        if (channel === undefined) {
          channel = new MessageChannel();
          channel.port1.onmessage = () => {
            const p = pending;
            pending = undefined;
            p?.();
          };
        }
        pending = resolve;
        channel.port2.postMessage(undefined);
      }),
    // Closing matters in Node: an open port with a listener keeps the process alive.
    close: () => {
      channel?.port1.close();
      channel?.port2.close();
      channel = undefined;
    },
  };
}
