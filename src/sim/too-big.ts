/**
 * What a router in front of a narrower link answers when a packet does not fit and may not
 * be fragmented: ICMP "fragmentation needed and DF set" with the next-hop MTU (RFC 1191
 * section 4, RFC 792) or ICMPv6 "packet too big" (RFC 4443 3.2). The simulator's links use
 * it when configured with `mtuErrors: true`, so path MTU discovery can be tested and
 * watched; without it an oversize packet just vanishes (a black hole).
 */
import { IpAddress } from "../wire/address.js";
import { emitIcmp, icmpLength, ICMP_DEST_UNREACHABLE, UNREACH_FRAG_NEEDED } from "../wire/icmp.js";
import { emitIcmpv6, ICMPV6_MAX_QUOTE, icmpv6Length } from "../wire/icmpv6.js";
import { emitIpv4Header, IPV4_MIN_HEADER, PROTO_ICMP, readU32 } from "../wire/ipv4.js";
import { emitIpv6Header, IPV6_HEADER_LENGTH, NH_ICMPV6 } from "../wire/ipv6.js";

/** Offset of the IPv4 destination address: all the routing the simulator needs. */
const IPV4_DST = 16;
/** Offset of the IPv6 destination address (RFC 8200 section 3). */
const IPV6_DST = 24;
/** IPv4 DF flag in the flags/fragment-offset field (RFC 791). */
const FLAG_DF = 0x4000;

/**
 * The ICMP error a router at `router` sends back for `packet` that did not fit `mtu`, or
 * undefined when none is due (an IPv4 packet without DF is fragmented by routers, not
 * refused; RFC 1812 4.2.2.1 forbids errors about ICMP errors, so none for those).
 */
export function tooBigError(packet: Uint8Array, mtu: number, router: IpAddress): Uint8Array | undefined {
  const version = packet[0]! >>> 4;
  if (version === 4 && packet.length >= 20) {
    if ((((packet[6]! << 8) | packet[7]!) & FLAG_DF) === 0) return undefined;
    if (packet[9] === PROTO_ICMP && packet[(packet[0]! & 0x0f) * 4] === ICMP_DEST_UNREACHABLE) return undefined;
    const src = ((packet[12]! << 24) | (packet[13]! << 16) | (packet[14]! << 8) | packet[15]!) >>> 0;
    // RFC 792: the IP header and the first 8 bytes of the datagram (Linux quotes more; 28 suffice).
    const original = packet.subarray(0, (packet[0]! & 0x0f) * 4 + 8);
    const msg = { kind: "dest-unreachable" as const, code: UNREACH_FRAG_NEEDED, nextHopMtu: mtu, original };
    const out = new Uint8Array(20 + icmpLength(msg));
    emitIpv4Header({ src: router.w3, dst: src, protocol: PROTO_ICMP, payloadLength: icmpLength(msg) }, out, 0);
    emitIcmp(msg, out, 20);
    return out;
  }
  if (version === 6 && packet.length >= IPV6_HEADER_LENGTH) {
    if (packet[6] === NH_ICMPV6 && packet[IPV6_HEADER_LENGTH]! < 128) return undefined;
    const src = IpAddress.fromBytes(packet, 8, 6);
    const msg = { kind: "packet-too-big" as const, mtu, original: packet.subarray(0, Math.min(packet.length, ICMPV6_MAX_QUOTE)) };
    const out = new Uint8Array(IPV6_HEADER_LENGTH + icmpv6Length(msg));
    emitIpv6Header({ src: router, dst: src, nextHeader: NH_ICMPV6, payloadLength: icmpv6Length(msg) }, out, 0);
    emitIcmpv6(msg, out, IPV6_HEADER_LENGTH, { src: router, dst: src });
    return out;
  }
  return undefined;
}

/** The destination of a packet of either family, by its version nibble; undefined if too short. */
export function destinationOf(packet: Uint8Array): IpAddress | undefined {
  if (packet.length > 0 && packet[0]! >>> 4 === 6) return packet.length >= IPV6_HEADER_LENGTH ? IpAddress.fromBytes(packet, IPV6_DST, 6) : undefined;
  return packet.length >= IPV4_MIN_HEADER ? IpAddress.v4(readU32(packet, IPV4_DST)) : undefined;
}
