/**
 * Classic libpcap file encoding (the format `tcpdump -w` writes), as pure functions that
 * return byte chunks. Concatenating `pcapHeader()` with any number of `pcapRecord()`s is a
 * file that tcpdump, tshark and Wireshark open.
 *
 * Format: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html (little-endian,
 * microsecond timestamps). Times are the stack's clock in milliseconds (virtual time in the
 * simulator, so a capture of a simulated run starts at the Unix epoch).
 */
import type { Millis } from "../env.js";
import { showValue } from "../show-value.js";

/** LINKTYPE_RAW: each record is a bare IPv4 (or IPv6) packet, no link-layer header. */
export const LINKTYPE_RAW = 101;
/** LINKTYPE_IPV4: each record is a bare IPv4 packet. */
export const LINKTYPE_IPV4 = 228;

const PCAP_MAGIC_USEC = 0xa1b2c3d4;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Large enough for any IPv4 packet; Wireshark's default snap length. */
export const DEFAULT_SNAPLEN = 262_144;

/** The 24-byte file header. */
export function pcapHeader(linkType: number = LINKTYPE_RAW, snapLen: number = DEFAULT_SNAPLEN): Uint8Array {
  const out = new Uint8Array(GLOBAL_HEADER);
  const v = new DataView(out.buffer);
  v.setUint32(0, PCAP_MAGIC_USEC, true);
  v.setUint16(4, 2, true); // version 2.4
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true); // thiszone: timestamps are UTC
  v.setUint32(12, 0, true); // sigfigs
  v.setUint32(16, snapLen, true);
  v.setUint32(20, linkType, true);
  return out;
}

/** Splits a millisecond time into whole seconds and microseconds (rounded). */
export function splitMicros(time: Millis): { seconds: number; micros: number } {
  const totalMicros = Math.round(time * 1000);
  const seconds = Math.floor(totalMicros / 1_000_000);
  return { seconds, micros: totalMicros - seconds * 1_000_000 };
}

/** One packet record; the packet is truncated to `snapLen` like a capture would. */
export function pcapRecord(time: Millis, packet: Uint8Array, snapLen: number = DEFAULT_SNAPLEN): Uint8Array {
  if (!(time >= 0 && Number.isFinite(time))) throw new RangeError(`pcap timestamps must be finite and >= 0 ms, got ${showValue(time)}`);
  const captured = Math.min(packet.length, snapLen);
  const out = new Uint8Array(RECORD_HEADER + captured);
  const v = new DataView(out.buffer);
  const { seconds, micros } = splitMicros(time);
  v.setUint32(0, seconds, true);
  v.setUint32(4, micros, true);
  v.setUint32(8, captured, true);
  v.setUint32(12, packet.length, true);
  out.set(packet.subarray(0, captured), RECORD_HEADER);
  return out;
}
