/**
 * ICMPv4 codec (RFC 792): echo request/reply, destination unreachable and time exceeded.
 * Fragmentation-needed carries the next-hop MTU (RFC 1191 section 4). Other types are
 * returned as `kind: "other"` with their raw fields, so the IP layer can count and ignore
 * them rather than drop them as malformed.
 *
 * The checksum covers the whole ICMP message and has no pseudo-header. `parseIcmp` and
 * `parseIcmpQuote` check every length before reading a field and never throw.
 */
import { internetChecksum } from "./checksum.js";
import { readU32, writeU16, writeU32 } from "./ipv4.js";
import { fail, type ParseResult } from "./result.js";

export const ICMP_HEADER_LENGTH = 8;

// Types (RFC 792).
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;

// Destination unreachable codes (RFC 792, RFC 1191, RFC 1812 5.2.7.1).
export const UNREACH_NET = 0;
export const UNREACH_HOST = 1;
export const UNREACH_PROTOCOL = 2;
export const UNREACH_PORT = 3;
export const UNREACH_FRAG_NEEDED = 4;
export const UNREACH_ADMIN_PROHIBITED = 13;

// Time exceeded codes (RFC 792).
export const TIME_EXCEEDED_TTL = 0;
export const TIME_EXCEEDED_REASSEMBLY = 1;

// Field offsets (RFC 792).
const TYPE = 0;
const CODE = 1;
const CHECKSUM = 2;
/** Echo: identifier and sequence number; errors: unused (or next-hop MTU). */
const REST = 4;
const ECHO_ID = 4;
const ECHO_SEQ = 6;
const NEXT_HOP_MTU = 6;
const BODY = ICMP_HEADER_LENGTH;

export interface IcmpEcho {
  kind: "echo-request" | "echo-reply";
  id: number;
  seq: number;
  data: Uint8Array;
}

export interface IcmpDestUnreachable {
  kind: "dest-unreachable";
  code: number;
  /** Next-hop MTU for code UNREACH_FRAG_NEEDED (RFC 1191); 0 for every other code. */
  nextHopMtu: number;
  /** The start of the offending datagram: its IP header and at least 8 bytes after it. */
  original: Uint8Array;
}

export interface IcmpTimeExceeded {
  kind: "time-exceeded";
  code: number;
  /** The start of the offending datagram: its IP header and at least 8 bytes after it. */
  original: Uint8Array;
}

/** A type this codec does not interpret: its raw fields, checksum verified. */
export interface IcmpOther {
  kind: "other";
  type: number;
  code: number;
  /** The 32-bit "rest of header" word at bytes 4..7. */
  rest: number;
  body: Uint8Array;
}

export type IcmpMessage = IcmpEcho | IcmpDestUnreachable | IcmpTimeExceeded | IcmpOther;

export interface IcmpParseOptions {
  /** Verify the checksum (default true). */
  verifyChecksum?: boolean;
}

/**
 * Parses an ICMP message (the IP payload). The quoted datagram of an error is returned as
 * bytes; `parseIcmpQuote` reads what a transport needs from it.
 */
export function parseIcmp(bytes: Uint8Array, options: IcmpParseOptions = {}): ParseResult<IcmpMessage> {
  if (bytes.length < ICMP_HEADER_LENGTH) return fail("truncated");
  if (options.verifyChecksum !== false && internetChecksum(bytes) !== 0) return fail("bad-checksum");
  const type = bytes[TYPE]!;
  const code = bytes[CODE]!;
  const body = bytes.subarray(BODY);
  switch (type) {
    case ICMP_ECHO_REQUEST:
    case ICMP_ECHO_REPLY:
      return {
        ok: true,
        value: {
          kind: type === ICMP_ECHO_REQUEST ? "echo-request" : "echo-reply",
          id: readU16(bytes, ECHO_ID),
          seq: readU16(bytes, ECHO_SEQ),
          data: body,
        },
      };
    case ICMP_DEST_UNREACHABLE:
      return {
        ok: true,
        value: {
          kind: "dest-unreachable",
          code,
          // The field is "unused" for other codes and must be ignored (RFC 1191 section 4).
          nextHopMtu: code === UNREACH_FRAG_NEEDED ? readU16(bytes, NEXT_HOP_MTU) : 0,
          original: body,
        },
      };
    case ICMP_TIME_EXCEEDED:
      return { ok: true, value: { kind: "time-exceeded", code, original: body } };
    default:
      return { ok: true, value: { kind: "other", type, code, rest: readU32(bytes, REST), body } };
  }
}

/** Bytes the message occupies on the wire. */
export function icmpLength(m: IcmpMessage): number {
  return ICMP_HEADER_LENGTH + icmpBody(m).length;
}

/** Writes the message at buf[offset] with its checksum and returns its length. */
export function emitIcmp(m: IcmpMessage, buf: Uint8Array, offset: number): number {
  const body = icmpBody(m);
  const length = ICMP_HEADER_LENGTH + body.length;
  switch (m.kind) {
    case "echo-request":
    case "echo-reply":
      buf[offset + TYPE] = m.kind === "echo-request" ? ICMP_ECHO_REQUEST : ICMP_ECHO_REPLY;
      buf[offset + CODE] = 0;
      writeU16(buf, offset + ECHO_ID, m.id);
      writeU16(buf, offset + ECHO_SEQ, m.seq);
      break;
    case "dest-unreachable":
      buf[offset + TYPE] = ICMP_DEST_UNREACHABLE;
      buf[offset + CODE] = m.code;
      writeU16(buf, offset + REST, 0);
      writeU16(buf, offset + NEXT_HOP_MTU, m.code === UNREACH_FRAG_NEEDED ? m.nextHopMtu : 0);
      break;
    case "time-exceeded":
      buf[offset + TYPE] = ICMP_TIME_EXCEEDED;
      buf[offset + CODE] = m.code;
      writeU32(buf, offset + REST, 0);
      break;
    case "other":
      buf[offset + TYPE] = m.type;
      buf[offset + CODE] = m.code;
      writeU32(buf, offset + REST, m.rest);
      break;
  }
  writeU16(buf, offset + CHECKSUM, 0);
  buf.set(body, offset + BODY);
  writeU16(buf, offset + CHECKSUM, internetChecksum(buf, offset, offset + length));
  return length;
}

function icmpBody(m: IcmpMessage): Uint8Array {
  switch (m.kind) {
    case "echo-request":
    case "echo-reply":
      return m.data;
    case "dest-unreachable":
    case "time-exceeded":
      return m.original;
    case "other":
      return m.body;
  }
}

/** Bytes of transport header an ICMP error must quote after the IP header (RFC 792). */
export const ICMP_QUOTE_TRANSPORT_BYTES = 8;

/** What the IP and transport layers need from the datagram quoted in an ICMP error. */
export interface IcmpQuote {
  src: number;
  dst: number;
  protocol: number;
  /** The quoted IP header's length including options. */
  headerLength: number;
  /** The quoted transport bytes: at least 8 (ports, and for TCP the sequence number). */
  transport: Uint8Array;
}

// Offsets inside the quoted IPv4 header (RFC 791 section 3.1).
const Q_VER_IHL = 0;
const Q_PROTOCOL = 9;
const Q_SRC = 12;
const Q_DST = 16;
const Q_MIN_HEADER = 20;

/**
 * Reads the quoted datagram of a destination-unreachable or time-exceeded message. The
 * quote is a prefix of a packet, so its total length and checksum are not checked; its
 * version and header length are, and it must hold 8 bytes past the header.
 */
export function parseIcmpQuote(original: Uint8Array): ParseResult<IcmpQuote> {
  if (original.length < Q_MIN_HEADER) return fail("truncated");
  const verIhl = original[Q_VER_IHL]!;
  if (verIhl >> 4 !== 4) return fail("bad-version");
  const headerLength = (verIhl & 0x0f) * 4;
  if (headerLength < Q_MIN_HEADER) return fail("bad-header-length");
  if (original.length < headerLength + ICMP_QUOTE_TRANSPORT_BYTES) return fail("truncated");
  return {
    ok: true,
    value: {
      src: readU32(original, Q_SRC),
      dst: readU32(original, Q_DST),
      protocol: original[Q_PROTOCOL]!,
      headerLength,
      transport: original.subarray(headerLength),
    },
  };
}

function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
