/**
 * synack: a userspace TCP/IP stack. This entry point is runtime-neutral (browsers,
 * Workers, Node); Node-only pieces (node:net-compatible sockets, the real-time driver,
 * TUN and UDP-tunnel links) are in "synack/node".
 *
 * The most used names are exported at the top level; each layer is also available as a
 * namespace (wire, tcp, ip, sim, trace, api, dns) with everything it offers.
 */
export * as wire from "./wire/index.js";
export * as tcp from "./tcp/index.js";
export * as ip from "./ip/index.js";
export * as sim from "./sim/index.js";
export * as api from "./api/index.js";
export * as dns from "./dns/index.js";

export type { Endpoint, GsoInfo, Transmit } from "./endpoint.js";
export { MAX_CLOCK_MS, type Millis, type Rng } from "./env.js";
export { Host, type HostOptions } from "./host/host.js";
export { SimNetwork, SimRng, type LinkConfig } from "./sim/index.js";
export { Stack, StreamSocket, StreamServer, SimDriver } from "./api/index.js";
export { TraceHub, NULL_SINK, type TraceEvent, type TraceSink, type TcpState, type FourTuple } from "./trace/events.js";
export { parseIpv4Address, formatIpv4Address } from "./wire/ipv4.js";
export { IpAddress, IpPrefix, parseIpAddress, parseCidr, type IpFamily } from "./wire/address.js";
export { narrate, type NarrateHost } from "./trace/narrate/index.js";
export { PcapWriter, PcapngWriter, MemorySink, captureRecorder } from "./trace/capture.js";
export { serveZone, DnsError, type Zone } from "./dns/index.js";
export { LINUX_DEFAULTS, type TcpConfig } from "./tcp/config.js";
export { tcpInfo, formatTcpInfo, linuxTcpInfo, type TcpInfo } from "./tcp/tcp-info.js";
