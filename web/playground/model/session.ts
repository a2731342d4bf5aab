/**
 * One run of a scenario, prepared for the views: the trace events, the packets as sent
 * (for pcapng and the hex view), each segment matched with its arrival and its cause,
 * read-only snapshots of the connections and listeners, and the narration rows.
 *
 * Everything here is derived from the trace (and the stack's read-only `inspect()`); the
 * views never run engine logic. Runtime-neutral: Node tests build the same Session and
 * compare its hash with the page's.
 */
import type { Millis } from "../../../src/env.js";
import type { ScenarioSpec } from "../../../src/scenario/model.js";
import { ScenarioRun } from "../../../src/scenario/runner.js";
import type { ConnectionInfo } from "../../../src/tcp/connection.js";
import type { FourTuple, TraceEvent } from "../../../src/trace/events.js";
import { eventJsonLine } from "../../../src/trace/jsonl.js";
import { buildRows } from "../../../src/trace/narrate/build.js";
import { segmentLabel, WindowScales, type Direction } from "../../../src/trace/narrate/label.js";
import type { NarrateHost, Row } from "../../../src/trace/narrate/model.js";
import { SeqNames } from "../../../src/trace/seqnames.js";
import { parseIpv4 } from "../../../src/wire/ipv4.js";
import type { AddressKey, IpAddress } from "../../../src/wire/address.js";
import { ACK, FIN, RST, SYN, flagNames, type TcpSegment } from "../../../src/wire/tcp.js";
import { Fnv64 } from "./hash.js";
import { findCookies, type CookieView, type DecodeCookie } from "./cookies.js";
import { gapPx, TOP_PX } from "./timeaxis.js";
import { verdicts, type Verdict } from "./verdict.js";

export type Fate = "delivered" | "lost" | "corrupted" | "unanswered";

/** A segment on the wire: when it left, whether and when it arrived, and why it was sent. */
export interface SegmentRecord {
  id: number;
  /** Event index of the segment-out. */
  out: number;
  /** Event index of its (first) arrival, if it arrived. */
  in?: number;
  from: string;
  to: string;
  /** Columns of the diagram (only segments between drawn hosts are recorded). */
  fromCol: number;
  toCol: number;
  time: Millis;
  arrive?: Millis;
  tuple: FourTuple;
  seg: TcpSegment;
  retransmit: boolean;
  fate: Fate;
  /** What the link did: "lost (link-loss)", "duplicated", "delayed", "corrupted". */
  link: string[];
  /** In the documents' notation: `SYN,ACK seq=y ack=x+1 win=65535 ...`. */
  label: string;
  /** The stack's own reason for sending it. */
  reason: string;
  /** Event index of what caused it (a timer, an arrival, an application call). */
  cause?: number;
  /** The IP packet as sent. */
  bytes?: Uint8Array;
  /** What a what-if needs to single this packet out: the nth with these flags on this path. */
  match: { flags: string; data: boolean; nth: number };
  /** Dropped by the receiver after it arrived (bad checksum, out of window ...). */
  dropped?: string;
  /** Wireshark's tcp.analysis flags for it, from the capture alone (model/verdict.ts). */
  verdict?: Verdict;
  /** The SYN cookie it carries, decoded by the listener (model/cookies.ts). */
  cookie?: CookieView;
}

export interface ListenerSnap {
  port: number;
  syn: number;
  synLimit: number;
  accept: number;
  backlog: number;
  synDrops: number;
  acceptDrops: number;
  cookiesSent: number;
}

export interface Snapshot {
  /** The state at the end of this instant of virtual time. */
  time: Millis;
  hosts: Record<string, { listeners: ListenerSnap[]; conns: ConnectionInfo[] }>;
}

/** A packet the simulator sent (captured as it left the sender), for pcapng. */
export interface PacketRecord {
  time: Millis;
  from: string;
  to: string;
  bytes: Uint8Array;
  segment?: number;
}

export interface Session {
  spec: ScenarioSpec;
  seed: number;
  events: TraceEvent[];
  columns: NarrateHost[];
  segments: SegmentRecord[];
  /** Segment id by segment-out event index. */
  segmentAt: Map<number, number>;
  /** Segment id by segment-in event index. */
  arrivalAt: Map<number, number>;
  packets: PacketRecord[];
  snapshots: Snapshot[];
  /** Event indices worth stepping to: what happens between the drawn hosts. */
  steps: number[];
  rows: Row[];
  /** Hash of the JSON event log: the same in Node and in the browser for the same run (computed on first use). */
  readonly hash: string;
  endTime: Millis;
  /** False for the first part of a run still going (SessionRun.partial): the rest is coming. */
  complete: boolean;
}

export function runSession(spec: ScenarioSpec): Session {
  return new SessionRun(spec).finish();
}

/**
 * A scenario run that can be taken a slice of virtual time at a time, so the page can draw
 * the first screen of a long run (a SYN flood's 49,000 events) before the rest is done,
 * and stay responsive meanwhile. The events are the same as one uninterrupted run's: the
 * simulator only stops between events (SimNetwork.run's `until`).
 */
export class SessionRun {
  readonly spec: ScenarioSpec;
  readonly seed: number;
  private readonly run: ScenarioRun;
  private readonly events: TraceEvent[] = [];
  private readonly packets: PacketRecord[] = [];
  private readonly snapshots: Snapshot[] = [];
  private readonly focus: ReadonlySet<string>;
  private readonly focusAddr: ReadonlySet<AddressKey>;
  /** Where the last step so far sits on the diagram's time axis (as TimeAxis places it), and its time. */
  private axisY = -1;
  private lastStepTime: Millis = 0;
  private instant = -1;
  private dirty = false;
  private over = false;
  private result: Session | undefined;

  constructor(spec: ScenarioSpec) {
    this.spec = spec;
    const focus = new Set(spec.narrate?.focus ?? spec.hosts.map((h) => h.name));
    const focusAddr = new Set<AddressKey>();
    for (const h of spec.hosts) if (focus.has(h.name)) focusAddr.add(addressOf(h.address));
    this.focus = focus;
    this.focusAddr = focusAddr;
    let ready = false;
    this.run = new ScenarioRun(spec, {
      onEvent: (e) => {
        // A new instant begins: what the stack holds now is the end of the previous one.
        if (e.time !== this.instant) {
          if (this.dirty && ready) this.snapshots.push(this.snapshot(this.instant));
          this.instant = e.time;
          this.dirty = false;
        }
        const shown = inFocus(e, focus, focusAddr);
        if (shown) this.dirty = true;
        if (isStep(e, shown)) {
          this.axisY = this.axisY < 0 ? TOP_PX : this.axisY + gapPx(e.time - this.lastStepTime);
          this.lastStepTime = e.time;
        }
        this.events.push(e);
      },
      recorder: (p) => {
        if (p.event !== "send") return;
        const events = this.events;
        const last = events[events.length - 1];
        const rec: PacketRecord = { time: p.time, from: p.from, to: p.to, bytes: p.bytes };
        if (last !== undefined && last.type === "segment-out" && last.host === p.from && last.time === p.time) rec.segment = events.length - 1;
        this.packets.push(rec);
      },
    });
    ready = true;
    this.seed = this.run.seed;
  }

  /** Whether the run is over (finish() has nothing left to do). */
  get done(): boolean {
    return this.over;
  }

  /** Events so far. */
  get eventCount(): number {
    return this.events.length;
  }

  /** Virtual time reached so far. */
  get now(): Millis {
    return this.run.now;
  }

  /** Height of the diagram's time axis for the steps so far, at zoom 1 (views/ladder.ts). */
  axisHeight(): number {
    return this.axisY < 0 ? 0 : this.axisY + TOP_PX;
  }

  /** Runs the next `ms` of virtual time (everything due up to now + ms). Returns whether the run is over. */
  advance(ms: Millis): boolean {
    if (this.over) return true;
    if (this.run.advanceTo(this.run.now + ms)) this.over = true;
    return this.over;
  }

  /**
   * The session of the events so far, for a first screen: correct up to the last event run
   * (segments still in flight show as unanswered; what a later SYN would name stays a number).
   */
  partial(): Session {
    if (this.result !== undefined) return this.result;
    const snapshots = this.dirty || this.snapshots.length === 0 ? [...this.snapshots, this.snapshot(this.instant < 0 ? 0 : this.instant)] : this.snapshots.slice();
    return this.build(this.events.slice(), this.packets.slice(), snapshots, false);
  }

  /** Runs to the end and returns the whole session. */
  finish(): Session {
    if (this.result !== undefined) return this.result;
    this.run.finish();
    this.over = true;
    if (this.dirty || this.snapshots.length === 0) this.snapshots.push(this.snapshot(this.instant < 0 ? 0 : this.instant));
    this.dirty = false;
    return (this.result = this.build(this.events, this.packets, this.snapshots));
  }

  private build(events: TraceEvent[], packets: PacketRecord[], snapshots: Snapshot[], complete = true): Session {
    const run = this.run;
    return buildSession({
      complete,
      spec: this.spec,
      seed: run.seed,
      events,
      columns: run.columns,
      packets,
      snapshots,
      focus: this.focus,
      focusAddr: this.focusAddr,
      decodeCookie: (host, now, tuple, cookie, isn) => run.tcpHost(host)?.tcp.decodeCookie(now, tuple, cookie, isn),
    });
  }

  /** What the drawn hosts hold now: their listeners, and their connections to each other. */
  private snapshot(time: Millis): Snapshot {
    const hosts: Snapshot["hosts"] = {};
    for (const name of this.focus) {
      const h = this.run.tcpHost(name);
      if (h === undefined) continue;
      hosts[name] = {
        listeners: h.tcp.allListeners().map((l) => ({ port: l.port, syn: l.synQueue.size, synLimit: l.synQueueLimit, accept: l.acceptQueue.length, backlog: l.backlog, synDrops: l.synQueueDrops, acceptDrops: l.acceptQueueDrops, cookiesSent: l.cookiesSent })),
        // allSockets: TIME_WAIT entries are compact records, not connections (src/tcp/time-wait.ts).
        conns: h.tcp.socketsTo(this.focusAddr).map((s) => s.info),
      };
    }
    return { time, hosts };
  }
}

/** An event of a drawn host about a drawn peer (or about no connection): what the views show. */
function inFocus(e: TraceEvent, focus: ReadonlySet<string>, focusAddr: ReadonlySet<AddressKey>): boolean {
  if (!("host" in e) || !focus.has(e.host)) return false;
  const tuple = "tuple" in e ? e.tuple : undefined;
  return tuple === undefined || focusAddr.has(tuple.remoteAddr.key);
}

/** Whether the timeline stops at an event (`shown`: it is in focus). */
function isStep(e: TraceEvent, shown: boolean): boolean {
  if (!shown && !(e.type === "app" && e.host === "script")) return false;
  if (e.type === "segment-out" || e.type === "segment-in" || e.type === "state" || e.type === "timer-fired" || e.type === "app" || e.type === "error" || e.type === "cookie") return true;
  return e.type === "drop" && e.tuple !== undefined;
}

/** What a run produced, before the views' derivations: a simulated scenario's, or a live stack's (model/live-session.ts). */
export interface RawRun {
  spec: ScenarioSpec;
  seed: number;
  events: TraceEvent[];
  columns: NarrateHost[];
  packets: PacketRecord[];
  snapshots: Snapshot[];
  /** The hosts drawn, and their addresses: only events between them are stepped to. */
  focus: ReadonlySet<string>;
  focusAddr: ReadonlySet<AddressKey>;
  /** Decodes a SYN cookie with the listener's secret (absent: cookies are not decoded). */
  decodeCookie?: DecodeCookie;
  /** False: the run is still going and these are its first events (default true). */
  complete?: boolean;
}

/** Segments matched with arrivals and causes, Wireshark's verdicts, cookies, steps and narration, from a run's trace. */
export function buildSession(raw: RawRun): Session {
  const { spec, events, columns, packets, focus, focusAddr } = raw;
  const segments = matchSegments(events, columns, packets, focus);
  const segmentAt = new Map<number, number>();
  const arrivalAt = new Map<number, number>();
  for (const s of segments) {
    segmentAt.set(s.out, s.id);
    if (s.in !== undefined) arrivalAt.set(s.in, s.id);
  }
  // Wireshark's analysis keeps each conversation apart, so analysing only the packets between
  // drawn hosts gives them the verdicts the whole capture would (a flood's thousands of spoofed
  // conversations are not drawn and need none).
  const drawn = new Set(columns.map((c) => c.name));
  const shown = packets.filter((p) => drawn.has(p.from) && drawn.has(p.to));
  const byPacket = shown.map((p) => (p.segment !== undefined ? segmentAt.get(p.segment) : undefined));
  for (const [id, v] of verdicts(shown, byPacket, segments)) segments[id]!.verdict = v;
  if (raw.decodeCookie !== undefined) for (const [id, c] of findCookies(events, segments, raw.decodeCookie)) segments[id]!.cookie = c;
  const steps: number[] = [];
  events.forEach((e, i) => {
    if (isStep(e, inFocus(e, focus, focusAddr))) steps.push(i);
  });
  const { rows } = buildRows(events, { hosts: columns, seq: "relative", explain: true, focus: [...focus] });
  // The hash costs a JSON line per event (a SYN flood has ~50,000): taken when first asked for,
  // so the page can draw first and fill in the footer after.
  let hash: string | undefined;
  return {
    spec, seed: raw.seed, events, columns, segments, segmentAt, arrivalAt, packets, snapshots: raw.snapshots, steps, rows,
    get hash() {
      return (hash ??= eventLogHash(events));
    },
    endTime: events.length > 0 ? events[events.length - 1]!.time : 0,
    complete: raw.complete !== false,
  };
}

/** The hash of the JSON event log (the lines of `--json` with payloads, joined by "\n"), taken line by line. */
function eventLogHash(events: readonly TraceEvent[]): string {
  const hasher = new Fnv64();
  events.forEach((e, i) => hasher.update(i === 0 ? eventJsonLine(e, { payloadHex: true }) : `\n${eventJsonLine(e, { payloadHex: true })}`));
  return hasher.digest();
}

function addressOf(dotted: string): number {
  const p = dotted.split(".").map(Number);
  return (((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0);
}

/** Pairs each segment-out with its arrival, reads its fate from the link events after it and finds its cause. */
function matchSegments(events: readonly TraceEvent[], columns: readonly NarrateHost[], packets: readonly PacketRecord[], focus: ReadonlySet<string>): SegmentRecord[] {
  const colOf = new Map(columns.map((c, i) => [c.name, i]));
  const nameOf = new Map(columns.map((c) => [c.address.key, c.name]));
  const names = new SeqNames("relative", columns.map((c) => c.name));
  const windows = new WindowScales();
  // A drawn host's ISNs are named in the order it sent them, undrawn peers included (the
  // server's SYN,ACK to the client in a flood is y201); an undrawn host's name nothing drawn.
  for (const e of events) {
    if (e.type === "segment-out" && (e.segment.flags & SYN) !== 0 && focus.has(e.host)) names.addIsn(e.host, e.tuple.localAddr, e.tuple.localPort, e.tuple.remoteAddr, e.tuple.remotePort, e.segment.seq);
  }
  const bytesOf = new Map<number, Uint8Array>();
  const nthOf = new Map<number, number>();
  const counts = new Map<string, number>();
  for (const p of packets) {
    // Only packets between drawn hosts become records; a flood's spoofed ones are skipped unparsed.
    if (!focus.has(p.from) || !colOf.has(p.to)) continue;
    const seg = tcpFlagsOf(p.bytes);
    if (seg === undefined) continue;
    const key = `${p.from}>${p.to} ${seg.flags} ${seg.data}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (p.segment !== undefined) {
      bytesOf.set(p.segment, p.bytes);
      nthOf.set(p.segment, n);
    }
  }
  const out: SegmentRecord[] = [];
  const pending = new Map<string, SegmentRecord[]>();
  const byDrop = new Map<number, SegmentRecord>();
  /** Addresses the recorded segments were sent from: arrivals from anywhere else match nothing. */
  const senders = new Set<AddressKey>();
  events.forEach((e, i) => {
    if (e.type === "segment-out") {
      // Segments between drawn hosts only: the diagram has no column for anything else (a
      // flood's SYN,ACKs to spoofed addresses; the pcapng export describes those itself).
      const to = nameOf.get(e.tuple.remoteAddr.key);
      const fromCol = colOf.get(e.host);
      const toCol = to === undefined ? undefined : colOf.get(to);
      if (!focus.has(e.host) || to === undefined || fromCol === undefined || toCol === undefined) return;
      const d: Direction = { src: e.tuple.localAddr, srcPort: e.tuple.localPort, dst: e.tuple.remoteAddr, dstPort: e.tuple.remotePort };
      windows.observe(d, e.segment);
      const sent = describeSend(events, i);
      const rec: SegmentRecord = {
        id: out.length,
        out: i,
        from: e.host,
        to,
        fromCol,
        toCol,
        time: e.time,
        tuple: e.tuple,
        seg: e.segment,
        retransmit: e.retransmit,
        fate: sent.lost ? "lost" : "unanswered",
        link: sent.link,
        label: segmentLabel(e.segment, d, names, windows),
        reason: sent.reason,
        match: { flags: flagNames(e.segment.flags), data: e.segment.payload.length > 0, nth: nthOf.get(i) ?? 1 },
      };
      const bytes = bytesOf.get(i);
      if (bytes !== undefined) rec.bytes = bytes;
      if (sent.cause !== undefined) rec.cause = sent.cause;
      out.push(rec);
      if (rec.fate !== "lost") {
        senders.add(e.tuple.localAddr.key);
        const k = wireKey(e.tuple.localAddr, e.tuple.localPort, e.tuple.remoteAddr, e.tuple.remotePort, e.segment);
        const list = pending.get(k) ?? [];
        list.push(rec);
        pending.set(k, list);
      }
    } else if (e.type === "segment-in") {
      if (!senders.has(e.tuple.remoteAddr.key)) return;
      const k = wireKey(e.tuple.remoteAddr, e.tuple.remotePort, e.tuple.localAddr, e.tuple.localPort, e.segment);
      const rec = pending.get(k)?.shift();
      if (rec === undefined) return;
      rec.in = i;
      rec.arrive = e.time;
      rec.fate = "delivered";
      byDrop.set(i, rec);
    } else if (e.type === "drop" && e.segment !== undefined) {
      // A drop right after an arrival at the same host and time belongs to that segment.
      for (let j = i - 1; j >= 0 && events[j]!.time === e.time; j--) {
        const rec = byDrop.get(j);
        if (rec !== undefined && rec.to === e.host) {
          rec.dropped = e.reason;
          break;
        }
      }
    }
  });
  // Sent but never seen again: a corrupted copy dies at the receiver's checksum.
  for (const rec of out) {
    if (rec.fate === "unanswered" && rec.link.includes("corrupted")) rec.fate = "corrupted";
  }
  return out;
}

/** What the link did to segment-out `i`, and why the stack sent it (with the event that made it). */
export function describeSend(events: readonly TraceEvent[], i: number): { link: string[]; lost: boolean; reason: string; cause?: number } {
  const e = events[i]!;
  if (e.type !== "segment-out") throw new RangeError(`event ${i} is not a segment-out`);
  const link: string[] = [];
  let lost = false;
  // The link's verdict follows at once, in the same transmit call.
  for (let j = i + 1; j < events.length; j++) {
    const l = events[j]!;
    if (l.type !== "link") break;
    if (l.action === "drop") {
      lost = true;
      link.push(`lost (${l.reason})`);
    } else link.push(l.action === "corrupt" ? "corrupted" : l.action === "duplicate" ? "duplicated" : `delayed (${l.reason})`);
  }
  const cause = findCause(events, i);
  const reason = reasonFor(e.segment, e.retransmit, cause === undefined ? undefined : events[cause]);
  return cause === undefined ? { link, lost, reason } : { link, lost, reason, cause };
}

function wireKey(src: IpAddress, sport: number, dst: IpAddress, dport: number, s: TcpSegment): string {
  return `${src}:${sport}>${dst}:${dport} ${s.seq} ${s.ack} ${s.flags} ${s.payload.length} ${s.window}`;
}

/** The TCP flags of an IPv4 packet and whether it carries data, read in place (a SYN flood sends ~15,000 packets). */
function tcpFlagsOf(packet: Uint8Array): { flags: number; data: boolean } | undefined {
  const ip = parseIpv4(packet, { verifyChecksum: false });
  if (!ip.ok || ip.value.header.protocol !== 6 || ip.value.header.fragmentOffset !== 0) return undefined;
  const tcp = ip.value.payload;
  if (tcp.length < 20) return undefined;
  return { flags: tcp[13]!, data: tcp.length > (tcp[12]! >> 4) * 4 };
}

const sameTuple = (a: FourTuple | undefined, b: FourTuple): boolean =>
  a !== undefined && a.localAddr.equals(b.localAddr) && a.localPort === b.localPort && a.remoteAddr.equals(b.remoteAddr) && a.remotePort === b.remotePort;

/**
 * The event that made the stack send segment-out `i`: looking back through the same host's
 * events of the same instant, the timer that fired, the segment that arrived or the
 * application call. (Segments sent in one burst share their cause.)
 */
export function findCause(events: readonly TraceEvent[], i: number): number | undefined {
  const e = events[i]!;
  if (e.type !== "segment-out") return undefined;
  for (let j = i - 1; j >= 0; j--) {
    const c = events[j]!;
    if (c.time !== e.time) break;
    if (!("host" in c) || c.host !== e.host) continue;
    if (c.type === "timer-fired" && sameTuple(c.tuple, e.tuple)) return j;
    if (c.type === "segment-in" && (sameTuple(c.tuple, e.tuple) || c.tuple.localPort === e.tuple.localPort)) return j;
    if (c.type === "app") return j;
  }
  return undefined;
}

function reasonFor(s: TcpSegment, retransmit: boolean, cause: TraceEvent | undefined): string {
  const what = (s.flags & SYN) !== 0 ? ((s.flags & ACK) !== 0 ? "SYN,ACK" : "SYN") : (s.flags & RST) !== 0 ? "RST" : (s.flags & FIN) !== 0 ? (s.payload.length > 0 ? "data and FIN" : "FIN") : s.payload.length > 0 ? `${s.payload.length} bytes of data` : "ACK";
  if (cause === undefined) return retransmit ? `retransmission of ${what}` : what;
  switch (cause.type) {
    case "timer-fired":
      if (cause.timer === "rto" || cause.timer === "syn-ack") return `retransmission of ${what}: the retransmission timer expired (expiry ${cause.backoff + 1})`;
      // With data it is sender SWS avoidance's override: the window was open but smaller than a segment.
      if (cause.timer === "persist") return s.payload.length > 0 ? `${what} that fit the small window: the persist timer expired (sender SWS avoidance holds a runt until then)` : `zero-window probe: the persist timer expired (expiry ${cause.backoff + 1})`;
      if (cause.timer === "keepalive") return `keep-alive probe: the keep-alive timer fired`;
      if (cause.timer === "delayed-ack") return `delayed ACK: the 40 ms timer fired`;
      return `${what}: the ${cause.timer} timer fired`;
    case "segment-in": {
      const got = flagNames(cause.segment.flags) || "segment";
      const len = cause.segment.payload.length > 0 ? ` with ${cause.segment.payload.length} bytes` : "";
      // A SYN arriving again means the peer never got our SYN,ACK; it is resent (as Linux's tcp_check_req does).
      if (retransmit && (cause.segment.flags & SYN) !== 0) return `retransmission of ${what}: the peer's ${got} arrived again`;
      if (retransmit) return `fast retransmission of ${what}: the ${got}${len} that arrived signalled a loss`;
      if ((s.flags & RST) !== 0) return `RST answering a ${got}${len} no connection accepts`;
      if ((s.flags & (SYN | ACK)) === (SYN | ACK)) return `SYN,ACK answering the SYN`;
      return `${what} in answer to the ${got}${len} that arrived`;
    }
    case "app":
      return `${what} because the application called ${cause.call}${cause.detail !== undefined ? ` ${cause.detail}` : ""}`;
    default:
      return what;
  }
}

/** The snapshot in force at time t (the latest taken at or before it). */
export function snapshotAt(session: Session, t: Millis): Snapshot | undefined {
  const s = session.snapshots;
  let lo = 0;
  let hi = s.length - 1;
  let best: Snapshot | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid]!.time <= t) {
      best = s[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}
