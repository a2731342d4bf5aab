/**
 * UDP header codec (RFC 768), checksum over the IPv4 pseudo-header (RFC 768 "Fields",
 * RFC 1122 4.1.3.4).
 *
 * On IPv4 a checksum field of zero means "the sender computed none"; a computed checksum
 * of zero is therefore sent as 0xffff (its other one's-complement representation).
 * `parseUdp` checks every length before reading a field and never throws.
 */
import { finishChecksum, pseudoSumOf, sumBytes } from "./checksum.js";
import { PROTO_UDP, writeU16 } from "./ipv4.js";
import { fail, type ParseResult } from "./result.js";
import type { PseudoHeader } from "./tcp.js";

export const UDP_HEADER_LENGTH = 8;
/** The largest datagram the 16-bit length field can describe (header included). */
export const UDP_MAX_LENGTH = 0xffff;

// Field offsets (RFC 768 "Format").
const SRC_PORT = 0;
const DST_PORT = 2;
const LENGTH = 4;
const CHECKSUM = 6;

/** The checksum field value that means "no checksum" (IPv4 only). */
const NO_CHECKSUM = 0;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

/**
 * Parses a UDP datagram. `bytes` is the IP payload; bytes beyond the UDP length field are
 * link or IP padding and are ignored. With a pseudo-header a non-zero checksum is verified;
 * a zero checksum (none sent) is accepted over IPv4 (RFC 768). Over IPv6 (an IPv6
 * pseudo-header) the checksum is mandatory and a zero one is "bad-checksum": RFC 8200
 * section 8.1 says a receiving node must discard such a datagram (Linux counts it in
 * UDP InCsumErrors). Pass null to skip verification (offload).
 */
export function parseUdp(bytes: Uint8Array, pseudo: PseudoHeader | null): ParseResult<UdpDatagram> {
  if (bytes.length < UDP_HEADER_LENGTH) return fail("truncated");
  const length = readU16(bytes, LENGTH);
  if (length < UDP_HEADER_LENGTH) return fail("bad-length");
  if (length > bytes.length) return fail("truncated");
  if (pseudo !== null && readU16(bytes, CHECKSUM) === NO_CHECKSUM && typeof pseudo.src !== "number" && pseudo.src.family === 6) return fail("bad-checksum");
  if (pseudo !== null && readU16(bytes, CHECKSUM) !== NO_CHECKSUM) {
    const sum = sumBytes(bytes, 0, length, pseudoSumOf(pseudo.src, pseudo.dst, PROTO_UDP, length));
    if (finishChecksum(sum) !== 0) return fail("bad-checksum");
  }
  return {
    ok: true,
    value: {
      srcPort: readU16(bytes, SRC_PORT),
      dstPort: readU16(bytes, DST_PORT),
      payload: bytes.subarray(UDP_HEADER_LENGTH, length),
    },
  };
}

/** Bytes the datagram occupies on the wire. */
export function udpLength(d: UdpDatagram): number {
  return UDP_HEADER_LENGTH + d.payload.length;
}

/**
 * Writes the datagram (header and payload) at buf[offset] and returns its length.
 * With a pseudo-header the checksum is filled in (0 sent as 0xffff); with null it is left
 * zero, which on IPv4 means "no checksum" (or lets a device with offload fill it in).
 */
export function emitUdp(d: UdpDatagram, buf: Uint8Array, offset: number, pseudo: PseudoHeader | null): number {
  const length = udpLength(d);
  if (length > UDP_MAX_LENGTH) throw new RangeError(`UDP datagram too long: ${length} bytes`);
  writeU16(buf, offset + SRC_PORT, d.srcPort);
  writeU16(buf, offset + DST_PORT, d.dstPort);
  writeU16(buf, offset + LENGTH, length);
  writeU16(buf, offset + CHECKSUM, NO_CHECKSUM);
  buf.set(d.payload, offset + UDP_HEADER_LENGTH);
  if (pseudo !== null) {
    const sum = sumBytes(buf, offset, offset + length, pseudoSumOf(pseudo.src, pseudo.dst, PROTO_UDP, length));
    const checksum = finishChecksum(sum);
    writeU16(buf, offset + CHECKSUM, checksum === NO_CHECKSUM ? 0xffff : checksum);
  }
  return length;
}

function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
