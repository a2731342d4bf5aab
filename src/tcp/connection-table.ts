/**
 * Connections by 4-tuple. Every arriving segment is looked up here, so the key is numeric:
 * two exact 48-bit keys, remote (address, port) then local (address, port), in nested maps.
 * Both a server (one local port, many remotes) and a client (one remote, many local ports)
 * find a connection in two hash lookups, and no string is built per packet.
 */
import type { FourTuple } from "../trace/events.js";
import type { Connection } from "./connection.js";

export class ConnectionTable {
  private readonly byRemote = new Map<number, Map<number, Connection>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(localAddr: number, localPort: number, remoteAddr: number, remotePort: number): Connection | undefined {
    return this.byRemote.get(remoteAddr * 65536 + remotePort)?.get(localAddr * 65536 + localPort);
  }

  has(t: FourTuple): boolean {
    return this.get(t.localAddr, t.localPort, t.remoteAddr, t.remotePort) !== undefined;
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
    const key = t.remoteAddr * 65536 + t.remotePort;
    const inner = this.byRemote.get(key);
    const local = t.localAddr * 65536 + t.localPort;
    if (inner === undefined || inner.get(local) !== conn) return;
    inner.delete(local);
    this.count--;
    if (inner.size === 0) this.byRemote.delete(key);
  }

  *values(): IterableIterator<Connection> {
    for (const inner of this.byRemote.values()) yield* inner.values();
  }
}
