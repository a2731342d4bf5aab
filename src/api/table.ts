/**
 * The connection table (S34): every listener and connection of a stack with its state,
 * queues, addresses, running timer and counters, like `ss -tan -o` / `netstat -n`.
 * "How many SYN_RCVD right now" is `countStates(rows, "SYN_RCVD")` (or `stack.count`).
 *
 * Rows carry the fields src/trace/table.ts renders (state, recvQ, sendQ, local, peer,
 * timer, synQueue) plus numbers a program would rather not parse (ports, counters).
 */
import { formatEndpoint } from "../trace/format.js";
import type { Millis } from "../env.js";
import type { ConnectionInfo } from "../tcp/connection.js";
import type { TcpLayer } from "../tcp/layer.js";
import type { Listener } from "../tcp/listener.js";
import type { TcpState } from "../trace/events.js";
import { formatAddress } from "./address.js";

export type TimerName = "on" | "persist" | "keepalive" | "timewait" | "delack" | "finwait2";

export interface TableRow {
  state: TcpState;
  /** Listener: connections waiting in the accept queue; connection: bytes received, unread. */
  recvQ: number;
  /** Listener: the backlog; connection: bytes queued and not yet acknowledged. */
  sendQ: number;
  /** "10.0.0.2:80", or "*:80" for a listener (it listens on every local address). */
  local: string;
  peer: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The earliest running timer, as ss -o shows it. */
  timer?: { name: TimerName; remaining: Millis; retries: number };
  /** Listener only: the half-open queue and its limit, and what each queue dropped. */
  synQueue?: { length: number; limit: number; drops: number; acceptDrops: number };
  /** Listener only: SYN cookies sent and validated (S12). */
  cookies?: { sent: number; accepted: number; rejected: number };
  /** Connection only. */
  counters?: { segmentsIn: number; segmentsOut: number; retransmits: number; bytesAcked: number; bytesReceived: number };
  /** Connection only: why it failed, once it has. */
  error?: string;
}

/** Every listener, then every connection, in the engine's order. */
export function buildTable(tcp: TcpLayer, now: Millis): TableRow[] {
  const rows: TableRow[] = [];
  for (const l of tcp.allListeners()) rows.push(listenerRow(l));
  for (const s of tcp.allSockets()) rows.push(connectionRow(s.info, now));
  return rows;
}

/** How many rows are in `state` (or in any of `states`); every row when no state is given. */
export function countStates(rows: readonly TableRow[], state?: TcpState | readonly TcpState[]): number {
  if (state === undefined) return rows.length;
  const wanted: readonly TcpState[] = typeof state === "string" ? [state] : state;
  let n = 0;
  for (const r of rows) if (wanted.includes(r.state)) n++;
  return n;
}

function listenerRow(l: Listener): TableRow {
  return {
    state: "LISTEN",
    recvQ: l.acceptQueue.length,
    sendQ: l.backlog,
    local: `*:${l.port}`,
    peer: "*:*",
    localAddress: "0.0.0.0",
    localPort: l.port,
    remoteAddress: "0.0.0.0",
    remotePort: 0,
    synQueue: { length: l.synQueue.size, limit: l.synQueueLimit, drops: l.synQueueDrops, acceptDrops: l.acceptQueueDrops },
    cookies: { sent: l.cookiesSent, accepted: l.cookiesAccepted, rejected: l.cookiesRejected },
  };
}

function connectionRow(i: ConnectionInfo, now: Millis): TableRow {
  const t = i.tuple;
  const localAddress = formatAddress(t.localAddr);
  const remoteAddress = formatAddress(t.remoteAddr);
  const row: TableRow = {
    state: i.state,
    recvQ: i.receiveQueued,
    sendQ: i.sendQueued,
    local: formatEndpoint(t.localAddr, t.localPort),
    peer: formatEndpoint(t.remoteAddr, t.remotePort),
    localAddress,
    localPort: t.localPort,
    remoteAddress,
    remotePort: t.remotePort,
    counters: {
      segmentsIn: i.segmentsIn, segmentsOut: i.segmentsOut, retransmits: i.retransmits, bytesAcked: i.bytesAcked, bytesReceived: i.bytesReceived,
    },
  };
  const timer = earliestTimer(i.timers, i.state, i.retries, now);
  if (timer !== undefined) row.timer = timer;
  if (i.error !== undefined) row.error = i.error;
  return row;
}

function earliestTimer(
  timers: { rto: number; tlp?: number; reorder?: number; persist: number; keepalive: number; delayedAck: number; linger: number },
  state: TcpState,
  retries: number,
  now: Millis,
): TableRow["timer"] {
  const candidates: [TimerName, number][] = [
    ["on", timers.rto],
    ["persist", timers.persist],
    ["keepalive", timers.keepalive],
    ["delack", timers.delayedAck],
    // The linger slot is TIME_WAIT's 2MSL in TIME_WAIT and the orphan timeout in FIN_WAIT_2.
    [state === "TIME_WAIT" ? "timewait" : "finwait2", timers.linger],
  ];
  let best: [TimerName, number] | undefined;
  for (const c of candidates) if (c[1] !== Infinity && (best === undefined || c[1] < best[1])) best = c;
  if (best === undefined) return undefined;
  return { name: best[0], remaining: Math.max(0, best[1] - now), retries };
}

/** A plain-text table for logs and terminals (columns as ss prints them). */
export function formatTable(rows: readonly TableRow[]): string {
  const head = ["State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Timer"];
  const cells = rows.map((r) => [
    r.state,
    String(r.recvQ),
    String(r.sendQ),
    r.local,
    r.peer,
    r.timer === undefined ? "" : `${r.timer.name}(${Math.round(r.timer.remaining)}ms,${r.timer.retries})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((x, i) => (i === 1 || i === 2 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(head), ...cells.map(line)].join("\n");
}
