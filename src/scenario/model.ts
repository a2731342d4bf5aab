/**
 * A scenario: hosts on links, scripted faults, a timed script of application calls, and
 * the facts the run must show. Built-in scenarios are values of this type and user files
 * are JSON of the same shape (validate.ts checks them), so anything a built-in does a
 * user can do without TypeScript.
 *
 * Times are milliseconds, or strings with a unit ("2.5s", "100ms", "2min", "1h").
 * Sequence numbers in expectations use the narration's names: x is the first host's
 * initial sequence number, y the second's, so `"ack": "x+1"` reads like the documents.
 */
import type { TcpConfig } from "../tcp/config.js";
import type { DropReason, EcnAction, LossAction, TcpState, TimerKind } from "../trace/events.js";

export type TimeSpec = number | string;

export interface ScenarioSpec {
  /** Short name, used by `synack demo <name>`. */
  name: string;
  /** One line shown above the narration. */
  title?: string;
  /** What the scenario shows and why it matters (printed by --list and --explain). */
  description?: string;
  /** The seed behaviours (S1 ... S35) it demonstrates. */
  behaviours?: string[];
  seed?: number;
  hosts: HostSpec[];
  links?: LinkSpec[];
  faults?: FaultSpec[];
  script: ActionSpec[];
  expect?: ExpectSpec[];
  /** Stop the simulation at this time. Default: when nothing is left to do. */
  until?: TimeSpec;
  narrate?: { focus?: string[] };
}

export interface HostSpec {
  name: string;
  /** Dotted IPv4 address. */
  address: string;
  /** "tcp" (default): a synack host. "raw": sends crafted packets only (a SYN flooder). */
  kind?: "tcp" | "raw";
  mtu?: number;
  tcp?: Partial<TcpConfig>;
}

export interface LinkSettings {
  delay?: TimeSpec;
  jitter?: TimeSpec;
  loss?: number;
  duplicate?: number;
  reorder?: number;
  reorderDelay?: TimeSpec;
  corrupt?: number;
  /** Bits per second. */
  rate?: number;
  queueLimit?: number;
  mtu?: number;
  /** A too-big packet gets ICMP "fragmentation needed" / "packet too big" back, instead of vanishing. */
  mtuErrors?: boolean;
  /** AQM at the bottleneck (needs `rate`): above `markAbove` waiting packets, CE-mark ECT packets and drop the rest (RFC 3168). */
  aqm?: { markAbove: number };
}

/** Both directions between two hosts (`between`), or one direction (`from`/`to`). */
export type LinkSpec = LinkSettings & ({ between: [string, string] } | { from: string; to: string });

/** Which TCP segments a fault or expectation is about. Flags are written "SYN,ACK". */
export interface MatchSpec {
  /** Exactly these flags. */
  flags?: string;
  /** At least these flags. */
  hasFlags?: string;
  /** None of these flags. */
  lacksFlags?: string;
  /** true: carries payload; false: carries none. */
  data?: boolean;
}

/**
 * What a fault applies to: TCP segments by flags and data (the default), or UDP packets
 * (`protocol: "udp"`), optionally only fragments (`fragment: true`: MF set or a non-zero
 * offset) or only unfragmented ones (`false`).
 */
export interface PacketMatchSpec extends MatchSpec {
  protocol?: "tcp" | "udp";
  fragment?: boolean;
}

export interface FaultSpec {
  from: string;
  to: string;
  match?: PacketMatchSpec;
  /** Which matching segments (1 = the first); default every one. */
  nth?: number[];
  action: "drop" | "delay" | "corrupt" | "duplicate";
  /** For "delay": how much longer the segment takes. */
  by?: TimeSpec;
}

interface At {
  at: TimeSpec;
}

/** `conn` names a connection; `host` alone means the connection named after the host. */
interface Target {
  conn?: string;
  host?: string;
}

/** `socket` names a UDP socket (given by `as`); `host` alone means the socket named after the host. */
interface UdpTarget {
  socket?: string;
  host?: string;
}

export type ActionSpec =
  | (At & { do: "listen"; host: string; port: number; backlog?: number; accept?: boolean; as?: string; fastOpen?: number })
  | (At & { do: "connect"; host: string; to: string; port: number; localPort?: number; as?: string; fastOpen?: boolean })
  /** `urgent`: MSG_OOB, the last byte is urgent (RFC 9293 3.8.5; the peer gets it out of band). */
  | (At & Target & { do: "send"; bytes?: number; text?: string; urgent?: boolean })
  | (At & Target & { do: "shutdown" | "close" | "abort" | "stop-reading" | "read" })
  | (At & Target & { do: "keepalive"; enabled?: boolean })
  | (At & { do: "unplug" | "plug"; host: string })
  | (At & { do: "syn-flood"; host: string; target: string; port: number; count: number; interval?: TimeSpec; spoof?: string })
  | (At & { do: "note"; text: string })
  | (At & { do: "ss"; host: string })
  /** A UDP socket on `port`; `rcvbuf` bounds its receive buffer in bytes; `reading: false` leaves datagrams queued until `udp-read`. */
  | (At & { do: "udp-bind"; host: string; port: number; as?: string; rcvbuf?: number; reading?: boolean })
  /** `count` datagrams (default 1) of `size` bytes (or `text`), one every `interval` (default all at once). */
  | (At & UdpTarget & { do: "udp-send"; to: string; port: number; size?: number; text?: string; count?: number; interval?: TimeSpec })
  /** The application reads up to `count` queued datagrams (default all of them). */
  | (At & UdpTarget & { do: "udp-read"; count?: number })
  /** The host's UDP, IP fragment and ICMP counters in the narration, like `netstat -su`. */
  | (At & { do: "netstat"; host: string });

export type ActionKind = ActionSpec["do"];

type Bound = { equals?: number; atLeast?: number; atMost?: number };

export type ExpectSpec =
  | { expect: "states"; conn?: string; host?: string; sequence: TcpState[] }
  | { expect: "state"; conn?: string; host?: string; state: TcpState; at?: TimeSpec }
  | { expect: "error"; conn?: string; host?: string; code: string; at?: TimeSpec }
  | ({ expect: "segment"; from: string; to?: string; nth?: number; at?: TimeSpec; seq?: string | number; ack?: string | number; len?: number; window?: number; retransmit?: boolean; urg?: number } & MatchSpec)
  | ({ expect: "segments"; from: string; to?: string; times?: TimeSpec[]; count?: number } & MatchSpec)
  | { expect: "timer"; conn?: string; host?: string; timer: TimerKind; armed?: TimeSpec[]; fired?: TimeSpec[] }
  /** `oob`: the urgent bytes the application took out of band (recv with MSG_OOB), in order. */
  | { expect: "received"; conn?: string; host?: string; bytes?: number; text?: string; eof?: boolean; oob?: string }
  | ({ expect: "count"; host: string; state: TcpState; at: TimeSpec } & Bound)
  | ({ expect: "drops"; host?: string; link?: string; reason: DropReason | string; times?: TimeSpec[] } & Bound)
  /** Loss detection and recovery events of a host (RACK marks, tail loss probes, D-SACKs, undo). */
  | ({ expect: "recovery"; host: string; action: LossAction; times?: TimeSpec[] } & Bound)
  /** ECN events of a host (RFC 3168): agreed, CE received, window reduced for ECE, CWR sent or received. */
  | ({ expect: "ecn"; host: string; action: EcnAction; times?: TimeSpec[] } & Bound)
  /** BBR (congestionControl "bbr") entered `mode` a number of times (for probe_bw, each gain change counts). */
  | ({ expect: "bbr"; host: string; mode: "drain" | "probe_bw" | "probe_rtt" | "startup"; times?: TimeSpec[] } & Bound)
  /** What a UDP socket's application saw: datagrams sent, read (and their bytes), dropped for a full receive buffer. */
  | { expect: "udp"; socket?: string; host?: string; sent?: number; read?: number; readBytes?: number; dropped?: number }
  /** A host's counters at the end, by group and name as in `host.counters` (`udp.rcvbufErrors`, `reassembly.timeouts` ...). */
  | { expect: "counters"; host: string; udp?: Record<string, number>; ip?: Record<string, number>; icmp?: Record<string, number>; reassembly?: Record<string, number> }
  | { expect: "call-error"; host: string; code: string; at?: TimeSpec };

export type ExpectKind = ExpectSpec["expect"];
