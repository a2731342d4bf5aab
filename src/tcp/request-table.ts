/**
 * Compact half-open (SYN_RCVD) entries, like Linux's request sockets (struct request_sock,
 * tcp_request_sock): a listener that answers a SYN keeps only what the handshake needs,
 * and the full connection is built when the handshake completes (Linux tcp_check_req ->
 * syn_recv_sock -> tcp_create_openreq_child). A SYN flood without cookies then costs a
 * record per SYN queue slot instead of a connection with buffers and congestion state.
 *
 * Read first: RFC 9293 3.10.7.4 (SYN-RECEIVED: the checks in order: sequence number, RST,
 * SYN, ACK), RFC 5961 (RST and SYN in window: no reset), RFC 7323 5.3 (PAWS), RFC 6298
 * 5.5 (the SYN-ACK retransmission backs off). The rules are those input.ts applies to a
 * passive connection in SYN_RCVD, with the same trace events, so a trace reads as before;
 * only the segment that completes the handshake (an acceptable ACK with room in the accept
 * queue) leaves the record: the layer builds the connection (request-child.ts) and hands
 * it that segment.
 *
 * A record keeps the 4-tuple, ISS and IRS, what the SYN negotiated (its MSS, window and
 * window scale, SACK-permitted, TS.Recent and our timestamp offset, ECN), the MSS and
 * window our SYN-ACK announces, the retry count and backoff, when the SYN came and when
 * the SYN-ACK is due again, and a few counters for `ss`. Records are packed in typed
 * arrays (struct of arrays, one slot per record); their deadlines form an indexed binary
 * min-heap of slots, as in time-wait.ts. The listener is the local port's.
 */
import { IpAddress, type AddressKey } from "../wire/address.js";
import type { Millis } from "../env.js";
import type { FourTuple, TraceSink } from "../trace/events.js";
import { ACK, ECE, FIN, RST, SYN, type TcpOptions, type TcpSegment } from "../wire/tcp.js";
import { seqAdd, seqGt, seqInWindow, seqLe, type Seq } from "../wire/seq.js";
import type { TcpConfig } from "./config.js";
import type { ConnectionInfo } from "./connection-info.js";
import { agreedSynOptions } from "./options.js";
import { EMPTY } from "./send-buffer.js";
import { SlotArrays } from "./slot-arrays.js";

/** What the table needs from its layer. */
export interface RequestContext {
  readonly hostName: string;
  readonly trace: TraceSink;
  /** The time stamped on segments sent (the layer's clock). */
  now(): Millis;
  output(tuple: FourTuple, seg: TcpSegment): void;
  /** The settings of the listener on `port` (the layer's when it has none of its own). */
  configFor(port: number): TcpConfig;
  /** A record ended (RST, ICMP, retries exhausted, listener closed): free its place. */
  ended(slot: number, tuple: FourTuple): void;
  /** Asked before a handshake completes: false drops the ACK (accept queue full, counted). */
  mayEstablish(port: number): boolean;
}

/** What the SYN and the listener settle, given to `add`. */
export interface RequestParams {
  tuple: FourTuple;
  iss: Seq;
  syn: TcpSegment;
  tsOffset: number;
  /** ECN agreed (ecn.ts onSyn for a passive open). */
  ecnOk: boolean;
  /** The MSS our SYN-ACK announces and the MSS we would send with (path.ts). */
  ourMss: number;
  sendMss: number;
}

/** The fields a child connection is built from (request-child.ts). */
export interface RequestRecord {
  tuple: FourTuple;
  iss: Seq;
  irs: Seq;
  synAt: Millis;
  synWindow: number;
  options: TcpOptions;
  tsOffset: number;
  ecnOk: boolean;
  retries: number;
  synAcks: number;
  deadline: Millis;
  segmentsIn: number;
  segmentsOut: number;
  retransmits: number;
}

const F_TIMESTAMPS = 1;
const F_SACK = 2;
const F_WSCALE = 4;
const F_ECN = 8;
const F_MSS = 16;
const NO_OPTS: TcpOptions = Object.freeze({}) as TcpOptions;
/** RFC 7323 5.5: PAWS does not apply after 24 days idle. */
const PAWS_IDLE_LIMIT: Millis = 24 * 24 * 3600 * 1000;

/** What `onSegment` decided. */
export const KEEP = 0;
/** The segment completes the handshake: build the connection and give it the segment. */
export const ESTABLISH = 1;

export class RequestTable {
  private readonly a = new SlotArrays({
    localAddr: Uint32Array, remoteAddr: Uint32Array, ports: Uint32Array,
    iss: Uint32Array, irs: Uint32Array, tsRecent: Uint32Array, tsOffset: Uint32Array,
    segmentsIn: Uint32Array, segmentsOut: Uint32Array, retransmits: Uint32Array,
    synWindow: Uint16Array, peerMss: Uint16Array, ourMss: Uint16Array, sendMss: Uint16Array, rcvWnd: Uint16Array,
    flags: Uint8Array, wscale: Uint8Array, retries: Uint8Array, backoff: Uint8Array, synAcks: Uint16Array,
    synAt: Float64Array, deadline: Float64Array,
  });
  /** The addresses of IPv6 records (IPv4 ones keep their address in the words). */
  private v6: ([IpAddress, IpAddress] | undefined)[] = [];
  /**
   * The IPv4 local address tuple() last built: a host has few addresses, so the children of
   * its listeners share one object instead of keeping one each (72 B per connection).
   */
  private local4: IpAddress = IpAddress.ANY4;
  /**
   * The IPv4 remote address tuple() last built, likewise: consecutive handshakes from one
   * client (a proxy, a NAT, a load balancer in front of the host) share its object.
   */
  private remote4: IpAddress = IpAddress.ANY4;

  constructor(private readonly ctx: RequestContext) {}

  /** Records held now. */
  get size(): number {
    return this.a.count;
  }

  /**
   * A SYN answered: remember it and send the SYN-ACK (RFC 9293 3.10.7.2). `placed` puts the
   * slot in the connection table before anything leaves. Returns the slot.
   */
  add(now: Millis, p: RequestParams, placed: (slot: number) => void): number {
    const a = this.a;
    const s = a.alloc(Infinity);
    const f = a.f;
    const t = p.tuple;
    const o = p.syn.options;
    const cfg = this.ctx.configFor(t.localPort);
    f.localAddr[s] = t.localAddr.w3;
    f.remoteAddr[s] = t.remoteAddr.w3;
    if (t.localAddr.family === 6) this.v6[s] = [t.localAddr, t.remoteAddr];
    else if (this.v6.length > s) this.v6[s] = undefined;
    f.ports[s] = ((t.localPort << 16) | t.remotePort) >>> 0;
    f.iss[s] = p.iss;
    f.irs[s] = p.syn.seq;
    f.tsOffset[s] = p.tsOffset >>> 0;
    const agreed = agreedSynOptions(o, cfg);
    f.tsRecent[s] = agreed.timestamps ? o.timestamp!.value : 0;
    f.flags[s] = (agreed.timestamps ? F_TIMESTAMPS : 0) | (agreed.sack ? F_SACK : 0) | (agreed.windowScale !== undefined ? F_WSCALE : 0) | (p.ecnOk ? F_ECN : 0) | (o.mss !== undefined ? F_MSS : 0);
    f.wscale[s] = agreed.windowScale ?? 0;
    f.peerMss[s] = o.mss ?? 0;
    f.synWindow[s] = p.syn.window;
    f.ourMss[s] = p.ourMss;
    f.sendMss[s] = p.sendMss;
    // The window of a SYN-ACK is never scaled (RFC 7323 2.2): the buffer, at most 65535.
    f.rcvWnd[s] = Math.min(cfg.receiveBufferSize, 65535);
    f.retries[s] = f.backoff[s] = f.synAcks[s] = 0;
    f.segmentsIn[s] = 0; // the SYN is the listener's, as a connection never counted it
    f.segmentsOut[s] = f.retransmits[s] = 0;
    f.synAt[s] = now;
    placed(s);
    if (this.ctx.trace.enabled) {
      const tuple = this.tuple(s);
      if (p.ecnOk) this.ctx.trace.emit({ type: "ecn", time: now, host: this.ctx.hostName, tuple, action: "negotiated", detail: "the SYN asks (ECE+CWR); the SYN-ACK agrees with ECE" });
      this.ctx.trace.emit({ type: "state", time: now, host: this.ctx.hostName, tuple, from: "LISTEN", to: "SYN_RCVD", cause: "SYN received" });
    }
    this.sendSynAck(now, s, false);
    return s;
  }

  /** Earliest SYN-ACK deadline, or Infinity. */
  peekTime(): Millis {
    return this.a.peekTime();
  }

  /**
   * The SYN-ACK retransmission timer of the earliest record, if due (timeouts.ts for
   * SYN_RCVD): resend with backoff (RFC 6298 5.5), or forget the entry once
   * tcp_synack_retries are spent.
   */
  expireOne(now: Millis): boolean {
    const s = this.a.peek();
    if (s < 0) return false;
    const f = this.a.f;
    if (f.deadline[s]! > now) return false;
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "timer-fired", time: now, host: this.ctx.hostName, tuple: this.tuple(s), timer: "rto", backoff: f.backoff[s]! });
    }
    const cfg = this.ctx.configFor(f.ports[s]! >>> 16);
    if (f.retries[s]! < 255) f.retries[s]!++;
    if (f.retries[s]! > cfg.synAckRetries) {
      this.end(now, s, "SYN-ACK retries exhausted");
      return true;
    }
    if (this.rto(s, cfg) < cfg.maxRto) f.backoff[s]!++;
    this.sendSynAck(now, s, true);
    return true;
  }

  /**
   * RFC 9293 3.10.7.4 in SYN-RECEIVED for a passive open, in the order input.ts checks
   * (onSegmentSynchronizing). Returns ESTABLISH when the segment completes the handshake.
   */
  onSegment(now: Millis, s: number, seg: TcpSegment): typeof KEEP | typeof ESTABLISH {
    const f = this.a.f;
    f.segmentsIn[s]!++;
    const flags = seg.flags;
    const irs = f.irs[s]! as Seq;
    // A retransmitted SYN: our SYN-ACK was lost (S9); it goes again, the timer restarts.
    if ((flags & (SYN | ACK | RST)) === SYN && seg.seq === irs) {
      f.retransmits[s]!++;
      this.sendSynAck(now, s, true);
      return KEEP;
    }
    const segLen = seg.payload.length + ((flags & SYN) !== 0 ? 1 : 0) + ((flags & FIN) !== 0 ? 1 : 0);
    const rcvNxt = seqAdd(irs, 1);
    // RFC 7323 5.3: PAWS. Nothing is sent from SYN_RCVD (a challenge ACK waits for ESTABLISHED).
    const ts = seg.options.timestamp;
    if ((f.flags[s]! & F_TIMESTAMPS) !== 0 && ts !== undefined && (flags & RST) === 0 && now - f.synAt[s]! <= PAWS_IDLE_LIMIT && ((ts.value - f.tsRecent[s]!) | 0) < 0) {
      this.drop(now, s, seg, "duplicate", "PAWS: timestamp older than TS.Recent");
      return KEEP;
    }
    // First: the sequence number, against the window our SYN-ACK offered (receive-window.ts).
    const wnd = f.rcvWnd[s]!;
    const acceptable = segLen === 0 ? (wnd === 0 ? seg.seq === rcvNxt : seqInWindow(seg.seq, rcvNxt, wnd + 1)) : wnd > 0 && (seqInWindow(seg.seq, rcvNxt, wnd) || seqInWindow(seqAdd(seg.seq, segLen - 1), rcvNxt, wnd));
    if (!acceptable) {
      if ((flags & RST) === 0) this.drop(now, s, seg, "out-of-window", `seq ${seg.seq} len ${segLen} outside rcv window`);
      else this.drop(now, s, seg, "out-of-window", "RST outside window");
      return KEEP;
    }
    // Second: RST (RFC 5961 3): only an exact one frees the entry (back to LISTEN, S11).
    if ((flags & RST) !== 0) {
      if (seg.seq !== rcvNxt) this.drop(now, s, seg, "rst-invalid", "RST in window but not at RCV.NXT");
      else this.end(now, s, "RST received in SYN_RCVD");
      return KEEP;
    }
    // Fourth: SYN (RFC 5961 4).
    if ((flags & SYN) !== 0) {
      this.drop(now, s, seg, "state", "SYN in SYN_RCVD");
      return KEEP;
    }
    // Fifth: the ACK must acknowledge our SYN exactly: otherwise <SEQ=SEG.ACK><CTL=RST>.
    if ((flags & ACK) === 0) {
      this.drop(now, s, seg, "no-ack-flag", "segment without ACK");
      return KEEP;
    }
    const iss = f.iss[s]! as Seq;
    if (seqLe(seg.ack, iss) || seqGt(seg.ack, seqAdd(iss, 1))) {
      this.send(now, s, this.control(s, RST, seg.ack, 0 as Seq), false);
      this.drop(now, s, seg, "bad-ack", "ACK in SYN_RCVD does not acknowledge our SYN");
      return KEEP;
    }
    // Linux: the accept queue is full, so the final ACK is dropped and the SYN-ACK
    // retransmission gives the client another chance later.
    if (!this.ctx.mayEstablish(f.ports[s]! >>> 16)) {
      this.drop(now, s, seg, "accept-queue-full", "accept queue full");
      return KEEP;
    }
    return ESTABLISH;
  }

  /**
   * An ICMP error quoting our SYN-ACK (Linux tcp_req_err): only one that quotes exactly our
   * ISS (what the SYN-ACK carried) is about it; any other is out of window. Returns whether
   * it quoted the ISS, and then ends the record if `forget`.
   */
  icmpError(now: Millis, s: number, seq: Seq, forget: boolean, why: string): boolean {
    if (seq !== (this.a.f.iss[s]! as Seq)) return false;
    if (forget) this.end(now, s, why);
    return true;
  }

  /** The listener on `port` closed: every record of it is reset, as Connection.abort did. */
  closeListener(now: Millis, slots: number[]): void {
    for (const s of slots) {
      this.send(now, s, this.control(s, RST | ACK, seqAdd(this.a.f.iss[s]! as Seq, 1), seqAdd(this.a.f.irs[s]! as Seq, 1)), false);
      this.end(now, s, "listener closed");
    }
  }

  /** Hands over a record whose handshake completes and frees it (no trace: the connection goes on). */
  take(s: number): RequestRecord {
    const f = this.a.f;
    const fl = f.flags[s]!;
    const options: TcpOptions = {};
    if ((fl & F_MSS) !== 0) options.mss = f.peerMss[s]!;
    if ((fl & F_WSCALE) !== 0) options.windowScale = f.wscale[s]!;
    if ((fl & F_SACK) !== 0) options.sackPermitted = true;
    if ((fl & F_TIMESTAMPS) !== 0) options.timestamp = { value: f.tsRecent[s]!, echo: 0 };
    const r: RequestRecord = {
      tuple: this.tuple(s), iss: f.iss[s]! as Seq, irs: f.irs[s]! as Seq, synAt: f.synAt[s]!, synWindow: f.synWindow[s]!,
      options, tsOffset: f.tsOffset[s]!, ecnOk: (fl & F_ECN) !== 0, retries: f.retries[s]!, synAcks: f.synAcks[s]!,
      deadline: f.deadline[s]!, segmentsIn: f.segmentsIn[s]!, segmentsOut: f.segmentsOut[s]!, retransmits: f.retransmits[s]!,
    };
    this.free(s);
    return r;
  }

  /** The 4-tuple of a slot (built on demand: records keep numbers). */
  tuple(s: number): FourTuple {
    const f = this.a.f;
    const p = f.ports[s]!;
    const v6 = this.v6[s];
    if (v6 !== undefined) return { localAddr: v6[0], localPort: p >>> 16, remoteAddr: v6[1], remotePort: p & 0xffff };
    const local = f.localAddr[s]!;
    const remote = f.remoteAddr[s]!;
    if (this.local4.w3 !== local) this.local4 = IpAddress.v4(local);
    if (this.remote4.w3 !== remote) this.remote4 = IpAddress.v4(remote);
    return { localAddr: this.local4, localPort: p >>> 16, remoteAddr: this.remote4, remotePort: p & 0xffff };
  }

  /** The remote address's key (AddressKey) of a slot, without building the tuple. */
  remoteKey(s: number): AddressKey {
    const v6 = this.v6[s];
    return v6 !== undefined ? v6[1].key : this.a.f.remoteAddr[s]!;
  }

  /** A snapshot shaped like Connection.inspect(), for tables (`synack ss`) and tests. */
  info(s: number): ConnectionInfo {
    const f = this.a.f;
    const cfg = this.ctx.configFor(f.ports[s]! >>> 16);
    const iss = f.iss[s]! as Seq;
    const fl = f.flags[s]!;
    const ws = (fl & F_WSCALE) !== 0;
    return {
      state: "SYN_RCVD", tuple: this.tuple(s), iss, irs: f.irs[s]! as Seq,
      sndUna: iss, sndNxt: seqAdd(iss, 1), sndMax: seqAdd(iss, 1), sndWnd: f.synWindow[s]!, rcvNxt: seqAdd(f.irs[s]! as Seq, 1), rcvWnd: f.rcvWnd[s]!,
      sendMss: f.sendMss[s]!, sndShift: ws ? f.wscale[s]! : 0, rcvShift: ws ? cfg.windowScaleShift : 0,
      timestamps: (fl & F_TIMESTAMPS) !== 0, sack: (fl & F_SACK) !== 0, sacked: 0,
      cwnd: cfg.initialCwndSegments * f.sendMss[s]!, ssthresh: Number.MAX_SAFE_INTEGER, srtt: undefined, rto: this.rto(s, cfg), retries: f.retries[s]!,
      sendQueued: 0, receiveQueued: 0, outOfOrderBytes: 0,
      timers: { rto: f.deadline[s]!, tlp: Infinity, reorder: Infinity, persist: Infinity, keepalive: Infinity, delayedAck: Infinity, linger: Infinity },
      segmentsIn: f.segmentsIn[s]!, segmentsOut: f.segmentsOut[s]!, retransmits: f.retransmits[s]!, bytesAcked: 0, bytesReceived: 0, error: undefined,
    };
  }

  /** The retransmission timeout with backoff (rtt.ts before the first sample). */
  private rto(s: number, cfg: TcpConfig): Millis {
    return Math.min(cfg.initialRto * 2 ** this.a.f.backoff[s]!, cfg.maxRto);
  }

  /** SYN-ACK with the options the SYN allowed (options.ts synAckOptions) and ECE if ECN was agreed. */
  private sendSynAck(now: Millis, s: number, retransmit: boolean): void {
    const f = this.a.f;
    const fl = f.flags[s]!;
    const cfg = this.ctx.configFor(f.ports[s]! >>> 16);
    const options: TcpOptions = { mss: f.ourMss[s]! };
    if ((fl & F_SACK) !== 0) options.sackPermitted = true;
    if ((fl & F_TIMESTAMPS) !== 0) options.timestamp = { value: (Math.floor(now) + f.tsOffset[s]!) >>> 0, echo: f.tsRecent[s]! };
    if ((fl & F_WSCALE) !== 0) options.windowScale = cfg.windowScaleShift;
    const seg = this.control(s, SYN | ACK | ((fl & F_ECN) !== 0 ? ECE : 0), f.iss[s]! as Seq, seqAdd(f.irs[s]! as Seq, 1));
    seg.window = f.rcvWnd[s]!;
    seg.options = options;
    if (f.synAcks[s]! < 0xffff) f.synAcks[s]!++;
    this.send(now, s, seg, retransmit);
    const at = now + this.rto(s, cfg);
    f.deadline[s] = at;
    this.a.moved(s);
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "timer-armed", time: now, host: this.ctx.hostName, tuple: this.tuple(s), timer: "rto", at, backoff: f.backoff[s]! });
    }
  }

  /** A segment of this record, window and options to be filled in; ACK only if `flags` has it. */
  private control(s: number, flags: number, seq: Seq, ack: Seq): TcpSegment {
    const f = this.a.f;
    const p = f.ports[s]!;
    let options = NO_OPTS;
    // A RST,ACK carries our timestamp, a bare RST none (options.ts segmentOptions).
    if ((f.flags[s]! & F_TIMESTAMPS) !== 0 && (flags & (RST | ACK)) === (RST | ACK)) options = { timestamp: { value: (Math.floor(this.ctx.now()) + f.tsOffset[s]!) >>> 0, echo: f.tsRecent[s]! } };
    return { srcPort: p >>> 16, dstPort: p & 0xffff, seq, ack: (flags & ACK) !== 0 ? ack : (0 as Seq), flags, window: 0, urgentPointer: 0, options, payload: EMPTY };
  }

  private send(_now: Millis, s: number, seg: TcpSegment, retransmit: boolean): void {
    const f = this.a.f;
    f.segmentsOut[s]!++;
    if (retransmit) f.retransmits[s]!++;
    const tuple = this.tuple(s);
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "segment-out", time: this.ctx.now(), host: this.ctx.hostName, tuple, segment: seg, retransmit });
    }
    this.ctx.output(tuple, seg);
  }

  /** SYN_RCVD -> CLOSED: trace it, tell the layer, free the slot. */
  private end(now: Millis, s: number, cause: string): void {
    const tuple = this.tuple(s);
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "state", time: now, host: this.ctx.hostName, tuple, from: "SYN_RCVD", to: "CLOSED", cause });
    }
    this.free(s);
    this.ctx.ended(s, tuple);
  }

  private free(s: number): void {
    if (this.v6.length > s) this.v6[s] = undefined;
    this.a.release(s);
  }

  private drop(now: Millis, s: number, seg: TcpSegment, reason: "duplicate" | "out-of-window" | "rst-invalid" | "state" | "no-ack-flag" | "bad-ack" | "accept-queue-full", detail: string): void {
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "drop", time: now, host: this.ctx.hostName, reason, tuple: this.tuple(s), segment: seg, detail });
    }
  }
}
