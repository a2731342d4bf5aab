/**
 * ICMPv6 codec (RFC 4443): echo request and reply, destination unreachable, packet too
 * big, time exceeded and parameter problem. Other types (neighbour discovery, MLD, ...)
 * come back as `kind: "other"` with their raw fields, so the IP layer can count and
 * ignore them rather than drop them as malformed.
 *
 * Unlike ICMPv4, the checksum covers the IPv6 pseudo-header (RFC 4443 section 2.3, RFC 8200
 * section 8.1) and is mandatory. `parseIcmpv6` and `parseIcmpv6Quote` check every length
 * before reading a field and never throw.
 */
import { IpAddress } from "./address.js";
import { finishChecksum, pseudoHeaderSumFor, sumBytes } from "./checksum.js";
import { IPV6_HEADER_LENGTH, IPV6_MIN_MTU, NH_DESTINATION, NH_FRAGMENT, NH_HOP_BY_HOP, NH_ICMPV6, NH_ROUTING } from "./ipv6.js";
import { fail, type ParseResult } from "./result.js";
import { readU16, readU32, writeU16, writeU32 } from "./bytes.js";

export const ICMPV6_HEADER_LENGTH = 8;

// Types (RFC 4443 section 2.1): below 128 errors, from 128 informational messages.
export const ICMPV6_DEST_UNREACHABLE = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAMETER_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;

// Destination unreachable codes (RFC 4443 3.1).
export const UNREACH6_NO_ROUTE = 0;
export const UNREACH6_ADMIN_PROHIBITED = 1;
export const UNREACH6_BEYOND_SCOPE = 2;
export const UNREACH6_ADDRESS = 3;
export const UNREACH6_PORT = 4;
export const UNREACH6_SOURCE_POLICY = 5;
export const UNREACH6_REJECT_ROUTE = 6;

// Time exceeded codes (RFC 4443 3.3).
export const TIME_EXCEEDED6_HOP_LIMIT = 0;
export const TIME_EXCEEDED6_REASSEMBLY = 1;

// Parameter problem codes (RFC 4443 3.4; code 3 from RFC 7112 section 7).
export const PARAM_PROBLEM_HEADER_FIELD = 0;
export const PARAM_PROBLEM_NEXT_HEADER = 1;
export const PARAM_PROBLEM_OPTION = 2;
export const PARAM_PROBLEM_INCOMPLETE_CHAIN = 3;

/**
 * RFC 4443 2.4(c): an error carries as much of the offending packet as fits without the
 * error exceeding the minimum IPv6 MTU: 1280 - 40 (IPv6 header) - 8 (ICMPv6 header).
 */
export const ICMPV6_MAX_QUOTE = IPV6_MIN_MTU - IPV6_HEADER_LENGTH - ICMPV6_HEADER_LENGTH;

// Field offsets (RFC 4443 section 2.1 and 3, 4).
const TYPE = 0;
const CODE = 1;
const CHECKSUM = 2;
/** Echo: identifier and sequence; packet too big: MTU; parameter problem: pointer. */
const REST = 4;
const ECHO_ID = 4;
const ECHO_SEQ = 6;
const BODY = ICMPV6_HEADER_LENGTH;

export interface Icmpv6Echo {
  kind: "echo-request" | "echo-reply";
  id: number;
  seq: number;
  data: Uint8Array;
}

/** Errors carrying the start of the offending packet in `original`. */
export interface Icmpv6DestUnreachable {
  kind: "dest-unreachable";
  code: number;
  original: Uint8Array;
}

export interface Icmpv6PacketTooBig {
  kind: "packet-too-big";
  /** The MTU of the next-hop link (RFC 4443 3.2). */
  mtu: number;
  original: Uint8Array;
}

export interface Icmpv6TimeExceeded {
  kind: "time-exceeded";
  code: number;
  original: Uint8Array;
}

export interface Icmpv6ParameterProblem {
  kind: "parameter-problem";
  code: number;
  /** Offset in `original` of the byte in error (RFC 4443 3.4). */
  pointer: number;
  original: Uint8Array;
}

/** A type this codec does not interpret: its raw fields, checksum verified. */
export interface Icmpv6Other {
  kind: "other";
  type: number;
  code: number;
  /** The 32-bit word at bytes 4..7. */
  rest: number;
  body: Uint8Array;
}

export type Icmpv6Message =
  | Icmpv6Echo
  | Icmpv6DestUnreachable
  | Icmpv6PacketTooBig
  | Icmpv6TimeExceeded
  | Icmpv6ParameterProblem
  | Icmpv6Other;

/** The addresses of the IPv6 packet that carries the message. */
export interface Icmpv6PseudoHeader {
  src: IpAddress;
  dst: IpAddress;
}

/** RFC 4443 2.1: types 0..127 are errors (never sent about another error, 2.4(e)). */
export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

/**
 * Parses an ICMPv6 message (the upper-layer payload). With a pseudo-header the checksum is
 * verified (RFC 4443 2.3); pass null only where the link guarantees integrity.
 */
export function parseIcmpv6(bytes: Uint8Array, pseudo: Icmpv6PseudoHeader | null): ParseResult<Icmpv6Message> {
  if (bytes.length < ICMPV6_HEADER_LENGTH) return fail("truncated");
  if (pseudo !== null) {
    const sum = sumBytes(bytes, 0, bytes.length, pseudoHeaderSumFor(pseudo.src, pseudo.dst, NH_ICMPV6, bytes.length));
    if (finishChecksum(sum) !== 0) return fail("bad-checksum");
  }
  const type = bytes[TYPE]!;
  const code = bytes[CODE]!;
  const body = bytes.subarray(BODY);
  switch (type) {
    case ICMPV6_ECHO_REQUEST:
    case ICMPV6_ECHO_REPLY:
      return {
        ok: true,
        value: { kind: type === ICMPV6_ECHO_REQUEST ? "echo-request" : "echo-reply", id: readU16(bytes, ECHO_ID), seq: readU16(bytes, ECHO_SEQ), data: body },
      };
    case ICMPV6_DEST_UNREACHABLE:
      return { ok: true, value: { kind: "dest-unreachable", code, original: body } };
    case ICMPV6_PACKET_TOO_BIG:
      // RFC 4443 3.2: the originator sets Code 0 and the receiver ignores it.
      return { ok: true, value: { kind: "packet-too-big", mtu: readU32(bytes, REST), original: body } };
    case ICMPV6_TIME_EXCEEDED:
      return { ok: true, value: { kind: "time-exceeded", code, original: body } };
    case ICMPV6_PARAMETER_PROBLEM:
      return { ok: true, value: { kind: "parameter-problem", code, pointer: readU32(bytes, REST), original: body } };
    default:
      return { ok: true, value: { kind: "other", type, code, rest: readU32(bytes, REST), body } };
  }
}

/** Bytes the message occupies on the wire. */
export function icmpv6Length(m: Icmpv6Message): number {
  return ICMPV6_HEADER_LENGTH + icmpv6Body(m).length;
}

/** Writes the message at buf[offset] with its checksum over `pseudo` and returns its length. */
export function emitIcmpv6(m: Icmpv6Message, buf: Uint8Array, offset: number, pseudo: Icmpv6PseudoHeader): number {
  const body = icmpv6Body(m);
  const length = ICMPV6_HEADER_LENGTH + body.length;
  let type: number;
  let code: number;
  let rest: number;
  switch (m.kind) {
    case "echo-request":
    case "echo-reply":
      type = m.kind === "echo-request" ? ICMPV6_ECHO_REQUEST : ICMPV6_ECHO_REPLY;
      code = 0;
      rest = ((m.id & 0xffff) << 16) | (m.seq & 0xffff);
      break;
    case "dest-unreachable":
      // RFC 4443 3.1: the second word is unused, zero on send.
      type = ICMPV6_DEST_UNREACHABLE;
      code = m.code;
      rest = 0;
      break;
    case "packet-too-big":
      type = ICMPV6_PACKET_TOO_BIG;
      code = 0;
      rest = m.mtu;
      break;
    case "time-exceeded":
      type = ICMPV6_TIME_EXCEEDED;
      code = m.code;
      rest = 0;
      break;
    case "parameter-problem":
      type = ICMPV6_PARAMETER_PROBLEM;
      code = m.code;
      rest = m.pointer;
      break;
    case "other":
      type = m.type;
      code = m.code;
      rest = m.rest;
      break;
  }
  buf[offset + TYPE] = type;
  buf[offset + CODE] = code;
  writeU16(buf, offset + CHECKSUM, 0);
  writeU32(buf, offset + REST, rest >>> 0);
  buf.set(body, offset + BODY);
  const sum = sumBytes(buf, offset, offset + length, pseudoHeaderSumFor(pseudo.src, pseudo.dst, NH_ICMPV6, length));
  writeU16(buf, offset + CHECKSUM, finishChecksum(sum));
  return length;
}

function icmpv6Body(m: Icmpv6Message): Uint8Array {
  switch (m.kind) {
    case "echo-request":
    case "echo-reply":
      return m.data;
    case "other":
      return m.body;
    default:
      return m.original;
  }
}

/** Bytes of the upper-layer header a quote must hold: ports, and for TCP the sequence number. */
export const ICMPV6_QUOTE_TRANSPORT_BYTES = 8;

/** What the IP and transport layers need from the packet quoted in an ICMPv6 error. */
export interface Icmpv6Quote {
  src: IpAddress;
  dst: IpAddress;
  /** The upper-layer protocol, found past any extension headers. */
  protocol: number;
  /** Offset in the quote where the upper-layer header starts. */
  headerLength: number;
  /** The quoted upper-layer bytes: at least 8. */
  transport: Uint8Array;
}

/**
 * Reads the packet quoted by an error. The quote is a prefix of a packet, so its Payload
 * Length is not checked against it; the extension headers it walks must lie inside it.
 * A quote of a fragment other than the first holds no upper-layer header ("bad-fragment").
 */
export function parseIcmpv6Quote(original: Uint8Array): ParseResult<Icmpv6Quote> {
  if (original.length < IPV6_HEADER_LENGTH) return fail("truncated");
  if (original[0]! >>> 4 !== 6) return fail("bad-version");
  let nh = original[6]!;
  let at = IPV6_HEADER_LENGTH;
  for (;;) {
    if (nh === NH_HOP_BY_HOP || nh === NH_DESTINATION || nh === NH_ROUTING) {
      if (at + 2 > original.length) return fail("truncated");
      nh = original[at]!;
      at += (original[at + 1]! + 1) * 8;
    } else if (nh === NH_FRAGMENT) {
      if (at + 8 > original.length) return fail("truncated");
      if ((readU16(original, at + 2) & 0xfff8) !== 0) return fail("bad-fragment");
      nh = original[at]!;
      at += 8;
    } else {
      break;
    }
  }
  if (at + ICMPV6_QUOTE_TRANSPORT_BYTES > original.length) return fail("truncated");
  return {
    ok: true,
    value: {
      src: IpAddress.fromBytes(original, 8, 6),
      dst: IpAddress.fromBytes(original, 24, 6),
      protocol: nh,
      headerLength: at,
      transport: original.subarray(at),
    },
  };
}
