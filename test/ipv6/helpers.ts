/**
 * Fixtures for tests that run a layer in both families: the same two hosts, addressed
 * 10.0.0.1 / 10.0.0.2 or fd00::1 / fd00::2, joined by a simulated link.
 */
import { Host, type HostOptions } from "../../src/host/host.js";
import { SimNetwork, type LinkConfig } from "../../src/sim/index.js";
import { TraceHub, type TraceEvent } from "../../src/trace/events.js";
import { parseIpAddress, type IpAddress, type IpFamily } from "../../src/wire/address.js";

export const FAMILIES: readonly IpFamily[] = [4, 6];

export const ip = (text: string): IpAddress => {
  const a = parseIpAddress(text);
  if (a === undefined) throw new Error(`bad address ${text}`);
  return a;
};

/** Host "a" and "b" addresses of each family. */
export const ADDR = {
  4: { a: ip("10.0.0.1"), b: ip("10.0.0.2") },
  6: { a: ip("fd00::1"), b: ip("fd00::2") },
} as const;

export type Extras = Omit<HostOptions, "name" | "address" | "rng" | "transmit" | "trace">;

export interface Pair6 {
  net: SimNetwork;
  a: Host;
  b: Host;
  A: IpAddress;
  B: IpAddress;
  events: TraceEvent[];
}

export function familyPair(family: IpFamily, opts: { seed?: number; link?: LinkConfig; a?: Extras; b?: Extras } = {}): Pair6 {
  const hub = new TraceHub();
  const events: TraceEvent[] = [];
  hub.subscribe((e) => events.push(e));
  const net = new SimNetwork({ seed: opts.seed ?? 1, trace: hub });
  const { a: A, b: B } = ADDR[family];
  const make = (name: string, address: IpAddress, extra: Extras | undefined): Host =>
    net.addHost(name, address, (transmit, ctx) => new Host({ name, address, rng: ctx.rng, transmit, trace: hub, ...extra })).endpoint;
  const a = make("a", A, opts.a);
  const b = make("b", B, opts.b);
  net.connect("a", "b", opts.link ?? { delay: 10 });
  return { net, a, b, A, B, events };
}
