/**
 * The public IP API: UDP sockets, ICMP echo, routing and the typed errors the API layers
 * pass on to applications. The Host that puts IP, UDP and TCP together is one floor up
 * (src/host/), since it needs TCP and IP must not.
 */
export {
  AddressNotAvailableError,
  ConnectionRefusedError,
  DestinationRequiredError,
  HostUnreachableError,
  IcmpReportedError,
  InvalidArgumentError,
  IpError,
  MessageTooLongError,
  NetworkUnreachableError,
  PortInUseError,
  SocketClosedError,
  WouldBlockError,
  type IpErrorCode,
} from "./errors.js";
export type { IpDropReason } from "./drops.js";
export type { IpStats } from "./stats.js";
export {
  DEFAULT_MTU,
  MIN_MTU,
  RoutingTable,
  type Interface,
  type InterfaceConfig,
  type Route,
  type RouteChoice,
  type RouteConfig,
  type RouteLookup,
} from "./routing.js";
export type { FragmentPolicy } from "./output.js";
export { REASSEMBLY_DEFAULTS, FRAGMENT_OVERHEAD, type ReassemblyConfig, type ReassemblyStats } from "./reassembly.js";
export { ICMP_RATE_LIMIT_DEFAULTS, type IcmpRateLimitConfig } from "./rate-limit.js";
export { ICMP_MAX_ECHO_DATA, IcmpLayer, type EchoReply, type EchoRequest, type IcmpStats } from "./icmp.js";
export { UdpLayer, UDP_EPHEMERAL_HIGH, UDP_EPHEMERAL_LOW, type UdpStats } from "./udp/layer.js";
export {
  DEFAULT_SEND_BUFFER,
  UDP_MAX_PAYLOAD,
  UdpSocket,
  type UdpEndpoint,
  type UdpSocketOptions,
  type UdpSocketState,
  type UdpSocketStats,
} from "./udp/socket.js";
export { DATAGRAM_OVERHEAD, DEFAULT_RECEIVE_BUFFER, type UdpMessage } from "./udp/receive-queue.js";
