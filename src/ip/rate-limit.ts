/**
 * Rate limiting of the ICMP errors this host sends (RFC 1812 4.3.2.8 and RFC 1122 3.2.2
 * allow it; a host that answers every probe with an error is a traffic amplifier).
 *
 * Mirrors Linux's two limits:
 *   - per destination (icmp_ratelimit = 1000 ms): a token bucket counted in milliseconds,
 *     one message per interval with a burst of 6 (XRLIM_BURST_FACTOR), full for a new
 *     peer (inet_peer_xrlim_allow);
 *   - host-wide (icmp_msgs_per_sec = 1000, icmp_msgs_burst = 50): icmp_global_allow.
 * The per-destination table is bounded: past `maxPeers` the least recently limited
 * destination is forgotten (Linux's inet_peer cache is garbage-collected too), which can
 * only make the limit more lenient, never the memory unbounded.
 *
 * Only errors are limited (Linux icmp_ratemask 0x1818: destination unreachable, source
 * quench, time exceeded, parameter problem); echo replies are not.
 */
import type { AddressKey } from "../wire/address.js";
import type { Millis } from "../env.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

export interface IcmpRateLimitConfig {
  /** Minimum spacing per destination once its burst is used, in ms (icmp_ratelimit). 0 disables. */
  perPeerInterval: Millis;
  /** Messages a destination may receive back to back (XRLIM_BURST_FACTOR). */
  perPeerBurst: number;
  /** Host-wide messages per second (icmp_msgs_per_sec). 0 disables. */
  globalPerSecond: number;
  /** Host-wide burst (icmp_msgs_burst). */
  globalBurst: number;
  /** Destinations remembered at most. */
  maxPeers: number;
}

export const ICMP_RATE_LIMIT_DEFAULTS: Readonly<IcmpRateLimitConfig> = Object.freeze({
  perPeerInterval: 1000,
  perPeerBurst: 6,
  globalPerSecond: 1000,
  globalBurst: 50,
  maxPeers: 4096,
});

/** A bucket of `capacity` tokens refilled at `perMs` tokens per millisecond. */
export class TokenBucket {
  private tokens: number;
  private last: Millis;

  constructor(
    private readonly capacity: number,
    private readonly perMs: number,
    now: Millis,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Whether a token is available at `now` (refilling first). */
  available(now: Millis): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  /** Takes a token if one is available. */
  take(now: Millis): boolean {
    if (!this.available(now)) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(now: Millis): void {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
  }
}

export class IcmpRateLimiter {
  private readonly peers = new Map<AddressKey, TokenBucket>();
  private global: TokenBucket | undefined;

  constructor(readonly config: IcmpRateLimitConfig = ICMP_RATE_LIMIT_DEFAULTS) {
    // Numbers, checked as numbers: a comparison would run an object's own conversion.
    const atLeast = (name: keyof IcmpRateLimitConfig, min: number): void => {
      const v = config[name];
      if (!(typeof v === "number" && v >= min && Number.isFinite(v))) throw new InvalidSettingError(`ICMP rate limit ${name} must be a finite number >= ${min}, got ${showValue(v)}`);
    };
    atLeast("perPeerInterval", 0);
    atLeast("perPeerBurst", 0);
    atLeast("globalPerSecond", 0);
    atLeast("globalBurst", 0);
    if (!(Number.isInteger(config.maxPeers) && config.maxPeers >= 1)) throw new InvalidSettingError(`maxPeers must be an integer >= 1, got ${showValue(config.maxPeers)}`);
  }

  /** May an ICMP error go to `destination` now? Consumes a token from each limit if so. */
  allow(now: Millis, destination: AddressKey): boolean {
    const c = this.config;
    if (c.globalPerSecond > 0) {
      this.global ??= new TokenBucket(c.globalBurst, c.globalPerSecond / 1000, now);
      if (!this.global.available(now)) return false;
    }
    if (c.perPeerInterval > 0) {
      let peer = this.peers.get(destination);
      if (peer === undefined) {
        peer = new TokenBucket(c.perPeerBurst, 1 / c.perPeerInterval, now);
        if (this.peers.size >= c.maxPeers) this.peers.delete(this.peers.keys().next().value!);
      } else {
        this.peers.delete(destination); // re-inserted below: most recently used last
      }
      this.peers.set(destination, peer);
      if (!peer.take(now)) return false;
    }
    this.global?.take(now);
    return true;
  }

  /** Destinations remembered now (for tests of the bound). */
  get peerCount(): number {
    return this.peers.size;
  }
}
