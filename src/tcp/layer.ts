/**
 * The TCP layer of one host: connections demultiplexed by 4-tuple, listeners by port,
 * RSTs for segments that belong to nothing (S30), ephemeral ports, and the timer queue.
 *
 * Sans-IO: segments come in through `receive`, timers run in `poll`, and `nextDeadline`
 * says when `poll` is due. Segments leave through the `output` function given at
 * construction. Application calls on connections only mark them dirty; their segments
 * leave on the next `poll`, which `nextDeadline` asks for immediately.
 */
import type { Millis, Rng } from "../env.js";
import type { FourTuple, TcpState, TraceSink } from "../trace/events.js";
import { IpAddress, type AddressKey } from "../wire/address.js";
import type { IcmpQuote } from "../wire/icmp.js";
import type { Icmpv6Quote } from "../wire/icmpv6.js";
import { endsHalfOpen, icmpErrorMeaning, icmpv6ErrorMeaning } from "../ip/icmp-errors.js";
import { formatEndpoint } from "../trace/format.js";
import { seqAdd, seqGt, seqLt, type Seq } from "../wire/seq.js";
import { ECN_MASK } from "../wire/ip-ecn.js";
import { ecnOn, passiveOpenAgreesEcn } from "./ecn.js";
import { ACK, FIN, RST, SYN, type TcpSegment } from "../wire/tcp.js";
import type { TcpConfig } from "./config.js";
import { Connection, type ConnectionContext, type ConnectionInfo } from "./connection.js";
import { ConnectionTable } from "./connection-table.js";
import { AddressInUseError, checkAddress, checkObject, checkPort, checkTuple, InvalidArgumentError, type TcpErrorCode } from "./errors.js";
import { IsnGenerator } from "./isn.js";
import { Listener, ListenerWakes } from "./listener.js";
import { SynCookies, type CookieDecoding } from "./syn-cookies.js";
import { TimeWaitTable } from "./time-wait.js";
import { ESTABLISH, RequestTable } from "./request-table.js";
import { restoreChild } from "./request-child.js";
import { FastOpenCache } from "./fast-open/cache.js";
import { clientFastOpen } from "./fast-open/client.js";
import { parseKeys, randomKey, type FastOpenKey } from "./fast-open/cookie.js";
import { decideFastOpen } from "./fast-open/server.js";
import { TFO_SERVER_ENABLE, TFO_SERVER_WO_SOCKOPT1 } from "./fast-open/settings.js";
import { FastOpenState } from "./fast-open/state.js";
import { TimerQueue } from "./timer-queue.js";
import type { PathSource, PathView } from "./path.js";
import { Ipv6Context } from "./ipv6-context.js";
import { FlushList } from "./flush-list.js";
import { flushesBeforeInBatch, flushesInBatch } from "./batch.js";
import { advertisedMss, resetFor, resetTos } from "./control-segment.js";
import { showValue } from "../show-value.js";

export { AddressInUseError } from "./errors.js";

export interface TcpLayerOptions {
  hostName: string;
  config: TcpConfig;
  rng: Rng;
  trace: TraceSink;
  mtu: number;
  /** Routes and learned path MTUs per destination (the IP layer's). */
  paths: PathSource;
  /** The driver's clock, read when the application calls in between packets and timers. */
  clock?: () => Millis;
  /** Hands a TCP segment to IP for the given 4-tuple (local = source), with its TOS / traffic class byte: DSCP bits (IP_TOS) and ECN codepoint (RFC 3168); 0 when absent. */
  output: (tuple: FourTuple, segment: TcpSegment, tos?: number) => void;
  /** A connection's transmission pass starts or ends (Connection.burst; src/ip/gso-batch.ts). */
  burst?: (open: boolean) => void;
  /** How late the driver may call poll() after nextDeadline() (HostOptions.timerSlack; default 0). */
  timerSlack?: Millis;
  /** The shortest wait the driver's timers can express (HostOptions.timerGranularity; default 0). */
  timerGranularity?: Millis;
}

export interface ConnectParams {
  /** Both addresses are of one family: the connection's packets are IPv4 or IPv6. */
  localAddr: IpAddress;
  localPort?: number;
  remoteAddr: IpAddress;
  remotePort: number;
  /** The socket's own settings (per-socket options set before connect); the layer's by default. */
  config?: TcpConfig;
  /**
   * TCP Fast Open (RFC 7413): the SYN asks for a cookie, or carries a cached one and the
   * data queued before it leaves (send() right after connect()). `"no-cookie"`: data
   * without a cookie (TCP_FASTOPEN_NO_COOKIE).
   */
  fastOpen?: boolean | "no-cookie";
}

export class TcpLayer implements ConnectionContext {
  readonly config: TcpConfig;
  readonly hostName: string;
  readonly timerSlack: Millis;
  readonly timerGranularity: Millis;
  readonly trace: TraceSink;
  readonly mtu: number;
  private readonly connections = new ConnectionTable();
  private readonly listeners = new Map<number, Listener>();
  private readonly isn: IsnGenerator;
  private readonly cookies: SynCookies;
  /** Fast Open: cookies servers gave us (client), and our keys by their text (server). */
  readonly fastOpenCache = new FastOpenCache();
  private readonly fastOpenKeys = new Map<string, FastOpenKey[]>();
  private readonly rng: Rng;
  private readonly timers = new TimerQueue<Connection>();
  /** Connections that want a flush (flush-list.ts). */
  private readonly dirty = new FlushList<Connection>();
  /** The connection flushDirty is flushing (its timers are placed after the flush). */
  private flushing: Connection | undefined;
  /**
   * Connections to wake, [0, wokenCount): the array is never shortened, since setting a
   * JS array's length to 0 drops its storage and the next push (on every segment) allocates.
   */
  private readonly woken: (Connection | undefined)[] = [];
  private wokenCount = 0;
  private readonly listenersWoken = new ListenerWakes();
  /** Compact TIME_WAIT records, and connections that entered TIME_WAIT and await the handover. */
  private readonly timeWait: TimeWaitTable;
  private readonly enteringTimeWait: (Connection | undefined)[] = []; // [0, enteringCount), never shortened: as `woken`
  private enteringCount = 0;
  /** Half-open entries of listeners (request records); in the connection table as -(slot + 1). */
  private readonly requests: RequestTable;
  private nextEphemeral: number;
  private lastTime: Millis = 0;
  /** Open beginBatch calls: while above 0 the transmission pass is deferred (batch.ts). */
  private batchDepth = 0;
  private readonly output: TcpLayerOptions["output"];
  private readonly burstHook: TcpLayerOptions["burst"];
  private readonly paths: PathSource;
  private clock: (() => Millis) | undefined;
  /** What connections over IPv6 see as their context: the same layer, 20 bytes less MTU. */
  private readonly ipv6Context: ConnectionContext;

  // Host-wide counters (like `netstat -s`).
  rstsSent = 0;
  /** Connections in TIME_WAIT now, and closings that skipped it because the table was full (TCPTimeWaitOverflow). */
  timeWaitCount = 0;
  timeWaitOverflows = 0;
  segmentsWithoutConnection = 0;
  /** ICMP errors quoting a sequence number not in flight (Linux LINUX_MIB_OUTOFWINDOWICMPS). */
  outOfWindowIcmps = 0;

  constructor(opts: TcpLayerOptions) {
    this.config = opts.config;
    this.hostName = opts.hostName;
    this.timerSlack = opts.timerSlack ?? 0;
    this.timerGranularity = opts.timerGranularity ?? 0;
    this.trace = opts.trace;
    this.mtu = opts.mtu;
    this.output = opts.output;
    this.burstHook = opts.burst;
    this.paths = opts.paths;
    this.clock = opts.clock;
    this.isn = new IsnGenerator(opts.rng);
    this.cookies = new SynCookies(opts.rng);
    this.rng = opts.rng;
    const [low, high] = this.config.ephemeralPorts;
    this.nextEphemeral = low + (opts.rng.nextU32() % (high - low + 1));
    this.timeWait = new TimeWaitTable({
      hostName: this.hostName,
      trace: this.trace,
      now: () => this.now(),
      output: (tuple, seg, tos) => this.output(tuple, seg, tos),
      ended: (slot) => this.timeWaitEnded(slot),
    });
    this.requests = new RequestTable({
      hostName: this.hostName,
      trace: this.trace,
      now: () => this.now(),
      output: (tuple, seg) => this.output(tuple, seg, this.listeners.get(tuple.localPort)?.typeOfService ?? 0),
      configFor: (port) => this.listeners.get(port)?.config ?? this.config,
      ended: (slot, tuple) => this.requestEnded(slot, tuple),
      mayEstablish: (port) => this.mayEstablishOn(this.listeners.get(port)),
    });
    this.ipv6Context = new Ipv6Context(this);
  }

  // ---------------------------------------------------------------------------------------
  // Application side

  /** Active open (S4). The SYN leaves on the next poll. */
  connect(p: ConnectParams): Connection {
    checkAddress("localAddr", checkObject("connect(params)", p).localAddr);
    checkAddress("remoteAddr", p.remoteAddr);
    if (p.localAddr.family !== p.remoteAddr.family) {
      throw new InvalidArgumentError(`localAddr ${p.localAddr.toString()} and remoteAddr ${p.remoteAddr.toString()} are of different families`);
    }
    checkPort("remotePort", p.remotePort);
    if (p.localPort !== undefined) checkPort("localPort", p.localPort);
    this.lastTime = this.now();
    const localPort = p.localPort ?? this.pickEphemeralPort(p.localAddr, p.remoteAddr, p.remotePort);
    const tuple: FourTuple = { localAddr: p.localAddr, localPort, remoteAddr: p.remoteAddr, remotePort: p.remotePort };
    if (this.connections.has(tuple)) throw new AddressInUseError(`4-tuple ${tupleKey(tuple)} is in use`);
    const conn = new Connection(this.contextFor(tuple), { tuple, iss: this.isn.isn(this.lastTime, p.localAddr, localPort, p.remoteAddr, p.remotePort), passive: false, tsOffset: this.rng.nextU32(), config: p.config });
    if (p.fastOpen !== undefined && p.fastOpen !== false) conn.fastOpen = clientFastOpen(this.fastOpenCache, conn, advertisedMss(this.contextFor(tuple).mtu, conn.config), p.fastOpen === "no-cookie");
    this.connections.add(conn);
    conn.openActive(this.lastTime);
    return conn;
  }

  /** Passive open (S4): CLOSED -> LISTEN on `port` for every local address. */
  listen(port: number, backlog = 511, config?: TcpConfig): Listener {
    checkPort("port", port);
    if (typeof backlog !== "number" || !Number.isInteger(backlog) || backlog < 0) {
      throw new InvalidArgumentError(`backlog must be a non-negative integer, got ${showValue(backlog)}`);
    }
    if (this.listeners.has(port)) throw new AddressInUseError(`port ${port} is already listening`);
    const listener = new Listener(port, backlog, this.config.synQueueSize);
    listener.config = config;
    // Linux inet_listen: with TFO_SERVER_WO_SOCKOPT1 every listener does Fast Open, its
    // queue as long as its backlog (fastopen_queue_tune).
    const bits = (config ?? this.config).fastOpen;
    if ((bits & TFO_SERVER_ENABLE) !== 0 && (bits & TFO_SERVER_WO_SOCKOPT1) !== 0) listener.fastOpenQueueLimit = listener.backlog;
    this.listeners.set(port, listener);
    return listener;
  }

  /** Stops listening; connections still in its queues are reset, as Linux does. */
  closeListener(listener: Listener): void {
    if (!(listener instanceof Listener)) throw new InvalidArgumentError(`closeListener(listener): not a Listener, got ${showValue(listener)}`);
    if (listener.closed) return;
    listener.closed = true;
    this.listeners.delete(listener.port);
    const records: number[] = [];
    for (const e of this.connections.entries()) if (typeof e === "number" && e < 0 && this.requests.tuple(-e - 1).localPort === listener.port) records.push(-e - 1);
    this.requests.closeListener(this.now(), records);
    for (const c of [...listener.synQueue.connections, ...listener.acceptQueue]) c.abort("listener closed");
  }

  /** Every full connection (for tables and tests); TIME_WAIT records are in `allSockets`. */
  allConnections(): Connection[] {
    return [...this.connections.connections()];
  }

  /**
   * Every connection and TIME_WAIT record in table order, with its `inspect()` snapshot
   * (what `ss` lists). `connection` is undefined for a compact TIME_WAIT record. `only`
   * selects by 4-tuple.
   */
  allSockets(only?: (tuple: FourTuple) => boolean): { info: ConnectionInfo; connection: Connection | undefined }[] {
    if (only === undefined) return this.socketsWhere(undefined);
    return this.socketsWhere((e) => only(typeof e !== "number" ? e.tuple : e >= 0 ? this.timeWait.tuple(e) : this.requests.tuple(-e - 1)));
  }

  /**
   * `allSockets` of the entries whose remote address is one of `remotes` (AddressKey), in
   * table order. The playground snapshots a flood's two drawn hosts this way at every step:
   * the records of hundreds of spoofed peers are passed over by their address words alone,
   * without a tuple or a snapshot built for each.
   */
  socketsTo(remotes: ReadonlySet<AddressKey>): { info: ConnectionInfo; connection: Connection | undefined }[] {
    return this.socketsWhere((e) => remotes.has(typeof e !== "number" ? e.tuple.remoteAddr.key : e >= 0 ? this.timeWait.remoteKey(e) : this.requests.remoteKey(-e - 1)));
  }

  /** The snapshots of the table entries `keep` selects (all without it); the filter runs before any snapshot is built. */
  private socketsWhere(keep: ((e: Connection | number) => boolean) | undefined): { info: ConnectionInfo; connection: Connection | undefined }[] {
    return this.connections.entries(keep).map((e) =>
      typeof e !== "number" ? { info: e.inspect(), connection: e } : { info: e >= 0 ? this.timeWait.info(e) : this.requests.info(-e - 1), connection: undefined },
    );
  }

  /** Whether a 4-tuple is in use in any state, TIME_WAIT included. */
  inUse(t: FourTuple): boolean {
    return this.connections.has(checkTuple("inUse(tuple)", t));
  }

  allListeners(): Listener[] {
    return [...this.listeners.values()];
  }

  // ---------------------------------------------------------------------------------------
  // Driver side

  /** One segment from IP; `tos` is its IP header's TOS byte / traffic class, ECN codepoint in the low two bits (RFC 3168 section 5), `gsoSize` see Endpoint.receive. */
  receive(now: Millis, src: IpAddress, dst: IpAddress, seg: TcpSegment, tos = 0, gsoSize = 0): void {
    this.lastTime = now;
    const ecn = tos & ECN_MASK;
    // The 4-tuple object is built only for a trace subscriber or a segment without a
    // connection: an established connection's segment allocates nothing here.
    if (this.trace.enabled) {
      const t: FourTuple = { localAddr: dst, localPort: seg.dstPort, remoteAddr: src, remotePort: seg.srcPort };
      this.trace.emit(ecn === 0 ? { type: "segment-in", time: now, host: this.hostName, tuple: t, segment: seg } : { type: "segment-in", time: now, host: this.hostName, tuple: t, segment: seg, ecn });
    }
    const conn = this.connections.lookup(dst, seg.dstPort, src, seg.srcPort);
    if (typeof conn === "object") {
      if (this.batchDepth > 0 && flushesBeforeInBatch(conn, seg)) this.settle(now, true);
      conn.onSegment(now, seg, ecn, gsoSize);
    } else if (conn !== undefined) {
      if (conn >= 0) this.timeWait.onSegment(now, conn, seg);
      else if (this.requests.onSegment(now, -conn - 1, seg) === ESTABLISH) this.establishRequest(now, -conn - 1, seg, ecn);
    } else {
      const tuple: FourTuple = { localAddr: dst, localPort: seg.dstPort, remoteAddr: src, remotePort: seg.srcPort };
      const listener = this.listeners.get(seg.dstPort);
      if (listener !== undefined && (listener.family === undefined || listener.family === dst.family)) this.onListenSegment(now, listener, tuple, seg, tos);
      else this.replyToNothing(tuple, seg, "no-listener", tos);
    }
    this.settle(now, this.batchDepth > 0 && typeof conn === "object" && flushesInBatch(conn));
  }

  /**
   * An ICMP or ICMPv6 error quoting one of our TCP segments (RFC 5927, RFC 1122 4.2.3.9;
   * Linux tcp_v4_err / tcp_v6_err). The connection checks the quoted sequence number and
   * decides hard or soft; "fragmentation needed" and "packet too big" lower the path MTU
   * of that connection instead. Returns whether it was acted on.
   */
  icmpError(quote: IcmpQuote | Icmpv6Quote, type: number, code: number, reporter: number | IpAddress, mtu = 0): boolean {
    const v6 = typeof reporter !== "number";
    const meaning = v6 ? icmpv6ErrorMeaning(type, code) : icmpErrorMeaning(type, code);
    const t = quote.transport;
    if (t.length < 8 || meaning === undefined) return false;
    const localPort = (t[0]! << 8) | t[1]!;
    const remotePort = (t[2]! << 8) | t[3]!;
    const seq = (((t[4]! << 24) | (t[5]! << 16) | (t[6]! << 8) | t[7]!) >>> 0) as Seq;
    const addr = (a: number | IpAddress): IpAddress => (typeof a === "number" ? IpAddress.v4(a) : a);
    const entry = this.connections.lookup(addr(quote.src), localPort, addr(quote.dst), remotePort);
    if (typeof entry === "number" && entry < 0) return this.requestIcmpError(-entry - 1, seq, endsHalfOpen(v6, type, code), `ICMP${v6 ? "v6" : ""} type ${type} code ${code} from ${addr(reporter).toString()}`);
    const conn = typeof entry === "object" ? entry : undefined;
    if (conn === undefined) return false;
    // Linux tcp_v4_err / tcp_req_err count an error quoting what is not in flight.
    if (seqLt(seq, conn.sndUna) || seqGt(seq, conn.sndMax)) this.outOfWindowIcmps++;
    const now = this.now();
    const why = `ICMP${v6 ? "v6" : ""} type ${type} code ${code} from ${addr(reporter).toString()}`;
    // Fragmentation needed / packet too big: the path is narrower than our segments (RFC 1191, RFC 8201).
    // RFC 6069: net and host unreachable (ICMPv6: no route, address unreachable) may revert RTO backoff.
    const reverts = v6 ? type === 1 && (code === 0 || code === 3) : type === 3 && (code === 0 || code === 1);
    const acted = meaning.code === "EMSGSIZE" ? conn.onPathMtu(now, seq, mtu, why) : conn.onIcmpError(now, seq, meaning.code as TcpErrorCode, why, reverts);
    this.settle(now);
    return acted;
  }

  poll(now: Millis): void {
    this.lastTime = now;
    this.flushDirty(now);
    for (;;) {
      // Records and connections share one timeline: the earliest deadline first.
      const tw = this.timeWait.peekTime();
      const rq = this.requests.peekTime();
      const conns = this.timers.peekTime();
      if (tw <= Math.min(now, conns, rq) && this.timeWait.expireOne(now)) continue;
      if (rq <= Math.min(now, conns)) {
        this.requests.expireOne(now);
        continue;
      }
      const conn = this.timers.popDue(now);
      if (conn === undefined) break;
      conn.onTimer(now);
      this.reschedule(conn);
      conn.settle();
    }
    this.settle(now);
  }

  /**
   * Tells applications what changed, then sends. In this order, a reply written in a wake
   * callback leaves in the same segment as the ACK of the request (and a close() in
   * answer to a FIN puts our FIN on that ACK), as Linux's delayed ACK would arrange.
   * In a batch only the applications are told; the sending waits for endBatch (batch.ts).
   */
  private settle(now: Millis, evenInBatch = false): void {
    if (this.batchDepth > 0 && !evenInBatch) {
      while (this.wokenCount > 0 || this.listenersWoken.size > 0) this.deliverWakes();
      return;
    }
    do {
      this.deliverWakes();
      this.flushDirty(now);
    } while (this.wokenCount > 0 || this.listenersWoken.size > 0);
    if (this.enteringCount > 0) this.handOverTimeWait();
  }

  /** Packets of one device read follow, then endBatch: one transmission pass for all (batch.ts). */
  beginBatch(): void {
    this.batchDepth++;
  }

  endBatch(now: Millis): void {
    if (this.batchDepth > 0 && --this.batchDepth === 0) this.settle(now);
  }

  nextDeadline(): Millis {
    if (this.dirty.size > 0) return this.lastTime;
    return Math.min(this.timers.peekTime(), this.timeWait.peekTime(), this.requests.peekTime());
  }

  /** TIME_WAIT records held now (each also counted in `timeWaitCount`). */
  get timeWaitRecords(): number {
    return this.timeWait.size;
  }

  // ---------------------------------------------------------------------------------------
  // ConnectionContext

  /**
   * Gives the layer the driver's clock, so that application calls made between packets and
   * timers (connect, close, abort) are stamped with the right time in traces and ISNs.
   */
  setClock(clock: () => Millis): void {
    if (typeof clock !== "function") throw new InvalidArgumentError(`setClock(clock): clock must be a function, got ${showValue(clock)}`);
    this.clock = clock;
  }

  /** The driver's time when it gave us a clock; otherwise the time of the last event. */
  now(): Millis {
    return this.clock !== undefined ? Math.max(this.clock(), this.lastTime) : this.lastTime;
  }

  burst(open: boolean): void {
    this.burstHook?.(open);
  }

  transmit(conn: Connection, seg: TcpSegment, retransmit: boolean, ecn = 0): void {
    if (this.trace.enabled) {
      const e = { type: "segment-out", time: this.now(), host: this.hostName, tuple: conn.tuple, segment: seg, retransmit } as const;
      this.trace.emit(ecn === 0 ? e : { ...e, ecn });
    }
    this.output(conn.tuple, seg, conn.typeOfService | ecn);
  }

  stateChanged(conn: Connection, _from: TcpState, to: TcpState): void {
    if (to === "TIME_WAIT") {
      this.timeWaitCount++;
      this.enteringTimeWait[this.enteringCount++] = conn;
    }
    if (_from === "TIME_WAIT") {
      // A connection object already handed over to a TIME_WAIT record (an application still
      // holding it called abort()): the record answers for the 4-tuple; nothing to undo here.
      if (this.connections.get(conn.tuple.localAddr, conn.tuple.localPort, conn.tuple.remoteAddr, conn.tuple.remotePort) !== conn) return;
      this.timeWaitCount--;
    }
    const listener = conn.listenerPort !== undefined && (to === "ESTABLISHED" || to === "CLOSED" || _from === "SYN_RCVD") ? this.listeners.get(conn.listenerPort) : undefined; // needed for these alone
    // A Fast Open child leaves its listener's Fast Open queue once out of SYN_RCVD.
    if (_from === "SYN_RCVD" && conn.fastOpen?.child === true && listener !== undefined) listener.fastOpenQueued--;
    // A handshake completed: from the SYN queue, or straight from LISTEN with a SYN cookie.
    if (to === "ESTABLISHED" && listener !== undefined && (listener.synQueue.remove(conn) || _from === "LISTEN")) {
      listener.acceptQueue.push(conn);
      this.listenersWoken.add(listener);
      this.traceQueues(listener);
    }
    if (to === "CLOSED") {
      this.connections.delete(conn);
      this.timers.remove(conn);
      this.dirty.remove(conn);
      // One already in the accept queue stays there to be accepted, as Linux keeps the
      // child socket (tcp_reset -> tcp_done leaves it queued): the data it received and its
      // error (ECONNRESET on the first call) are the application's.
      if (listener !== undefined && listener.synQueue.remove(conn)) this.traceQueues(listener);
    }
  }

  touched(conn: Connection, wantsFlush: boolean): void {
    if (wantsFlush && !conn.isClosed()) this.dirty.add(conn);
    // A connection listed for a flush, or being flushed, has its timers placed once that
    // flush is done (flushDirty); until then nothing reads them (poll and nextDeadline see
    // the flush list first). An ACK touches its connection four or five times.
    if (!conn.dirtyQueued && conn !== this.flushing) this.reschedule(conn);
    if (conn.pendingWake && !conn.wakeQueued) {
      conn.wakeQueued = true;
      this.woken[this.wokenCount++] = conn;
    }
  }

  mayEnterTimeWait(): boolean {
    if (this.timeWaitCount < this.config.maxTimeWait) return true;
    this.timeWaitOverflows++;
    return false;
  }

  mayEstablish(conn: Connection): boolean {
    if (conn.fastOpen?.child === true) return true; // a Fast Open child is queued already
    return this.mayEstablishOn(conn.listenerPort !== undefined ? this.listeners.get(conn.listenerPort) : undefined);
  }

  private mayEstablishOn(listener: Listener | undefined): boolean {
    if (listener === undefined || !listener.acceptQueueFull) return true;
    listener.acceptQueueDrops++;
    return false;
  }

  // ---------------------------------------------------------------------------------------
  // Internals

  /**
   * Connections that entered TIME_WAIT and have sent their last ACK give their place in the
   * table to a compact record (time-wait.ts), as Linux's tcp_time_wait() replaces the socket
   * by a tcp_timewait_sock; the connection object is then garbage unless the application
   * still holds it.
   */
  private handOverTimeWait(): void {
    for (let i = 0; i < this.enteringCount; i++) {
      const c = this.enteringTimeWait[i]!;
      this.enteringTimeWait[i] = undefined; // holds no connection alive
      if (c.state !== "TIME_WAIT" || this.connections.get(c.tuple.localAddr, c.tuple.localPort, c.tuple.remoteAddr, c.tuple.remotePort) !== c) continue;
      const ref = this.timeWait.add(c, c.timeWaitHandover());
      this.connections.replace(c, ref.slot);
      c.timeWaitRecord = ref;
      this.timers.remove(c);
      this.dirty.remove(c);
      c.clearTimers();
    }
    this.enteringCount = 0;
  }

  /**
   * A TIME_WAIT record ended (2MSL or RST): free its 4-tuple. A connection object still held
   * reads CLOSED from now on (Connection.state) but is not woken: its application heard the
   * close when TIME_WAIT began, as a kernel socket's descriptor is gone by then.
   */
  private timeWaitEnded(slot: number): void {
    const t = this.timeWait.tuple(slot);
    this.connections.deleteEntry(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, slot);
    this.timeWaitCount--;
  }

  /** RFC 9293 3.10.7.2: a segment for a listening port with no connection yet. */
  private onListenSegment(now: Millis, listener: Listener, tuple: FourTuple, seg: TcpSegment, tos: number): void {
    if ((seg.flags & RST) !== 0) return; // first: ignore RST
    if ((seg.flags & ACK) !== 0) {
      if ((seg.flags & SYN) === 0 && this.cookieMayBeOut(now, listener) && this.acceptCookie(now, listener, tuple, seg)) return;
      // second: no ACK can be acceptable here -> <SEQ=SEG.ACK><CTL=RST>
      this.replyToNothing(tuple, seg, "no-listener", tos);
      return;
    }
    if ((seg.flags & SYN) === 0) {
      this.drop(now, "state", tuple, seg, "neither SYN nor ACK for a listener");
      return;
    }
    if ((seg.flags & FIN) !== 0) {
      // Linux tcp_rcv_state_process (TCP_LISTEN) discards a SYN with FIN; RFC 9293 gives it no meaning.
      this.drop(now, "state", tuple, seg, "SYN with FIN for a listener");
      return;
    }
    const mode = this.config.synCookies;
    if (listener.synQueueFull) listener.lastOverflow = now;
    if (mode === "always" || (mode === "overflow" && listener.synQueueFull)) {
      this.sendCookie(now, listener, tuple, seg, tos);
      return;
    }
    if (listener.synQueueFull) {
      listener.synQueueDrops++;
      this.drop(now, "syn-queue-full", tuple, seg, `SYN queue full (${listener.synQueue.size})`);
      return;
    }
    const iss = this.isn.isn(now, tuple.localAddr, tuple.localPort, tuple.remoteAddr, tuple.remotePort);
    const tsOffset = this.rng.nextU32();
    const fastOpen = this.fastOpenSyn(now, listener, tuple, seg);
    if (fastOpen === undefined) {
      // Linux tcp_conn_request: a request socket, not a connection, until the handshake completes.
      const cfg = listener.config ?? this.config;
      const path = this.contextFor(tuple).path(tuple.remoteAddr, now);
      const ourMss = advertisedMss(path.metrics.advmss > 0 ? path.metrics.advmss + 40 : path.mtu, cfg); // path.ts announcedMss
      const peerMss = cfg.userMss > 0 ? Math.min(seg.options.mss ?? cfg.defaultMss, cfg.userMss) : (seg.options.mss ?? cfg.defaultMss);
      const sendMss = Math.max(cfg.minMss, Math.min(path.mtu - 40, peerMss) - (seg.options.timestamp !== undefined && cfg.timestamps ? 12 : 0));
      const ecnOk = passiveOpenAgreesEcn(cfg.ecn, seg.flags, tos & ECN_MASK);
      listener.synQueue.records++;
      // The entry takes its place in the table before the SYN-ACK leaves, as a connection did.
      this.requests.add(now, { tuple, iss, syn: seg, tsOffset, ecnOk, ourMss, sendMss }, (s) => this.connections.addEntry(tuple, -s - 1));
      this.traceQueues(listener);
      return;
    }
    const conn = new Connection(this.contextFor(tuple), { tuple, iss, passive: true, tsOffset, config: listener.config, typeOfService: listener.typeOfService });
    conn.listenerPort = listener.port;
    conn.state = "LISTEN";
    conn.fastOpen = fastOpen;
    this.connections.add(conn);
    if (fastOpen.child) {
      // Linux tcp_conn_request: the child goes straight to the accept queue.
      listener.fastOpenQueued++;
      listener.acceptQueue.push(conn);
      this.listenersWoken.add(listener);
    } else {
      listener.synQueue.connections.add(conn);
    }
    conn.openPassive(now, seg, tos & ECN_MASK);
    this.traceQueues(listener);
  }

  /**
   * The handshake of request record `slot` completes with `seg` (Linux tcp_check_req ->
   * syn_recv_sock): the connection is built (request-child.ts), takes the record's place in
   * the table and the SYN queue, and processes `seg` from SYN_RCVD.
   */
  private establishRequest(now: Millis, slot: number, seg: TcpSegment, ecn: number): void {
    const r = this.requests.take(slot);
    const listener = this.listeners.get(r.tuple.localPort)!;
    const conn = new Connection(this.contextFor(r.tuple), { tuple: r.tuple, iss: r.iss, passive: true, tsOffset: r.tsOffset, config: listener.config, typeOfService: listener.typeOfService });
    conn.listenerPort = listener.port;
    restoreChild(conn, r);
    this.connections.add(conn);
    listener.synQueue.records--;
    listener.synQueue.holdCompleting(conn);
    this.reschedule(conn);
    conn.onSegment(now, seg, ecn);
    listener.synQueue.settleCompleting(conn);
  }

  /** A request record ended (RST, ICMP, SYN-ACK retries, listener closed): free its 4-tuple. */
  private requestEnded(slot: number, t: FourTuple): void {
    this.connections.deleteEntry(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, -slot - 1);
    const listener = this.listeners.get(t.localPort);
    if (listener === undefined) return;
    listener.synQueue.records--;
    this.traceQueues(listener);
  }

  /**
   * An ICMP error for a request record (Linux tcp_req_err): one that quotes exactly our ISS
   * and `ends` the half-open entry forgets it; any other sequence number is out of window.
   */
  private requestIcmpError(slot: number, seq: Seq, ends: boolean, why: string): boolean {
    const quotesIss = this.requests.icmpError(this.now(), slot, seq, ends, why);
    if (!quotesIss) this.outOfWindowIcmps++;
    this.settle(this.now());
    return quotesIss && ends;
  }

  /**
   * TCP Fast Open for a SYN to `listener` (fast-open/server.ts): its state when the
   * SYN-ACK carries a cookie or the SYN makes a child, else undefined.
   */
  private fastOpenSyn(now: Millis, listener: Listener, tuple: FourTuple, syn: TcpSegment): FastOpenState | undefined {
    const cfg = listener.config ?? this.config;
    const d = decideFastOpen({
      syn, client: tuple.remoteAddr, server: tuple.localAddr, bits: cfg.fastOpen,
      // A child goes straight to the accept queue: none while it is full (Linux tcp_conn_request
      // checks sk_acceptq_is_full first); the SYN then gets an ordinary handshake.
      queueLimit: listener.acceptQueueFull ? 0 : listener.fastOpenQueueLimit, queued: listener.fastOpenQueued, keys: this.fastOpenKeysFor(cfg.fastOpenKey),
    });
    if (this.trace.enabled && (syn.options.fastOpen !== undefined || syn.payload.length > 0)) {
      this.trace.emit({ type: "fast-open", time: now, host: this.hostName, tuple, action: d.child ? "accepted" : d.reply !== undefined ? "cookie-sent" : "ignored", detail: d.why });
    }
    if (!d.child && d.reply === undefined) return undefined;
    const fo = new FastOpenState();
    fo.child = d.child;
    fo.synOption = d.reply;
    return fo;
  }

  /** The server's keys: parsed from the setting, or one random key for this stack (Linux tcp_fastopen_init_key_once). */
  private fastOpenKeysFor(text: string): FastOpenKey[] {
    let keys = this.fastOpenKeys.get(text);
    if (keys === undefined) {
      keys = text === "" ? [randomKey(this.rng)] : parseKeys(text);
      this.fastOpenKeys.set(text, keys);
    }
    return keys;
  }

  /** A stateless SYN-ACK whose ISN is a cookie (S12). Nothing is remembered. */
  private sendCookie(now: Millis, listener: Listener, tuple: FourTuple, syn: TcpSegment, tos: number): void {
    const { iss } = this.cookies.make(now, tuple, syn.seq, syn.options.mss ?? this.config.defaultMss);
    listener.cookiesSent++;
    const cfg = listener.config ?? this.config;
    const synAck = this.cookies.synAck(now, tuple, syn, iss, cfg, this.contextFor(tuple).mtu - 40, passiveOpenAgreesEcn(cfg.ecn, syn.flags, tos & ECN_MASK));
    if (this.trace.enabled) {
      this.trace.emit({ type: "cookie", time: now, host: this.hostName, tuple, action: "sent" });
      this.trace.emit({ type: "segment-out", time: now, host: this.hostName, tuple, segment: synAck, retransmit: false });
    }
    this.output(tuple, synAck, listener.typeOfService);
  }

  /**
   * A SYN cookie taken apart with this host's secret, for read-only views (the playground's
   * packet pane): `tuple` as this host sees it, the cookie (the SYN-ACK's seq, or a final
   * ACK's ack - 1) and the client's ISN. Changes nothing.
   */
  decodeCookie(now: Millis, tuple: FourTuple, cookie: Seq, clientIsn: Seq): CookieDecoding {
    return this.cookies.decode(now, tuple, cookie, clientIsn);
  }

  /** Cookies are only worth checking if some were sent lately (Linux tcp_synq_no_recent_overflow). */
  private cookieMayBeOut(now: Millis, listener: Listener): boolean {
    const mode = this.config.synCookies;
    return mode === "always" || (mode === "overflow" && now - listener.lastOverflow < 120_000);
  }

  /** The final ACK of a cookie handshake: rebuild the connection if the cookie checks out. */
  private acceptCookie(now: Millis, listener: Listener, tuple: FourTuple, ack: TcpSegment): boolean {
    const iss = seqAdd(ack.ack, -1);
    const mss = this.cookies.check(now, tuple, iss, seqAdd(ack.seq, -1));
    if (mss === undefined) {
      listener.cookiesRejected++;
      if (this.trace.enabled) this.trace.emit({ type: "cookie", time: now, host: this.hostName, tuple, action: "rejected" });
      return false;
    }
    if (listener.acceptQueueFull) {
      listener.acceptQueueDrops++;
      this.drop(now, "accept-queue-full", tuple, ack, "accept queue full (SYN cookie ACK dropped)");
      return true;
    }
    listener.cookiesAccepted++;
    if (this.trace.enabled) this.trace.emit({ type: "cookie", time: now, host: this.hostName, tuple, action: "accepted" });
    const echoed = this.cookies.ackOptions(tuple, ack.options, listener.config ?? this.config, mss);
    const tsOffset = echoed !== undefined ? this.cookies.tsOffset(tuple) : this.rng.nextU32();
    const conn = new Connection(this.contextFor(tuple), { tuple, iss, passive: true, tsOffset, config: listener.config, typeOfService: listener.typeOfService });
    conn.listenerPort = listener.port;
    conn.state = "LISTEN";
    this.connections.add(conn);
    if (echoed?.ecn === true) ecnOn(conn, conn.config.ecn).ok = true;
    conn.openFromCookie(now, ack, mss, echoed?.options);
    return true;
  }

  /** A segment for no connection (S30): counted, and answered with a RST (control-segment.ts) that reflects its `tos`. */
  private replyToNothing(tuple: FourTuple, seg: TcpSegment, reason: "no-listener", tos: number): void {
    this.segmentsWithoutConnection++;
    this.drop(this.lastTime, reason, tuple, seg, "no connection for this segment");
    const rst = resetFor(tuple, seg);
    if (rst === undefined) return;
    this.rstsSent++;
    if (this.trace.enabled) this.trace.emit({ type: "segment-out", time: this.now(), host: this.hostName, tuple, segment: rst, retransmit: false });
    this.output(tuple, rst, resetTos(tos));
  }

  private flushDirty(now: Millis): void {
    while (this.dirty.size > 0) {
      // Flushing can dirty connections again: they go to the next batch (flush-list.ts).
      const n = this.dirty.take();
      const batch = this.dirty.batch;
      for (let i = 0; i < n; i++) {
        const c = batch[i]!;
        batch[i] = undefined; // the list keeps no connection alive once flushed (closed ones leaked)
        this.flushing = c;
        try {
          if (!c.isClosed()) c.flush(now);
        } finally {
          this.flushing = undefined;
        }
        this.reschedule(c);
        c.settle(); // an idle connection gives back what it keeps only while busy
      }
    }
  }

  private reschedule(conn: Connection): void {
    this.timers.schedule(conn, conn.isClosed() ? Infinity : conn.deadline);
  }

  private deliverWakes(): void {
    // Callbacks may wake more connections; they join the end of the list and run too.
    for (let i = 0; i < this.wokenCount; i++) {
      const c = this.woken[i];
      if (c === undefined) continue; // a nested call got to it first
      this.woken[i] = undefined; // holds no closed connection alive
      c.wakeQueued = false;
      c.pendingWake = false;
      c.onWake?.(c);
    }
    this.wokenCount = 0;
    if (this.listenersWoken.size > 0) for (const l of this.listenersWoken.take()) l.onConnection?.(l);
  }

  /**
   * Linux-style ephemeral port choice (ip_local_port_range, 32768-60999 by default): walk from a
   * rotating start and skip any port whose 4-tuple is in use in any state, TIME_WAIT
   * included (S28).
   */
  private pickEphemeralPort(localAddr: IpAddress, remoteAddr: IpAddress, remotePort: number): number {
    const [low, high] = this.config.ephemeralPorts;
    const span = high - low + 1;
    for (let i = 0; i < span; i++) {
      const port = low + ((this.nextEphemeral - low + i) % span);
      if (this.connections.lookup(localAddr, port, remoteAddr, remotePort) === undefined && !this.listeners.has(port)) {
        this.nextEphemeral = port + 1 > high ? low : port + 1;
        return port;
      }
    }
    throw new AddressInUseError("no ephemeral port left for this destination (EADDRNOTAVAIL)", "EADDRNOTAVAIL");
  }

  /**
   * RFC 8200 section 5 and RFC 6691: the MSS is the MTU less the IP and TCP headers, 60
   * bytes over IPv6 rather than 40. Connections compute it as `mtu - 40`, so an IPv6 one
   * gets a context whose MTU is 20 bytes less; everything else is this layer.
   */
  get pathGeneration(): number {
    return this.paths.pathGeneration;
  }

  path(remote: IpAddress, now: Millis): PathView {
    return this.paths.path(remote, now);
  }

  learnPathMtu(remote: IpAddress, mtu: number, now: Millis): number {
    return this.paths.learnPathMtu(remote, mtu, now);
  }

  private contextFor(tuple: FourTuple): ConnectionContext {
    return tuple.localAddr.family === 6 ? this.ipv6Context : this;
  }

  private traceQueues(listener: Listener): void {
    if (this.trace.enabled) {
      this.trace.emit({
        type: "queue", time: this.lastTime, host: this.hostName, port: listener.port,
        synQueue: listener.synQueue.size, acceptQueue: listener.acceptQueue.length,
      });
    }
  }

  private drop(now: Millis, reason: "no-listener" | "syn-queue-full" | "accept-queue-full" | "state", tuple: FourTuple, segment: TcpSegment, detail: string): void {
    if (this.trace.enabled) this.trace.emit({ type: "drop", time: now, host: this.hostName, reason, tuple, segment, detail });
  }
}

export function tupleKey(t: FourTuple): string {
  return `${formatEndpoint(t.localAddr, t.localPort)}>${formatEndpoint(t.remoteAddr, t.remotePort)}`;
}
