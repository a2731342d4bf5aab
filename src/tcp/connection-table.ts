/**
 * Connections by 4-tuple. Every arriving segment is looked up here, so the key is cheap:
 * two exact `endpointKey`s, remote (address, port) then local (address, port), in nested
 * maps. For IPv4 they are 48-bit numbers, for IPv6 9-unit strings (wire/address.ts).
 * Both a server (one local port, many remotes) and a client (one remote, many local ports)
 * find a connection in two hash lookups, and no string is built per packet.
 */
import type { FourTuple } from "../trace/events.js";
import { endpointKey, type AddressKey, type IpAddress } from "../wire/address.js";
import type { Connection } from "./connection.js";

export class ConnectionTable {
  private readonly byRemote = new Map<AddressKey, Map<AddressKey, Connection>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(localAddr: IpAddress, localPort: number, remoteAddr: IpAddress, remotePort: number): Connection | undefined {
    return this.byRemote.get(endpointKey(remoteAddr, remotePort))?.get(endpointKey(localAddr, localPort));
  }

  has(t: FourTuple): boolean {
    return this.get(t.localAddr, t.localPort, t.remoteAddr, t.remotePort) !== undefined;
  }

  add(conn: Connection): void {
    const t = conn.tuple;
    const key = endpointKey(t.remoteAddr, t.remotePort);
    let inner = this.byRemote.get(key);
    if (inner === undefined) {
      inner = new Map();
      this.byRemote.set(key, inner);
    }
    const local = endpointKey(t.localAddr, t.localPort);
    if (!inner.has(local)) this.count++;
    inner.set(local, conn);
  }

  /** Removes this connection object (not merely one with the same tuple). */
  delete(conn: Connection): void {
    const t = conn.tuple;
    const key = endpointKey(t.remoteAddr, t.remotePort);
    const inner = this.byRemote.get(key);
    const local = endpointKey(t.localAddr, t.localPort);
    if (inner === undefined || inner.get(local) !== conn) return;
    inner.delete(local);
    this.count--;
    if (inner.size === 0) this.byRemote.delete(key);
  }

  *values(): IterableIterator<Connection> {
    for (const inner of this.byRemote.values()) yield* inner.values();
  }
}
