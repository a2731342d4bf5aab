/**
 * The RFC 9293 state diagram (section 3.3.2, figure 5) of one end, with its current state
 * lit and the transition it took last drawn bold. Transitions the figure does not draw
 * (a reset from any state to CLOSED, say) are added as a dashed arc when taken.
 */
import type { TcpState } from "../../../src/trace/events.js";
import type { HostState } from "../model/at.js";
import { EDGES } from "../model/rfc9293-diagram.js";
import { s } from "./dom.js";

const W = 110;
const H = 24;
const POS: Record<TcpState, [number, number]> = {
  CLOSED: [250, 24],
  LISTEN: [250, 84],
  SYN_RCVD: [80, 144],
  SYN_SENT: [420, 144],
  ESTABLISHED: [250, 204],
  FIN_WAIT_1: [80, 264],
  CLOSE_WAIT: [420, 264],
  FIN_WAIT_2: [80, 334],
  CLOSING: [250, 334],
  LAST_ACK: [420, 334],
  TIME_WAIT: [250, 404],
};


function edgePath(from: TcpState, to: TcpState): string {
  const [x0, y0] = POS[from];
  const [x1, y1] = POS[to];
  if (from === to) return `M ${x0 + W / 2} ${y0} c 30 -20 30 20 0 8`;
  // Leave and enter at the box edges facing each other.
  const dx = x1 - x0;
  const dy = y1 - y0;
  const sx = Math.abs(dx) * H > Math.abs(dy) * W ? Math.sign(dx) * (W / 2) : (dx * (H / 2)) / Math.abs(dy || 1);
  const sy = Math.abs(dx) * H > Math.abs(dy) * W ? (dy * (W / 2)) / Math.abs(dx || 1) : Math.sign(dy) * (H / 2);
  return `M ${x0 + sx} ${y0 + sy} L ${x1 - sx} ${y1 - sy}`;
}

export function renderFsm(host: string, st: HostState, justNow: boolean): SVGSVGElement {
  const svg = s("svg", { class: "fsm", "data-host": host, "data-state": st.state, width: 500, height: 430, viewBox: "0 0 500 430", role: "img", "aria-label": `${host}: ${st.state}` });
  const last = st.last;
  const edges = [...EDGES];
  if (last !== undefined && !edges.some(([a, b]) => a === last.from && b === last.to)) edges.push([last.from, last.to, last.cause]);
  for (const [from, to, label] of edges) {
    const taken = last !== undefined && last.from === from && last.to === to;
    const extra = !EDGES.some(([a, b]) => a === from && b === to);
    const cls = ["edge", taken ? "taken" : "", taken && justNow ? "just" : "", extra ? "extra" : ""].filter((c) => c !== "").join(" ");
    const g = s("g", { class: cls, "data-from": from, "data-to": to });
    g.append(s("path", { d: edgePath(from, to), "marker-end": "url(#fsm-arrow)" }));
    if (taken) {
      const [x0, y0] = POS[from];
      const [x1, y1] = POS[to];
      g.append(s("text", { class: "edge-label", x: (x0 + x1) / 2 + 6, y: (y0 + y1) / 2 - 4 }, last!.cause || label));
    } else g.append(s("title", {}, label));
    svg.append(g);
  }
  for (const [name, [cx, cy]] of Object.entries(POS) as Array<[TcpState, [number, number]]>) {
    const cur = name === st.state;
    const g = s("g", { class: `state${cur ? " current" : ""}`, "data-state": name });
    g.append(s("rect", { x: cx - W / 2, y: cy - H / 2, width: W, height: H, rx: 6 }));
    g.append(s("text", { x: cx, y: cy + 4, "text-anchor": "middle" }, name));
    svg.append(g);
  }
  svg.prepend(s("defs", {}, s("marker", { id: "fsm-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
  return svg;
}
