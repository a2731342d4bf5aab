/**
 * One direction of an impaired network path, in the spirit of Linux netem + tbf: it decides
 * the fate of each packet offered to it (dropped, corrupted, duplicated, delayed) and when
 * each surviving copy arrives. It schedules nothing itself; the network turns the returned
 * deliveries into queue events. That keeps the link a pure function of (config, rng, its
 * own queue state, the packet), easy to test alone.
 *
 * The order of decisions follows a packet's life on a real path:
 *   1. the fault rule (scripted faults come first so a test's "drop the 1st SYN,ACK" is exact),
 *   2. the MTU (a packet that does not fit never enters the link),
 *   3. the bottleneck queue: AQM marks CE or drops above its threshold (aqm.ts), then
 *      serialization at `rate` (tail drop beyond `queueLimit`),
 *   4. random loss on the wire (a lost packet has used its share of the bottleneck),
 *   5. duplication, then for each copy: corruption, propagation delay with jitter, reordering.
 */
import { MAX_CLOCK_MS, type Millis } from "../env.js";
import type { LinkAction, TraceSink } from "../trace/events.js";
import { applyAqm, checkAqm, markCe, type AqmConfig } from "./aqm.js";
import type { SimRng } from "./rng.js";
import { SequenceFates } from "./sequence-fates.js";
import { destinationOf, tooBigError } from "./too-big.js";
import { checkKnownKeys, InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

/** What a fault rule says about one packet: let it through, drop it, or hold it longer. */
export type FaultVerdict = "pass" | "drop" | { delay: Millis };

/**
 * A scripted fault, evaluated before any random impairment. `packet` is the raw IP packet
 * (do not modify it); `index` counts the packets offered to this direction, from 0.
 * See rules.ts for matchers such as "the 1st TCP segment with exactly SYN|ACK".
 */
export type FaultRule = (packet: Uint8Array, index: number) => FaultVerdict;

export interface LinkConfig {
  /** One-way propagation delay in ms. Default 1. */
  delay?: Millis;
  /** Each copy's delay varies uniformly in [delay - jitter, delay + jitter] (never below 0). Default 0. */
  jitter?: Millis;
  /** Probability that a packet is lost. Default 0. */
  loss?: number;
  /**
   * What decides which packets `loss` takes: "packet" (default) draws from the link's random
   * stream per packet offered; "sequence" keys a TCP segment's fate on its place in its byte
   * stream, so two senders compared through the same seed lose the same bytes
   * (sequence-fates.ts). Other impairments always draw per packet.
   */
  lossBy?: "packet" | "sequence";
  /** Probability that a packet arrives twice. Default 0. */
  duplicate?: number;
  /** Probability that a copy is held back by an extra `reorderDelay`, so later packets overtake it. Default 0. */
  reorder?: number;
  /** Extra delay of a reordered copy, in ms. Default 10. */
  reorderDelay?: Millis;
  /** Probability that a copy has one random bit flipped (anywhere: IP header, TCP header or payload). Default 0. */
  corrupt?: number;
  /** Bottleneck rate in bits per second; packets serialize one after another (FIFO). Default Infinity. */
  rate?: number;
  /** Packets that may wait for serialization (the one being sent does not count); more are tail-dropped. Default 1000. */
  queueLimit?: number;
  /** Largest packet in bytes; larger ones are dropped. Default Infinity. */
  mtu?: number;
  /**
   * A router answers a packet over `mtu` that may not be fragmented with ICMP
   * "fragmentation needed" / ICMPv6 "packet too big" (from the packet's destination
   * address), as RFC 1191 / RFC 8201 expect. Default false: such packets vanish (a black hole).
   */
  mtuErrors?: boolean;
  /**
   * Active queue management at the bottleneck (needs a finite `rate`): packets arriving
   * while more than `markAbove` wait are CE-marked when ECN-capable, dropped when not
   * (RFC 3168 section 5). Default none: only tail drop at `queueLimit`.
   */
  aqm?: AqmConfig;
  /** Scripted faults, evaluated first. Rules are usually stateful (they count matches): use one per direction. */
  filter?: FaultRule;
}

/** A LinkConfig with every default filled in. */
export type ResolvedLinkConfig = Required<Omit<LinkConfig, "filter" | "aqm">> & { filter: FaultRule | undefined; aqm: AqmConfig | undefined };

export const LINK_DEFAULTS: Readonly<Required<Omit<LinkConfig, "filter" | "aqm">>> = Object.freeze({
  delay: 1,
  jitter: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: 10,
  corrupt: 0,
  rate: Infinity,
  // netem's default limit: large enough that only a deliberately small value causes drops.
  queueLimit: 1000,
  mtu: Infinity,
  mtuErrors: false,
  lossBy: "packet",
});

type LinkNumbers = Required<Omit<LinkConfig, "filter" | "aqm">>;
const LINK_KEYS: readonly string[] = [...Object.keys(LINK_DEFAULTS), "aqm", "filter"];

/** Fills defaults and rejects nonsense early, naming the field, rather than simulating it. */
export function resolveLinkConfig(config: LinkConfig = {}): ResolvedLinkConfig {
  // Not an array either: its inherited `filter` (Array.prototype.filter) would be taken for a fault rule.
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new InvalidSettingError(`a link's settings must be an object like { delay: 10, loss: 0.01 }, got ${showValue(config)}`);
  checkKnownKeys("link", config, LINK_KEYS);
  const n: LinkNumbers = { ...LINK_DEFAULTS };
  // Field by field, so an explicit `undefined` means "default" instead of erasing the default.
  for (const key of Object.keys(LINK_DEFAULTS) as Array<keyof LinkNumbers>) {
    const value = config[key];
    if (value !== undefined) (n as Record<string, number | boolean | string>)[key] = value;
  }
  if (n.lossBy !== "packet" && n.lossBy !== "sequence") throw new InvalidSettingError(`link lossBy must be "packet" or "sequence", got ${showValue(n.lossBy)}`);
  if (typeof n.mtuErrors !== "boolean") throw new InvalidSettingError(`link mtuErrors must be true or false, got ${showValue(n.mtuErrors)}`);
  // Numbers first: a comparison would run an object's own conversion, which may throw.
  const isNumber = (v: unknown): v is number => typeof v === "number";
  for (const key of ["loss", "duplicate", "reorder", "corrupt"] as const) {
    const v = n[key];
    if (!(isNumber(v) && v >= 0 && v <= 1)) throw new InvalidSettingError(`link ${key} must be a probability in [0, 1], got ${showValue(v)}`);
  }
  for (const key of ["delay", "jitter", "reorderDelay"] as const) {
    const v = n[key];
    if (!(isNumber(v) && v >= 0 && v <= MAX_CLOCK_MS)) throw new InvalidSettingError(`link ${key} must be a number of ms from 0 to 2^42 (MAX_CLOCK_MS), got ${showValue(v)}`);
  }
  if (!(isNumber(n.rate) && n.rate > 0)) throw new InvalidSettingError(`link rate must be > 0 bits/s, got ${showValue(n.rate)}`);
  // RFC 791: every IPv4 link carries 68 bytes; a smaller MTU, like Linux's refusal of one, is an error.
  if (!(isNumber(n.mtu) && n.mtu >= 68)) throw new InvalidSettingError(`link mtu must be at least 68 bytes (IPv4's minimum), got ${showValue(n.mtu)}`);
  if (!(isNumber(n.queueLimit) && n.queueLimit >= 0 && (Number.isInteger(n.queueLimit) || n.queueLimit === Infinity))) {
    throw new InvalidSettingError(`link queueLimit must be an integer >= 0, got ${showValue(n.queueLimit)}`);
  }
  if (config.filter !== undefined && typeof config.filter !== "function") throw new InvalidSettingError(`link filter must be a function (packet, index) => verdict, got ${showValue(config.filter)}`);
  return { ...n, filter: config.filter, aqm: checkAqm(config.aqm, n.rate) };
}

/** One copy of a packet that survived the link, and when it arrives at the far end. */
export interface Delivery {
  time: Millis;
  packet: Uint8Array;
}

/** Counters of what the link did, for tests and summaries. */
export interface LinkStats {
  offered: number;
  /** Copies handed on for delivery (duplicates count twice). */
  delivered: number;
  ruleDrops: number;
  ruleDelays: number;
  mtuDrops: number;
  queueDrops: number;
  /** ECT packets the AQM marked CE, and not-ECT packets it dropped instead. */
  aqmMarks: number;
  aqmDrops: number;
  losses: number;
  duplicated: number;
  corrupted: number;
  reordered: number;
}

export class ImpairedLink {
  private config: ResolvedLinkConfig;
  /** When the bottleneck finishes serializing the last accepted packet. */
  private busyUntil: Millis = 0;
  /** Serialization start times of accepted packets, ascending; entries before `head` have started. */
  private starts: Millis[] = [];
  private head = 0;
  private readonly counters: LinkStats = {
    offered: 0,
    delivered: 0,
    ruleDrops: 0,
    ruleDelays: 0,
    mtuDrops: 0,
    queueDrops: 0,
    aqmMarks: 0,
    aqmDrops: 0,
    losses: 0,
    duplicated: 0,
    corrupted: 0,
    reordered: 0,
  };

  /**
   * @param name used in trace events, e.g. "a->b"
   * @param rng this direction's own stream, so other links' traffic never changes its draws
   */
  private tooBig: Uint8Array | undefined;

  constructor(
    readonly name: string,
    config: LinkConfig,
    private readonly rng: SimRng,
    private readonly trace: TraceSink,
    /**
     * The keyed fates for `lossBy: "sequence"`; pass one shared by both directions of a
     * path so a sender meets the same losses whichever side of it sends. Default: made
     * from this link's stream on first use.
     */
    private fates?: SequenceFates,
  ) {
    this.config = resolveLinkConfig(config);
  }

  /** Replaces the impairments from now on; packets already in flight keep their fate. */
  configure(config: LinkConfig): void {
    this.config = resolveLinkConfig(config);
  }

  get settings(): Readonly<ResolvedLinkConfig> {
    return this.config;
  }

  get stats(): Readonly<LinkStats> {
    return this.counters;
  }

  /** Packets accepted but not yet being serialized at time `now`. */
  queued(now: Millis): number {
    while (this.head < this.starts.length && this.starts[this.head]! <= now) this.head++;
    // Compact now and then so the array does not grow with the whole history.
    if (this.head > 1024 && this.head * 2 > this.starts.length) {
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
    return this.starts.length - this.head;
  }

  /** The ICMP error the last `send` caused (mtuErrors), once: the network routes it back. */
  takeTooBig(): Uint8Array | undefined {
    const p = this.tooBig;
    this.tooBig = undefined;
    return p;
  }

  /** Decides the fate of `packet` offered at `now`. Returns 0, 1 or 2 deliveries. */
  send(now: Millis, packet: Uint8Array): Delivery[] {
    const c = this.config;
    const index = this.counters.offered++;

    let held = 0;
    if (c.filter !== undefined) {
      const verdict = c.filter(packet, index);
      if (verdict === "drop") {
        this.counters.ruleDrops++;
        return this.drop(now, packet, "rule");
      }
      if (verdict !== "pass") {
        const delay: unknown = typeof verdict === "object" && verdict !== null ? (verdict as { delay?: unknown }).delay : undefined;
        if (!(typeof delay === "number" && delay >= 0 && delay <= MAX_CLOCK_MS)) throw new InvalidSettingError(`a fault rule returns "pass", "drop" or { delay } of 0 to 2^42 ms, got ${typeof verdict === "object" && verdict !== null ? `{ delay: ${showValue(delay)} }` : showValue(verdict)}`);
        held = delay;
        this.counters.ruleDelays++;
        this.emit(now, "delay", "rule", packet.length);
      }
    }

    if (packet.length > c.mtu) {
      this.counters.mtuDrops++;
      if (c.mtuErrors) {
        const dst = destinationOf(packet);
        if (dst !== undefined) this.tooBig = tooBigError(packet, c.mtu, dst);
      }
      return this.drop(now, packet, "mtu");
    }

    if (c.aqm !== undefined && c.rate !== Infinity) {
      const verdict = applyAqm(c.aqm, this.queued(now), packet);
      if (verdict === "drop") {
        this.counters.aqmDrops++;
        return this.drop(now, packet, "aqm");
      }
      if (verdict === "mark") {
        // A copy: the sender may still hold its buffer (a capture tap, a pooled packet).
        packet = packet.slice();
        markCe(packet);
        this.counters.aqmMarks++;
        this.emit(now, "mark", "aqm", packet.length);
      }
    }

    const departure = this.serialize(now, packet.length);
    if (departure === undefined) {
      this.counters.queueDrops++;
      return this.drop(now, packet, "queue-full");
    }

    if (this.lost(packet)) {
      this.counters.losses++;
      return this.drop(now, packet, "loss");
    }

    const copies = [packet];
    if (this.rng.chance(c.duplicate)) {
      // A separate buffer: the receiver owns what it is given and may reuse it.
      copies.push(packet.slice());
      this.counters.duplicated++;
      this.emit(now, "duplicate", "duplicate", packet.length);
    }

    const deliveries: Delivery[] = [];
    for (const copy of copies) {
      const bytes = this.maybeCorrupt(now, copy);
      let time = departure + held + this.propagation();
      if (this.rng.chance(c.reorder)) {
        time += c.reorderDelay;
        this.counters.reordered++;
        this.emit(now, "delay", "reorder", copy.length);
      }
      deliveries.push({ time, packet: bytes });
    }
    this.counters.delivered += deliveries.length;
    return deliveries;
  }

  /** The random-loss decision: per packet from the stream, or per byte-stream place (`lossBy`). */
  private lost(packet: Uint8Array): boolean {
    const c = this.config;
    if (c.lossBy === "packet" || c.loss <= 0 || c.loss >= 1) return this.rng.chance(c.loss);
    this.fates ??= new SequenceFates(this.rng);
    const u = this.fates.draw(packet);
    return u === undefined ? this.rng.chance(c.loss) : u < c.loss;
  }

  /**
   * Puts the packet through the bottleneck. Returns when its last bit leaves, or undefined
   * when the queue is full (tail drop). With an unlimited rate there is no queue at all.
   */
  private serialize(now: Millis, bytes: number): Millis | undefined {
    const c = this.config;
    if (c.rate === Infinity) return now;
    const start = Math.max(now, this.busyUntil);
    if (start > now && this.queued(now) >= c.queueLimit) return undefined;
    if (start > now) this.starts.push(start);
    this.busyUntil = start + (bytes * 8 * 1000) / c.rate;
    return this.busyUntil;
  }

  private propagation(): Millis {
    const c = this.config;
    if (c.jitter === 0) return c.delay;
    return Math.max(0, c.delay + this.rng.uniform(-c.jitter, c.jitter));
  }

  /** Flips one random bit of a copy (never of the caller's buffer, which another copy may share). */
  private maybeCorrupt(now: Millis, packet: Uint8Array): Uint8Array {
    if (packet.length === 0 || !this.rng.chance(this.config.corrupt)) return packet;
    const bit = this.rng.int(0, packet.length * 8 - 1);
    const copy = packet.slice();
    copy[bit >>> 3]! ^= 0x80 >>> (bit & 7);
    this.counters.corrupted++;
    this.emit(now, "corrupt", "bit-flip", packet.length);
    return copy;
  }

  private drop(now: Millis, packet: Uint8Array, reason: string): Delivery[] {
    this.emit(now, "drop", reason, packet.length);
    return [];
  }

  private emit(time: Millis, action: LinkAction, reason: string, bytes: number): void {
    if (this.trace.enabled) this.trace.emit({ type: "link", time, link: this.name, action, reason, bytes });
  }
}
