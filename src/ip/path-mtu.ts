/**
 * Path MTUs learned from ICMP, per destination (RFC 1191 section 6.3, RFC 8201 section 5.3;
 * Linux keeps them as route exceptions, `ip route get` shows them as "cache expires"). A
 * learned value applies to every connection to that destination, new ones included, and
 * ages out after `expiry` (Linux net.ipv4.route.mtu_expires, 600 s): RFC 1191 says to
 * try the larger MTU again after about ten minutes, in case the path has grown.
 *
 * The path a transport sees is the route's MTU (or its interface's), lowered by what was
 * learned unless the route's MTU is locked (Linux `mtu lock`: ICMP cannot lower it).
 */
import type { Millis } from "../env.js";
import type { AddressKey, IpAddress } from "../wire/address.js";
import { IPV6_MIN_MTU } from "../wire/ipv6.js";
import type { RouteMetrics, RoutingTable } from "./routing.js";

/** Linux ip_rt_min_pmtu (512 + 20 + 20): IPv4 never believes a smaller path MTU. */
export const MIN_PMTU_V4 = 552;
/** Linux net.ipv4.route.mtu_expires: 600 s. */
export const PMTU_EXPIRY: Millis = 600_000;

/** What a transport needs to know about the path to one destination. */
export interface PathProperties {
  /** Largest IP packet the path carries, as far as this host knows. */
  readonly mtu: number;
  /** Route metrics (advmss, initcwnd, mtu lock) of the route the destination matched. */
  readonly metrics: RouteMetrics;
}

interface Learned {
  mtu: number;
  expires: Millis;
}

/**
 * Also what TCP reads paths through (tcp/path.ts PathSource, which it meets by shape: IP does
 * not import from the layer above it).
 */
export class PathMtuCache {
  private readonly learned = new Map<AddressKey, Learned>();
  /** When the oldest learned value ages out (Infinity: none held). */
  private nextExpiry: Millis = Infinity;
  /** Bumped when a learned value changes what `lookup` answers (with the routing table's, a cache key). */
  generation = 0;

  constructor(
    private readonly routing: RoutingTable,
    private readonly expiry: Millis = PMTU_EXPIRY,
  ) {}

  /**
   * PathSource (what TCP reads): changes whenever `lookup` may answer differently. One
   * object of a class for every host, so a connection's check on each transmit
   * (ConnectionPath.refresh) reads it through one inline cache; an object literal per host
   * made its getter a closure of each host's own, a call every time.
   */
  get pathGeneration(): number {
    return this.routing.generation + this.generation;
  }

  /** PathSource: `lookup`. */
  path(remote: IpAddress, now: Millis): PathProperties {
    return this.lookup(remote, now);
  }

  /** PathSource: `learn`. */
  learnPathMtu(remote: IpAddress, mtu: number, now: Millis): number {
    return this.learn(remote, mtu, now);
  }

  /** The path to `dst` now: route or interface MTU, lowered by an unexpired learned value. */
  lookup(dst: IpAddress, now: Millis): PathProperties {
    const r = this.routing.lookup(dst);
    if (!r.ok) return { mtu: this.routing.interfaces[0]!.mtu, metrics: { mtu: 0, mtuLocked: false, advmss: 0, initcwnd: 0 } };
    const { route, iface } = r.value;
    let mtu = route.metrics.mtu > 0 ? route.metrics.mtu : iface.mtu;
    const l = this.learned.get(dst.key);
    if (l !== undefined) {
      if (now >= l.expires) {
        this.learned.delete(dst.key);
        this.generation++;
      } else if (!route.metrics.mtuLocked) {
        mtu = Math.min(mtu, l.mtu);
      }
    }
    return { mtu, metrics: route.metrics };
  }

  /**
   * A router said packets to `dst` must fit `mtu`. Values below the family's floor are
   * raised to it (RFC 8201 5.2: IPv6 never below 1280; Linux ip_rt_min_pmtu for IPv4);
   * values that would raise a learned MTU are ignored (RFC 1191 6.3: only aging raises it).
   * Returns the path MTU now in force.
   */
  learn(dst: IpAddress, mtu: number, now: Millis): number {
    const floor = dst.family === 6 ? IPV6_MIN_MTU : MIN_PMTU_V4;
    const current = this.lookup(dst, now);
    const r = this.routing.lookup(dst);
    if (r.ok && r.value.route.metrics.mtuLocked) return current.mtu;
    const next = Math.max(floor, mtu);
    if (next >= current.mtu) return current.mtu;
    this.learned.set(dst.key, { mtu: next, expires: now + this.expiry });
    this.nextExpiry = Math.min(this.nextExpiry, now + this.expiry);
    this.generation++;
    return next;
  }

  /**
   * Forgets learned values that have aged out, so that connections which cache their path
   * see the larger MTU again (Linux: an expired route exception fails dst_check). Cheap when
   * nothing is due: call it as time passes.
   */
  expire(now: Millis): void {
    if (now < this.nextExpiry) return;
    this.nextExpiry = Infinity;
    for (const [key, l] of this.learned) {
      if (now >= l.expires) this.learned.delete(key);
      else this.nextExpiry = Math.min(this.nextExpiry, l.expires);
    }
    this.generation++;
  }

  /** Destinations with a learned MTU (for `ip route get`-like inspection). */
  get size(): number {
    return this.learned.size;
  }
}
