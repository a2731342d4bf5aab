/**
 * Packets between the script and synack: inbound ones built byte for byte from the
 * script (options in the order written), outbound ones decoded from synack's bytes, and
 * the sequence-number and timestamp mapping packetdrill applies between them.
 *
 * packetdrill's mapping (NOTES.md in the corpus): the remote side's numbers are the
 * script's own (its SYN says 0, so its bytes start at 1); the local side's are relative
 * to synack's ISN, learned from synack's first SYN or SYN-ACK. So inbound ACK numbers and
 * SACK blocks are shifted by the local ISN, outbound sequence numbers are compared after
 * subtracting it, and outbound ACK numbers are compared as they are.
 */
import type { IpInfo, TcpOptionSpec, TcpPacketSpec } from "./ast.js";
import { DrillSyntaxError, type SourcePos } from "./errors.js";
import type { IpAddress } from "../wire/address.js";
import { internetChecksum, pseudoHeaderSumFor } from "../wire/checksum.js";
import { emitIpv4Header, parseIpv4, PROTO_TCP } from "../wire/ipv4.js";
import { emitIpv6Header, IPV6_HEADER_LENGTH, parseIpv6 } from "../wire/ipv6.js";
import { ACK, SYN } from "../wire/tcp.js";
import { decodeTcpOptionList, encodeTcpOptionList, type RawTcpOption } from "../wire/tcp-option-list.js";

export const KIND = { EOL: 0, NOP: 1, MSS: 2, WSCALE: 3, SACK_OK: 4, SACK: 5, TS: 8, MD5: 19, FO: 34, EXP: 254 } as const;
/** The experimental Fast Open option carries this magic before the cookie (RFC 7413 appendix, Linux). */
const FO_EXP_MAGIC = 0xf989;

/** A TCP segment synack sent, as the matcher sees it. */
export interface OutboundSegment {
  /** Virtual time it left, in microseconds. */
  time: number;
  /** The IP version it was sent over. */
  family: 4 | 6;
  /** IPv4 TOS or IPv6 Traffic Class: DSCP and the ECN bits (RFC 3168 section 5, RFC 8200 section 7). */
  tos: number;
  /** IPv4 TTL or IPv6 Hop Limit. */
  ttl: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgentPointer: number;
  options: RawTcpOption[];
  payloadLength: number;
  /** Every payload byte is zero (scripts write zero-filled buffers). */
  zeroPayload: boolean;
}

/** The mapping state between script numbers and wire numbers. */
export class NumberMap {
  /** synack's ISN; undefined until its first SYN or SYN-ACK. */
  localIsn: number | undefined;
  /** Outbound TS values: the script's value -> what synack really sent. */
  readonly tsSent = new Map<number, number>();
  /** First outbound TS val (script, actual), for --tcp_ts_tick_usecs checks. */
  tsFirst: { script: number; actual: number } | undefined;
  /** Last outbound TS val (script, actual): an unknown inbound ecr is mapped relative to it. */
  tsLast: { script: number; actual: number } | undefined;

  /**
   * The remote side's ISN: the script's inbound SYN (or SYN-ACK) value. The script writes
   * the remote's later sequence numbers relative to it, and so the ACKs synack sends,
   * except the ACK of a SYN-ACK, which packetdrill compares as it is (run_packet.c).
   */
  remoteIsn = 0;

  /** Remote sequence space: script -> wire. */
  remoteToWire(scriptSeq: number): number {
    return (scriptSeq + this.remoteIsn) >>> 0;
  }

  /** Remote sequence space: wire -> script, for an outbound segment with `flags`. */
  remoteToScript(wireSeq: number, flags: number): number {
    return (flags & SYN) !== 0 ? wireSeq : (wireSeq - this.remoteIsn) >>> 0;
  }

  learn(seg: OutboundSegment): void {
    // Each new connection's SYN or SYN-ACK starts a new local sequence space (a
    // retransmission repeats the ISN and changes nothing).
    if ((seg.flags & SYN) !== 0) this.localIsn = seg.seq;
  }

  /** Local sequence space: script -> wire. */
  toWire(scriptSeq: number): number {
    return (scriptSeq + (this.localIsn ?? 0)) >>> 0;
  }

  /** Local sequence space: wire -> script. */
  toScript(wireSeq: number): number {
    return (wireSeq - (this.localIsn ?? 0)) >>> 0;
  }

  /** An inbound TS ecr: the real value of the outbound TSval the script names. */
  ecrToWire(scriptEcr: number): number {
    if (scriptEcr === 0) return 0;
    const known = this.tsSent.get(scriptEcr);
    if (known !== undefined) return known;
    if (this.tsLast !== undefined) return (this.tsLast.actual + scriptEcr - this.tsLast.script) >>> 0;
    return scriptEcr;
  }
}

/** The 4-tuple of the connection under test; both addresses of the run's wire family. */
export interface Addressing {
  localAddr: IpAddress;
  remoteAddr: IpAddress;
  localPort: number;
  remotePort: number;
}

/**
 * The IP + TCP bytes of an inbound script packet, checksums filled in: an IPv4 header, or
 * for IPv6 addresses the fixed IPv6 header (the script's TOS and ECN marks in its Traffic
 * Class, its TTL as the Hop Limit), and the TCP checksum over the family's pseudo-header
 * (RFC 9293 3.1, RFC 8200 8.1).
 */
export function buildInbound(spec: TcpPacketSpec, map: NumberMap, at: Addressing, pos: SourcePos): Uint8Array {
  const options = spec.options === "any" || spec.options === undefined ? [] : spec.options.map((o) => rawOption(o, map, "in"));
  const optBytes = encodeTcpOptionList(options);
  const tcpLength = 20 + optBytes.length + spec.seq.len;
  const ipLength = at.remoteAddr.family === 6 ? IPV6_HEADER_LENGTH : 20;
  // An IPv4 packet's total length and an IPv6 one's payload length are 16-bit fields
  // (packetdrill refuses such a line too: "TCP segment too large").
  const room = at.remoteAddr.family === 6 ? 0xffff : 0xffff - ipLength;
  if (tcpLength > room) throw new DrillSyntaxError(`a TCP segment of ${tcpLength} bytes (${spec.seq.len} of data) does not fit in one IPv${at.remoteAddr.family} packet, which holds ${room}`, pos);
  const packet = new Uint8Array(ipLength + tcpLength);
  const hops = spec.ip.ttl ?? 64;
  if (at.remoteAddr.family === 6) emitIpv6Header({ src: at.remoteAddr, dst: at.localAddr, nextHeader: PROTO_TCP, payloadLength: tcpLength, trafficClass: tosOf(spec.ip), hopLimit: hops }, packet, 0);
  else emitIpv4Header({ src: at.remoteAddr.v4Value!, dst: at.localAddr.v4Value!, protocol: PROTO_TCP, payloadLength: tcpLength, tos: tosOf(spec.ip), ttl: hops, dontFragment: true }, packet, 0);
  const t = packet.subarray(ipLength);
  const view = new DataView(t.buffer, t.byteOffset, t.byteLength);
  view.setUint16(0, at.remotePort);
  view.setUint16(2, at.localPort);
  if ((spec.flags & SYN) !== 0) map.remoteIsn = spec.seq.start >>> 0;
  view.setUint32(4, (spec.flags & SYN) !== 0 ? spec.seq.start >>> 0 : map.remoteToWire(spec.seq.start));
  // packetdrill maps the ACK number of every packet with the ACK flag, also one the script
  // leaves out: `< . 1:1001(1000) win 320` acknowledges our ISN (run_packet.c map_inbound_packet).
  view.setUint32(8, spec.ack !== undefined ? map.toWire(spec.ack) : (spec.flags & ACK) !== 0 ? map.toWire(0) : 0);
  view.setUint8(12, ((20 + optBytes.length) / 4) << 4);
  view.setUint8(13, spec.flags | (spec.ack !== undefined ? 0 : 0));
  view.setUint16(14, spec.win ?? 0);
  view.setUint16(18, spec.urg ?? 0);
  t.set(optBytes, 20);
  const sum = internetChecksum(t, 0, t.length, pseudoHeaderSumFor(at.remoteAddr, at.localAddr, PROTO_TCP, t.length));
  view.setUint16(16, sum);
  return packet;
}

function tosOf(ip: IpInfo): number {
  const ecn = ip.ecn === "ect0" ? 2 : ip.ecn === "ect1" ? 1 : ip.ecn === "ce" ? 3 : 0;
  return ((ip.tos ?? 0) & 0xfc) | ecn;
}

/** The ECN bits a script mark asks for (undefined: not checked). */
export function expectedEcn(ip: IpInfo): number | undefined {
  if (ip.ecn === undefined) return undefined;
  return ip.ecn === "ect0" ? 2 : ip.ecn === "ect1" ? 1 : ip.ecn === "ce" ? 3 : ip.ecn === "ect01" ? -1 : 0;
}

/** A script option as wire bytes; inbound SACK blocks and TS ecr are mapped to local space. */
export function rawOption(o: TcpOptionSpec, map: NumberMap, direction: "in" | "out"): RawTcpOption {
  const bytes = (...parts: Array<[number, number]>) => {
    const len = parts.reduce((n, [, size]) => n + size, 0);
    const out = new Uint8Array(len);
    const v = new DataView(out.buffer);
    let i = 0;
    for (const [value, size] of parts) {
      if (size === 1) v.setUint8(i, value);
      else if (size === 2) v.setUint16(i, value);
      else v.setUint32(i, value >>> 0);
      i += size;
    }
    return out;
  };
  switch (o.kind) {
    case "nop":
      return { kind: KIND.NOP, data: new Uint8Array(0) };
    case "eol":
      return { kind: KIND.EOL, data: new Uint8Array(0) };
    case "mss":
      return { kind: KIND.MSS, data: bytes([o.value, 2]) };
    case "wscale":
      return { kind: KIND.WSCALE, data: bytes([o.value, 1]) };
    case "sackOK":
      return { kind: KIND.SACK_OK, data: new Uint8Array(0) };
    case "sack":
      return { kind: KIND.SACK, data: bytes(...o.blocks.flatMap(([l, r]): Array<[number, number]> => (direction === "in" ? [[map.toWire(l), 4], [map.toWire(r), 4]] : [[map.remoteToWire(l), 4], [map.remoteToWire(r), 4]]))) };
    case "ts":
      return { kind: KIND.TS, data: bytes([o.val, 4], [direction === "in" ? map.ecrToWire(o.ecr) : o.ecr, 4]) };
    case "md5":
      return { kind: KIND.MD5, data: hexBytes(o.hex) };
    case "fo":
      return { kind: KIND.FO, data: hexBytes(o.cookie ?? "") };
    case "foexp":
      return { kind: KIND.EXP, data: concat(bytes([FO_EXP_MAGIC, 2]), hexBytes(o.cookie ?? "")) };
    case "other":
      return { kind: o.code, data: hexBytes(o.hex) };
  }
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The IP layer of a packet synack sent, of either version, reduced to what the matcher compares. */
function decodeIp(bytes: Uint8Array): { family: 4 | 6; protocol: number; tos: number; ttl: number; payload: Uint8Array } | undefined {
  if (bytes.length > 0 && bytes[0]! >> 4 === 6) {
    const ip = parseIpv6(bytes);
    if (!ip.ok) return undefined;
    // synack puts no extension header before TCP, so the fixed header's Next Header is the protocol.
    const h = ip.value.header;
    return { family: 6, protocol: h.nextHeader, tos: h.trafficClass, ttl: h.hopLimit, payload: ip.value.payload };
  }
  const ip = parseIpv4(bytes, { verifyChecksum: false });
  if (!ip.ok) return undefined;
  const h = ip.value.header;
  return { family: 4, protocol: h.protocol, tos: h.tos, ttl: h.ttl, payload: ip.value.payload };
}

/** Decodes a packet synack sent (IPv4 or IPv6); `{ protocol }` for anything but a well-formed TCP segment. */
export function decodeOutbound(bytes: Uint8Array, time: number): OutboundSegment | { protocol: number } {
  const header = decodeIp(bytes);
  if (header === undefined) return { protocol: -1 };
  const t = header.payload;
  if (header.protocol !== PROTO_TCP || t.length < 20) return { protocol: header.protocol };
  const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const dataOffset = (t[12]! >> 4) * 4;
  const opts = decodeTcpOptionList(t, 20, Math.min(dataOffset, t.length));
  const payload = t.subarray(dataOffset);
  return {
    time,
    family: header.family,
    tos: header.tos,
    ttl: header.ttl,
    srcPort: v.getUint16(0),
    dstPort: v.getUint16(2),
    seq: v.getUint32(4),
    ack: v.getUint32(8),
    flags: t[13]!,
    window: v.getUint16(14),
    urgentPointer: v.getUint16(18),
    options: opts.ok ? opts.value : [],
    payloadLength: payload.length,
    zeroPayload: payload.every((b) => b === 0),
  };
}

/** Flags in packetdrill's letters: "S.", "P.", "F.", "R", "." or "-" for none. */
export function flagText(flags: number): string {
  let s = "";
  if (flags & 0x02) s += "S";
  if (flags & 0x01) s += "F";
  if (flags & 0x04) s += "R";
  if (flags & 0x08) s += "P";
  if (flags & 0x20) s += "U";
  if (flags & 0x40) s += "E";
  if (flags & 0x80) s += "W";
  if (flags & ACK) s += ".";
  return s === "" ? "-" : s;
}

export function optionText(o: RawTcpOption): string {
  const v = new DataView(o.data.buffer, o.data.byteOffset, o.data.byteLength);
  const hex = (d: Uint8Array) => [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
  switch (o.kind) {
    case KIND.EOL:
      return "eol";
    case KIND.NOP:
      return "nop";
    case KIND.MSS:
      return o.data.length === 2 ? `mss ${v.getUint16(0)}` : `kind 2 ${hex(o.data)}`;
    case KIND.WSCALE:
      return o.data.length === 1 ? `wscale ${o.data[0]}` : `kind 3 ${hex(o.data)}`;
    case KIND.SACK_OK:
      return "sackOK";
    case KIND.SACK: {
      const blocks: string[] = [];
      for (let i = 0; i + 8 <= o.data.length; i += 8) blocks.push(`${v.getUint32(i)}:${v.getUint32(i + 4)}`);
      return `sack ${blocks.join(" ")}`;
    }
    case KIND.TS:
      return o.data.length === 8 ? `TS val ${v.getUint32(0)} ecr ${v.getUint32(4)}` : `kind 8 ${hex(o.data)}`;
    case KIND.MD5:
      return `md5 ${hex(o.data)}`;
    case KIND.FO:
      return o.data.length === 0 ? "FO" : `FO ${hex(o.data)}`;
    case KIND.EXP:
      return o.data.length >= 2 && v.getUint16(0) === FO_EXP_MAGIC ? `FOEXP ${hex(o.data.subarray(2))}`.trimEnd() : `kind 254 ${hex(o.data)}`;
    default:
      return `kind ${o.kind} ${hex(o.data)}`.trimEnd();
  }
}

/**
 * An outbound segment in packetdrill syntax, with its sequence number made relative as
 * the script writes it: `> P. 1:1001(1000) ack 1 win 2052 <nop,nop,TS val 5 ecr 700>`.
 */
export function formatOutbound(seg: OutboundSegment, map: NumberMap, payloadLength = seg.payloadLength): string {
  const start = map.toScript(seg.seq);
  // The IP ECN bits as packetdrill writes them, when set (RFC 3168 section 5).
  const ecn = ["", "[ect1] ", "[ect0] ", "[ce] "][seg.tos & 3];
  let s = `> ${ecn}${flagText(seg.flags)} ${start}:${(start + payloadLength) >>> 0}(${payloadLength})`;
  if (seg.flags & ACK) s += ` ack ${map.remoteToScript(seg.ack, seg.flags)}`;
  s += ` win ${seg.window}`;
  if (seg.urgentPointer !== 0) s += ` urg ${seg.urgentPointer}`;
  if (seg.options.length > 0) s += ` <${seg.options.map(optionText).join(",")}>`;
  return s;
}
