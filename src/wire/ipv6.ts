/**
 * IPv6 header and extension-header codec. Read first: RFC 8200 section 3 (the header),
 * section 4 (extension headers: order, options and their action bits, routing, fragment),
 * RFC 5095 (routing type 0 deprecated), RFC 6946 (atomic fragments).
 *
 * Two steps, as the IPv4 codec has one:
 *   parseIpv6           the fixed 40-byte header; `payload` is everything after it.
 *   walkIpv6Extensions  follows the Next Header chain through hop-by-hop, routing,
 *                       fragment and destination options headers to the upper layer,
 *                       applying the RFC's rules for what a host does with each.
 * Neither throws on bad bytes; every length is checked before the bytes it covers are read.
 * When RFC 8200 asks for an ICMPv6 Parameter Problem, the failed walk says so (`icmp`,
 * with the code and the pointer into the packet), and the IP layer sends it.
 *
 * Emitting writes the fixed header and any extension headers from their reprs, padding
 * option headers to 8 bytes with Pad1/PadN (RFC 8200 4.2).
 */
import { IpAddress } from "./address.js";
import { fail, type ParseError, type ParseResult } from "./result.js";
import { readU16, readU32, writeU16, writeU32 } from "./bytes.js";

export const IPV6_HEADER_LENGTH = 40;
/** Every link must carry 1280-byte packets (RFC 8200 section 5). */
export const IPV6_MIN_MTU = 1280;

// Next Header values (IANA "Assigned Internet Protocol Numbers").
export const NH_HOP_BY_HOP = 0;
export const NH_ROUTING = 43;
export const NH_FRAGMENT = 44;
export const NH_ICMPV6 = 58;
/** Nothing follows (RFC 8200 section 4.7). */
export const NH_NONE = 59;
export const NH_DESTINATION = 60;

// Option types (RFC 8200 4.2).
export const OPT_PAD1 = 0;
export const OPT_PADN = 1;

// Fixed header field offsets (RFC 8200 section 3).
const VER_TC_FLOW = 0;
const PAYLOAD_LENGTH = 4;
const NEXT_HEADER = 6;
const HOP_LIMIT = 7;
const SRC = 8;
const DST = 24;

// Offsets inside an extension header (RFC 8200 4.3-4.6): all begin with Next Header.
const EXT_NEXT_HEADER = 0;
const EXT_LENGTH = 1;
const RH_TYPE = 2;
const RH_SEGMENTS_LEFT = 3;
const FH_OFFSET_FLAGS = 2;
const FH_ID = 4;
const FRAGMENT_HEADER_LENGTH = 8;

/** Largest payload the 16-bit Payload Length field describes (no jumbograms, RFC 2675). */
export const IPV6_MAX_PAYLOAD = 0xffff;

export interface Ipv6Header {
  trafficClass: number;
  /** 20 bits (RFC 6437). */
  flowLabel: number;
  /** Bytes after the fixed header, extension headers included. */
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: IpAddress;
  dst: IpAddress;
}

export interface Ipv6Packet {
  header: Ipv6Header;
  /** Bytes [40, 40 + payloadLength): extension headers and the upper-layer data. */
  payload: Uint8Array;
}

/** Parses the fixed header. Bytes past 40 + payloadLength (link padding) are ignored. */
export function parseIpv6(packet: Uint8Array): ParseResult<Ipv6Packet> {
  if (packet.length < IPV6_HEADER_LENGTH) return fail("truncated");
  const first = readU32(packet, VER_TC_FLOW);
  if (first >>> 28 !== 6) return fail("bad-version");
  const payloadLength = readU16(packet, PAYLOAD_LENGTH);
  // RFC 8200 section 3: Payload Length counts every byte after the fixed header; fewer
  // bytes than it claims is a truncated packet.
  if (IPV6_HEADER_LENGTH + payloadLength > packet.length) return fail("truncated");
  return {
    ok: true,
    value: {
      header: {
        trafficClass: (first >>> 20) & 0xff,
        flowLabel: first & 0xfffff,
        payloadLength,
        nextHeader: packet[NEXT_HEADER]!,
        hopLimit: packet[HOP_LIMIT]!,
        src: IpAddress.fromBytes(packet, SRC, 6),
        dst: IpAddress.fromBytes(packet, DST, 6),
      },
      payload: packet.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
    },
  };
}

export interface Ipv6EmitFields {
  src: IpAddress;
  dst: IpAddress;
  /** The Next Header value of the fixed header. */
  nextHeader: number;
  /** Bytes after the fixed header. */
  payloadLength: number;
  /** Default 64 (Linux net.ipv6.conf.all.hop_limit). */
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
}

/** Writes the 40-byte fixed header at buf[offset]. Returns 40. */
export function emitIpv6Header(f: Ipv6EmitFields, buf: Uint8Array, offset = 0): number {
  // Programming errors, not bad input: a wrapped length or a 4-byte address would describe
  // a different packet.
  if (f.payloadLength > IPV6_MAX_PAYLOAD) throw new RangeError(`IPv6 payload too long: ${f.payloadLength} bytes`);
  if (f.src.family !== 6 || f.dst.family !== 6) throw new RangeError(`IPv6 header needs IPv6 addresses, got ${f.src} -> ${f.dst}`);
  const first = (6 << 28) | (((f.trafficClass ?? 0) & 0xff) << 20) | ((f.flowLabel ?? 0) & 0xfffff);
  writeU32(buf, offset + VER_TC_FLOW, first >>> 0);
  writeU16(buf, offset + PAYLOAD_LENGTH, f.payloadLength);
  buf[offset + NEXT_HEADER] = f.nextHeader;
  buf[offset + HOP_LIMIT] = f.hopLimit ?? 64;
  f.src.write(buf, offset + SRC);
  f.dst.write(buf, offset + DST);
  return IPV6_HEADER_LENGTH;
}

// ---------------------------------------------------------------------------------------
// Extension headers.

/** A TLV option of a hop-by-hop or destination options header, Pad1 and PadN left out. */
export interface Ipv6Option {
  type: number;
  data: Uint8Array;
}

export type Ipv6Extension =
  | { kind: "hop-by-hop"; options: readonly Ipv6Option[] }
  | { kind: "destination"; options: readonly Ipv6Option[] }
  /** `data` is everything after the first 4 bytes (type-specific; a multiple of 8 plus 4 bytes). */
  | { kind: "routing"; routingType: number; segmentsLeft: number; data: Uint8Array }
  /** `offset` in bytes (the wire field counts 8-byte units). */
  | { kind: "fragment"; offset: number; more: boolean; id: number };

/** Where a non-atomic Fragment header ended the walk: what reassembly needs. */
export interface Ipv6Fragment {
  /** Byte offset of this fragment's data in the original packet's fragmentable part. */
  offset: number;
  more: boolean;
  id: number;
  /** Where the Fragment header starts: the unfragmentable part is bytes [0, headerOffset). */
  headerOffset: number;
  /** Offset of the Next Header field that holds 44 (6 when the Fragment header follows the fixed header). */
  nextHeaderPointer: number;
}

export interface Ipv6Chain {
  /** The extension headers walked, in order. */
  extensions: readonly Ipv6Extension[];
  /**
   * The upper-layer protocol (NH_NONE when nothing follows). For a non-atomic fragment,
   * the Fragment header's Next Header; only the first fragment's counts (RFC 8200 4.5).
   */
  protocol: number;
  /**
   * Offset in the packet of the Next Header field that holds `protocol`: the pointer of a
   * Parameter Problem, code 1, when the host does not know the protocol (RFC 8200 4).
   */
  protocolPointer: number;
  /** Offset in the packet where the upper-layer header (or fragment data) starts. */
  offset: number;
  /** Bytes [offset, 40 + payloadLength): the upper-layer header and data, or the fragment's data. */
  payload: Uint8Array;
  /** Present when a non-atomic fragment ended the walk; `payload` is then its data. */
  fragment: Ipv6Fragment | undefined;
}

/** An ICMPv6 Parameter Problem (RFC 4443 3.4) the IP layer should send about a packet. */
export interface Ipv6ParamProblem {
  /** 0 erroneous header field, 1 unrecognized Next Header, 2 unrecognized option, 3 incomplete chain (RFC 7112). */
  code: 0 | 1 | 2 | 3;
  /** Offset in the offending packet of the byte in error. */
  pointer: number;
}

export type Ipv6WalkResult =
  | { ok: true; value: Ipv6Chain }
  /** `icmp` is present when the RFC asks for a Parameter Problem and RFC 4443 2.4(e) allows one. */
  | { ok: false; reason: ParseError; icmp?: Ipv6ParamProblem };

/** Where to resume a walk: after reassembly, at the first fragment's Next Header. */
export interface Ipv6WalkResume {
  offset: number;
  nextHeader: number;
  /** Offset of the Next Header field holding `nextHeader`. */
  pointer: number;
}

const NO_EXTENSIONS: readonly Ipv6Extension[] = Object.freeze([]);

/**
 * Walks the Next Header chain of `packet` (which starts with the fixed header described by
 * `header`, as `parseIpv6` returned it) up to the upper-layer header, or to the first
 * non-atomic Fragment header. Rules a host applies on the way (RFC 8200 section 4):
 *   - hop-by-hop options only immediately after the fixed header (4.3); elsewhere it is an
 *     unrecognized Next Header: Parameter Problem code 1 (Linux ip6_input does the same);
 *   - options whose type is unrecognized act by the type's two high bits (4.2): 00 skip,
 *     01 discard, 10 discard and send code 2, 11 discard and send code 2 unless the
 *     destination is multicast. This host recognizes no option beyond Pad1 and PadN, so
 *     every option with 00 is kept in the repr and skipped, and any other discards;
 *   - a routing header with Segments Left 0 is ignored (4.4). With segments left, a host
 *     implements no routing type (type 0 is deprecated by RFC 5095 section 3 and must be
 *     treated as unrecognized; types 2, 3 and 4 are for mobile nodes and routers): code 0
 *     pointing at the Routing Type;
 *   - an atomic fragment (offset 0, M clear) is processed in isolation and the walk goes on
 *     (RFC 6946 section 4); any other fragment ends the walk for reassembly, after the two
 *     checks of 4.5: a non-last fragment whose length is not a multiple of 8 (code 0,
 *     pointing at Payload Length) and one that would reassemble past 65,535 bytes (code 0,
 *     pointing at Fragment Offset).
 * Any other Next Header value ends the walk; the caller decides whether it knows it.
 * An extension header that runs past the payload drops the packet silently (as Linux).
 */
export function walkIpv6Extensions(packet: Uint8Array, header: Ipv6Header, resume?: Ipv6WalkResume): Ipv6WalkResult {
  const end = Math.min(packet.length, IPV6_HEADER_LENGTH + header.payloadLength);
  let at = resume?.offset ?? IPV6_HEADER_LENGTH;
  let nh = resume?.nextHeader ?? header.nextHeader;
  let pointer = resume?.pointer ?? NEXT_HEADER;
  // RFC 4443 2.4(e): no ICMP error about a packet sent to a multicast address, with the
  // one exception of code 2 for an option whose high bits are 10 (RFC 8200 4.2).
  const multicast = header.dst.isMulticast;
  const problem = (reason: ParseError, code: Ipv6ParamProblem["code"], at: number, always = false): Ipv6WalkResult =>
    multicast && !always ? { ok: false, reason } : { ok: false, reason, icmp: { code, pointer: at } };
  let extensions: Ipv6Extension[] | undefined;
  const push = (e: Ipv6Extension) => (extensions ??= []).push(e);
  let first = resume === undefined;

  for (;;) {
    switch (nh) {
      case NH_HOP_BY_HOP:
      case NH_DESTINATION: {
        if (nh === NH_HOP_BY_HOP && !first) return problem("bad-next-header", 1, pointer);
        if (at + 2 > end) return fail("truncated");
        const len = (packet[at + EXT_LENGTH]! + 1) * 8;
        if (at + len > end) return fail("bad-header-length");
        const options: Ipv6Option[] = [];
        for (let i = at + 2; i < at + len; ) {
          const type = packet[i]!;
          if (type === OPT_PAD1) {
            i++;
            continue;
          }
          if (i + 2 > at + len) return fail("bad-option");
          const dataEnd = i + 2 + packet[i + 1]!;
          if (dataEnd > at + len) return fail("bad-option");
          if (type !== OPT_PADN) {
            const action = type >>> 6;
            if (action === 1) return fail("bad-option");
            if (action === 2) return problem("bad-option", 2, i, true);
            if (action === 3) return problem("bad-option", 2, i);
            options.push({ type, data: packet.subarray(i + 2, dataEnd) });
          }
          i = dataEnd;
        }
        push({ kind: nh === NH_HOP_BY_HOP ? "hop-by-hop" : "destination", options });
        pointer = at + EXT_NEXT_HEADER;
        nh = packet[pointer]!;
        at += len;
        break;
      }
      case NH_ROUTING: {
        if (at + 8 > end) return fail("truncated");
        const len = (packet[at + EXT_LENGTH]! + 1) * 8;
        if (at + len > end) return fail("bad-header-length");
        const segmentsLeft = packet[at + RH_SEGMENTS_LEFT]!;
        if (segmentsLeft !== 0) return problem("bad-routing-header", 0, at + RH_TYPE);
        push({ kind: "routing", routingType: packet[at + RH_TYPE]!, segmentsLeft, data: packet.subarray(at + 4, at + len) });
        pointer = at + EXT_NEXT_HEADER;
        nh = packet[pointer]!;
        at += len;
        break;
      }
      case NH_FRAGMENT: {
        if (at + FRAGMENT_HEADER_LENGTH > end) return fail("truncated");
        const field = readU16(packet, at + FH_OFFSET_FLAGS);
        const offset = field & 0xfff8;
        const more = (field & 1) !== 0;
        const id = readU32(packet, at + FH_ID);
        if (offset === 0 && !more) {
          // RFC 6946 section 4: an atomic fragment is a whole packet; reassembly never sees it.
          push({ kind: "fragment", offset, more, id });
          pointer = at + EXT_NEXT_HEADER;
          nh = packet[pointer]!;
          at += FRAGMENT_HEADER_LENGTH;
          break;
        }
        const dataStart = at + FRAGMENT_HEADER_LENGTH;
        const dataLength = end - dataStart;
        // RFC 8200 4.5: "not a multiple of 8 octets and the M flag ... is 1".
        if (more && dataLength % 8 !== 0) return problem("bad-fragment", 0, PAYLOAD_LENGTH);
        // RFC 8200 4.5: the reassembled Payload Length would exceed 65,535 octets.
        if (at - IPV6_HEADER_LENGTH + offset + dataLength > IPV6_MAX_PAYLOAD) return problem("bad-fragment", 0, at + FH_OFFSET_FLAGS);
        push({ kind: "fragment", offset, more, id });
        return {
          ok: true,
          value: {
            extensions: extensions ?? NO_EXTENSIONS,
            protocol: packet[at + EXT_NEXT_HEADER]!,
            protocolPointer: at + EXT_NEXT_HEADER,
            offset: dataStart,
            payload: packet.subarray(dataStart, end),
            fragment: { offset, more, id, headerOffset: at, nextHeaderPointer: pointer },
          },
        };
      }
      default:
        return {
          ok: true,
          value: { extensions: extensions ?? NO_EXTENSIONS, protocol: nh, protocolPointer: pointer, offset: at, payload: packet.subarray(at, end), fragment: undefined },
        };
    }
    first = false;
  }
}

/** The Next Header value that names an extension header of this kind. */
export function extensionType(e: Ipv6Extension): number {
  switch (e.kind) {
    case "hop-by-hop":
      return NH_HOP_BY_HOP;
    case "destination":
      return NH_DESTINATION;
    case "routing":
      return NH_ROUTING;
    case "fragment":
      return NH_FRAGMENT;
  }
}

/** Bytes the extension header occupies on the wire (a multiple of 8). */
export function extensionLength(e: Ipv6Extension): number {
  switch (e.kind) {
    case "hop-by-hop":
    case "destination": {
      let n = 2;
      for (const o of e.options) n += 2 + o.data.length;
      return Math.ceil(n / 8) * 8;
    }
    case "routing":
      return 4 + e.data.length;
    case "fragment":
      return FRAGMENT_HEADER_LENGTH;
  }
}

/** Writes one extension header whose Next Header is `nextHeader`; returns its length. */
export function emitExtension(e: Ipv6Extension, nextHeader: number, buf: Uint8Array, offset: number): number {
  const len = extensionLength(e);
  // Hdr Ext Len counts 8-octet units beyond the first and is one byte (RFC 8200 4.3).
  if (len % 8 !== 0 || len > 256 * 8) throw new RangeError(`${e.kind} header of ${len} bytes cannot be encoded`);
  buf[offset + EXT_NEXT_HEADER] = nextHeader;
  switch (e.kind) {
    case "hop-by-hop":
    case "destination": {
      buf[offset + EXT_LENGTH] = len / 8 - 1;
      let i = offset + 2;
      for (const o of e.options) {
        if (o.type === OPT_PAD1 || o.type === OPT_PADN || o.data.length > 255) throw new RangeError(`option type ${o.type} with ${o.data.length} bytes cannot be emitted`);
        buf[i] = o.type;
        buf[i + 1] = o.data.length;
        buf.set(o.data, i + 2);
        i += 2 + o.data.length;
      }
      // RFC 8200 4.2: Pad1 for one byte of padding, PadN with zero data for more.
      const pad = offset + len - i;
      if (pad === 1) buf[i] = OPT_PAD1;
      else if (pad > 1) {
        buf[i] = OPT_PADN;
        buf[i + 1] = pad - 2;
        buf.fill(0, i + 2, offset + len);
      }
      break;
    }
    case "routing":
      buf[offset + EXT_LENGTH] = len / 8 - 1;
      buf[offset + RH_TYPE] = e.routingType;
      buf[offset + RH_SEGMENTS_LEFT] = e.segmentsLeft;
      buf.set(e.data, offset + 4);
      break;
    case "fragment":
      if (e.offset % 8 !== 0 || e.offset > 0xfff8) throw new RangeError(`fragment offset ${e.offset} is not a multiple of 8 below 65,536`);
      // RFC 8200 4.5: both Reserved fields are sent as zero.
      buf[offset + EXT_LENGTH] = 0;
      writeU16(buf, offset + FH_OFFSET_FLAGS, e.offset | (e.more ? 1 : 0));
      writeU32(buf, offset + FH_ID, e.id >>> 0);
      break;
  }
  return len;
}

/**
 * Writes the fixed header followed by `extensions`, chaining their Next Header fields;
 * `f.nextHeader` is the upper-layer protocol and `f.payloadLength` the upper-layer length.
 * Returns the bytes written (40 plus the extension headers).
 */
export function emitIpv6Headers(f: Ipv6EmitFields, extensions: readonly Ipv6Extension[], buf: Uint8Array, offset = 0): number {
  let extLength = 0;
  for (const e of extensions) extLength += extensionLength(e);
  const firstNext = extensions.length > 0 ? extensionType(extensions[0]!) : f.nextHeader;
  let at = offset + emitIpv6Header({ ...f, nextHeader: firstNext, payloadLength: extLength + f.payloadLength }, buf, offset);
  for (let i = 0; i < extensions.length; i++) {
    const next = i + 1 < extensions.length ? extensionType(extensions[i + 1]!) : f.nextHeader;
    at += emitExtension(extensions[i]!, next, buf, at);
  }
  return at - offset;
}
