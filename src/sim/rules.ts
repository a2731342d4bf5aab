/**
 * Scripted faults for tests: "drop the 1st SYN,ACK", "hold the 3rd data segment for 500 ms".
 *
 * A rule sits on one direction of a path (`setPath(from, to, { filter })`), so the direction
 * is implied by where it is attached. Matchers read raw IP bytes with the wire codecs, never
 * with the TCP engine, so the simulator stays independent of src/tcp. Checksums are not
 * verified: a rule matches what is on the wire, even a corrupted packet.
 *
 * Rules count the packets they match, so they are stateful: build one per path and per run.
 */
import { PROTO_TCP, parseIpv4 } from "../wire/ipv4.js";
import { parseTcp } from "../wire/tcp.js";
import type { Millis } from "../env.js";
import type { FaultRule, FaultVerdict } from "./link.js";
import { InvalidSettingError } from "../invalid-setting.js";

/** Says whether a raw IP packet is one the rule is about. */
export type PacketMatcher = (packet: Uint8Array) => boolean;

export interface TcpMatch {
  /** The exact flag byte, e.g. SYN | ACK. A SYN,ACK that also carries ECE does not match. */
  flags?: number;
  /** Flags that must all be set; others may be set too. */
  hasFlags?: number;
  /** Flags that must all be clear. */
  lacksFlags?: number;
  /** IPv4 source / destination address (uint32). */
  src?: number;
  dst?: number;
  srcPort?: number;
  dstPort?: number;
  /** true: only segments carrying data; false: only segments without data. */
  hasPayload?: boolean;
}

/** Matches TCP segments (first fragments only) whose fields satisfy every given criterion. */
export function tcp(match: TcpMatch = {}): PacketMatcher {
  return (packet) => {
    const ip = parseIpv4(packet, { verifyChecksum: false });
    if (!ip.ok) return false;
    const h = ip.value.header;
    if (h.protocol !== PROTO_TCP || h.fragmentOffset !== 0) return false;
    if (match.src !== undefined && h.src !== match.src) return false;
    if (match.dst !== undefined && h.dst !== match.dst) return false;
    const seg = parseTcp(ip.value.payload, null);
    if (!seg.ok) return false;
    const s = seg.value;
    if (match.flags !== undefined && s.flags !== match.flags) return false;
    if (match.hasFlags !== undefined && (s.flags & match.hasFlags) !== match.hasFlags) return false;
    if (match.lacksFlags !== undefined && (s.flags & match.lacksFlags) !== 0) return false;
    if (match.srcPort !== undefined && s.srcPort !== match.srcPort) return false;
    if (match.dstPort !== undefined && s.dstPort !== match.dstPort) return false;
    if (match.hasPayload !== undefined && s.payload.length > 0 !== match.hasPayload) return false;
    return true;
  };
}

/** Matches every packet. */
export const anyPacket: PacketMatcher = () => true;

/**
 * Applies `verdict` to the listed occurrences (1-based) of packets matching `matcher`;
 * every other packet passes. With no occurrences listed, applies it to every match.
 */
export function onMatch(matcher: PacketMatcher, verdict: FaultVerdict, occurrences: readonly number[] = []): FaultRule {
  for (const n of occurrences) {
    if (!(Number.isInteger(n) && n >= 1)) throw new InvalidSettingError(`occurrences are counted from 1, got ${n}`);
  }
  const wanted = new Set(occurrences);
  let seen = 0;
  return (packet) => {
    if (!matcher(packet)) return "pass";
    seen++;
    return wanted.size === 0 || wanted.has(seen) ? verdict : "pass";
  };
}

/** Drops the listed occurrences (1-based) of matching packets: `dropNth(tcp({ flags: SYN | ACK }), 1)`. */
export function dropNth(matcher: PacketMatcher, ...occurrences: number[]): FaultRule {
  if (occurrences.length === 0) throw new InvalidSettingError("dropNth needs at least one occurrence; use dropAll for every match");
  return onMatch(matcher, "drop", occurrences);
}

/** Drops every matching packet (a black hole for, say, all SYNs). */
export function dropAll(matcher: PacketMatcher): FaultRule {
  return onMatch(matcher, "drop");
}

/** Holds the listed occurrences (1-based) of matching packets for an extra `delay` ms. */
export function delayNth(matcher: PacketMatcher, delay: Millis, ...occurrences: number[]): FaultRule {
  if (occurrences.length === 0) throw new InvalidSettingError("delayNth needs at least one occurrence");
  return onMatch(matcher, { delay }, occurrences);
}

/**
 * Combines rules on one path. Every rule sees every packet (so each one's occurrence count
 * does not depend on the others); the first verdict other than "pass" wins.
 */
export function allRules(...rules: FaultRule[]): FaultRule {
  return (packet, index) => {
    let result: FaultVerdict = "pass";
    for (const rule of rules) {
      const verdict = rule(packet, index);
      if (result === "pass") result = verdict;
    }
    return result;
  };
}
