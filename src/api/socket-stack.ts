/**
 * What sockets, servers and name connects need from the stack that made them. `Stack` is
 * the one implementation; naming the need here, rather than importing Stack, keeps the
 * stack above its sockets: it makes them, they only call back.
 */
import type { Millis } from "../env.js";
import type { StubResolver } from "../dns/resolver.js";
import type { Connection } from "../tcp/connection.js";
import type { Listener } from "../tcp/listener.js";
import type { IpAddress, IpFamily } from "../wire/address.js";
import type { Driver } from "./driver.js";

export interface OpenConnectionParams {
  remoteAddress: IpAddress;
  remotePort: number;
  /** Default: an ephemeral port (32768-60999, never one whose 4-tuple is in TIME_WAIT). */
  localPort?: number;
  /** TCP Fast Open (RFC 7413): data written before the SYN leaves rides in it when a cookie is cached. */
  fastOpen?: boolean;
}

export interface SocketStack {
  readonly driver: Driver;
  /** The stub resolver for host names, if the stack was given name servers. */
  readonly dns: StubResolver | undefined;
  now(): Millis;
  /** Asks the driver for a poll soon: called after any application call on the engine. */
  kick(): void;
  /** "10.0.0.2" or "fd00::2" -> IpAddress (throws ENOTFOUND / EINVAL). */
  resolve(hostname: string): IpAddress;
  openConnection(p: OpenConnectionParams): Connection;
  openListener(port: number, backlog?: number, family?: IpFamily, fastOpen?: number): Listener;
  closeListener(listener: Listener): void;
}
