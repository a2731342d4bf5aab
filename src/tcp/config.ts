/**
 * TCP settings. Defaults mirror Linux (see ../shared/design/defaults.md) so that a trace
 * of synack reads like a trace of Linux and packetdrill-style expectations carry over.
 */
import type { Millis } from "../env.js";
import { InvalidArgumentError } from "./errors.js";
import { parseKeys } from "./fast-open/cookie.js";
import { FAST_OPEN_DEFAULT } from "./fast-open/settings.js";
import { showValue } from "../show-value.js";

export interface TcpConfig {
  /** SYN retransmissions before connect() fails with ETIMEDOUT (tcp_syn_retries). */
  synRetries: number;
  /** SYN-ACK retransmissions before a half-open entry is dropped (tcp_synack_retries). */
  synAckRetries: number;
  /**
   * Data retransmissions before the connection is aborted with ETIMEDOUT (tcp_retries2), as
   * Linux counts them: the time that many doublings from `minRto` would take, from the first
   * resend (timeouts.ts). A closed (orphaned) connection gets 8.
   */
  dataRetries: number;
  initialRto: Millis;
  minRto: Millis;
  maxRto: Millis;
  /** Maximum segment lifetime; TIME_WAIT lasts 2 * msl (Linux: fixed 60 s). */
  msl: Millis;
  /** How long an orphaned connection may sit in FIN_WAIT_2 (tcp_fin_timeout). */
  finWait2Timeout: Millis;
  /** Initial congestion window in segments (RFC 6928). */
  initialCwndSegments: number;
  /** Fewest segments a TSO/GSO packet may be cut to (tcp_min_tso_segs); shapes PSH placement. */
  minTsoSegments: number;
  /**
   * tcp_tso_win_divisor: a window with room for less than a full TSO/GSO packet sends anyway
   * once the room is this fraction of the window or more (0: once it exceeds 3 segments);
   * below it, and with an ACK due within min(SRTT/2, 1 ms), the sender waits for that ACK
   * (Linux tcp_tso_should_defer, tso-chunks.ts).
   */
  tsoWinDivisor: number;
  /** MSS assumed when the peer sends none (RFC 9293 3.7.1). */
  defaultMss: number;
  /** Smallest MSS accepted from a peer (tcp_min_snd_mss). */
  minMss: number;
  /** Delayed-ACK timeout (TCP_DELACK_MIN). */
  delayedAckTimeout: Millis;
  /** Segments acknowledged immediately at the start of a connection (TCP_MAX_QUICKACKS). */
  quickAcks: number;
  /** The send buffer at first (tcp_wmem[1]), in Linux's memory charge: queued bytes plus 832 per skb, a write filling the skb it starts (write-admission.ts); it grows with the window. */
  sendBufferSize: number;
  /** Largest send buffer autotuning may reach (tcp_wmem[2]); at or below sendBufferSize it never grows. */
  sendBufferMax: number;
  /** Bytes of received data held for the application (in order plus out of order) at first (tcp_rmem[1]); it grows as the application reads. */
  receiveBufferSize: number;
  /** Largest receive buffer autotuning may reach (tcp_rmem[2]); at or below receiveBufferSize it never grows. */
  receiveBufferMax: number;
  /** Separate out-of-order ranges (blocks between holes) held at most; a segment that would open another is dropped. The bytes held are bounded by the window. */
  maxOutOfOrderSegments: number;
  /** Announce and use window scaling (RFC 7323). */
  windowScaling: boolean;
  /** Announce and use TCP timestamps (RFC 7323): RTT per ACK and PAWS. */
  timestamps: boolean;
  /** Announce and use selective acknowledgements (RFC 2018). */
  sack: boolean;
  /** Our window-scale shift when scaling is on (Linux announces 7 with default tcp_rmem). */
  windowScaleShift: number;
  /** Keep-alive timings (RFC 1122 4.2.3.6); off per connection until enabled. */
  keepAliveIdle: Millis;
  keepAliveInterval: Millis;
  keepAliveProbes: number;
  /** Minimum spacing of challenge ACKs per connection (RFC 5961, tcp_invalid_ratelimit). */
  challengeAckInterval: Millis;
  /**
   * TIME_WAIT connections held at most (tcp_max_tw_buckets; Linux sizes it from memory,
   * 262,144 is typical). Past it a closing connection skips TIME_WAIT, as on Linux.
   */
  maxTimeWait: number;
  /** Local ports connect() picks from (ip_local_port_range), inclusive. */
  ephemeralPorts: readonly [number, number];
  /** Half-open connections a listener holds at most (tcp_max_syn_backlog). */
  synQueueSize: number;
  /**
   * SYN cookies (tcp_syncookies): "overflow" answers with a cookie only when the SYN queue
   * is full (Linux default 1), "always" for every SYN (2), "never" drops instead (0).
   */
  synCookies: "overflow" | "always" | "never";
  /**
   * Window growth in congestion avoidance: CUBIC (RFC 9438, Linux default) or Reno
   * (RFC 5681); or BBR v1 (Linux `bbr`, congestion/bbr.ts), which sets cwnd and a pacing
   * rate from its bandwidth and RTT estimates instead.
   */
  congestionControl: "cubic" | "reno" | "bbr";
  /**
   * Pace Reno and CUBIC too, at Linux's sk_pacing_rate (tcp_update_pacing_rate: 200% of
   * cwnd / SRTT in slow start, 120% after), as Linux does under the fq qdisc. Off by default,
   * as Linux without fq (the default qdisc is pfifo_fast or fq_codel). Linux's TCP Small
   * Queues still spread its bursts at the device, which a userspace stack writing straight to
   * a TUN device or a socket does not have; pacing is its substitute (pacing.ts). BBR always
   * paces, whatever this says.
   */
  pacing: boolean;
  /**
   * RACK-TLP loss detection (RFC 8985), Linux's default (tcp_recovery=1). Off: loss is
   * detected by counting duplicate ACKs (RFC 5681 / RFC 6675), as Linux with tcp_recovery=0.
   * Either way it needs SACK; without SACK recovery is NewReno (RFC 6582).
   */
  rack: boolean;
  /**
   * TCP_NOTSENT_LOWAT (Linux tcp_notsent_lowat), bytes: a write stops taking bytes once this
   * many are queued and not sent, and the socket is writable again below half of it
   * (notsent-lowat.ts). 0xffffffff, Linux's default, is no limit.
   */
  notsentLowat: number;
  /**
   * TCP_USER_TIMEOUT (RFC 5482), ms; 0 = off. When data stays unacknowledged (or zero-window
   * probes unanswered) this long, the connection fails with ETIMEDOUT, whatever the retry
   * counts say (Linux icsk_user_timeout).
   */
  userTimeout: number;
  /**
   * Restart the congestion window after an idle period longer than the RTO (RFC 5681
   * 4.1, Linux tcp_slow_start_after_idle). Off by default here, as issue 12 asks; Linux
   * turns it on by default.
   */
  slowStartAfterIdle: boolean;
  /**
   * F-RTO (RFC 5682): after a retransmission timeout, new data instead of more
   * retransmissions tells a spurious timeout from a real loss, and a spurious one is
   * undone. On by default, as Linux's tcp_frto=2.
   */
  frto: boolean;
  /** Tail loss probes (RFC 8985 section 7) with RACK, as Linux's tcp_early_retrans=3. */
  tlp: boolean;
  /** Send D-SACK blocks for duplicate segments (RFC 2883), as Linux's tcp_dsack=1. */
  dsack: boolean;
  /** Disable Nagle's algorithm by default (Linux and Node default: Nagle on). */
  noDelay: boolean;
  /**
   * SO_OOBINLINE: a received urgent byte stays in the stream instead of being readable only
   * out of band (RFC 6093 section 3.4 recommends it; Linux and BSD default: off). See urgent.ts.
   */
  oobInline: boolean;
  /**
   * TCP_MAXSEG (Linux user_mss): when above 0, the MSS we announce and the largest segment
   * we send are clamped to it. 0 means the link decides.
   */
  userMss: number;
  /**
   * Packetization-layer path MTU discovery (RFC 4821; Linux tcp_mtu_probing): 0 off, 1 on
   * once a black hole is suspected (retransmission timeouts for longer than tcp_retries1
   * would allow), 2 always. Off by default, as in Linux.
   */
  mtuProbing: 0 | 1 | 2;
  /** The MSS probing starts from, and falls back to on a black hole (tcp_base_mss). */
  baseMss: number;
  /** Black-hole fallback never goes below this MSS (tcp_mtu_probe_floor). */
  mtuProbeFloor: number;
  /** Probing stops once the search range is narrower than this many bytes (tcp_probe_threshold). */
  probeThreshold: number;
  /** After this long, a finished search starts again from the top (tcp_probe_interval), ms. */
  probeInterval: Millis;
  /**
   * HyStart's detectors with CUBIC, as Linux's tcp_cubic hystart_detect bits: 1 the ACK
   * train, 2 the delay increase, 3 both (Linux's default), 0 none.
   */
  hystartDetect: number;
  /**
   * ECN (RFC 3168) as Linux's net.ipv4.tcp_ecn: 0 off, 1 ask on active opens and accept
   * when asked, 2 accept when asked only (Linux's default, so active opens do not ask).
   */
  ecn: 0 | 1 | 2;
  /**
   * TCP Fast Open (RFC 7413) as Linux's net.ipv4.tcp_fastopen bits (fast-open/settings.ts):
   * 0x1 client, 0x2 server, 0x4 client data without cookie, 0x200 server data without
   * cookie, 0x400 every listener does Fast Open. Linux's default is 0x1.
   */
  fastOpen: number;
  /**
   * The server's cookie key (tcp_fastopen_key): "xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx", with
   * an optional ",backup" key accepted but not issued. Empty: a random key per stack.
   */
  fastOpenKey: string;
}

export const LINUX_DEFAULTS: Readonly<TcpConfig> = Object.freeze({
  synRetries: 6,
  synAckRetries: 5,
  dataRetries: 15,
  initialRto: 1000,
  minRto: 200,
  maxRto: 120_000,
  msl: 30_000,
  finWait2Timeout: 60_000,
  initialCwndSegments: 10,
  minTsoSegments: 2,
  tsoWinDivisor: 3,
  defaultMss: 536,
  minMss: 48,
  delayedAckTimeout: 40,
  quickAcks: 16,
  sendBufferSize: 256 * 1024,
  sendBufferMax: 4 * 1024 * 1024,
  receiveBufferSize: 256 * 1024,
  receiveBufferMax: 6 * 1024 * 1024,
  maxOutOfOrderSegments: 256,
  windowScaling: true,
  windowScaleShift: 7,
  timestamps: true,
  sack: true,
  keepAliveIdle: 7_200_000,
  keepAliveInterval: 75_000,
  keepAliveProbes: 9,
  challengeAckInterval: 500,
  maxTimeWait: 262_144,
  ephemeralPorts: [32768, 60999] as readonly [number, number],
  synQueueSize: 1024,
  synCookies: "overflow",
  congestionControl: "cubic",
  pacing: false,
  noDelay: false,
  oobInline: false,
  userMss: 0,
  rack: true,
  userTimeout: 0,
  notsentLowat: 0xffffffff,
  slowStartAfterIdle: false,
  tlp: true,
  dsack: true,
  frto: true,
  mtuProbing: 0,
  baseMss: 1024,
  mtuProbeFloor: 48,
  probeThreshold: 8,
  probeInterval: 600_000,
  ecn: 2,
  hystartDetect: 3,
  fastOpen: FAST_OPEN_DEFAULT,
  fastOpenKey: "",
});

/** Fills in Linux defaults and rejects settings that could hang or crash a connection. */
export function resolveConfig(partial: Partial<TcpConfig> = {}): TcpConfig {
  if (typeof partial !== "object" || partial === null) throw new InvalidArgumentError(`TCP settings must be an object like { noDelay: true }, got ${showValue(partial)}`);
  // A misspelt setting (synRetriez) would otherwise be ignored without a word.
  for (const k of Object.keys(partial)) {
    if (!Object.hasOwn(LINUX_DEFAULTS, k)) throw new InvalidArgumentError(`unknown TCP setting ${k}; known settings: ${Object.keys(LINUX_DEFAULTS).join(", ")}`);
  }
  const c: TcpConfig = { ...LINUX_DEFAULTS, ...partial };
  const count = (k: keyof TcpConfig, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const v = c[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`TCP setting ${k} must be an integer in ${min}..${max}, got ${showValue(v)}`);
    }
  };
  const time = (k: keyof TcpConfig, min: number) => {
    const v = c[k];
    if (typeof v !== "number" || !(v >= min) || !Number.isFinite(v)) {
      throw new InvalidArgumentError(`TCP setting ${k} must be a finite number of milliseconds >= ${min}, got ${showValue(v)}`);
    }
  };
  count("synRetries", 0, 255);
  count("synAckRetries", 0, 255);
  count("dataRetries", 0, 255);
  time("initialRto", 1);
  time("minRto", 1);
  time("maxRto", c.minRto);
  time("msl", 0);
  time("finWait2Timeout", 0);
  count("initialCwndSegments", 1, 1000);
  count("minTsoSegments", 1, 127);
  count("tsoWinDivisor", 0, 255);
  count("defaultMss", 48, 65495);
  count("minMss", 1, 65495);
  time("delayedAckTimeout", 0);
  count("quickAcks", 0);
  count("sendBufferSize", 1);
  count("sendBufferMax", 1);
  count("receiveBufferSize", 1, 2 ** 30);
  count("receiveBufferMax", 1, 2 ** 30);
  count("maxOutOfOrderSegments", 0);
  count("windowScaleShift", 0, 14);
  time("keepAliveIdle", 1);
  time("keepAliveInterval", 1);
  count("keepAliveProbes", 1, 255);
  time("challengeAckInterval", 0);
  count("synQueueSize", 1);
  count("maxTimeWait", 0);
  count("userMss", 0, 65535);
  count("userTimeout", 0, 2 ** 31 - 1);
  count("notsentLowat", 1, 0xffffffff);
  count("mtuProbing", 0, 2);
  count("hystartDetect", 0, 3);
  count("baseMss", 48, 65495);
  count("mtuProbeFloor", 48, 65495);
  count("probeThreshold", 0, 65535);
  time("probeInterval", 1);
  count("fastOpen", 0, 2 ** 31 - 1);
  if (typeof c.fastOpenKey !== "string") throw new InvalidArgumentError(`TCP setting fastOpenKey must be a string, got ${showValue(c.fastOpenKey)}`);
  if (c.fastOpenKey !== "") parseKeys(c.fastOpenKey);
  const [lo, hi] = c.ephemeralPorts;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && lo <= hi && hi <= 65535)) {
    throw new InvalidArgumentError(`TCP setting ephemeralPorts must be [low, high] within 1..65535, got ${showValue(c.ephemeralPorts)}`);
  }
  if (c.congestionControl !== "cubic" && c.congestionControl !== "reno" && c.congestionControl !== "bbr") {
    throw new InvalidArgumentError(`TCP setting congestionControl must be "cubic", "reno" or "bbr", got ${showValue(c.congestionControl)}`);
  }
  for (const k of ["pacing", "rack", "tlp", "dsack", "frto", "slowStartAfterIdle", "windowScaling", "timestamps", "sack", "noDelay", "oobInline"] as const) {
    if (typeof c[k] !== "boolean") throw new InvalidArgumentError(`TCP setting ${k} must be true or false, got ${showValue(c[k])}`);
  }
  if (c.ecn !== 0 && c.ecn !== 1 && c.ecn !== 2) throw new InvalidArgumentError(`TCP setting ecn must be 0, 1 or 2 (as net.ipv4.tcp_ecn), got ${showValue(c.ecn)}`);
  if (!["overflow", "always", "never"].includes(c.synCookies)) {
    throw new InvalidArgumentError(`TCP setting synCookies must be "overflow", "always" or "never", got ${showValue(c.synCookies)}`);
  }
  return c;
}
