/**
 * setsockopt() and getsockopt() of packetdrill scripts: each option Linux has that a
 * script uses, mapped onto synack's per-socket settings or its connection, with Linux's
 * errno for values Linux refuses. An option synack lacks makes the script unsupported.
 */
import type { Expr } from "./ast.js";
import { CONSTANTS, describeExpr, ERRNO, numberOf } from "./constants.js";
import { DrillUnsupportedError, type SourcePos } from "./errors.js";
import type { TcpConfig } from "../tcp/config.js";
import type { Millis } from "../env.js";
import { SOMAXCONN } from "../tcp/listener.js";
import { TFO_CLIENT_ENABLE } from "../tcp/fast-open/settings.js";
import { windowScaleFor } from "./sysctl.js";
import { validTimestampingFlags } from "../tcp/tx-timestamps.js";
import { InvalidArgumentError } from "../tcp/errors.js";
import { typeOfServiceBits } from "../tcp/socket-options.js";
import type { IpFamily } from "../wire/address.js";
import { CONNECTED, err, ok, type Started, type TcpSocket } from "./socket-state.js";

/** What the options need from the socket layer. */
export interface OptionHost {
  now(): Millis;
  /** The settings a connection of `s` gets: the sysctls under the socket's own. */
  configOf(s: TcpSocket): TcpConfig;
  /** The socket's pending error, reported once (SO_ERROR). */
  takeError(s: TcpSocket): string | undefined;
  /** The family of the run's packets (4 in the IPv4-mapped run too). */
  wireFamily(): IpFamily;
  /** The domain of the script's sockets. */
  socketFamily(): IpFamily;
}

/** IP_TOS or IPV6_TCLASS, whichever marks the run's packets, onto the socket's connection or listener. */
export function applyTypeOfService(host: OptionHost, s: TcpSocket): void {
  const tos = host.wireFamily() === 4 ? s.tos : s.tclass;
  s.conn?.setTypeOfService(tos);
  s.listener?.setTypeOfService(tos);
}

export function setSocketOption(host: OptionHost, s: TcpSocket, a: Expr[], pos: SourcePos): Started {
  const level = numberOf(a[1]!);
  const name = a[2]?.type === "word" ? a[2].name : describeExpr(a[2]!);
  const value = a[3]?.type === "array" || a[3]?.type === "int" || a[3]?.type === "word" ? numberOf(a[3]) : undefined;
  const need = (): number => {
    if (value === undefined) throw new DrillUnsupportedError(`setsockopt ${name} with a value of that form`, pos);
    return value;
  };
  const conn = s.conn;
  switch (name) {
    case "SO_REUSEADDR":
    case "SO_REUSEPORT":
      return ok(0); // synack binds the script port once per listener; reuse is implied
    case "SO_SNDBUF": {
      // Linux doubles the value for bookkeeping overhead (sk_sndbuf = max(2 x val,
      // SOCK_MIN_SNDBUF)) and reports the double back. It counts queued data at its memory
      // cost, which for TSO-sized packets is about the payload (send-buffer-tuning.ts), so
      // the doubled figure is what synack's buffer holds in payload bytes.
      s.sndbuf = Math.max(4608, 2 * need());
      s.own.sendBufferSize = s.sndbuf;
      s.own.sendBufferMax = s.own.sendBufferSize; // SOCK_SNDBUF_LOCK: no autotuning from here on
      conn?.setSendBufferSize(s.own.sendBufferSize);
      return ok(0);
    }
    case "SO_RCVBUF":
      s.own.receiveBufferSize = Math.max(2304, need());
      s.own.receiveBufferMax = s.own.receiveBufferSize; // SOCK_RCVBUF_LOCK: no autotuning from here on
      s.own.windowScaleShift = windowScaleFor(need() * 2);
      if (conn) throw new DrillUnsupportedError("SO_RCVBUF on a connected socket", pos);
      return ok(0);
    case "SO_KEEPALIVE":
      s.keepAlive = need() !== 0;
      if (conn) conn.setKeepAlive(s.keepAlive, host.now());
      return ok(0);
    case "SO_OOBINLINE":
      // A socket flag: accepted sockets inherit it from their listener (Linux sk_clone).
      s.own.oobInline = need() !== 0;
      conn?.setOobInline(need() !== 0);
      if (s.listener) s.listener.config = host.configOf(s);
      return ok(0);
    case "SO_ZEROCOPY":
      // Linux sock_setsockopt: 0 or 1, anything else EINVAL; a flag accepted sockets inherit.
      if (need() < 0 || need() > 1) return err("EINVAL");
      s.zerocopy = need() === 1;
      conn?.setZerocopy(s.zerocopy);
      return ok(0);
    case "SO_TIMESTAMPING": {
      // Linux sock_set_timestamping: OPT_ID on a closed or listening TCP socket is EINVAL
      // (its key base is a sequence number); bad flags are EINVAL. A flag set accepted sockets inherit.
      const flags = need();
      if (conn === undefined && (flags & CONSTANTS.SOF_TIMESTAMPING_OPT_ID!) !== 0) return err("EINVAL");
      if (conn !== undefined) {
        try {
          conn.setTimestamping(flags);
        } catch (e) {
          if (e instanceof InvalidArgumentError) return err("EINVAL");
          throw e;
        }
      } else if (!validTimestampingFlags(flags)) return err("EINVAL");
      s.tsflags = flags;
      return ok(0);
    }
    case "SO_MARK":
      return ok(0); // the fwmark chooses routes by policy rules; synack has none, so nothing changes
    case "TCP_NODELAY":
      if (conn) conn.setNoDelay(need() !== 0);
      s.own.noDelay = need() !== 0;
      return ok(0);
    case "TCP_MAXSEG":
      if (conn) throw new DrillUnsupportedError("TCP_MAXSEG on a connected socket", pos);
      if (need() < 88 || need() > 32767) return err("EINVAL");
      s.own.userMss = need();
      if (s.listener) s.listener.config = host.configOf(s);
      return ok(0);
    case "TCP_CORK":
      if (conn === undefined) throw new DrillUnsupportedError("TCP_CORK before the connection exists", pos);
      conn.setCork(need() !== 0);
      return ok(0);
    case "TCP_NOTSENT_LOWAT":
      // Linux takes any int and keeps it as u32 (0 = back to the sysctl's value).
      s.notsentLowat = need() >>> 0;
      conn?.setNotsentLowat(s.notsentLowat);
      return ok(0);
    case "TCP_INQ":
      // Linux do_tcp_setsockopt: 0 or 1, anything else EINVAL.
      if (need() < 0 || need() > 1) return err("EINVAL");
      s.inq = need() === 1;
      return ok(0);
    case "TCP_USER_TIMEOUT":
      if (need() < 0) return err("EINVAL");
      s.own.userTimeout = need();
      conn?.setUserTimeout(need());
      return ok(0);
    case "TCP_SYNCNT":
      if (need() < 1 || need() > 127) return err("EINVAL");
      s.own.synRetries = need();
      // Linux sets icsk_syn_retries, which a SYN_SENT connection reads at its next timeout;
      // a connection made here has this socket's own settings object (configOf).
      if (conn) conn.config.synRetries = need();
      return ok(0);
    case "TCP_KEEPIDLE":
    case "TCP_KEEPINTVL":
    case "TCP_KEEPCNT": {
      const v = need();
      if (v < 1) return err("EINVAL");
      if (name === "TCP_KEEPIDLE") s.own.keepAliveIdle = v * 1000;
      else if (name === "TCP_KEEPINTVL") s.own.keepAliveInterval = v * 1000;
      else s.own.keepAliveProbes = v;
      if (conn?.keepAlive) conn.setKeepAlive(true, host.now(), { idle: s.own.keepAliveIdle, interval: s.own.keepAliveInterval, probes: s.own.keepAliveProbes });
      return ok(0);
    }
    case "IP_MTU_DISCOVER":
      return ok(0); // DF policy: not visible in what the scripts check
    case "IP_TOS":
      // Linux __ip_sock_set_tos: any int (or one byte), kept as a byte without its ECN bits.
      s.tos = typeOfServiceBits(need() & 0xff);
      applyTypeOfService(host, s);
      return ok(0);
    case "IPV6_TCLASS":
      // Linux do_ipv6_setsockopt: an AF_INET6 socket's; -1 (the default, 0) to 255, else EINVAL.
      if (host.socketFamily() !== 6) return err("ENOPROTOOPT");
      if (need() < -1 || need() > 255) return err("EINVAL");
      s.tclass = typeOfServiceBits(Math.max(0, need()));
      applyTypeOfService(host, s);
      return ok(0);
    case "TCP_FASTOPEN": {
      // Linux: the Fast Open queue length, on a socket not yet connected (CLOSE or LISTEN).
      if (conn) return err("EINVAL");
      s.fastOpenQlen = Math.min(Math.max(need(), 0), SOMAXCONN);
      if (s.listener) s.listener.fastOpenQueueLimit = s.fastOpenQlen;
      return ok(0);
    }
    case "TCP_CONGESTION": {
      // Linux tcp_set_congestion_control: by name. synack picks the algorithm when the
      // connection is made, so only an unconnected socket may choose.
      const algo = a[3]?.type === "string" ? a[3].value : "";
      if (algo !== "reno" && algo !== "cubic" && algo !== "bbr") throw new DrillUnsupportedError(`TCP_CONGESTION "${algo}"`, pos);
      if (conn) throw new DrillUnsupportedError("TCP_CONGESTION on a connected socket", pos);
      s.own.congestionControl = algo;
      return ok(0);
    }
    case "TCP_FASTOPEN_CONNECT":
      if (conn || s.listener) return err("EINVAL");
      if ((host.configOf(s).fastOpen & TFO_CLIENT_ENABLE) === 0) return err("EOPNOTSUPP");
      s.fastOpenConnect = need() !== 0;
      return ok(0);
    default:
      throw new DrillUnsupportedError(`socket option ${name}${level === CONSTANTS.SOL_TCP ? "" : ""}`, pos);
  }
}

export function getSocketOption(host: OptionHost, s: TcpSocket, a: Expr[], pos: SourcePos): Started {
  const name = a[2]?.type === "word" ? a[2].name : describeExpr(a[2]!);
  const expected = a[3]!;
  const conn = s.conn;
  let actual: number;
  switch (name) {
    case "SO_ERROR": {
      const e = host.takeError(s);
      actual = e === undefined ? 0 : (ERRNO[e] ?? 0);
      break;
    }
    case "TCP_MAXSEG":
      actual = conn && CONNECTED.has(conn.state) ? conn.sendMss : (s.own.userMss ?? 536);
      break;
    case "SO_SNDBUF":
      actual = s.sndbuf ?? 2 * host.configOf(s).sendBufferSize;
      break;
    case "TCP_NODELAY":
      actual = (conn?.noDelay ?? s.own.noDelay) ? 1 : 0;
      break;
    case "SO_OOBINLINE":
      actual = (conn?.urgentIn.inline ?? s.own.oobInline) ? 1 : 0;
      break;
    case "TCP_FASTOPEN":
      actual = s.listener?.fastOpenQueueLimit ?? s.fastOpenQlen ?? 0;
      break;
    case "TCP_FASTOPEN_CONNECT":
      actual = s.fastOpenConnect ? 1 : 0;
      break;
    case "TCP_INQ":
      actual = s.inq ? 1 : 0;
      break;
    case "SO_ZEROCOPY":
      actual = s.zerocopy ? 1 : 0;
      break;
    case "SO_TIMESTAMPING":
      actual = s.tsflags;
      break;
    case "TCP_NOTSENT_LOWAT":
      actual = s.notsentLowat; // the socket's own value, 0 when unset (Linux tp->notsent_lowat)
      break;
    case "IP_TOS":
      actual = s.tos;
      break;
    case "IPV6_TCLASS":
      actual = s.tclass;
      break;
    default:
      throw new DrillUnsupportedError(`getsockopt ${name}`, pos);
  }
  return { done: { ret: 0, outputs: [{ what: name, expected, actual }] } };
}
