/**
 * A listening socket (S4, S7): LISTEN state plus Linux's two queues.
 *
 * - The SYN queue holds half-open (SYN_RCVD) entries: compact request records kept by the
 *   layer (request-table.ts, counted here), and the few handshakes kept as full connections
 *   (Fast Open ones). When it is full a new SYN is dropped (the client's SYN
 *   retransmission retries later), or answered with a cookie.
 * - The accept queue holds ESTABLISHED connections the application has not accepted yet.
 *   When it is full the final ACK of a handshake is dropped, so the connection stays in
 *   SYN_RCVD and the SYN-ACK retransmission gives it another chance (Linux behaviour).
 */
import type { IpFamily } from "../wire/address.js";
import type { TcpConfig } from "./config.js";
import type { Connection } from "./connection.js";
import { typeOfServiceBits } from "./socket-options.js";

/** Linux caps listen() backlogs at net.core.somaxconn. */
export const SOMAXCONN = 4096;

/** The SYN queue: request records (counted) and half-open connections (held). */
export class SynQueue {
  /** Half-open entries that are full connections (a Fast Open handshake). */
  readonly connections = new Set<Connection>();
  /** Half-open entries that are request records in the layer's table. */
  records = 0;
  /**
   * A request record's child while it processes the segment that completes its handshake
   * (TcpLayer.establishRequest): held here rather than in the Set, which it nearly always
   * leaves again within that call. A Set emptied and refilled per connection rehashed
   * its table every few additions, and hashing a new object costs a runtime call.
   */
  private completing: Connection | undefined;

  get size(): number {
    return this.connections.size + this.records + (this.completing !== undefined ? 1 : 0);
  }

  /** Takes `conn` out of the queue; whether it was in it. */
  remove(conn: Connection): boolean {
    if (this.completing === conn) {
      this.completing = undefined;
      return true;
    }
    return this.connections.size > 0 && this.connections.delete(conn);
  }

  /** A child joins the queue for the segment it is about to process (see `completing`). */
  holdCompleting(conn: Connection): void {
    if (this.completing === undefined) this.completing = conn;
    else this.connections.add(conn); // a nested handshake: the Set, as before
  }

  /** The segment is processed: a child still half-open (neither established nor closed) stays, in the Set. */
  settleCompleting(conn: Connection): void {
    if (this.completing !== conn) return;
    this.completing = undefined;
    this.connections.add(conn);
  }
}

export class Listener {
  readonly synQueue = new SynQueue();
  readonly acceptQueue: Connection[] = [];
  /** Called (after processing) when the accept queue gained a connection. */
  onConnection: ((listener: Listener) => void) | undefined;
  /** In the layer's list of listeners to call onConnection for (TcpLayer.deliverWakes). */
  woken = false;
  closed = false;
  /** Settings its connections get (per-socket options set on the listening socket); the layer's when undefined. */
  config: TcpConfig | undefined;

  // Drop counters (S7): what a `netstat -s` would show as ListenOverflows / ListenDrops.
  synQueueDrops = 0;
  acceptQueueDrops = 0;
  /** SYN cookies sent, and final ACKs whose cookie was valid / invalid (S12). */
  cookiesSent = 0;
  cookiesAccepted = 0;
  cookiesRejected = 0;
  /** When a SYN last found the queue full; cookies are only checked for a while after (Linux). */
  lastOverflow = -Infinity;
  /**
   * TCP Fast Open (RFC 7413 5.1): at most this many children whose handshake is not complete
   * (TCP_FASTOPEN's qlen, Linux fastopenq.max_qlen); 0 = no Fast Open on this listener.
   */
  fastOpenQueueLimit = 0;
  /** Fast Open children still in SYN_RCVD (Linux fastopenq.qlen). */
  fastOpenQueued = 0;
  /**
   * IP_TOS / IPV6_TCLASS of the SYN-ACKs it answers with and of the connections it makes
   * (`setTypeOfService`; Connection.typeOfService).
   */
  typeOfService = 0;

  readonly backlog: number;
  /**
   * The family it takes, when bound to one (an IPv4 address, or IPv6 only); undefined:
   * both, as a dual-stack socket bound to :: (Linux bindv6only=0). Segments of the other
   * family are answered as if nobody listened.
   */
  family: IpFamily | undefined = undefined;

  constructor(
    readonly port: number,
    backlog: number,
    readonly synQueueLimit: number,
  ) {
    this.backlog = Math.max(1, Math.min(backlog, SOMAXCONN));
  }

  get synQueueFull(): boolean {
    return this.synQueue.size >= this.synQueueLimit;
  }

  get acceptQueueFull(): boolean {
    return this.acceptQueue.length >= this.backlog;
  }

  /** Takes the oldest established connection, or undefined when none is waiting. */
  accept(): Connection | undefined {
    return this.acceptQueue.shift();
  }

  /** IP_TOS / IPV6_TCLASS on the listening socket (0..255): for SYN-ACKs from now on and the connections made after. */
  setTypeOfService(tos: number): void {
    this.typeOfService = typeOfServiceBits(tos);
  }
}

/**
 * Listeners to call onConnection for, each once: an array and a flag on each listener, not
 * a Set, whose clear() reallocates its table (once per accepted connection here).
 */
export class ListenerWakes {
  private list: Listener[] = [];

  get size(): number {
    return this.list.length;
  }

  add(l: Listener): void {
    if (l.woken) return;
    l.woken = true;
    this.list.push(l);
  }

  /** The listeners woken so far, in order, taken off the list: one woken again meanwhile joins the next batch. */
  take(): Listener[] {
    const batch = this.list;
    this.list = [];
    for (const l of batch) l.woken = false;
    return batch;
  }
}
