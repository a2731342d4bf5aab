/** Builds the connection table (trace/table.ts) of a live host at the current time. */
import type { Millis } from "../env.js";
import type { Host } from "../host/host.js";
import { formatTcpInfo, tcpInfo } from "../tcp/tcp-info.js";
import type { HostTable, SocketRow } from "../trace/table.js";
import { formatEndpoint } from "../trace/format.js";

/** `info` adds each connection's TCP_INFO as `ss -i` prints it. */
export function hostTable(host: Host, now: Millis, opts: { info?: boolean } = {}): HostTable {
  const sockets: SocketRow[] = [];
  for (const l of host.tcp.allListeners()) {
    sockets.push({
      state: "LISTEN",
      recvQ: l.acceptQueue.length,
      sendQ: l.backlog,
      local: `0.0.0.0:${l.port}`,
      peer: "0.0.0.0:*",
      synQueue: { length: l.synQueue.size, limit: l.synQueueLimit, drops: l.synQueueDrops, acceptDrops: l.acceptQueueDrops },
    });
  }
  for (const { info: i, connection: c } of host.tcp.allSockets()) {
    const row: SocketRow = {
      state: i.state,
      recvQ: i.receiveQueued,
      sendQ: i.sendQueued,
      local: formatEndpoint(i.tuple.localAddr, i.tuple.localPort),
      peer: formatEndpoint(i.tuple.remoteAddr, i.tuple.remotePort),
    };
    const timer = runningTimer(i.state, i.timers, i.retries, now);
    if (timer !== undefined) row.timer = timer;
    // A compact TIME_WAIT record has no TCP_INFO (Linux's ss -i prints none for TIME_WAIT either).
    if (opts.info === true && c !== undefined) row.info = formatTcpInfo(tcpInfo(c, now), c.congestion.algorithm.name);
    sockets.push(row);
  }
  return { host: host.name, address: host.address.toString(), time: now, sockets };
}

/** The timer `ss -o` would show: the earliest one armed, named the way ss names it. */
function runningTimer(state: string, t: { rto: number; persist: number; keepalive: number; delayedAck: number; linger: number }, retries: number, now: Millis): SocketRow["timer"] {
  const candidates: Array<[NonNullable<SocketRow["timer"]>["name"], number]> = [
    ["on", t.rto],
    ["persist", t.persist],
    ["keepalive", t.keepalive],
    [state === "TIME_WAIT" ? "timewait" : "finwait2", t.linger],
  ];
  let best: SocketRow["timer"];
  for (const [name, at] of candidates) {
    if (at !== Infinity && (best === undefined || at - now < best.remaining)) best = { name, remaining: at - now, retries };
  }
  if (best === undefined && t.delayedAck !== Infinity) best = { name: "delack", remaining: t.delayedAck - now, retries: 0 };
  return best;
}
