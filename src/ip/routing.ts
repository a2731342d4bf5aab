/**
 * Interfaces and the routing table of one host: which local address a datagram leaves
 * from, through which interface, to which next hop — or why it cannot leave at all.
 *
 * One table for both families: interfaces and routes hold `IpAddress` / `IpPrefix`, and a
 * lookup only considers routes of the destination's family. Lookup is longest-prefix match
 * (RFC 1812 5.2.4.3; RFC 1122 3.3.1 for hosts; RFC 8200 and RFC 4861 5.2 for IPv6); among
 * routes of equal length the one added first wins. The source address of a datagram is the
 * route's `source` if it names one, else the address of the route's interface (Linux picks
 * the interface's primary address the same way, `ip route ... src` overrides it).
 *
 * For now every interface sits on the host's one link (the `transmit` function), so the
 * next hop is computed but not used to pick a wire; the simulator delivers by destination
 * address. An "unreachable" route answers EHOSTUNREACH (Linux `ip route add unreachable`);
 * no matching route answers ENETUNREACH.
 */
import { IpAddress, IpPrefix, type AddressKey, type IpFamily } from "../wire/address.js";
import { IPV6_MIN_MTU } from "../wire/ipv6.js";
import { HostUnreachableError, NetworkUnreachableError } from "./errors.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

/** The smallest MTU every IPv4 module must handle (RFC 791 3.2: 68 octets). */
export const MIN_MTU = 68;
export const DEFAULT_MTU = 1500;

/** An address as configuration gives it: an `IpAddress`, or (IPv4, as before) its uint32. */
export type AddressInput = IpAddress | number;

/** Normalizes an `AddressInput`; throws RangeError for a number that is not a uint32. */
export function toIpAddress(a: AddressInput, what = "address"): IpAddress {
  if (a instanceof IpAddress) return a;
  if (!(typeof a === "number" && Number.isInteger(a) && a >= 0 && a <= 0xffffffff)) throw new InvalidSettingError(`${what} must be an IpAddress or a uint32, got ${showValue(a)}`);
  return IpAddress.v4(a);
}

export interface InterfaceConfig {
  /** Default "eth<index>". */
  name?: string;
  address: AddressInput;
  /** Length of the on-link prefix (0..32 for IPv4, 0..128 for IPv6); a connected route to it is added. */
  prefixLength: number;
  /** Largest IP packet the interface carries (default: the host's mtu, 1500). */
  mtu?: number;
}

export interface RouteConfig {
  destination: AddressInput;
  prefixLength: number;
  /** Next hop; omitted means the destination is on-link. */
  gateway?: AddressInput;
  /** Interface name; default: the one whose prefix holds the gateway, else the first of the family. */
  interface?: string;
  /** Source address for datagrams on this route (must be a local address). */
  source?: AddressInput;
  /** "unreachable" rejects matching destinations with EHOSTUNREACH. Default "unicast". */
  kind?: "unicast" | "unreachable";
  /** Route metrics, as `ip route ... mtu [lock] N advmss N initcwnd N` (see RouteMetrics). */
  metrics?: Partial<RouteMetrics>;
}

/**
 * Per-route metrics Linux keeps (RTAX_MTU, RTAX_ADVMSS, RTAX_INITCWND and the MTU lock bit),
 * which TCP reads when it sizes segments. 0 means "not set": the interface's MTU, MSS from
 * the MTU (RFC 6691), the default initial window.
 */
export interface RouteMetrics {
  /** Path MTU for destinations of this route; 0: the interface's. */
  mtu: number;
  /** A locked MTU is not lowered by ICMP "fragmentation needed" / "packet too big" (Linux `mtu lock`). */
  mtuLocked: boolean;
  /** The MSS announced in SYNs to these destinations; 0: MTU - 40. */
  advmss: number;
  /** Initial congestion window in segments; 0: the TCP default (RFC 6928). */
  initcwnd: number;
}

/** Destinations whose answers `lookup` keeps at most (a host talking to more starts over). */
const ANSWER_CACHE_MAX = 4096;

const NO_METRICS: RouteMetrics = Object.freeze({ mtu: 0, mtuLocked: false, advmss: 0, initcwnd: 0 });

/**
 * The loopback interface every host has, as Linux's lo: 127.0.0.0/8 and ::1 are this host's
 * own (Linux's local table holds "local 127.0.0.0/8 dev lo"), reached from 127.0.0.1 and ::1
 * (RFC 1122 3.2.1.3 (g), RFC 4291 2.5.3). They never appear on a link, where IP input takes
 * them for martians, so lo is not among a table's `interfaces`. Its MTU is the largest IPv4
 * packet (Linux's lo: 65,536).
 */
function loopbackRoute(address: IpAddress, prefixLength: number): Route {
  const prefix = IpPrefix.of(address, prefixLength)!;
  const iface: Interface = Object.freeze({ name: "lo", address, prefixLength, prefix, mtu: 0xffff });
  return Object.freeze({ prefix, gateway: undefined, iface, source: address, kind: "unicast", metrics: NO_METRICS });
}
const LOOPBACK4_ROUTE = loopbackRoute(IpAddress.LOOPBACK4, 8);
const LOOPBACK6_ROUTE = loopbackRoute(IpAddress.LOOPBACK6, 128);

export interface Interface {
  readonly name: string;
  readonly address: IpAddress;
  readonly prefixLength: number;
  readonly prefix: IpPrefix;
  readonly mtu: number;
}

export interface Route {
  readonly prefix: IpPrefix;
  readonly gateway: IpAddress | undefined;
  readonly iface: Interface;
  readonly source: IpAddress;
  readonly kind: "unicast" | "unreachable";
  readonly metrics: RouteMetrics;
}

/** Where a datagram to some destination goes. */
export interface RouteChoice {
  readonly iface: Interface;
  /** The address the datagram is sent from. */
  readonly source: IpAddress;
  /** The gateway, or the destination itself when it is on-link. */
  readonly nextHop: IpAddress;
  readonly route: Route;
  /** The destination is one of this host's own addresses: delivered locally, never to the link (loopback.ts). */
  readonly local: boolean;
}

export type RouteLookup = { ok: true; value: RouteChoice } | { ok: false; code: "ENETUNREACH" | "EHOSTUNREACH" };

export class RoutingTable {
  private readonly ifaces: Interface[] = [];
  private readonly table: Route[] = [];
  /** This host's own addresses by key, each the interface's own object (ownAddress). */
  private readonly local = new Map<AddressKey, IpAddress>();
  /**
   * Bumped whenever a route is added or changed, so that whoever caches what a lookup said
   * (TCP's path MTU, as Linux sockets cache their dst) can tell the answer may be stale.
   */
  generation = 0;
  /** The last lookup (shared, never modified by callers): its destination object, table generation and answer. */
  private lastDst: IpAddress | undefined;
  private lastGeneration = -1;
  private lastAnswer: RouteLookup | undefined;
  /**
   * Answers by destination (AddressKey) for this table generation, so that packets to an
   * address asked for before by another address object (each connection holds its own)
   * skip the longest-prefix match and the freezing of a new answer. Emptied when the table
   * changes or when it holds ANSWER_CACHE_MAX destinations.
   */
  private readonly answers = new Map<AddressKey, RouteLookup>();
  private answersGeneration = -1;

  constructor(interfaces: readonly InterfaceConfig[], defaultMtu: number = DEFAULT_MTU) {
    if (!Array.isArray(interfaces)) throw new InvalidSettingError(`interfaces must be an array of { address, prefixLength }, got ${showValue(interfaces)}`);
    if (interfaces.length === 0) throw new InvalidSettingError("a host needs at least one interface");
    interfaces.forEach((c: InterfaceConfig, i) => {
      checkObject("an interface", c);
      if (c.name !== undefined && typeof c.name !== "string") throw new InvalidSettingError(`interface name must be a string, got ${showValue(c.name)}`);
      const address = toIpAddress(c.address, "interface address");
      const prefix = checkPrefix(address, c.prefixLength);
      const mtu = c.mtu ?? defaultMtu;
      // RFC 8200 section 5: every link that carries IPv6 has an MTU of 1280 or more.
      const min = address.family === 6 ? IPV6_MIN_MTU : MIN_MTU;
      if (!(Number.isInteger(mtu) && mtu >= min && mtu <= 0xffff)) {
        throw new InvalidSettingError(`interface MTU must be an integer in [${min}, 65535] for IPv${address.family}, got ${showValue(mtu)}`);
      }
      const name = c.name ?? `eth${i}`;
      if (this.ifaces.some((f) => f.name === name)) throw new InvalidSettingError(`duplicate interface name "${name}"`);
      const iface: Interface = Object.freeze({ name, address, prefixLength: c.prefixLength, prefix, mtu });
      this.ifaces.push(iface);
      if (!this.local.has(address.key)) this.local.set(address.key, address);
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

  /** The first interface of `family`, if any (the host's primary address of that family). */
  firstInterface(family: IpFamily): Interface | undefined {
    return this.ifaces.find((f) => f.address.family === family);
  }

  /** Is `address` one of this host's own addresses (RFC 1122 3.2.1.3 "this host", RFC 4291 2.5.3 for ::1)? */
  isLocal(address: AddressInput): boolean {
    if (typeof address === "number") return this.local.has(address >>> 0) || address >>> 24 === 127;
    return this.local.has(address.key) || address.isLoopback;
  }

  /** How many distinct addresses this host has besides loopback ones (IP input's own-source check is one comparison when 1). */
  get localCount(): number {
    return this.local.size;
  }

  /**
   * The interface's own object for a local `address` (equal to it), or undefined when it is
   * not one of ours. IPv6 input hands it on instead of the address parsed from each
   * packet, so the connections of a server share one object for their local address
   * rather than each keeping its own (with its key string: about 120 B a connection).
   */
  ownAddress(address: IpAddress): IpAddress | undefined {
    return this.local.get(address.key) ?? (address.isLoopback ? address : undefined);
  }

  /** Adds a route; throws RangeError for a route that could never work. */
  add(config: RouteConfig): Route {
    checkObject("a route", config);
    const destination = toIpAddress(config.destination, "route destination");
    const prefix = checkPrefix(destination, config.prefixLength);
    const gateway = config.gateway === undefined ? undefined : toIpAddress(config.gateway, "gateway");
    if (gateway !== undefined && gateway.family !== destination.family) throw new InvalidSettingError(`gateway ${gateway.toString()} is not of the route's family`);
    const iface = this.pickInterface(config, destination.family, gateway);
    const source = config.source === undefined ? iface.address : toIpAddress(config.source, "route source");
    if (!this.isLocal(source)) {
      throw new InvalidSettingError(`route source ${source.toString()} is not a local address`);
    }
    if (source.family !== destination.family) throw new InvalidSettingError(`route source ${source.toString()} is not of the route's family`);
    const metrics = checkMetrics(config.metrics);
    const route: Route = Object.freeze({ prefix, gateway, iface, source, kind: config.kind ?? "unicast", metrics });
    this.table.push(route);
    this.generation++;
    return route;
  }

  /**
   * Replaces the route to exactly `config`'s prefix (`ip route change`), or adds it when
   * there is none (`ip route replace`); throws like `add`.
   */
  change(config: RouteConfig): Route {
    const prefix = checkPrefix(toIpAddress(config.destination, "route destination"), config.prefixLength);
    const at = this.table.findIndex((r) => r.prefix.equals(prefix));
    const route = this.add(config);
    if (at >= 0) {
      this.table.pop();
      this.table[at] = route;
    }
    return route;
  }

  /** Longest-prefix match for `destination` among routes of its family. Never throws (used inside packet processing). */
  lookup(destination: AddressInput): RouteLookup {
    const dst = typeof destination === "number" ? IpAddress.v4(destination) : destination;
    // Every packet of a connection asks for the same address object: the last answer is
    // kept until the table changes (as a socket caches its dst, Linux sk_dst_cache).
    if (dst === this.lastDst && this.generation === this.lastGeneration) return this.lastAnswer!;
    if (this.answersGeneration !== this.generation || this.answers.size >= ANSWER_CACHE_MAX) {
      this.answers.clear();
      this.answersGeneration = this.generation;
    }
    let answer = this.answers.get(dst.key);
    if (answer === undefined) {
      answer = this.match(dst);
      if (answer.ok) Object.freeze(answer.value);
      Object.freeze(answer);
      this.answers.set(dst.key, answer);
    }
    this.lastDst = dst;
    this.lastGeneration = this.generation;
    this.lastAnswer = answer;
    return answer;
  }

  private match(dst: IpAddress): RouteLookup {
    if (dst.isLoopback) {
      const lo = dst.family === 4 ? LOOPBACK4_ROUTE : LOOPBACK6_ROUTE;
      return { ok: true, value: { iface: lo.iface, source: lo.source, nextHop: dst, route: lo, local: true } };
    }
    let best: Route | undefined;
    for (const r of this.table) {
      if (r.prefix.contains(dst) && (best === undefined || r.prefix.length > best.prefix.length)) best = r;
    }
    if (best === undefined) return { ok: false, code: "ENETUNREACH" };
    if (best.kind === "unreachable") return { ok: false, code: "EHOSTUNREACH" };
    return { ok: true, value: { iface: best.iface, source: this.sourceFor(best, dst), nextHop: best.gateway ?? dst, route: best, local: this.isLocal(dst) } };
  }

  /** Like `lookup`, for application calls: throws the typed error instead. */
  resolve(destination: AddressInput): RouteChoice {
    const dst = toIpAddress(destination, "destination");
    const r = this.lookup(dst);
    if (r.ok) return r.value;
    const where = dst.toString();
    if (r.code === "EHOSTUNREACH") throw new HostUnreachableError(dst, `${where} is unreachable (route)`);
    throw new NetworkUnreachableError(dst, `no route to ${where}`);
  }

  /**
   * RFC 6724 section 5, rule 2 (prefer appropriate scope), in the one case a host with a
   * few addresses meets: a link-local destination is reached from a link-local source when
   * the host has one, and a destination of wider scope from a source of wider scope. A
   * route's explicit source wins otherwise, as `ip route ... src` does.
   */
  private sourceFor(route: Route, dst: IpAddress): IpAddress {
    if (dst.family !== 6 || route.source.scope === dst.scope) return route.source;
    const same = this.ifaces.find((f) => f.address.family === 6 && f.address.scope === dst.scope);
    return same?.address ?? route.source;
  }

  private pickInterface(config: RouteConfig, family: IpFamily, gateway: IpAddress | undefined): Interface {
    if (config.interface !== undefined) {
      const named = this.ifaces.find((f) => f.name === config.interface);
      if (named === undefined) throw new InvalidSettingError(`no interface named "${config.interface}"`);
      if (named.address.family !== family) throw new InvalidSettingError(`interface "${config.interface}" has no IPv${family} address`);
      return named;
    }
    if (gateway !== undefined) {
      const onLink = this.ifaces.find((f) => f.prefix.contains(gateway));
      // RFC 1122 3.3.1.1: a gateway must be directly reachable.
      if (onLink === undefined) throw new InvalidSettingError(`gateway ${gateway.toString()} is on no interface's prefix`);
      return onLink;
    }
    const first = this.firstInterface(family);
    if (first === undefined) throw new InvalidSettingError(`no interface has an IPv${family} address`);
    return first;
  }
}

/** A configuration entry must be an object before its fields are read. */
function checkObject(what: string, v: unknown): void {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InvalidSettingError(`${what} must be an object, got ${showValue(v)}`);
}

/** The routes of HostOptions: an array of route objects, each checked by `add`. */
export function routeList(routes: unknown): readonly RouteConfig[] {
  if (routes === undefined) return [];
  if (!Array.isArray(routes)) throw new InvalidSettingError(`routes must be an array of { destination, prefixLength }, got ${showValue(routes)}`);
  return routes as RouteConfig[];
}

function checkPrefix(address: IpAddress, length: number): IpPrefix {
  const p = IpPrefix.of(address, length);
  if (p === undefined) throw new InvalidSettingError(`prefix length must be an integer in [0, ${address.bitLength}], got ${showValue(length)}`);
  return p;
}

/**
 * Addresses that can not be the source of a datagram from a host. IPv4 (RFC 1122 3.2.1.3,
 * and what Linux treats as a martian source): "this network" 0/8, loopback 127/8 arriving
 * on a real interface, multicast 224/4, and the limited broadcast address. IPv6: multicast
 * (RFC 4291 2.7: never a source), loopback ::1 from a link (RFC 4291 2.5.3), and an
 * IPv4-mapped source (RFC 4291 2.5.5.2 addresses are never on the wire, as Linux drops).
 * The unspecified address :: is allowed here: RFC 4291 2.5.2 lets a node without an
 * address use it (duplicate address detection); IP input passes it to ICMPv6 only.
 */
export function isMartianSource(address: AddressInput): boolean {
  // An IPv4 uint32 (every packet IP input checks) is judged as it is, no address object made.
  if (typeof address === "number") return isMartianV4(address >>> 0);
  if (address.family === 6) return address.isMulticast || address.isLoopback || address.isIpv4Mapped;
  return isMartianV4(address.w3);
}

function isMartianV4(a: number): boolean {
  const first = a >>> 24;
  return first === 0 || first === 127 || (first >= 224 && first <= 239) || a === 0xffffffff;
}

/** An on-link default route for each family the interfaces have (everything is on the one link). */
export function defaultRoutes(interfaces: readonly InterfaceConfig[]): RouteConfig[] {
  const out: RouteConfig[] = [];
  for (const family of [4, 6] as const) {
    const i = interfaces.findIndex((c) => toIpAddress(c.address).family === family);
    if (i < 0) continue;
    out.push({ destination: family === 4 ? IpAddress.ANY4 : IpAddress.ANY6, prefixLength: 0, interface: interfaces[i]!.name ?? `eth${i}` });
  }
  return out;
}

function checkMetrics(m: Partial<RouteMetrics> | undefined): RouteMetrics {
  if (m === undefined) return NO_METRICS;
  const out = { ...NO_METRICS, ...m };
  for (const k of ["mtu", "advmss", "initcwnd"] as const) {
    const v = out[k];
    if (!(Number.isInteger(v) && v >= 0 && v <= 65535)) throw new InvalidSettingError(`route metric ${k} must be an integer in [0, 65535], got ${showValue(v)}`);
  }
  if (out.mtu !== 0 && out.mtu < MIN_MTU) throw new InvalidSettingError(`route mtu must be at least ${MIN_MTU}, got ${showValue(out.mtu)}`);
  return Object.freeze(out);
}
