/**
 * Send-side segmentation offload for a TUN device with IFF_VNET_HDR: the engine's
 * consecutive full-sized segments of one flow, emitted in one flush, are written as one
 * TCP super-packet (up to 64 KiB) with a GSO virtio-net header, and the kernel takes it
 * as it would a packet built by GRO (locally) or splits it again (Linux tcp_gso_segment,
 * when it forwards). One write then replaces ~44, and a TUN write runs the kernel's whole
 * receive path in the writer's thread, so that is where the time goes.
 *
 * The engine is unchanged: its segments must come back out of the kernel's split exactly
 * as it emitted them. tcp_gso_segment copies the first segment's TCP header to every piece,
 * advancing seq, and clears FIN and PSH on all but the last piece and CWR on all but the
 * first; IPv4 IDs go up by one per piece (inet_gso_segment), as the engine's do. Hence a
 * run is coalesced only when, segment after segment:
 *   - same IP header (version, addresses, TOS/traffic class with the ECN bits, TTL, DF,
 *     flow label), no IPv4 options, TCP directly after the IP header, not a fragment;
 *   - same ports, ACK number, window and TCP options byte for byte (timestamps included);
 *   - sequence numbers contiguous; every payload the size of the first (gso_size) except
 *     that the last may be shorter;
 *   - flags ACK (and ECE if the first had it) on every piece; PSH or FIN only on the last,
 *     which ends the run; never SYN, RST, URG or CWR (those segments go out alone);
 *   - the IP packet stays within 65535 bytes.
 * The super-packet carries the first segment's headers with the last one's PSH/FIN, and
 * F_NEEDS_CSUM with the TCP checksum field holding the pseudo-header sum (uncomplemented,
 * as Linux __tcp_v4_send_check / __tcp_v6_send_check leave it for the device).
 */
import { finishChecksum, sumBytes } from "../wire/checksum.js";
import { encodeVnetHeader, PLAIN_VNET_HEADER, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_HDR_LEN } from "./vnet.js";

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const URG = 0x20;
const CWR = 0x80;
/** Largest IP packet: the IPv4 total length (and IPv6 payload length) field is 16 bits. */
export const MAX_SUPER_PACKET = 65535;

/** The fields of a TCP segment that decide whether it can join a run. */
interface SegmentShape {
  ipHeaderLength: number;
  tcpHeaderLength: number;
  payloadLength: number;
  seq: number;
  flags: number;
}

/** Parses the parts of an IP+TCP packet the coalescer needs, or undefined when it must go out alone. */
function shapeOf(p: Uint8Array): SegmentShape | undefined {
  if (p.length < 40) return undefined;
  const version = p[0]! >>> 4;
  let ipHeaderLength: number;
  if (version === 4) {
    // No options (IHL 5), TCP, not a fragment, total length matching the buffer.
    if (p[0] !== 0x45 || p[9] !== 6 || ((p[6]! & 0x3f) | p[7]!) !== 0) return undefined;
    if (((p[2]! << 8) | p[3]!) !== p.length) return undefined;
    ipHeaderLength = 20;
  } else if (version === 6) {
    if (p.length < 60 || p[6] !== 6 || ((p[4]! << 8) | p[5]!) !== p.length - 40) return undefined;
    ipHeaderLength = 40;
  } else {
    return undefined;
  }
  const tcpHeaderLength = (p[ipHeaderLength + 12]! >>> 4) * 4;
  if (tcpHeaderLength < 20 || ipHeaderLength + tcpHeaderLength > p.length) return undefined;
  const t = ipHeaderLength;
  return {
    ipHeaderLength,
    tcpHeaderLength,
    payloadLength: p.length - ipHeaderLength - tcpHeaderLength,
    seq: ((p[t + 4]! << 24) | (p[t + 5]! << 16) | (p[t + 6]! << 8) | p[t + 7]!) >>> 0,
    flags: p[t + 13]!,
  };
}

/** May this segment start or continue a run (as any piece but necessarily the last)? */
function coalescible(s: SegmentShape): boolean {
  return s.payloadLength > 0 && (s.flags & (SYN | RST | URG | CWR)) === 0 && (s.flags & ACK) !== 0;
}

/**
 * Do `a` and `b` agree on everything the kernel's split copies from the first piece?
 * IPv4: all of the header but total length (2-3), ID (4-5) and checksum (10-11). IPv6:
 * all but payload length (4-5). TCP: ports, ACK number, data offset, window, urgent
 * pointer and options; not seq, flags or checksum.
 */
function sameHeaders(a: Uint8Array, b: Uint8Array, s: SegmentShape): boolean {
  const ih = s.ipHeaderLength;
  for (let i = 0; i < ih; i++) {
    if (ih === 20 ? i === 2 || i === 3 || i === 4 || i === 5 || i === 10 || i === 11 : i === 4 || i === 5) continue;
    if (a[i] !== b[i]) return false;
  }
  const end = ih + s.tcpHeaderLength;
  for (let i = ih; i < end; i++) {
    const k = i - ih;
    // seq (4-7), flags (13), checksum (16-17)
    if ((k >= 4 && k <= 7) || k === 13 || k === 16 || k === 17) continue;
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/**
 * How many packets from `start` on go into one write: 1 (the packet alone, no GSO), or a
 * run of n >= 2 segments that `writeRun` turns into one super-packet.
 */
export function runLength(packets: readonly Uint8Array[], start: number, maxPacket = MAX_SUPER_PACKET): number {
  const first = packets[start]!;
  const s0 = shapeOf(first);
  if (s0 === undefined || !coalescible(s0) || (s0.flags & (PSH | FIN)) !== 0) return 1;
  const base = s0.flags;
  let total = first.length;
  let nextSeq = (s0.seq + s0.payloadLength) >>> 0;
  let n = 1;
  for (let j = start + 1; j < packets.length; j++) {
    const p = packets[j]!;
    const s = shapeOf(p);
    if (s === undefined || !coalescible(s) || s.tcpHeaderLength !== s0.tcpHeaderLength || s.ipHeaderLength !== s0.ipHeaderLength) break;
    if ((s.flags & ~(PSH | FIN)) !== base || s.seq !== nextSeq || s.payloadLength > s0.payloadLength) break;
    if (total + s.payloadLength > maxPacket || !sameHeaders(first, p, s0)) break;
    total += s.payloadLength;
    nextSeq = (nextSeq + s.payloadLength) >>> 0;
    n++;
    // Only the last piece may be short or carry PSH / FIN.
    if (s.payloadLength < s0.payloadLength || (s.flags & (PSH | FIN)) !== 0) break;
  }
  return n;
}

/**
 * Writes the virtio-net header and packet for packets[start, start + count) into `out`
 * (which must hold VNET_HDR_LEN + 65535 bytes) and returns the length written. One packet
 * is copied as it is behind a plain header; a run (from `runLength`) becomes one GSO
 * super-packet.
 */
export function writeRun(packets: readonly Uint8Array[], start: number, count: number, out: Uint8Array): number {
  const first = packets[start]!;
  if (count === 1) {
    encodeVnetHeader(PLAIN_VNET_HEADER, out, 0);
    out.set(first, VNET_HDR_LEN);
    return VNET_HDR_LEN + first.length;
  }
  const s0 = shapeOf(first)!;
  const headers = s0.ipHeaderLength + s0.tcpHeaderLength;
  const base = VNET_HDR_LEN;
  out.set(first.subarray(0, headers), base);
  let at = base + headers;
  for (let i = start; i < start + count; i++) {
    const p = packets[i]!;
    out.set(p.subarray(headers), at);
    at += p.length - headers;
  }
  const total = at - base;
  const ih = s0.ipHeaderLength;
  const t = base + ih;
  // The last piece's PSH / FIN (the others have the first's flags without them).
  out[t + 13] = packets[start + count - 1]![ih + 13]!;
  let pseudo: number;
  if (ih === 20) {
    out[base + 2] = total >>> 8;
    out[base + 3] = total & 0xff;
    out[base + 10] = 0;
    out[base + 11] = 0;
    const c = finishChecksum(sumBytes(out, base, base + 20));
    out[base + 10] = c >>> 8;
    out[base + 11] = c & 0xff;
    // Pseudo-header: addresses (12-19), protocol, TCP length (RFC 9293 3.1).
    pseudo = sumBytes(out, base + 12, base + 20) + 6 + (total - 20);
  } else {
    const payload = total - 40;
    out[base + 4] = payload >>> 8;
    out[base + 5] = payload & 0xff;
    // RFC 8200 8.1: addresses (8-39), upper-layer length, next header.
    pseudo = sumBytes(out, base + 8, base + 40) + 6 + payload;
  }
  // F_NEEDS_CSUM: the field holds the folded pseudo-header sum, not its complement.
  const partial = ~finishChecksum(pseudo) & 0xffff;
  out[t + 16] = partial >>> 8;
  out[t + 17] = partial & 0xff;
  encodeVnetHeader(
    { flags: VNET_F_NEEDS_CSUM, gsoType: ih === 20 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6, hdrLen: headers, gsoSize: s0.payloadLength, csumStart: ih, csumOffset: 16 },
    out,
    0,
  );
  return VNET_HDR_LEN + total;
}
