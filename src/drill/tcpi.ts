/**
 * The names a `%{ }%` block sees: `tcpi_*` fields of the socket under test (Linux's
 * struct tcp_info, from tcp-info.ts) and the constants packetdrill's Python defines. A
 * field synack does not track is left out, so a block that reads it is reported
 * unsupported with the field named, never passed on a made-up zero.
 */
import type { PyValue } from "./python.js";
import type { Connection } from "../tcp/connection.js";
import {
  linuxTcpInfo,
  tcpInfo,
  TCP_CA_CWR,
  TCP_CA_Disorder,
  TCP_CA_Loss,
  TCP_CA_Open,
  TCP_CA_Recovery,
  TCP_INFINITE_SSTHRESH,
  TCP_STATES,
  TCPI_OPT_ECN,
  TCPI_OPT_ECN_SEEN,
  TCPI_OPT_SACK,
  TCPI_OPT_SYN_DATA,
  TCPI_OPT_TIMESTAMPS,
  TCPI_OPT_WSCALE,
} from "../tcp/tcp-info.js";

/** Fields tcp-info.ts reports as 0 or as an approximation because synack does not track them. */
const UNTRACKED = new Set([
  "tcpi_fackets",
  "tcpi_rcv_rtt",
  "tcpi_rcv_space",
  "tcpi_rcv_ssthresh",
  "tcpi_delivery_rate",
  "tcpi_delivered_ce",
  "tcpi_dsack_dups",
  "tcpi_reord_seen",
]);

/** The names packetdrill's Python defines, from the same constants tcp-info.ts exports. */
const CONSTANTS: Record<string, number> = {
  TCP_CA_Open,
  TCP_CA_Disorder,
  TCP_CA_CWR,
  TCP_CA_Recovery,
  TCP_CA_Loss,
  TCPI_OPT_TIMESTAMPS,
  TCPI_OPT_SACK,
  TCPI_OPT_WSCALE,
  TCPI_OPT_ECN,
  TCPI_OPT_ECN_SEEN,
  TCPI_OPT_SYN_DATA,
  TCP_INFINITE_SSTHRESH,
};

/** Scope for a block at time `now` (ms): constants, plus tcpi_* when there is a socket under test. */
export function tcpInfoScope(conn: Connection | undefined, now: number): Record<string, PyValue> {
  const scope: Record<string, PyValue> = { ...CONSTANTS };
  for (const [state, n] of Object.entries(TCP_STATES)) scope[`TCP_${linuxStateName(state)}`] = n;
  if (conn === undefined) return scope;
  for (const [name, value] of Object.entries(linuxTcpInfo(tcpInfo(conn, now)))) {
    if (!UNTRACKED.has(name)) scope[name] = value;
  }
  return scope;
}

/** synack's state names to Linux's constant names (TCP_SYN_RECV, TCP_FIN_WAIT1, TCP_CLOSE). */
function linuxStateName(state: string): string {
  switch (state) {
    case "SYN_RCVD":
      return "SYN_RECV";
    case "FIN_WAIT_1":
      return "FIN_WAIT1";
    case "FIN_WAIT_2":
      return "FIN_WAIT2";
    case "CLOSED":
      return "CLOSE";
    default:
      return state;
  }
}
