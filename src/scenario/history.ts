/**
 * Connections as the trace saw them. A 4-tuple can be used by several connections one
 * after another (S11's old and new attempt, S28's reuse after TIME_WAIT), so events are
 * grouped into incarnations: a new one starts at each transition out of CLOSED or LISTEN.
 */
import type { Millis } from "../env.js";
import type { FourTuple, TcpState, TraceEvent } from "../trace/events.js";
import { connectionKey } from "../trace/format.js";

export interface Incarnation {
  host: string;
  tuple: FourTuple;
  /** Index (in the event list) of the transition that created it. */
  start: number;
  /** Its events, in order, with their indexes. */
  events: Array<{ event: TraceEvent; index: number }>;
}

export class History {
  private readonly byKey = new Map<string, Incarnation[]>();
  private readonly byHost = new Map<string, Incarnation[]>();

  constructor(readonly events: readonly TraceEvent[]) {
    // Events seen for a 4-tuple before it has a connection (the SYN a listener receives).
    const early = new Map<string, Array<{ event: TraceEvent; index: number }>>();
    events.forEach((event, index) => {
      const tuple = "tuple" in event ? event.tuple : undefined;
      if (tuple === undefined || !("host" in event)) return;
      const key = connectionKey(event.host, tuple);
      if (event.type === "state" && (event.from === "CLOSED" || event.from === "LISTEN")) {
        const inc: Incarnation = { host: event.host, tuple, start: index, events: early.get(key) ?? [] };
        early.delete(key);
        push(this.byKey, key, inc);
        push(this.byHost, event.host, inc);
      }
      const list = this.byKey.get(key);
      const current = list?.[list.length - 1];
      if (current !== undefined) current.events.push({ event, index });
      else push(early, key, { event, index });
    });
  }

  /** The incarnation of (host, tuple) that was current at event index `index`. */
  at(host: string, tuple: FourTuple, index: number): Incarnation | undefined {
    const list = this.byKey.get(connectionKey(host, tuple)) ?? [];
    let found: Incarnation | undefined;
    for (const inc of list) if (inc.start < index) found = inc;
    return found;
  }

  ofHost(host: string): readonly Incarnation[] {
    return this.byHost.get(host) ?? [];
  }
}

/** The state an incarnation was in at time `t` (after everything at t); CLOSED before it began. */
export function stateAt(inc: Incarnation, t: Millis): TcpState {
  let state: TcpState = "CLOSED";
  for (const { event } of inc.events) {
    if (event.time > t) break;
    if (event.type === "state") state = event.to;
  }
  return state;
}

function push<K, V>(m: Map<K, V[]>, key: K, value: V): void {
  const list = m.get(key);
  if (list === undefined) m.set(key, [value]);
  else list.push(value);
}
