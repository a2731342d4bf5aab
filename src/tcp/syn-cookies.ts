/**
 * SYN cookies (S12, RFC 4987 section 3.6): when the SYN queue is full, the listener
 * answers a SYN without keeping any state. Everything it needs later is folded into the
 * initial sequence number of its SYN-ACK; the client's final ACK echoes it back (ack - 1),
 * and the listener rebuilds the connection from that ACK alone.
 *
 * Layout (the one Linux uses, net/ipv4/syncookies.c):
 *
 *   cookie = H1(tuple) + clientIsn + (t << 24) + ((H2(tuple, t) + mssIndex) mod 2^24)
 *
 * where t is a minute counter. H1 hides the cookie from anyone without the secret; t lets
 * the listener refuse cookies older than two minutes; the low 24 bits carry the MSS index,
 * protected by H2 so a forged ACK has about a 1 in 2^24 chance per guess.
 *
 * Window scale, SACK and ECN ride in the SYN-ACK's timestamp, as Linux's
 * cookie_init_timestamp puts them: its low 6 bits are replaced by the peer's window scale
 * (15: none), a SACK bit and an ECN bit, and the final ACK echoes them back
 * (cookie_timestamp_decode, cookie_ecn_ok). The timestamp offset of a cookie connection
 * comes from a keyed hash of the two addresses (Linux secure_tcp_ts_off), so the echo can
 * be read without state. A client that sends no timestamps gets a cookie connection with
 * none of the three, as on Linux (whose tcp_conn_request clears ecn_ok for a cookie
 * without timestamps).
 */
import type { Millis, Rng } from "../env.js";
import type { FourTuple } from "../trace/events.js";
import { seq, seqAdd, type Seq } from "../wire/seq.js";
import { ACK, ECE, SYN, type TcpOptions, type TcpSegment } from "../wire/tcp.js";
import type { TcpConfig } from "./config.js";
import { halfSipHash24, tupleWords } from "./isn.js";
import { agreedSynOptions } from "./options.js";

/** MSS values a cookie can carry (Linux msstab for IPv4). */
export const COOKIE_MSS_TABLE: readonly number[] = [536, 1300, 1440, 1460];
/**
 * Over IPv6 (Linux net/ipv6/syncookies.c msstab): the MTUs 1280, 1480, 1500 and 9000 less
 * 60 bytes of IPv6 and TCP headers. The hashes cover both 128-bit addresses (`tupleWords`).
 */
export const COOKIE_MSS_TABLE_V6: readonly number[] = [1220, 1420, 1440, 8940];

function mssTable(t: FourTuple): readonly number[] {
  return t.localAddr.family === 6 ? COOKIE_MSS_TABLE_V6 : COOKIE_MSS_TABLE;
}
/** Linux TSBITS: the low bits of a cookie SYN-ACK's TSval that carry options. */
const TS_BITS = 6;
const TS_WSCALE_MASK = 0xf;
const TS_SACK = 0x10;
const TS_ECN = 0x20;
/** The options a cookie SYN-ACK's timestamp carries, and its final ACK's echo gives back. */
export interface CookieTsOptions {
  /** The peer's window scale (at most 14), or undefined when its SYN offered none. */
  windowScale: number | undefined;
  sack: boolean;
  /** ECN agreed (the SYN-ACK carried ECE). */
  ecn: boolean;
}
/** What a cookie's final ACK gives back: the options to open with, and whether ECN was agreed. */
export interface CookieAck {
  options: TcpOptions;
  ecn: boolean;
}
const COOKIE_BITS = 24;
const COOKIE_MASK = (1 << COOKIE_BITS) - 1;
/** Minutes a cookie stays valid (Linux MAX_SYNCOOKIE_AGE). */
const MAX_AGE = 2;
const MINUTE: Millis = 60_000;

/** A cookie taken apart (SynCookies.decode). */
export interface CookieDecoding {
  /** cookie - H1(tuple) - client ISN: the counter in the top 8 bits, H2 + MSS index below. */
  rest: number;
  /** The minute counter the cookie carries, and the listener's at the moment of decoding. */
  counter: number;
  nowCounter: number;
  /** Minutes since it was made; a cookie is fresh below 2 (Linux MAX_SYNCOOKIE_AGE). */
  age: number;
  fresh: boolean;
  /** The low 24 bits, H2(tuple, counter) in them, and their difference: the MSS index. */
  low: number;
  hash: number;
  mssIndex: number;
  /** The family's MSS table at mssIndex (COOKIE_MSS_TABLE or COOKIE_MSS_TABLE_V6); absent when the index is out of the table (a forged or corrupted cookie). */
  mss?: number;
  /** Fresh and the index is in the table: what `check` accepts. */
  valid: boolean;
}

export class SynCookies {
  private readonly k: [number, number, number, number];

  constructor(rng: Rng) {
    this.k = [rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32()];
  }

  /** The ISN for a stateless SYN-ACK, and the MSS the cookie will remember. */
  make(now: Millis, tuple: FourTuple, clientIsn: Seq, peerMss: number): { iss: Seq; mss: number } {
    const table = mssTable(tuple);
    let index = 0;
    for (let i = table.length - 1; i >= 0; i--) {
      if (peerMss >= table[i]!) {
        index = i;
        break;
      }
    }
    const t = counter(now);
    const low = (this.h2(tuple, t) + index) & COOKIE_MASK;
    const iss = seq(this.h1(tuple) + clientIsn + ((t << COOKIE_BITS) >>> 0) + low);
    return { iss, mss: table[index]! };
  }

  /**
   * Checks the cookie echoed by a final ACK (ack - 1) for the client's ISN (seq - 1).
   * Returns the MSS it carried, or undefined for a forged, corrupted or expired cookie.
   */
  check(now: Millis, tuple: FourTuple, cookie: Seq, clientIsn: Seq): number | undefined {
    const d = this.decode(now, tuple, cookie, clientIsn);
    return d.valid ? d.mss : undefined;
  }

  /**
   * Takes a cookie apart as `check` does, keeping every step (for views that explain it):
   * what is left after H1 and the client's ISN, the minute counter it carries and its age,
   * and the MSS index recovered from the low 24 bits with H2.
   */
  decode(now: Millis, tuple: FourTuple, cookie: Seq, clientIsn: Seq): CookieDecoding {
    const rest = (cookie - this.h1(tuple) - clientIsn) >>> 0;
    const nowCounter = counter(now);
    const carried = rest >>> COOKIE_BITS;
    const age = (nowCounter - carried) & 0xff;
    const low = rest & COOKIE_MASK;
    const fresh = age < MAX_AGE;
    // The counter the cookie was made with (mod 256, as `counter` gives it).
    const hash = this.h2(tuple, (nowCounter - age) & 0xff) & COOKIE_MASK;
    const mssIndex = (low - hash) & COOKIE_MASK;
    const mss = mssTable(tuple)[mssIndex];
    const d: CookieDecoding = { rest, counter: carried, nowCounter, age, fresh, low, hash, mssIndex, valid: fresh && mss !== undefined };
    if (mss !== undefined) d.mss = mss;
    return d;
  }

  /** The timestamp offset of a cookie connection with this address pair (Linux secure_tcp_ts_off). */
  tsOffset(t: FourTuple): number {
    return halfSipHash24(this.k[1], this.k[2], tupleWords(t.localAddr, 0, t.remoteAddr, 0));
  }

  /**
   * TSval for a cookie SYN-ACK (Linux cookie_init_timestamp): the millisecond clock with its
   * low 6 bits replaced by `o`, moved back by 64 ms if that put it ahead, plus the offset.
   */
  timestamp(now: Millis, t: FourTuple, o: CookieTsOptions): number {
    const clock = Math.floor(now) >>> 0;
    const bits = (o.windowScale ?? TS_WSCALE_MASK) | (o.sack ? TS_SACK : 0) | (o.ecn ? TS_ECN : 0);
    let ts = clock - (clock % 2 ** TS_BITS) + bits;
    if (ts > clock) ts -= 2 ** TS_BITS;
    return (ts + this.tsOffset(t)) >>> 0;
  }

  /** The options a final ACK's TSecr (the echo of `timestamp`) carries (Linux cookie_timestamp_decode). */
  echoedOptions(t: FourTuple, echo: number): CookieTsOptions {
    const bits = (echo - this.tsOffset(t)) & (2 ** TS_BITS - 1);
    const ws = bits & TS_WSCALE_MASK;
    return { windowScale: ws === TS_WSCALE_MASK ? undefined : ws, sack: (bits & TS_SACK) !== 0, ecn: (bits & TS_ECN) !== 0 };
  }

  /**
   * The stateless SYN-ACK for `syn`, whose ISN is `iss`: MSS `ourMss`, and with timestamps
   * what the peer's SYN offered that the timestamp can carry back, ECN among them (ECE)
   * when `ecnAgreed` (ecn.ts passiveOpenAgreesEcn).
   */
  synAck(now: Millis, t: FourTuple, syn: TcpSegment, iss: Seq, cfg: TcpConfig, ourMss: number, ecnAgreed: boolean): TcpSegment {
    const options: TcpOptions = { mss: ourMss };
    const o = agreedSynOptions(syn.options, cfg);
    const ecn = ecnAgreed && o.timestamps;
    if (o.timestamps) {
      options.timestamp = { value: this.timestamp(now, t, { ...o, ecn }), echo: syn.options.timestamp!.value };
      if (o.sack) options.sackPermitted = true;
      if (o.windowScale !== undefined) options.windowScale = cfg.windowScaleShift;
    }
    return {
      srcPort: t.localPort, dstPort: t.remotePort, seq: iss, ack: seqAdd(syn.seq, 1), flags: SYN | ACK | (ecn ? ECE : 0),
      window: Math.min(cfg.receiveBufferSize, 65535), urgentPointer: 0, options, payload: new Uint8Array(0),
    };
  }

  /** The peer's SYN options as a final ACK's echo gives them back, or undefined when it has none to give (no timestamp). */
  ackOptions(t: FourTuple, ack: TcpOptions, cfg: TcpConfig, mss: number): CookieAck | undefined {
    const ts = ack.timestamp;
    if (ts === undefined || ts.echo === 0 || !cfg.timestamps) return undefined;
    const o = this.echoedOptions(t, ts.echo);
    const options: TcpOptions = { mss, timestamp: { value: ts.value, echo: 0 } };
    if (o.sack && cfg.sack) options.sackPermitted = true;
    if (o.windowScale !== undefined && cfg.windowScaling) options.windowScale = o.windowScale;
    // Linux cookie_ecn_ok: the echo says ECN was agreed, and ECN is not switched off here.
    return { options, ecn: o.ecn && cfg.ecn !== 0 };
  }

  private h1(t: FourTuple): number {
    return halfSipHash24(this.k[0], this.k[1], tupleWords(t.localAddr, t.localPort, t.remoteAddr, t.remotePort));
  }

  private h2(t: FourTuple, count: number): number {
    return halfSipHash24(this.k[2], this.k[3], tupleWords(t.localAddr, t.localPort, t.remoteAddr, t.remotePort, count));
  }
}

function counter(now: Millis): number {
  return Math.floor(now / MINUTE) & 0xff;
}
