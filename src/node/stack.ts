/**
 * synack stacks that run in real time inside Node: a Host on a packet link (a TUN device,
 * a UDP tunnel, or the in-process loopback wire), driven by RealTimeDriver.
 */
import { Stack } from "../api/stack.js";
import { resolveHostname } from "../api/address.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";
import { Host } from "../host/host.js";
import { defaultRoutes, toIpAddress, type InterfaceConfig } from "../ip/routing.js";
import type { IpAddress } from "../wire/address.js";
import type { Rng } from "../env.js";
import type { TcpConfig } from "../tcp/config.js";
import type { ResolverConfig } from "../dns/resolver.js";
import type { TraceSink } from "../trace/events.js";
import { CryptoRng, NODE_TIMER_GRANULARITY, NODE_TIMER_SLACK, RealTimeDriver } from "./driver.js";
import type { PacketLink } from "./tun.js";
import { LoopbackWire, type LoopbackWireOptions } from "./wire.js";

export interface RealTimeStackOptions {
  /** Where packets go and come from. */
  link: PacketLink;
  /** The stack's address ("10.0.0.1", "fd00::2", an IpAddress, or an IPv4 uint32). */
  address: string | number | IpAddress;
  /**
   * Interfaces (address/prefix each), for a stack with more than one address, such as
   * an IPv4 and an IPv6 one on the same TUN device; `address` must be one of them. Each
   * family that has an interface gets an on-link default route.
   */
  interfaces?: InterfaceConfig[];
  name?: string;
  /** Largest packet the stack sends (default: the link's MTU). */
  mtu?: number;
  tcp?: Partial<TcpConfig>;
  trace?: TraceSink;
  /** Default: the operating system's CSPRNG. */
  rng?: Rng;
  /** Name servers for host names in connect(): `{ servers: ["10.7.0.1"] }` (a stub resolver over synack's UDP). */
  dns?: ResolverConfig;
}

/** A Stack whose driver is Node's clock; `close()` stops it and closes its link. */
export class NodeStack extends Stack {
  declare readonly driver: RealTimeDriver;
  readonly link: PacketLink;

  constructor(opts: RealTimeStackOptions) {
    if (typeof opts !== "object" || opts === null || typeof opts.link !== "object" || opts.link === null || typeof opts.link.send !== "function") {
      throw new InvalidSettingError(`new NodeStack(options): options must be { link, address } with a packet link (a TUN device, a UDP tunnel, a LoopbackWire port), got ${showValue(opts)}`);
    }
    const driver = new RealTimeDriver();
    const address = typeof opts.address === "string" ? resolveHostname(opts.address) : toIpAddress(opts.address);
    const host = new Host({
      name: opts.name ?? "synack",
      address,
      ...(opts.interfaces !== undefined ? { interfaces: opts.interfaces, routes: defaultRoutes(opts.interfaces) } : {}),
      rng: opts.rng ?? new CryptoRng(),
      mtu: opts.mtu ?? opts.link.mtu,
      transmit: (packet, gso) => opts.link.send(packet, gso),
      // A link that segments TCP itself (a TUN device with offloads) gets super-packets.
      ...(opts.link.gsoMaxSize !== undefined ? { gsoMaxSize: opts.link.gsoMaxSize } : {}),
      timerSlack: NODE_TIMER_SLACK,
      timerGranularity: NODE_TIMER_GRANULARITY,
      ...(opts.trace === undefined ? {} : { trace: opts.trace }),
      ...(opts.tcp === undefined ? {} : { tcp: opts.tcp }),
    });
    super({ host, driver, ...(opts.dns !== undefined ? { dns: opts.dns } : {}) });
    this.link = opts.link;
    driver.attach(host);
    opts.link.onPacket = (packet, checksumValid, gsoSize) => driver.receive(packet, checksumValid, gsoSize);
    opts.link.onBatch = (open) => (open ? driver.beginBatch() : driver.endBatch());
  }

  /**
   * Stops the clock and closes the link; connect and listen fail with ENETDOWN from then
   * on. Connections are left as they are: the peer sees silence, and their sockets, whose
   * timers no longer run, get no further event, so close them first.
   */
  async close(): Promise<void> {
    this.markClosed();
    this.driver.stop();
    this.link.onPacket = undefined;
    this.link.onBatch = undefined;
    await this.link.close();
  }
}

export interface LoopbackOptions extends LoopbackWireOptions {
  /** Addresses of the two stacks (default 10.0.0.1 and 10.0.0.2). */
  addresses?: [string, string];
  names?: [string, string];
  tcp?: Partial<TcpConfig>;
  trace?: TraceSink;
}

/** Two real-time stacks joined by an in-process loopback wire: a test bench for real-time code. */
/** One string for each end of the pair, or the defaults. */
function pairOf(name: string, given: unknown, fallback: [string, string]): [string, string] {
  if (given === undefined) return fallback;
  if (!Array.isArray(given) || given.length !== 2 || typeof given[0] !== "string" || typeof given[1] !== "string") {
    throw new InvalidSettingError(`loopbackPair ${name} must be two strings, got ${showValue(given)}`);
  }
  return [given[0], given[1]];
}

export function loopbackPair(options: LoopbackOptions = {}): [NodeStack, NodeStack] {
  const wire = new LoopbackWire(options);
  const [addrA, addrB] = pairOf("addresses", options.addresses, ["10.0.0.1", "10.0.0.2"]);
  const [nameA, nameB] = pairOf("names", options.names, ["a", "b"]);
  const make = (name: string, addr: string): NodeStack => {
    const address = resolveHostname(addr);
    return new NodeStack({
      link: wire.attach(address, name),
      address,
      name,
      ...(options.tcp === undefined ? {} : { tcp: options.tcp }),
      ...(options.trace === undefined ? {} : { trace: options.trace }),
    });
  };
  return [make(nameA, addrA), make(nameB, addrB)];
}

