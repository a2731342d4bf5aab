/**
 * synack's runtime-neutral user API: the Stack, Web Streams sockets, the connection table,
 * errors with stable codes, and the simulator driver. Runs in browsers, Workers and Node.
 */
export { Stack, type OpenConnectionParams, type StackOptions } from "./stack.js";
export { connectByName, isLocalhost, type LookupFunction, type NameConnectOptions, type NameConnectFailure } from "./name-connect.js";
export { StreamSocket, type ConnectOptions, type SocketInfo, type SocketOpenInfo } from "./stream-socket.js";
export { StreamServer, type ListenOptions } from "./stream-server.js";
export { SimDriver, type SimDriverOptions, type SimStackOptions } from "./sim-driver.js";
export { holdOf, NO_HOLD, type Driver, type Hold, type HoldingDriver } from "./driver.js";
export { buildTable, countStates, formatTable, type TableRow, type TimerName } from "./table.js";
export type { TcpInfo } from "../tcp/tcp-info.js";
export { checkPortNumber, formatAddress, resolveHostname, socketAddress, type SocketAddress } from "./address.js";
export {
  AddressInUseError,
  AddressNotAvailableError,
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionRefusedError,
  ConnectionResetError,
  HostNotFoundError,
  HostUnreachableError,
  NameResolutionError,
  InvalidArgumentError,
  NetworkUnreachableError,
  NetworkDownError,
  SocketClosedError,
  SocketError,
  TimedOutError,
  socketError,
  toSocketError,
  type SocketErrorCode,
} from "./errors.js";
