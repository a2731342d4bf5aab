/**
 * The sequence diagram (SVG): one lifeline per drawn host, time running down on the
 * compressed axis, one arrow per segment from its departure to its arrival. Lost segments
 * end mid-air with an X; state changes, timer expiries, application calls and drops sit
 * on the lifelines where they happened. Only what happened up to the cursor is drawn.
 */
import { TimeAxis } from "../model/timeaxis.js";
import type { Session } from "../model/session.js";
import { fmtTime, s } from "./dom.js";

const COL_GAP = 380;
const MARGIN_X = 230;
const LOST_RUN = 0.45;

export interface LadderOptions {
  cursor: number;
  selected?: number;
  onSelect?: (segmentId: number) => void;
  onStep?: (eventIndex: number) => void;
  /** Vertical zoom factor (keyboard + and -). */
  zoom: number;
  title?: string;
}

export function axisOf(session: Session): TimeAxis {
  return new TimeAxis(session.steps.map((i) => ({ index: i, time: session.events[i]!.time })));
}

export function renderLadder(session: Session, axis: TimeAxis, opts: LadderOptions): SVGSVGElement {
  const cols = session.columns;
  const width = MARGIN_X * 2 + COL_GAP * Math.max(1, cols.length - 1);
  const x = (c: number): number => MARGIN_X + c * COL_GAP;
  const z = opts.zoom;
  const y = (v: number): number => v * z;
  const height = y(axis.height);
  const svg = s("svg", { id: "ladder", class: "ladder", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": opts.title ?? "sequence diagram" });
  svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
  const cursorEvent = session.steps[opts.cursor] ?? 0;

  for (const b of axis.breaks) {
    svg.append(s("rect", { class: "break", x: 0, y: y(b.y0) + 4, width, height: Math.max(2, y(b.y1 - b.y0) - 8) }));
    svg.append(s("text", { class: "break-label", x: width / 2, y: y((b.y0 + b.y1) / 2) + 4, "text-anchor": "middle" }, `… ${(b.ms / 1000).toFixed(b.ms >= 10_000 ? 0 : 1)} s later …`));
  }
  cols.forEach((c, i) => {
    svg.append(s("text", { class: "host", x: x(i), y: 18, "text-anchor": "middle" }, `${c.name}`));
    svg.append(s("line", { class: "lifeline", x1: x(i), y1: 26, x2: x(i), y2: height }));
  });
  // Time labels, one per distinct time, where there is room.
  let lastLabelY = -100;
  let lastTime = -1;
  for (const p of axis.points) {
    if (p.time === lastTime || y(p.y) - lastLabelY < 14) continue;
    lastTime = p.time;
    lastLabelY = y(p.y);
    svg.append(s("text", { class: "time", x: 4, y: y(p.y) + 4 }, fmtTime(p.time)));
  }

  // Notes on the lifelines: state changes, timers, calls, drops.
  for (const idx of session.steps) {
    if (idx > cursorEvent) break;
    const e = session.events[idx]!;
    const col = "host" in e ? cols.findIndex((c) => c.name === e.host) : -1;
    const yy = axis.yOf(idx);
    if (yy === undefined) continue;
    let text: string | undefined;
    let cls = "note";
    if (e.type === "state") {
      text = e.to;
      cls = "note state-note";
    } else if (e.type === "timer-fired") {
      text = `timer: ${e.timer} fired`;
      cls = "note timer-note";
    } else if (e.type === "app") {
      text = e.host === "script" ? undefined : `${e.call}${e.detail !== undefined && e.detail.length < 30 ? ` ${e.detail}` : ""}`;
      cls = "note app-note";
    } else if (e.type === "drop") {
      text = `✕ dropped: ${e.reason}`;
      cls = "note drop-note";
    } else if (e.type === "error") {
      text = `${e.code}`;
      cls = "note drop-note";
    } else if (e.type === "cookie") {
      text = `SYN cookie ${e.action}`;
      cls = "note cookie-note";
    }
    if (text === undefined || col < 0) continue;
    const left = col === 0;
    const t = s("text", { class: cls, x: left ? x(col) - 8 : x(col) + 8, y: y(yy) + 4, "text-anchor": left ? "end" : "start", "data-event": idx, tabindex: -1 }, text);
    if (opts.onStep !== undefined) t.addEventListener("click", () => opts.onStep?.(idx));
    svg.append(t);
  }

  // Segments.
  const cursorY = axis.yOf(cursorEvent) ?? axis.yAt(session.events[cursorEvent]?.time ?? 0);
  for (const r of session.segments) {
    if (r.fromCol < 0 || r.toCol < 0 || r.out > cursorEvent) continue;
    const y0 = axis.yOf(r.out);
    if (y0 === undefined) continue;
    const x0 = x(r.fromCol);
    const x1full = x(r.toCol);
    let x1 = x1full;
    let y1: number;
    let arrived = false;
    if (r.fate === "delivered" && r.in !== undefined && r.in <= cursorEvent) {
      y1 = axis.yOf(r.in) ?? y0 + 20;
      arrived = true;
    } else if (r.fate === "lost" || r.fate === "corrupted") {
      x1 = x0 + (x1full - x0) * LOST_RUN;
      y1 = y0 + 22;
    } else {
      // In flight at the cursor: drawn as far as it has come.
      const end = r.in !== undefined ? (axis.yOf(r.in) ?? y0 + 20) : y0 + 22;
      const frac = end > y0 ? Math.min(1, Math.max(0.1, (cursorY - y0) / (end - y0))) : 0.5;
      x1 = x0 + (x1full - x0) * frac;
      y1 = y0 + (end - y0) * frac;
    }
    const classes = ["segment", `fate-${r.fate}`];
    if (r.retransmit) classes.push("retransmit");
    if ((r.seg.flags & 4) !== 0) classes.push("rst");
    if (r.seg.payload.length > 0) classes.push("data");
    if (r.dropped !== undefined) classes.push("dropped");
    if (opts.selected === r.id) classes.push("selected");
    const v = r.verdict;
    if (v !== undefined && v.flags.length > 0) classes.push("flagged");
    if (v?.disagreement !== undefined) classes.push("disagree");
    const aria = `${r.from} to ${r.to}: ${r.label}${r.fate !== "delivered" ? ` (${r.fate})` : ""}${v !== undefined && v.summary !== "" ? ` ${v.summary}` : ""}`;
    const g = s("g", { class: classes.join(" "), "data-id": r.id, "data-from": r.from, "data-to": r.to, "data-fate": r.fate, "data-label": r.label, "data-analysis": v?.flags.join(" "), tabindex: 0, role: "button", "aria-label": aria });
    g.append(s("line", { class: "hit", x1: x0, y1: y(y0), x2: x1, y2: y(y1) }));
    g.append(s("line", { class: "wire", x1: x0, y1: y(y0), x2: x1, y2: y(y1), "marker-end": arrived ? "url(#arrow)" : undefined }));
    if (r.fate === "lost" || r.fate === "corrupted") {
      const m = 6;
      g.append(s("path", { class: "lost-x", d: `M ${x1 - m} ${y(y1) - m} L ${x1 + m} ${y(y1) + m} M ${x1 - m} ${y(y1) + m} L ${x1 + m} ${y(y1) - m}` }));
    }
    const label = r.label.length > 58 ? `${r.label.slice(0, 56)}…` : r.label;
    const text = s("text", { class: "seg-label", x: (x0 + x1) / 2, y: (y(y0) + y(y1)) / 2 - 5, "text-anchor": "middle" }, label + (r.retransmit ? " (retransmission)" : ""));
    // Wireshark's verdict from the wire, as its Info column shows it; ≠ where synack knows otherwise.
    if (v !== undefined && v.summary !== "") text.append(s("tspan", { class: "ws-flags" }, ` ${v.summary}`));
    if (v?.disagreement !== undefined) text.append(s("tspan", { class: "disagree-mark" }, " ≠"));
    g.append(text);
    if (opts.onSelect !== undefined) {
      g.addEventListener("click", () => opts.onSelect?.(r.id));
      g.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          opts.onSelect?.(r.id);
        }
      });
    }
    svg.append(g);
  }
  svg.append(s("line", { class: "cursor", id: "cursor-line", x1: 0, x2: width, y1: y(cursorY), y2: y(cursorY) }));
  return svg;
}
