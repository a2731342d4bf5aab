/**
 * Shared fixtures for engine tests: two synack hosts in the simulator.
 */
import { IpAddress, parseIpAddress, type IpFamily } from "../../src/wire/address.js";
import { Host, type HostOptions } from "../../src/host/host.js";
import { SimNetwork } from "../../src/sim/index.js";
import type { LinkConfig } from "../../src/sim/link.js";
import { TraceHub, type TraceEvent } from "../../src/trace/events.js";
import { parseIpv4Address } from "../../src/wire/ipv4.js";
import type { TcpConfig } from "../../src/tcp/config.js";

export const CLIENT_ADDR = parseIpv4Address("10.0.0.1")!;
export const SERVER_ADDR = parseIpv4Address("10.0.0.2")!;

export interface Pair {
  net: SimNetwork;
  client: Host;
  server: Host;
  events: TraceEvent[];
}

/** The two hosts' addresses in each family (the IPv4 ones are CLIENT_ADDR and SERVER_ADDR). */
export const PAIR_ADDRESSES = {
  4: { client: IpAddress.v4(CLIENT_ADDR), server: IpAddress.v4(SERVER_ADDR) },
  6: { client: parseIpAddress("fd00::1")!, server: parseIpAddress("fd00::2")! },
} as const;

/** What a host is told of its driver's timers (HostOptions): a Node-like clock in tests that want one. */
type DriverClock = Pick<HostOptions, "timerSlack" | "timerGranularity">;

export function pair(opts: { seed?: number; link?: LinkConfig; tcp?: Partial<TcpConfig>; clientTcp?: Partial<TcpConfig>; serverTcp?: Partial<TcpConfig>; mtu?: number; record?: boolean; family?: IpFamily; clientHost?: DriverClock; hosts?: DriverClock } = {}): Pair {
  const hub = new TraceHub();
  const events: TraceEvent[] = [];
  if (opts.record !== false) hub.subscribe((e) => events.push(e));
  const net = new SimNetwork({ seed: opts.seed ?? 1, trace: hub });
  const make = (name: string, address: number | IpAddress, tcp: Partial<TcpConfig> | undefined) =>
    net.addHost(name, address, (transmit, ctx) => {
      const o: HostOptions = { name, address, rng: ctx.rng, transmit, trace: hub, tcp: { ...opts.tcp, ...tcp } };
      if (opts.mtu !== undefined) o.mtu = opts.mtu;
      Object.assign(o, opts.hosts, name === "client" ? opts.clientHost : undefined);
      const host = new Host(o);
      host.tcp.setClock(ctx.now);
      return host;
    }).endpoint;
  const v6 = opts.family === 6;
  const client = make("client", v6 ? PAIR_ADDRESSES[6].client : CLIENT_ADDR, opts.clientTcp);
  const server = make("server", v6 ? PAIR_ADDRESSES[6].server : SERVER_ADDR, opts.serverTcp);
  net.connect("client", "server", opts.link ?? { delay: 10 });
  return { net, client, server, events };
}
