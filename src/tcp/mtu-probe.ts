/**
 * Packetization-layer path MTU discovery (RFC 4821, RFC 8899's search in TCP's terms) as
 * Linux runs it (tcp_mtu_probe, tcp_mtup_probe_success/failed, tcp_mtu_probing in
 * tcp_timer.c). It finds the path MTU without ICMP, so it works where ICMP is filtered —
 * the "black hole" in which path MTU discovery by ICMP (RFC 1191) stalls a connection.
 *
 * The search keeps two MTUs: `searchLow`, known to get through, and `searchHigh`, not known
 * not to. A probe is one segment sized halfway between them, sent only when enough data
 * waits behind it that its loss costs no timeout (the segments after it bring SACKs or
 * duplicate ACKs). Acknowledged: the low end rises to it. Lost: the high end falls below
 * it. While the search is on, segments are no larger than `searchLow` allows.
 *
 * Units: MTUs here count an IPv4 header and a TCP header with the connection's options
 * (over IPv6 the connection's MTUs are 20 less, see ConnectionContext.mtu).
 */
import type { Millis } from "../env.js";
import type { Seq } from "../wire/seq.js";
import type { TcpConfig } from "./config.js";

/** IPv4 + TCP headers without options: an MTU less this is the MSS (RFC 6691). */
const HEADERS = 40;
/** Linux TCP_MIN_SND_MSS. */
const MIN_SND_MSS = 48;
/** The RTO that Linux's black-hole test assumes (retransmits_timed_out with TCP_RTO_MIN). */
const RTO_BASE: Millis = 200;
/** tcp_retries1: after this many backed-off timeouts' worth of time, suspect the path (RFC 1122 4.2.3.5 R1). */
const RETRIES1 = 3;

/** Why `probeSize` said no: nothing to do, or wait for the window or for data. */
export interface ProbeChance {
  readonly cwnd: number;
  readonly pipe: number;
  readonly mss: number;
  /** Bytes queued and not yet sent. */
  readonly unsent: number;
  /** Bytes the peer's window allows beyond SND.NXT. */
  readonly windowLeft: number;
  readonly sndWnd: number;
  /** Reordering degree in segments (Linux tp->reordering, 3 by default). */
  readonly reordering: number;
  /** Congestion state is open and no SACK/D-SACK blocks ride on our segments. */
  readonly calm: boolean;
}

export class MtuProber {
  enabled = false;
  searchLow = 0;
  searchHigh = 0;
  /** MTU of the probe in flight; 0 when none is. */
  probeMtu = 0;
  probeStart = 0 as Seq;
  probeEnd = 0 as Seq;
  private lastProbeAt: Millis = 0;
  private mssClamp = 0;
  private optionBytes = 0;

  constructor(private readonly config: TcpConfig) {}

  /**
   * The connection is established (Linux tcp_mtup_init): the search spans the base MSS to
   * what the peer's MSS allows. `optionBytes` are the options every segment carries.
   */
  start(now: Millis, mssClamp: number, optionBytes: number): void {
    this.mssClamp = mssClamp;
    this.optionBytes = optionBytes;
    this.enabled = this.config.mtuProbing > 1;
    this.searchHigh = mssClamp + HEADERS;
    this.searchLow = this.mssToMtu(this.config.baseMss);
    this.probeMtu = 0;
    this.lastProbeAt = now;
  }

  mtuToMss(mtu: number): number {
    return Math.max(MIN_SND_MSS, Math.min(mtu - HEADERS, this.mssClamp) - this.optionBytes);
  }

  mssToMtu(mss: number): number {
    return mss + HEADERS + this.optionBytes;
  }

  /** The largest payload segments may carry while searching (Linux tcp_sync_mss). */
  limit(mss: number): number {
    return this.enabled ? Math.min(mss, this.mtuToMss(this.searchLow)) : mss;
  }

  /**
   * The payload of a probe to send now, or 0 (Linux tcp_mtu_probe). A probe needs an open
   * congestion state, a window of at least 11 segments, and enough data queued that the
   * segments after it can show its loss by the reordering threshold.
   */
  probeSize(now: Millis, c: ProbeChance): number {
    if (!this.enabled || this.probeMtu !== 0 || !c.calm || c.cwnd < 11 * c.mss) return 0;
    const size = this.mtuToMss((this.searchHigh + this.searchLow) >> 1);
    if (size > this.mtuToMss(this.searchHigh) || this.searchHigh - this.searchLow < this.config.probeThreshold) {
      this.maybeRestart(now);
      return 0;
    }
    if (size <= c.mss) return 0;
    const needed = size + (c.reordering + 1) * c.mss;
    if (c.unsent < needed || c.sndWnd < needed || c.windowLeft < needed) return 0;
    if (c.pipe + 2 * c.mss > c.cwnd) return 0;
    return size;
  }

  onProbeSent(now: Millis, start: Seq, end: Seq, payload: number): void {
    this.probeStart = start;
    this.probeEnd = end;
    this.probeMtu = this.mssToMtu(payload);
    this.lastProbeAt = now;
  }

  /** The probe arrived: the path carries it (Linux tcp_mtup_probe_success). Returns the probe's MTU. */
  succeeded(now: Millis): number {
    const mtu = this.probeMtu;
    this.searchLow = mtu;
    this.probeMtu = 0;
    this.lastProbeAt = now;
    return mtu;
  }

  /** The probe was lost: too big for the path, presumably (Linux tcp_mtup_probe_failed). */
  failed(now: Millis): void {
    this.searchHigh = this.probeMtu - 1;
    this.probeMtu = 0;
    this.lastProbeAt = now;
  }

  /**
   * Retransmission timeouts have gone on for as long as tcp_retries1 backed-off timeouts
   * would take (Linux retransmits_timed_out(sk, tcp_retries1) with TCP_RTO_MIN: 3 s).
   */
  static blackHoleSuspected(elapsed: Millis): boolean {
    return elapsed >= ((2 << RETRIES1) - 1) * RTO_BASE;
  }

  /**
   * A black hole is suspected (Linux tcp_mtu_probing from tcp_write_timeout): the first time
   * the search starts (segments shrink to the base MSS); after that the low end halves,
   * never below tcp_mtu_probe_floor. Returns whether anything changed.
   */
  onBlackHole(now: Millis): boolean {
    if (this.config.mtuProbing === 0) return false;
    if (!this.enabled) {
      this.enabled = true;
      this.lastProbeAt = now;
      return true;
    }
    const halved = this.mtuToMss(this.searchLow) >> 1;
    const mss = Math.max(Math.min(this.config.baseMss, halved), this.config.mtuProbeFloor, this.config.minMss);
    this.searchLow = this.mssToMtu(mss);
    return true;
  }

  /** After tcp_probe_interval, a finished search starts over from the top (Linux tcp_mtu_check_reprobe). */
  private maybeRestart(now: Millis): void {
    if (now - this.lastProbeAt < this.config.probeInterval) return;
    this.searchHigh = this.mssClamp + HEADERS;
    this.searchLow = this.mssToMtu(this.mtuToMss(this.searchLow));
    this.probeMtu = 0;
    this.lastProbeAt = now;
  }
}
