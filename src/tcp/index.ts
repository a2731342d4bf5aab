/** The TCP engine's public surface: connections, the layer, settings and errors. */
export { Connection, type ConnectionContext, type ConnectionInfo } from "./connection.js";
export { TcpLayer, AddressInUseError, tupleKey, type ConnectParams, type TcpLayerOptions } from "./layer.js";
export { Listener, SOMAXCONN } from "./listener.js";
export { LINUX_DEFAULTS, resolveConfig, type TcpConfig } from "./config.js";
export { TcpError, InvalidArgumentError, type TcpErrorCode } from "./errors.js";
export type { ZerocopyCompletion } from "./zerocopy.js";
export { isTxTimestamp, SCM_TSTAMP_ACK, SCM_TSTAMP_SCHED, SCM_TSTAMP_SND, type ErrorQueueEntry, type TxTimestamp, type TstampType } from "./error-queue.js";
export { SOF_TIMESTAMPING } from "./tx-timestamps.js";
export {
  tcpInfo, linuxTcpInfo, linuxFieldName, formatTcpInfo, TCP_STATES, TCP_INFINITE_SSTHRESH, NO_MIN_RTT,
  TCP_CA_Open, TCP_CA_Disorder, TCP_CA_CWR, TCP_CA_Recovery, TCP_CA_Loss,
  TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE, TCPI_OPT_ECN, TCPI_OPT_ECN_SEEN, TCPI_OPT_SYN_DATA,
  type TcpInfo,
} from "./tcp-info.js";
