/**
 * Reassembly of incoming IPv4 fragments (RFC 791 3.2 "Reassembly", RFC 1122 3.3.2), with
 * the defences Linux added against fragment attacks.
 *
 * Fragments belong together when source, destination, protocol and identification match
 * (RFC 791). Each partial datagram keeps its fragments as a sorted list of non-overlapping
 * byte ranges; it is complete when the last fragment (MF clear) fixed the length and the
 * held bytes add up to it (non-overlapping ranges inside [0, length) that sum to length
 * cover it exactly).
 *
 * Shared with IPv6 (fragment-queue.ts): the partial datagrams and their timeout, overlap and
 * duplicate handling, contradicting last fragments, and the memory and count limits. IPv4's
 * own rules, following Linux net/ipv4/ip_fragment.c where RFCs leave room:
 *   - A datagram that would exceed 65,535 bytes ("ping of death") drops the whole partial
 *     datagram, and so does a non-last fragment whose length is not a multiple of 8, which
 *     violates RFC 791 (Linux trims it instead).
 *   - Timeout: 30 s from the first fragment (Linux ipfrag_time). On expiry the caller sends
 *     ICMP time exceeded, code 1, if the first fragment had arrived (RFC 1122 3.3.2: SHOULD).
 */
import type { Millis } from "../env.js";
import { rewriteReassembledHeader, type Ipv4Header } from "../wire/ipv4.js";
import { v4Datagram, type InboundDatagram } from "./datagram.js";
import { FragmentQueue, type FragmentDrop, type PartialDatagram, type ReassemblyConfig, type ReassemblyStats } from "./fragment-queue.js";

export { checkReassemblyConfig, FRAGMENT_OVERHEAD, type ReassemblyConfig, type ReassemblyStats } from "./fragment-queue.js";

export const REASSEMBLY_DEFAULTS: Readonly<ReassemblyConfig> = Object.freeze({
  timeout: 30_000,
  maxBytes: 4 * 1024 * 1024,
  maxDatagrams: 1024,
});

/** The IPv4 total-length limit a reassembled datagram must respect. */
const MAX_DATAGRAM = 0xffff;

export type InsertResult =
  | { kind: "complete"; datagram: InboundDatagram }
  | { kind: "held" }
  | FragmentDrop;

/** A partial datagram that timed out; `first` is its first fragment when that had arrived. */
export interface ExpiredDatagram {
  src: number;
  dst: number;
  protocol: number;
  id: number;
  bytesHeld: number;
  first: InboundDatagram | undefined;
}

/** What IPv4 keeps of the fragment at offset 0: its header, as fields and as bytes. */
interface FirstFragment {
  header: Ipv4Header;
  raw: Uint8Array;
}

/** A partial IPv4 datagram; its origin is the first-arriving fragment's header. */
type Partial = PartialDatagram<FirstFragment, Ipv4Header>;

export class Reassembler {
  private readonly queue: FragmentQueue<FirstFragment, Ipv4Header>;

  constructor(readonly config: ReassemblyConfig = REASSEMBLY_DEFAULTS) {
    this.queue = new FragmentQueue(config);
  }

  get stats(): ReassemblyStats {
    return this.queue.stats;
  }

  /** Bytes charged for every fragment held now. */
  get bytesHeld(): number {
    return this.queue.bytesHeld;
  }

  /** Partial datagrams held now. */
  get datagramsHeld(): number {
    return this.queue.datagramsHeld;
  }

  /**
   * Offers one fragment (a packet with MF set or a non-zero offset). `rawHeader` is its
   * IP header as received. The fragment's bytes are copied: the caller keeps its buffer.
   */
  insert(now: Millis, header: Ipv4Header, payload: Uint8Array, rawHeader: Uint8Array): InsertResult {
    this.queue.stats.fragments++;
    const start = header.fragmentOffset;
    const f = { start, end: start + payload.length, more: header.moreFragments, id: header.id };
    const key = `${header.src}/${header.dst}/${header.protocol}/${header.id}`;
    const p = this.queue.add(now, key, header, f, payload, ipv4Problem(header, f.start, f.end));
    if ("kind" in p) return p;
    if (start === 0) p.first = { header, raw: rawHeader.slice() };
    return p.whole ? { kind: "complete", datagram: this.complete(p) } : { kind: "held" };
  }

  /** Frees every partial datagram whose deadline is at or before `now`. */
  expire(now: Millis): ExpiredDatagram[] {
    return this.queue.expire(now).map((p) => {
      const h = p.origin;
      const head = p.ranges.head;
      const first = p.first !== undefined && head !== undefined ? v4Datagram(p.first.header, head.data, p.first.raw) : undefined;
      return { src: h.src, dst: h.dst, protocol: h.protocol, id: h.id, bytesHeld: p.charged, first };
    });
  }

  /** When the oldest partial datagram times out, or Infinity. */
  nextDeadline(): Millis {
    return this.queue.nextDeadline();
  }

  /** Joins the pieces and describes the whole datagram with the first fragment's header. */
  private complete(p: Partial): InboundDatagram {
    this.queue.complete(p);
    const length = p.length!;
    const payload = new Uint8Array(length);
    p.ranges.joinInto(payload, 0);
    const first = p.first!;
    const totalLength = first.header.headerLength + length;
    const header: Ipv4Header = { ...first.header, totalLength, moreFragments: false, fragmentOffset: 0 };
    const raw = first.raw;
    rewriteReassembledHeader(raw, totalLength, first.header.dontFragment);
    return v4Datagram(header, payload, raw);
  }
}

/** Why IPv4's own rules refuse a fragment of bytes [start, end), or undefined. */
function ipv4Problem(header: Ipv4Header, start: number, end: number): string | undefined {
  if (header.headerLength + end > MAX_DATAGRAM) return `datagram would exceed ${MAX_DATAGRAM} bytes`;
  if (header.moreFragments && (end - start) % 8 !== 0) return "non-last fragment length is not a multiple of 8 (RFC 791)";
  return undefined;
}
