/**
 * The symbolic constants scripts write in system calls (Linux x86-64 values), and the
 * evaluation of argument expressions to numbers.
 */
import type { Expr } from "./ast.js";
import { DrillSyntaxError, DrillUnsupportedError } from "./errors.js";
import { SOF_TIMESTAMPING } from "../tcp/tx-timestamps.js";

export const CONSTANTS: Readonly<Record<string, number>> = {
  // socket()
  AF_UNSPEC: 0,
  AF_INET: 2,
  AF_INET6: 10,
  PF_INET: 2,
  PF_INET6: 10,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  IPPROTO_IP: 0,
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  // levels and options
  SOL_SOCKET: 1,
  SOL_IP: 0,
  SOL_TCP: 6,
  SOL_IPV6: 41,
  SO_DEBUG: 1,
  SO_REUSEADDR: 2,
  SO_ERROR: 4,
  SO_KEEPALIVE: 9,
  SO_OOBINLINE: 10,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_LINGER: 13,
  SO_REUSEPORT: 15,
  SO_RCVLOWAT: 18,
  SO_MARK: 36,
  SO_TIMESTAMPING: 37,
  SO_ZEROCOPY: 60,
  TCP_NODELAY: 1,
  TCP_MAXSEG: 2,
  TCP_CORK: 3,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7,
  TCP_LINGER2: 8,
  TCP_DEFER_ACCEPT: 9,
  TCP_WINDOW_CLAMP: 10,
  TCP_INFO: 11,
  TCP_QUICKACK: 12,
  TCP_CONGESTION: 13,
  TCP_MD5SIG: 14,
  TCP_USER_TIMEOUT: 18,
  TCP_REPAIR: 19,
  TCP_FASTOPEN: 23,
  TCP_NOTSENT_LOWAT: 25,
  TCP_CC_INFO: 26,
  TCP_FASTOPEN_CONNECT: 30,
  TCP_INQ: 36,
  TCP_CM_INQ: 36, // the control message TCP_INQ adds to recvmsg() (Linux: #define TCP_CM_INQ TCP_INQ)
  IP_TOS: 1,
  IPV6_TCLASS: 67,
  IP_TTL: 2,
  IP_MTU_DISCOVER: 10,
  IP_FREEBIND: 15,
  IP_PMTUDISC_DONT: 0,
  IP_PMTUDISC_WANT: 1,
  IP_PMTUDISC_DO: 2,
  IP_PMTUDISC_PROBE: 3,
  // fcntl()
  F_GETFL: 3,
  F_SETFL: 4,
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_NONBLOCK: 0o4000,
  // ioctl()
  FIONREAD: 0x541b,
  SIOCINQ: 0x541b,
  SIOCOUTQ: 0x5411,
  SIOCOUTQNSD: 0x894b,
  SIOCATMARK: 0x8905,
  // shutdown()
  SHUT_RD: 0,
  SHUT_WR: 1,
  SHUT_RDWR: 2,
  // send()/recv() flags
  MSG_OOB: 0x1,
  MSG_PEEK: 0x2,
  MSG_DONTROUTE: 0x4,
  MSG_CTRUNC: 0x8,
  MSG_TRUNC: 0x20,
  MSG_DONTWAIT: 0x40,
  MSG_EOR: 0x80,
  MSG_WAITALL: 0x100,
  MSG_NOSIGNAL: 0x4000,
  MSG_MORE: 0x8000,
  MSG_ERRQUEUE: 0x2000,
  MSG_FASTOPEN: 0x20000000,
  MSG_ZEROCOPY: 0x4000000,
  // the error queue's control message (IP_RECVERR / IPV6_RECVERR: struct sock_extended_err, include/uapi/linux/errqueue.h)
  IP_RECVERR: 11,
  IPV6_RECVERR: 25,
  SO_EE_ORIGIN_NONE: 0,
  SO_EE_ORIGIN_LOCAL: 1,
  SO_EE_ORIGIN_ICMP: 2,
  SO_EE_ORIGIN_ICMP6: 3,
  SO_EE_ORIGIN_ZEROCOPY: 5,
  SO_EE_CODE_ZEROCOPY_COPIED: 1,
  SO_EE_ORIGIN_TIMESTAMPING: 4,
  // SO_TIMESTAMPING (include/uapi/linux/net_tstamp.h, errqueue.h; the engine's tx-timestamps.ts)
  SCM_TIMESTAMPING: 37, // = SO_TIMESTAMPING_OLD
  SCM_TSTAMP_SND: 0,
  SCM_TSTAMP_SCHED: 1,
  SCM_TSTAMP_ACK: 2,
  ...Object.fromEntries(Object.entries(SOF_TIMESTAMPING).map(([k, v]) => [`SOF_TIMESTAMPING_${k}`, v])),
  // poll()
  POLLIN: 0x1,
  POLLPRI: 0x2,
  POLLOUT: 0x4,
  POLLERR: 0x8,
  POLLHUP: 0x10,
  POLLNVAL: 0x20,
  POLLRDNORM: 0x40,
  POLLRDBAND: 0x80,
  POLLWRNORM: 0x100,
  POLLWRBAND: 0x200,
  POLLRDHUP: 0x2000,
  // epoll (include/uapi/linux/eventpoll.h)
  EPOLLIN: 0x1,
  EPOLLPRI: 0x2,
  EPOLLOUT: 0x4,
  EPOLLERR: 0x8,
  EPOLLHUP: 0x10,
  EPOLLRDNORM: 0x40,
  EPOLLRDBAND: 0x80,
  EPOLLWRNORM: 0x100,
  EPOLLWRBAND: 0x200,
  EPOLLRDHUP: 0x2000,
  EPOLLONESHOT: 0x40000000,
  EPOLLET: 0x80000000,
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
  EPOLL_CTL_MOD: 3,
};

/** Linux errno numbers, for SO_ERROR values and `= -1 ENAME` comparisons. */
export const ERRNO: Readonly<Record<string, number>> = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EINVAL: 22,
  EPIPE: 32,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  EMSGSIZE: 90,
  ENOMSG: 42,
};

export function errnoName(n: number): string {
  for (const [name, v] of Object.entries(ERRNO)) if (v === n && name !== "EWOULDBLOCK") return name;
  return String(n);
}

/**
 * An argument's numeric value: integers, known constants, errno names and `A|B`.
 * Returns undefined for `...` (not checked / not given).
 */
export function numberOf(e: Expr): number | undefined {
  switch (e.type) {
    case "ellipsis":
      return undefined;
    case "int":
      return e.value;
    case "null":
      return 0;
    case "word": {
      const v = CONSTANTS[e.name] ?? ERRNO[e.name];
      if (v === undefined) throw new DrillUnsupportedError(`constant ${e.name}`, e.pos);
      return v;
    }
    case "or":
      return e.operands.reduce((acc, o) => acc | (numberOf(o) ?? 0), 0);
    case "array":
      if (e.items.length === 1) return numberOf(e.items[0]!);
      break;
    default:
      break;
  }
  throw new DrillSyntaxError(`expected a number, found ${describeExpr(e)}`, e.pos);
}

export function describeExpr(e: Expr): string {
  switch (e.type) {
    case "ellipsis":
      return "...";
    case "int":
      return String(e.value);
    case "word":
      return e.name;
    case "string":
      return JSON.stringify(e.value);
    case "or":
      return e.operands.map(describeExpr).join("|");
    case "field":
      return `${e.name}${e.index ? `(${e.index.map(describeExpr).join(", ")})` : ""}=${describeExpr(e.value)}`;
    case "array":
      return `[${e.items.map(describeExpr).join(", ")}]`;
    case "struct":
      return `{${e.items.map(describeExpr).join(", ")}}`;
    case "call":
      return `${e.name}(${e.args.map(describeExpr).join(", ")})`;
    case "null":
      return "NULL";
  }
}
