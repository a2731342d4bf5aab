/**
 * Gauges at the cursor: a listener's SYN queue and accept queue, and each connection's
 * send window as the classic sliding-window bar (acked | in flight | usable | not allowed)
 * with its receive buffer underneath.
 */
import type { ConnectionInfo } from "../../../src/tcp/connection.js";
import { seqDiff } from "../../../src/wire/seq.js";
import type { QueueState } from "../model/at.js";
import { fmtBytes, h } from "./dom.js";

function bar(label: string, value: number, limit: number, attrs: Record<string, string | number>): HTMLElement {
  const pct = limit > 0 ? Math.min(100, (100 * value) / limit) : 0;
  const full = limit > 0 && value >= limit;
  const fill = h("div", { class: `fill${full ? " full" : ""}`, style: `width:${pct}%` });
  return h(
    "div",
    { class: "gauge", ...attrs, "data-value": value, "data-limit": limit, role: "meter", "aria-label": label, "aria-valuenow": value, "aria-valuemin": 0, "aria-valuemax": limit },
    h("span", { class: "gauge-label" }, label),
    h("div", { class: "track" }, fill),
    h("span", { class: "gauge-value" }, `${value} / ${limit}${full ? " full" : ""}`),
  );
}

export function renderQueues(host: string, queues: readonly QueueState[]): HTMLElement {
  const box = h("div", { class: "queues", "data-host": host });
  if (queues.length === 0) {
    box.append(h("p", { class: "muted" }, `${host}: no listener`));
    return box;
  }
  for (const q of queues) {
    box.append(h("h4", {}, `${host} listening on port ${q.port}`));
    box.append(bar("SYN queue", q.syn, q.synLimit, { "data-host": host, "data-queue": "syn" }));
    box.append(bar("accept queue", q.accept, q.backlog, { "data-host": host, "data-queue": "accept" }));
    box.append(h("p", { class: "counters" }, `SYNs dropped (queue full): ${q.synDrops} · accept-queue drops: ${q.acceptDrops} · `, h("span", { class: "cookies", "data-cookies": q.cookiesSent }, `SYN cookies sent: ${q.cookiesSent}`)));
  }
  return box;
}

/** The send window of a connection, in bytes relative to SND.UNA, and its receive buffer. */
export function renderWindow(host: string, c: ConnectionInfo | undefined): HTMLElement {
  const box = h("div", { class: "window", "data-host": host });
  if (c === undefined) {
    box.append(h("p", { class: "muted" }, `${host}: no connection`));
    return box;
  }
  const inflight = Math.max(0, seqDiff(c.sndNxt, c.sndUna));
  const allowed = Math.min(c.sndWnd, c.cwnd);
  const usable = Math.max(0, allowed - inflight);
  const acked = Math.max(0, seqDiff(c.sndUna, c.iss) - 1);
  const span = Math.max(inflight + usable, 1) * 1.25;
  const pct = (n: number): string => `${Math.min(100, (100 * n) / span).toFixed(2)}%`;
  const notAllowed = Math.max(0, span - inflight - usable);
  box.append(h("h4", {}, `${host} send window`));
  const wbar = h(
    "div",
    { class: "wbar", "data-host": host, "data-wnd": c.sndWnd, "data-inflight": inflight, "data-usable": usable, "data-cwnd": c.cwnd, role: "img", "aria-label": `${host}: ${inflight} bytes in flight, ${usable} usable, window ${c.sndWnd}` },
    h("div", { class: "acked", style: "width:12%" }, "acked"),
    h("div", { class: "inflight", style: `width:${pct(inflight)}` }, inflight > 0 ? "in flight" : ""),
    h("div", { class: "usable", style: `width:${pct(usable)}` }, usable > 0 ? "usable" : ""),
    h("div", { class: "notallowed", style: `width:${pct(notAllowed)}` }, "not allowed"),
  );
  box.append(wbar);
  box.append(
    h("p", { class: "legend" }, `acked ${fmtBytes(acked)} · in flight ${fmtBytes(inflight)} · usable ${fmtBytes(usable)} · peer window ${fmtBytes(c.sndWnd)}${c.sndWnd === 0 ? " (zero window)" : ""} · cwnd ${fmtBytes(c.cwnd)} · queued ${fmtBytes(c.sendQueued)}`),
  );
  const held = c.receiveQueued + c.outOfOrderBytes;
  const total = held + c.rcvWnd;
  box.append(h("h4", {}, `${host} receive buffer`));
  box.append(
    h(
      "div",
      { class: "rbar", "data-host": host, "data-rcvwnd": c.rcvWnd, "data-queued": c.receiveQueued },
      h("div", { class: "queued", style: `width:${total > 0 ? (100 * c.receiveQueued) / total : 0}%` }, c.receiveQueued > 0 ? "unread" : ""),
      h("div", { class: "ooo", style: `width:${total > 0 ? (100 * c.outOfOrderBytes) / total : 0}%` }, c.outOfOrderBytes > 0 ? "out of order" : ""),
      h("div", { class: "free", style: `width:${total > 0 ? (100 * c.rcvWnd) / total : 100}%` }, "window"),
    ),
  );
  box.append(h("p", { class: "legend" }, `unread ${fmtBytes(c.receiveQueued)} · out of order ${fmtBytes(c.outOfOrderBytes)} · advertised window ${fmtBytes(c.rcvWnd)}`));
  return box;
}
