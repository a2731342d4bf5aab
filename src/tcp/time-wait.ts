/**
 * Compact TIME_WAIT records, like Linux's `tcp_timewait_sock`: once a connection has sent
 * its last ACK in TIME_WAIT, the layer replaces it in the connection table by a slot here
 * and the full connection (buffers, congestion state, timers) can be collected.
 *
 * Read first: RFC 9293 3.10.7.4 (TIME-WAIT: "the only thing that can arrive in this state
 * is a retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout"),
 * RFC 7323 5 (TS.Recent is echoed in the re-ACK) and RFC 1337 (an exact RST ends TIME_WAIT
 * here, as Linux's tcp_rfc1337=0 does). The rules are those connection.ts applied to a
 * TIME_WAIT connection before (onSegmentTimeWait), with the same trace events.
 *
 * A record keeps what those rules need: the 4-tuple, SND.NXT (SND.MAX), RCV.NXT, the
 * window field of our last ACK, TS.Recent and our timestamp offset, the challenge-ACK rate
 * limit, and the expiry. Records are packed in typed arrays (struct of arrays, one slot
 * per record; free slots wait after the live ones in the heap array), and their expiries form an indexed binary min-heap of slots,
 * so a restart of the 2MSL timer is an in-place sift and nothing is allocated per record
 * except a WeakRef to the connection object, so that an application still holding it sees
 * it reach CLOSED at the same moment as before.
 */
import { IpAddress } from "../wire/address.js";
import type { Millis } from "../env.js";
import type { FourTuple, TraceSink } from "../trace/events.js";
import { ACK, FIN, RST, SYN, type TcpOptions, type TcpSegment } from "../wire/tcp.js";
import type { Seq } from "../wire/seq.js";
import type { Connection, ConnectionInfo } from "./connection.js";
import { EMPTY } from "./send-buffer.js";

/** What the table needs from its layer. */
export interface TimeWaitContext {
  readonly hostName: string;
  readonly trace: TraceSink;
  /** The time stamped on segments sent (the layer's clock). */
  now(): Millis;
  output(tuple: FourTuple, seg: TcpSegment): void;
  /** A record ended (2MSL expiry or RST): take its slot out of the connection table. */
  ended(slot: number, conn: Connection | undefined): void;
}

/** What a connection hands over at TIME_WAIT (see Connection.timeWaitHandover). */
export interface TimeWaitHandover {
  /** Window field of our last ACK (already scaled down). */
  window: number;
  lastChallengeAck: Millis;
  /** When 2MSL runs out. */
  expiry: Millis;
}

const NO_OPTS: TcpOptions = Object.freeze({}) as TcpOptions;
const F_TIMESTAMPS = 1;
const INITIAL_CAPACITY = 64;

export class TimeWaitTable {
  private capacity = 0;
  private count = 0;
  // One slot per record (struct of arrays).
  private localAddr: Uint32Array = new Uint32Array(0);
  private remoteAddr: Uint32Array = new Uint32Array(0);
  /** localPort << 16 | remotePort. */
  private ports: Uint32Array = new Uint32Array(0);
  private sndNxt: Uint32Array = new Uint32Array(0);
  private rcvNxt: Uint32Array = new Uint32Array(0);
  private tsRecent: Uint32Array = new Uint32Array(0);
  private tsOffset: Uint32Array = new Uint32Array(0);
  /** Window field of our ACKs, 16 bits. */
  private window: Uint16Array = new Uint16Array(0);
  /** F_TIMESTAMPS, and the RTO backoff reported when the timer fires (bits 8-15). */
  private flags: Uint16Array = new Uint16Array(0);
  /** Index into `configs`: the two settings TIME_WAIT reads, as the connection had them. */
  private configId: Uint16Array = new Uint16Array(0);
  private expiry: Float64Array = new Float64Array(0);
  private lastChallengeAck: Float64Array = new Float64Array(0);
  private refs: (WeakRef<Connection> | undefined)[] = [];
  // The expiry heap: heap[i] is a slot, heapPos[slot] its index. heap[count..capacity)
  // holds the free slots, so allocating a slot is taking heap[count].
  private heap: Int32Array = new Int32Array(0);
  private heapPos: Int32Array = new Int32Array(0);
  private readonly configs: { msl: Millis; challengeAckInterval: Millis }[] = [];

  constructor(private readonly ctx: TimeWaitContext) {}

  /** Records held now. */
  get size(): number {
    return this.count;
  }

  /** Takes over `conn`, which is in TIME_WAIT and has sent its last ACK. Returns its slot. */
  add(conn: Connection, h: TimeWaitHandover): number {
    if (this.count === this.capacity) this.grow();
    const s = this.heap[this.count]!;
    const t = conn.tuple;
    const n = conn.negotiation;
    // IPv4 only: the layer keeps IPv6 connections whole through TIME_WAIT (see handOverTimeWait).
    this.localAddr[s] = t.localAddr.w3;
    this.remoteAddr[s] = t.remoteAddr.w3;
    this.ports[s] = ((t.localPort << 16) | t.remotePort) >>> 0;
    this.sndNxt[s] = conn.sndMax;
    this.rcvNxt[s] = conn.rcvNxt;
    // TS.Recent and our offset, read back through the options our next ACK would carry.
    const ts = n.timestamps ? n.segmentOptions(0, ACK, undefined)?.timestamp : undefined;
    this.tsRecent[s] = ts?.echo ?? 0;
    this.tsOffset[s] = ts?.value ?? 0;
    this.window[s] = h.window;
    this.flags[s] = (ts !== undefined ? F_TIMESTAMPS : 0) | (Math.min(conn.rtt.backoff, 255) << 8);
    this.configId[s] = this.configIndex(conn.config);
    this.lastChallengeAck[s] = h.lastChallengeAck;
    this.refs[s] = new WeakRef(conn);
    this.expiry[s] = h.expiry;
    this.heapPos[s] = this.count;
    this.count++;
    this.up(this.heapPos[s]!);
    return s;
  }

  /** Earliest expiry, or Infinity. */
  peekTime(): Millis {
    return this.count > 0 ? this.expiry[this.heap[0]!]! : Infinity;
  }

  /** Ends the record whose 2MSL ran out first, if it is due (the linger timer of connection.ts). */
  expireOne(now: Millis): boolean {
    if (this.count === 0) return false;
    const s = this.heap[0]!;
    if (this.expiry[s]! > now) return false;
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "timer-fired", time: now, host: this.ctx.hostName, tuple: this.tuple(s), timer: "time-wait", backoff: this.flags[s]! >>> 8 });
    }
    this.end(now, s, "2MSL timer expired");
    return true;
  }

  /** RFC 9293 3.10.7.4 in TIME-WAIT, as connection.ts applied it (S27, S28). */
  onSegment(now: Millis, s: number, seg: TcpSegment): void {
    const conn = this.refs[s]?.deref();
    if (conn !== undefined) conn.segmentsIn++;
    if ((seg.flags & RST) !== 0) {
      // Linux (tcp_rfc1337=0) lets an exact RST end TIME_WAIT early; nobody is told.
      if (seg.seq === this.rcvNxt[s]) this.end(now, s, "RST received in TIME_WAIT");
      else this.drop(now, s, seg, "rst-invalid", "RST in TIME_WAIT not at RCV.NXT");
      return;
    }
    if ((seg.flags & SYN) !== 0) {
      // S28: a SYN never reopens the 4-tuple here; it gets a (rate-limited) challenge ACK.
      this.drop(now, s, seg, "state", "SYN for a 4-tuple in TIME_WAIT");
      if (now - this.lastChallengeAck[s]! < this.configs[this.configId[s]!]!.challengeAckInterval) return;
      this.lastChallengeAck[s] = now;
      this.sendAck(now, s);
      return;
    }
    const bareInWindowAck = seg.seq === this.rcvNxt[s] && seg.payload.length === 0 && (seg.flags & FIN) === 0;
    if (bareInWindowAck) return;
    if ((seg.flags & ACK) !== 0) {
      // Our last ACK was lost: ACK again and restart the 2 MSL timer.
      const cause = (seg.flags & FIN) !== 0 ? "retransmitted FIN" : "segment";
      this.drop(now, s, seg, "duplicate", `${cause} in TIME_WAIT: re-ACK and restart 2MSL`);
      const at = now + 2 * this.configs[this.configId[s]!]!.msl;
      if (this.ctx.trace.enabled) {
        this.ctx.trace.emit({ type: "timer-armed", time: now, host: this.ctx.hostName, tuple: this.tuple(s), timer: "time-wait", at, backoff: 0 });
      }
      this.expiry[s] = at;
      const i = this.heapPos[s]!;
      this.up(i);
      this.down(this.heapPos[s]!);
    }
    this.sendAck(now, s);
  }

  /** The 4-tuple of a slot (built on demand: records keep numbers). */
  tuple(s: number): FourTuple {
    const p = this.ports[s]!;
    return { localAddr: IpAddress.v4(this.localAddr[s]!), localPort: p >>> 16, remoteAddr: IpAddress.v4(this.remoteAddr[s]!), remotePort: p & 0xffff };
  }

  /** A snapshot shaped like Connection.inspect(), for tables (`synack ss`). */
  info(s: number): ConnectionInfo {
    const seq = this.sndNxt[s]! as Seq;
    return {
      state: "TIME_WAIT", tuple: this.tuple(s), iss: 0 as Seq, irs: 0 as Seq,
      sndUna: seq, sndNxt: seq, sndMax: seq, sndWnd: 0, rcvNxt: this.rcvNxt[s]! as Seq, rcvWnd: 0,
      sendMss: 0, sndShift: 0, rcvShift: 0, timestamps: (this.flags[s]! & F_TIMESTAMPS) !== 0, sack: false, sacked: 0,
      cwnd: 0, ssthresh: 0, srtt: undefined, rto: 0, retries: 0, sendQueued: 0, receiveQueued: 0, outOfOrderBytes: 0,
      timers: { rto: Infinity, tlp: Infinity, reorder: Infinity, persist: Infinity, keepalive: Infinity, delayedAck: Infinity, linger: this.expiry[s]! },
      segmentsIn: 0, segmentsOut: 0, retransmits: 0, bytesAcked: 0, bytesReceived: 0, error: undefined,
    };
  }

  /** <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with our timestamp and TS.Recent (RFC 7323 3.2). */
  private sendAck(now: Millis, s: number): void {
    const p = this.ports[s]!;
    const options: TcpOptions = (this.flags[s]! & F_TIMESTAMPS) !== 0 ? { timestamp: { value: (Math.floor(now) + this.tsOffset[s]!) >>> 0, echo: this.tsRecent[s]! } } : NO_OPTS;
    const seg: TcpSegment = {
      srcPort: p >>> 16, dstPort: p & 0xffff, seq: this.sndNxt[s]! as Seq, ack: this.rcvNxt[s]! as Seq, flags: ACK,
      window: this.window[s]!, urgentPointer: 0, options, payload: EMPTY,
    };
    const tuple = this.tuple(s);
    const conn = this.refs[s]?.deref();
    if (conn !== undefined) conn.segmentsOut++;
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "segment-out", time: this.ctx.now(), host: this.ctx.hostName, tuple, segment: seg, retransmit: false });
    }
    this.ctx.output(tuple, seg);
  }

  /** TIME_WAIT -> CLOSED: trace it, tell the layer and the connection object if it is still held, free the slot. */
  private end(now: Millis, s: number, cause: string): void {
    const conn = this.refs[s]?.deref();
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "state", time: now, host: this.ctx.hostName, tuple: this.tuple(s), from: "TIME_WAIT", to: "CLOSED", cause });
    }
    this.ctx.ended(s, conn);
    this.refs[s] = undefined;
    // Out of the heap: the last entry takes this one's place.
    const i = this.heapPos[s]!;
    const last = this.heap[--this.count]!;
    this.heapPos[s] = -1;
    this.heap[this.count] = s; // free from now on
    if (last !== s) {
      this.heap[i] = last;
      this.heapPos[last] = i;
      this.up(i);
      this.down(this.heapPos[last]!);
    }
  }

  private drop(now: Millis, s: number, seg: TcpSegment, reason: "rst-invalid" | "state" | "duplicate", detail: string): void {
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "drop", time: now, host: this.ctx.hostName, reason, tuple: this.tuple(s), segment: seg, detail });
    }
  }

  /** Settings are shared by value: per-socket configs are distinct objects with mostly equal values. */
  private configIndex(config: { msl: Millis; challengeAckInterval: Millis }): number {
    const i = this.configs.findIndex((c) => c.msl === config.msl && c.challengeAckInterval === config.challengeAckInterval);
    if (i >= 0) return i;
    if (this.configs.length >= 0xffff) throw new Error("more than 65535 distinct TIME_WAIT settings");
    this.configs.push({ msl: config.msl, challengeAckInterval: config.challengeAckInterval });
    return this.configs.length - 1;
  }

  private grow(): void {
    const old = this.capacity;
    const cap = Math.max(INITIAL_CAPACITY, old * 2);
    const g32 = (a: Uint32Array): Uint32Array => { const b = new Uint32Array(cap); b.set(a); return b; };
    const g16 = (a: Uint16Array): Uint16Array => { const b = new Uint16Array(cap); b.set(a); return b; };
    const gf = (a: Float64Array): Float64Array => { const b = new Float64Array(cap); b.set(a); return b; };
    const gi = (a: Int32Array): Int32Array => { const b = new Int32Array(cap); b.set(a); return b; };
    this.localAddr = g32(this.localAddr);
    this.remoteAddr = g32(this.remoteAddr);
    this.ports = g32(this.ports);
    this.sndNxt = g32(this.sndNxt);
    this.rcvNxt = g32(this.rcvNxt);
    this.tsRecent = g32(this.tsRecent);
    this.tsOffset = g32(this.tsOffset);
    this.window = g16(this.window);
    this.flags = g16(this.flags);
    this.configId = g16(this.configId);
    this.expiry = gf(this.expiry);
    this.lastChallengeAck = gf(this.lastChallengeAck);
    this.heap = gi(this.heap);
    this.heapPos = gi(this.heapPos);
    // The new slots are free: they follow the heap's live entries (count === old here).
    for (let s = old; s < cap; s++) this.heap[s] = s;
    this.capacity = cap;
  }

  private up(i: number): void {
    const h = this.heap;
    const e = this.expiry;
    const item = h[i]!;
    const at = e[item]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = h[parent]!;
      if (e[ps]! <= at) break;
      h[i] = ps;
      this.heapPos[ps] = i;
      i = parent;
    }
    h[i] = item;
    this.heapPos[item] = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const e = this.expiry;
    const n = this.count;
    const item = h[i]!;
    const at = e[item]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && e[h[r]!]! < e[h[l]!]! ? r : l;
      const cs = h[c]!;
      if (e[cs]! >= at) break;
      h[i] = cs;
      this.heapPos[cs] = i;
      i = c;
    }
    h[i] = item;
    this.heapPos[item] = i;
  }
}
