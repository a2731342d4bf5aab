/**
 * The names a `%{ }%` block sees: `tcpi_*` fields of the socket under test (Linux's
 * struct tcp_info, from synack's real state) and the constants packetdrill defines for
 * them. A field synack cannot compute is absent, so a block that reads it is reported
 * unsupported with the field named, never passed.
 */
import type { PyValue } from "./python.js";
import type { Connection } from "../tcp/connection.js";

const CONSTANTS: Record<string, number> = {
  TCP_CA_Open: 0,
  TCP_CA_Disorder: 1,
  TCP_CA_CWR: 2,
  TCP_CA_Recovery: 3,
  TCP_CA_Loss: 4,
  TCPI_OPT_TIMESTAMPS: 1,
  TCPI_OPT_SACK: 2,
  TCPI_OPT_WSCALE: 4,
  TCPI_OPT_ECN: 8,
  TCPI_OPT_ECN_SEEN: 16,
  TCPI_OPT_SYN_DATA: 32,
  TCP_INFINITE_SSTHRESH: 0x7fffffff,
  TCP_ESTABLISHED: 1,
  TCP_SYN_SENT: 2,
  TCP_SYN_RECV: 3,
  TCP_FIN_WAIT1: 4,
  TCP_FIN_WAIT2: 5,
  TCP_TIME_WAIT: 6,
  TCP_CLOSE: 7,
  TCP_CLOSE_WAIT: 8,
  TCP_LAST_ACK: 9,
  TCP_LISTEN: 10,
  TCP_CLOSING: 11,
};

/** Scope for a block at time `now` (ms): constants, plus tcpi_* when there is a socket under test. */
export function tcpInfoScope(conn: Connection | undefined, now: number): Record<string, PyValue> {
  const scope: Record<string, PyValue> = { ...CONSTANTS };
  if (conn === undefined) return scope;
  void now;
  const i = conn.inspect();
  const mss = Math.max(1, i.sendMss);
  scope.tcpi_state = LINUX_STATE[i.state] ?? 7;
  scope.tcpi_snd_cwnd = Math.floor(i.cwnd / mss);
  scope.tcpi_snd_ssthresh = i.ssthresh >= 0x7fffffff * mss || !Number.isFinite(i.ssthresh) || i.ssthresh >= Number.MAX_SAFE_INTEGER ? 0x7fffffff : Math.floor(i.ssthresh / mss);
  scope.tcpi_snd_mss = i.sendMss;
  scope.tcpi_rto = Math.round(i.rto * 1000);
  if (i.srtt !== undefined) scope.tcpi_rtt = Math.round(i.srtt * 1000);
  scope.tcpi_total_retrans = i.retransmits;
  scope.tcpi_snd_wscale = i.sndShift;
  scope.tcpi_rcv_wscale = i.rcvShift;
  scope.tcpi_options = (i.timestamps ? 1 : 0) | (i.sack ? 2 : 0) | (i.sndShift > 0 || i.rcvShift > 0 ? 4 : 0);
  return scope;
}

const LINUX_STATE: Record<string, number> = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RCVD: 3,
  FIN_WAIT_1: 4,
  FIN_WAIT_2: 5,
  TIME_WAIT: 6,
  CLOSED: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
};
