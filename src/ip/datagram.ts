/**
 * A datagram that arrived for this host, whole: either a single packet, or the result of
 * reassembling its fragments. Transports and ICMP see only these.
 */
import type { Ipv4Header } from "../wire/ipv4.js";

export interface InboundDatagram {
  /** Describes the whole datagram: after reassembly MF is clear, the offset 0 and the total length updated. */
  header: Ipv4Header;
  /** The transport bytes. */
  payload: Uint8Array;
  /** The IP header as received (options included), consistent with `header`; ICMP errors quote it. */
  rawHeader: Uint8Array;
}

/**
 * How much of an offending datagram an ICMP error quotes: the IP header and as much data
 * as keeps the error within 576 bytes (RFC 1812 4.3.2.3; Linux icmp_send does the same).
 * RFC 792 requires at least the header and 64 bits of data.
 */
export const ICMP_ERROR_MAX_PACKET = 576;

/** The bytes an ICMP error about `d` carries after its own 8-byte header. */
export function icmpQuote(d: Pick<InboundDatagram, "payload" | "rawHeader">): Uint8Array {
  const room = ICMP_ERROR_MAX_PACKET - 20 - 8;
  const dataBytes = Math.max(0, Math.min(d.payload.length, room - d.rawHeader.length));
  const quote = new Uint8Array(d.rawHeader.length + dataBytes);
  quote.set(d.rawHeader, 0);
  quote.set(d.payload.subarray(0, dataBytes), d.rawHeader.length);
  return quote;
}
