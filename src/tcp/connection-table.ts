/**
 * Connections by 4-tuple. Every arriving segment is looked up here, so the key is numeric:
 * two exact 48-bit keys, remote (address, port) then local (address, port), in nested maps.
 * Both a server (one local port, many remotes) and a client (one remote, many local ports)
 * find a connection in two hash lookups, and no string is built per packet.
 *
 * An entry is a full Connection, or a number: the slot of a compact TIME_WAIT record
 * (time-wait.ts). Replacing one by the other keeps the entry's place, so tables list
 * sockets in the same order as before the handover.
 */
import type { FourTuple } from "../trace/events.js";
import type { Connection } from "./connection.js";

export class ConnectionTable {
  private readonly byRemote = new Map<number, Map<number, Connection | number>>();
  private count = 0;

  /** Entries, TIME_WAIT records included. */
  get size(): number {
    return this.count;
  }

  /** The entry for a 4-tuple: a connection, a TIME_WAIT slot, or undefined. */
  lookup(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): Connection | number | undefined {
    return this.byRemote.get(remoteAddr * 65536 + remotePort)?.get(localAddr * 65536 + localPort);
  }

  /** The full connection for a 4-tuple (not a TIME_WAIT record). */
  get(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): Connection | undefined {
    const e = this.lookup(localAddr, localPort, remoteAddr, remotePort);
    return typeof e === "object" ? e : undefined;
  }

  /** Whether the 4-tuple is in use in any state, TIME_WAIT records included. */
  has(t: FourTuple): boolean {
    return this.lookup(t.localAddr, t.localPort, t.remoteAddr, t.remotePort) !== undefined;
  }

  add(conn: Connection): void {
    const t = conn.tuple;
    const key = t.remoteAddr * 65536 + t.remotePort;
    let inner = this.byRemote.get(key);
    if (inner === undefined) {
      inner = new Map();
      this.byRemote.set(key, inner);
    }
    const local = t.localAddr * 65536 + t.localPort;
    if (!inner.has(local)) this.count++;
    inner.set(local, conn);
  }

  /** Removes this connection object (not merely one with the same tuple). */
  delete(conn: Connection): void {
    const t = conn.tuple;
    this.deleteEntry(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, conn);
  }

  /** Puts TIME_WAIT slot `slot` in the place of `conn`; false if `conn` is not in the table. */
  replace(conn: Connection, slot: number): boolean {
    const t = conn.tuple;
    const inner = this.byRemote.get(t.remoteAddr * 65536 + t.remotePort);
    const local = t.localAddr * 65536 + t.localPort;
    if (inner === undefined || inner.get(local) !== conn) return false;
    inner.set(local, slot);
    return true;
  }

  /** Removes the entry for a 4-tuple if it is `entry`. */
  deleteEntry(localAddr: number, localPort: number, remoteAddr: number, remotePort: number, entry: Connection | number): void {
    const key = remoteAddr * 65536 + remotePort;
    const inner = this.byRemote.get(key);
    const local = localAddr * 65536 + localPort;
    if (inner === undefined || inner.get(local) !== entry) return;
    inner.delete(local);
    this.count--;
    if (inner.size === 0) this.byRemote.delete(key);
  }

  /** Full connections only. */
  *values(): IterableIterator<Connection> {
    for (const inner of this.byRemote.values()) for (const e of inner.values()) if (typeof e === "object") yield e;
  }

  /** Every entry in table order: connections and TIME_WAIT slots. */
  *entries(): IterableIterator<Connection | number> {
    for (const inner of this.byRemote.values()) yield* inner.values();
  }
}
