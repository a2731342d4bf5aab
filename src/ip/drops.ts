/**
 * Why the IP layer (and UDP, ICMP, reassembly) threw a packet away, counted per reason and
 * traced as `drop` events.
 *
 * The reasons are finer than the trace union's `DropReason` (src/trace/events.ts, owned
 * elsewhere): each one maps to the closest trace reason, and the fine reason leads the
 * event's `detail` ("frag-timeout: ..."), so nothing is lost in a trace. The counters keep
 * the fine reason as their key.
 */
import type { Millis } from "../env.js";
import type { DropReason, TraceSink } from "../trace/events.js";

export type IpDropReason =
  /** Header or transport parse failed (RFC 791 3.1, RFC 1122 3.2.1.1-3.2.1.8). */
  | "malformed"
  | "bad-checksum"
  /** Destination is not one of this host's addresses (hosts do not forward). */
  | "not-for-us"
  /** Source address can not be a host: 0/8, 127/8, 224/4, 255.255.255.255 (RFC 1122 3.2.1.3), or is our own, from the link (Linux fib_validate_source). */
  | "martian-source"
  /** No transport for the protocol number (RFC 1122 3.2.2.1: protocol unreachable). */
  | "unknown-protocol"
  /** UDP datagram for a port nobody bound (RFC 1122 4.1.3.1: port unreachable). */
  | "no-port"
  /** The UDP socket's receive buffer is full (S33). */
  | "rcvbuf-full"
  /** Outgoing packet without a route (or a route that says unreachable). */
  | "no-route"
  /** Outgoing packet larger than the MTU with DF set. */
  | "too-big"
  /** A fragment overlapped one already held: the whole datagram is dropped (RFC 5722 rule). */
  | "frag-overlap"
  /** A fragment claims bytes beyond 65,535 or contradicts the datagram's known length. */
  | "frag-invalid"
  /** A fragment whose bytes are all held already (the datagram is kept). */
  | "frag-duplicate"
  /** Reassembly gave up after the timeout (RFC 791 3.2, RFC 1122 3.3.2; Linux ipfrag_time). */
  | "frag-timeout"
  /** Reassembly memory or the limit on concurrent datagrams is exhausted. */
  | "frag-limit"
  /** An ICMP error suppressed by the rate limit (Linux icmp_ratelimit, icmp_msgs_per_sec). */
  | "icmp-ratelimit"
  /** An ICMP message this host ignores (unknown type, error for an unsupported transport). */
  | "icmp-ignored";

/** The nearest reason in the trace union, until it grows IP-specific members. */
const TRACE_REASON: Readonly<Record<IpDropReason, DropReason>> = {
  "malformed": "malformed",
  "bad-checksum": "bad-checksum",
  "not-for-us": "not-for-us",
  "martian-source": "malformed",
  "unknown-protocol": "no-listener",
  "no-port": "no-listener",
  "rcvbuf-full": "accept-queue-full",
  "no-route": "not-for-us",
  "too-big": "malformed",
  "frag-overlap": "malformed",
  "frag-invalid": "malformed",
  "frag-duplicate": "duplicate",
  "frag-timeout": "ooo-limit",
  "frag-limit": "ooo-limit",
  "icmp-ratelimit": "state",
  "icmp-ignored": "state",
};

export function traceReason(reason: IpDropReason): DropReason {
  return TRACE_REASON[reason];
}

/** Counts and traces drops for one host. */
export class DropRecorder {
  constructor(
    private readonly hostName: string,
    private readonly trace: TraceSink,
    /** The counters object the host exposes; shared with the TCP-era `counters.drops`. */
    readonly counts: Partial<Record<IpDropReason | DropReason, number>>,
  ) {}

  /**
   * Counts a drop and traces it. `detail` may be a function so that floods of drops build
   * no strings while nobody listens.
   */
  drop(now: Millis, reason: IpDropReason, detail: string | (() => string)): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    if (this.trace.enabled) {
      const mapped = traceReason(reason);
      const text = typeof detail === "string" ? detail : detail();
      this.trace.emit({ type: "drop", time: now, host: this.hostName, reason: mapped, detail: mapped === reason ? text : `${reason}: ${text}` });
    }
  }
}
