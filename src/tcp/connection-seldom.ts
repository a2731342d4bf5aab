/**
 * The fields of a connection that most connections never set, or set only for a while: the
 * error it ended with, the last ICMP error, the TIME_WAIT record that took its place, the
 * challenge-ACK and zero-window-probe times, SO_KEEPALIVE, Fast Open, urgent data, the
 * time of our SYN, the count of segments resent, the route's metrics and IP_TOS (and, for
 * ConnectionStats, the time of the first event until the handshake is done). Their values live
 * in one object made by the first write of anything but a default, and given back by
 * Connection.settle once all are at their defaults again (the SYN's time goes back to 0
 * when SYN_SENT is left), so an idle connection pays one field for all of them instead
 * of one each (the first thirteen: 96 B, bench/heap.js). None of them is read for every
 * segment but `ka` (one field read more on the arrival path) and `typeOfService` (on the
 * way out). Connection (connection.ts) extends this
 * class; everything else reads and writes these names as fields of the connection.
 *
 * It extends ConnectionStats (tcp-stats.ts), the bottom of the chain: a connection's
 * TCP_INFO bookkeeping lives in the connection object itself (`conn.stats` is the
 * connection), not in an object of its own, 32 B less per connection (header and pointer).
 */
import type { Millis } from "../env.js";
import type { TcpError, TcpErrorCode } from "./errors.js";
import type { FastOpenState } from "./fast-open/state.js";
import type { KeepAlive } from "./keepalive.js";
import { ConnectionStats } from "./tcp-stats.js";
import type { TimeWaitRef } from "./time-wait.js";
import type { UrgentReceiver, UrgentSender } from "./urgent.js";

export class ConnectionSeldom extends ConnectionStats {
  // The holder (`seldom`, seldom.ts) and held() are ConnectionStats': its time of the first event is kept there too.

  /** Lets the holder go when nothing in it differs from the defaults (Connection.settle). */
  protected settleSeldom(): void {
    if (this.seldom?.unused === true) this.seldom = undefined;
  }

  /**
   * Set by the layer when a compact TIME_WAIT record (time-wait.ts) took this connection's
   * place; `state` reads CLOSED once that record has ended.
   */
  get timeWaitRecord(): TimeWaitRef | undefined { return this.seldom?.timeWaitRecord; }
  set timeWaitRecord(v: TimeWaitRef | undefined) { if (v !== undefined || this.seldom !== undefined) this.held().timeWaitRecord = v; }

  /** Why the connection ended abnormally, once it has. */
  get error(): TcpError | undefined { return this.seldom?.error; }
  set error(v: TcpError | undefined) { if (v !== undefined || this.seldom !== undefined) this.held().error = v; }

  /** When the last RFC 5961 challenge ACK left (none yet: undefined, not -Infinity, a heap number each). */
  protected get lastChallengeAck(): Millis | undefined { return this.seldom?.lastChallengeAck; }
  protected set lastChallengeAck(v: Millis | undefined) { if (v !== undefined || this.seldom !== undefined) this.held().lastChallengeAck = v; }

  /** The last ICMP error since an ACK came (Linux sk_err_soft): reported instead of ETIMEDOUT. */
  get softError(): TcpErrorCode | undefined { return this.seldom?.softError; }
  set softError(v: TcpErrorCode | undefined) { if (v !== undefined || this.seldom !== undefined) this.held().softError = v; }

  /**
   * When the first probe of the current zero-window episode went out (Linux
   * icsk_probes_tstamp); 0 until then. An answer does not reset it: the window must open.
   */
  get persistSince(): Millis { return this.seldom?.persistSince ?? 0; }
  set persistSince(v: Millis) { if (v !== 0 || this.seldom !== undefined) this.held().persistSince = v; }

  /** When our first SYN went out (Linux retrans_stamp at tcp_connect): a SYN-ACK must echo a timestamp since. 0 outside SYN_SENT. */
  get synSentAt(): Millis { return this.seldom?.synSentAt ?? 0; }
  set synSentAt(v: Millis) { if (v !== 0 || this.seldom !== undefined) this.held().synSentAt = v; }

  /** SO_KEEPALIVE and its times, made by setKeepAlive (keepalive.ts). */
  get ka(): KeepAlive | undefined { return this.seldom?.ka; }
  set ka(v: KeepAlive | undefined) { if (v !== undefined || this.seldom !== undefined) this.held().ka = v; }

  /** TCP Fast Open (RFC 7413) for this connection, when its SYN asked for or used it (fast-open/). */
  get fastOpen(): FastOpenState | undefined { return this.seldom?.fastOpen; }
  set fastOpen(v: FastOpenState | undefined) { if (v !== undefined || this.seldom !== undefined) this.held().fastOpen = v; }

  /** Urgent data (RFC 9293 3.8.5): our SND.UP, the peer's mark and byte (urgent.ts); none until first used. */
  get urgentOutPart(): UrgentSender | undefined { return this.seldom?.urgentOut; }
  set urgentOutPart(v: UrgentSender | undefined) { if (v !== undefined || this.seldom !== undefined) this.held().urgentOut = v; }
  get urgentInPart(): UrgentReceiver | undefined { return this.seldom?.urgentIn; }
  set urgentInPart(v: UrgentReceiver | undefined) { if (v !== undefined || this.seldom !== undefined) this.held().urgentIn = v; }

  /** Segments resent, SYN and FIN included (TCP_INFO's tcpi_total_retrans): 0 on most connections. */
  get retransmits(): number { return this.seldom?.retransmits ?? 0; }
  set retransmits(n: number) { if (n !== 0 || this.seldom !== undefined) this.held().retransmits = n; }

  /**
   * IP_TOS / IPV6_TCLASS: the DSCP bits of the TOS (IPv4) or traffic class (IPv6) byte of
   * every segment this connection sends, its ECN bits 0 (TCP sets those, RFC 3168 6.1.1).
   */
  get typeOfService(): number { return this.seldom?.typeOfService ?? 0; }
  set typeOfService(v: number) { if (v !== 0 || this.seldom !== undefined) this.held().typeOfService = v; }

  // The path's (path.ts): the route's metrics (ip route's advmss and initcwnd, 0 when the route sets none).
  /** The route's advmss (0: none, the MSS follows from the MTU). */
  get advmss(): number { return this.seldom?.advmss ?? 0; }
  set advmss(n: number) { if (n !== 0 || this.seldom !== undefined) this.held().advmss = n; }
  /** The route's initcwnd in segments (0: none, the setting's). */
  get initcwnd(): number { return this.seldom?.initcwnd ?? 0; }
  set initcwnd(n: number) { if (n !== 0 || this.seldom !== undefined) this.held().initcwnd = n; }
}
