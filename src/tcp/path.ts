/**
 * What one connection knows of its path and how big its segments may be (Linux keeps the
 * same in the socket's cached dst, icsk_pmtu_cookie and tcp_sync_mss).
 *
 * The route is read when the connection starts and again after a transmission once the
 * host's routes or learned path MTUs have changed (Linux checks its cached dst on every
 * transmit, __sk_dst_check). The send MSS is recomputed from it at the start of the next
 * burst (Linux tcp_current_mss), or at once when ICMP says the path shrank.
 */
import type { Millis } from "../env.js";
import type { IpAddress } from "../wire/address.js";
import { LINUX_DEFAULTS, type TcpConfig } from "./config.js";
import { MtuProber } from "./mtu-probe.js";
import { ConnectionSeldom } from "./connection-seldom.js";
import type { FourTuple } from "../trace/events.js";

/** The prober of every connection without MTU probing (tcp_mtu_probing = 0): never enabled, never changed. */
const OFF = new MtuProber(LINUX_DEFAULTS);

/** IPv4 + TCP headers without options. */
const HEADERS = 40;
/** Bits of ConnectionPath.clampAndOptions for the option bytes: TCP options take at most 40 (RFC 9293 3.1). */
const OPTION_BITS = 6;

/** The path to one destination, as the IP layer tells TCP. */
export interface PathView {
  /** Largest IP packet the path carries (over IPv6: less 20, see ConnectionContext.mtu). */
  readonly mtu: number;
  readonly metrics: { readonly advmss: number; readonly initcwnd: number };
}

/** The IP layer's routes and learned path MTUs, as TCP reads them. */
export interface PathSource {
  /** Changes whenever a `lookup` may answer differently. */
  readonly pathGeneration: number;
  path(remote: IpAddress, now: Millis): PathView;
  /** ICMP said packets to `remote` must fit `mtu`: remember it host-wide; returns the MTU now in force. */
  learnPathMtu(remote: IpAddress, mtu: number, now: Millis): number;
}

/**
 * A layer of Connection's class chain (connection.ts): a connection's path lives in the
 * connection object, `conn.path` being the connection itself, and reads the route through
 * the connection's context and its tuple's remote address; an object of its own cost 48 B
 * per connection (header, pointer, second references to the context and the address).
 */
export abstract class ConnectionPath extends ConnectionSeldom {
  abstract readonly ctx: PathSource;
  abstract readonly tuple: FourTuple;
  /** The MTU search (RFC 4821): the shared, inert OFF without tcp_mtu_probing. A field, not kept with the seldom-set ones: every ACK reads it. */
  readonly prober: MtuProber;
  /** The route's MTU as last read. */
  mtu = 0;
  /** The MTU the send MSS was last computed for (Linux icsk_pmtu_cookie). */
  sizedFor = 0;
  // advmss and initcwnd, the route's metrics, are kept with the seldom-set fields (connection-seldom.ts).
  private generation = -1;
  /**
   * The peer's MSS, clamped by TCP_MAXSEG (Linux rx_opt.mss_clamp; 0 before the handshake),
   * above the bytes of options every segment carries (at most 40, OPTION_BITS): one field
   * for two, 8 B less per connection, and both are read only when the MSS is computed.
   */
  private clampAndOptions = 0;

  constructor(config: TcpConfig) {
    super();
    // Without tcp_mtu_probing nothing ever changes a prober: connections share an inert one.
    this.prober = config.mtuProbing === 0 ? OFF : new MtuProber(config);
  }

  /** Re-reads the route if the host's routes or path MTUs changed since the last read. */
  refresh(now: Millis): void {
    const source = this.ctx;
    if (source.pathGeneration === this.generation) return;
    this.generation = source.pathGeneration;
    const p = source.path(this.tuple.remoteAddr, now);
    this.mtu = p.mtu;
    this.advmss = p.metrics.advmss;
    this.initcwnd = p.metrics.initcwnd;
  }

  /** The route changed under a sized MSS: the next burst resizes (Linux tcp_current_mss). */
  get stale(): boolean {
    return this.mtu !== this.sizedFor && this.clampAndOptions >= 1 << OPTION_BITS; // mss_clamp > 0
  }

  /** The MSS our SYN announces (Linux tcp_advertise_mss): the route's advmss, or MTU - 40. */
  announcedMss(userMss: number): number {
    const mss = this.advmss > 0 ? this.advmss : this.mtu - HEADERS;
    return userMss > 0 ? Math.min(mss, userMss) : mss;
  }

  /**
   * The peer's MSS and our per-segment options are known: returns the first send MSS. The
   * MTU search starts after that first sizing, as Linux's tcp_mtup_init runs after
   * tcp_sync_mss, so the first segments are sized by the path alone.
   */
  start(now: Millis, mssClamp: number, optionBytes: number, minMss: number): number {
    this.clampAndOptions = (mssClamp << OPTION_BITS) | optionBytes;
    const mss = this.syncMss(minMss);
    if (this.prober !== OFF) this.prober.start(now, mssClamp, optionBytes);
    return mss;
  }

  /**
   * The largest payload per segment for the current path (Linux tcp_sync_mss): the path MTU
   * less headers and options, no more than the peer's MSS, no more than the MTU search
   * has shown to work; never below `minMss`.
   */
  syncMss(minMss: number): number {
    this.sizedFor = this.mtu;
    const p = this.prober;
    if (p !== OFF && p.searchHigh > this.mtu) p.searchHigh = this.mtu;
    const c = this.clampAndOptions;
    const mss = Math.min(this.mtu - HEADERS, c >>> OPTION_BITS) - (c & ((1 << OPTION_BITS) - 1));
    return Math.max(minMss, p.limit(mss));
  }

  /** ICMP said the path is narrower; returns the MTU now in force (unchanged for a locked route). */
  learn(mtu: number, now: Millis): number {
    this.ctx.learnPathMtu(this.tuple.remoteAddr, mtu, now);
    this.refresh(now);
    return this.mtu;
  }
}
