/**
 * A parsed packetdrill script. Times are integer microseconds, as packetdrill keeps them,
 * so that `+.001` adds exactly 1000 and tolerances compare without rounding.
 */
import type { SourcePos } from "./errors.js";

export type Usecs = number;

export interface Script {
  file: string;
  /** `--name=value` lines at the top (value undefined for a bare `--name`). */
  options: ScriptOption[];
  /** The first backquoted command, run before the events (usually defaults.sh). */
  initCommand: Command | undefined;
  events: DrillEvent[];
  /** A backquoted command after the last event (packetdrill runs it at the end). */
  cleanupCommand: Command | undefined;
}

export interface ScriptOption {
  name: string;
  value: string | undefined;
  pos: SourcePos;
}

export interface Command {
  text: string;
  pos: SourcePos;
}

/** When an event happens. Relative times count from the previous event (see runner.ts). */
export type EventTime =
  | { kind: "absolute"; at: Usecs }
  | { kind: "relative"; offset: Usecs }
  | { kind: "any" }
  | { kind: "range"; relative: boolean; from: Usecs; to: Usecs };

export interface DrillEvent {
  pos: SourcePos;
  time: EventTime;
  action: Action;
}

export type Action = TcpPacketSpec | UdpPacketSpec | IcmpPacketSpec | SyscallSpec | CommandAction | CodeAction;

export type Direction = "in" | "out";

/** IP-level marks: `[ect0]`, `[noecn]`, `(tos 0x4)`, `(ttl 1)`, `[ce]`. */
export interface IpInfo {
  ecn?: "noecn" | "ect0" | "ect1" | "ce" | "ect01";
  tos?: number;
  ttl?: number;
  flowLabel?: number;
}

export interface SeqSpec {
  start: number;
  end: number;
  len: number;
}

export interface TcpPacketSpec {
  type: "tcp";
  direction: Direction;
  ip: IpInfo;
  /** The flag letters as written, e.g. "S.", "P.", "FP.", "-". */
  flagText: string;
  /** The flag bits (wire/tcp.ts constants). */
  flags: number;
  seq: SeqSpec;
  ack: number | undefined;
  win: number | undefined;
  urg: number | undefined;
  /** undefined: no options allowed; "any": `<...>`, not checked. */
  options: TcpOptionSpec[] | "any" | undefined;
}

export type TcpOptionSpec =
  | { kind: "nop" }
  | { kind: "eol" }
  | { kind: "mss"; value: number }
  | { kind: "wscale"; value: number }
  | { kind: "sackOK" }
  | { kind: "sack"; blocks: Array<[number, number]> }
  | { kind: "ts"; val: number; ecr: number }
  | { kind: "md5"; hex: string }
  | { kind: "fo"; cookie: string | undefined }
  | { kind: "foexp"; cookie: string | undefined }
  /** An option of another kind, written `kind N [hex]`: carried and compared by its bytes. */
  | { kind: "other"; code: number; hex: string };

export interface UdpPacketSpec {
  type: "udp";
  direction: Direction;
  ip: IpInfo;
  len: number;
}

export interface IcmpPacketSpec {
  type: "icmp";
  direction: Direction;
  ip: IpInfo;
  /** "unreachable", "packet_too_big", "time_exceeded", "echo_request", ... */
  icmpType: string;
  /** "frag_needed", "host_unreachable", "port_unreachable", ... */
  icmpCode: string | undefined;
  mtu: number | undefined;
  /** The quoted packet: a TCP sequence range, or UDP/raw with a length. */
  echoed: { kind: "tcp"; seq: SeqSpec } | { kind: "udp" | "raw"; len: number } | undefined;
}

export interface SyscallSpec {
  type: "syscall";
  name: string;
  args: Expr[];
  /** The blocking call's return time (`+0...0.200`), in the same terms as the event time. */
  end: Usecs | undefined;
  result: Expr;
  errno: string | undefined;
  note: string | undefined;
}

export interface CommandAction {
  type: "command";
  text: string;
}

export interface CodeAction {
  type: "code";
  text: string;
}

/** System call arguments: packetdrill's C-like expressions. */
export type Expr =
  | { type: "ellipsis"; pos: SourcePos }
  | { type: "int"; value: number; pos: SourcePos }
  | { type: "word"; name: string; pos: SourcePos }
  | { type: "string"; value: string; ellipsis: boolean; pos: SourcePos }
  | { type: "or"; operands: Expr[]; pos: SourcePos }
  | { type: "field"; name: string; index: Expr[] | undefined; value: Expr; pos: SourcePos }
  | { type: "array"; items: Expr[]; pos: SourcePos }
  | { type: "struct"; items: Expr[]; pos: SourcePos }
  | { type: "call"; name: string; args: Expr[]; pos: SourcePos }
  | { type: "null"; pos: SourcePos };
