/**
 * The impairment relay: real packets between two links (TUN devices, UDP tunnels, or an
 * in-process synack stack on a pipe) pass through the simulator's ImpairedLink, one per
 * direction, with real time: loss, delay, jitter, reorder, duplicate, corrupt, rate and a
 * bottleneck queue, decided exactly as in simulation. This machine's kernel has no netem,
 * so this is our netem: kernel-to-kernel, kernel-to-synack and synack-to-synack traffic
 * can all cross the same impaired path.
 *
 * Packets due at the same time leave in the order the link decided; one timer covers the
 * earliest pending delivery. Timer resolution is Node's (about 1 ms).
 */
import { NextTurnInbox, inBatch } from "./inbox.js";
import { randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Millis } from "../env.js";
import { ImpairedLink, resolveLinkConfig, type LinkConfig, type LinkStats } from "../sim/link.js";
import { SimRng } from "../sim/rng.js";
import { SequenceFates } from "../sim/sequence-fates.js";
import { NULL_SINK, type TraceSink } from "../trace/events.js";
import { newCounters, type PacketLink } from "./tun.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

export interface RelayOptions {
  a: PacketLink;
  b: PacketLink;
  /** Impairments of both directions, or of each one. */
  impair?: LinkConfig | { aToB: LinkConfig; bToA: LinkConfig };
  /** Seed of the impairment randomness (default: random); the same seed draws the same fates for the same packet sequence. */
  seed?: number;
  trace?: TraceSink;
}

/**
 * How late the relay delivered the packets it held back (delay, jitter, rate): the time
 * between when the link said a packet was due and when the event loop let the relay send
 * it. Node's timers fire at best about 1 ms late; more means something else in the
 * process held the loop, and the path was that much longer than configured.
 */
export interface RelayLateness {
  /** Packets delivered from the relay's queue (not those forwarded at once). */
  held: number;
  meanMs: number;
  maxMs: number;
  /** Of those, packets delivered more than 2 ms after they were due. */
  over2Ms: number;
}

interface Pending {
  time: Millis;
  order: number;
  to: PacketLink;
  packet: Uint8Array;
}

export class Relay {
  readonly a: PacketLink;
  readonly b: PacketLink;
  readonly aToB: ImpairedLink;
  readonly bToA: ImpairedLink;
  readonly seed: number;
  private readonly heap: Pending[] = [];
  private order = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private closed = false;
  private held = 0;
  private lateSumMs = 0;
  private lateMaxMs = 0;
  private lateOver2Ms = 0;

  /**
   * Throws the InvalidSettingError the constructor would for these impairments and seed,
   * without links: a program checks its settings before it opens devices or sockets.
   */
  static checkOptions(opts: Pick<RelayOptions, "impair" | "seed">): void {
    if (opts.seed !== undefined) new SimRng(opts.seed);
    const impair = opts.impair ?? {};
    for (const config of "aToB" in impair ? [impair.aToB, impair.bToA] : [impair]) resolveLinkConfig({ delay: 0, ...config });
  }

  constructor(opts: RelayOptions) {
    if (typeof opts !== "object" || opts === null) throw new InvalidSettingError(`Relay options must be an object with links a and b, got ${showValue(opts)}`);
    for (const side of ["a", "b"] as const) {
      const link: unknown = opts[side];
      if (typeof link !== "object" || link === null || typeof (link as PacketLink).send !== "function") throw new InvalidSettingError(`Relay link ${side} must be a PacketLink (a TUN device, UDP tunnel or pipe), got ${showValue(link)}`);
    }
    this.a = opts.a;
    this.b = opts.b;
    this.seed = opts.seed ?? randomInt(2 ** 32);
    const rng = new SimRng(this.seed);
    const impair = opts.impair ?? {};
    const [ab, ba] = "aToB" in impair ? [impair.aToB, impair.bToA] : [impair, impair];
    // Both directions need delay 0 unless asked: the simulator's default of 1 ms is for virtual time.
    // One set of keyed fates for both directions: a sender on either side loses the same bytes.
    const fates = new SequenceFates(rng);
    this.aToB = new ImpairedLink("a->b", { delay: 0, ...ab }, rng.fork("a->b"), opts.trace ?? NULL_SINK, fates);
    this.bToA = new ImpairedLink("b->a", { delay: 0, ...ba }, rng.fork("b->a"), opts.trace ?? NULL_SINK, fates);
    this.a.onPacket = (p) => this.forward(this.aToB, this.b, p);
    this.b.onPacket = (p) => this.forward(this.bToA, this.a, p);
  }

  /** Changes the impairments from now on (packets in flight keep their fate). */
  configure(impair: LinkConfig, direction: "both" | "aToB" | "bToA" = "both"): void {
    if (direction !== "bToA") this.aToB.configure({ delay: 0, ...impair });
    if (direction !== "aToB") this.bToA.configure({ delay: 0, ...impair });
  }

  get stats(): { aToB: Readonly<LinkStats>; bToA: Readonly<LinkStats>; inFlight: number; lateness: RelayLateness } {
    const lateness = { held: this.held, meanMs: this.held === 0 ? 0 : this.lateSumMs / this.held, maxMs: this.lateMaxMs, over2Ms: this.lateOver2Ms };
    return { aToB: this.aToB.stats, bToA: this.bToA.stats, inFlight: this.heap.length, lateness };
  }

  /** Stops forwarding and closes both links. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.length = 0;
    await Promise.all([this.a.close(), this.b.close()]);
  }

  private forward(link: ImpairedLink, to: PacketLink, packet: Uint8Array): void {
    if (this.closed) return;
    const now = performance.now();
    for (const d of link.send(now, packet)) {
      if (d.time <= now && this.heap.length === 0) to.send(d.packet);
      else this.push({ time: d.time, order: this.order++, to, packet: d.packet });
    }
    this.arm(now);
  }

  private deliverDue(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.closed) return;
    const now = performance.now();
    while (this.heap.length > 0 && this.heap[0]!.time <= now) {
      const p = this.pop();
      this.countLateness(now - p.time);
      p.to.send(p.packet);
    }
    this.arm(now);
  }

  private countLateness(lateMs: number): void {
    this.held++;
    this.lateSumMs += lateMs;
    if (lateMs > this.lateMaxMs) this.lateMaxMs = lateMs;
    if (lateMs > 2) this.lateOver2Ms++;
  }

  private arm(now: Millis): void {
    if (this.heap.length === 0) return;
    const at = this.heap[0]!.time;
    if (this.timer !== undefined && at >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.deliverDue(), Math.max(0, Math.ceil(at - now)));
  }

  // A binary min-heap on (time, order): FIFO among equal times.
  private less(x: Pending, y: Pending): boolean {
    return x.time < y.time || (x.time === y.time && x.order < y.order);
  }

  private push(p: Pending): void {
    const h = this.heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Pending {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** One end of an in-memory pipe: what one end sends, the other receives (after the current tick, each turn's packets as one batch). */
class PipeEnd implements PacketLink {
  readonly counters = newCounters();
  onPacket: ((packet: Uint8Array) => void) | undefined;
  onBatch: ((open: boolean) => void) | undefined;
  other: PipeEnd | undefined;
  private readonly inbox = new NextTurnInbox((batch) => this.deliver(batch));
  private closed = false;

  constructor(
    readonly name: string,
    readonly mtu: number,
  ) {}

  send(packet: Uint8Array): void {
    const other = this.other;
    if (this.closed || other === undefined || other.closed || packet.length > this.mtu) {
      this.counters.dropsOut++;
      return;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    other.inbox.push(packet);
  }

  close(): Promise<void> {
    this.closed = true;
    this.inbox.clear();
    return Promise.resolve();
  }

  private deliver(batch: Uint8Array[]): void {
    // One turn's packets are one read burst, as a TUN device's or the loopback wire's: the
    // stack handles them all, then sends once (src/tcp/batch.ts). A synack stack behind the
    // relay then ACKs as it does on a TUN device, not once per second segment of a burst.
    inBatch(this.onBatch, () => {
      for (const p of batch) {
        if (this.closed) return;
        this.counters.packetsIn++;
        this.counters.bytesIn += p.length;
        this.onPacket?.(p);
      }
    });
  }
}

/** Two connected in-memory links, e.g. to put an in-process synack stack on one side of a relay. */
export function pipePair(mtu = 1500, names: [string, string] = ["pipe-a", "pipe-b"]): [PacketLink, PacketLink] {
  const x = new PipeEnd(names[0], mtu);
  const y = new PipeEnd(names[1], mtu);
  x.other = y;
  y.other = x;
  return [x, y];
}
