/**
 * Shared fixtures for engine tests: two synack hosts in the simulator.
 */
import { Host, type HostOptions } from "../../src/ip/host.js";
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

export function pair(opts: { seed?: number; link?: LinkConfig; tcp?: Partial<TcpConfig>; clientTcp?: Partial<TcpConfig>; serverTcp?: Partial<TcpConfig>; mtu?: number; record?: boolean } = {}): Pair {
  const hub = new TraceHub();
  const events: TraceEvent[] = [];
  if (opts.record !== false) hub.subscribe((e) => events.push(e));
  const net = new SimNetwork({ seed: opts.seed ?? 1, trace: hub });
  const make = (name: string, address: number, tcp: Partial<TcpConfig> | undefined) =>
    net.addHost(name, address, (transmit, ctx) => {
      const o: HostOptions = { name, address, rng: ctx.rng, transmit, trace: hub, tcp: { ...opts.tcp, ...tcp } };
      if (opts.mtu !== undefined) o.mtu = opts.mtu;
      const host = new Host(o);
      host.tcp.setClock(ctx.now);
      return host;
    }).endpoint;
  const client = make("client", CLIENT_ADDR, opts.clientTcp);
  const server = make("server", SERVER_ADDR, opts.serverTcp);
  net.connect("client", "server", opts.link ?? { delay: 10 });
  return { net, client, server, events };
}
