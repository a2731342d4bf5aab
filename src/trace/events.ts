/**
 * Every decision the stack makes is one of these events. Drivers and views (narration,
 * pcap, JSON lines, the connection table) subscribe; the engine only emits.
 *
 * Emitting is guarded by `sink.enabled`, so a stack nobody listens to builds no event
 * objects on the hot path.
 */
import type { Millis } from "../env.js";
import type { IpAddress } from "../wire/address.js";
import type { TcpSegment } from "../wire/tcp.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

export type TcpState =
  | "CLOSED"
  | "LISTEN"
  | "SYN_SENT"
  | "SYN_RCVD"
  | "ESTABLISHED"
  | "FIN_WAIT_1"
  | "FIN_WAIT_2"
  | "CLOSE_WAIT"
  | "CLOSING"
  | "LAST_ACK"
  | "TIME_WAIT";

/** Every TcpState, in RFC 9293's order (for checking a name a user gave). */
export const TCP_STATES: readonly TcpState[] = ["CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"];

/**
 * Identifies a connection: local and remote address:port. Addresses are of either family
 * (both of the same one); compare them with `equals` or `key`, never `===`.
 */
export interface FourTuple {
  localAddr: IpAddress;
  localPort: number;
  remoteAddr: IpAddress;
  remotePort: number;
}

export type TimerKind = "rto" | "tlp" | "reorder" | "persist" | "keepalive" | "time-wait" | "fin-wait-2" | "delayed-ack" | "syn-ack" | "pacing";

/** What loss detection and recovery did (RFC 8985 RACK-TLP, RFC 2883 D-SACK, undo). */
export type LossAction = "rack-lost" | "recovery" | "tlp" | "tlp-recovery" | "dsack" | "undo" | "mtu" | "mtu-probe" | "frto";

/** What ECN did (RFC 3168): agreed in the handshake, a CE mark arrived, ECE reduced the window, CWR sent or received. */
export type EcnAction = "negotiated" | "ce-received" | "ece-received" | "cwr-sent" | "cwr-received";

export type DropReason =
  | "malformed"
  | "bad-checksum"
  | "not-for-us"
  | "no-listener"
  | "out-of-window"
  | "bad-ack"
  | "rst-invalid"
  | "duplicate"
  | "ooo-limit"
  | "syn-queue-full"
  | "accept-queue-full"
  | "bad-cookie"
  | "no-ack-flag"
  | "state"
  | "link-queue-full"
  | "link-loss"
  | "link-corrupt";

export type FastOpenAction = "accepted" | "cookie-sent" | "ignored" | "cookie-cached" | "data-acked" | "data-resent";

export type TraceEvent =
  /** `ecn` is the IP header's ECN codepoint (RFC 3168: 0 not-ECT, 2 ECT(0), 1 ECT(1), 3 CE) when not 0. */
  | { type: "segment-out"; time: Millis; host: string; tuple: FourTuple; segment: TcpSegment; retransmit: boolean; ecn?: number }
  | { type: "segment-in"; time: Millis; host: string; tuple: FourTuple; segment: TcpSegment; ecn?: number }
  | { type: "state"; time: Millis; host: string; tuple: FourTuple; from: TcpState; to: TcpState; cause: string }
  | { type: "timer-armed"; time: Millis; host: string; tuple: FourTuple; timer: TimerKind; at: Millis; backoff: number }
  | { type: "timer-fired"; time: Millis; host: string; tuple: FourTuple; timer: TimerKind; backoff: number }
  | { type: "timer-cancelled"; time: Millis; host: string; tuple: FourTuple; timer: TimerKind }
  | { type: "drop"; time: Millis; host: string; reason: DropReason; tuple?: FourTuple; segment?: TcpSegment; detail?: string }
  | { type: "rtt"; time: Millis; host: string; tuple: FourTuple; sample: Millis; srtt: Millis; rttvar: Millis; rto: Millis }
  | { type: "cwnd"; time: Millis; host: string; tuple: FourTuple; cwnd: number; ssthresh: number; cause: string }
  /**
   * BBR (congestion/bbr.ts) changed mode, or its pacing gain within PROBE_BW: its bandwidth estimate `bw` and `pacingRate` in
   * bytes per ms, min RTT in ms, the new cwnd, and why.
   */
  | { type: "bbr"; time: Millis; host: string; tuple: FourTuple; mode: "startup" | "drain" | "probe_bw" | "probe_rtt"; bw: number; minRtt: Millis; pacingRate: number; cwnd: number; detail: string }
  | { type: "loss"; time: Millis; host: string; tuple: FourTuple; action: LossAction; detail: string }
  /** ECN (RFC 3168): negotiated, CE received, ECE acted on (window reduced), CWR sent or received. */
  | { type: "ecn"; time: Millis; host: string; tuple: FourTuple; action: EcnAction; detail: string }
  | { type: "error"; time: Millis; host: string; tuple: FourTuple; code: string; message: string }
  | { type: "queue"; time: Millis; host: string; port: number; synQueue: number; acceptQueue: number }
  | { type: "cookie"; time: Millis; host: string; tuple: FourTuple; action: "sent" | "accepted" | "rejected" }
  /**
   * TCP Fast Open (RFC 7413): a server's decision about a SYN's cookie and data, or a
   * client's about a SYN-ACK (a cookie cached, SYN data acknowledged or to be resent).
   */
  | { type: "fast-open"; time: Millis; host: string; tuple: FourTuple; action: FastOpenAction; detail: string }
  | { type: "link"; time: Millis; link: string; action: LinkAction; reason: string; bytes: number }
  /** Urgent data (RFC 9293 3.8.5, RFC 6093): an urgent write, a new mark received, its byte taken out of band or read. */
  | { type: "urgent"; time: Millis; host: string; tuple: FourTuple; action: UrgentAction; detail: string }
  /**
   * What the application (or a scenario script) did: connect(), listen(), send, close(),
   * a note for the reader. Emitted by drivers, never by the engine, so narrations can show
   * the call that caused the segments and state changes after it.
   */
  | { type: "app"; time: Millis; host: string; call: string; detail?: string; tuple?: FourTuple }
  /**
   * A UDP datagram handed to IP (S33). `length` is the UDP payload. When IP has to cut it
   * to fit the MTU, its `fragment-out` events follow at once; otherwise the packet's link
   * events do.
   */
  | { type: "udp-out"; time: Millis; host: string; tuple: FourTuple; length: number }
  /**
   * A whole UDP datagram (reassembled if it came in fragments) reached UDP, and what became
   * of it: queued for the application, dropped because the socket's receive buffer was
   * full, or no socket. `queuedBytes` of `bufferBytes` were charged to the receive buffer
   * before it arrived (no socket: both 0); `charge` is what this datagram costs the buffer
   * (its length plus the per-datagram overhead the host counts, ip/udp/receive-queue.ts).
   */
  | { type: "udp-in"; time: Millis; host: string; tuple: FourTuple; length: number; outcome: UdpOutcome; queuedBytes: number; bufferBytes: number; charge: number }
  /** One fragment of a datagram IP cut to fit the MTU, as it leaves (offset and length in bytes of IP payload). */
  | { type: "fragment-out"; time: Millis; host: string; src: IpAddress; dst: IpAddress; protocol: number; id: number; offset: number; length: number; more: boolean }
  /** An ICMP error this host sends (port unreachable, time exceeded in reassembly ...). */
  | { type: "icmp-out"; time: Millis; host: string; dst: IpAddress; icmpType: number; code: number };

/** What a link did to a packet; "mark" is an AQM setting CE on an ECT packet (RFC 3168 section 5). */
export type LinkAction = "drop" | "corrupt" | "duplicate" | "delay" | "mark";

/** What UDP did with an arriving datagram. */
export type UdpOutcome = "queued" | "rcvbuf-full" | "no-port";

/** What happened to urgent data: a MSG_OOB write, a new mark from the peer, its byte arriving, read with MSG_OOB. */
export type UrgentAction = "sent" | "mark" | "byte" | "oob-read";

export type TraceEventType = TraceEvent["type"];

/** A consumer of trace events. `enabled` false means emitters skip building events at all. */
export interface TraceSink {
  readonly enabled: boolean;
  emit(event: TraceEvent): void;
}

export const NULL_SINK: TraceSink = { enabled: false, emit() {} };

/** Fans events out to any number of subscribers; disabled while nobody is subscribed. */
export class TraceHub implements TraceSink {
  private readonly subscribers: Array<(e: TraceEvent) => void> = [];
  get enabled(): boolean {
    return this.subscribers.length > 0;
  }
  emit(event: TraceEvent): void {
    for (const s of this.subscribers) s(event);
  }
  /** Returns a function that unsubscribes. */
  subscribe(fn: (e: TraceEvent) => void): () => void {
    // Refused here: anything else would throw at the next event, inside the stack's work.
    if (typeof fn !== "function") throw new InvalidSettingError(`subscribe(fn): fn must be a function, got ${showValue(fn)}`);
    this.subscribers.push(fn);
    return () => {
      const i = this.subscribers.indexOf(fn);
      if (i >= 0) this.subscribers.splice(i, 1);
    };
  }
}
