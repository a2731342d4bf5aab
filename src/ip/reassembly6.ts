/**
 * Reassembly of incoming IPv6 fragments. Read first: RFC 8200 section 4.5 ("Fragment
 * Header", the reassembly rules), RFC 5722 (overlapping fragments), RFC 6946 (atomic
 * fragments), RFC 7112 (the first fragment carries the whole header chain).
 *
 * Sans-IO and bounded like the IPv4 reassembler (reassembly.ts), with which it shares the
 * partial datagrams, their rules and their limits (fragment-queue.ts). The input is what
 * `walkIpv6Extensions` returned for a fragment; the output of a completed datagram is the
 * packet rebuilt as RFC 8200 4.5 describes it, plus where the caller resumes the
 * extension-header walk.
 *
 * Rules (RFC 8200 4.5 unless said otherwise; Linux net/ipv6/reassembly.c where it leaves room):
 *   - Fragments belong together when source, destination and Fragment Identification match.
 *   - As for IPv4 (fragment-queue.ts): overlap drops the whole partial datagram, with no
 *     ICMP (RFC 5722 section 4), and a fragment inside bytes already held, in one contiguous
 *     run, is a duplicate dropped alone, which RFC 5722 permits for exact duplicates and
 *     Linux extends to this case; contradicting fragments drop the partial datagram; the
 *     memory and count limits are the same.
 *   - An atomic fragment (offset 0, M clear) is a whole packet, reassembled in isolation:
 *     it never joins or disturbs a partial datagram with the same identification (RFC 6946
 *     section 4). `walkIpv6Extensions` already treats it so; `insert` does the same if
 *     handed one.
 *   - The rebuilt packet is the first fragment's unfragmentable part, with Payload Length
 *     recomputed and the Next Header that named the Fragment header set to the first
 *     fragment's Fragment-header Next Header (only the offset-0 fragment's value counts),
 *     followed by the fragments' data in order.
 *   - A datagram whose rebuilt Payload Length would exceed 65,535 is dropped. (The
 *     per-fragment checks of 4.5, length a multiple of 8 and offset + length within 65,535,
 *     are done by the walk, which asks for the Parameter Problem.)
 *   - RFC 8200 4.5 / RFC 7112 section 5: a first fragment that does not hold the whole
 *     header chain up to and including the upper-layer header is dropped alone and a
 *     Parameter Problem, code 3, pointer 0, is asked for (not about a multicast
 *     destination, RFC 4443 2.4(e)). Like Linux, the upper-layer header's length is known
 *     for TCP (20), UDP (8) and ICMPv6 (8) only.
 *   - Timeout: 60 s from the first-arriving fragment (RFC 8200 4.5; Linux ip6frag_time). On
 *     expiry, if the offset-0 fragment had arrived, the caller sends Time Exceeded code 1
 *     to its source, quoting it (`first`).
 */
import type { Millis } from "../env.js";
import { NH_DESTINATION, NH_FRAGMENT, NH_HOP_BY_HOP, NH_ICMPV6, NH_ROUTING, type Ipv6Chain, type Ipv6Fragment, type Ipv6Header, type Ipv6ParamProblem, type Ipv6WalkResume } from "../wire/ipv6.js";
import { IPV6_HEADER_LENGTH, IPV6_MAX_PAYLOAD } from "../wire/ipv6.js";
import { PROTO_TCP, PROTO_UDP } from "../wire/ipv4.js";
import { FragmentQueue, type FragmentDrop, type PartialDatagram, type ReassemblyConfig, type ReassemblyStats } from "./fragment-queue.js";

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
  | (FragmentDrop & { icmp?: Ipv6ParamProblem });

/** A partial datagram that timed out; `first` is its offset-0 fragment as received, if it came. */
export interface ExpiredDatagram6 {
  header: Ipv6Header;
  id: number;
  bytesHeld: number;
  first: Uint8Array | undefined;
}

/** What IPv6 keeps of the offset-0 fragment: its bytes up to the fragment data, and what the chain said. */
interface FirstFragment6 {
  prefix: Uint8Array;
  header: Ipv6Header;
  fragment: Ipv6Fragment;
  protocol: number;
}

/** What the first-arriving fragment said, for the report of a timeout. */
interface Origin6 {
  header: Ipv6Header;
  id: number;
}

type Partial6 = PartialDatagram<FirstFragment6, Origin6>;

export class Ipv6Reassembler {
  private readonly queue: FragmentQueue<FirstFragment6, Origin6>;

  constructor(readonly config: ReassemblyConfig = REASSEMBLY6_DEFAULTS) {
    this.queue = new FragmentQueue(config, " (RFC 5722)");
  }

  get stats(): ReassemblyStats {
    return this.queue.stats;
  }

  get bytesHeld(): number {
    return this.queue.bytesHeld;
  }

  get datagramsHeld(): number {
    return this.queue.datagramsHeld;
  }

  /**
   * Offers one fragment: `packet` as received (starting with the fixed header), `header`
   * as parsed, `chain` as the walk returned it. Bytes are copied; the caller keeps its buffer.
   */
  insert(now: Millis, packet: Uint8Array, header: Ipv6Header, chain: Ipv6FragmentChain): Insert6Result {
    const stats = this.queue.stats;
    stats.fragments++;
    const f = chain.fragment;
    const start = f.offset;
    const end = start + chain.payload.length;

    // RFC 6946 section 4: an atomic fragment is rebuilt on its own, whatever is held.
    if (start === 0 && !f.more) {
      stats.reassembled++;
      return rebuild({ prefix: packet.subarray(0, chain.offset), header, fragment: f, protocol: chain.protocol }, [chain.payload], end);
    }

    const id = f.id;
    if (start === 0) {
      const missing = incompleteChain(chain.payload, chain.protocol);
      if (missing !== undefined) {
        stats.invalid++;
        const icmp: Ipv6ParamProblem | undefined = header.dst.isMulticast ? undefined : { code: 3, pointer: 0 };
        return { kind: "dropped", reason: "frag-invalid", detail: () => `first fragment (id ${id}) ends inside its header chain: ${missing} (RFC 7112)`, ...(icmp && { icmp }) };
      }
    }

    const key = `${header.src.key}|${header.dst.key}|${id}`;
    const p = this.queue.add(now, key, { header, id }, { start, end, more: f.more, id }, chain.payload);
    if ("kind" in p) return p;
    if (start === 0) p.first = { prefix: packet.slice(0, chain.offset), header, fragment: f, protocol: chain.protocol };
    if (!p.whole) return { kind: "held" };
    return this.complete(p);
  }

  /** Frees every partial datagram whose deadline is at or before `now`. */
  expire(now: Millis): ExpiredDatagram6[] {
    return this.queue.expire(now).map((p) => {
      let first: Uint8Array | undefined;
      const head = p.ranges.head;
      if (p.first !== undefined && head !== undefined) {
        first = new Uint8Array(p.first.prefix.length + head.data.length);
        first.set(p.first.prefix, 0);
        first.set(head.data, p.first.prefix.length);
      }
      return { header: p.origin.header, id: p.origin.id, bytesHeld: p.charged, first };
    });
  }

  /** When the oldest partial datagram times out, or Infinity. */
  nextDeadline(): Millis {
    return this.queue.nextDeadline();
  }

  /** The whole datagram rebuilt, unless its Payload Length would be too large. */
  private complete(p: Partial6): Insert6Result {
    const first = p.first!;
    const length = p.length!;
    // The rebuilt Payload Length counts the first fragment's unfragmentable part too.
    const payloadLength = first.fragment.headerOffset - IPV6_HEADER_LENGTH + length;
    if (payloadLength > IPV6_MAX_PAYLOAD) {
      this.queue.discard(p);
      this.queue.stats.invalid++;
      return { kind: "dropped", reason: "frag-invalid", detail: () => `reassembled payload of ${payloadLength} bytes exceeds ${IPV6_MAX_PAYLOAD} (id ${p.origin.id})` };
    }
    this.queue.complete(p);
    return rebuild(first, p.ranges.pieces.map((x) => x.data), length);
  }
}

/** RFC 8200 4.5: the original packet from the first fragment's unfragmentable part and all the data. */
function rebuild(first: FirstFragment6, pieces: Uint8Array[], length: number): Insert6Result {
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
