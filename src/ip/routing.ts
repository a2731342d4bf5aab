/**
 * Interfaces and the routing table of one host: which local address a datagram leaves
 * from, through which interface, to which next hop — or why it cannot leave at all.
 *
 * Lookup is longest-prefix match (RFC 1812 5.2.4.3; RFC 1122 3.3.1 for hosts); among
 * routes of equal length the one added first wins. The source address of a datagram is the
 * route's `source` if it names one, else the address of the route's interface (Linux picks
 * the interface's primary address the same way, `ip route ... src` overrides it).
 *
 * For now every interface sits on the host's one link (the `transmit` function), so the
 * next hop is computed but not used to pick a wire; the simulator delivers by destination
 * address. An "unreachable" route answers EHOSTUNREACH (Linux `ip route add unreachable`);
 * no matching route answers ENETUNREACH.
 */
import { formatIpv4Address } from "../wire/ipv4.js";
import { HostUnreachableError, NetworkUnreachableError } from "./errors.js";

/** The smallest MTU every IPv4 module must handle (RFC 791 3.2: 68 octets). */
export const MIN_MTU = 68;
export const DEFAULT_MTU = 1500;

export interface InterfaceConfig {
  /** Default "eth<index>". */
  name?: string;
  address: number;
  /** Length of the on-link prefix (0..32); a connected route to it is added. */
  prefixLength: number;
  /** Largest IP packet the interface carries (default: the host's mtu, 1500). */
  mtu?: number;
}

export interface RouteConfig {
  destination: number;
  prefixLength: number;
  /** Next hop; omitted means the destination is on-link. */
  gateway?: number;
  /** Interface name; default: the one whose prefix holds the gateway, else the first. */
  interface?: string;
  /** Source address for datagrams on this route (must be a local address). */
  source?: number;
  /** "unreachable" rejects matching destinations with EHOSTUNREACH. Default "unicast". */
  kind?: "unicast" | "unreachable";
}

export interface Interface {
  readonly name: string;
  readonly address: number;
  readonly prefixLength: number;
  readonly mtu: number;
}

export interface Route {
  readonly destination: number;
  readonly prefixLength: number;
  readonly gateway: number | undefined;
  readonly iface: Interface;
  readonly source: number;
  readonly kind: "unicast" | "unreachable";
}

/** Where a datagram to some destination goes. */
export interface RouteChoice {
  readonly iface: Interface;
  /** The address the datagram is sent from. */
  readonly source: number;
  /** The gateway, or the destination itself when it is on-link. */
  readonly nextHop: number;
  readonly route: Route;
}

export type RouteLookup = { ok: true; value: RouteChoice } | { ok: false; code: "ENETUNREACH" | "EHOSTUNREACH" };

export function prefixMask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export function inPrefix(address: number, network: number, prefixLength: number): boolean {
  const mask = prefixMask(prefixLength);
  return ((address & mask) >>> 0) === ((network & mask) >>> 0);
}

export class RoutingTable {
  private readonly ifaces: Interface[] = [];
  private readonly table: Route[] = [];
  private readonly local = new Set<number>();

  constructor(interfaces: readonly InterfaceConfig[], defaultMtu: number = DEFAULT_MTU) {
    if (interfaces.length === 0) throw new RangeError("a host needs at least one interface");
    interfaces.forEach((c, i) => {
      checkAddress(c.address, "interface address");
      checkPrefix(c.prefixLength);
      const mtu = c.mtu ?? defaultMtu;
      if (!(Number.isInteger(mtu) && mtu >= MIN_MTU && mtu <= 0xffff)) {
        throw new RangeError(`interface MTU must be an integer in [${MIN_MTU}, 65535], got ${mtu}`);
      }
      const name = c.name ?? `eth${i}`;
      if (this.ifaces.some((f) => f.name === name)) throw new RangeError(`duplicate interface name "${name}"`);
      const iface: Interface = Object.freeze({ name, address: c.address >>> 0, prefixLength: c.prefixLength, mtu });
      this.ifaces.push(iface);
      this.local.add(iface.address);
    });
    // Connected routes, as the kernel adds for each address (proto kernel scope link).
    for (const f of this.ifaces) {
      this.add({ destination: f.address, prefixLength: f.prefixLength, interface: f.name });
    }
  }

  get interfaces(): readonly Interface[] {
    return this.ifaces;
  }

  get routes(): readonly Route[] {
    return this.table;
  }

  /** Is `address` one of this host's own addresses (RFC 1122 3.2.1.3 "this host")? */
  isLocal(address: number): boolean {
    return this.local.has(address >>> 0);
  }

  /** Adds a route; throws RangeError for a route that could never work. */
  add(config: RouteConfig): Route {
    checkAddress(config.destination, "route destination");
    checkPrefix(config.prefixLength);
    if (config.gateway !== undefined) checkAddress(config.gateway, "gateway");
    const iface = this.pickInterface(config);
    if (config.source !== undefined && !this.isLocal(config.source)) {
      throw new RangeError(`route source ${formatIpv4Address(config.source)} is not a local address`);
    }
    const route: Route = Object.freeze({
      destination: (config.destination & prefixMask(config.prefixLength)) >>> 0,
      prefixLength: config.prefixLength,
      gateway: config.gateway === undefined ? undefined : config.gateway >>> 0,
      iface,
      source: (config.source ?? iface.address) >>> 0,
      kind: config.kind ?? "unicast",
    });
    this.table.push(route);
    return route;
  }

  /** Longest-prefix match for `destination`. Never throws (used inside packet processing). */
  lookup(destination: number): RouteLookup {
    let best: Route | undefined;
    for (const r of this.table) {
      if (inPrefix(destination, r.destination, r.prefixLength) && (best === undefined || r.prefixLength > best.prefixLength)) best = r;
    }
    if (best === undefined) return { ok: false, code: "ENETUNREACH" };
    if (best.kind === "unreachable") return { ok: false, code: "EHOSTUNREACH" };
    return { ok: true, value: { iface: best.iface, source: best.source, nextHop: best.gateway ?? destination >>> 0, route: best } };
  }

  /** Like `lookup`, for application calls: throws the typed error instead. */
  resolve(destination: number): RouteChoice {
    const r = this.lookup(destination);
    if (r.ok) return r.value;
    const where = formatIpv4Address(destination);
    if (r.code === "EHOSTUNREACH") throw new HostUnreachableError(destination, `${where} is unreachable (route)`);
    throw new NetworkUnreachableError(destination, `no route to ${where}`);
  }

  private pickInterface(config: RouteConfig): Interface {
    if (config.interface !== undefined) {
      const named = this.ifaces.find((f) => f.name === config.interface);
      if (named === undefined) throw new RangeError(`no interface named "${config.interface}"`);
      return named;
    }
    if (config.gateway !== undefined) {
      const gw = config.gateway;
      const onLink = this.ifaces.find((f) => inPrefix(gw, f.address, f.prefixLength));
      // RFC 1122 3.3.1.1: a gateway must be directly reachable.
      if (onLink === undefined) throw new RangeError(`gateway ${formatIpv4Address(gw)} is on no interface's prefix`);
      return onLink;
    }
    return this.ifaces[0]!;
  }
}

function checkAddress(a: number, what: string): void {
  if (!(Number.isInteger(a) && a >= 0 && a <= 0xffffffff)) throw new RangeError(`${what} must be a uint32, got ${a}`);
}

function checkPrefix(p: number): void {
  if (!(Number.isInteger(p) && p >= 0 && p <= 32)) throw new RangeError(`prefix length must be an integer in [0, 32], got ${p}`);
}

/**
 * Addresses that can not be the source of a datagram from a host (RFC 1122 3.2.1.3, and
 * what Linux treats as a martian source): "this network" 0/8, loopback 127/8 arriving on a
 * real interface, multicast 224/4, and the limited broadcast address.
 */
export function isMartianSource(address: number): boolean {
  const a = address >>> 0;
  const first = a >>> 24;
  return first === 0 || first === 127 || (first >= 224 && first <= 239) || a === 0xffffffff;
}
