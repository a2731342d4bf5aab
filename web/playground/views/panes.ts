/**
 * Text panes at the cursor: the narration (with the --explain lines), the inspector (the
 * TCB, queues and armed timers with countdowns) and a Wireshark-like detail pane for the
 * selected segment (fields, options, the stack's reason with a "why?" link, hex).
 */
import type { Millis } from "../../../src/env.js";
import type { ConnectionInfo } from "../../../src/tcp/connection.js";
import type { Row } from "../../../src/trace/narrate/model.js";
import { seqDiff } from "../../../src/wire/seq.js";
import type { SegmentRecord, Session } from "../model/session.js";
import { renderCookie } from "./cookie.js";
import { fmtBytes, fmtTime, h } from "./dom.js";

export function renderNarration(rows: readonly Row[], hosts: readonly string[], t: Millis): HTMLElement {
  const box = h("div", { class: "narration-rows" });
  for (const r of rows) {
    if (r.time > t) break;
    const now = r.time === t;
    const parts: string[] = [];
    r.states.forEach((st, i) => {
      if (r.changed[i]) parts.push(`${hosts[i]} → ${st}`);
    });
    if (r.arrow !== undefined) {
      const from = hosts[r.arrow.from] ?? "?";
      const to = r.arrow.to === null ? "?" : (hosts[r.arrow.to] ?? "?");
      parts.push(`${from} → ${to}: ${r.arrow.label}${r.arrow.lost ? " ✕ lost" : ""}`);
    }
    for (const n of r.notes) parts.push(n.text);
    const line = h("div", { class: `nrow${now ? " now" : ""}` }, h("span", { class: "ntime" }, fmtTime(r.time)), " ", parts.join(" · "));
    if (r.block !== undefined) line.append(h("pre", { class: "nblock" }, r.block.lines.join("\n")));
    if (r.explain !== undefined) line.append(h("div", { class: "explain" }, r.explain));
    box.append(line);
  }
  return box;
}

const rel = (v: number, base: number): string => `${seqDiff(v as never, base as never)} (${v >>> 0})`;

function timerRow(name: string, at: number, now: Millis): HTMLElement | undefined {
  if (!Number.isFinite(at)) return undefined;
  return h("tr", {}, h("th", {}, `${name} timer`), h("td", { class: "countdown" }, `fires at ${fmtTime(at)}, in ${((at - now) / 1000).toFixed(3)} s`));
}

export function renderInspector(host: string, c: ConnectionInfo | undefined, now: Millis): HTMLElement {
  const box = h("div", { class: "inspector", "data-host": host });
  box.append(h("h4", {}, `${host} TCB`));
  if (c === undefined) {
    box.append(h("p", { class: "muted" }, "no connection"));
    return box;
  }
  const rows: Array<[string, string]> = [
    ["state", c.state],
    ["SND.UNA", rel(c.sndUna, c.iss)],
    ["SND.NXT", rel(c.sndNxt, c.iss)],
    ["SND.WND", fmtBytes(c.sndWnd)],
    ["RCV.NXT", rel(c.rcvNxt, c.irs)],
    ["RCV.WND", fmtBytes(c.rcvWnd)],
    ["cwnd", fmtBytes(c.cwnd)],
    ["ssthresh", fmtBytes(c.ssthresh)],
    ["SRTT / RTO", `${c.srtt === undefined ? "-" : `${c.srtt.toFixed(1)} ms`} / ${c.rto} ms`],
    ["MSS, scale", `${c.sendMss}, snd<<${c.sndShift} rcv<<${c.rcvShift}${c.sack ? ", SACK" : ""}${c.timestamps ? ", TS" : ""}`],
    ["retransmission queue", `${fmtBytes(Math.max(0, seqDiff(c.sndNxt, c.sndUna)))} unacked, ${fmtBytes(c.sacked)} SACKed`],
    ["out-of-order queue", fmtBytes(c.outOfOrderBytes)],
    ["retransmits / retries", `${c.retransmits} / ${c.retries}`],
  ];
  const table = h("table", {});
  for (const [k, v] of rows) table.append(h("tr", {}, h("th", {}, k), h("td", { "data-field": k }, v)));
  for (const [name, at] of [["retransmission", c.timers.rto], ["persist", c.timers.persist], ["keep-alive", c.timers.keepalive], ["delayed-ACK", c.timers.delayedAck], [c.state === "TIME_WAIT" ? "2MSL" : "FIN_WAIT_2", c.timers.linger]] as Array<[string, number]>) {
    const row = timerRow(name, at, now);
    if (row !== undefined) table.append(row);
  }
  box.append(table);
  return box;
}

export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.subarray(i, i + 16);
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = [...chunk].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${i.toString(16).padStart(4, "0")}  ${hex.padEnd(48)}  ${ascii}`);
  }
  return lines.join("\n");
}

/** "tcp.analysis.duplicate_ack [TCP Dup ACK #2]", or "no flags". */
function analysisText(r: SegmentRecord): string {
  const v = r.verdict;
  if (v === undefined) return "not analysed";
  if (v.flags.length === 0) return "no tcp.analysis flags";
  return `${v.flags.map((f) => `tcp.analysis.${f}`).join(", ")}  ${v.summary}`;
}

export interface DetailActions {
  onWhy: (eventIndex: number) => void;
  /** Absent for a live connection: what happened to a real packet cannot be rerun. */
  onWhatIf?: (action: "drop" | "delay" | "duplicate" | "corrupt") => void;
  /** Why there are no what-ifs here (shown in their place when onWhatIf is absent). */
  noWhatIf?: string;
}

export function renderDetail(session: Session, r: SegmentRecord, actions: DetailActions): HTMLElement {
  const seg = r.seg;
  const box = h("div", { class: "detail", "data-id": r.id });
  box.append(h("h4", {}, `Segment #${r.id + 1}: ${r.from} → ${r.to}`));
  const o = seg.options;
  const opts: string[] = [];
  if (o.mss !== undefined) opts.push(`MSS ${o.mss}`);
  if (o.windowScale !== undefined) opts.push(`window scale ${o.windowScale}`);
  if (o.sackPermitted) opts.push("SACK permitted");
  if (o.timestamp !== undefined) opts.push(`timestamps TSval=${o.timestamp.value} TSecr=${o.timestamp.echo}`);
  for (const b of o.sackBlocks ?? []) opts.push(`SACK ${b.left >>> 0}-${b.right >>> 0}`);
  const fields: Array<[string, string]> = [
    ["Transmission Control Protocol", `Src Port: ${seg.srcPort}, Dst Port: ${seg.dstPort}`],
    ["addresses", `${r.tuple.localAddr.toString()} → ${r.tuple.remoteAddr.toString()}`],
    ["label", r.label],
    ["Sequence Number (raw)", String(seg.seq >>> 0)],
    ["Acknowledgment Number (raw)", String(seg.ack >>> 0)],
    ["Flags", r.match.flags || "(none)"],
    ["Window (raw field)", String(seg.window)],
    ["TCP payload", `${seg.payload.length} bytes`],
    ["Options", opts.join(", ") || "none"],
    ["sent", fmtTime(r.time)],
    ["arrived", r.arrive !== undefined ? fmtTime(r.arrive) : "never"],
    ["fate", `${r.fate}${r.link.length > 0 ? ` (${r.link.join(", ")})` : ""}${r.dropped !== undefined ? `, dropped by the receiver: ${r.dropped}` : ""}`],
    ["synack's reason", r.reason],
    ["Wireshark's analysis (from the wire)", analysisText(r)],
  ];
  const table = h("table", {});
  for (const [k, v] of fields) table.append(h("tr", {}, h("th", {}, k), h("td", { "data-field": k }, v)));
  box.append(table);
  const v = r.verdict;
  if (v?.disagreement !== undefined) box.append(h("p", { class: "disagreement", role: "note" }, `≠ ${v.disagreement}`));
  if (v?.copy !== undefined) box.append(h("p", { class: "disagreement", role: "note" }, `≠ ${v.copy}`));
  const cookie = renderCookie(r);
  if (cookie !== undefined) box.append(cookie);
  if (r.cause !== undefined) {
    const c = session.events[r.cause]!;
    const why = h("button", { class: "why", type: "button" }, `why? → ${c.type} at ${fmtTime(c.time)}`);
    why.addEventListener("click", () => actions.onWhy(r.cause!));
    box.append(why);
  }
  const onWhatIf = actions.onWhatIf;
  if (onWhatIf !== undefined) {
    const bar = h("div", { class: "whatif", role: "group", "aria-label": "what if" }, h("span", {}, "What if: "));
    for (const a of ["drop", "delay", "duplicate", "corrupt"] as const) {
      const b = h("button", { type: "button", "data-whatif": a }, `${a} it`);
      b.addEventListener("click", () => onWhatIf(a));
      bar.append(b);
    }
    box.append(bar);
  } else if (actions.noWhatIf !== undefined) box.append(h("p", { class: "muted whatif-none", role: "note" }, actions.noWhatIf));
  if (r.bytes !== undefined) box.append(h("pre", { class: "hex" }, hexDump(r.bytes)));
  return box;
}
