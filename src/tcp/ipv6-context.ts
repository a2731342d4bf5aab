/**
 * What a connection over IPv6 sees as its context (RFC 8200 section 5, RFC 6691): its
 * layer's, with 20 more bytes of IP header and so 20 bytes less MTU, since connections
 * compute their MSS as `mtu - 40`. It wraps any ConnectionContext (the layer is one), so
 * the layer that makes it is not imported here.
 */
import type { Millis } from "../env.js";
import type { TcpState, TraceSink } from "../trace/events.js";
import type { IpAddress } from "../wire/address.js";
import type { TcpSegment } from "../wire/tcp.js";
import type { TcpConfig } from "./config.js";
import type { Connection, ConnectionContext } from "./connection.js";
import type { PathView } from "./path.js";

/** The layer seen by a connection over IPv6: 20 more bytes of IP header, so 20 less MTU. */
export class Ipv6Context implements ConnectionContext {
  constructor(private readonly layer: ConnectionContext) {}
  get config(): TcpConfig {
    return this.layer.config;
  }
  get hostName(): string {
    return this.layer.hostName;
  }
  get timerSlack(): Millis {
    return this.layer.timerSlack;
  }
  get timerGranularity(): Millis {
    return this.layer.timerGranularity;
  }
  get trace(): TraceSink {
    return this.layer.trace;
  }
  get mtu(): number {
    return this.layer.mtu - 20;
  }
  get pathGeneration(): number {
    return this.layer.pathGeneration;
  }
  path(remote: IpAddress, now: Millis): PathView {
    const p = this.layer.path(remote, now);
    return { mtu: p.mtu - 20, metrics: p.metrics };
  }
  learnPathMtu(remote: IpAddress, mtu: number, now: Millis): number {
    return this.layer.learnPathMtu(remote, mtu, now) - 20;
  }
  now(): Millis {
    return this.layer.now();
  }
  transmit(conn: Connection, seg: TcpSegment, retransmit: boolean, ecn?: number): void {
    this.layer.transmit(conn, seg, retransmit, ecn);
  }
  burst(open: boolean): void {
    this.layer.burst(open);
  }
  stateChanged(conn: Connection, from: TcpState, to: TcpState): void {
    this.layer.stateChanged(conn, from, to);
  }
  touched(conn: Connection, wantsFlush: boolean): void {
    this.layer.touched(conn, wantsFlush);
  }
  mayEstablish(conn: Connection): boolean {
    return this.layer.mayEstablish(conn);
  }
  mayEnterTimeWait(conn: Connection): boolean {
    return this.layer.mayEnterTimeWait(conn);
  }
}
