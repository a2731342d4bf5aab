/** The TCP engine's public surface: connections, the layer, settings and errors. */
export { Connection, type ConnectionContext, type ConnectionInfo } from "./connection.js";
export { TcpLayer, AddressInUseError, tupleKey, type ConnectParams, type TcpLayerOptions } from "./layer.js";
export { Listener, SOMAXCONN } from "./listener.js";
export { LINUX_DEFAULTS, resolveConfig, type TcpConfig } from "./config.js";
export { TcpError, InvalidArgumentError, type TcpErrorCode } from "./errors.js";
