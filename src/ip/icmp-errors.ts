/**
 * What an ICMP error means to a socket: the errno it surfaces as and whether it is "hard"
 * (the peer will not be reachable however often we retry) or "soft" (transient).
 *
 * The table is Linux's icmp_err_convert (net/ipv4/icmp.c); RFC 1122 4.1.3.3 says UDP MUST
 * pass ICMP errors up, and RFC 1122 4.2.3.9 / RFC 5461 describe hard and soft errors.
 * Linux reports an error on a UDP socket without IP_RECVERR only when the socket is
 * connected and the error is hard, plus "fragmentation needed" (EMSGSIZE); everything else
 * is counted and ignored. synack has no IP_RECVERR and follows the same rule.
 */
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_TIME_EXCEEDED,
  UNREACH_FRAG_NEEDED,
} from "../wire/icmp.js";
import { ICMPV6_DEST_UNREACHABLE, ICMPV6_PACKET_TOO_BIG, ICMPV6_PARAMETER_PROBLEM, ICMPV6_TIME_EXCEEDED } from "../wire/icmpv6.js";
import type { IpErrorCode } from "./errors.js";

export interface IcmpErrorMeaning {
  code: IpErrorCode;
  /** A hard error: reported on a connected socket. */
  fatal: boolean;
}

/** Destination unreachable codes 0..15 (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1). */
const UNREACHABLE: readonly IcmpErrorMeaning[] = [
  { code: "ENETUNREACH", fatal: false }, // 0 net unreachable
  { code: "EHOSTUNREACH", fatal: false }, // 1 host unreachable
  { code: "ENOPROTOOPT", fatal: true }, // 2 protocol unreachable
  { code: "ECONNREFUSED", fatal: true }, // 3 port unreachable
  { code: "EMSGSIZE", fatal: false }, // 4 fragmentation needed and DF set
  { code: "EOPNOTSUPP", fatal: false }, // 5 source route failed
  { code: "ENETUNREACH", fatal: true }, // 6 destination network unknown
  { code: "EHOSTDOWN", fatal: true }, // 7 destination host unknown
  { code: "ENONET", fatal: true }, // 8 source host isolated
  { code: "ENETUNREACH", fatal: true }, // 9 network administratively prohibited
  { code: "EHOSTUNREACH", fatal: true }, // 10 host administratively prohibited
  { code: "ENETUNREACH", fatal: false }, // 11 network unreachable for TOS
  { code: "EHOSTUNREACH", fatal: false }, // 12 host unreachable for TOS
  { code: "EHOSTUNREACH", fatal: true }, // 13 communication administratively prohibited
  { code: "EHOSTUNREACH", fatal: true }, // 14 host precedence violation
  { code: "EHOSTUNREACH", fatal: true }, // 15 precedence cutoff in effect
];

/** The meaning of an ICMP error, or undefined for a type that is not an error we map. */
export function icmpErrorMeaning(type: number, code: number): IcmpErrorMeaning | undefined {
  if (type === ICMP_DEST_UNREACHABLE) return UNREACHABLE[code] ?? { code: "EHOSTUNREACH", fatal: false };
  if (type === ICMP_TIME_EXCEEDED) return { code: "EHOSTUNREACH", fatal: false };
  return undefined;
}

/** ICMPv6 destination unreachable codes 0..6 (RFC 4443 3.1), as Linux's tab_unreach. */
const UNREACHABLE6: readonly IcmpErrorMeaning[] = [
  { code: "ENETUNREACH", fatal: false }, // 0 no route to destination
  { code: "EACCES", fatal: true }, // 1 communication administratively prohibited
  { code: "EHOSTUNREACH", fatal: false }, // 2 beyond scope of source address
  { code: "EHOSTUNREACH", fatal: false }, // 3 address unreachable
  { code: "ECONNREFUSED", fatal: true }, // 4 port unreachable
  { code: "EACCES", fatal: true }, // 5 source address failed ingress/egress policy
  { code: "EACCES", fatal: true }, // 6 reject route to destination
];

/** The meaning of an ICMPv6 error (Linux icmpv6_err_convert), or undefined for a type we do not map. */
export function icmpv6ErrorMeaning(type: number, code: number): IcmpErrorMeaning | undefined {
  if (type === ICMPV6_DEST_UNREACHABLE) return UNREACHABLE6[code] ?? { code: "EHOSTUNREACH", fatal: true };
  if (type === ICMPV6_PACKET_TOO_BIG) return { code: "EMSGSIZE", fatal: false };
  if (type === ICMPV6_TIME_EXCEEDED) return { code: "EHOSTUNREACH", fatal: false };
  if (type === ICMPV6_PARAMETER_PROBLEM) return { code: "EPROTO", fatal: true };
  return undefined;
}

/**
 * Whether a connected UDP socket without IP_RECVERR sees this error (Linux __udp4_lib_err:
 * hard errors, and "fragmentation needed" unless path MTU discovery is off).
 */
export function reportedOnConnectedSocket(type: number, code: number, pmtuDiscoveryOff: boolean): boolean {
  const meaning = icmpErrorMeaning(type, code);
  if (meaning === undefined) return false;
  if (type === ICMP_DEST_UNREACHABLE && code === UNREACH_FRAG_NEEDED) return !pmtuDiscoveryOff;
  return meaning.fatal;
}

/**
 * The same for ICMPv6 about a connected UDP socket (Linux __udp6_lib_err with
 * icmpv6_err_convert): hard errors, and "packet too big" unless path MTU discovery is off.
 */
export function reportedOnConnectedSocket6(type: number, code: number, pmtuDiscoveryOff: boolean): boolean {
  const meaning = icmpv6ErrorMeaning(type, code);
  if (meaning === undefined) return false;
  if (type === ICMPV6_PACKET_TOO_BIG) return !pmtuDiscoveryOff;
  return meaning.fatal;
}

/**
 * Which ICMP errors end a half-open (request) entry, as Linux's tcp_v4_err and tcp_v6_err
 * choose for tcp_req_err: over IPv4 only a net or host unreachable, a time exceeded or a
 * parameter problem (not a port or protocol unreachable, which fail a connect()); over
 * IPv6 the errors icmpv6_err_convert calls fatal: a
 * destination unreachable other than no route, beyond scope or address unreachable, and a
 * parameter problem. "Too big" never does before the handshake completes.
 */
export function endsHalfOpen(v6: boolean, type: number, code: number): boolean {
  if (!v6) return type === 12 || type === 11 || (type === 3 && (code === 0 || code === 1));
  if (type === 4) return true;
  return type === 1 && code !== 0 && code !== 2 && code !== 3;
}
