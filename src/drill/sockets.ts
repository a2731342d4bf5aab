/**
 * The system calls of packetdrill scripts, emulated on a synack TCP layer with Linux's
 * semantics: file descriptors, blocking and non-blocking calls, errno values, socket
 * options, poll(). A call either completes at once or returns a continuation the runner
 * retries as virtual time passes (a blocking call), so the runner keeps the clock.
 *
 * File descriptor numbers are the script's names for sockets: `socket(...) = 3` makes
 * "3" name the new socket, as packetdrill maps script fds to live ones.
 */
import type { IpAddress, IpFamily } from "../wire/address.js";
import { socketAddress, wireAddress } from "./family.js";
import type { Expr, SyscallSpec } from "./ast.js";
import { CONSTANTS, describeExpr, numberOf } from "./constants.js";
import { DrillFailure, DrillSyntaxError, DrillUnsupportedError, type SourcePos } from "./errors.js";
import type { Connection } from "../tcp/connection.js";
import { resolveConfig, type TcpConfig } from "../tcp/config.js";
import type { TcpLayer } from "../tcp/layer.js";
import { parseMsgHdr, type MsgHdr } from "./msghdr.js";
import { zerocopySkbEnds } from "./zerocopy-frags.js";
import { inqMessage, recvmsgOutputs, timestampMessages, zerocopyMessage } from "./cmsg.js";
import { isTxTimestamp } from "../tcp/error-queue.js";
import { EpollSet, epollEvent, type EpollHost } from "./epoll.js";
import { TFO_CLIENT_ENABLE, TFO_CLIENT_NO_COOKIE } from "../tcp/fast-open/settings.js";
import { CONNECTED, err, NO_FAST_OPEN, ok, type CallResult, type Pending, type Started, type TcpSocket } from "./socket-state.js";
import { applyTypeOfService, getSocketOption, setSocketOption, type OptionHost } from "./sockopts.js";

export type { CallResult, Pending, Started } from "./socket-state.js";

/** What the socket layer needs from the runner. */
export interface SocketEnv {
  readonly layer: TcpLayer;
  /** synack's address and the script's, of the run's wire family. */
  readonly localAddr: IpAddress;
  readonly remoteAddr: IpAddress;
  /** The domain of the script's sockets: AF_INET (4) or AF_INET6 (6, also in the IPv4-mapped run). */
  readonly socketFamily: IpFamily;
  /** The port scripts bind and connect to (packetdrill's --bind_port / --connect_port). */
  readonly scriptPort: number;
  /** Settings from the script's sysctls, under every socket's own. */
  readonly settings: Partial<TcpConfig>;
  /** A connection became the "socket under test": inbound packets go to it, %{ }% reads it. */
  connectionUnderTest(conn: Connection): void;
  listening(port: number): void;
}

/**
 * The arguments each system call reads whatever they hold: the least a script must give
 * (packetdrill wants the exact count; fewer is all that stops the run from working).
 */
const ARGUMENTS_READ: Readonly<Record<string, number>> = {
  listen: 2, write: 3, send: 3, sendto: 3, read: 3, recv: 3, recvfrom: 3, shutdown: 2,
  setsockopt: 4, getsockopt: 4, fcntl: 2, ioctl: 3,
};

export class DrillSockets {
  private readonly fds = new Map<number, TcpSocket>();
  private readonly epolls = new Map<number, EpollSet>();
  private readonly epollHost: EpollHost = {
    readiness: (fd) => { const s = this.fds.get(fd); return s === undefined ? undefined : this.revents(s); },
    errorReports: (fd) => this.fds.get(fd)?.conn?.sender.errorQueue()?.reports ?? 0,
  };
  /** What setsockopt and getsockopt (sockopts.ts) need from here. */
  private readonly optionHost: OptionHost = {
    now: () => this.env.layer.now(),
    configOf: (s) => this.configOf(s),
    takeError: (s) => this.takeError(s),
    wireFamily: () => this.env.localAddr.family,
    socketFamily: () => this.env.socketFamily,
  };

  constructor(private readonly env: SocketEnv) {}

  /** Every socket still open, for the end-of-script cleanup. */
  openConnections(): Connection[] {
    return [...this.fds.values()].flatMap((s) => (s.conn ? [s.conn] : []));
  }

  start(call: SyscallSpec, pos: SourcePos): Started {
    const a = call.args;
    // packetdrill checks each call's argument count (check_arg_count) before running it; a
    // call missing one it needs is the script's mistake, not something to run.
    const needed = ARGUMENTS_READ[call.name];
    if (needed !== undefined && a.length < needed) throw new DrillSyntaxError(`${call.name}() takes ${needed} arguments here, got ${a.length}`, pos);
    switch (call.name) {
      case "socket":
        return this.socket(call, pos);
      case "bind":
        // Linux inet_csk_get_port: a port a listener holds is taken, SO_REUSEADDR or not.
        return this.withSocket(a[0], pos, (s) => (s.listener === undefined && this.portTaken() ? err("EADDRINUSE") : ok(0)));
      case "listen":
        return this.withSocket(a[0], pos, (s) => this.listen(s, numberOf(a[1]!) ?? 128));
      case "accept":
      case "accept4":
        return this.withSocket(a[0], pos, (s) => this.accept(s, call, pos));
      case "connect":
        return this.withSocket(a[0], pos, (s) => this.connect(s, a, pos));
      case "write":
        if (a[1]?.type === "null") return err("EFAULT");
        if (negativeCount(a[2])) return err("EINVAL"); // Linux rw_verify_area: a count above SSIZE_MAX
        return this.withSocket(a[0], pos, (s) => this.write(s, numberOf(a[2]!) ?? 0, 0, pos));
      case "send":
      case "sendto":
        if (a[1]?.type === "null") return err("EFAULT");
        // Linux tcp_sendmsg_fastopen: MSG_FASTOPEN to an AF_UNSPEC address is EOPNOTSUPP.
        if (call.name === "sendto" && isUnspec(a[4]) && ((numberOf(a[3] ?? zero(pos)) ?? 0) & CONSTANTS.MSG_FASTOPEN!) !== 0) return err("EOPNOTSUPP");
        if (negativeCount(a[2])) return err("EFAULT"); // Linux import_ubuf: no buffer is that long
        return this.withSocket(a[0], pos, (s) => this.write(s, numberOf(a[2]!) ?? 0, numberOf(a[3] ?? zero(pos)) ?? 0, pos));
      case "sendmsg": {
        const msg = parseMsgHdr(a[1], pos);
        // msg_name is the script's address (`...`), as sendto()'s is.
        return this.withSocket(a[0], pos, (s) => this.write(s, msg.length, numberOf(a[2] ?? zero(pos)) ?? 0, pos, false, msg.iovLengths));
      }
      case "read":
        if (a[1]?.type === "null") return err("EFAULT");
        if (negativeCount(a[2])) return err("EINVAL");
        return this.withSocket(a[0], pos, (s) => this.read(s, numberOf(a[2]!) ?? 0, 0, pos));
      case "recvmsg": {
        const msg = parseMsgHdr(a[1], pos, "recvmsg");
        return this.withSocket(a[0], pos, (s) => this.recvmsg(s, msg, numberOf(a[2] ?? zero(pos)) ?? 0, pos));
      }
      case "recv":
      case "recvfrom":
        if (a[1]?.type === "null") return err("EFAULT");
        if (negativeCount(a[2])) return err("EFAULT");
        return this.withSocket(a[0], pos, (s) => this.read(s, numberOf(a[2]!) ?? 0, numberOf(a[3] ?? zero(pos)) ?? 0, pos));
      case "close":
        return this.close(a[0], pos);
      case "shutdown":
        return this.withSocket(a[0], pos, (s) => this.shutdown(s, numberOf(a[1]!) ?? 0));
      case "setsockopt":
        return this.withSocket(a[0], pos, (s) => setSocketOption(this.optionHost, s, a, pos));
      case "getsockopt":
        return this.withSocket(a[0], pos, (s) => getSocketOption(this.optionHost, s, a, pos));
      case "fcntl":
        return this.withSocket(a[0], pos, (s) => this.fcntl(s, a, pos));
      case "ioctl":
        return this.withSocket(a[0], pos, (s) => this.ioctl(s, a, pos));
      case "poll":
        return this.poll(a, pos);
      case "epoll_create":
      case "epoll_create1":
        return this.epollCreate(call);
      case "epoll_ctl":
        return this.epollCtl(a, pos);
      case "epoll_wait":
        return this.epollWait(a, pos);
      default:
        throw new DrillUnsupportedError(`system call ${call.name}()`, pos);
    }
  }

  // --- sockets ---------------------------------------------------------------------------

  private socket(call: SyscallSpec, pos: SourcePos): Started {
    const [domain, type] = call.args;
    // `...` takes the run's domain; a script naming the other one is written for another run.
    const family = domain ? numberOf(domain) : undefined;
    const want = this.env.socketFamily === 6 ? CONSTANTS.AF_INET6 : CONSTANTS.AF_INET;
    if (family !== undefined && family !== want) throw new DrillUnsupportedError(`an AF_INET${this.env.socketFamily === 6 ? "" : "6"} socket in a run whose sockets are AF_INET${this.env.socketFamily === 6 ? "6" : ""}`, pos);
    const t = type ? (numberOf(type) ?? CONSTANTS.SOCK_STREAM!) : CONSTANTS.SOCK_STREAM!;
    if ((t & 0xf) !== CONSTANTS.SOCK_STREAM) throw new DrillUnsupportedError("UDP sockets in scripts", pos);
    const fd = call.result.type === "int" ? call.result.value : this.fds.size + 3;
    if (this.fds.has(fd)) throw new DrillFailure(`socket() = ${fd}, but fd ${fd} is still open in the script`, pos);
    this.fds.set(fd, { nonblocking: (t & CONSTANTS.SOCK_NONBLOCK!) !== 0, own: {}, listener: undefined, conn: undefined, errorReported: false, shutRead: false, connecting: false, sndbuf: undefined, keepAlive: false, notsentLowat: 0, inq: false, zerocopy: false, tsflags: 0, tos: 0, tclass: 0, ...NO_FAST_OPEN });
    return ok(fd);
  }

  private withSocket(fdExpr: Expr | undefined, pos: SourcePos, f: (s: TcpSocket) => Started): Started {
    const fd = fdExpr ? numberOf(fdExpr) : undefined;
    const s = fd === undefined ? undefined : this.fds.get(fd);
    if (s === undefined) return err("EBADF");
    void pos;
    return f(s);
  }

  private configOf(s: TcpSocket): TcpConfig {
    return resolveConfig({ ...this.env.settings, ...s.own });
  }

  private listen(s: TcpSocket, backlog: number): Started {
    if (s.conn !== undefined) return err("EINVAL");
    if (s.listener === undefined) {
      if (this.portTaken()) return err("EADDRINUSE"); // a script that did not check bind()'s result
      s.listener = this.env.layer.listen(this.env.scriptPort, Math.max(0, backlog), this.configOf(s));
      // An AF_INET socket takes IPv4 only; an AF_INET6 one bound to `::` without IPV6_V6ONLY
      // takes both, IPv4 peers as ::ffff:a.b.c.d (RFC 3493 section 3.7).
      s.listener.family = this.env.socketFamily === 4 ? 4 : undefined;
      if (s.fastOpenQlen !== undefined) s.listener.fastOpenQueueLimit = s.fastOpenQlen;
      applyTypeOfService(this.optionHost, s); // its SYN-ACKs, and the connections it makes (which inherit it)
      this.env.listening(this.env.scriptPort);
    }
    return ok(0);
  }

  /** Another socket of the script listens on the script's port. */
  private portTaken(): boolean {
    return this.env.layer.allListeners().some((l) => l.port === this.env.scriptPort);
  }

  private accept(s: TcpSocket, call: SyscallSpec, pos: SourcePos): Started {
    const listener = s.listener;
    if (listener === undefined) return err("EINVAL");
    const attempt = (): CallResult | undefined => {
      const conn = listener.accept();
      if (conn === undefined) return undefined;
      // A script may name a new socket by an fd it never closed: packetdrill maps script fds
      // to live ones, so the name simply moves to the new socket.
      const fd = call.result.type === "int" ? call.result.value : this.fds.size + 3;
      void pos;
      this.fds.set(fd, { nonblocking: false, own: { ...s.own }, listener: undefined, conn, errorReported: false, shutRead: false, connecting: false, sndbuf: s.sndbuf, keepAlive: s.keepAlive, notsentLowat: s.notsentLowat, inq: s.inq, zerocopy: s.zerocopy, tsflags: s.tsflags, tos: s.tos, tclass: s.tclass, ...NO_FAST_OPEN });
      // Linux sk_clone_lock: the accepted socket inherits the listener's SO_KEEPALIVE, SO_ZEROCOPY and SO_TIMESTAMPING.
      if (s.keepAlive) conn.setKeepAlive(true, this.env.layer.now());
      if (s.zerocopy) conn.setZerocopy(true);
      if (s.tsflags !== 0) conn.setTimestamping(s.tsflags);
      if (s.notsentLowat !== 0) conn.setNotsentLowat(s.notsentLowat);
      this.env.connectionUnderTest(conn);
      return { ret: fd };
    };
    return this.blockingOr(s, attempt);
  }

  private connect(s: TcpSocket, args: Expr[], pos: SourcePos): Started {
    const addr = args[1];
    if (isUnspec(addr)) {
      throw new DrillUnsupportedError("connect() with AF_UNSPEC (disconnect)", pos);
    }
    if (s.listener !== undefined) return err("EISCONN");
    if (s.conn !== undefined) {
      const conn = s.conn;
      if (conn.error !== undefined && !s.errorReported) {
        s.errorReported = true;
        s.connecting = false;
        return err(conn.error.code);
      }
      if (CONNECTED.has(conn.state)) {
        if (s.connecting) {
          s.connecting = false;
          return ok(0);
        }
        return err("EISCONN");
      }
      if (conn.state === "SYN_SENT") return err("EALREADY");
      return err("ECONNABORTED");
    }
    if (s.deferredConnect) return err("EISCONN");
    // TCP_FASTOPEN_CONNECT with a cookie cached: connect() returns at once and the SYN waits
    // for the first write, to carry its data (Linux tcp_fastopen_defer_connect).
    if (s.fastOpenConnect && this.fastOpenCookieCached(s)) {
      s.deferredConnect = true;
      return ok(0);
    }
    const conn = this.openConnection(s, s.fastOpenConnect);
    if (s.nonblocking) {
      s.connecting = true;
      return err("EINPROGRESS");
    }
    return {
      pending: () => {
        if (conn.error !== undefined) {
          s.errorReported = true;
          return { ret: -1, errno: conn.error.code };
        }
        return conn.state === "SYN_SENT" ? undefined : { ret: 0 };
      },
    };
  }

  private openConnection(s: TcpSocket, fastOpen: boolean): Connection {
    const conn = this.env.layer.connect({ localAddr: this.env.localAddr, remoteAddr: this.peer(), remotePort: this.env.scriptPort, config: this.configOf(s), fastOpen });
    s.conn = conn;
    // SO_KEEPALIVE set earlier arms once synchronized (a deferred Fast Open connect sent no SYN yet).
    if (s.keepAlive) conn.setKeepAlive(true, this.env.layer.now());
    if (s.notsentLowat !== 0) conn.setNotsentLowat(s.notsentLowat);
    if (s.zerocopy) conn.setZerocopy(true);
    if (s.tsflags !== 0) conn.setTimestamping(s.tsflags);
    applyTypeOfService(this.optionHost, s); // before the SYN, which leaves on the next poll
    this.env.connectionUnderTest(conn);
    return conn;
  }

  /** Linux tcp_fastopen_cookie_check: a cookie is cached for the server (or none is needed). */
  private fastOpenCookieCached(s: TcpSocket): boolean {
    const bits = this.configOf(s).fastOpen;
    if ((bits & TFO_CLIENT_ENABLE) === 0) return false;
    if ((bits & TFO_CLIENT_NO_COOKIE) !== 0) return true;
    return (this.env.layer.fastOpenCache.get(this.peer())?.cookie.length ?? 0) > 0;
  }

  /**
   * The address connect() reaches. The script's `...` names the remote in the socket's
   * family: in the mapped run an AF_INET6 socket connects to ::ffff:a.b.c.d, which Linux
   * sends over IPv4 (tcp_v6_connect hands a v4-mapped destination to tcp_v4_connect).
   */
  private peer(): IpAddress {
    return wireAddress(socketAddress(this.env.socketFamily, this.env.remoteAddr));
  }

  /**
   * sendto(MSG_FASTOPEN), or the first write after a deferred TCP_FASTOPEN_CONNECT (Linux
   * tcp_sendmsg_fastopen): connect, with as much data as the SYN may carry queued before it
   * leaves. Non-blocking, it returns what the SYN carries, or EINPROGRESS when nothing; a
   * blocking call waits for the handshake and then writes the rest.
   */
  private fastOpenWrite(s: TcpSocket, length: number, flags: number, pos: SourcePos): Started {
    if ((this.configOf(s).fastOpen & TFO_CLIENT_ENABLE) === 0) return err("EOPNOTSUPP");
    s.deferredConnect = false;
    const conn = this.openConnection(s, true);
    // MSG_ZEROCOPY: the SYN's data takes the write's id; with no data in the SYN it is given back.
    const zerocopy = (flags & CONSTANTS.MSG_ZEROCOPY!) !== 0;
    const taken = length > 0 && conn.fastOpen !== undefined ? conn.send(new Uint8Array(Math.min(length, conn.fastOpen.synRoom)), { eor: (flags & CONSTANTS.MSG_EOR!) !== 0, zerocopy }) : 0;
    const nonblocking = s.nonblocking || (flags & CONSTANTS.MSG_DONTWAIT!) !== 0;
    if (nonblocking) {
      s.connecting = taken === 0;
      return taken > 0 ? ok(taken) : err("EINPROGRESS");
    }
    // Linux sk_write_pending: a writer waits, so the SYN-ACK's ACK can wait for its data.
    if (conn.fastOpen !== undefined && taken < length) conn.fastOpen.writerWaiting = true;
    const rest = flags & ~CONSTANTS.MSG_FASTOPEN!;
    let writing: Pending | undefined;
    return {
      pending: () => {
        if (conn.error !== undefined) {
          s.errorReported = true;
          return { ret: -1, errno: conn.error.code };
        }
        if (conn.state === "SYN_SENT") return undefined;
        if (taken === length) return { ret: length };
        if (writing === undefined) {
          const started = this.write(s, length - taken, rest, pos, taken > 0);
          if ("done" in started) return started.done.ret < 0 ? started.done : { ret: taken + started.done.ret };
          writing = started.pending;
        }
        const r = writing();
        return r === undefined || r.ret < 0 ? r : { ret: taken + r.ret };
      },
    };
  }

  /** Pending error (sk_err): reported once, by whichever call comes first. */
  private takeError(s: TcpSocket): string | undefined {
    const e = s.conn?.error;
    if (e === undefined || s.errorReported) return undefined;
    s.errorReported = true;
    return e.code;
  }

  /** A write; `continuing`: the rest of one whose SYN data took a MSG_ZEROCOPY id; `iovLengths`: sendmsg()'s iovecs. */
  private write(s: TcpSocket, length: number, flags: number, pos: SourcePos, continuing = false, iovLengths?: number[]): Started {
    // MSG_FASTOPEN on a connected socket is an ordinary send.
    const unsupportedFlags = flags & ~(CONSTANTS.MSG_DONTWAIT! | CONSTANTS.MSG_NOSIGNAL! | CONSTANTS.MSG_MORE! | CONSTANTS.MSG_FASTOPEN! | CONSTANTS.MSG_OOB! | CONSTANTS.MSG_EOR! | CONSTANTS.MSG_ZEROCOPY!);
    const more = (flags & CONSTANTS.MSG_MORE!) !== 0;
    // MSG_EOR: the write's last byte ends a record (Linux marks its last skb eor).
    const eor = (flags & CONSTANTS.MSG_EOR!) !== 0;
    // MSG_OOB: every chunk moves SND.UP to its end, so it ends where the write does (Linux tcp_mark_urg).
    const oob = (flags & CONSTANTS.MSG_OOB!) !== 0;
    const fastOpen = (flags & CONSTANTS.MSG_FASTOPEN!) !== 0;
    if (fastOpen && s.conn?.state === "SYN_SENT") return err("EALREADY"); // Linux __inet_stream_connect
    if ((fastOpen && s.conn === undefined && s.listener === undefined) || s.deferredConnect) return this.fastOpenWrite(s, length, flags, pos);
    // MSG_ZEROCOPY: one id per call that queues bytes, however many steps a blocking call
    // queues them in (Linux: one uarg per tcp_sendmsg); ignored without SO_ZEROCOPY.
    const zerocopy = (flags & CONSTANTS.MSG_ZEROCOPY!) !== 0;
    let idTaken = continuing;
    // Where an skb runs out of fragments: a record end, as no segment spans it (zerocopy-frags.ts).
    const skbEnds = zerocopy && iovLengths !== undefined && s.conn?.zerocopy === true ? zerocopySkbEnds(iovLengths) : [];
    if (unsupportedFlags !== 0) throw new DrillUnsupportedError(`send() flags 0x${unsupportedFlags.toString(16)}`, pos);
    const conn = s.conn;
    if (conn === undefined) return err(s.listener ? "ENOTCONN" : "EPIPE");
    const nonblocking = s.nonblocking || (flags & CONSTANTS.MSG_DONTWAIT!) !== 0;
    let sent = 0;
    let asleep = false;
    const step = (): CallResult | undefined => {
      const e = this.takeError(s);
      if (e !== undefined) return sent > 0 ? { ret: sent } : { ret: -1, errno: e };
      if (conn.error !== undefined || !conn.canSend) return sent > 0 ? { ret: sent } : { ret: -1, errno: "EPIPE" };
      // A blocked writer sleeps until the buffer polls writable (sk_stream_wait_memory, woken
      // by sk_stream_write_space); it does not look for room at every ACK.
      if (asleep && !conn.sendSpaceReady) return undefined;
      asleep = false;
      // Linux waits for the handshake before queueing (sk_stream_wait_connect), except on a
      // Fast Open child, which may send in SYN_RCVD (tcp_passive_fastopen).
      if (conn.state === "SYN_SENT" || (conn.state === "SYN_RCVD" && conn.fastOpen?.child !== true)) return nonblocking ? { ret: -1, errno: "EAGAIN" } : undefined;
      while (sent < length) {
        const skbEnd = skbEnds.find((e) => e > sent);
        const piece = Math.min(length - sent, 65536, skbEnd === undefined ? Infinity : skbEnd - sent);
        const full = sent + piece === skbEnd; // Linux tcp_mark_push: the full skb carries PSH
        const n = conn.send(new Uint8Array(piece), { more: !full && (more || sent + piece < length), oob, eor: (eor && sent + piece >= length) || full, zerocopy: zerocopy && (idTaken ? "continue" : true), timestamp: false });
        if (n === 0) break;
        idTaken = true;
        sent += n;
      }
      if (sent === length) return { ret: sent };
      if (nonblocking) return sent > 0 ? { ret: sent } : { ret: -1, errno: "EAGAIN" };
      asleep = true;
      return undefined;
    };
    // SO_TIMESTAMPING marks the last byte a call queued, once, as it returns (Linux
    // tcp_tx_timestamp at tcp_sendmsg_locked's end, reached with bytes copied on every
    // path), however many steps it queued them in.
    const attempt = (): CallResult | undefined => {
      const r = step();
      if (r !== undefined && r.ret > 0) conn.markWriteEnd();
      return r;
    };
    return this.blockingOr({ ...s, nonblocking }, attempt);
  }

  private read(s: TcpSocket, length: number, flags: number, pos: SourcePos): Started {
    const oob = (flags & CONSTANTS.MSG_OOB!) !== 0;
    const allowed = CONSTANTS.MSG_DONTWAIT! | (oob ? CONSTANTS.MSG_OOB! | CONSTANTS.MSG_PEEK! : 0);
    if ((flags & ~allowed) !== 0) throw new DrillUnsupportedError(`recv() flags 0x${flags.toString(16)}`, pos);
    const conn = s.conn;
    const nonblocking = s.nonblocking || (flags & CONSTANTS.MSG_DONTWAIT!) !== 0;
    if (conn === undefined && s.deferredConnect) {
      // A deferred Fast Open connect is SYN_SENT to Linux: nothing to read yet, not ENOTCONN.
      if (nonblocking) return err("EAGAIN");
      throw new DrillUnsupportedError("a blocking read() before a deferred Fast Open connect sent its SYN", pos);
    }
    if (conn === undefined) return err("ENOTCONN");
    if (oob) return this.readOob(conn, length, (flags & CONSTANTS.MSG_PEEK!) !== 0);
    const attempt = (): CallResult | undefined => {
      // Linux tcp_recvmsg copies what is queued before it looks at RCV_SHUTDOWN.
      if (conn.readable > 0) return { ret: conn.read(length).length };
      const e = this.takeError(s);
      if (e !== undefined) return { ret: -1, errno: e };
      if (s.shutRead || conn.peerFinished || conn.error !== undefined || conn.isClosed()) return { ret: 0 };
      if (conn.state === "SYN_SENT" && conn.passive === false && nonblocking) return { ret: -1, errno: "EAGAIN" };
      return nonblocking ? { ret: -1, errno: "EAGAIN" } : undefined;
    };
    return this.blockingOr({ ...s, nonblocking }, attempt);
  }

  /**
   * recvmsg(): a read into the iovecs, then what Linux tcp_recvmsg adds when it returned
   * 0 or more: with TCP_INQ on, TCP_CM_INQ saying what is left after this call.
   */
  private recvmsg(s: TcpSocket, msg: MsgHdr, flags: number, pos: SourcePos): Started {
    if ((flags & CONSTANTS.MSG_ERRQUEUE!) !== 0) return { done: this.readErrorQueue(s, msg, pos) };
    const finish = (r: CallResult): CallResult => {
      if (r.ret < 0) return r;
      const got = s.inq && s.conn !== undefined ? [inqMessage(s.conn.inqHint)] : [];
      return { ...r, outputs: [...(r.outputs ?? []), ...recvmsgOutputs(msg, got, pos)] };
    };
    const started = this.read(s, msg.length, flags, pos);
    if ("done" in started) return { done: finish(started.done) };
    const { pending } = started;
    return { pending: () => { const r = pending(); return r === undefined ? undefined : finish(r); } };
  }

  /**
   * recvmsg(MSG_ERRQUEUE) (Linux inet_recv_error, before anything else tcp_recvmsg does):
   * never blocks; EAGAIN when the queue is empty, else the oldest entry (error-queue.ts) as
   * control messages, with MSG_ERRQUEUE set. A MSG_ZEROCOPY completion carries no bytes. A
   * TX timestamp's entry is a copy of the packet stamped (unless SOF_TIMESTAMPING_OPT_TSONLY),
   * so a read into no iovec space says MSG_TRUNC (sock_recv_errqueue); synack does not keep
   * that packet, so a script reading its bytes is unsupported.
   */
  private readErrorQueue(s: TcpSocket, msg: MsgHdr, pos: SourcePos): CallResult {
    const e = s.conn?.readErrorQueue();
    if (e === undefined) return { ret: -1, errno: "EAGAIN" };
    const family = this.env.socketFamily;
    if (!isTxTimestamp(e)) return { ret: 0, outputs: recvmsgOutputs(msg, [zerocopyMessage(family, e)], pos, CONSTANTS.MSG_ERRQUEUE!, family) };
    const flags = s.conn!.timestamping;
    const tsOnly = (flags & CONSTANTS.SOF_TIMESTAMPING_OPT_TSONLY!) !== 0;
    if (msg.length > 0 && !tsOnly) throw new DrillUnsupportedError("recvmsg(MSG_ERRQUEUE) reading the bytes of a timestamped packet", pos);
    const software = (flags & CONSTANTS.SOF_TIMESTAMPING_SOFTWARE!) !== 0;
    const got = timestampMessages(family, e, software, Math.round(e.at * 1e6));
    return { ret: 0, outputs: recvmsgOutputs(msg, got, pos, CONSTANTS.MSG_ERRQUEUE! | (tsOnly ? 0 : CONSTANTS.MSG_TRUNC!), family) };
  }

  /** recv(MSG_OOB) never blocks (Linux tcp_recv_urg): the byte, EINVAL, EAGAIN or 0 at end of stream. */
  private readOob(conn: Connection, length: number, peek: boolean): Started {
    const look = conn.readOob(true);
    if ("error" in look && look.error === "EINVAL") return err("EINVAL"); // checked before the state, as Linux
    if (conn.isClosed() && conn.error === undefined && !conn.peerFinished) return err("ENOTCONN");
    const got = conn.readOob(peek);
    if ("error" in got) return err(got.error);
    if ("eof" in got) return ok(0);
    return ok(length > 0 ? 1 : 0);
  }

  private blockingOr(s: { nonblocking: boolean }, attempt: () => CallResult | undefined): Started {
    const first = attempt();
    if (first !== undefined) return { done: first };
    if (s.nonblocking) return err("EAGAIN");
    return { pending: attempt };
  }

  private close(fdExpr: Expr | undefined, pos: SourcePos): Started {
    const fd = fdExpr ? numberOf(fdExpr) : undefined;
    if (fd !== undefined && this.epolls.delete(fd)) return ok(0);
    const s = fd === undefined ? undefined : this.fds.get(fd);
    if (s === undefined || fd === undefined) return err("EBADF");
    this.fds.delete(fd);
    if (s.listener) this.env.layer.closeListener(s.listener);
    s.conn?.close();
    void pos;
    return ok(0);
  }

  private shutdown(s: TcpSocket, how: number): Started {
    const conn = s.conn;
    if (conn === undefined || conn.isClosed() || conn.state === "SYN_SENT") return err("ENOTCONN");
    if (how === CONSTANTS.SHUT_RD || how === CONSTANTS.SHUT_RDWR) s.shutRead = true;
    if (how === CONSTANTS.SHUT_WR || how === CONSTANTS.SHUT_RDWR) conn.shutdown();
    if (how < 0 || how > 2) return err("EINVAL");
    return ok(0);
  }

  private fcntl(s: TcpSocket, a: Expr[], pos: SourcePos): Started {
    const cmd = numberOf(a[1]!);
    if (cmd === CONSTANTS.F_GETFL) return ok(CONSTANTS.O_RDWR! | (s.nonblocking ? CONSTANTS.O_NONBLOCK! : 0));
    if (cmd === CONSTANTS.F_SETFL) {
      if (a[2] === undefined) throw new DrillSyntaxError("fcntl(F_SETFL) takes 3 arguments", pos);
      s.nonblocking = ((numberOf(a[2]) ?? 0) & CONSTANTS.O_NONBLOCK!) !== 0;
      return ok(0);
    }
    return err("EINVAL");
  }

  private ioctl(s: TcpSocket, a: Expr[], pos: SourcePos): Started {
    const name = a[1]?.type === "word" ? a[1].name : "";
    const conn = s.conn;
    if (s.listener) return err("EINVAL");
    let actual: number;
    // Linux tcp_inq (Connection.inq); SIOCATMARK is sockatmark().
    if (name === "SIOCINQ" || name === "FIONREAD") actual = conn?.inq ?? 0;
    else if (name === "SIOCATMARK") actual = conn?.atMark === true ? 1 : 0;
    else if (name === "SIOCOUTQ") actual = conn ? conn.inspect().sendQueued : 0;
    else if (name === "SIOCOUTQNSD") {
      const info = conn?.inspect();
      actual = info ? info.sendQueued - Math.max(0, (info.sndNxt - info.sndUna) >>> 0) : 0;
    } else throw new DrillUnsupportedError(`ioctl ${name || describeExpr(a[1]!)}`, pos);
    return { done: { ret: 0, outputs: [{ what: name, expected: a[2]!, actual }] } };
  }

  // --- poll --------------------------------------------------------------------------------

  /** Linux tcp_poll(): the events a socket reports now. */
  private revents(s: TcpSocket): number {
    const C = CONSTANTS as Record<string, number>;
    if (s.listener) return s.listener.acceptQueue.length > 0 ? C.POLLIN! | C.POLLRDNORM! : 0;
    const conn = s.conn;
    // A deferred Fast Open connect is SYN_SENT without a SYN yet: writable (Linux tcp_poll's
    // defer_connect case); an unconnected socket is hung up.
    if (conn === undefined) return s.deferredConnect ? C.POLLOUT! | C.POLLWRNORM! : C.POLLOUT! | C.POLLHUP!;
    let mask = 0;
    // sk_err, or an error queue that is not empty (MSG_ZEROCOPY completions).
    if ((conn.error !== undefined && !s.errorReported) || conn.errorQueueReady) mask |= C.POLLERR!;
    // A closed socket is shut both ways (Linux tcp_done sets SHUTDOWN_MASK).
    const readShut = s.shutRead || conn.peerFinished || conn.isClosed();
    const writeShut = !conn.canSend && conn.state !== "SYN_SENT" && conn.state !== "SYN_RCVD";
    if ((readShut && writeShut) || conn.isClosed()) mask |= C.POLLHUP!;
    if (readShut) mask |= C.POLLIN! | C.POLLRDNORM! | C.POLLRDHUP!;
    if (conn.state !== "SYN_SENT" && conn.state !== "SYN_RCVD") {
      if (conn.readable > 0) mask |= C.POLLIN! | C.POLLRDNORM!;
      if (conn.urgentIn.oobReady) mask |= C.POLLPRI!; // Linux tcp_poll: TCP_URG_VALID
      if (!writeShut && conn.canSend) {
        // sk_stream_is_writeable: free space at least half of what is queued, and the bytes
        // not sent yet under half of TCP_NOTSENT_LOWAT (src/tcp/write-space.ts).
        if (conn.sendSpaceReady) mask |= C.POLLOUT! | C.POLLWRNORM!;
      } else if (writeShut) {
        mask |= C.POLLOUT! | C.POLLWRNORM!;
      }
    }
    return mask;
  }

  private epollCreate(call: SyscallSpec): Started {
    const fd = call.result.type === "int" ? call.result.value : this.fds.size + this.epolls.size + 3;
    this.epolls.set(fd, new EpollSet());
    return ok(fd);
  }

  private epollCtl(a: Expr[], pos: SourcePos): Started {
    const ep = this.epolls.get(numberOf(a[0] ?? zero(pos)) ?? -1);
    if (ep === undefined) return err("EBADF");
    const op = numberOf(a[1] ?? zero(pos)) ?? 0;
    const fd = numberOf(a[2] ?? zero(pos)) ?? -1;
    const { events } = a[3] === undefined || a[3].type === "null" ? { events: 0 } : epollEvent(a[3], pos);
    return { done: ep.ctl(op, fd, events, this.epollHost) };
  }

  /** epoll_wait(epfd, {events=..., fd=N}, maxevents, timeout): the script names the first event it expects. */
  private epollWait(a: Expr[], pos: SourcePos): Started {
    const ep = this.epolls.get(numberOf(a[0] ?? zero(pos)) ?? -1);
    if (ep === undefined) return err("EBADF");
    const expected = a[1]?.type === "struct" ? epollEvent(a[1], pos) : undefined;
    const max = numberOf(a[2] ?? zero(pos)) ?? 1;
    if (max <= 0) return err("EINVAL");
    const timeout = numberOf(a[3] ?? zero(pos)) ?? 0;
    const deadline = this.env.layer.now() + (timeout < 0 ? Infinity : timeout);
    const attempt = (final: boolean): CallResult | undefined => {
      const got = ep.collect(max, this.epollHost);
      if (got.length === 0 && !final) return undefined;
      const first = got[0];
      const outputs = expected !== undefined && first !== undefined && a[1]?.type === "struct"
        ? [
            { what: "epoll_event.events", expected: (a[1].items.find((f) => f.type === "field" && f.name === "events") as Extract<Expr, { type: "field" }> | undefined)?.value ?? zero(pos), actual: first[1] },
            ...(expected.fd !== undefined ? [{ what: "epoll_event.fd", expected: { type: "int" as const, value: expected.fd, pos }, actual: first[0] }] : []),
          ]
        : undefined;
      return outputs === undefined ? { ret: got.length } : { ret: got.length, outputs };
    };
    const first = attempt(timeout === 0);
    if (first !== undefined) return { done: first };
    return { pending: () => attempt(this.env.layer.now() >= deadline) };
  }

  private poll(a: Expr[], pos: SourcePos): Started {
    const list = a[0];
    if (list?.type !== "array") throw new DrillUnsupportedError("poll() without a pollfd array", pos);
    const entries = list.items.map((item) => {
      if (item.type !== "struct") throw new DrillUnsupportedError("poll() entry that is not {fd=..., events=...}", pos);
      const field = (n: string) => item.items.find((f): f is Extract<Expr, { type: "field" }> => f.type === "field" && f.name === n)?.value;
      const fd = numberOf(field("fd") ?? zero(pos)) ?? -1;
      return { fd, events: numberOf(field("events") ?? zero(pos)) ?? 0, revents: field("revents") };
    });
    const timeout = numberOf(a[2] ?? zero(pos)) ?? 0;
    const C = CONSTANTS as Record<string, number>;
    const always = C.POLLERR! | C.POLLHUP! | C.POLLNVAL!;
    const deadline = this.env.layer.now() + (timeout < 0 ? Infinity : timeout);
    const attempt = (final: boolean): CallResult | undefined => {
      const got = entries.map((e) => {
        const s = this.fds.get(e.fd);
        return s === undefined ? C.POLLNVAL! : this.revents(s) & (e.events | always);
      });
      const ready = got.filter((r) => r !== 0).length;
      if (ready === 0 && !final) return undefined;
      const outputs = entries.flatMap((e, i) => (e.revents ? [{ what: `revents of fd ${e.fd}`, expected: e.revents, actual: got[i]! }] : []));
      return { ret: ready, outputs };
    };
    const first = attempt(timeout === 0);
    if (first !== undefined) return { done: first };
    return { pending: () => attempt(this.env.layer.now() >= deadline) };
  }
}

/** An address argument naming AF_UNSPEC: the bare word, or a struct whose sa_family is it. */
function isUnspec(addr: Expr | undefined): boolean {
  if (addr?.type === "word") return addr.name === "AF_UNSPEC";
  return addr?.type === "struct" && addr.items.some((i) => i.type === "field" && i.name === "sa_family" && i.value.type === "word" && i.value.name === "AF_UNSPEC");
}

function zero(pos: SourcePos): Expr {
  return { type: "int", value: 0, pos };
}

/**
 * A byte count below 0: as a size_t it is above SSIZE_MAX, which read() and write() refuse
 * with EINVAL (Linux rw_verify_area) and recv() and send() with EFAULT (no buffer is that
 * long). The engine's own calls refuse a negative count with an exception instead.
 */
function negativeCount(e: Expr | undefined): boolean {
  return e !== undefined && (numberOf(e) ?? 0) < 0;
}
