/**
 * The state of one script socket and the shapes of a system call's result, shared by the
 * system calls (sockets.ts) and the socket options (sockopts.ts).
 */
import type { Expr } from "./ast.js";
import type { Connection } from "../tcp/connection.js";
import type { TcpConfig } from "../tcp/config.js";
import type { Listener } from "../tcp/listener.js";

/** What a call returned: a value, or -1 with an errno, plus output arguments to check. */
export interface CallResult {
  ret: number;
  errno?: string;
  /** Output arguments (getsockopt's value, poll's revents) with what the script expects. */
  outputs?: Array<{ what: string; expected: Expr; actual: number; time?: boolean }>;
}

/** A call that has not returned yet: retried after every step of virtual time. */
export type Pending = () => CallResult | undefined;
export type Started = { done: CallResult } | { pending: Pending };

export interface TcpSocket {
  nonblocking: boolean;
  /** Per-socket settings (setsockopt before connect or listen). */
  own: Partial<TcpConfig>;
  listener: Listener | undefined;
  conn: Connection | undefined;
  /** The connection's error has been reported once (SO_ERROR, read, write); later calls see EPIPE or EOF. */
  errorReported: boolean;
  shutRead: boolean;
  /** A non-blocking connect() is under way: the next connect() says EALREADY, then EISCONN. */
  connecting: boolean;
  sndbuf: number | undefined;
  /** SO_KEEPALIVE set before the socket had a connection: applied when it gets one. */
  keepAlive: boolean;
  /** TCP_NOTSENT_LOWAT as set (0: never set, the sysctl applies); accepted sockets inherit it (Linux sk_clone copies tp). */
  notsentLowat: number;
  /** TCP_INQ: recvmsg() adds TCP_CM_INQ (Linux tp->recvmsg_inq); accepted sockets inherit it (sk_clone copies tp). */
  inq: boolean;
  /** SO_ZEROCOPY (a socket flag, Linux SOCK_ZEROCOPY): applied to the connection when there is one; accepted sockets inherit it. */
  zerocopy: boolean;
  /** SO_TIMESTAMPING's SOF_TIMESTAMPING_* flags as set (Linux sk_tsflags): applied to the connection when there is one; accepted sockets inherit them. */
  tsflags: number;
  /**
   * IP_TOS and IPV6_TCLASS as set, without their ECN bits (Linux inet->tos, np->tclass): the
   * first marks IPv4 packets (an AF_INET6 socket's IPv4-mapped ones too), the second IPv6
   * ones. Accepted sockets inherit both (sk_clone).
   */
  tos: number;
  tclass: number;
  /** TCP Fast Open: TCP_FASTOPEN's queue length (listeners), TCP_FASTOPEN_CONNECT, and a connect() deferred to the first write. */
  fastOpenQlen: number | undefined;
  fastOpenConnect: boolean;
  deferredConnect: boolean;
}

export const NO_FAST_OPEN = { fastOpenQlen: undefined, fastOpenConnect: false, deferredConnect: false } as const;
export const CONNECTED = new Set(["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"]);
export const ok = (ret: number): Started => ({ done: { ret } });
export const err = (errno: string): Started => ({ done: { ret: -1, errno } });

