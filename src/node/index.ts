/**
 * synack's Node-only API: node:net-compatible sockets, the real-time driver, stacks on
 * packet links (and an in-process loopback wire), and an http.Agent over synack.
 */
export { Server, Socket, bindNet, type AddressInfo, type BoundNet, type ListenOptions, type ServerOptions, type SocketConnectOptions, type SocketOptions } from "./net.js";
export { errnoError, type NetError } from "./net-errors.js";
export { CryptoRng, RealTimeDriver } from "./driver.js";
export { LoopbackWire, type LoopbackWireOptions } from "./wire.js";
export { NodeStack, loopbackPair, type LoopbackOptions, type RealTimeStackOptions } from "./stack.js";
export { SynackAgent } from "./http-agent.js";
