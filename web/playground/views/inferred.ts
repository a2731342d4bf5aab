/**
 * The ladder of an imported capture (model/inferred.ts): two lifelines, one for each end
 * of the conversation, and each packet drawn at the moment it was captured. A capture is
 * taken at one point, so there is no departure and arrival to join: arrows are level, as
 * in Wireshark's flow graph. Labelled "inferred": no engine ran.
 */
import { gapPx, TOP_PX } from "../model/timeaxis.js";
import type { InferredCapture, InferredPacket, InferredStream } from "../model/inferred.js";
import { fmtTime, h, s } from "./dom.js";
import { hexDump } from "./panes.js";

const COL_GAP = 420;
const MARGIN_X = 200;
const ROW_PX = 24;

/** One row per packet (level arrows need room for their labels), more for longer gaps; long ones are marked. */
function rows(stream: InferredStream): { ys: number[]; gaps: Array<{ y: number; ms: number }>; height: number } {
  const ys: number[] = [];
  const gaps: Array<{ y: number; ms: number }> = [];
  let y = TOP_PX;
  stream.packets.forEach((p, i) => {
    if (i > 0) {
      const ms = p.time - stream.packets[i - 1]!.time;
      const step = Math.max(ROW_PX, gapPx(ms));
      if (ms >= 1000) gaps.push({ y: y + step / 2, ms });
      y += step;
    }
    ys.push(y);
  });
  return { ys, gaps, height: y + TOP_PX };
}

export function renderInferredLadder(stream: InferredStream, opts: { selected?: number; zoom: number; onSelect: (frame: number) => void }): SVGSVGElement {
  const axis = rows(stream);
  const width = MARGIN_X * 2 + COL_GAP;
  const x = (c: number): number => MARGIN_X + c * COL_GAP;
  const y = (v: number): number => v * opts.zoom;
  const height = y(axis.height);
  const svg = s("svg", { id: "ladder", class: "ladder inferred", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `inferred sequence diagram of stream ${stream.id}` });
  svg.append(s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
  for (const g of axis.gaps) svg.append(s("text", { class: "break-label", x: width / 2, y: y(g.y) + 4, "text-anchor": "middle" }, `… ${(g.ms / 1000).toFixed(g.ms >= 10_000 ? 0 : 1)} s later …`));
  stream.ends.forEach((name, i) => {
    svg.append(s("text", { class: "host", x: x(i), y: 18, "text-anchor": "middle" }, name));
    svg.append(s("line", { class: "lifeline", x1: x(i), y1: 26, x2: x(i), y2: height }));
  });
  stream.packets.forEach((p, i) => {
    const yy = y(axis.ys[i]!);
    svg.append(s("text", { class: "time", x: 4, y: yy + 4 }, fmtTime(p.time)));
    const classes = ["segment", "inferred-packet"];
    if (p.seg.payload.length > 0) classes.push("data");
    if ((p.seg.flags & 4) !== 0) classes.push("rst");
    if (p.flags.some((f) => f.includes("retransmission") || f === "out_of_order")) classes.push("retransmit");
    if (p.flags.length > 0) classes.push("flagged");
    if (opts.selected === p.frame) classes.push("selected");
    const g = s("g", { class: classes.join(" "), "data-frame": p.frame, "data-label": p.label, "data-analysis": p.flags.join(" "), tabindex: 0, role: "button", "aria-label": `frame ${p.frame}: ${p.label} ${p.summary}` });
    const x0 = x(p.from);
    const x1 = x(p.to);
    g.append(s("line", { class: "hit", x1: x0, y1: yy, x2: x1, y2: yy }));
    g.append(s("line", { class: "wire", x1: x0, y1: yy, x2: x1, y2: yy, "marker-end": "url(#arrow)" }));
    const text = s("text", { class: "seg-label", x: (x0 + x1) / 2, y: yy - 4, "text-anchor": "middle" }, p.label.length > 60 ? `${p.label.slice(0, 58)}…` : p.label);
    if (p.summary !== "") text.append(s("tspan", { class: "ws-flags" }, ` ${p.summary}`));
    g.append(text);
    g.addEventListener("click", () => opts.onSelect(p.frame));
    g.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        opts.onSelect(p.frame);
      }
    });
    svg.append(g);
  });
  return svg;
}

export function renderInferredDetail(c: InferredCapture, stream: InferredStream, p: InferredPacket): HTMLElement {
  const box = h("div", { class: "detail inferred", "data-frame": p.frame });
  box.append(h("h4", {}, `Frame ${p.frame} of ${c.name}: ${stream.ends[p.from]} → ${stream.ends[p.to]}`));
  const rows: Array<[string, string]> = [
    ["label", p.label],
    ["captured at", fmtTime(p.time)],
    ["Sequence Number (raw)", String(p.seg.seq >>> 0)],
    ["Acknowledgment Number (raw)", String(p.seg.ack >>> 0)],
    ["Window (raw field)", String(p.seg.window)],
    ["TCP payload", `${p.seg.payload.length} bytes`],
    ["Wireshark's analysis (from the wire)", p.flags.length > 0 ? `${p.flags.map((f) => `tcp.analysis.${f}`).join(", ")}  ${p.summary}` : "no tcp.analysis flags"],
    ["the stack's reason", "unknown: inferred from a capture, no engine ran"],
  ];
  if (p.comment !== undefined) rows.push(["packet comment", p.comment]);
  const table = h("table", {});
  for (const [k, v] of rows) table.append(h("tr", {}, h("th", {}, k), h("td", { "data-field": k }, v)));
  box.append(table, h("pre", { class: "hex" }, hexDump(p.bytes)));
  return box;
}
