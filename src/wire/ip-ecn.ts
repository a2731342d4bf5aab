/**
 * The ECN field of an IP packet (RFC 3168 section 5): the low two bits of the IPv4 TOS
 * byte or of the IPv6 Traffic Class. Read and rewritten in place, as a router marking
 * Congestion Experienced does (section 5: a router sets CE only in ECT packets).
 */
import { internetChecksum } from "./checksum.js";

/** The ECN field's bits in the TOS byte / traffic class. */
export const ECN_MASK = 0x03;
/** The other six: the DSCP (RFC 2474), what IP_TOS sets for a stream socket. */
export const DSCP_MASK = 0xfc;

/** A value the TOS byte / traffic class can hold (IP_TOS, IPV6_TCLASS): an integer in 0..255. */
export function isTosByte(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 255;
}

/** Reads the codepoint (0 not-ECT, 1 ECT(1), 2 ECT(0), 3 CE), or undefined when `packet` is neither IPv4 nor IPv6. */
export function ipEcn(packet: Uint8Array): number | undefined {
  if (packet.length < 20) return undefined;
  const version = packet[0]! >>> 4;
  if (version === 4) return packet[1]! & 3;
  // IPv6: version(4) | traffic class(8) | flow label(20); the class's low two bits are bits 5-4 of byte 1.
  if (version === 6 && packet.length >= 40) return (packet[1]! >>> 4) & 3;
  return undefined;
}

/**
 * Writes `codepoint` into the packet's ECN field. IPv4's header checksum is recomputed
 * (RFC 1624's incremental update would give the same result; the header is at most 60 bytes).
 * Returns false, changing nothing, for a packet that is neither IPv4 nor IPv6.
 */
export function setIpEcn(packet: Uint8Array, codepoint: number): boolean {
  const version = packet.length >= 20 ? packet[0]! >>> 4 : 0;
  if (version === 4) {
    const headerLength = (packet[0]! & 0x0f) * 4;
    if (headerLength < 20 || headerLength > packet.length) return false;
    packet[1] = (packet[1]! & 0xfc) | (codepoint & 3);
    packet[10] = 0;
    packet[11] = 0;
    const sum = internetChecksum(packet, 0, headerLength);
    packet[10] = sum >>> 8;
    packet[11] = sum & 0xff;
    return true;
  }
  if (version === 6 && packet.length >= 40) {
    packet[1] = (packet[1]! & 0xcf) | ((codepoint & 3) << 4);
    return true;
  }
  return false;
}
