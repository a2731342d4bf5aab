/**
 * Reassembly of incoming IPv6 fragments. Read first: RFC 8200 section 4.5 ("Fragment
 * Header", the reassembly rules), RFC 5722 (overlapping fragments), RFC 6946 (atomic
 * fragments), RFC 7112 (the first fragment carries the whole header chain).
 *
 * Sans-IO and bounded like the IPv4 reassembler (reassembly.ts), with which it shares the
 * byte-range bookkeeping (fragment-ranges.ts) and the memory and count limits. The input
 * is what `walkIpv6Extensions` returned for a fragment; the output of a completed datagram
 * is the packet rebuilt as RFC 8200 4.5 describes it, plus where the caller resumes the
 * extension-header walk.
 *
 * Rules (RFC 8200 4.5 unless said otherwise; Linux net/ipv6/reassembly.c where it leaves room):
 *   - Fragments belong together when source, destination and Fragment Identification match.
 *   - An atomic fragment (offset 0, M clear) is a whole packet, reassembled in isolation:
 *     it never joins or disturbs a partial datagram with the same identification (RFC 6946
 *     section 4). `walkIpv6Extensions` already treats it so; `insert` does the same if
 *     handed one.
 *   - The rebuilt packet is the first fragment's unfragmentable part, with Payload Length
 *     recomputed and the Next Header that named the Fragment header set to the first
 *     fragment's Fragment-header Next Header (only the offset-0 fragment's value counts),
 *     followed by the fragments' data in order.
 *   - Overlap: any overlap with held bytes drops the whole partial datagram, with no ICMP
 *     (RFC 5722 section 4). A fragment lying inside bytes already held, in one contiguous
 *     run, is treated as a duplicate and dropped alone, which RFC 5722 permits for exact
 *     duplicates and Linux extends to this case. Later fragments of a dropped datagram
 *     start a new partial datagram, which times out (as Linux).
 *   - Contradictions drop the whole partial datagram: a zero-length fragment, a last
 *     fragment whose end differs from an earlier last one or falls short of held bytes, a
 *     fragment past the known end, and a datagram whose rebuilt Payload Length would
 *     exceed 65,535. (The per-fragment checks of 4.5, length a multiple of 8 and offset +
 *     length within 65,535, are done by the walk, which asks for the Parameter Problem.)
 *   - RFC 8200 4.5 / RFC 7112 section 5: a first fragment that does not hold the whole
 *     header chain up to and including the upper-layer header is dropped alone and a
 *     Parameter Problem, code 3, pointer 0, is asked for (not about a multicast
 *     destination, RFC 4443 2.4(e)). Like Linux, the upper-layer header's length is known
 *     for TCP (20), UDP (8) and ICMPv6 (8) only.
 *   - Memory and count: as IPv4 (FRAGMENT_OVERHEAD per fragment, `maxBytes`, `maxDatagrams`).
 *   - Timeout: 60 s from the first-arriving fragment (RFC 8200 4.5; Linux ip6frag_time). On
 *     expiry, if the offset-0 fragment had arrived, the caller sends Time Exceeded code 1
 *     to its source, quoting it (`first`).
 */
import type { Millis } from "../env.js";
import { NH_DESTINATION, NH_FRAGMENT, NH_HOP_BY_HOP, NH_ICMPV6, NH_ROUTING, type Ipv6Chain, type Ipv6Fragment, type Ipv6Header, type Ipv6ParamProblem, type Ipv6WalkResume } from "../wire/ipv6.js";
import { IPV6_HEADER_LENGTH, IPV6_MAX_PAYLOAD } from "../wire/ipv6.js";
import { PROTO_TCP, PROTO_UDP } from "../wire/ipv4.js";
import type { IpDropReason } from "./drops.js";
import { FragmentRanges } from "./fragment-ranges.js";
import { checkReassemblyConfig, FRAGMENT_OVERHEAD, type ReassemblyConfig, type ReassemblyStats } from "./reassembly.js";

export const REASSEMBLY6_DEFAULTS: Readonly<ReassemblyConfig> = Object.freeze({
  // RFC 8200 4.5: "within 60 seconds of the reception of the first-arriving fragment".
  timeout: 60_000,
  maxBytes: 4 * 1024 * 1024,
  maxDatagrams: 1024,
});

/** A fragment as the walk found it: `chain.fragment` is set. */
export type Ipv6FragmentChain = Ipv6Chain & { fragment: Ipv6Fragment };

export type Insert6Result =
  | {
      kind: "complete";
      /** The rebuilt packet: fixed header, unfragmentable part, then the fragmentable part. */
      packet: Uint8Array;
      /** Its header, Payload Length updated. */
      header: Ipv6Header;
      /** Where `walkIpv6Extensions(packet, header, resume)` picks up the chain. */
      resume: Ipv6WalkResume;
    }
  | { kind: "held" }
  | { kind: "dropped"; reason: IpDropReason; detail: () => string; icmp?: Ipv6ParamProblem };

/** A partial datagram that timed out; `first` is its offset-0 fragment as received, if it came. */
export interface ExpiredDatagram6 {
  header: Ipv6Header;
  id: number;
  bytesHeld: number;
  first: Uint8Array | undefined;
}

class Partial6 {
  readonly ranges = new FragmentRanges();
  charged = 0;
  length: number | undefined = undefined;
  maxEnd = 0;
  /** The offset-0 fragment: its bytes up to the fragment data, and what the chain said. */
  first: { prefix: Uint8Array; header: Ipv6Header; fragment: Ipv6Fragment; protocol: number } | undefined = undefined;

  constructor(
    readonly key: string,
    readonly header: Ipv6Header,
    readonly id: number,
    readonly deadline: Millis,
  ) {}
}

export class Ipv6Reassembler {
  readonly stats: ReassemblyStats = { fragments: 0, reassembled: 0, timeouts: 0, overlaps: 0, duplicates: 0, invalid: 0, tooMany: 0 };
  /** In creation order, which is deadline order since every timeout is the same. */
  private readonly partials = new Map<string, Partial6>();
  private held = 0;

  constructor(readonly config: ReassemblyConfig = REASSEMBLY6_DEFAULTS) {
    checkReassemblyConfig(config);
  }

  get bytesHeld(): number {
    return this.held;
  }

  get datagramsHeld(): number {
    return this.partials.size;
  }

  /**
   * Offers one fragment: `packet` as received (starting with the fixed header), `header`
   * as parsed, `chain` as the walk returned it. Bytes are copied; the caller keeps its buffer.
   */
  insert(now: Millis, packet: Uint8Array, header: Ipv6Header, chain: Ipv6FragmentChain): Insert6Result {
    this.stats.fragments++;
    const f = chain.fragment;
    const start = f.offset;
    const end = start + chain.payload.length;

    // RFC 6946 section 4: an atomic fragment is rebuilt on its own, whatever is held.
    if (start === 0 && !f.more) {
      this.stats.reassembled++;
      return rebuild({ prefix: packet.subarray(0, chain.offset), header, fragment: f, protocol: chain.protocol }, [chain.payload], end);
    }

    const id = f.id;
    if (start === 0) {
      const missing = incompleteChain(chain.payload, chain.protocol);
      if (missing !== undefined) {
        this.stats.invalid++;
        const icmp: Ipv6ParamProblem | undefined = header.dst.isMulticast ? undefined : { code: 3, pointer: 0 };
        return { kind: "dropped", reason: "frag-invalid", detail: () => `first fragment (id ${id}) ends inside its header chain: ${missing} (RFC 7112)`, ...(icmp && { icmp }) };
      }
    }

    const key = `${header.src.key}|${header.dst.key}|${id}`;
    const partial = this.partials.get(key);
    const invalid = this.contradiction(partial, f, start, end);
    if (invalid !== undefined) {
      if (partial !== undefined) this.discard(partial);
      this.stats.invalid++;
      return { kind: "dropped", reason: "frag-invalid", detail: () => `${invalid} (id ${id}, bytes ${start}..${end})` };
    }

    if (partial !== undefined) {
      const relation = partial.ranges.relation(start, end);
      if (relation === "duplicate") {
        this.stats.duplicates++;
        return { kind: "dropped", reason: "frag-duplicate", detail: () => `duplicate fragment (id ${id}, bytes ${start}..${end})` };
      }
      if (relation === "overlap") {
        // RFC 5722 section 4: abandon the datagram, discard what was held, send no ICMP.
        this.discard(partial);
        this.stats.overlaps++;
        return { kind: "dropped", reason: "frag-overlap", detail: () => `fragment bytes ${start}..${end} overlap held bytes (id ${id}); datagram dropped (RFC 5722)` };
      }
    }

    const charge = chain.payload.length + FRAGMENT_OVERHEAD;
    if (partial === undefined && this.partials.size >= this.config.maxDatagrams) {
      this.stats.tooMany++;
      const count = this.partials.size;
      return { kind: "dropped", reason: "frag-limit", detail: () => `${count} partial datagrams held (limit ${this.config.maxDatagrams})` };
    }
    if (this.held + charge > this.config.maxBytes) {
      this.stats.tooMany++;
      const held = this.held;
      return { kind: "dropped", reason: "frag-limit", detail: () => `reassembly memory ${held} + ${charge} bytes over ${this.config.maxBytes}` };
    }

    const p = partial ?? this.create(key, header, id, now);
    p.ranges.add({ start, end, data: chain.payload.slice() });
    p.charged += charge;
    this.held += charge;
    p.maxEnd = Math.max(p.maxEnd, end);
    if (!f.more) p.length = end;
    if (start === 0) p.first = { prefix: packet.slice(0, chain.offset), header, fragment: f, protocol: chain.protocol };
    if (p.length === undefined || p.ranges.received !== p.length || p.first === undefined) return { kind: "held" };

    this.discard(p);
    // The rebuilt Payload Length counts the first fragment's unfragmentable part too.
    const payloadLength = p.first.fragment.headerOffset - IPV6_HEADER_LENGTH + p.length;
    if (payloadLength > IPV6_MAX_PAYLOAD) {
      this.stats.invalid++;
      return { kind: "dropped", reason: "frag-invalid", detail: () => `reassembled payload of ${payloadLength} bytes exceeds ${IPV6_MAX_PAYLOAD} (id ${id})` };
    }
    this.stats.reassembled++;
    return rebuild(p.first, p.ranges.pieces.map((x) => x.data), p.length);
  }

  /** Frees every partial datagram whose deadline is at or before `now`. */
  expire(now: Millis): ExpiredDatagram6[] {
    const expired: ExpiredDatagram6[] = [];
    for (const p of this.partials.values()) {
      if (p.deadline > now) break;
      this.discard(p);
      this.stats.timeouts++;
      let first: Uint8Array | undefined;
      const head = p.ranges.head;
      if (p.first !== undefined && head !== undefined) {
        first = new Uint8Array(p.first.prefix.length + head.data.length);
        first.set(p.first.prefix, 0);
        first.set(head.data, p.first.prefix.length);
      }
      expired.push({ header: p.header, id: p.id, bytesHeld: p.charged, first });
    }
    return expired;
  }

  /** When the oldest partial datagram times out, or Infinity. */
  nextDeadline(): Millis {
    for (const p of this.partials.values()) return p.deadline;
    return Infinity;
  }

  private contradiction(p: Partial6 | undefined, f: Ipv6Fragment, start: number, end: number): string | undefined {
    if (end === start) return "zero-length fragment";
    if (p === undefined) return undefined;
    if (!f.more) {
      if (p.length !== undefined && end !== p.length) return `second last fragment ends at ${end}, first at ${p.length}`;
      if (end < p.maxEnd) return `last fragment ends at ${end} before held bytes end at ${p.maxEnd}`;
    } else if (p.length !== undefined && end > p.length) {
      return `fragment ends at ${end}, past the datagram's end ${p.length}`;
    }
    return undefined;
  }

  private create(key: string, header: Ipv6Header, id: number, now: Millis): Partial6 {
    const p = new Partial6(key, header, id, now + this.config.timeout);
    this.partials.set(key, p);
    return p;
  }

  private discard(p: Partial6): void {
    if (this.partials.delete(p.key)) this.held -= p.charged;
  }
}

/** RFC 8200 4.5: the original packet from the first fragment's unfragmentable part and all the data. */
function rebuild(first: NonNullable<Partial6["first"]>, pieces: Uint8Array[], length: number): Insert6Result {
  const unfragmentable = first.fragment.headerOffset;
  const packet = new Uint8Array(unfragmentable + length);
  packet.set(first.prefix.subarray(0, unfragmentable), 0);
  let at = unfragmentable;
  for (const data of pieces) {
    packet.set(data, at);
    at += data.length;
  }
  const payloadLength = unfragmentable - IPV6_HEADER_LENGTH + length;
  packet[4] = payloadLength >>> 8;
  packet[5] = payloadLength & 0xff;
  // The Next Header that named the Fragment header now names what followed it.
  packet[first.fragment.nextHeaderPointer] = first.protocol;
  return {
    kind: "complete",
    packet,
    header: { ...first.header, payloadLength, nextHeader: packet[6]! },
    resume: { offset: unfragmentable, nextHeader: first.protocol, pointer: first.fragment.nextHeaderPointer },
  };
}

/** Upper-layer header lengths known for the RFC 7112 check (as Linux ipv6frag_thdr_truncated). */
const UPPER_HEADER: Readonly<Record<number, number>> = { [PROTO_TCP]: 20, [PROTO_UDP]: 8, [NH_ICMPV6]: 8 };

/**
 * Why the first fragment's data does not hold the whole header chain, or undefined if it
 * does. `data` is the fragment's data, `nh` the Fragment header's Next Header.
 */
function incompleteChain(data: Uint8Array, nh: number): string | undefined {
  let at = 0;
  for (;;) {
    if (nh === NH_HOP_BY_HOP || nh === NH_DESTINATION || nh === NH_ROUTING) {
      if (at + 2 > data.length) return `extension header ${nh} cut`;
      const next = data[at]!;
      at += (data[at + 1]! + 1) * 8;
      nh = next;
    } else if (nh === NH_FRAGMENT) {
      if (at + 8 > data.length) return "fragment header cut";
      nh = data[at]!;
      at += 8;
    } else {
      const need = UPPER_HEADER[nh] ?? 0;
      return at + need > data.length ? `upper-layer header ${nh} needs ${need} bytes at ${at}, fragment has ${data.length}` : undefined;
    }
  }
}
