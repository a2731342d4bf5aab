/**
 * TCP header and options codec (RFC 9293 section 3.1; options from RFC 9293 3.2,
 * RFC 7323 window scale and timestamps, RFC 2018 SACK).
 *
 * `parseTcp` checks every length before reading a field and never throws; illegal
 * flag combinations are rejected here so the engine never sees them.
 */
import type { IpAddress } from "./address.js";
import { finishChecksum, pseudoSumOf, sumBytes } from "./checksum.js";
import { PROTO_TCP, readU32, writeU16, writeU32 } from "./ipv4.js";
import { fail, type ParseError, type ParseResult } from "./result.js";
import type { Seq } from "./seq.js";

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

export const TCP_MIN_HEADER = 20;
export const TCP_MAX_HEADER = 60;

// Field offsets (RFC 9293 figure 1).
const SRC_PORT = 0;
const DST_PORT = 2;
const SEQ = 4;
const ACK_NUM = 8;
const DATA_OFFSET = 12;
const FLAGS = 13;
const WINDOW = 14;
const CHECKSUM = 16;
const URGENT = 18;

// Option kinds.
export const OPT_EOL = 0;
export const OPT_NOP = 1;
export const OPT_MSS = 2;
export const OPT_WSCALE = 3;
export const OPT_SACK_PERMITTED = 4;
export const OPT_SACK = 5;
export const OPT_TIMESTAMP = 8;
/** TCP Fast Open cookie (RFC 7413 4.1.1, IANA kind 34). */
export const OPT_FAST_OPEN = 34;
/** Experimental options (RFC 6994); Fast Open's pre-IANA form is kind 254 with this magic. */
export const OPT_EXPERIMENTAL = 254;
export const FAST_OPEN_EXP_MAGIC = 0xf989;

/** A SACK block: the peer holds bytes [left, right). */
export interface SackBlock {
  left: Seq;
  right: Seq;
}

export interface TcpOptions {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sackBlocks?: SackBlock[];
  timestamp?: { value: number; echo: number };
  /**
   * A Fast Open option (RFC 7413): an empty cookie is a cookie request. `exp` marks the
   * experimental form (kind 254, magic 0xF989) that Linux still answers in kind.
   */
  fastOpen?: FastOpenOption;
}

export interface FastOpenOption {
  cookie: Uint8Array;
  exp: boolean;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: Seq;
  ack: Seq;
  flags: number;
  /** The raw 16-bit window field (unscaled). */
  window: number;
  urgentPointer: number;
  options: TcpOptions;
  payload: Uint8Array;
}

/**
 * Addresses for the pseudo-header checksum: RFC 9293 3.1 for IPv4 (uint32s or IpAddress),
 * RFC 8200 8.1 for IPv6 (IpAddress). `pseudoHeaderSumFor` covers both layouts.
 */
export interface PseudoHeader {
  src: number | IpAddress;
  dst: number | IpAddress;
}

export const NO_OPTIONS: TcpOptions = Object.freeze({}) as TcpOptions;

/**
 * Parses a TCP segment. With a pseudo-header the checksum is verified; pass null to skip
 * verification (a link that already checked it, or a conformance script). The segment is
 * bytes [start, end) of `bytes`, all of them by default.
 */
export function parseTcp(bytes: Uint8Array, pseudo: PseudoHeader | null, start = 0, end = bytes.length): ParseResult<TcpSegment> {
  const seg = readTcp(bytes, pseudo, start, end);
  return typeof seg === "string" ? fail(seg) : { ok: true, value: seg };
}

/**
 * parseTcp for the receive path: the segment, or why it is none, without a result object
 * around it. The segment is read where it lies in `bytes` (the IP packet it came in), so
 * no view of it is made first; only its payload gets one.
 */
export function readTcp(bytes: Uint8Array, pseudo: PseudoHeader | null, start: number, end: number): TcpSegment | ParseError {
  const length = end - start;
  if (length < TCP_MIN_HEADER) return "truncated";
  const headerLength = (bytes[start + DATA_OFFSET]! >> 4) * 4;
  if (headerLength < TCP_MIN_HEADER) return "bad-data-offset";
  if (headerLength > length) return "truncated";
  if (pseudo !== null) {
    const sum = sumBytes(bytes, start, end, pseudoSumOf(pseudo.src, pseudo.dst, PROTO_TCP, length));
    if (finishChecksum(sum) !== 0) return "bad-checksum";
  }
  // Any flag combination parses: what SYN with FIN or RST means depends on the receiver's
  // state (a listener discards SYN+FIN, a Fast Open client accepts a SYN-ACK with FIN, Linux
  // tcp_rcv_state_process / tcp_rcv_synsent_state_process), so the TCP layer decides.
  const options = headerLength > TCP_MIN_HEADER ? parseOptions(bytes, start + TCP_MIN_HEADER, start + headerLength) : NO_OPTIONS;
  return {
    srcPort: (bytes[start + SRC_PORT]! << 8) | bytes[start + SRC_PORT + 1]!,
    dstPort: (bytes[start + DST_PORT]! << 8) | bytes[start + DST_PORT + 1]!,
    seq: readU32(bytes, start + SEQ) as Seq,
    ack: readU32(bytes, start + ACK_NUM) as Seq,
    flags: bytes[start + FLAGS]!,
    window: (bytes[start + WINDOW]! << 8) | bytes[start + WINDOW + 1]!,
    urgentPointer: (bytes[start + URGENT]! << 8) | bytes[start + URGENT + 1]!,
    options,
    // A bare ACK shares one empty payload instead of a view of its own.
    payload: headerLength === length ? NO_PAYLOAD : bytes.subarray(start + headerLength, end),
  };
}

/** The payload of every received segment that has none (never written: it has no bytes). */
const NO_PAYLOAD = new Uint8Array(0);

/**
 * Reads options as Linux's tcp_parse_options does, which never refuses a segment for its
 * options: an option of known kind with a wrong length is ignored (an MSS of 0 too: the
 * default 536 then applies, RFC 9293 3.7.1), and a "silly" length (below 2) or one that
 * runs past the header ends the parsing there, keeping what was read before. Dropping such
 * segments, as synack did, stalled every connection with a peer that sends them. Unknown
 * kinds are skipped by their length (RFC 9293 3.2).
 */
function parseOptions(b: Uint8Array, start: number, end: number): TcpOptions {
  // The layout Linux gives every segment after the handshake (tcp_options_write): NOP, NOP, timestamp.
  if (end - start === 12 && b[start] === OPT_NOP && b[start + 1] === OPT_NOP && b[start + 2] === OPT_TIMESTAMP && b[start + 3] === 10) {
    return timestampOnly(readU32(b, start + 4), readU32(b, start + 8));
  }
  const o: TcpOptions = {};
  let i = start;
  while (i < end) {
    const kind = b[i]!;
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) break;
    const len = b[i + 1]!;
    if (len < 2 || i + len > end) break;
    switch (kind) {
      case OPT_MSS:
        if (len === 4 && (b[i + 2]! | b[i + 3]!) !== 0) o.mss = (b[i + 2]! << 8) | b[i + 3]!;
        break;
      case OPT_WSCALE:
        if (len === 3) o.windowScale = b[i + 2]!;
        break;
      case OPT_SACK_PERMITTED:
        if (len === 2) o.sackPermitted = true;
        break;
      case OPT_SACK: {
        if ((len - 2) % 8 !== 0 || len === 2) break;
        const blocks: SackBlock[] = [];
        for (let j = i + 2; j < i + len; j += 8) {
          blocks.push({ left: readU32(b, j) as Seq, right: readU32(b, j + 4) as Seq });
        }
        o.sackBlocks = blocks;
        break;
      }
      case OPT_TIMESTAMP:
        if (len === 10) o.timestamp = { value: readU32(b, i + 2), echo: readU32(b, i + 6) };
        break;
      case OPT_FAST_OPEN:
        o.fastOpen = { cookie: b.slice(i + 2, i + len), exp: false };
        break;
      case OPT_EXPERIMENTAL:
        // RFC 6994: the first two bytes name the experiment; only Fast Open's is ours.
        if (len >= 4 && ((b[i + 2]! << 8) | b[i + 3]!) === FAST_OPEN_EXP_MAGIC) o.fastOpen = { cookie: b.slice(i + 4, i + len), exp: true };
        break;
      default:
        break; // unknown option: skipped by its length (RFC 9293 3.2)
    }
    i += len;
  }
  return o;
}

/**
 * Options holding just a timestamp, shared while TSval and TSecr stay the same: the clock
 * ticks in milliseconds, so the segments of one millisecond (hundreds of them in a bulk
 * transfer) carry identical options. Options are never changed once built or parsed, so
 * one object can serve them all: two objects less per segment. The two made last are
 * kept, one for each direction of a connection (ours are TSval = our clock, TSecr = the
 * peer's; the peer's the other way round).
 */
type TimestampOnly = TcpOptions & { timestamp: { value: number; echo: number } };
let recentTs: TimestampOnly = { timestamp: { value: 0, echo: 0 } };
let olderTs: TimestampOnly = recentTs;

export function timestampOnly(value: number, echo: number): TcpOptions {
  if (recentTs.timestamp.value === value && recentTs.timestamp.echo === echo) return recentTs;
  if (olderTs.timestamp.value === value && olderTs.timestamp.echo === echo) return olderTs;
  olderTs = recentTs;
  recentTs = { timestamp: { value, echo } };
  return recentTs;
}

/** Bytes the options occupy on the wire, padded to a multiple of 4. */
export function optionsLength(o: TcpOptions): number {
  let n = 0;
  if (o.mss !== undefined) n += 4;
  // SACK_PERM + TS share 12 bytes; alone each is padded with NOPs to 4 / 12.
  if (o.timestamp !== undefined) n += 12;
  else if (o.sackPermitted) n += 4;
  if (o.windowScale !== undefined) n += 4;
  if (o.sackBlocks !== undefined && o.sackBlocks.length > 0) n += 4 + 8 * o.sackBlocks.length;
  if (o.fastOpen !== undefined) n += (fastOpenLength(o.fastOpen) + 3) & ~3;
  return n;
}

/** Bytes of the Fast Open option itself, before padding. */
function fastOpenLength(f: FastOpenOption): number {
  return (f.exp ? 4 : 2) + f.cookie.length;
}

export function headerLength(o: TcpOptions): number {
  return TCP_MIN_HEADER + optionsLength(o);
}

/** Writes options in the order Linux uses (tcp_options_write), so traces look familiar. */
function emitOptions(o: TcpOptions, b: Uint8Array, i: number): number {
  if (o.mss !== undefined) {
    b[i] = OPT_MSS;
    b[i + 1] = 4;
    writeU16(b, i + 2, o.mss);
    i += 4;
  }
  if (o.timestamp !== undefined) {
    if (o.sackPermitted) {
      b[i] = OPT_SACK_PERMITTED;
      b[i + 1] = 2;
    } else {
      b[i] = OPT_NOP;
      b[i + 1] = OPT_NOP;
    }
    b[i + 2] = OPT_TIMESTAMP;
    b[i + 3] = 10;
    writeU32(b, i + 4, o.timestamp.value);
    writeU32(b, i + 8, o.timestamp.echo);
    i += 12;
  } else if (o.sackPermitted) {
    b[i] = OPT_NOP;
    b[i + 1] = OPT_NOP;
    b[i + 2] = OPT_SACK_PERMITTED;
    b[i + 3] = 2;
    i += 4;
  }
  if (o.windowScale !== undefined) {
    b[i] = OPT_NOP;
    b[i + 1] = OPT_WSCALE;
    b[i + 2] = 3;
    b[i + 3] = o.windowScale;
    i += 4;
  }
  if (o.sackBlocks !== undefined && o.sackBlocks.length > 0) {
    b[i] = OPT_NOP;
    b[i + 1] = OPT_NOP;
    b[i + 2] = OPT_SACK;
    b[i + 3] = 2 + 8 * o.sackBlocks.length;
    i += 4;
    for (const blk of o.sackBlocks) {
      writeU32(b, i, blk.left);
      writeU32(b, i + 4, blk.right);
      i += 8;
    }
  }
  if (o.fastOpen !== undefined) {
    // Last, padded with NOPs to a 4-byte boundary (Linux tcp_options_write).
    const len = fastOpenLength(o.fastOpen);
    b[i] = o.fastOpen.exp ? OPT_EXPERIMENTAL : OPT_FAST_OPEN;
    b[i + 1] = len;
    if (o.fastOpen.exp) writeU16(b, i + 2, FAST_OPEN_EXP_MAGIC);
    b.set(o.fastOpen.cookie, i + len - o.fastOpen.cookie.length);
    i += len;
    for (let pad = ((len + 3) & ~3) - len; pad > 0; pad--) b[i++] = OPT_NOP;
  }
  return i;
}

/**
 * Writes the segment (header, options, payload) at buf[offset] and returns its length.
 * With a pseudo-header the checksum is filled in; with null it is left zero (offload).
 * `payloadInPlace`: the caller built the packet around the payload (ip/packet-alloc.ts
 * claimFront), so it already lies where it belongs and is not copied.
 */
export function emitTcp(s: TcpSegment, buf: Uint8Array, offset: number, pseudo: PseudoHeader | null, payloadInPlace = false): number {
  const hlen = headerLength(s.options);
  if (hlen > TCP_MAX_HEADER) throw new RangeError(`TCP options too long: header would be ${hlen} bytes`);
  writeU16(buf, offset + SRC_PORT, s.srcPort);
  writeU16(buf, offset + DST_PORT, s.dstPort);
  writeU32(buf, offset + SEQ, s.seq);
  writeU32(buf, offset + ACK_NUM, s.ack);
  buf[offset + DATA_OFFSET] = (hlen / 4) << 4;
  buf[offset + FLAGS] = s.flags;
  writeU16(buf, offset + WINDOW, s.window);
  writeU16(buf, offset + CHECKSUM, 0);
  writeU16(buf, offset + URGENT, s.urgentPointer);
  emitOptions(s.options, buf, offset + TCP_MIN_HEADER);
  // Told, not found out: in V8 `.buffer` and `.byteOffset` are each an inline-cache call
  // to a getter (about 20 ns), and comparing them cost four per segment.
  const p = s.payload;
  if (!payloadInPlace) buf.set(p, offset + hlen);
  const total = hlen + s.payload.length;
  if (pseudo !== null) {
    const sum = sumBytes(buf, offset, offset + total, pseudoSumOf(pseudo.src, pseudo.dst, PROTO_TCP, total));
    writeU16(buf, offset + CHECKSUM, finishChecksum(sum));
  }
  return total;
}

/** "SYN,ACK" style names, in the order tcpdump/Wireshark print them. */
export function flagNames(flags: number): string {
  const names: string[] = [];
  if (flags & SYN) names.push("SYN");
  if (flags & FIN) names.push("FIN");
  if (flags & RST) names.push("RST");
  if (flags & PSH) names.push("PSH");
  if (flags & ACK) names.push("ACK");
  if (flags & URG) names.push("URG");
  if (flags & ECE) names.push("ECE");
  if (flags & CWR) names.push("CWR");
  return names.join(",");
}
