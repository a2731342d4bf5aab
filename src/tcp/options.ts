/**
 * What the two ends agreed in the handshake beyond the MSS (S5): window scaling and
 * timestamps (RFC 7323), SACK (RFC 2018). It builds the options of each segment we send
 * and interprets the peer's.
 *
 * An option is in use only if both SYNs carried it. Linux offers all three by default
 * (tcp_window_scaling, tcp_timestamps, tcp_sack = 1), and so do we.
 */
import type { Millis } from "../env.js";
import { seqGe, seqLe, type Seq } from "../wire/seq.js";
import { ACK, RST, timestampOnly, type SackBlock, type TcpOptions, type TcpSegment } from "../wire/tcp.js";
import type { TcpConfig } from "./config.js";
import { ConnectionPath } from "./path.js";

/** RFC 7323 2.3: a shift above 14 is treated as 14. */
const MAX_WINDOW_SCALE = 14;

/** The options of a peer's SYN that are in use: those it offered that we do too (RFC 7323 1.3, 2.2; RFC 2018 2). */
export interface AgreedSynOptions {
  timestamps: boolean;
  sack: boolean;
  /** The peer's shift, at most 14 (RFC 7323 2.3); undefined when window scaling is off. */
  windowScale: number | undefined;
}

/** What `o`, a peer's SYN options, and our settings agree on: the rule every passive open applies (connection, request record, SYN cookie). */
export function agreedSynOptions(o: TcpOptions, cfg: TcpConfig): AgreedSynOptions {
  return {
    timestamps: o.timestamp !== undefined && cfg.timestamps,
    sack: o.sackPermitted === true && cfg.sack,
    windowScale: o.windowScale !== undefined && cfg.windowScaling ? Math.min(o.windowScale, MAX_WINDOW_SCALE) : undefined,
  };
}
/** Bytes the timestamp option takes in every segment (with its two NOPs). */
export const TIMESTAMP_OPTION_BYTES = 12;
/** RFC 7323 5.5: after 24 days idle a timestamp may have wrapped; PAWS does not apply. */
const PAWS_IDLE_LIMIT: Millis = 24 * 24 * 3600 * 1000;
/** The oldest echo that still times a round trip (rttFromEcho): Linux's INT_MAX / 1000 ms. */
const MAX_ECHO_RTT: Millis = Math.floor(0x7fffffff / 1000);

/**
 * A layer of Connection's class chain (connection.ts: Connection, ConnectionTimers,
 * ConnectionFlags, Negotiation, ConnectionPath, ConnectionSeldom, ConnectionStats): what was agreed lives in
 * the connection object, `conn.negotiation` being the connection itself, and shares its
 * `config`; an object of its own cost 40 B per connection (header, pointer, config).
 */
export abstract class Negotiation extends ConnectionPath {
  // Plain fields, not bits of one integer: packed (32 B less per connection) they cost an
  // accessor call per segment until V8 has optimized the callers; with Receiver's flags
  // packed too, about 2% of a bulk transfer's CPU from a cold process (bench/bulk.js).
  /** Shift applied to the peer's window fields, and to ours. */
  sndShift = 0;
  rcvShift = 0;
  timestamps = false;
  sack = false;
  /** RFC 7323 TS.Recent: the peer's timestamp to echo, and when it was recorded. */
  /** TS.Recent (RFC 7323 4.3), kept as an int32 as tsOffset below: echoed as uint32 (>>> 0), compared mod 2^32. */
  private tsRecent = 0;
  private tsRecentAt!: Millis; // tagged, set in the constructor: it shares the segment's time, no box of its own (timers.ts)
  /**
   * The peer's SYN carried window scale and we scale too: a bit of the connection's flags
   * (connection-flags.ts), not a field, 8 B less per connection. Read only for the SYN-ACK
   * and by TCP_INFO, so the accessor costs nothing per segment.
   */
  protected abstract get peerOfferedWindowScale(): boolean;
  protected abstract set peerOfferedWindowScale(on: boolean);

  /**
   * Random per-connection offset of our timestamp clock (Linux tsoffset), so TSval leaks no
   * uptime. Kept as an int32: tsVal only uses it mod 2^32, and a uint32 at or above 2^31 is
   * no small integer to V8, so every connection's field would hold a heap number box (16 B).
   */
  private readonly tsOffset: number;

  /**
   * This connection's settings: the layer's, or its socket's own (setsockopt before
   * connect/listen). Connection reads its sender's (the same object), no field of its own:
   * 8 B less per connection.
   */
  abstract readonly config: TcpConfig;

  constructor(config: TcpConfig, tsOffset: number) {
    super(config);
    this.tsOffset = tsOffset | 0;
    this.tsRecentAt = 0;
  }

  /** Our SYN: offer everything enabled. */
  synOptions(now: Millis, mss: number): TcpOptions {
    const o: TcpOptions = { mss };
    if (this.config.sack) o.sackPermitted = true;
    if (this.config.timestamps) o.timestamp = { value: this.tsVal(now), echo: 0 };
    if (this.config.windowScaling) o.windowScale = this.config.windowScaleShift;
    return o;
  }

  /** Our SYN-ACK: answer only what the peer's SYN offered. */
  synAckOptions(now: Millis, mss: number): TcpOptions {
    const o: TcpOptions = { mss };
    if (this.sack) o.sackPermitted = true;
    if (this.timestamps) o.timestamp = { value: this.tsVal(now), echo: this.tsRecent >>> 0 };
    if (this.peerOfferedWindowScale) o.windowScale = this.rcvShift;
    return o;
  }

  /**
   * The peer's SYN (passive open) or SYN-ACK (active open). After a SYN-ACK, options we
   * offered but it did not repeat are off; after a SYN, we repeat what we also support.
   */
  onPeerSyn(now: Millis, o: TcpOptions): void {
    const agreed = agreedSynOptions(o, this.config);
    this.peerOfferedWindowScale = agreed.windowScale !== undefined;
    if (agreed.windowScale !== undefined) {
      this.sndShift = agreed.windowScale;
      this.rcvShift = this.config.windowScaleShift;
    } else {
      this.sndShift = this.rcvShift = 0;
    }
    this.timestamps = agreed.timestamps;
    if (this.timestamps) {
      this.tsRecent = o.timestamp!.value | 0;
      this.tsRecentAt = now;
    }
    this.sack = agreed.sack;
  }

  /** A connection rebuilt from a SYN cookie: the cookie kept no options. */
  none(): void {
    this.sndShift = this.rcvShift = 0;
    this.timestamps = this.sack = this.peerOfferedWindowScale = false;
  }

  /** Both SYNs carried window scale (RFC 7323 2.2): the shifts apply. */
  get windowScaling(): boolean {
    return this.peerOfferedWindowScale;
  }

  /** Options for a non-SYN segment: timestamps on everything but RST, SACK blocks on ACKs. */
  segmentOptions(now: Millis, flags: number, sackBlocks: SackBlock[] | undefined): TcpOptions | undefined {
    // A RST we send on a connection (abort: RST,ACK) carries our timestamp as Linux's
    // tcp_send_active_reset does (RFC 7323 leaves a RST's TSopt open); a RST answering a
    // bad segment (plain RST, as tcp_v4_send_reset) carries none.
    const ts = this.timestamps && ((flags & RST) === 0 || (flags & ACK) !== 0);
    const withSack = sackBlocks !== undefined && sackBlocks.length > 0;
    if (!ts && !withSack) return undefined;
    if (!withSack) return timestampOnly(this.tsVal(now), this.tsRecent >>> 0);
    const o: TcpOptions = {};
    if (ts) o.timestamp = { value: this.tsVal(now), echo: this.tsRecent >>> 0 };
    o.sackBlocks = sackBlocks;
    return o;
  }

  /** SACK blocks fit in 40 option bytes: 4 alone, 3 next to a timestamp (RFC 2018 3). */
  get maxSackBlocks(): number {
    return this.timestamps ? 3 : 4;
  }

  /** Option bytes carried by every data segment: the MSS we use for payload shrinks by them. */
  get perSegmentOptionBytes(): number {
    return this.timestamps ? TIMESTAMP_OPTION_BYTES : 0;
  }

  /**
   * PAWS (RFC 7323 5.3): a non-RST segment whose timestamp is older than TS.Recent is an
   * old duplicate from an earlier wrap of the sequence space.
   */
  pawsRejects(now: Millis, seg: TcpSegment): boolean {
    if (!this.timestamps || seg.options.timestamp === undefined || (seg.flags & RST) !== 0) return false;
    if (now - this.tsRecentAt > PAWS_IDLE_LIMIT) return false;
    return ((seg.options.timestamp.value - this.tsRecent) | 0) < 0;
  }

  /** RFC 7323 4.3: remember the peer's timestamp if the segment covers our last ACK. */
  noteTimestamp(now: Millis, seg: TcpSegment, segLen: number, lastAckSent: Seq): void {
    const ts = seg.options.timestamp;
    if (!this.timestamps || ts === undefined) return;
    const covers = seqLe(seg.seq, lastAckSent) && (segLen === 0 || seqGe((seg.seq + segLen) as Seq, lastAckSent));
    if (covers && ((ts.value - this.tsRecent) | 0) >= 0) {
      this.tsRecent = ts.value | 0;
      this.tsRecentAt = now;
    }
  }

  /**
   * RTT from an echoed timestamp (RFC 7323 4.1), usable even for retransmitted data. An echo
   * more than about 35.8 minutes old is no sample (Linux tcp_ack_update_rtt and
   * tcp_rcv_rtt_measure_ts: delta < INT_MAX / 1000 ms): a peer echoing a value we never sent
   * would otherwise set SRTT to hours, and with it the pacing gap and every timer after it.
   */
  rttFromEcho(now: Millis, seg: TcpSegment): Millis | undefined {
    const echo = seg.options.timestamp?.echo;
    if (!this.timestamps || echo === undefined || echo === 0) return undefined;
    const rtt = (this.tsVal(now) - echo) >>> 0;
    return rtt < MAX_ECHO_RTT ? rtt : undefined;
  }

  /** `seg` echoes a timestamp we sent before time `t` (RFC 7323 modular comparison). */
  echoesBefore(seg: TcpSegment, t: Millis): boolean {
    const echo = seg.options.timestamp?.echo;
    if (!this.timestamps || echo === undefined || echo === 0) return false;
    return ((echo - this.tsVal(t)) | 0) < 0;
  }

  /**
   * A SYN-ACK echoes a timestamp we never sent: not one of ours from `since` (our first SYN)
   * to `now`. Linux tcp_rcv_synsent_state_process refuses it with a RST (PAWSActiveRejected).
   */
  synAckEchoInvalid(seg: TcpSegment, since: Millis, now: Millis): boolean {
    const echo = seg.options.timestamp?.echo;
    if (!this.config.timestamps || echo === undefined || echo === 0) return false;
    const first = this.tsVal(since);
    return ((echo - first) >>> 0) > ((this.tsVal(now) - first) >>> 0);
  }

  /** Our timestamp clock: milliseconds (Linux uses a 1 kHz TCP clock) plus the offset. */
  tsVal(now: Millis): number {
    return (Math.floor(now) + this.tsOffset) >>> 0;
  }
}

