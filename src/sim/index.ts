/**
 * The deterministic simulator: seeded randomness, virtual time, impaired links and a
 * network of sans-IO endpoints driven through the Endpoint contract.
 */
export { SimRng } from "./rng.js";
export { EventQueue, VirtualClock } from "./clock.js";
export {
  ImpairedLink,
  LINK_DEFAULTS,
  resolveLinkConfig,
  type Delivery,
  type FaultRule,
  type FaultVerdict,
  type LinkConfig,
  type LinkStats,
  type ResolvedLinkConfig,
} from "./link.js";
export { allRules, anyPacket, delayNth, dropAll, dropNth, onMatch, tcp, type PacketMatcher, type TcpMatch } from "./rules.js";
export {
  SimNetwork,
  type EndpointFactory,
  type HostContext,
  type HostStats,
  type NetworkStats,
  type RunOptions,
  type RunResult,
  type SimHost,
  type SimNetworkOptions,
} from "./network.js";
export { formatPacketLog, type PacketLogEntry, type PacketRecorder } from "../trace/packet-log.js";
export { SimConditionTimeoutError, SimEndpointError, SimError, SimLivelockError, type SimErrorCode } from "./errors.js";
