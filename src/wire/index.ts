/**
 * The public wire API: pure codecs for IPv4, TCP, UDP and ICMPv4, the Internet checksum
 * and sequence-number arithmetic. Nothing here does I/O or keeps state.
 */
export type { ParseError, ParseResult } from "./result.js";
export { fail } from "./result.js";

export type { Seq } from "./seq.js";
export { seq, seqAdd, seqDiff, seqGe, seqGt, seqInWindow, seqLe, seqLt, seqMax, seqMin } from "./seq.js";

export { finishChecksum, internetChecksum, pseudoHeaderSum, sumBytes } from "./checksum.js";

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
