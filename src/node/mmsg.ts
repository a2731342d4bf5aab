/**
 * The bytes behind sendmmsg(2) and recvmmsg(2) with UDP segmentation and receive offload,
 * as pure functions over a DataView, so they are tested without a socket
 * (test/node/mmsg.test.ts); udp-batch.ts does the system calls.
 *
 * Read first: Linux include/linux/socket.h (struct msghdr, struct mmsghdr, struct cmsghdr,
 * CMSG_ALIGN), include/uapi/linux/udp.h (UDP_SEGMENT, UDP_GRO), net/ipv4/udp.c
 * (udp_send_skb: the gso_size checks; udp_cmsg_recv: the UDP_GRO cmsg carries an int)
 * and the man pages sendmmsg(2), recvmmsg(2), udp(7). quic-go (sys_conn_oob.go) and
 * wireguard-go (conn/bind_std.go) batch their UDP the same way.
 *
 * Layout: 64-bit Linux, little-endian (as everywhere in synack: wire/checksum.ts assumes
 * it). Pointers in the structures are absolute addresses, so the functions take the
 * native base address of the arena the DataView covers (any number in the tests).
 */
import { IpAddress, parseIpAddress } from "../wire/address.js";

export const SOL_UDP = 17;
/** setsockopt / cmsg: segment size for UDP GSO (Linux 4.18). */
export const UDP_SEGMENT = 103;
/** setsockopt: coalesce received datagrams (Linux 5.0); the cmsg tells the segment size. */
export const UDP_GRO = 104;
/**
 * Segments per GSO send. Linux's UDP_MAX_SEGMENTS was 64 until 6.2 (then 128): the lower
 * figure works on every kernel that has UDP_SEGMENT at all.
 */
export const MAX_GSO_SEGMENTS = 64;
/**
 * Payload bytes of one UDP datagram, GSO or not: the IP length field caps it (65535 - 20
 * - 8 for IPv4; IPv6 allows 65527 but one limit for both keeps this simple).
 */
export const MAX_UDP_PAYLOAD = 65507;

/** struct mmsghdr: a 56-byte struct msghdr, then unsigned int msg_len, padded to 8. */
export const MMSGHDR_SIZE = 64;
const MSG_NAME = 0;
const MSG_NAMELEN = 8;
const MSG_IOV = 16;
const MSG_IOVLEN = 24;
const MSG_CONTROL = 32;
const MSG_CONTROLLEN = 40;
const MSG_FLAGS = 48;
const MSG_LEN = 56;
/** struct iovec: void *iov_base, size_t iov_len. */
export const IOVEC_SIZE = 16;
/** Room for a struct sockaddr_in6 (28 bytes), rounded up. */
export const SOCKADDR_SPACE = 32;
/** struct cmsghdr: size_t cmsg_len, int cmsg_level, int cmsg_type, then the data (aligned to 8). */
const CMSG_HDR = 16;
/** CMSG_SPACE(sizeof(int)): the UDP_SEGMENT (u16) and UDP_GRO (int) messages both fit. */
export const CMSG_SPACE_INT = 24;
/** msg_flags: the datagram did not fit the buffer (it cannot happen with 64 KiB buffers; checked anyway). */
export const MSG_TRUNC = 0x20;
export const MSG_CTRUNC = 0x08;

const AF_INET = 2;
const AF_INET6 = 10;

export interface SockAddr {
  host: string;
  port: number;
}

/**
 * Writes a struct sockaddr_in or sockaddr_in6 for a numeric address; returns its length
 * (16 or 28). Names must be resolved before: the kernel takes numbers only.
 */
export function encodeSockaddr(to: SockAddr, buf: Uint8Array, offset: number): number {
  const addr = parseIpAddress(to.host);
  if (addr === undefined) throw new TypeError(`not a numeric IP address: ${JSON.stringify(to.host)}`);
  const v = new DataView(buf.buffer, buf.byteOffset + offset, SOCKADDR_SPACE);
  buf.fill(0, offset, offset + SOCKADDR_SPACE);
  // sa_family is host order, sin_port network order.
  v.setUint16(2, to.port, false);
  if (addr.family === 4) {
    v.setUint16(0, AF_INET, true);
    addr.write(buf, offset + 4);
    return 16;
  }
  v.setUint16(0, AF_INET6, true);
  // sin6_flowinfo at 4 stays 0, the address at 8, sin6_scope_id at 24 stays 0.
  addr.write(buf, offset + 8);
  return 28;
}

/** Reads a sockaddr_in / sockaddr_in6 (as recvmmsg fills msg_name); undefined for another family. */
export function decodeSockaddr(buf: Uint8Array, offset: number): SockAddr | undefined {
  const v = new DataView(buf.buffer, buf.byteOffset + offset, SOCKADDR_SPACE);
  const family = v.getUint16(0, true);
  const port = v.getUint16(2, false);
  if (family === AF_INET) return { host: IpAddress.fromBytes(buf, offset + 4, 4).toString(), port };
  if (family === AF_INET6) {
    const a = IpAddress.fromBytes(buf, offset + 8, 6);
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; show them as node:dgram does.
    return { host: a.toString(), port };
  }
  return undefined;
}

/** Where one message's pieces live in the arena (offsets from its start). */
export interface MsgSlot {
  msg: number;
  name: number;
  nameLen: number;
  iov: number;
  iovCount: number;
  control: number;
  controlLen: number;
}

/** Fills struct msghdr at slot.msg with pointers base + offset; msg_len and msg_flags start at 0. */
export function writeMsghdr(v: DataView, base: bigint, slot: MsgSlot): void {
  const m = slot.msg;
  v.setBigUint64(m + MSG_NAME, slot.nameLen > 0 ? base + BigInt(slot.name) : 0n, true);
  v.setUint32(m + MSG_NAMELEN, slot.nameLen, true);
  v.setUint32(m + MSG_NAMELEN + 4, 0, true);
  v.setBigUint64(m + MSG_IOV, base + BigInt(slot.iov), true);
  v.setBigUint64(m + MSG_IOVLEN, BigInt(slot.iovCount), true);
  v.setBigUint64(m + MSG_CONTROL, slot.controlLen > 0 ? base + BigInt(slot.control) : 0n, true);
  v.setBigUint64(m + MSG_CONTROLLEN, BigInt(slot.controlLen), true);
  v.setInt32(m + MSG_FLAGS, 0, true);
  v.setUint32(m + MSG_LEN, 0, true);
}

export function writeIovec(v: DataView, at: number, base: bigint, dataOffset: number, length: number): void {
  v.setBigUint64(at, base + BigInt(dataOffset), true);
  v.setBigUint64(at + 8, BigInt(length), true);
}

/** Writes the UDP_SEGMENT control message (a u16 gso_size); returns CMSG_SPACE(sizeof(u16)). */
export function writeSegmentCmsg(v: DataView, at: number, gsoSize: number): number {
  v.setBigUint64(at, BigInt(CMSG_HDR + 2), true);
  v.setInt32(at + 8, SOL_UDP, true);
  v.setInt32(at + 12, UDP_SEGMENT, true);
  v.setUint16(at + 16, gsoSize, true);
  v.setUint16(at + 18, 0, true);
  v.setUint32(at + 20, 0, true);
  return CMSG_SPACE_INT;
}

/** What recvmmsg left in one message: its length, flags and the control bytes' length. */
export function readReceived(v: DataView, msg: number): { length: number; flags: number; controlLen: number } {
  return { length: v.getUint32(msg + MSG_LEN, true), flags: v.getInt32(msg + MSG_FLAGS, true), controlLen: Number(v.getBigUint64(msg + MSG_CONTROLLEN, true)) };
}

/**
 * The segment size from a UDP_GRO control message among the `length` control bytes at
 * `at`, or 0 when there is none (the read is one plain datagram). Walks the cmsgs the way
 * CMSG_NXTHDR does, stopping at a malformed length.
 */
export function parseGroSize(v: DataView, at: number, length: number): number {
  let off = 0;
  while (off + CMSG_HDR <= length) {
    const len = Number(v.getBigUint64(at + off, true));
    if (len < CMSG_HDR || off + len > length) return 0;
    const level = v.getInt32(at + off + 8, true);
    const type = v.getInt32(at + off + 12, true);
    if (level === SOL_UDP && type === UDP_GRO) {
      // udp_cmsg_recv puts an int; accept a u16 too (what the send side uses).
      if (len >= CMSG_HDR + 4) return v.getInt32(at + off + CMSG_HDR, true);
      if (len >= CMSG_HDR + 2) return v.getUint16(at + off + CMSG_HDR, true);
      return 0;
    }
    off += (len + 7) & ~7;
  }
  return 0;
}

/**
 * Splits a coalesced read back into the datagrams the sender sent: GRO glues datagrams of
 * one size (the last one may be shorter) from one flow, and reports that size
 * (udp_gro_receive). No cmsg, or a size at least the read's length, means one datagram.
 * The pieces are views into `data`.
 */
export function splitGro(data: Uint8Array, gsoSize: number): Uint8Array[] {
  if (gsoSize <= 0 || gsoSize >= data.length) return [data];
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += gsoSize) out.push(data.subarray(at, Math.min(at + gsoSize, data.length)));
  return out;
}

/** One send: `count` datagrams from `start`, as one GSO datagram of segment size `segment` when count > 1. */
export interface SendGroup {
  start: number;
  count: number;
  segment: number;
}

/**
 * Groups consecutive datagrams (all to one peer) into UDP_SEGMENT sends: a group is a run
 * of equal sizes, optionally ended by one shorter datagram, the only shape GSO can
 * express (the kernel cuts the payload every gso_size bytes). A group also stops at
 * `maxSegments` and at `maxBytes` in all. Anything else goes alone (count 1).
 */
export function planSendGroups(sizes: readonly number[], maxSegments = MAX_GSO_SEGMENTS, maxBytes = MAX_UDP_PAYLOAD): SendGroup[] {
  const groups: SendGroup[] = [];
  for (let i = 0; i < sizes.length; ) {
    const segment = sizes[i]!;
    let count = 1;
    let total = segment;
    while (i + count < sizes.length && count < maxSegments) {
      const next = sizes[i + count]!;
      if (next > segment || next === 0 || total + next > maxBytes) break;
      count++;
      total += next;
      if (next < segment) break;
    }
    groups.push({ start: i, count, segment });
    i += count;
  }
  return groups;
}
