/**
 * synack's Node-only entry point ("synack/node"): node:net-compatible Socket and Server
 * over a synack stack, an http.Agent whose connections are synack sockets, the real-time
 * driver, and real links (in-process loopback wire, Linux TUN, UDP tunnel).
 */
export * from "./net.js";
export { SynackAgent } from "./http-agent.js";
export { errnoError, type NetError } from "./net-errors.js";
export { RealTimeDriver, CryptoRng } from "./driver.js";
export { LoopbackWire, type LoopbackWireOptions } from "./wire.js";
export { NodeStack, loopbackPair, type RealTimeStackOptions, type LoopbackOptions } from "./stack.js";
export { TunDevice, tunUnavailableReason, type PacketLink } from "./tun.js";
export { UdpTunnel } from "./udp-tunnel.js";
export { BatchedUdpSocket, UdpBatchError, type BatchCounters, type BatchedUdpOptions } from "./udp-batch.js";
export { Relay, pipePair } from "./relay.js";
export type { TcpInfo } from "../tcp/tcp-info.js";
export { LiveEventStream, LiveFeed, serveLive, type LiveHistoryLimits, type LiveServerOptions } from "./live-web.js";
export type { LiveHello, LiveMessage } from "../trace/live-protocol.js";
