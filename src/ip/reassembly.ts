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
 * Rules, following Linux net/ipv4/ip_fragment.c and inet_fragment.c where RFCs leave room:
 *   - Overlap: a fragment that lies entirely inside bytes already held (one contiguous run)
 *     is a duplicate and is dropped alone; any other overlap drops the whole partial
 *     datagram, as RFC 5722 requires for IPv6 and Linux does for IPv4 since 4.19
 *     (IPSTATS_MIB_REASM_OVERLAPS). Later fragments of that datagram start a new partial
 *     datagram, which then times out (Linux does the same; RFC 5722 would also drop them).
 *     Duplicates are not compared byte by byte (neither does Linux).
 *   - Contradictions drop the whole partial datagram: a last fragment whose end differs from
 *     an earlier last fragment or falls short of bytes already held, a fragment past the
 *     known end, a zero-length fragment, and a datagram that would exceed 65,535 bytes
 *     ("ping of death"). A non-last fragment whose length is not a multiple of 8 violates
 *     RFC 791 and is treated the same way (Linux trims it instead).
 *   - Memory: every held fragment is charged its length plus FRAGMENT_OVERHEAD (standing in
 *     for Linux's skb truesize, so a flood of tiny fragments is bounded too). A fragment
 *     that would push the total over `maxBytes` is dropped (Linux drops fragments while
 *     above ipfrag_high_thresh, 4 MiB). A fragment that would start a partial datagram
 *     beyond `maxDatagrams` is dropped as well (synack's own bound; Linux has only memory).
 *   - Timeout: a partial datagram lives `timeout` ms from its first fragment (Linux
 *     ipfrag_time 30 s; the timer is not restarted by later fragments). On expiry it is
 *     freed and, if its first fragment had arrived, the caller sends ICMP time exceeded,
 *     code 1 (RFC 1122 3.3.2: SHOULD).
 */
import type { Millis } from "../env.js";
import { rewriteReassembledHeader, type Ipv4Header } from "../wire/ipv4.js";
import { v4Datagram, type InboundDatagram } from "./datagram.js";
import type { IpDropReason } from "./drops.js";
import { FragmentRanges } from "./fragment-ranges.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

export interface ReassemblyConfig {
  /** Lifetime of a partial datagram from its first fragment (Linux ipfrag_time: 30 s). */
  timeout: Millis;
  /** Bytes all partial datagrams may hold together (Linux ipfrag_high_thresh: 4 MiB). */
  maxBytes: number;
  /** Partial datagrams held at once. */
  maxDatagrams: number;
}

/** Rejects limits that would make reassembly hold nothing or hold forever (both families). */
export function checkReassemblyConfig(config: ReassemblyConfig): void {
  if (!(typeof config.timeout === "number" && config.timeout > 0)) throw new InvalidSettingError(`reassembly timeout must be > 0 ms, got ${showValue(config.timeout)}`);
  if (!(typeof config.maxBytes === "number" && config.maxBytes > 0)) throw new InvalidSettingError(`reassembly maxBytes must be > 0, got ${showValue(config.maxBytes)}`);
  if (!(Number.isInteger(config.maxDatagrams) && config.maxDatagrams > 0)) {
    throw new InvalidSettingError(`reassembly maxDatagrams must be an integer > 0, got ${showValue(config.maxDatagrams)}`);
  }
}

export const REASSEMBLY_DEFAULTS: Readonly<ReassemblyConfig> = Object.freeze({
  timeout: 30_000,
  maxBytes: 4 * 1024 * 1024,
  maxDatagrams: 1024,
});

/** Bookkeeping bytes charged per held fragment on top of its data. */
export const FRAGMENT_OVERHEAD = 128;

/** The IPv4 total-length limit a reassembled datagram must respect. */
const MAX_DATAGRAM = 0xffff;

export interface ReassemblyStats {
  /** Fragments offered. */
  fragments: number;
  /** Datagrams completed (Linux ReasmOKs). */
  reassembled: number;
  /** Partial datagrams freed by the timeout (ReasmTimeout). */
  timeouts: number;
  /** Partial datagrams dropped because fragments overlapped (ReasmOverlaps). */
  overlaps: number;
  /** Fragments dropped as duplicates of bytes already held. */
  duplicates: number;
  /** Partial datagrams dropped for contradicting or impossible fragments. */
  invalid: number;
  /** Fragments dropped because memory or the number of partial datagrams was at its limit. */
  tooMany: number;
}

export type InsertResult =
  | { kind: "complete"; datagram: InboundDatagram }
  | { kind: "held" }
  | { kind: "dropped"; reason: IpDropReason; detail: () => string };

/** A partial datagram that timed out; `first` is its first fragment when that had arrived. */
export interface ExpiredDatagram {
  src: number;
  dst: number;
  protocol: number;
  id: number;
  bytesHeld: number;
  first: InboundDatagram | undefined;
}

class Partial {
  readonly ranges = new FragmentRanges();
  /** Memory charged: data plus per-fragment overhead. */
  charged = 0;
  /** Payload length, known once the last fragment arrived. */
  length: number | undefined = undefined;
  /** Largest end seen so far. */
  maxEnd = 0;
  /** Header (fields and bytes) of the fragment at offset 0. */
  first: { header: Ipv4Header; raw: Uint8Array } | undefined = undefined;

  constructor(
    readonly key: string,
    readonly header: Ipv4Header,
    readonly deadline: Millis,
  ) {}
}

export class Reassembler {
  readonly stats: ReassemblyStats = { fragments: 0, reassembled: 0, timeouts: 0, overlaps: 0, duplicates: 0, invalid: 0, tooMany: 0 };
  /** In creation order, which is deadline order since every timeout is the same. */
  private readonly partials = new Map<string, Partial>();
  private held = 0;

  constructor(readonly config: ReassemblyConfig = REASSEMBLY_DEFAULTS) {
    checkReassemblyConfig(config);
  }

  /** Bytes charged for every fragment held now. */
  get bytesHeld(): number {
    return this.held;
  }

  /** Partial datagrams held now. */
  get datagramsHeld(): number {
    return this.partials.size;
  }

  /**
   * Offers one fragment (a packet with MF set or a non-zero offset). `rawHeader` is its
   * IP header as received. The fragment's bytes are copied: the caller keeps its buffer.
   */
  insert(now: Millis, header: Ipv4Header, payload: Uint8Array, rawHeader: Uint8Array): InsertResult {
    this.stats.fragments++;
    const key = `${header.src}/${header.dst}/${header.protocol}/${header.id}`;
    const start = header.fragmentOffset;
    const end = start + payload.length;
    const partial = this.partials.get(key);

    const invalid = this.contradiction(partial, header, start, end);
    if (invalid !== undefined) {
      if (partial !== undefined) this.discard(partial);
      this.stats.invalid++;
      return { kind: "dropped", reason: "frag-invalid", detail: () => `${invalid} (id ${header.id}, bytes ${start}..${end})` };
    }

    if (partial !== undefined) {
      const overlap = partial.ranges.relation(start, end);
      if (overlap === "duplicate") {
        this.stats.duplicates++;
        return { kind: "dropped", reason: "frag-duplicate", detail: () => `duplicate fragment (id ${header.id}, bytes ${start}..${end})` };
      }
      if (overlap === "overlap") {
        this.discard(partial);
        this.stats.overlaps++;
        return { kind: "dropped", reason: "frag-overlap", detail: () => `fragment bytes ${start}..${end} overlap held bytes (id ${header.id}); datagram dropped` };
      }
    }

    const charge = payload.length + FRAGMENT_OVERHEAD;
    if (partial === undefined && this.partials.size >= this.config.maxDatagrams) {
      this.stats.tooMany++;
      const held = this.partials.size;
      return { kind: "dropped", reason: "frag-limit", detail: () => `${held} partial datagrams held (limit ${this.config.maxDatagrams})` };
    }
    if (this.held + charge > this.config.maxBytes) {
      this.stats.tooMany++;
      const held = this.held;
      return { kind: "dropped", reason: "frag-limit", detail: () => `reassembly memory ${held} + ${charge} bytes over ${this.config.maxBytes}` };
    }

    const p = partial ?? this.create(key, header, now);
    p.ranges.add({ start, end, data: payload.slice() });
    p.charged += charge;
    this.held += charge;
    p.maxEnd = Math.max(p.maxEnd, end);
    if (!header.moreFragments) p.length = end;
    if (start === 0) p.first = { header, raw: rawHeader.slice() };
    if (p.length !== undefined && p.ranges.received === p.length && p.first !== undefined) {
      return { kind: "complete", datagram: this.complete(p) };
    }
    return { kind: "held" };
  }

  /** Frees every partial datagram whose deadline is at or before `now`. */
  expire(now: Millis): ExpiredDatagram[] {
    const expired: ExpiredDatagram[] = [];
    for (const p of this.partials.values()) {
      if (p.deadline > now) break;
      this.discard(p);
      this.stats.timeouts++;
      const h = p.header;
      let first: InboundDatagram | undefined;
      const head = p.ranges.head;
      if (p.first !== undefined && head !== undefined) {
        first = v4Datagram(p.first.header, head.data, p.first.raw);
      }
      expired.push({ src: h.src, dst: h.dst, protocol: h.protocol, id: h.id, bytesHeld: p.charged, first });
    }
    return expired;
  }

  /** When the oldest partial datagram times out, or Infinity. */
  nextDeadline(): Millis {
    for (const p of this.partials.values()) return p.deadline;
    return Infinity;
  }

  /** Why this fragment can not belong to a valid datagram, or undefined. */
  private contradiction(p: Partial | undefined, header: Ipv4Header, start: number, end: number): string | undefined {
    if (end === start) return "zero-length fragment";
    if (header.headerLength + end > MAX_DATAGRAM) return `datagram would exceed ${MAX_DATAGRAM} bytes`;
    if (header.moreFragments && (end - start) % 8 !== 0) return "non-last fragment length is not a multiple of 8 (RFC 791)";
    if (p === undefined) return undefined;
    if (!header.moreFragments) {
      if (p.length !== undefined && end !== p.length) return `second last fragment ends at ${end}, first at ${p.length}`;
      if (end < p.maxEnd) return `last fragment ends at ${end} before held bytes end at ${p.maxEnd}`;
    } else if (p.length !== undefined && end > p.length) {
      return `fragment ends at ${end}, past the datagram's end ${p.length}`;
    }
    return undefined;
  }

  private create(key: string, header: Ipv4Header, now: Millis): Partial {
    const p = new Partial(key, header, now + this.config.timeout);
    this.partials.set(key, p);
    return p;
  }

  private discard(p: Partial): void {
    this.partials.delete(p.key);
    this.held -= p.charged;
  }

  /** Joins the pieces and describes the whole datagram with the first fragment's header. */
  private complete(p: Partial): InboundDatagram {
    this.discard(p);
    this.stats.reassembled++;
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
