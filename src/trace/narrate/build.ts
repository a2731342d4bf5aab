/**
 * Turns a trace event stream into the rows of a sequence diagram.
 *
 * Each segment sent becomes an arrow at the time it left. Its fate is read from the link
 * events the simulator emits right after it (synchronously, in the same transmit call):
 * lost, duplicated, corrupted or held. Its arrival is matched to the `segment-in` event at
 * the receiver; what happens there (state changes, drops, errors) is gathered into one row
 * at the receiver at arrival time. Application calls and timer expiries open rows the same
 * way, so "a cause and everything it changed" is always one row.
 */
import type { Millis } from "../../env.js";
import { ACK, SYN, flagNames, type TcpSegment } from "../../wire/tcp.js";
import type { FourTuple, TcpState, TraceEvent } from "../events.js";
import { connectionKey, formatDuration, formatTime } from "../format.js";
import { SeqNames, type SeqMode } from "../seqnames.js";
import { HiddenTraffic } from "./hidden.js";
import { explainFragmentLost, explainIcmp, explainUdpCall, explainUdpIn, explainUdpLost, icmpName, ipDropReason, reassemblyTimeoutNote } from "./udp.js";
import { ArrivalExplainer } from "./arrival.js";
import { describeKnowledge, explainCall, explainDrop, explainTimer, explainTransition, freshKnowledge, learn, type Knowledge } from "./knowledge.js";
import { segmentLabel, WindowScales, type Direction } from "./label.js";
import type { NarrateHost, Note, Row, Tone } from "./model.js";
import type { AddressKey, IpAddress } from "../../wire/address.js";

export interface BuildOptions {
  hosts: readonly NarrateHost[];
  seq: SeqMode;
  explain: boolean;
  /** Hosts whose traffic between each other is drawn; everything else is summarised. Default: all. */
  focus?: readonly string[];
}

/** A segment on its way, waiting to be matched with its arrival. */
interface InFlight {
  dir: Direction;
  seg: TcpSegment;
  fromCol: number;
  corrupted: boolean;
}

/** The row being gathered: one cause (arrival, call, timer) at one host and time. */
interface OpenRow {
  row: Row;
  host: string;
  time: Millis;
  tuple: FourTuple | undefined;
  meaning: string | undefined;
  priority: number;
  /** Kept even with nothing to show when explaining (an arrival the reader should hear about). */
  keepForExplain: boolean;
  /** The row already says why the datagram was dropped: the drop event that follows adds nothing. */
  absorbDrop?: boolean;
}

/** A UDP datagram on its way, numbered per sender (#1, #2 ...) so its arrival can say which it was. */
interface UdpFlight {
  src: IpAddress;
  srcPort: number;
  length: number;
  n: number;
  fragments: number;
}

const INITIAL_STATE = "CLOSED";
const HIDDEN_SUMMARY_INTERVAL = 1000;

export function buildRows(events: readonly TraceEvent[], opts: BuildOptions): { rows: Row[]; names: SeqNames } {
  return new Builder(events, opts).build();
}

class Builder {
  private readonly rows: Row[] = [];
  private readonly cols = new Map<string, number>();
  private readonly colByAddress = new Map<AddressKey, number>();
  private readonly colState: string[];
  private readonly focus: Set<string>;
  private readonly focusAddresses = new Set<AddressKey>();
  private readonly names: SeqNames;
  private readonly windows = new WindowScales();
  private readonly arrivals: ArrivalExplainer;
  private readonly knowledge = new Map<string, Knowledge>();
  /** What the knowledge suffix last said per connection pair, so it is repeated only on change. */
  private readonly lastKnowledge = new Map<string, string>();
  private readonly inFlight = new Map<string, InFlight[]>();
  private readonly consumed = new Set<number>();
  private readonly hidden = new HiddenTraffic();
  private readonly delayedAckAt = new Map<string, Millis>();
  /** The probe timer that just fired per host: its bare ACK is labelled as a probe. */
  private readonly probeAt = new Map<string, { time: Millis; timer: string }>();
  private open: OpenRow | undefined;
  private readonly udpSent = new Map<string, number>();
  private readonly udpInFlight = new Map<string, UdpFlight[]>();
  /** "receiver:fragment id" -> the datagram's number, for the reassembly timeout. */
  private readonly fragmentIds = new Map<string, number>();

  constructor(
    private readonly events: readonly TraceEvent[],
    private readonly opts: BuildOptions,
  ) {
    opts.hosts.forEach((h, i) => {
      this.cols.set(h.name, i);
      this.colByAddress.set(h.address.key, i);
    });
    // A host that uses UDP and never TCP has no connection state to show.
    const tcpHosts = new Set<string>();
    const udpHosts = new Set<string>();
    for (const e of events) {
      if (e.type === "state" || e.type === "segment-out" || e.type === "segment-in" || (e.type === "app" && e.call.startsWith("listen"))) tcpHosts.add(e.host);
      else if (e.type === "udp-out" || e.type === "udp-in") udpHosts.add(e.host);
    }
    this.colState = opts.hosts.map((h) => (udpHosts.has(h.name) && !tcpHosts.has(h.name) ? "" : INITIAL_STATE));
    this.focus = new Set(opts.focus ?? opts.hosts.map((h) => h.name));
    for (const h of opts.hosts) if (this.focus.has(h.name)) this.focusAddresses.add(h.address.key);
    this.names = new SeqNames(opts.seq, opts.hosts.map((h) => h.name));
    this.arrivals = new ArrivalExplainer(this.names, this.windows, (addr) => this.nameOfAddress(addr));
    // Every ISN is named up front, so a value can be named even before its SYN is drawn.
    // Only a focus host's: the others' are never drawn (a flood's thousands of spoofed SYNs),
    // and a host's names count only its own SYNs, so skipping them changes no drawn name.
    for (const e of events) {
      if (e.type === "segment-out" && (e.segment.flags & SYN) !== 0 && this.focus.has(e.host)) {
        const t = e.tuple;
        this.names.addIsn(e.host, t.localAddr, t.localPort, t.remoteAddr, t.remotePort, e.segment.seq);
      }
    }
  }

  build(): { rows: Row[]; names: SeqNames } {
    this.events.forEach((e, i) => {
      if (this.consumed.has(i)) return;
      if (!this.inFocus(e)) {
        // The row being gathered is complete: hidden traffic is summarised after it.
        this.closeOpen();
        this.hidden.add(e);
        return;
      }
      this.handle(e, i);
    });
    this.closeOpen();
    this.flushHidden();
    return { rows: this.rows, names: this.names };
  }

  // ---------------------------------------------------------------------------------------
  // Focus

  private inFocus(e: TraceEvent): boolean {
    if (e.type === "link") {
      const [a, b] = e.link.split("->");
      return this.focus.has(a ?? "") && this.focus.has(b ?? "");
    }
    if (!this.focus.has(e.host)) return false;
    const tuple = "tuple" in e ? e.tuple : undefined;
    return tuple === undefined || this.focusAddresses.has(tuple.remoteAddr.key);
  }

  private flushHidden(): void {
    const summary = this.hidden.flush();
    if (summary === undefined) return;
    this.rows.push(this.blockRow(summary.time, [summary.text], "info", "hidden"));
  }

  // ---------------------------------------------------------------------------------------
  // Events

  private handle(e: TraceEvent, index: number): void {
    switch (e.type) {
      case "app":
        return this.onApp(e);
      case "segment-out":
        return this.onSegmentOut(e, index);
      case "segment-in":
        return this.onSegmentIn(e);
      case "state":
        return this.onState(e);
      case "timer-fired":
        return this.onTimerFired(e, index);
      case "timer-armed":
        if (e.timer === "time-wait") this.attach(e.host, e.time, { text: `2MSL timer: until ${formatTime(e.at)}`, tone: "timer" });
        return;
      case "drop":
        return this.onDrop(e);
      case "udp-out":
        return this.onUdpOut(e, index);
      case "fragment-out":
        return this.onFragmentOut(e, index);
      case "udp-in":
        return this.onUdpIn(e);
      case "icmp-out":
        return this.onIcmpOut(e, index);
      case "error":
        this.attach(e.host, e.time, { text: `error ${e.code}`, tone: "error" }, e.tuple);
        this.setMeaning(explainTransition(e.host, this.peerName(e.tuple), "CLOSED", "CLOSED", "", { error: e.code }), 6);
        return;
      case "cookie":
        this.attach(e.host, e.time, { text: `SYN cookie ${e.action}`, tone: "info" }, e.tuple);
        return;
      case "fast-open":
        this.attach(e.host, e.time, { text: `Fast Open: ${e.detail}`, tone: e.action === "data-resent" || e.action === "ignored" ? "drop" : "info" }, e.tuple);
        return;
      case "urgent":
        // RFC 9293 3.8.5: say where the mark is and what became of the urgent byte (the
        // application's row already says that a write was urgent).
        if (e.action === "sent") return;
        this.attach(e.host, e.time, { text: e.detail, tone: "info" }, e.tuple);
        return;
      case "loss":
        // RACK marks, tail loss probes, D-SACKs and undo (RFC 8985, RFC 2883, RFC 3708).
        this.attach(e.host, e.time, { text: e.detail, tone: e.action === "rack-lost" || e.action === "tlp-recovery" ? "drop" : "info" }, e.tuple);
        return;
      case "bbr": {
        // BBR's mode changes (congestion/bbr.ts); rates are bytes per ms, shown in Mbit/s.
        const mbps = (r: number): string => `${((r * 8) / 1000).toFixed(2)} Mbit/s`;
        this.attach(e.host, e.time, { text: `BBR ${e.mode.toUpperCase()}: ${e.detail}; bw ${mbps(e.bw)}, min RTT ${e.minRtt.toFixed(1)} ms, pacing ${mbps(e.pacingRate)}, cwnd ${e.cwnd}`, tone: "info" }, e.tuple);
        return;
      }
      case "ecn":
        // RFC 3168: agreement, a CE mark arriving, the ECE that reduced the window, CWR.
        this.attach(e.host, e.time, { text: `ECN: ${e.detail}`, tone: e.action === "ce-received" || e.action === "ece-received" ? "drop" : "info" }, e.tuple);
        return;
      case "link": {
        const [from] = e.link.split("->");
        this.closeOpen();
        const col = this.cols.get(from ?? "") ?? 0;
        const row = this.newRow(e.time, col, `link:${e.action}:${e.reason}`);
        row.notes.push({ text: `link ${e.link}: ${e.action} (${e.reason})`, tone: e.action === "drop" ? "drop" : "info" });
        this.push(row);
        return;
      }
      default:
        // rtt, cwnd, queue, timer-cancelled: kept in --json, too fine-grained to draw.
        return;
    }
  }

  private onApp(e: Extract<TraceEvent, { type: "app" }>): void {
    // A program reading as datagrams arrive: its recv() belongs to the arrival's row.
    if (e.call === "recv()" && this.open !== undefined && this.open.host === e.host && this.open.time === e.time && this.open.row.shape.startsWith("udpin:")) {
      this.open.row.notes.push({ text: `${e.call} ${e.detail ?? ""}`.trim(), tone: "app" });
      return;
    }
    this.closeOpen();
    if (e.call === "note" || e.call === "ss" || e.call === "netstat") {
      const lines = (e.detail ?? "").split("\n");
      this.push(this.blockRow(e.time, e.call === "note" ? lines.map((l) => `# ${l}`) : lines, e.call === "note" ? "info" : "app", `block:${e.call}`));
      return;
    }
    const col = this.colOf(e.host);
    const row = this.newRow(e.time, col, `app:${e.host}:${e.call}`);
    row.notes.push({ text: e.detail !== undefined ? `${e.call} ${e.detail}` : e.call, tone: "app" });
    if (e.call.startsWith("listen")) this.setColState(row, col, "LISTEN");
    this.open = { row, host: e.host, time: e.time, tuple: e.tuple, meaning: explainUdpCall(e.host, e.call) ?? explainCall(e.host, e.call), priority: 1, keepForExplain: true };
  }

  private onSegmentOut(e: Extract<TraceEvent, { type: "segment-out" }>, index: number): void {
    // A drop decided while processing the arrival is reported after the reply it caused
    // (a RST answering a bad ACK); pull it into the arrival's row so cause comes first.
    if (this.open !== undefined && this.open.host === e.host && this.open.time === e.time) this.pullDrops(index, e.host, e.time);
    this.closeOpen();
    const t = e.tuple;
    const dir: Direction = { src: t.localAddr, srcPort: t.localPort, dst: t.remoteAddr, dstPort: t.remotePort };
    this.windows.observe(dir, e.segment);
    this.arrivals.sent(dir, e.segment);
    const fromCol = this.colOf(e.host);
    const toCol = this.colByAddress.get(t.remoteAddr.key);
    const fate = this.fate(index, e.host, e.time);
    let label = segmentLabel(e.segment, dir, this.names, this.windows);
    if (e.retransmit) label += " (resent)";
    if (e.ecn !== undefined && e.ecn !== 0) label += ` ${ECN_NAMES[e.ecn & 3]}`;
    const bare = e.segment.flags === ACK && e.segment.payload.length === 0;
    if (this.delayedAckAt.get(e.host) === e.time && bare) label += " (delayed ACK)";
    const probe = this.probeAt.get(e.host);
    if (probe !== undefined && probe.time === e.time && bare) label += probe.timer === "persist" ? " (window probe)" : " (keep-alive probe)";
    if (fate.copies > 1) label += " (duplicated)";
    if (fate.corrupted) label += " (corrupted)";
    if (fate.marked === true) label += " (marked CE by the queue)";
    if (fate.held !== undefined) label += ` (${fate.held})`;
    const row = this.newRow(e.time, fromCol, `seg:${e.host}:${flagNames(e.segment.flags)}:${e.retransmit}:${fate.lost ?? ""}:${e.segment.payload.length > 0}`);
    row.arrow = { from: fromCol, to: toCol ?? null, label, lost: fate.lost !== undefined };
    if (fate.lost !== undefined) row.notes.push({ text: `lost (${fate.lost})`, tone: "drop" });
    if (toCol === undefined && fate.lost === undefined) row.notes.push({ text: `to ${t.remoteAddr.toString()}`, tone: "info" });
    if (fate.lost !== undefined && this.opts.explain) {
      row.explain = `The segment is lost in the network: neither side knows yet; only the sender's retransmission timer will notice (S16).`;
    }
    this.push(row);
    if (fate.lost === undefined && toCol !== undefined) {
      const dest = this.opts.hosts[toCol]!.name;
      const list = this.inFlight.get(dest) ?? [];
      for (let c = 0; c < fate.copies; c++) list.push({ dir, seg: e.segment, fromCol, corrupted: fate.corrupted && c === 0 });
      this.inFlight.set(dest, list);
    }
  }

  private pullDrops(index: number, host: string, time: Millis): void {
    for (let j = index + 1; j < this.events.length; j++) {
      const d = this.events[j]!;
      if (d.time !== time || d.type === "segment-in" || d.type === "app" || d.type === "timer-fired") break;
      if (d.type === "drop" && d.host === host && d.tuple !== undefined && !this.consumed.has(j)) {
        this.consumed.add(j);
        this.onDrop(d);
      }
    }
  }

  /** Reads the link events that directly follow a segment-out (same transmit call). */
  private fate(index: number, host: string, time: Millis): { lost?: string; copies: number; corrupted: boolean; held?: string; marked?: boolean } {
    const out: { lost?: string; copies: number; corrupted: boolean; held?: string; marked?: boolean } = { copies: 1, corrupted: false };
    for (let j = index + 1; j < this.events.length; j++) {
      const l = this.events[j]!;
      if (l.type !== "link" || l.time !== time || !l.link.startsWith(`${host}->`)) break;
      this.consumed.add(j);
      if (l.action === "drop") out.lost = l.reason === "rule" ? "fault rule" : l.reason;
      else if (l.action === "duplicate") out.copies = 2;
      else if (l.action === "corrupt") out.corrupted = true;
      else if (l.action === "mark") out.marked = true;
      else if (l.action === "delay") out.held = l.reason === "reorder" ? "reordered" : "held back";
    }
    return out;
  }

  private onSegmentIn(e: Extract<TraceEvent, { type: "segment-in" }>): void {
    this.closeOpen();
    const t = e.tuple;
    // Seen from the receiver: the segment travelled remote -> local.
    const dir: Direction = { src: t.remoteAddr, srcPort: t.remotePort, dst: t.localAddr, dstPort: t.localPort };
    this.takeInFlight(e.host, dir, e.segment);
    this.windows.observe(dir, e.segment);
    const col = this.colOf(e.host);
    const row = this.newRow(e.time, col, `in:${e.host}:${flagNames(e.segment.flags)}`);
    const { text, priority } = this.arrivals.explain(e.host, dir, e.segment);
    this.open = { row, host: e.host, time: e.time, tuple: t, meaning: text, priority, keepForExplain: true };
  }

  private takeInFlight(host: string, dir: Direction, seg: TcpSegment): InFlight | undefined {
    const list = this.inFlight.get(host);
    if (list === undefined) return undefined;
    const i = list.findIndex(
      (f) => !f.corrupted && f.dir.srcPort === dir.srcPort && f.seg.seq === seg.seq && f.seg.ack === seg.ack && f.seg.flags === seg.flags && f.seg.payload.length === seg.payload.length && f.dir.src.equals(dir.src),
    );
    if (i < 0) return undefined;
    return list.splice(i, 1)[0];
  }

  private onState(e: Extract<TraceEvent, { type: "state" }>): void {
    const key = connectionKey(e.host, e.tuple);
    if (e.from === "CLOSED" || e.from === "LISTEN") this.knowledge.set(key, freshKnowledge());
    const k = this.knowledge.get(key) ?? freshKnowledge();
    this.knowledge.set(key, learn(k, e.from, e.to));
    const col = this.colOf(e.host);
    if (this.open === undefined || this.open.host !== e.host || this.open.time !== e.time) {
      this.closeOpen();
      const row = this.newRow(e.time, col, `state:${e.host}:${e.to}`);
      row.notes.push({ text: e.cause, tone: "info" });
      this.open = { row, host: e.host, time: e.time, tuple: e.tuple, meaning: undefined, priority: 0, keepForExplain: true };
    }
    this.open.tuple = e.tuple;
    this.setColState(this.open.row, col, e.to);
    const msl2 = this.timeWaitLength(e);
    this.setMeaning(explainTransition(e.host, this.peerName(e.tuple), e.from, e.to as TcpState, e.cause, msl2 === undefined ? {} : { msl2 }), 5);
  }

  /** The 2MSL length, read from the timer armed next to the TIME_WAIT transition. */
  private timeWaitLength(e: Extract<TraceEvent, { type: "state" }>): Millis | undefined {
    if (e.to !== "TIME_WAIT") return undefined;
    const i = this.events.indexOf(e);
    for (let j = i + 1; j < this.events.length && this.events[j]!.time === e.time; j++) {
      const a = this.events[j]!;
      if (a.type === "timer-armed" && a.host === e.host && a.timer === "time-wait") return a.at - a.time;
    }
    return undefined;
  }

  private onTimerFired(e: Extract<TraceEvent, { type: "timer-fired" }>, index: number): void {
    if (e.timer === "pacing") return; // not drawn: the segments it releases are
    if (e.timer === "delayed-ack") {
      // Not drawn: the ACK it releases is, labelled as delayed.
      this.delayedAckAt.set(e.host, e.time);
      return;
    }
    this.closeOpen();
    if (e.timer === "persist" || e.timer === "keepalive") this.probeAt.set(e.host, { time: e.time, timer: e.timer });
    const next = this.nextArmed(index, e.host, e.tuple, e.timer);
    const col = this.colOf(e.host);
    const row = this.newRow(e.time, col, `timer:${e.host}:${e.timer}`);
    let text: string;
    switch (e.timer) {
      case "rto":
        text = `RTO #${e.backoff + 1} fired${next !== undefined ? `, next in ${formatDuration(next)}` : ""}`;
        break;
      case "time-wait":
        text = "2MSL timer fired";
        break;
      case "fin-wait-2":
        text = "FIN_WAIT_2 timer fired";
        break;
      case "persist":
        text = `persist timer fired${next !== undefined ? `, next in ${formatDuration(next)}` : ""}`;
        break;
      case "keepalive":
        text = `keep-alive timer fired${next !== undefined ? `, next in ${formatDuration(next)}` : ""}`;
        break;
      case "tlp":
        text = "probe timeout (PTO) fired: tail loss probe";
        break;
      case "reorder":
        text = "RACK reordering timer fired";
        break;
      default:
        text = `${e.timer} timer fired`;
    }
    row.notes.push({ text, tone: "timer" });
    this.open = { row, host: e.host, time: e.time, tuple: e.tuple, meaning: explainTimer(e.host, e.timer, next), priority: 3, keepForExplain: true };
  }

  private nextArmed(index: number, host: string, tuple: FourTuple, timer: string): Millis | undefined {
    const time = this.events[index]!.time;
    for (let j = index + 1; j < this.events.length && this.events[j]!.time === time; j++) {
      const a = this.events[j]!;
      if (a.type === "timer-armed" && a.host === host && a.timer === timer && sameTuple(a.tuple, tuple)) return a.at - a.time;
    }
    return undefined;
  }

  // ---------------------------------------------------------------------------------------
  // UDP (S33): datagrams, fragments, what the receiver did with them

  private onUdpOut(e: Extract<TraceEvent, { type: "udp-out" }>, index: number): void {
    this.closeOpen();
    const n = (this.udpSent.get(e.host) ?? 0) + 1;
    this.udpSent.set(e.host, n);
    const fromCol = this.colOf(e.host);
    const toCol = this.colByAddress.get(e.tuple.remoteAddr.key);
    const fragments = this.countFragments(index, e.host, e.time);
    const flight: UdpFlight = { src: e.tuple.localAddr, srcPort: e.tuple.localPort, length: e.length, n, fragments };
    if (fragments > 0) {
      // The fragments are drawn; this row says what they are pieces of.
      const row = this.newRow(e.time, fromCol, `udpfrag:${e.host}`);
      row.notes.push({ text: `UDP #${n} (${e.length} bytes) in ${fragments} fragments`, tone: "info" });
      const next = this.events[index + 1];
      if (next !== undefined && next.type === "fragment-out") this.fragmentIds.set(`${this.nameOfAddress(next.dst)}:${next.id}`, n);
      this.push(row);
      if (toCol !== undefined) this.pushUdpFlight(this.opts.hosts[toCol]!.name, flight, 1);
      return;
    }
    const fate = this.fate(index, e.host, e.time);
    let label = `UDP #${n} len=${e.length}`;
    if (fate.copies > 1) label += " (duplicated)";
    if (fate.corrupted) label += " (corrupted)";
    if (fate.held !== undefined) label += ` (${fate.held})`;
    const row = this.newRow(e.time, fromCol, `udp:${e.host}:${fate.lost ?? ""}`);
    row.arrow = { from: fromCol, to: toCol ?? null, label, lost: fate.lost !== undefined };
    if (fate.lost !== undefined) {
      row.notes.push({ text: `lost (${fate.lost})`, tone: "drop" });
      if (this.opts.explain) row.explain = explainUdpLost(e.host);
    }
    this.push(row);
    if (fate.lost === undefined && toCol !== undefined) this.pushUdpFlight(this.opts.hosts[toCol]!.name, flight, fate.copies);
  }

  /** How many fragment-out events (with their link events) follow a udp-out at once. */
  private countFragments(index: number, host: string, time: Millis): number {
    let n = 0;
    for (let j = index + 1; j < this.events.length; j++) {
      const f = this.events[j]!;
      if (f.time !== time) break;
      if (f.type === "fragment-out" && f.host === host) n++;
      else if (f.type !== "link") break;
    }
    return n;
  }

  private pushUdpFlight(dest: string, flight: UdpFlight, copies: number): void {
    const list = this.udpInFlight.get(dest) ?? [];
    for (let c = 0; c < copies; c++) list.push(flight);
    this.udpInFlight.set(dest, list);
  }

  private onFragmentOut(e: Extract<TraceEvent, { type: "fragment-out" }>, index: number): void {
    this.closeOpen();
    const fromCol = this.colOf(e.host);
    const toCol = this.colByAddress.get(e.dst.key);
    const fate = this.fate(index, e.host, e.time);
    let label = `frag id=${e.id} off=${e.offset} len=${e.length}${e.more ? " MF" : ""}`;
    if (fate.copies > 1) label += " (duplicated)";
    if (fate.held !== undefined) label += ` (${fate.held})`;
    const row = this.newRow(e.time, fromCol, `frag:${e.host}:${e.more}:${fate.lost ?? ""}`);
    row.arrow = { from: fromCol, to: toCol ?? null, label, lost: fate.lost !== undefined };
    if (fate.lost !== undefined) {
      row.notes.push({ text: `lost (${fate.lost})`, tone: "drop" });
      if (this.opts.explain) row.explain = explainFragmentLost(e.host, toCol !== undefined ? this.opts.hosts[toCol]!.name : "the receiver");
    }
    this.push(row);
  }

  private onUdpIn(e: Extract<TraceEvent, { type: "udp-in" }>): void {
    this.closeOpen();
    const list = this.udpInFlight.get(e.host);
    const i = list?.findIndex((f) => f.src.equals(e.tuple.remoteAddr) && f.srcPort === e.tuple.remotePort && f.length === e.length) ?? -1;
    const flight = list !== undefined && i >= 0 ? list.splice(i, 1)[0] : undefined;
    const which = flight !== undefined ? `#${flight.n}` : `a ${e.length}-byte datagram`;
    const whole = flight !== undefined && flight.fragments > 0 ? ` (reassembled from ${flight.fragments} fragments)` : "";
    const row = this.newRow(e.time, this.colOf(e.host), `udpin:${e.host}:${e.outcome}`);
    const used = e.queuedBytes + e.charge;
    switch (e.outcome) {
      case "queued":
        row.notes.push({ text: `${which}${whole} queued (${used}/${e.bufferBytes})`, tone: "info" });
        break;
      case "rcvbuf-full":
        row.notes.push({ text: `X ${which} dropped: rcvbuf full (${e.queuedBytes}/${e.bufferBytes})`, tone: "drop" });
        break;
      case "no-port":
        row.notes.push({ text: `X ${which} dropped: no socket on port ${e.tuple.localPort}`, tone: "drop" });
        break;
    }
    const peer = this.nameOfAddress(e.tuple.remoteAddr);
    this.open = { row, host: e.host, time: e.time, tuple: undefined, meaning: explainUdpIn(e.host, peer, e.outcome, whole !== ""), priority: 4, keepForExplain: true, absorbDrop: e.outcome !== "queued" };
  }

  private onIcmpOut(e: Extract<TraceEvent, { type: "icmp-out" }>, index: number): void {
    this.closeOpen();
    const fromCol = this.colOf(e.host);
    const toCol = this.colByAddress.get(e.dst.key);
    const fate = this.fate(index, e.host, e.time);
    const row = this.newRow(e.time, fromCol, `icmp:${e.host}:${e.icmpType}:${e.code}`);
    row.arrow = { from: fromCol, to: toCol ?? null, label: icmpName(e.icmpType, e.code), lost: fate.lost !== undefined };
    if (fate.lost !== undefined) row.notes.push({ text: `lost (${fate.lost})`, tone: "drop" });
    if (this.opts.explain) row.explain = explainIcmp(e.host, toCol !== undefined ? this.opts.hosts[toCol]!.name : "the sender", e.icmpType, e.code);
    this.push(row);
  }

  private onDrop(e: Extract<TraceEvent, { type: "drop" }>): void {
    const fine = ipDropReason(e.detail);
    if (e.tuple === undefined && this.open?.absorbDrop === true && this.open.host === e.host && this.open.time === e.time) return;
    if (e.tuple === undefined && fine === "frag-timeout") {
      this.closeOpen();
      const row = this.newRow(e.time, this.colOf(e.host), `drop:${e.host}:${fine}`);
      const { text, explain } = reassemblyTimeoutNote(e.host, e.detail ?? "", (id) => this.fragmentIds.get(`${e.host}:${id}`));
      row.notes.push({ text, tone: "drop" });
      this.open = { row, host: e.host, time: e.time, tuple: undefined, meaning: explain, priority: 4, keepForExplain: true };
      return;
    }
    if (e.tuple === undefined) {
      // A host-level drop (IP or TCP parsing failed): the corrupted copy of something in flight.
      this.closeOpen();
      const list = this.inFlight.get(e.host);
      const i = list?.findIndex((f) => f.corrupted) ?? -1;
      if (list !== undefined && i >= 0) list.splice(i, 1);
      const row = this.newRow(e.time, this.colOf(e.host), `drop:${e.host}:${e.reason}`);
      row.notes.push({ text: `X dropped: ${fine ?? e.reason}`, tone: "drop" });
      this.open = { row, host: e.host, time: e.time, tuple: undefined, meaning: explainDrop(e.host, e.reason), priority: 4, keepForExplain: true };
      return;
    }
    const text = e.reason === "no-listener" ? "no such connection" : `X dropped: ${e.reason}`;
    this.attach(e.host, e.time, { text, tone: e.reason === "no-listener" ? "info" : "drop" }, e.tuple);
    this.setMeaning(explainDrop(e.host, e.reason), 4);
  }

  // ---------------------------------------------------------------------------------------
  // Rows

  /** Adds a note to the open row of `host` at `time`, or to a new row. */
  private attach(host: string, time: Millis, note: Note, tuple?: FourTuple): void {
    if (this.open === undefined || this.open.host !== host || this.open.time !== time) {
      this.closeOpen();
      const row = this.newRow(time, this.colOf(host), `note:${host}:${note.text.replace(/[0-9.]+/g, "#")}`);
      this.open = { row, host, time, tuple, meaning: undefined, priority: 0, keepForExplain: false };
    }
    if (tuple !== undefined) this.open.tuple = tuple;
    this.open.row.notes.push(note);
  }

  private setMeaning(text: string, priority: number): void {
    if (this.open !== undefined && priority >= this.open.priority) {
      this.open.meaning = text;
      this.open.priority = priority;
    }
  }

  private closeOpen(): void {
    const o = this.open;
    if (o === undefined) return;
    this.open = undefined;
    const visible = o.row.notes.length > 0 || o.row.changed.some(Boolean);
    if (!visible && !(this.opts.explain && o.keepForExplain)) return;
    if (this.opts.explain) {
      if (o.meaning !== undefined) o.row.explain = o.meaning + this.knowledgeSuffix(o.host, o.tuple);
      if (!visible) o.row.notes.push({ text: "(received)", tone: "info" });
    }
    this.push(o.row);
  }

  /**
   * "[client knows server: sends yes, ...]" for both ends of the connection, when what
   * either side knows changed since it was last printed (the documents' knowledge tables).
   */
  private knowledgeSuffix(host: string, tuple: FourTuple | undefined): string {
    if (tuple === undefined) return "";
    const mine = this.knowledge.get(connectionKey(host, tuple));
    if (mine === undefined) return "";
    const peer = this.peerName(tuple);
    const parts = [describeKnowledge(host, peer, mine)];
    const peerCol = this.colByAddress.get(tuple.remoteAddr.key);
    if (peerCol !== undefined) {
      const reverse = { localAddr: tuple.remoteAddr, localPort: tuple.remotePort, remoteAddr: tuple.localAddr, remotePort: tuple.localPort };
      const theirs = this.knowledge.get(connectionKey(peer, reverse));
      if (theirs !== undefined) parts.push(describeKnowledge(peer, host, theirs));
    }
    const pairKey = [connectionKey(host, tuple), connectionKey(peer, { localAddr: tuple.remoteAddr, localPort: tuple.remotePort, remoteAddr: tuple.localAddr, remotePort: tuple.localPort })].sort().join("&");
    const text = parts.slice().sort().join(" | ");
    if (this.lastKnowledge.get(pairKey) === text) return "";
    this.lastKnowledge.set(pairKey, text);
    return ` [${parts.join(" | ")}]`;
  }

  private push(row: Row): void {
    // Hidden traffic is summarised above the next row, at most about once a second, so a
    // flood that keeps going does not put a summary between every two rows.
    const since = this.hidden.since;
    const due = since !== undefined && (row.block !== undefined || row.time - since >= HIDDEN_SUMMARY_INTERVAL);
    const summary = due ? this.hidden.flush() : undefined;
    if (summary !== undefined) this.rows.push(this.blockRow(summary.time, [summary.text], "info", "hidden"));
    this.rows.push(row);
  }

  private newRow(time: Millis, col: number, shape: string): Row {
    return { time, col, states: this.colState.slice(), changed: this.colState.map(() => false), notes: [], shape };
  }

  private blockRow(time: Millis, lines: string[], tone: Tone, shape: string): Row {
    return { time, col: -1, states: this.colState.slice(), changed: this.colState.map(() => false), notes: [], block: { lines, tone }, shape };
  }

  private setColState(row: Row, col: number, state: string): void {
    this.colState[col] = state;
    row.states[col] = state;
    row.changed[col] = true;
  }

  private colOf(host: string): number {
    return this.cols.get(host) ?? 0;
  }

  private peerName(tuple: FourTuple): string {
    return this.nameOfAddress(tuple.remoteAddr);
  }

  private nameOfAddress(addr: IpAddress): string {
    const col = this.colByAddress.get(addr.key);
    return col !== undefined ? this.opts.hosts[col]!.name : "the peer";
  }
}

function sameTuple(a: FourTuple, b: FourTuple): boolean {
  return a.localAddr.equals(b.localAddr) && a.localPort === b.localPort && a.remoteAddr.equals(b.remoteAddr) && a.remotePort === b.remotePort;
}

/** The IP ECN codepoint as the narration shows it on a segment (RFC 3168 section 5). */
const ECN_NAMES = ["", "ECT(1)", "ECT(0)", "CE"] as const;
