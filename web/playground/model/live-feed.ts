/**
 * The live view's record of what a running stack sent (src/trace/live-protocol.ts): trace
 * events read back into TraceEvents, packets as bytes, and connection snapshots, each kept
 * once (a reconnect's history overlaps what the page already has: ids say which is new)
 * and at most `cap` of each, the oldest dropped first, like the server's history.
 *
 * The connection list the picker shows (4-tuples seen so far, with their latest state)
 * is read from the events; nothing here runs engine logic.
 */
import type { ConnectionInfo } from "../../../src/tcp/connection-info.js";
import type { FourTuple, TcpState, TraceEvent } from "../../../src/trace/events.js";
import { eventFromJson, tupleFromJson } from "../../../src/trace/jsonl-read.js";
import type { JsonObject, LiveHello, LiveMessage } from "../../../src/trace/live-protocol.js";
import type { ListenerSnap } from "./session.js";

export interface LivePacket {
  time: number;
  dir: "in" | "out";
  bytes: Uint8Array;
}

export interface LiveSnapshot {
  time: number;
  host: string;
  listeners: ListenerSnap[];
  conns: ConnectionInfo[];
}

export interface LiveConnection {
  key: string;
  /** As the stack sees it: local is the stack's end. */
  tuple: FourTuple;
  state: TcpState;
  first: number;
  last: number;
}

export const DEFAULT_PAGE_CAP = 50_000;

export function connectionKey(t: FourTuple): string {
  return `${t.localAddr.toString()}:${t.localPort}>${t.remoteAddr.toString()}:${t.remotePort}`;
}

export class LiveLog {
  hello: LiveHello | undefined;
  readonly events: TraceEvent[] = [];
  readonly packets: LivePacket[] = [];
  readonly snapshots: LiveSnapshot[] = [];
  /** Messages read, and those that were not understood (counted, not thrown). */
  messages = 0;
  rejected = 0;
  private lastId = 0;
  private readonly conns = new Map<string, LiveConnection>();

  constructor(readonly cap = DEFAULT_PAGE_CAP) {}

  /** One server-sent event's data (and id). Returns whether it changed anything. */
  add(data: string, id: string): boolean {
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      this.rejected++;
      return false;
    }
    // Every message is a JSON object (live-protocol.ts); null, a number or an array is not one.
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return reject(this);
    if (isHello(msg)) {
      // A server that restarted numbers its messages from 1 again: what the page holds is of another run.
      if (msg.history.last < this.lastId) this.clear();
      this.hello = msg;
      return true;
    }
    const n = Number(id);
    if (id !== "" && Number.isInteger(n)) {
      if (n <= this.lastId) return false;
      this.lastId = n;
    }
    this.messages++;
    const m = msg as LiveMessage;
    if (m.kind === "event") {
      const e = eventFromJson(m.event);
      if (e === undefined) return reject(this);
      push(this.events, e, this.cap);
      this.noteConnection(e);
    } else if (m.kind === "packet" && typeof m.base64 === "string" && typeof m.time === "number") {
      const bytes = fromBase64(m.base64);
      if (bytes === undefined) return reject(this);
      push(this.packets, { time: m.time, dir: m.dir === "in" ? "in" : "out", bytes }, this.cap);
    } else if (m.kind === "snapshot" && Array.isArray(m.conns) && Array.isArray(m.listeners)) {
      const conns: ConnectionInfo[] = [];
      for (const c of m.conns) {
        const info = infoFromJson(c);
        if (info !== undefined) conns.push(info);
      }
      push(this.snapshots, { time: m.time, host: m.host, listeners: m.listeners as unknown as ListenerSnap[], conns }, this.cap);
    } else return reject(this);
    return true;
  }

  private clear(): void {
    this.events.length = 0;
    this.packets.length = 0;
    this.snapshots.length = 0;
    this.conns.clear();
    this.lastId = 0;
  }

  /** The connections seen so far, newest first. */
  connections(): LiveConnection[] {
    return [...this.conns.values()].sort((a, b) => b.first - a.first);
  }

  private noteConnection(e: TraceEvent): void {
    if (e.type !== "segment-in" && e.type !== "segment-out" && e.type !== "state") return;
    const key = connectionKey(e.tuple);
    let c = this.conns.get(key);
    if (c === undefined) {
      c = { key, tuple: e.tuple, state: e.type === "state" ? e.from : "CLOSED", first: e.time, last: e.time };
      this.conns.set(key, c);
    }
    c.last = e.time;
    if (e.type === "state") c.state = e.to;
  }
}

function reject(log: LiveLog): false {
  log.rejected++;
  return false;
}

function isHello(v: unknown): v is LiveHello {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "hello";
}

function push<T>(list: T[], item: T, cap: number): void {
  list.push(item);
  // Drop in chunks: one splice per tenth of the cap instead of one shift per message.
  if (list.length > cap + Math.ceil(cap / 10)) list.splice(0, list.length - cap);
}

/** The bytes of a base64 text, or undefined if it is not base64 (atob throws InvalidCharacterError). */
function fromBase64(text: string): Uint8Array | undefined {
  let bin: string;
  try {
    bin = atob(text);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** ConnectionInfo from live-web.ts's infoJson: the tuple parsed, null back to undefined (srtt, error) or Infinity. */
export function infoFromJson(value: unknown): ConnectionInfo | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const j = value as JsonObject;
  const tuple = tupleFromJson(j["tuple"]);
  if (tuple === undefined || typeof j["state"] !== "string") return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(j)) {
    if (k === "tuple") out[k] = tuple;
    else if (v === null) out[k] = k === "srtt" || k === "error" ? undefined : Infinity;
    else out[k] = v;
  }
  return out as unknown as ConnectionInfo;
}
