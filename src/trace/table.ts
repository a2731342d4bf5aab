/**
 * The connection table, as `ss -tan -o` prints it (S34): one row per connection and
 * listener with state, queues, addresses and the running timer. A SYN flood shows up as a
 * wall of SYN_RCVD, the way `netstat -n | grep SYN_RECV` shows it in the documents.
 *
 * The renderer takes plain rows; building them from a live stack is the caller's job.
 */
import type { Millis } from "../env.js";
import type { TcpState } from "./events.js";
import { formatDuration, formatTime } from "./format.js";

export interface SocketRow {
  state: TcpState;
  /** Listener: connections waiting in the accept queue; connection: bytes received, unread. */
  recvQ: number;
  /** Listener: the backlog; connection: bytes queued, not yet acknowledged. */
  sendQ: number;
  local: string;
  peer: string;
  timer?: { name: "on" | "persist" | "keepalive" | "timewait" | "delack" | "finwait2"; remaining: Millis; retries: number };
  /** Listener detail: the half-open queue (SYN_RCVD count) and its limit, and drops. */
  synQueue?: { length: number; limit: number; drops: number; acceptDrops: number };
  /** Connection detail as `ss -i` prints it on a line of its own (already formatted). */
  info?: string;
}

export interface HostTable {
  host: string;
  address: string;
  time: Millis;
  sockets: SocketRow[];
}

export interface TableOptions {
  /** Show at most this many rows per state (a flood has thousands); the rest are counted. */
  maxPerState?: number;
}

const HEAD = ["State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port", "Details"];

export function renderTable(t: HostTable, opts: TableOptions = {}): string[] {
  const out: string[] = [`${t.host} (${t.address}) at ${formatTime(t.time)}: ${summary(t.sockets)}`];
  const limit = opts.maxPerState ?? Infinity;
  const shown: Array<{ cells: string[]; info: string | undefined }> = [];
  const perState = new Map<string, number>();
  const hiddenPerState = new Map<string, number>();
  for (const s of t.sockets) {
    const n = (perState.get(s.state) ?? 0) + 1;
    perState.set(s.state, n);
    if (n > limit) {
      hiddenPerState.set(s.state, (hiddenPerState.get(s.state) ?? 0) + 1);
      continue;
    }
    shown.push({ cells: [s.state, String(s.recvQ), String(s.sendQ), s.local, s.peer, detail(s)], info: s.info });
  }
  const widths = HEAD.map((h, i) => Math.max(h.length, ...shown.map((r) => r.cells[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  out.push(line(HEAD));
  for (const r of shown) {
    out.push(line(r.cells));
    if (r.info !== undefined) out.push(`\t ${r.info}`); // ss -i: the detail line, tab-indented
  }
  for (const [state, n] of hiddenPerState) out.push(`... and ${n} more in ${SUMMARY_NAMES[state] ?? state.toLowerCase()}`);
  return out;
}

/** ss -s's words for the states: the summary line must not match `grep SYN_RCVD`, only rows do. */
const SUMMARY_NAMES: Record<string, string> = {
  CLOSED: "closed", LISTEN: "listen", SYN_SENT: "synsent", SYN_RCVD: "synrecv", ESTABLISHED: "estab",
  FIN_WAIT_1: "finwait1", FIN_WAIT_2: "finwait2", CLOSE_WAIT: "closewait", CLOSING: "closing", LAST_ACK: "lastack", TIME_WAIT: "timewait",
};

/** "2 sockets (estab 1, listen 1)", like `ss -s`. */
function summary(sockets: readonly SocketRow[]): string {
  if (sockets.length === 0) return "no sockets";
  const counts = new Map<string, number>();
  for (const s of sockets) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  const parts = [...counts].map(([state, n]) => `${SUMMARY_NAMES[state] ?? state.toLowerCase()} ${n}`);
  return `${sockets.length} socket${sockets.length === 1 ? "" : "s"} (${parts.join(", ")})`;
}

function detail(s: SocketRow): string {
  const parts: string[] = [];
  if (s.timer !== undefined) parts.push(`timer:(${s.timer.name},${formatDuration(Math.max(0, s.timer.remaining))},${s.timer.retries})`);
  if (s.synQueue !== undefined) {
    const q = s.synQueue;
    parts.push(`synq:${q.length}/${q.limit}`);
    if (q.drops > 0) parts.push(`syn-drops:${q.drops}`);
    if (q.acceptDrops > 0) parts.push(`accept-drops:${q.acceptDrops}`);
  }
  return parts.join(" ");
}
