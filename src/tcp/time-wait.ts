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
 * A record keeps what those rules need: the 4-tuple (an IPv6 record keeps its two address
 * objects beside the arrays, as request-table.ts does), SND.NXT (SND.MAX), RCV.NXT, the
 * window field of our last ACK, TS.Recent and our timestamp offset, the challenge-ACK rate
 * limit, and the expiry. Records are packed in typed arrays (struct of arrays, one slot
 * per record, slot-arrays.ts), and their expiries form an indexed binary min-heap of slots,
 * so a restart of the 2MSL timer is an in-place sift. A record holds no reference to its
 * connection object: the object holds a `TimeWaitRef` (table, slot, generation) instead and
 * reads CLOSED through it once the record has ended (Connection.state), so an application
 * still holding it sees CLOSED at the same moment as before, and one that dropped it lets
 * it be collected at once. (A WeakRef per record did the same from the other side and cost
 * a third of the connection rate: V8 keeps every WeakRef's target alive until the current
 * job ends, which for a synchronous driver loop is the whole run.)
 */
import { IpAddress, type AddressKey } from "../wire/address.js";
import type { Millis } from "../env.js";
import type { FourTuple, TraceSink } from "../trace/events.js";
import { ACK, FIN, RST, SYN, type TcpOptions, type TcpSegment } from "../wire/tcp.js";
import type { Seq } from "../wire/seq.js";
import type { Connection, ConnectionInfo } from "./connection.js";
import { EMPTY } from "./send-buffer.js";
import { SlotArrays } from "./slot-arrays.js";
import { DSCP_MASK } from "../wire/ip-ecn.js";

/** What the table needs from its layer. */
export interface TimeWaitContext {
  readonly hostName: string;
  readonly trace: TraceSink;
  /** The time stamped on segments sent (the layer's clock). */
  now(): Millis;
  /** Sends a segment with the TOS / traffic class byte `tos` (the connection's IP_TOS). */
  output(tuple: FourTuple, seg: TcpSegment, tos: number): void;
  /** A record ended (2MSL expiry or RST): take its slot out of the connection table. */
  ended(slot: number): void;
}

/** A connection object's handle on the record that took its place (see Connection.state). */
export interface TimeWaitRef {
  readonly table: TimeWaitTable;
  readonly slot: number;
  readonly gen: number;
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

export class TimeWaitTable {
  // One slot per record (struct of arrays, slot-arrays.ts): localPort << 16 | remotePort in
  // `ports`; our ACKs' window field; in `flags` F_TIMESTAMPS (bit 0), the IP_TOS bits (bits
  // 2-7, DSCP_MASK: a connection's value never has bits 0-1; Linux tw_tos) and the RTO
  // backoff reported when the timer fires (bits 8-15); `configId` indexes `configs`, the two
  // settings TIME_WAIT reads as the connection had them; `deadline` is when 2MSL runs out.
  private readonly a = new SlotArrays({
    localAddr: Uint32Array, remoteAddr: Uint32Array, ports: Uint32Array, sndNxt: Uint32Array, rcvNxt: Uint32Array,
    tsRecent: Uint32Array, tsOffset: Uint32Array, window: Uint16Array, flags: Uint16Array, configId: Uint16Array,
    deadline: Float64Array, lastChallengeAck: Float64Array,
    // Bumped when a record ends, so a TimeWaitRef to an earlier record of the slot reads it ended.
    gen: Uint32Array,
    // Segments received and sent in TIME_WAIT (the connection object's counters stop at hand-over).
    segmentsIn: Uint32Array, segmentsOut: Uint32Array,
  });
  private readonly configs: { msl: Millis; challengeAckInterval: Millis }[] = [];
  /** The addresses of IPv6 records (IPv4 ones keep their address in the words). */
  private readonly v6: ([IpAddress, IpAddress] | undefined)[] = [];

  constructor(private readonly ctx: TimeWaitContext) {}

  /** Records held now. */
  get size(): number {
    return this.a.count;
  }

  /** Takes over `conn`, which is in TIME_WAIT and has sent its last ACK. Returns the handle `conn` keeps. */
  add(conn: Connection, h: TimeWaitHandover): TimeWaitRef {
    const s = this.a.alloc(Infinity);
    const f = this.a.f;
    const t = conn.tuple;
    const n = conn.negotiation;
    f.localAddr[s] = t.localAddr.w3;
    f.remoteAddr[s] = t.remoteAddr.w3;
    if (t.localAddr.family === 6) this.v6[s] = [t.localAddr, t.remoteAddr];
    else if (this.v6.length > s) this.v6[s] = undefined;
    f.ports[s] = ((t.localPort << 16) | t.remotePort) >>> 0;
    f.sndNxt[s] = conn.sndMax;
    f.rcvNxt[s] = conn.rcvNxt;
    // TS.Recent and our offset, read back through the options our next ACK would carry.
    const ts = n.timestamps ? n.segmentOptions(0, ACK, undefined)?.timestamp : undefined;
    f.tsRecent[s] = ts?.echo ?? 0;
    f.tsOffset[s] = ts?.value ?? 0;
    f.window[s] = h.window;
    f.flags[s] = (ts !== undefined ? F_TIMESTAMPS : 0) | (conn.typeOfService & DSCP_MASK) | (Math.min(conn.rtt.backoff, 255) << 8);
    f.configId[s] = this.configIndex(conn.config);
    f.lastChallengeAck[s] = h.lastChallengeAck;
    f.segmentsIn[s] = f.segmentsOut[s] = 0;
    f.deadline[s] = h.expiry;
    this.a.moved(s);
    return { table: this, slot: s, gen: f.gen[s]! };
  }

  /** Whether the record `ref` names is still held (its 2MSL has not run out, no RST ended it). */
  holds(ref: TimeWaitRef): boolean {
    return this.a.f.gen[ref.slot] === ref.gen;
  }

  /** Segments received and sent by a held record. */
  segmentCounts(s: number): { segmentsIn: number; segmentsOut: number } {
    return { segmentsIn: this.a.f.segmentsIn[s]!, segmentsOut: this.a.f.segmentsOut[s]! };
  }

  /** Earliest expiry, or Infinity. */
  peekTime(): Millis {
    return this.a.peekTime();
  }

  /** Ends the record whose 2MSL ran out first, if it is due (the linger timer of connection.ts). */
  expireOne(now: Millis): boolean {
    const s = this.a.peek();
    if (s < 0 || this.a.f.deadline[s]! > now) return false;
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "timer-fired", time: now, host: this.ctx.hostName, tuple: this.tuple(s), timer: "time-wait", backoff: this.a.f.flags[s]! >>> 8 });
    }
    this.end(now, s, "2MSL timer expired");
    return true;
  }

  /** RFC 9293 3.10.7.4 in TIME-WAIT, as connection.ts applied it (S27, S28). */
  onSegment(now: Millis, s: number, seg: TcpSegment): void {
    this.a.f.segmentsIn[s]!++;
    if ((seg.flags & RST) !== 0) {
      // Linux (tcp_rfc1337=0) lets an exact RST end TIME_WAIT early; nobody is told.
      if (seg.seq === this.a.f.rcvNxt[s]) this.end(now, s, "RST received in TIME_WAIT");
      else this.drop(now, s, seg, "rst-invalid", "RST in TIME_WAIT not at RCV.NXT");
      return;
    }
    if ((seg.flags & SYN) !== 0) {
      // S28: a SYN never reopens the 4-tuple here; it gets a (rate-limited) challenge ACK.
      this.drop(now, s, seg, "state", "SYN for a 4-tuple in TIME_WAIT");
      if (now - this.a.f.lastChallengeAck[s]! < this.configs[this.a.f.configId[s]!]!.challengeAckInterval) return;
      this.a.f.lastChallengeAck[s] = now;
      this.sendAck(now, s);
      return;
    }
    const bareInWindowAck = seg.seq === this.a.f.rcvNxt[s] && seg.payload.length === 0 && (seg.flags & FIN) === 0;
    if (bareInWindowAck) return;
    if ((seg.flags & ACK) !== 0) {
      // Our last ACK was lost: ACK again and restart the 2 MSL timer.
      const cause = (seg.flags & FIN) !== 0 ? "retransmitted FIN" : "segment";
      this.drop(now, s, seg, "duplicate", `${cause} in TIME_WAIT: re-ACK and restart 2MSL`);
      const at = now + 2 * this.configs[this.a.f.configId[s]!]!.msl;
      if (this.ctx.trace.enabled) {
        this.ctx.trace.emit({ type: "timer-armed", time: now, host: this.ctx.hostName, tuple: this.tuple(s), timer: "time-wait", at, backoff: 0 });
      }
      this.a.f.deadline[s] = at;
      this.a.moved(s);
    }
    this.sendAck(now, s);
  }

  /** The 4-tuple of a slot (built on demand: records keep numbers). */
  tuple(s: number): FourTuple {
    const p = this.a.f.ports[s]!;
    const v6 = this.v6[s];
    if (v6 !== undefined) return { localAddr: v6[0], localPort: p >>> 16, remoteAddr: v6[1], remotePort: p & 0xffff };
    return { localAddr: IpAddress.v4(this.a.f.localAddr[s]!), localPort: p >>> 16, remoteAddr: IpAddress.v4(this.a.f.remoteAddr[s]!), remotePort: p & 0xffff };
  }

  /** The remote address's key (AddressKey) of a slot, without building the tuple. */
  remoteKey(s: number): AddressKey {
    const v6 = this.v6[s];
    return v6 !== undefined ? v6[1].key : this.a.f.remoteAddr[s]!;
  }

  /** A snapshot shaped like Connection.inspect(), for tables (`synack ss`). */
  info(s: number): ConnectionInfo {
    const seq = this.a.f.sndNxt[s]! as Seq;
    return {
      state: "TIME_WAIT", tuple: this.tuple(s), iss: 0 as Seq, irs: 0 as Seq,
      sndUna: seq, sndNxt: seq, sndMax: seq, sndWnd: 0, rcvNxt: this.a.f.rcvNxt[s]! as Seq, rcvWnd: 0,
      sendMss: 0, sndShift: 0, rcvShift: 0, timestamps: (this.a.f.flags[s]! & F_TIMESTAMPS) !== 0, sack: false, sacked: 0,
      cwnd: 0, ssthresh: 0, srtt: undefined, rto: 0, retries: 0, sendQueued: 0, receiveQueued: 0, outOfOrderBytes: 0,
      timers: { rto: Infinity, tlp: Infinity, reorder: Infinity, persist: Infinity, keepalive: Infinity, delayedAck: Infinity, linger: this.a.f.deadline[s]! },
      segmentsIn: this.a.f.segmentsIn[s]!, segmentsOut: this.a.f.segmentsOut[s]!, retransmits: 0, bytesAcked: 0, bytesReceived: 0, error: undefined,
    };
  }

  /** <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, with our timestamp and TS.Recent (RFC 7323 3.2). */
  private sendAck(now: Millis, s: number): void {
    const p = this.a.f.ports[s]!;
    const options: TcpOptions = (this.a.f.flags[s]! & F_TIMESTAMPS) !== 0 ? { timestamp: { value: (Math.floor(now) + this.a.f.tsOffset[s]!) >>> 0, echo: this.a.f.tsRecent[s]! } } : NO_OPTS;
    const seg: TcpSegment = {
      srcPort: p >>> 16, dstPort: p & 0xffff, seq: this.a.f.sndNxt[s]! as Seq, ack: this.a.f.rcvNxt[s]! as Seq, flags: ACK,
      window: this.a.f.window[s]!, urgentPointer: 0, options, payload: EMPTY,
    };
    const tuple = this.tuple(s);
    this.a.f.segmentsOut[s]!++;
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "segment-out", time: this.ctx.now(), host: this.ctx.hostName, tuple, segment: seg, retransmit: false });
    }
    this.ctx.output(tuple, seg, this.a.f.flags[s]! & DSCP_MASK);
  }

  /** TIME_WAIT -> CLOSED: trace it, tell the layer, end the slot's generation (the connection object reads CLOSED), free the slot. */
  private end(now: Millis, s: number, cause: string): void {
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "state", time: now, host: this.ctx.hostName, tuple: this.tuple(s), from: "TIME_WAIT", to: "CLOSED", cause });
    }
    this.ctx.ended(s);
    this.a.f.gen[s] = (this.a.f.gen[s]! + 1) >>> 0;
    if (this.v6.length > s) this.v6[s] = undefined;
    this.a.release(s);
  }

  private drop(now: Millis, s: number, seg: TcpSegment, reason: "rst-invalid" | "state" | "duplicate", detail: string): void {
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "drop", time: now, host: this.ctx.hostName, reason, tuple: this.tuple(s), segment: seg, detail });
    }
  }

  /** Settings are shared by value: per-socket configs are distinct objects with mostly equal values. */
  private configIndex(config: { msl: Millis; challengeAckInterval: Millis }): number {
    // A loop, not findIndex: no closure per record.
    for (let i = 0; i < this.configs.length; i++) {
      const c = this.configs[i]!;
      if (c.msl === config.msl && c.challengeAckInterval === config.challengeAckInterval) return i;
    }
    if (this.configs.length >= 0xffff) throw new Error("more than 65535 distinct TIME_WAIT settings");
    this.configs.push({ msl: config.msl, challengeAckInterval: config.challengeAckInterval });
    return this.configs.length - 1;
  }
}
