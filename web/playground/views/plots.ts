/**
 * Plots over (linear) time with the cursor as a vertical line: cwnd and ssthresh, RTT
 * samples with SRTT and RTO, bytes in flight, listener queues, and Stevens' time-sequence
 * graph (segments as vertical bars, retransmissions and losses marked, the ACK line and
 * SACK blocks), as Wireshark's TCP stream graphs draw them.
 */
import type { Millis } from "../../../src/env.js";
import type { Series, TimeSeq } from "../model/at.js";
import { fmtTime, s } from "./dom.js";

const W = 520;
const H = 170;
const L = 56;
const R = 10;
const T = 16;
const B = 22;

interface Frame {
  svg: SVGSVGElement;
  x: (t: Millis) => number;
  y: (v: number) => number;
}

function frame(id: string, title: string, end: Millis, max: number, cursor: Millis, unit: string): Frame {
  const svg = s("svg", { class: "plot", id, width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  const x = (t: Millis): number => L + ((W - L - R) * t) / Math.max(end, 1);
  const y = (v: number): number => H - B - ((H - T - B) * v) / Math.max(max, 1);
  svg.append(s("text", { class: "plot-title", x: L, y: 12 }, title));
  svg.append(s("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
  svg.append(s("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
  svg.append(s("text", { class: "tick", x: L - 4, y: T + 8, "text-anchor": "end" }, `${fmtNum(max)}${unit}`));
  svg.append(s("text", { class: "tick", x: L - 4, y: H - B, "text-anchor": "end" }, "0"));
  svg.append(s("text", { class: "tick", x: W - R, y: H - 6, "text-anchor": "end" }, fmtTime(end)));
  svg.append(s("line", { class: "plot-cursor", x1: x(cursor), x2: x(cursor), y1: T, y2: H - B }));
  return { svg, x, y };
}

function fmtNum(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return String(Math.round(v));
}

export function renderSeriesPlot(id: string, title: string, series: readonly Series[], end: Millis, cursor: Millis, unit = ""): SVGSVGElement {
  let max = 1;
  for (const se of series) for (const p of se.points) max = Math.max(max, p.v);
  max *= 1.1;
  const f = frame(id, title, end, max, cursor, unit);
  series.forEach((se, i) => {
    if (se.points.length === 0) return;
    let d = "";
    se.points.forEach((p, j) => {
      const px = f.x(p.t).toFixed(1);
      const py = f.y(p.v).toFixed(1);
      if (j === 0) d += `M ${px} ${py}`;
      else if (se.step) d += ` H ${px} V ${py}`;
      else d += ` L ${px} ${py}`;
    });
    if (se.step) d += ` H ${f.x(end).toFixed(1)}`;
    // The values up to the cursor, for readers of the page (and its tests).
    const upTo = se.points.filter((p) => p.t <= cursor).map((p) => p.v);
    f.svg.append(s("path", { class: `series s${i}`, d, "data-series": se.name, "data-values": upTo.join(" ") }));
    f.svg.append(s("text", { class: `legend-text s${i}`, x: W - R - 4, y: T + 12 + i * 12, "text-anchor": "end" }, `${se.name}${upTo.length > 0 ? ` = ${fmtNum(upTo[upTo.length - 1]!)}` : ""}`));
  });
  return f.svg;
}

export function renderTimeSeq(id: string, title: string, ts: TimeSeq, end: Millis, cursor: Millis): SVGSVGElement {
  let max = 1;
  for (const seg of ts.segments) max = Math.max(max, seg.to);
  for (const a of ts.acks) max = Math.max(max, a.v);
  max *= 1.05;
  const f = frame(id, title, end, max, cursor, " B");
  for (const seg of ts.segments) {
    const cls = `tseg${seg.retransmit ? " retransmit" : ""}${seg.lost ? " lost" : ""}`;
    f.svg.append(s("line", { class: cls, x1: f.x(seg.t), x2: f.x(seg.t), y1: f.y(seg.from), y2: f.y(seg.to) }));
  }
  for (const sk of ts.sacks) f.svg.append(s("line", { class: "tsack", x1: f.x(sk.t), x2: f.x(sk.t) + 3, y1: f.y(sk.from), y2: f.y(sk.to) }));
  if (ts.acks.length > 0) {
    let d = `M ${f.x(ts.acks[0]!.t).toFixed(1)} ${f.y(ts.acks[0]!.v).toFixed(1)}`;
    for (const a of ts.acks.slice(1)) d += ` H ${f.x(a.t).toFixed(1)} V ${f.y(a.v).toFixed(1)}`;
    f.svg.append(s("path", { class: "tack", d }));
  }
  return f.svg;
}
