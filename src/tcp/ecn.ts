/**
 * Explicit Congestion Notification for one connection (RFC 3168), as Linux runs classic
 * ECN (include/net/tcp_ecn.h, net/ipv4/tcp_input.c and tcp_output.c).
 *
 * Read first: RFC 3168 section 6.1 (TCP's part). In short:
 * - Negotiation (6.1.1): the active opener sends SYN with ECE and CWR; a willing peer
 *   answers SYN-ACK with ECE (and not CWR). Only then is ECN in use (Linux TCP_ECN_OK).
 * - The sender puts ECT(0) in the IP header of new data segments; never on SYN, SYN-ACK,
 *   pure ACKs, retransmissions (6.1.5) or window probes (6.1.6). Linux tcp_ecn_send.
 * - A router marks CE instead of dropping. The receiver then sets ECE on every segment
 *   until a segment with CWR arrives (6.1.3; Linux TCP_ECN_DEMAND_CWR), and ACKs the
 *   CE-marked data at once (Linux tcp_ecn_check_ce enters quick-ACK mode for 2 ACKs).
 * - The sender reduces its window once per window of data (6.1.2; the reduction itself is
 *   congestion/recovery.ts's enterCwr) and sets CWR on its next new data segment (Linux
 *   TCP_ECN_QUEUE_CWR).
 *
 * This module keeps the per-connection flags and decides the ECN bits of each segment;
 * the connection calls it where segments come and go. It allocates nothing per segment:
 * the IP codepoint of an outgoing segment is left in `codepoint` for the caller to read.
 */
import type { Millis } from "../env.js";
import { NULL_SINK, type EcnAction, type FourTuple, type TraceSink } from "../trace/events.js";
import { CWR, ECE, SYN, type TcpSegment } from "../wire/tcp.js";
import { ECN_MASK } from "../wire/ip-ecn.js";

/** The IP header's ECN field (RFC 3168 section 5): the low two bits of TOS / Traffic Class. */
export const NOT_ECT = 0;
export const ECT1 = 1;
export const ECT0 = 2;
export const CE = 3;

/**
 * Linux's net.ipv4.tcp_ecn: 0 = off (neither ask nor accept), 1 = ask on active opens and
 * accept when asked, 2 = accept when asked only (Linux's default).
 */
export type EcnSetting = 0 | 1 | 2;

/** Where ECN trace events go: the connection's names. */
export interface EcnHost {
  readonly trace: TraceSink;
  readonly hostName: string;
  readonly tuple: FourTuple;
}

/** The short name of a codepoint, as tcpdump and packetdrill write it. */
export function codepointName(codepoint: number): "not-ECT" | "ECT(1)" | "ECT(0)" | "CE" {
  switch (codepoint & ECN_MASK) {
    case ECT1:
      return "ECT(1)";
    case ECT0:
      return "ECT(0)";
    case CE:
      return "CE";
    default:
      return "not-ECT";
  }
}

export class EcnState {
  /** ECN is in use (Linux TCP_ECN_OK). During an active open: we asked and wait for the SYN-ACK's answer. */
  ok = false;
  /** Receiver: a CE mark arrived, so every segment carries ECE until the peer's CWR (TCP_ECN_DEMAND_CWR). */
  demandCwr = false;
  /** Sender: the window was reduced; the next new data segment carries CWR (TCP_ECN_QUEUE_CWR). */
  queueCwr = false;
  /** ECT or CE was seen on arriving data (Linux TCP_ECN_SEEN; TCP_INFO's TCPI_OPT_ECN_SEEN). */
  seen = false;
  /** The IP codepoint of the segment being processed (set by the layer before the connection sees it). */
  arrived = NOT_ECT;
  /** The IP codepoint for the segment `outgoing` was last asked about. */
  codepoint = NOT_ECT;
  /** Counters for tests and narration: CE-marked data segments received, reductions for ECE, CWRs sent. */
  ceReceived = 0;
  reductions = 0;
  cwrSent = 0;

  constructor(
    readonly setting: EcnSetting,
    private readonly host: EcnHost,
  ) {}

  // ---------------------------------------------------------------------------------------
  // Negotiation (RFC 3168 6.1.1)

  /**
   * Flags our SYN adds (Linux tcp_ecn_send_syn): ECE and CWR when tcp_ecn is 1. A
   * retransmitted SYN goes without them (RFC 3168 6.1.1.1, Linux tcp_ecn_clear_syn with
   * tcp_ecn_fallback=1): the first may have been dropped by a middlebox that dislikes them.
   */
  synFlags(retransmit: boolean): number {
    if (this.setting !== 1) return 0;
    if (retransmit) return 0;
    this.ok = true;
    return ECE | CWR;
  }

  /** The SYN-ACK answering our SYN: ECE without CWR means yes (Linux tcp_ecn_rcv_synack). */
  onSynAck(now: Millis, flags: number): void {
    if (!this.ok) return;
    if ((flags & ECE) === 0 || (flags & CWR) !== 0) {
      this.ok = false;
      return;
    }
    this.trace(now, "negotiated", "agreed: the SYN-ACK answered ECE; data carries ECT(0)");
  }

  /**
   * The peer's SYN. On a passive open ECN is accepted as passiveOpenAgreesEcn says. In a
   * simultaneous open we asked already and keep ECN only if the peer asked too
   * (tcp_ecn_rcv_syn).
   */
  onSyn(now: Millis, flags: number, codepoint: number, passive: boolean): void {
    const ok = passive ? passiveOpenAgreesEcn(this.setting, flags, codepoint) : this.ok && (flags & (ECE | CWR)) === (ECE | CWR);
    if (ok !== this.ok) this.ok = ok; // never a write to ECN_OFF (ecnOnSyn makes a real state first)
    if (this.ok && passive) this.trace(now, "negotiated", "the SYN asks (ECE+CWR); the SYN-ACK agrees with ECE");
  }

  /** Flags our SYN-ACK adds: ECE when we agreed, never CWR (Linux tcp_ecn_send_synack). */
  synAckFlags(): number {
    return this.ok ? ECE : 0;
  }

  // ---------------------------------------------------------------------------------------
  // Sending (RFC 3168 6.1.2 - 6.1.6, Linux tcp_ecn_send)

  /**
   * Every segment other than SYN and SYN-ACK passes here once ECN is agreed: returns its
   * flags with ECE (while the peer owes us a CWR) and CWR (on the first new data segment
   * after a reduction), and leaves its IP codepoint in `codepoint`: ECT(0) for new data,
   * not-ECT for pure ACKs, control segments, retransmissions and probes.
   */
  outgoing(now: Millis, flags: number, payloadLength: number, retransmit: boolean): number {
    if (this.codepoint !== NOT_ECT) this.codepoint = NOT_ECT; // never a write to ECN_OFF
    if (!this.ok || (flags & SYN) !== 0) return flags;
    if (payloadLength > 0 && !retransmit) {
      this.codepoint = ECT0;
      if (this.queueCwr) {
        this.queueCwr = false;
        this.cwrSent++;
        flags |= CWR;
        this.trace(now, "cwr-sent", "CWR on this segment: the window was reduced");
      }
    }
    if (this.demandCwr) flags |= ECE; // on every segment, RST included, as Linux's tcp_ecn_send
    return flags;
  }

  /** The window was reduced for an ECE (congestion/recovery.ts enterCwr): CWR goes on the next new data. */
  onReduced(now: Millis, cwndBefore: number, ssthresh: number): void {
    this.reductions++;
    this.queueCwr = true;
    this.trace(now, "ece-received", `ECE received: window reduced once for this window of data (cwnd ${cwndBefore} -> ${ssthresh}, CWR state)`);
  }

  /** An ACK carries ECE that counts (Linux tcp_ecn_rcv_ecn_echo): ECN agreed and not on a SYN. */
  echoes(seg: TcpSegment): boolean {
    return this.ok && (seg.flags & (ECE | SYN)) === ECE;
  }

  // ---------------------------------------------------------------------------------------
  // Receiving (RFC 3168 6.1.3)

  /**
   * An acceptable segment in a synchronized state, before its data is queued. CWR ends the
   * ECE echo (Linux tcp_ecn_accept_cwr); then CE on data starts it (tcp_ecn_check_ce).
   * Returns how many ACKs should go out at once: 1 for data with CWR (the sender's window
   * may be tiny), 2 when a CE mark starts the echo (Linux quick-ACK mode, 2), else 0.
   */
  onAcceptable(now: Millis, seg: TcpSegment): number {
    if (!this.ok) return 0;
    let quick = 0;
    const data = seg.payload.length > 0;
    if ((seg.flags & CWR) !== 0 && this.demandCwr) {
      this.demandCwr = false;
      this.trace(now, "cwr-received", "CWR received: the sender reduced its window; the ECE echo stops");
      if (data) quick = 1;
    }
    if (!data) return quick;
    const cp = this.arrived & ECN_MASK;
    if (cp === NOT_ECT) return quick;
    this.seen = true;
    if (cp !== CE) return quick;
    this.ceReceived++;
    if (this.demandCwr) return quick;
    this.demandCwr = true;
    this.trace(now, "ce-received", "CE on arriving data: ECE on every ACK until the sender's CWR");
    return 2;
  }

  private trace(now: Millis, action: EcnAction, detail: string): void {
    const h = this.host;
    if (h.trace.enabled) h.trace.emit({ type: "ecn", time: now, host: h.hostName, tuple: h.tuple, action, detail });
  }
}

/**
 * Most connections never use ECN (Linux's default tcp_ecn=2 only accepts it), so they all
 * share this frozen state that says "not in use" and owes nothing; a connection gets its own
 * EcnState only when ECN is asked for or agreed (ecnOn). Every method leaves a not-in-use
 * state untouched, so a stray write to the shared one throws instead of leaking into others.
 * Saves one object (112 B) per idle connection.
 */
export const ECN_OFF: EcnState = new EcnState(0, { trace: NULL_SINK, hostName: "", tuple: { localAddr: undefined, localPort: 0, remoteAddr: undefined, remotePort: 0 } as unknown as FourTuple });
Object.freeze(ECN_OFF);

/**
 * Whether a listener agrees to ECN for this SYN (Linux tcp_ecn_create_request): it asks
 * with both ECE and CWR (RFC 3168 6.1.1), we are not set to 0, and the SYN itself is not
 * ECT-marked (a SYN must never be; Linux takes a marked one as a broken path).
 */
export function passiveOpenAgreesEcn(setting: EcnSetting, flags: number, codepoint: number): boolean {
  return setting !== 0 && (flags & (ECE | CWR)) === (ECE | CWR) && (codepoint & ECN_MASK) === NOT_ECT;
}

/** A connection's ECN state, as Connection keeps it: ECN_OFF until ecnOn. */
export interface EcnHolder extends EcnHost {
  ecn: EcnState;
}

/** The connection's own EcnState, made (replacing ECN_OFF) on first use. */
export function ecnOn(c: EcnHolder, setting: EcnSetting): EcnState {
  if (c.ecn === ECN_OFF) c.ecn = new EcnState(setting, c);
  return c.ecn;
}

/** EcnState.synFlags for a connection: only tcp_ecn=1 asks, and only a first SYN (which then needs its own state). */
export function ecnSynFlags(c: EcnHolder, setting: EcnSetting, retransmit: boolean): number {
  return (setting === 1 && !retransmit ? ecnOn(c, setting) : c.ecn).synFlags(retransmit);
}

/** EcnState.onSyn for a passive open: a SYN that asks (ECE and CWR) gets the connection its own state to decide with. */
export function ecnOnSyn(c: EcnHolder, setting: EcnSetting, now: Millis, flags: number, codepoint: number): void {
  const s = setting !== 0 && (flags & (ECE | CWR)) === (ECE | CWR) ? ecnOn(c, setting) : c.ecn;
  s.onSyn(now, flags, codepoint, true);
}
