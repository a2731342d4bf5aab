/**
 * The client's Fast Open cookie cache (RFC 7413 4.1.3; Linux keeps it in tcp_metrics,
 * tcp_fastopen_cache_get / tcp_fastopen_cache_set): per server address, the last cookie
 * the server gave, the MSS of its SYN-ACK (which bounds the data the next SYN carries), and
 * which form of the option to use.
 */
import type { AddressKey, IpAddress } from "../../wire/address.js";

export interface CachedCookie {
  /** Empty until a server gave one. */
  cookie: Uint8Array;
  /** Use the experimental option (kind 254): the server answered in it, or did not answer kind 34. */
  exp: boolean;
  /** The server's MSS from its last SYN-ACK; 0 when unknown. */
  mss: number;
  /** Linux tfom->try_exp: 1 after a kind-34 request went unanswered, 2 after an experimental one did too. */
  tryExp: number;
}

/** Entries kept at most; the oldest goes first (Linux's tcp_metrics hash is bounded too). */
const MAX_ENTRIES = 1024;

export class FastOpenCache {
  private readonly entries = new Map<AddressKey, CachedCookie>();

  get(server: IpAddress): CachedCookie | undefined {
    return this.entries.get(server.key);
  }

  /**
   * After a SYN-ACK to a Fast Open SYN (Linux tcp_fastopen_cache_set): a cookie replaces
   * the old one; a cookie request that went unanswered switches the option's form once
   * (kind 34 to the experimental one), and back if that fails too.
   */
  update(server: IpAddress, mss: number, cookie: { cookie: Uint8Array; exp: boolean } | undefined, tryExp: number): void {
    const e = this.entries.get(server.key) ?? { cookie: new Uint8Array(0), exp: false, mss: 0, tryExp: 0 };
    if (mss > 0) e.mss = mss;
    if (cookie !== undefined && cookie.cookie.length > 0) {
      e.cookie = cookie.cookie;
      e.exp = cookie.exp;
    } else if (tryExp > e.tryExp && e.cookie.length === 0) {
      e.exp = tryExp === 1;
      e.tryExp = tryExp;
    }
    this.entries.delete(server.key);
    this.entries.set(server.key, e);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets every server (`ip tcp_metrics flush all`). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
