/**
 * Checks a finished run against its expectations. Each result says what was expected and
 * what happened, in the narration's terms (x+1, 3.000s, SYN_RCVD), so a failing scenario
 * reads like a bug report.
 */
import type { Millis } from "../env.js";
import type { EcnAction, LossAction, TcpState, TraceEvent } from "../trace/events.js";
import { formatTime } from "../trace/format.js";
import { WindowScales, type Direction } from "../trace/narrate/label.js";
import { SeqNames } from "../trace/seqnames.js";
import { SYN } from "../wire/tcp.js";
import type { AddressKey } from "../wire/address.js";
import { describeMatch, segmentMatches } from "./flags.js";
import { History, stateAt, type Incarnation } from "./history.js";
import type { ExpectSpec } from "./model.js";
import type { ScenarioRun } from "./runner.js";
import { toMillis } from "./time.js";

/** Drop reasons of the IP layer (src/ip/drops.ts) that concern whole datagrams. */
const IP_REASONS = new Set(["rcvbuf-full", "no-port", "frag-timeout", "frag-overlap", "frag-invalid", "frag-limit", "too-big"]);

export interface ExpectResult {
  ok: boolean;
  /** What was checked, e.g. "client: SYN_SENT > ESTABLISHED". */
  what: string;
  /** On failure: what actually happened. */
  got?: string;
}

type SegmentOut = Extract<TraceEvent, { type: "segment-out" }>;

export function checkExpectations(run: ScenarioRun): ExpectResult[] {
  const ctx = new Context(run);
  const results = (run.spec.expect ?? []).map((e) => ctx.check(e));
  // A failed call nobody expected is a failure too: the script did not do what it says.
  for (const err of run.callErrors) {
    const expected = (run.spec.expect ?? []).some((e) => e.expect === "call-error" && e.host === err.host && e.code === err.code);
    if (!expected) results.push({ ok: false, what: `no call fails`, got: `${err.host}: ${err.call} failed at ${formatTime(err.time)}: ${err.code} ${err.message}` });
  }
  return results;
}

class Context {
  private readonly history: History;
  private readonly names: SeqNames;
  private readonly addresses = new Map<string, AddressKey>();

  constructor(private readonly run: ScenarioRun) {
    this.history = new History(run.events);
    this.names = new SeqNames("relative", run.spec.hosts.map((h) => h.name));
    for (const c of run.spec.hosts) {
      const a = run.net.host(c.name).address;
      this.addresses.set(c.name, typeof a === "number" ? a : a.key);
    }
    for (const e of run.events) {
      if (e.type === "segment-out" && (e.segment.flags & SYN) !== 0) {
        this.names.addIsn(e.host, e.tuple.localAddr, e.tuple.localPort, e.tuple.remoteAddr, e.tuple.remotePort, e.segment.seq);
      }
    }
  }

  check(e: ExpectSpec): ExpectResult {
    switch (e.expect) {
      case "states":
        return this.states(e);
      case "state": {
        const inc = this.incarnation(e);
        const at = e.at !== undefined ? toMillis(e.at) : Infinity;
        const what = `${label(e)} is ${e.state}${e.at !== undefined ? ` at ${formatTime(at)}` : " at the end"}`;
        if (inc === undefined) return fail(what, `there is no such connection`);
        const got = stateAt(inc, at);
        return got === e.state ? pass(what) : fail(what, `it is ${got}`);
      }
      case "error": {
        const inc = this.incarnation(e);
        const what = e.code === "none" ? `${label(e)} ends without error` : `${label(e)} fails with ${e.code}${e.at !== undefined ? ` at ${formatTime(toMillis(e.at))}` : ""}`;
        if (inc === undefined) return fail(what, `there is no such connection`);
        const err = inc.events.map((x) => x.event).find((x): x is Extract<TraceEvent, { type: "error" }> => x.type === "error");
        if (e.code === "none") return err === undefined ? pass(what) : fail(what, `it failed with ${err.code} at ${formatTime(err.time)}`);
        if (err === undefined) return fail(what, `no error`);
        if (err.code !== e.code) return fail(what, `it failed with ${err.code}`);
        if (e.at !== undefined && err.time !== toMillis(e.at)) return fail(what, `it failed at ${formatTime(err.time)}`);
        return pass(what);
      }
      case "segment":
        return this.segment(e);
      case "segments": {
        const list = this.sent(e.from, e.to).filter((s) => segmentMatches(s.segment, e));
        const facts: string[] = [];
        if (e.count !== undefined) facts.push(`${e.count} sent`);
        if (e.times !== undefined) facts.push(`sent at ${e.times.map((t) => formatTime(toMillis(t))).join(", ") || "no time"}`);
        const what = `${describeMatch(e)} from ${e.from}${e.to !== undefined ? ` to ${e.to}` : ""}: ${facts.join(", ")}`;
        if (e.count !== undefined && list.length !== e.count) return fail(what, `${list.length} sent`);
        if (e.times !== undefined) {
          const want = e.times.map(toMillis);
          const got = list.map((s) => s.time);
          if (!sameList(want, got)) return fail(what, `sent at ${got.map(formatTime).join(", ") || "no time"}`);
        }
        return pass(what);
      }
      case "timer": {
        const inc = this.incarnation(e);
        // An empty list expects the timer never to be armed (or never to fire): say so.
        const armedText = e.armed === undefined ? "" : e.armed.length === 0 ? ", never armed" : `, armed for ${e.armed.map((t) => formatTime(toMillis(t))).join(", ")}`;
        const firedText = e.fired === undefined ? "" : e.fired.length === 0 ? ", never fired" : `, fired at ${e.fired.map((t) => formatTime(toMillis(t))).join(", ")}`;
        const what = `${label(e)} ${e.timer} timer${armedText}${firedText}`;
        if (inc === undefined) return fail(what, `there is no such connection`);
        const evs = inc.events.map((x) => x.event);
        const armed = evs.flatMap((x) => (x.type === "timer-armed" && x.timer === e.timer ? [x.at] : []));
        const fired = evs.flatMap((x) => (x.type === "timer-fired" && x.timer === e.timer ? [x.time] : []));
        if (e.armed !== undefined && !sameList(e.armed.map(toMillis), armed)) return fail(what, `armed for ${armed.map(formatTime).join(", ") || "nothing"}`);
        if (e.fired !== undefined && !sameList(e.fired.map(toMillis), fired)) return fail(what, `fired at ${fired.map(formatTime).join(", ") || "no time"}`);
        return pass(what);
      }
      case "received": {
        const app = this.run.apps.get(e.conn ?? e.host ?? "");
        const what = `${label(e)} read ${e.text !== undefined ? JSON.stringify(e.text) : ""}${e.bytes !== undefined ? `${e.bytes} bytes` : ""}${e.eof ? " and end of stream" : ""}${e.oob !== undefined ? `, and ${JSON.stringify(e.oob)} out of band` : ""}`;
        if (app === undefined) return fail(what, `there is no such connection`);
        if (e.bytes !== undefined && app.receivedBytes !== e.bytes) return fail(what, `read ${app.receivedBytes} bytes`);
        if (e.text !== undefined && app.text !== e.text) return fail(what, `read ${JSON.stringify(app.text.slice(0, 200))}`);
        if (e.eof !== undefined && app.eof !== e.eof) return fail(what, app.eof ? "saw end of stream" : "saw no end of stream");
        if (e.oob !== undefined && app.oob !== e.oob) return fail(what, `took ${JSON.stringify(app.oob)} out of band`);
        return pass(what);
      }
      case "count": {
        const at = toMillis(e.at);
        const n = this.history.ofHost(e.host).filter((inc) => this.created(inc) <= at && stateAt(inc, at) === e.state).length;
        const what = `${e.host} has ${bound(e)} connection${e.equals === 1 ? "" : "s"} in ${e.state} at ${formatTime(at)}`;
        return within(n, e) ? pass(what) : fail(what, `it has ${n}`);
      }
      case "drops": {
        // The IP layer's finer reasons ("rcvbuf-full", "frag-timeout") lead the detail of a drop event.
        const found = this.run.events.filter((x) =>
          e.host !== undefined
            ? x.type === "drop" && x.host === e.host && (x.reason === e.reason || (x.detail?.startsWith(`${e.reason}: `) ?? false))
            : x.type === "link" && x.action === "drop" && x.link === e.link && x.reason === e.reason,
        );
        const n = found.length;
        const unit = IP_REASONS.has(e.reason) ? "datagram" : "segment";
        const times = e.times?.map(toMillis);
        const what = `${e.host ?? e.link} drops ${bound(e)} ${unit}${e.equals === 1 ? "" : "s"} (${e.reason})${times !== undefined ? ` at ${times.map(formatTime).join(", ")}` : ""}`;
        if (!within(n, e)) return fail(what, `${n} dropped`);
        const got = found.map((x) => x.time);
        if (times !== undefined && !sameList(times, got)) return fail(what, `dropped at ${got.map(formatTime).join(", ") || "no time"}`);
        return pass(what);
      }
      case "recovery":
      case "ecn": {
        const found = this.run.events.filter((x) => (x.type === "loss" || x.type === "ecn") && x.type === (e.expect === "ecn" ? "ecn" : "loss") && x.host === e.host && x.action === e.action);
        const times = e.times?.map(toMillis);
        const words = e.expect === "ecn" ? ECN_WORDS[e.action] : RECOVERY_WORDS[e.action];
        const what = `${e.host} ${words} ${bound(e)} time${e.equals === 1 ? "" : "s"}${times !== undefined ? ` at ${times.map(formatTime).join(", ")}` : ""}`;
        if (!within(found.length, e)) return fail(what, `${found.length} times`);
        const got = found.map((x) => x.time);
        if (times !== undefined && !sameList(times, got)) return fail(what, `at ${got.map(formatTime).join(", ") || "no time"}`);
        return pass(what);
      }
      case "bbr": {
        const found = this.run.events.filter((x) => x.type === "bbr" && x.host === e.host && x.mode === e.mode);
        const times = e.times?.map(toMillis);
        const what = `${e.host}'s BBR enters ${e.mode.toUpperCase()} ${bound(e)} time${e.equals === 1 ? "" : "s"}${times !== undefined ? ` at ${times.map(formatTime).join(", ")}` : ""}`;
        if (!within(found.length, e)) return fail(what, `${found.length} times`);
        const got = found.map((x) => x.time);
        if (times !== undefined && !sameList(times, got)) return fail(what, `at ${got.map(formatTime).join(", ") || "no time"}`);
        return pass(what);
      }
      case "udp": {
        const app = this.run.udpApps.get(e.socket ?? e.host ?? "");
        const facts: string[] = [];
        if (e.sent !== undefined) facts.push(`sent ${e.sent}`);
        if (e.read !== undefined) facts.push(`read ${e.read}`);
        if (e.readBytes !== undefined) facts.push(`read ${e.readBytes} bytes`);
        if (e.dropped !== undefined) facts.push(`lost ${e.dropped} to a full receive buffer`);
        const what = `${e.socket ?? e.host ?? "?"} UDP socket: ${facts.join(", ") || "exists"}`;
        if (app === undefined) return fail(what, "there is no such socket");
        const s = app.socket.stats;
        const problems: string[] = [];
        if (e.sent !== undefined && app.sent !== e.sent) problems.push(`sent ${app.sent}`);
        if (e.read !== undefined && app.read !== e.read) problems.push(`read ${app.read}`);
        if (e.readBytes !== undefined && app.readBytes !== e.readBytes) problems.push(`read ${app.readBytes} bytes`);
        if (e.dropped !== undefined && s.receiveBufferDrops !== e.dropped) problems.push(`lost ${s.receiveBufferDrops}`);
        return problems.length === 0 ? pass(what) : fail(what, problems.join(", "));
      }
      case "counters": {
        const c = this.run.counters(e.host);
        const wanted: Array<[string, string, number, number | undefined]> = [];
        for (const group of ["udp", "ip", "icmp", "reassembly"] as const) {
          const table: Readonly<Record<string, number>> = { ...c[group] };
          for (const [k, v] of Object.entries(e[group] ?? {})) wanted.push([group, k, v, table[k]]);
        }
        const what = `${e.host} counters: ${wanted.map(([g, k, v]) => `${g}.${k} = ${v}`).join(", ")}`;
        const wrong = wanted.filter(([, , v, got]) => got !== v).map(([g, k, , got]) => `${g}.${k} = ${got ?? "no such counter"}`);
        return wrong.length === 0 ? pass(what) : fail(what, wrong.join(", "));
      }
      case "call-error": {
        const found = this.run.callErrors.filter((c) => c.host === e.host && c.code === e.code);
        const what = `a call on ${e.host} fails with ${e.code}${e.at !== undefined ? ` at ${formatTime(toMillis(e.at))}` : ""}`;
        if (found.length === 0) return fail(what, `no call failed with ${e.code}`);
        if (e.at !== undefined && !found.some((c) => c.time === toMillis(e.at!))) return fail(what, `it failed at ${found.map((c) => formatTime(c.time)).join(", ")}`);
        return pass(what);
      }
    }
  }

  private states(e: Extract<ExpectSpec, { expect: "states" }>): ExpectResult {
    const what = `${label(e)} went ${e.sequence.join(" > ")}`;
    let got: TcpState[];
    if (e.conn !== undefined) {
      const inc = this.incarnation(e);
      if (inc === undefined) return fail(what, `there is no such connection`);
      got = inc.events.flatMap(({ event }) => (event.type === "state" ? [event.to] : []));
    } else {
      got = this.run.events.flatMap((x) => (x.type === "state" && x.host === e.host ? [x.to] : []));
    }
    return sameList(e.sequence, got) ? pass(what) : fail(what, `it went ${got.join(" > ") || "nowhere"}`);
  }

  private segment(e: Extract<ExpectSpec, { expect: "segment" }>): ExpectResult {
    // `nth` counts every matching segment; `retransmit` is a fact checked about the one found.
    const all = this.sent(e.from, e.to).filter((s) => segmentMatches(s.segment, e));
    const nth = e.nth ?? 1;
    const s = nth > 0 ? all[nth - 1] : all[all.length + nth];
    const facts: string[] = [];
    if (e.at !== undefined) facts.push(`at ${formatTime(toMillis(e.at))}`);
    if (e.seq !== undefined) facts.push(`seq=${e.seq}`);
    if (e.ack !== undefined) facts.push(`ack=${e.ack}`);
    if (e.len !== undefined) facts.push(`len=${e.len}`);
    if (e.window !== undefined) facts.push(`win=${e.window}`);
    if (e.retransmit !== undefined) facts.push(e.retransmit ? "(a retransmission)" : "(not a retransmission)");
    const what = `${ordinal(nth)} ${describeMatch(e)} from ${e.from}${e.to !== undefined ? ` to ${e.to}` : ""}${facts.length > 0 ? `: ${facts.join(" ")}` : " is sent"}`;
    if (s === undefined) return fail(what, `only ${all.length} such segment${all.length === 1 ? " was" : "s were"} sent`);
    const t = s.tuple;
    const dir: Direction = { src: t.localAddr, srcPort: t.localPort, dst: t.remoteAddr, dstPort: t.remotePort };
    const gotSeq = this.names.name(s.segment.seq, dir.src, dir.srcPort, dir.dst, dir.dstPort);
    const gotAck = this.names.name(s.segment.ack, dir.dst, dir.dstPort, dir.src, dir.srcPort);
    const problems: string[] = [];
    if (e.at !== undefined && s.time !== toMillis(e.at)) problems.push(`sent at ${formatTime(s.time)}`);
    if (e.seq !== undefined && !sameSeq(e.seq, gotSeq, s.segment.seq)) problems.push(`seq=${gotSeq}`);
    if (e.ack !== undefined && !sameSeq(e.ack, gotAck, s.segment.ack)) problems.push(`ack=${gotAck}`);
    if (e.len !== undefined && s.segment.payload.length !== e.len) problems.push(`len=${s.segment.payload.length}`);
    if (e.urg !== undefined && s.segment.urgentPointer !== e.urg) problems.push(`urg=${s.segment.urgentPointer}`);
    if (e.retransmit !== undefined && s.retransmit !== e.retransmit) problems.push(s.retransmit ? "a retransmission" : "not a retransmission");
    if (e.window !== undefined) {
      const w = this.windowOf(s);
      if (w !== e.window) problems.push(`win=${w}`);
    }
    return problems.length === 0 ? pass(what) : fail(what, problems.join(" "));
  }

  /** The window of a sent segment in bytes, scaled as negotiated by the SYNs before it. */
  private windowOf(s: SegmentOut): number {
    const scales = new WindowScales();
    for (const x of this.run.events) {
      if (x === s) break;
      if (x.type === "segment-out" && (x.segment.flags & SYN) !== 0) {
        scales.observe({ src: x.tuple.localAddr, srcPort: x.tuple.localPort, dst: x.tuple.remoteAddr, dstPort: x.tuple.remotePort }, x.segment);
      }
    }
    return scales.bytes({ src: s.tuple.localAddr, srcPort: s.tuple.localPort, dst: s.tuple.remoteAddr, dstPort: s.tuple.remotePort }, s.segment);
  }

  private sent(from: string, to: string | undefined): SegmentOut[] {
    const dst = to !== undefined ? this.addresses.get(to) : undefined;
    return this.run.events.filter((x): x is SegmentOut => x.type === "segment-out" && x.host === from && (dst === undefined || x.tuple.remoteAddr.key === dst));
  }

  private incarnation(e: { conn?: string; host?: string }): Incarnation | undefined {
    const app = this.run.apps.get(e.conn ?? e.host ?? "");
    if (app === undefined) return undefined;
    return this.history.at(app.host, app.conn.tuple, app.eventIndex);
  }

  private created(inc: Incarnation): Millis {
    return this.run.events[inc.start]!.time;
  }
}

function pass(what: string): ExpectResult {
  return { ok: true, what };
}

function fail(what: string, got: string): ExpectResult {
  return { ok: false, what, got };
}

function label(e: { conn?: string; host?: string }): string {
  return e.conn ?? e.host ?? "?";
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameSeq(want: string | number, gotName: string, gotValue: number): boolean {
  return typeof want === "number" ? want >>> 0 === gotValue >>> 0 : want.replace(/\s+/g, "") === gotName;
}

function ordinal(n: number): string {
  if (n === -1) return "last";
  if (n < 0) return `${ordinal(-n)} from last`;
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}

type Bound = { equals?: number; atLeast?: number; atMost?: number };

function within(n: number, b: Bound): boolean {
  return (b.equals === undefined || n === b.equals) && (b.atLeast === undefined || n >= b.atLeast) && (b.atMost === undefined || n <= b.atMost);
}

function bound(b: Bound): string {
  if (b.equals !== undefined) return String(b.equals);
  if (b.atLeast !== undefined && b.atMost !== undefined) return `${b.atLeast} to ${b.atMost}`;
  return b.atLeast !== undefined ? `at least ${b.atLeast}` : `at most ${b.atMost}`;
}

/** How an ECN expectation reads in a check line. */
const ECN_WORDS: Record<EcnAction, string> = {
  negotiated: "agrees to use ECN",
  "ce-received": "receives data marked CE",
  "ece-received": "reduces its window for an ECE",
  "cwr-sent": "sends CWR",
  "cwr-received": "receives CWR",
};

/** How a recovery expectation reads in a check line. */
const RECOVERY_WORDS: Record<LossAction, string> = {
  "rack-lost": "marks segments lost by RACK",
  recovery: "starts fast recovery",
  tlp: "sends a tail loss probe",
  "tlp-recovery": "finds a loss by its probe",
  dsack: "receives a D-SACK",
  undo: "undoes a window reduction",
  mtu: "lowers its MSS to the path MTU",
  "mtu-probe": "probes the path MTU",
  frto: "runs F-RTO after a timeout",
};
