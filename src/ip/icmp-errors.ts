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
