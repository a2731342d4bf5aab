/**
 * What the trace says at a cursor (an event index): each drawn host's TCP state and the
 * transition it took last, listener queues, and the series the plots draw. Pure functions
 * of the Session, shared by the views and the Node tests.
 */
import type { Millis } from "../../../src/env.js";
import type { TcpState, TraceEvent } from "../../../src/trace/events.js";
import { seqDiff, type Seq } from "../../../src/wire/seq.js";
import { snapshotAt, type Session } from "./session.js";

export interface HostState {
  state: TcpState;
  /** The last transition at or before the cursor, and the event index it happened at. */
  last?: { from: TcpState; to: TcpState; cause: string; index: number };
}

/** The state a host's column shows at event `index`: its latest connection's, LISTEN if it only listens. */
export function hostStateAt(session: Session, host: string, index: number): HostState {
  const addrs = new Set(session.columns.map((c) => c.address.key));
  let listening = false;
  let out: HostState = { state: "CLOSED" };
  for (let i = 0; i <= index && i < session.events.length; i++) {
    const e = session.events[i]!;
    if (e.type === "app" && e.host === host && e.call.startsWith("listen(")) listening = true;
    if (e.type === "state" && e.host === host && addrs.has(e.tuple.remoteAddr.key)) {
      out = { state: e.to, last: { from: e.from, to: e.to, cause: e.cause, index: i } };
    }
  }
  // A connection that closed leaves the listener behind.
  if (listening && out.state === "CLOSED") out = { ...out, state: "LISTEN" };
  if (listening && out.last === undefined) out.state = "LISTEN";
  return out;
}

export interface QueueState {
  port: number;
  syn: number;
  accept: number;
  synLimit: number;
  backlog: number;
  synDrops: number;
  acceptDrops: number;
  cookiesSent: number;
}

/** Listener queues of a host at event `index`: lengths from the queue events, limits and counters from the snapshot. */
export function queuesAt(session: Session, host: string, index: number): QueueState[] {
  const t = session.events[Math.min(index, session.events.length - 1)]?.time ?? 0;
  const snap = snapshotAt(session, t)?.hosts[host];
  const out = new Map<number, QueueState>();
  for (const l of snap?.listeners ?? []) out.set(l.port, { ...l });
  const found = new Set<number>();
  for (let i = index; i >= 0 && found.size < out.size; i--) {
    const e = session.events[i];
    if (e === undefined || e.type !== "queue" || e.host !== host || found.has(e.port)) continue;
    const q = out.get(e.port);
    if (q === undefined) continue;
    q.syn = e.synQueue;
    q.accept = e.acceptQueue;
    found.add(e.port);
  }
  return [...out.values()];
}

export interface Point {
  t: Millis;
  v: number;
}

export interface Series {
  name: string;
  points: Point[];
  /** Drawn as steps (a value holds until the next point). */
  step: boolean;
}

const INFINITE = 1e15;

/** cwnd and ssthresh of `host`'s connections to drawn hosts (ssthresh only once it is finite). */
export function cwndSeries(session: Session, host: string): Series[] {
  const addrs = new Set(session.columns.map((c) => c.address.key));
  const cwnd: Point[] = [];
  const ssthresh: Point[] = [];
  for (const e of session.events) {
    if (e.type !== "cwnd" || e.host !== host || !addrs.has(e.tuple.remoteAddr.key)) continue;
    cwnd.push({ t: e.time, v: e.cwnd });
    if (e.ssthresh < INFINITE) ssthresh.push({ t: e.time, v: e.ssthresh });
  }
  return [
    { name: "cwnd", points: cwnd, step: true },
    { name: "ssthresh", points: ssthresh, step: true },
  ];
}

export function rttSeries(session: Session, host: string): Series[] {
  const sample: Point[] = [];
  const srtt: Point[] = [];
  const rto: Point[] = [];
  for (const e of session.events) {
    if (e.type !== "rtt" || e.host !== host) continue;
    sample.push({ t: e.time, v: e.sample });
    srtt.push({ t: e.time, v: e.srtt });
    rto.push({ t: e.time, v: e.rto });
  }
  return [
    { name: "RTT sample", points: sample, step: false },
    { name: "SRTT", points: srtt, step: true },
    { name: "RTO", points: rto, step: true },
  ];
}

/** Bytes in flight (SND.NXT - SND.UNA) of a host's connection, from the snapshots. */
export function inflightSeries(session: Session, host: string): Series[] {
  const pts: Point[] = [];
  for (const s of session.snapshots) {
    const c = s.hosts[host]?.conns[0];
    pts.push({ t: s.time, v: c === undefined ? 0 : Math.max(0, seqDiff(c.sndNxt, c.sndUna)) });
  }
  return [{ name: "bytes in flight", points: dedupe(pts), step: true }];
}

export function queueSeries(session: Session, host: string): Series[] {
  const syn: Point[] = [];
  const acc: Point[] = [];
  for (const e of session.events) {
    if (e.type !== "queue" || e.host !== host) continue;
    syn.push({ t: e.time, v: e.synQueue });
    acc.push({ t: e.time, v: e.acceptQueue });
  }
  return [
    { name: "SYN queue", points: dedupe(syn), step: true },
    { name: "accept queue", points: dedupe(acc), step: true },
  ];
}

/** Points where the value changes (a flood repeats the same queue length thousands of times). */
function dedupe(points: Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last !== undefined && last.v === p.v) continue;
    if (last !== undefined && last.t === p.t) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}

/** Stevens' time-sequence graph of what `host` sends: segments (relative to its ISN), the ACKs and SACK blocks it gets back. */
export interface TimeSeq {
  segments: Array<{ t: Millis; from: number; to: number; retransmit: boolean; lost: boolean }>;
  acks: Point[];
  sacks: Array<{ t: Millis; from: number; to: number }>;
}

export function timeSequence(session: Session, host: string): TimeSeq {
  const out: TimeSeq = { segments: [], acks: [], sacks: [] };
  let isn: Seq | undefined;
  for (const r of session.segments) {
    if (r.from !== host || r.toCol < 0) continue;
    if (isn === undefined && (r.seg.flags & 2) !== 0) isn = r.seg.seq;
    if (isn === undefined || r.seg.payload.length === 0) continue;
    const from = seqDiff(r.seg.seq, isn);
    out.segments.push({ t: r.time, from, to: from + r.seg.payload.length, retransmit: r.retransmit, lost: r.fate !== "delivered" });
  }
  if (isn === undefined) return out;
  const base = isn;
  for (const e of session.events as TraceEvent[]) {
    if (e.type !== "segment-in" || e.host !== host || (e.segment.flags & 0x10) === 0) continue;
    out.acks.push({ t: e.time, v: seqDiff(e.segment.ack, base) });
    for (const b of e.segment.options.sackBlocks ?? []) out.sacks.push({ t: e.time, from: seqDiff(b.left, base), to: seqDiff(b.right, base) });
  }
  out.acks = dedupe(out.acks);
  return out;
}

/** The next step (after `k`) that shows a flagged segment: lost, corrupted, retransmitted, dropped, or with tcp.analysis flags. */
export function nextFlaggedStep(session: Session, k: number): number | undefined {
  for (let j = k + 1; j < session.steps.length; j++) {
    const id = session.segmentAt.get(session.steps[j]!);
    if (id === undefined) continue;
    const r = session.segments[id]!;
    if (r.fate !== "delivered" || r.retransmit || r.dropped !== undefined || (r.verdict?.flags.length ?? 0) > 0) return j;
  }
  return undefined;
}

/** The step whose event is at or just before event index `index`. */
export function stepOfEvent(session: Session, index: number): number {
  let lo = 0;
  let hi = session.steps.length - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (session.steps[mid]! <= index) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

/** The step at or just before time t. */
export function stepAtTime(session: Session, t: Millis): number {
  let best = 0;
  for (let k = 0; k < session.steps.length; k++) {
    if (session.events[session.steps[k]!]!.time <= t) best = k;
    else break;
  }
  return best;
}

/** The connection a host's views show: its newest one to a drawn host (the second incarnation after TIME_WAIT reuse). */
export function mainConn(session: Session, host: string, t: Millis): import("../../../src/tcp/connection.js").ConnectionInfo | undefined {
  const conns = snapshotAt(session, t)?.hosts[host]?.conns ?? [];
  const live = conns.filter((c) => c.state !== "TIME_WAIT" && c.state !== "CLOSED");
  return live[live.length - 1] ?? conns[conns.length - 1];
}
