/**
 * A Stack: one synack host (IPv4, IPv6, TCP) together with the driver that runs it in time,
 * seen from the application. It is the one object both user APIs sit on: the Web Streams
 * API here (`connect`, `listen`) and the node:net-compatible API in src/node/net.ts.
 *
 * The engine is sans-IO: application calls on a connection only mark work, and segments
 * leave on the next `poll`. Everything that calls into the engine on the application's
 * behalf therefore ends with `kick()`, which asks the driver for that poll.
 */
import { IpAddress, type IpFamily } from "../wire/address.js";
import type { Millis } from "../env.js";
import type { Host } from "../host/host.js";
import type { Connection } from "../tcp/connection.js";
import { Listener, SOMAXCONN } from "../tcp/listener.js";
import { TCP_STATES, type TcpState } from "../trace/events.js";
import { checkPortNumber, formatAddress, resolveHostname } from "./address.js";
import type { Driver } from "./driver.js";
import { AddressInUseError, InvalidArgumentError, NetworkDownError, SocketError, socketError, toSocketError } from "./errors.js";
import { StreamServer, type ListenOptions } from "./stream-server.js";
import { StreamSocket, type ConnectOptions } from "./stream-socket.js";
import type { OpenConnectionParams, SocketStack } from "./socket-stack.js";
import { buildTable, countStates, formatTable, type TableRow } from "./table.js";
import { StubResolver, type ResolverConfig } from "../dns/resolver.js";
import { showValue } from "../show-value.js";

export interface StackOptions {
  host: Host;
  driver: Driver;
  /**
   * Name servers for host names in connect() (a stub resolver over this stack's own UDP,
   * src/dns/resolver.ts): `{ servers: ["10.0.0.53"] }`. Without it only address literals
   * and "localhost" connect, unless a `lookup` is passed.
   */
  dns?: ResolverConfig;
}

export type { OpenConnectionParams };

export class Stack implements SocketStack {
  readonly host: Host;
  readonly driver: Driver;
  /** Where the search for a free listening port (port 0) resumes. */
  private portCursor = 0;
  #dns: StubResolver | undefined;
  #closed = false;

  constructor(opts: StackOptions) {
    if (typeof opts !== "object" || opts === null || typeof opts.host !== "object" || opts.host === null || typeof opts.driver !== "object" || opts.driver === null) {
      throw new InvalidArgumentError(`new Stack(options): options must be { host, driver } (SimDriver's addStack() and NodeStack make them), got ${showValue(opts)}`);
    }
    this.host = opts.host;
    this.driver = opts.driver;
    if (opts.dns !== undefined) this.configureDns(opts.dns);
    // Application calls made between packets (connect, close) are stamped with driver time.
    this.host.tcp.setClock(() => this.driver.now());
  }

  get name(): string {
    return this.host.name;
  }

  /** The primary IPv4 address, dotted. */
  get address(): string {
    return formatAddress(this.host.address);
  }

  now(): Millis {
    return this.driver.now();
  }

  /** Asks the driver for a poll soon: call after any application call on the engine. */
  kick(): void {
    this.driver.schedule();
  }

  // ---------------------------------------------------------------------------------------
  // The Web Streams API

  /** Opens a TCP connection: `{ readable, writable, opened, closed, close() }`. */
  connect(options: ConnectOptions): StreamSocket {
    return StreamSocket.connect(this, options);
  }

  /** Listens on a port; the result yields a StreamSocket per accepted connection. */
  listen(options: ListenOptions): StreamServer {
    return new StreamServer(this, options);
  }

  // ---------------------------------------------------------------------------------------
  // Engine-level calls shared by both APIs (errors translated to SocketError)

  /**
   * From now on nothing opens on this stack: connect and listen fail with ENETDOWN, at
   * once, as on a host whose interface is down, rather than wait for a driver that no
   * longer runs (NodeStack.close()).
   */
  protected markClosed(): void {
    this.#closed = true;
  }

  private checkOpen(what: string): void {
    if (this.#closed) throw new NetworkDownError(`${what}: stack ${this.name} is closed`);
  }

  /** Active open. The source address is the one the routing table picks for the destination. */
  openConnection(p: OpenConnectionParams): Connection {
    if (typeof p !== "object" || p === null) throw new InvalidArgumentError(`openConnection(params): params must be an object, got ${showValue(p)}`);
    this.checkOpen("connect");
    const unreachable = this.unreachable(p.remoteAddress);
    if (unreachable !== undefined) throw socketError("ENETUNREACH", `${p.remoteAddress.toString()}: ${unreachable}`);
    // Linux __ip_route_output_key and tcp_v6_connect: the unspecified address means this
    // host's loopback one (node:net on Linux then reports 127.0.0.1 or ::1 as remote).
    const remoteAddr = p.remoteAddress instanceof IpAddress && p.remoteAddress.kind === "unspecified" ? (p.remoteAddress.family === 4 ? IpAddress.LOOPBACK4 : IpAddress.LOOPBACK6) : p.remoteAddress;
    try {
      const localAddr = this.host.route(remoteAddr).source;
      const conn = this.host.tcp.connect({
        localAddr,
        remoteAddr,
        remotePort: p.remotePort,
        ...(p.localPort === undefined ? {} : { localPort: p.localPort }),
        ...(p.fastOpen === true ? { fastOpen: true } : {}),
      });
      this.kick();
      return conn;
    } catch (e) {
      throw toSocketError(e);
    }
  }

  /**
   * Why no SYN can go to `remote`, as Linux's tcp_v4_connect / tcp_v6_connect refuse at once
   * with ENETUNREACH: a multicast group or the broadcast address (TCP is one to one).
   */
  private unreachable(remote: IpAddress): string | undefined {
    if (!(remote instanceof IpAddress)) return undefined; // the engine refuses it with its own error
    const kind = remote.kind;
    if (kind === "multicast" || kind === "broadcast") return `TCP does not connect to a ${kind} address`;
    return undefined;
  }

  /**
   * Passive open. Port 0 picks a free port from the ephemeral range, as bind(0) does.
   * `fastOpen`: the listener's Fast Open queue length (TCP_FASTOPEN), which takes effect
   * when the stack's `tcp.fastOpen` has the server bit (0x2), as on Linux.
   */
  openListener(port: number, backlog?: number, family?: IpFamily, fastOpen?: number): Listener {
    checkPortNumber("port", port, true);
    this.checkOpen("listen");
    if (fastOpen !== undefined && !(Number.isInteger(fastOpen) && fastOpen >= 0)) throw new SocketError("EINVAL", `fastOpen must be a queue length (a non-negative integer), got ${showValue(fastOpen)}`);
    try {
      const l = this.host.tcp.listen(port === 0 ? this.freePort() : port, backlog);
      if (family !== undefined) l.family = family;
      if (fastOpen !== undefined) l.fastOpenQueueLimit = Math.min(fastOpen, SOMAXCONN);
      return l;
    } catch (e) {
      throw toSocketError(e);
    }
  }

  /** Stops listening; connections still queued are reset (as Linux does). */
  closeListener(listener: Listener): void {
    if (!(listener instanceof Listener)) throw new InvalidArgumentError(`closeListener(listener): not a Listener of this stack, got ${showValue(listener)}`);
    this.host.tcp.closeListener(listener);
    this.kick();
  }

  /** The stub resolver connect() uses for names, if `dns` was configured. */
  get dns(): StubResolver | undefined {
    return this.#dns;
  }

  /** Sets (or replaces) the name servers connect() asks about host names. Throws DnsError EINVAL for a bad setting. */
  configureDns(config: ResolverConfig): StubResolver {
    this.#dns = new StubResolver(
      {
        now: () => this.driver.now(),
        setTimer: (at, fn) => this.driver.setTimer(at, fn),
        rng: this.host.rng,
        openUdp: () => this.host.udp.open(),
        kick: () => this.kick(),
        openTcp: (address, port) => this.openConnection({ remoteAddress: address, remotePort: port }),
      },
      config,
    );
    return this.#dns;
  }

  /** "10.0.0.2" or "fd00::2" -> IpAddress (throws ENOTFOUND / EINVAL). */
  resolve(hostname: string): IpAddress {
    return resolveHostname(hostname);
  }

  // ---------------------------------------------------------------------------------------
  // The connection table (S34)

  /** Every listener and connection with state, queues, timer and counters. */
  table(): TableRow[] {
    return buildTable(this.host.tcp, this.driver.now());
  }

  /** How many sockets are in `state` (e.g. "SYN_RCVD" during a flood); all sockets without one. */
  count(state?: TcpState | readonly TcpState[]): number {
    // A misspelt state would count 0 sockets forever: refused instead.
    const names: readonly unknown[] = state === undefined ? [] : typeof state === "string" ? [state] : Array.isArray(state) ? state : [undefined];
    for (const name of names) if (!TCP_STATES.includes(name as TcpState)) throw new InvalidArgumentError(`count(state): a TCP state (${TCP_STATES.join(", ")}) or a list of them, got ${showValue(name === undefined ? state : name)}`);
    if (state === "LISTEN") return this.host.tcp.allListeners().length;
    if (state === undefined || typeof state !== "string") return countStates(this.table(), state);
    let n = 0;
    for (const s of this.host.tcp.allSockets()) if (s.info.state === state) n++;
    return n;
  }

  /** The table as text, like `ss -tan -o`. */
  formatTable(): string {
    return formatTable(this.table());
  }

  private freePort(): number {
    const [low, high] = this.host.tcp.config.ephemeralPorts;
    const span = high - low + 1;
    const used = new Set<number>(this.host.tcp.allListeners().map((l) => l.port));
    for (const s of this.host.tcp.allSockets()) used.add(s.info.tuple.localPort);
    for (let i = 0; i < span; i++) {
      const port = low + ((this.portCursor + i) % span);
      if (!used.has(port)) {
        this.portCursor = (port - low + 1) % span;
        return port;
      }
    }
    throw new AddressInUseError("no free port left in the ephemeral range");
  }
}
