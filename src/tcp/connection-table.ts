/**
 * Connections by 4-tuple. Every arriving segment is looked up here, so nothing is built
 * per lookup: an open-addressing hash table (linear probing) whose keys are three 32-bit
 * words in typed arrays (local address, remote address, local port << 16 | remote port)
 * hashed with Math.imul. A Map keyed by 48-bit numbers allocated a heap number per lookup,
 * and a server kept one inner Map per client (address, port): a Map created and dropped
 * per connection.
 *
 * Both families share the table: an address is hashed as one 32-bit word (the IPv4
 * address itself, or the four words of an IPv6 address folded together), and IPv6
 * entries keep their addresses beside the words for the exact comparison.
 *
 * An entry is a full Connection, or a number: the slot of a compact TIME_WAIT record
 * (time-wait.ts) when at least 0, or -(slot + 1) for a half-open request record
 * (request-table.ts). Replacing one by the other keeps the entry's insertion number, so tables
 * list sockets in insertion order, as the Map did, whatever the hash order.
 */
import type { FourTuple } from "../trace/events.js";
import type { IpAddress } from "../wire/address.js";
import type { Connection } from "./connection.js";

const INITIAL_CAPACITY = 64; // a power of two
/**
 * The ports word (localPort << 16 | remotePort) of an empty bucket. No entry has it: that
 * takes both ports 0, and a connection's local port never is (connect and listen refuse it,
 * and a segment to port 0 finds no listener to make a record). Probes test it in `ports`, the
 * array they compare first anyway, so a lookup reads three arrays per bucket rather than
 * four (the insertion numbers in `order` are read only to list entries): in a client's table
 * of tens of thousands of TIME_WAIT records each array read can be a cache miss of its own.
 */
const EMPTY = 0;

export class ConnectionTable {
  private capacity = INITIAL_CAPACITY;
  private mask = INITIAL_CAPACITY - 1;
  private count = 0;
  private localAddrs = new Uint32Array(INITIAL_CAPACITY);
  private remoteAddrs = new Uint32Array(INITIAL_CAPACITY);
  private ports = new Uint32Array(INITIAL_CAPACITY);
  /** Insertion number of the entry in each bucket (0 in an empty bucket, whose ports word is EMPTY). */
  private order = new Uint32Array(INITIAL_CAPACITY);
  private values: (Connection | number | undefined)[] = new Array<Connection | number | undefined>(INITIAL_CAPACITY).fill(undefined);
  /**
   * The 4-tuple of IPv6 entries, for their addresses (undefined for IPv4, whose word is the
   * address); the array itself is made by the first IPv6 entry, so an IPv4-only table pays
   * no 8 B a bucket for it. The tuple given to addEntry is kept as it is, never written: a
   * connection's own, so an entry costs no object of its own (an [local, remote] pair was
   * 64 B per IPv6 connection).
   */
  private v6Addrs: (FourTuple | undefined)[] | undefined;
  private nextOrder = 1;

  /** Entries, TIME_WAIT records included. */
  get size(): number {
    return this.count;
  }

  /** The entry for a 4-tuple: a connection, a TIME_WAIT slot, or undefined. */
  lookup(localAddr: IpAddress, localPort: number, remoteAddr: IpAddress, remotePort: number): Connection | number | undefined {
    const i = this.find(localAddr, remoteAddr, ((localPort << 16) | remotePort) >>> 0);
    return i < 0 ? undefined : this.values[i];
  }

  /** The full connection for a 4-tuple (not a TIME_WAIT record). */
  get(localAddr: IpAddress, localPort: number, remoteAddr: IpAddress, remotePort: number): Connection | undefined {
    const e = this.lookup(localAddr, localPort, remoteAddr, remotePort);
    return typeof e === "object" ? e : undefined;
  }

  /** Whether the 4-tuple is in use in any state, TIME_WAIT records included. */
  has(t: FourTuple): boolean {
    return this.lookup(t.localAddr, t.localPort, t.remoteAddr, t.remotePort) !== undefined;
  }

  /** Adds `conn`, or replaces the entry that has its 4-tuple. */
  add(conn: Connection): void {
    this.addEntry(conn.tuple, conn);
  }

  /** Adds an entry (a connection or a record's number), or replaces the one that has its 4-tuple. */
  addEntry(t: FourTuple, conn: Connection | number): void {
    const la = fold(t.localAddr);
    const ra = fold(t.remoteAddr);
    const p = ((t.localPort << 16) | t.remotePort) >>> 0;
    if (p === EMPTY) throw new RangeError("a 4-tuple with both ports 0 cannot be a connection");
    const found = this.find(t.localAddr, t.remoteAddr, p);
    if (found >= 0) {
      this.values[found] = conn;
      // The newcomer's tuple (the same addresses): a request record's, kept until now, can go.
      if (this.v6Addrs !== undefined && this.v6Addrs[found] !== undefined) this.v6Addrs[found] = t;
      return;
    }
    // Load factor at most 3/4: with a hash that spreads every key bit, linear probing stays
    // short (about 2.5 probes for a hit, 8.5 for a miss at the worst), and each entry of a
    // big table costs 25 to 66 bytes of buckets rather than 50 to 100 at 1/2.
    if (4 * (this.count + 1) > 3 * this.capacity) this.resize(this.capacity * 2);
    if (this.nextOrder === 0xffffffff) this.renumber();
    let i = hash(la, ra, p) & this.mask;
    while (this.ports[i] !== EMPTY) i = (i + 1) & this.mask;
    this.localAddrs[i] = la;
    this.remoteAddrs[i] = ra;
    this.ports[i] = p;
    this.order[i] = this.nextOrder++;
    this.values[i] = conn;
    if (t.localAddr.family === 6) (this.v6Addrs ??= new Array<FourTuple | undefined>(this.capacity).fill(undefined))[i] = t;
    else if (this.v6Addrs !== undefined) this.v6Addrs[i] = undefined;
    this.count++;
  }

  /** Removes this connection object (not merely one with the same tuple). */
  delete(conn: Connection): void {
    const t = conn.tuple;
    this.deleteEntry(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, conn);
  }

  /** Puts TIME_WAIT slot `slot` in the place of `conn`; false if `conn` is not in the table. */
  replace(conn: Connection, slot: number): boolean {
    const t = conn.tuple;
    const i = this.find(t.localAddr, t.remoteAddr, ((t.localPort << 16) | t.remotePort) >>> 0);
    if (i < 0 || this.values[i] !== conn) return false;
    this.values[i] = slot;
    return true;
  }

  /** Removes the entry for a 4-tuple if it is `entry`. */
  deleteEntry(localAddr: IpAddress, localPort: number, remoteAddr: IpAddress, remotePort: number, entry: Connection | number): void {
    let i = this.find(localAddr, remoteAddr, ((localPort << 16) | remotePort) >>> 0);
    if (i < 0 || this.values[i] !== entry) return;
    this.count--;
    // Backward-shift deletion: entries after the hole move up unless they sit at or after their home bucket.
    const mask = this.mask;
    const v6s = this.v6Addrs;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.ports[j] === EMPTY) break;
      const home = hash(this.localAddrs[j]!, this.remoteAddrs[j]!, this.ports[j]!) & mask;
      // Move j into i when its home bucket is not cyclically in (i, j].
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      this.localAddrs[i] = this.localAddrs[j]!;
      this.remoteAddrs[i] = this.remoteAddrs[j]!;
      this.ports[i] = this.ports[j]!;
      this.order[i] = this.order[j]!;
      this.values[i] = this.values[j];
      if (v6s !== undefined) v6s[i] = v6s[j];
      i = j;
    }
    this.ports[i] = EMPTY;
    this.order[i] = 0;
    this.values[i] = undefined;
    if (v6s !== undefined) v6s[i] = undefined;
    // Give memory back once mostly empty (a server's table after a burst of connections).
    if (this.capacity > INITIAL_CAPACITY && 8 * this.count < this.capacity) this.resize(this.capacity / 2);
  }

  /** Full connections only, in insertion order. */
  *connections(): IterableIterator<Connection> {
    for (const e of this.entries()) if (typeof e === "object") yield e;
  }

  /** Every entry in insertion order (those `keep` selects, if given): connections and record numbers. */
  entries(keep?: (e: Connection | number) => boolean): (Connection | number)[] {
    const idx: number[] = [];
    for (let i = 0; i < this.capacity; i++) if (this.ports[i] !== EMPTY && (keep === undefined || keep(this.values[i]!))) idx.push(i);
    idx.sort((a, b) => this.order[a]! - this.order[b]!);
    return idx.map((i) => this.values[i]!);
  }

  /** Insertion numbers ran out (2^32 insertions): number the live entries 1..n again, in the same order. */
  private renumber(): void {
    const idx: number[] = [];
    for (let i = 0; i < this.capacity; i++) if (this.ports[i] !== EMPTY) idx.push(i);
    idx.sort((a, b) => this.order[a]! - this.order[b]!);
    this.nextOrder = 1;
    for (const i of idx) this.order[i] = this.nextOrder++;
  }

  private find(local: IpAddress, remote: IpAddress, p: number): number {
    const la = fold(local);
    const ra = fold(remote);
    const v6 = local.family === 6;
    const mask = this.mask;
    let i = hash(la, ra, p) & mask;
    const ports = this.ports;
    const v6s = this.v6Addrs;
    for (;;) {
      const q = ports[i]!;
      if (q === EMPTY) return -1;
      if (q === p && this.remoteAddrs[i] === ra && this.localAddrs[i] === la) {
        const a = v6s?.[i];
        // Same words: the same IPv4 tuple, or an IPv6 one if the addresses themselves match.
        if (v6 ? a !== undefined && a.localAddr.equals(local) && a.remoteAddr.equals(remote) : a === undefined) return i;
      }
      i = (i + 1) & mask;
    }
  }

  private resize(capacity: number): void {
    const { localAddrs, remoteAddrs, ports, order, values, v6Addrs } = this;
    const old = this.capacity;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.localAddrs = new Uint32Array(capacity);
    this.remoteAddrs = new Uint32Array(capacity);
    this.ports = new Uint32Array(capacity);
    this.order = new Uint32Array(capacity);
    this.values = new Array<Connection | number | undefined>(capacity).fill(undefined);
    this.v6Addrs = v6Addrs === undefined ? undefined : new Array<FourTuple | undefined>(capacity).fill(undefined);
    for (let j = 0; j < old; j++) {
      if (ports[j] === EMPTY) continue;
      let i = hash(localAddrs[j]!, remoteAddrs[j]!, ports[j]!) & this.mask;
      while (this.ports[i] !== EMPTY) i = (i + 1) & this.mask;
      this.localAddrs[i] = localAddrs[j]!;
      this.remoteAddrs[i] = remoteAddrs[j]!;
      this.ports[i] = ports[j]!;
      this.order[i] = order[j]!;
      this.values[i] = values[j];
      if (v6Addrs !== undefined) this.v6Addrs![i] = v6Addrs[j];
    }
  }
}

/** One 32-bit word for an address: an IPv4 address itself, an IPv6 address's words folded. */
function fold(a: IpAddress): number {
  if (a.family === 4) return a.w3;
  return (a.w0 ^ Math.imul(a.w1, 0x9e3779b1) ^ Math.imul(a.w2, 0x85ebca6b) ^ Math.imul(a.w3, 0xc2b2ae35)) >>> 0;
}

/** MurmurHash3 (x86, 32-bit) of the three key words: every input bit reaches the low bits used as the index. */
function hash(la: number, ra: number, p: number): number {
  let h = mixIn(0x9747b28c, la);
  h = mixIn(h, ra);
  h = mixIn(h, p);
  h ^= 12;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixIn(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
