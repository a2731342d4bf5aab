/**
 * The public wire API: pure codecs for IPv4, IPv6 (with extension headers), TCP, UDP,
 * ICMPv4 and ICMPv6, the address type of both families, the Internet checksum and
 * sequence-number arithmetic. Nothing here does I/O or keeps state.
 */
export type { ParseError, ParseResult } from "./result.js";
export { fail } from "./result.js";

export type { Seq } from "./seq.js";
export { seq, seqAdd, seqDiff, seqGe, seqGt, seqInWindow, seqLe, seqLt, seqMax, seqMin } from "./seq.js";

export { finishChecksum, internetChecksum, pseudoHeaderSum, pseudoHeaderSumFor, sumBytes } from "./checksum.js";

export type { AddressKey, AddressKind, AddressScope, IpFamily } from "./address.js";
export { IpAddress, IpPrefix, endpointKey, parseCidr, parseIpAddress, parseIpPrefix } from "./address.js";

export type {
  Ipv6Chain,
  Ipv6EmitFields,
  Ipv6Extension,
  Ipv6Fragment,
  Ipv6Header,
  Ipv6Option,
  Ipv6Packet,
  Ipv6ParamProblem,
  Ipv6WalkResult,
  Ipv6WalkResume,
} from "./ipv6.js";
export {
  IPV6_HEADER_LENGTH,
  IPV6_MAX_PAYLOAD,
  IPV6_MIN_MTU,
  NH_DESTINATION,
  NH_FRAGMENT,
  NH_HOP_BY_HOP,
  NH_ICMPV6,
  NH_NONE,
  NH_ROUTING,
  emitExtension,
  emitIpv6Header,
  emitIpv6Headers,
  extensionLength,
  extensionType,
  parseIpv6,
  walkIpv6Extensions,
} from "./ipv6.js";

export type { Ipv4EmitFields, Ipv4Header, Ipv4Packet, Ipv4ParseOptions } from "./ipv4.js";
export {
  IPV4_MIN_HEADER,
  PROTO_ICMP,
  PROTO_TCP,
  PROTO_UDP,
  emitIpv4Header,
  formatIpv4Address,
  parseIpv4,
  parseIpv4Address,
} from "./ipv4.js";

export type { PseudoHeader, SackBlock, TcpOptions, TcpSegment } from "./tcp.js";
export {
  ACK,
  CWR,
  ECE,
  FIN,
  NO_OPTIONS,
  OPT_EOL,
  OPT_MSS,
  OPT_NOP,
  OPT_SACK,
  OPT_SACK_PERMITTED,
  OPT_TIMESTAMP,
  OPT_WSCALE,
  PSH,
  RST,
  SYN,
  TCP_MAX_HEADER,
  TCP_MIN_HEADER,
  URG,
  emitTcp,
  flagNames,
  parseTcp,
  headerLength as tcpHeaderLength,
  optionsLength as tcpOptionsLength,
} from "./tcp.js";

export type { UdpDatagram } from "./udp.js";
export { UDP_HEADER_LENGTH, UDP_MAX_LENGTH, emitUdp, parseUdp, udpLength } from "./udp.js";

export type {
  IcmpDestUnreachable,
  IcmpEcho,
  IcmpMessage,
  IcmpOther,
  IcmpParseOptions,
  IcmpQuote,
  IcmpTimeExceeded,
} from "./icmp.js";
export {
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_LENGTH,
  ICMP_QUOTE_TRANSPORT_BYTES,
  ICMP_TIME_EXCEEDED,
  TIME_EXCEEDED_REASSEMBLY,
  TIME_EXCEEDED_TTL,
  UNREACH_ADMIN_PROHIBITED,
  UNREACH_FRAG_NEEDED,
  UNREACH_HOST,
  UNREACH_NET,
  UNREACH_PORT,
  UNREACH_PROTOCOL,
  emitIcmp,
  icmpLength,
  parseIcmp,
  parseIcmpQuote,
} from "./icmp.js";

export type {
  Icmpv6DestUnreachable,
  Icmpv6Echo,
  Icmpv6Message,
  Icmpv6Other,
  Icmpv6PacketTooBig,
  Icmpv6ParameterProblem,
  Icmpv6PseudoHeader,
  Icmpv6Quote,
  Icmpv6TimeExceeded,
} from "./icmpv6.js";
export {
  ICMPV6_DEST_UNREACHABLE,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_HEADER_LENGTH,
  ICMPV6_MAX_QUOTE,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAMETER_PROBLEM,
  ICMPV6_QUOTE_TRANSPORT_BYTES,
  ICMPV6_TIME_EXCEEDED,
  PARAM_PROBLEM_HEADER_FIELD,
  PARAM_PROBLEM_INCOMPLETE_CHAIN,
  PARAM_PROBLEM_NEXT_HEADER,
  PARAM_PROBLEM_OPTION,
  TIME_EXCEEDED6_HOP_LIMIT,
  TIME_EXCEEDED6_REASSEMBLY,
  UNREACH6_ADDRESS,
  UNREACH6_ADMIN_PROHIBITED,
  UNREACH6_BEYOND_SCOPE,
  UNREACH6_NO_ROUTE,
  UNREACH6_PORT,
  UNREACH6_REJECT_ROUTE,
  UNREACH6_SOURCE_POLICY,
  emitIcmpv6,
  icmpv6Length,
  isIcmpv6Error,
  parseIcmpv6,
  parseIcmpv6Quote,
} from "./icmpv6.js";
