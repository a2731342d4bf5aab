/**
 * The virtio-net header that precedes every packet on a TUN descriptor opened with
 * IFF_VNET_HDR, and what the receive side does with it. Pure functions over bytes, so
 * they are tested without a device (test/node/vnet.test.ts); tun.ts does the I/O.
 *
 * Read first: the virtio specification 1.2 section 5.1.6 (struct virtio_net_hdr, the
 * legacy 10-byte form without num_buffers) and Linux include/linux/virtio_net.h
 * (virtio_net_hdr_to_skb / virtio_net_hdr_from_skb), which is how the kernel's TUN driver
 * fills and reads it. wireguard-go (tun/offload_linux.go) and gVisor (pkg/tcpip/link/fdbased)
 * use the same device the same way.
 *
 * Byte order: a legacy header is in the host's order unless TUNSETVNETLE/BE says
 * otherwise (Linux tun_is_little_endian). synack runs on little-endian hosts only
 * (wire/checksum.ts assumes as much), so it is read and written little-endian.
 */
import { finishChecksum, sumBytes } from "../wire/checksum.js";

/** sizeof(struct virtio_net_hdr): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset. */
export const VNET_HDR_LEN = 10;
/** The checksum at csum_start + csum_offset holds only the pseudo-header sum: finish it (or trust the sender). */
export const VNET_F_NEEDS_CSUM = 1;
/** The kernel already verified the checksums (CHECKSUM_UNNECESSARY). */
export const VNET_F_DATA_VALID = 2;
export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_UDP = 3;
export const VNET_GSO_TCPV6 = 4;
export const VNET_GSO_UDP_L4 = 5;
/** Or'ed into gso_type: the packet's TCP header has CWR set (TSO with ECN). */
export const VNET_GSO_ECN = 0x80;

export interface VnetHeader {
  flags: number;
  gsoType: number;
  /** Length of the headers before the payload; only a hint (we never rely on it). */
  hdrLen: number;
  /** Payload bytes per segment when the packet is a GSO super-packet. */
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export const PLAIN_VNET_HEADER: Readonly<VnetHeader> = Object.freeze({ flags: 0, gsoType: VNET_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 });

export function decodeVnetHeader(buf: Uint8Array, offset = 0): VnetHeader {
  if (buf.length - offset < VNET_HDR_LEN) throw new RangeError(`a virtio-net header needs ${VNET_HDR_LEN} bytes, got ${buf.length - offset}`);
  const v = new DataView(buf.buffer, buf.byteOffset + offset, VNET_HDR_LEN);
  return { flags: v.getUint8(0), gsoType: v.getUint8(1), hdrLen: v.getUint16(2, true), gsoSize: v.getUint16(4, true), csumStart: v.getUint16(6, true), csumOffset: v.getUint16(8, true) };
}

export function encodeVnetHeader(h: Readonly<VnetHeader>, buf: Uint8Array, offset = 0): void {
  buf[offset] = h.flags;
  buf[offset + 1] = h.gsoType;
  putU16le(buf, offset + 2, h.hdrLen);
  putU16le(buf, offset + 4, h.gsoSize);
  putU16le(buf, offset + 6, h.csumStart);
  putU16le(buf, offset + 8, h.csumOffset);
}

function putU16le(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
}

const PROTO_TCP = 6;
const PROTO_UDP = 17;
/** offsetof(struct udphdr, check). */
const UDP_CHECK_OFFSET = 6;

/**
 * Is `packet` an unfragmented TCP segment (TCP directly after the IP header)? Those are the
 * packets whose checksum the engine may skip on the kernel's word: for anything else the
 * receive side finishes or leaves the checksum and the engine verifies it as usual.
 */
export function isPlainTcp(packet: Uint8Array): boolean {
  if (packet.length < 20) return false;
  const version = packet[0]! >>> 4;
  if (version === 4) {
    // RFC 791: protocol at byte 9; MF and fragment offset in bytes 6-7.
    return packet[9] === PROTO_TCP && ((packet[6]! & 0x3f) | packet[7]!) === 0;
  }
  return version === 6 && packet.length >= 40 && packet[6] === PROTO_TCP;
}

/** What the receive side makes of one read. */
export type ReceivedPacket =
  /** `gsoSize`: the segment size of a GSO packet (what the kernel merged or would cut it into), 0 for a plain one. */
  | { ok: true; packet: Uint8Array; checksumValid: boolean; gso: boolean; gsoSize: number }
  | { ok: false; reason: "short" | "bad-csum-offsets" | "unsupported-gso" };

/**
 * One read from a TUN descriptor with IFF_VNET_HDR: strips the header and decides who
 * checks the transport checksum.
 *
 * - TCP with F_NEEDS_CSUM (its checksum field holds only the pseudo-header sum, as on any
 *   NIC with checksum offload) or F_DATA_VALID (the kernel verified it): `checksumValid`,
 *   the engine skips its software check. Checking a NEEDS_CSUM packet would drop them all.
 * - Anything else with F_NEEDS_CSUM (UDP, say) is finished here the way a NIC or Linux
 *   skb_checksum_help() would: the one's complement sum from csum_start to the end goes
 *   to csum_start + csum_offset. The engine then verifies it like any other packet.
 * - A TCP GSO packet (up to 64 KiB, from TUN_F_TSO4/6) is handed on whole, as one segment
 *   longer than the MSS: exactly what Linux's own receive path does after GRO, and the
 *   engine accepts in-window data of any length (its receive buffer and ACK clocking
 *   count bytes, so a 44-segment packet earns an immediate ACK like 44 small ones would).
 *   Splitting it would cost 44 header parses and 44 engine passes to rebuild what the
 *   kernel just took apart. hdr_len is not used: the engine parses the headers itself.
 *   gso_size is passed on: TCP measures the peer's segment size by it, as Linux's
 *   tcp_measure_rcv_mss does, not by the merged length.
 * - UDP GSO is never asked for (TUN_F_USO4/6 stay off), so such a packet is refused.
 *
 * `packet` is a view into `buf`; copy it if the buffer is reused.
 */
export function receiveVnet(buf: Uint8Array): ReceivedPacket {
  if (buf.length < VNET_HDR_LEN + 1) return { ok: false, reason: "short" };
  const h = decodeVnetHeader(buf);
  const packet = buf.subarray(VNET_HDR_LEN);
  const gsoType = h.gsoType & ~VNET_GSO_ECN;
  const tcp = isPlainTcp(packet);
  if (gsoType !== VNET_GSO_NONE) {
    if ((gsoType !== VNET_GSO_TCPV4 && gsoType !== VNET_GSO_TCPV6) || !tcp) return { ok: false, reason: "unsupported-gso" };
  }
  if ((h.flags & VNET_F_NEEDS_CSUM) !== 0 && !tcp) {
    const at = h.csumStart + h.csumOffset;
    if (h.csumStart >= packet.length || at + 2 > packet.length) return { ok: false, reason: "bad-csum-offsets" };
    let c = finishChecksum(sumBytes(packet, h.csumStart, packet.length));
    // RFC 768: a computed UDP checksum of zero is sent as all ones (zero means "none").
    if (c === 0 && h.csumOffset === UDP_CHECK_OFFSET && ipProtocol(packet) === PROTO_UDP) c = 0xffff;
    packet[at] = c >>> 8;
    packet[at + 1] = c & 0xff;
    return { ok: true, packet, checksumValid: false, gso: false, gsoSize: 0 };
  }
  const trusted = tcp && (h.flags & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) !== 0;
  const gso = gsoType !== VNET_GSO_NONE;
  return { ok: true, packet, checksumValid: trusted, gso, gsoSize: gso ? h.gsoSize : 0 };
}

function ipProtocol(packet: Uint8Array): number {
  return packet[0]! >>> 4 === 4 ? packet[9]! : packet[6]!;
}
