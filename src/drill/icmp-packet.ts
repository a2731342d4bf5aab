/**
 * Inbound ICMP and ICMPv6 errors of packetdrill scripts (`< icmp unreachable frag_needed mtu
 * 840 [0:1000(1000)]`, `< icmp packet_too_big mtu 1400`), built as packetdrill builds them:
 * the error comes from the script's address to synack's and quotes a TCP segment synack
 * sent on the connection under test, its IP header (synack's address to the script's) and
 * the first 8 bytes of TCP (ports and sequence number, RFC 792, RFC 4443 2.4(c)). The quoted
 * sequence number is the script's, shifted by synack's ISN (0 when the script quotes none,
 * so the SYN's), as packetdrill's run_packet.c maps it.
 *
 * Type and code names follow packetdrill's tables for the run's wire family: ICMPv4 names
 * over IPv4 (an ipv4-mapped-ipv6 run included), ICMPv6 names over IPv6. A name the family
 * does not have is an error of the script, as packetdrill reports it.
 */
import type { IcmpPacketSpec } from "./ast.js";
import { DrillFailure, DrillUnsupportedError, type SourcePos } from "./errors.js";
import type { Addressing, NumberMap } from "./packet.js";
import { emitIcmp, ICMP_HEADER_LENGTH } from "../wire/icmp.js";
import { emitIcmpv6, ICMPV6_HEADER_LENGTH } from "../wire/icmpv6.js";
import { emitIpv4Header, PROTO_ICMP, PROTO_TCP } from "../wire/ipv4.js";
import { emitIpv6Header, IPV6_HEADER_LENGTH, NH_ICMPV6 } from "../wire/ipv6.js";

interface IcmpTypeInfo {
  type: number;
  codes: Record<string, number>;
  /** The MTU goes in the rest-of-header word (frag_needed's next-hop MTU, packet_too_big's MTU). */
  mtu?: "low16" | "word";
}

/** packetdrill's ICMPv4 names (icmp_packet.c) that synack's stack acts on or ignores. */
const ICMP4: Record<string, IcmpTypeInfo> = {
  unreachable: {
    type: 3,
    codes: { net_unreachable: 0, host_unreachable: 1, protocol_unreachable: 2, port_unreachable: 3, frag_needed: 4, source_route_failed: 5, net_unknown: 6, host_unknown: 7, source_host_isolated: 8, net_prohibited: 9, host_prohibited: 10, net_unreachable_for_tos: 11, host_unreachable_for_tos: 12, packet_filtered: 13, precedence_violation: 14, precedence_cutoff: 15 },
    mtu: "low16",
  },
  time_exceeded: { type: 11, codes: { ttl_exceeded: 0, fragment_reassembly_time_exceeded: 1 } },
  source_quench: { type: 4, codes: {} },
  parameter_problem: { type: 12, codes: {} },
};

/** packetdrill's ICMPv6 names. */
const ICMP6: Record<string, IcmpTypeInfo> = {
  unreachable: { type: 1, codes: { no_route: 0, admin_prohibited: 1, beyond_scope: 2, address_unreachable: 3, port_unreachable: 4 } },
  packet_too_big: { type: 2, codes: {}, mtu: "word" },
  time_exceeded: { type: 3, codes: { hop_limit_exceeded: 0, fragment_reassembly_time_exceeded: 1 } },
  parameter_problem: { type: 4, codes: { erroneous_header: 0, unrecognized_next_header: 1, unrecognized_ipv6_option: 2 } },
};

/** The first bytes of the TCP header an error quotes: ports and sequence number. */
const QUOTED_TCP = 8;
const TCP_HEADER = 20;

/** The IP packet carrying the script's ICMP error, checksums filled in. */
export function buildInboundIcmp(spec: IcmpPacketSpec, map: NumberMap, at: Addressing, pos: SourcePos): Uint8Array {
  const v6 = at.remoteAddr.family === 6;
  const table = v6 ? ICMP6 : ICMP4;
  const info = table[spec.icmpType];
  if (info === undefined) {
    if ((v6 ? ICMP4 : ICMP6)[spec.icmpType] !== undefined) throw new DrillFailure(`ICMP${v6 ? "v6" : "v4"} has no type ${spec.icmpType} (packetdrill rejects it in this run)`, pos);
    throw new DrillUnsupportedError(`ICMP type ${spec.icmpType}`, pos);
  }
  let code = 0;
  if (spec.icmpCode !== undefined) {
    const c = info.codes[spec.icmpCode];
    if (c === undefined) throw new DrillFailure(`ICMP${v6 ? "v6" : "v4"} ${spec.icmpType} has no code ${spec.icmpCode} (packetdrill rejects it in this run)`, pos);
    code = c;
  }
  if (spec.echoed !== undefined && spec.echoed.kind !== "tcp") throw new DrillUnsupportedError(`ICMP errors quoting ${spec.echoed.kind.toUpperCase()}`, pos);
  const seq = map.toWire(spec.echoed?.seq.start ?? 0);
  const quotedLength = TCP_HEADER + (spec.echoed?.seq.len ?? 0);

  // The quoted packet: synack's IP header and the start of its TCP segment.
  const innerIp = v6 ? IPV6_HEADER_LENGTH : 20;
  const quote = new Uint8Array(innerIp + QUOTED_TCP);
  if (v6) emitIpv6Header({ src: at.localAddr, dst: at.remoteAddr, nextHeader: PROTO_TCP, payloadLength: quotedLength, trafficClass: 0, hopLimit: 64 }, quote, 0);
  else emitIpv4Header({ src: at.localAddr.v4Value!, dst: at.remoteAddr.v4Value!, protocol: PROTO_TCP, payloadLength: quotedLength, tos: 0, ttl: 64, dontFragment: true }, quote, 0);
  const tcp = new DataView(quote.buffer, innerIp);
  tcp.setUint16(0, at.localPort);
  tcp.setUint16(2, at.remotePort);
  tcp.setUint32(4, seq);

  const mtu = spec.mtu ?? 0;
  const rest = info.mtu === "low16" ? mtu & 0xffff : info.mtu === "word" ? mtu >>> 0 : 0;
  const icmpLength = (v6 ? ICMPV6_HEADER_LENGTH : ICMP_HEADER_LENGTH) + quote.length;
  const outerIp = v6 ? IPV6_HEADER_LENGTH : 20;
  const packet = new Uint8Array(outerIp + icmpLength);
  if (v6) {
    emitIpv6Header({ src: at.remoteAddr, dst: at.localAddr, nextHeader: NH_ICMPV6, payloadLength: icmpLength, trafficClass: 0, hopLimit: 64 }, packet, 0);
    emitIcmpv6({ kind: "other", type: info.type, code, rest, body: quote }, packet, outerIp, { src: at.remoteAddr, dst: at.localAddr });
  } else {
    emitIpv4Header({ src: at.remoteAddr.v4Value!, dst: at.localAddr.v4Value!, protocol: PROTO_ICMP, payloadLength: icmpLength, tos: 0, ttl: 64, dontFragment: false }, packet, 0);
    emitIcmp({ kind: "other", type: info.type, code, rest, body: quote }, packet, outerIp);
  }
  return packet;
}
