/**
 * What IPv4 and IPv6 reassembly share (reassembly.ts, reassembly6.ts), as Linux shares
 * inet_frag_queue between net/ipv4/ip_fragment.c and net/ipv6/reassembly.c: the partial
 * datagrams, keyed and in creation order; the rules every fragment meets whatever its
 * family (zero length, contradicting last fragments, overlap, duplicates); the memory and
 * count limits; and the timeout. Each family keeps only its own parts: how fragments are
 * keyed, its extra checks, what it remembers of the first fragment, and how the whole
 * datagram is rebuilt.
 *
 * Shared rules (RFC 791 3.2, RFC 8200 4.5, RFC 5722; Linux where they leave room):
 *   - Overlap: a fragment that lies entirely inside bytes already held (one contiguous run)
 *     is a duplicate and is dropped alone; any other overlap drops the whole partial
 *     datagram (RFC 5722 section 4, which Linux applies to IPv4 too since 4.19). Later
 *     fragments of it start a new partial datagram, which then times out.
 *   - Contradictions drop the whole partial datagram: a zero-length fragment, a last
 *     fragment whose end differs from an earlier last one or falls short of bytes already
 *     held, and a fragment past the known end.
 *   - Memory: every held fragment is charged its length plus FRAGMENT_OVERHEAD (standing in
 *     for Linux's skb truesize, so a flood of tiny fragments is bounded too). A fragment
 *     that would push the total over `maxBytes` is dropped (Linux drops fragments while
 *     above ipfrag_high_thresh, 4 MiB). A fragment that would start a partial datagram
 *     beyond `maxDatagrams` is dropped as well (synack's own bound; Linux has only memory).
 *   - Timeout: a partial datagram lives `timeout` ms from its first-arriving fragment; later
 *     fragments do not restart it (Linux ipfrag_time / ip6frag_time).
 */
import type { Millis } from "../env.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";
import type { IpDropReason } from "./drops.js";
import { FragmentRanges } from "./fragment-ranges.js";

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

/** Bookkeeping bytes charged per held fragment on top of its data. */
export const FRAGMENT_OVERHEAD = 128;

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

export interface FragmentDrop {
  kind: "dropped";
  reason: IpDropReason;
  detail: () => string;
}

/**
 * One partial datagram: its pieces, what its first-arriving fragment said (`origin`, for
 * the report of a timeout) and what the family keeps of its offset-0 fragment (`first`).
 */
export class PartialDatagram<First, Origin> {
  readonly ranges = new FragmentRanges();
  /** Memory charged: data plus per-fragment overhead. */
  charged = 0;
  /** Payload length, known once the last fragment arrived. */
  length: number | undefined = undefined;
  /** Largest end seen so far. */
  maxEnd = 0;
  /** The family's record of the fragment at offset 0, once it arrived. */
  first: First | undefined = undefined;

  constructor(
    readonly key: string,
    readonly origin: Origin,
    readonly deadline: Millis,
  ) {}

  /** Every byte of the datagram is held (the ranges never overlap), the first fragment included. */
  get whole(): boolean {
    return this.length !== undefined && this.ranges.received === this.length && this.first !== undefined;
  }
}

/** One fragment as the queue sees it: bytes [start, end) of the datagram, and whether more follow. */
export interface FragmentPlace {
  start: number;
  end: number;
  more: boolean;
  /** How details name the datagram: its identification. */
  id: number;
}

export class FragmentQueue<First, Origin> {
  readonly stats: ReassemblyStats = { fragments: 0, reassembled: 0, timeouts: 0, overlaps: 0, duplicates: 0, invalid: 0, tooMany: 0 };
  /** In creation order, which is deadline order since every timeout is the same. */
  private readonly partials = new Map<string, PartialDatagram<First, Origin>>();
  private held = 0;

  /**
   * `overlapRule`: what the overlap drop's detail cites after "datagram dropped" (IPv6
   * names RFC 5722, which governs it there).
   */
  constructor(
    readonly config: ReassemblyConfig,
    private readonly overlapRule = "",
  ) {
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
   * Files one fragment's `data` (copied) under `key`: the partial datagram it joined or
   * started (with `origin` when it starts one), or why it was dropped. `familyProblem` is
   * why the family's own rules refuse it (checked after the zero-length rule); like the
   * shared contradictions it drops the partial datagram too. The caller counts the
   * fragment (`stats.fragments`) and decides what a complete partial datagram becomes
   * (`complete`).
   */
  add(now: Millis, key: string, origin: Origin, f: FragmentPlace, data: Uint8Array, familyProblem?: string): PartialDatagram<First, Origin> | FragmentDrop {
    const { start, end, id } = f;
    const partial = this.partials.get(key);
    const invalid = end === start ? "zero-length fragment" : (familyProblem ?? contradiction(partial, f));
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
        this.discard(partial);
        this.stats.overlaps++;
        return { kind: "dropped", reason: "frag-overlap", detail: () => `fragment bytes ${start}..${end} overlap held bytes (id ${id}); datagram dropped${this.overlapRule}` };
      }
    }

    const charge = data.length + FRAGMENT_OVERHEAD;
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

    const p = partial ?? this.create(key, origin, now);
    p.ranges.add({ start, end, data: data.slice() });
    p.charged += charge;
    this.held += charge;
    p.maxEnd = Math.max(p.maxEnd, end);
    if (!f.more) p.length = end;
    return p;
  }

  /** The partial datagram is whole: it leaves the queue, counted as reassembled. */
  complete(p: PartialDatagram<First, Origin>): void {
    this.discard(p);
    this.stats.reassembled++;
  }

  /** Drops a partial datagram (a later check refused it; the caller counts why). */
  discard(p: PartialDatagram<First, Origin>): void {
    if (this.partials.delete(p.key)) this.held -= p.charged;
  }

  /** Frees and returns every partial datagram whose deadline is at or before `now`. */
  expire(now: Millis): PartialDatagram<First, Origin>[] {
    const expired: PartialDatagram<First, Origin>[] = [];
    for (const p of this.partials.values()) {
      if (p.deadline > now) break;
      this.discard(p);
      this.stats.timeouts++;
      expired.push(p);
    }
    return expired;
  }

  /** When the oldest partial datagram times out, or Infinity. */
  nextDeadline(): Millis {
    for (const p of this.partials.values()) return p.deadline;
    return Infinity;
  }

  private create(key: string, origin: Origin, now: Millis): PartialDatagram<First, Origin> {
    const p = new PartialDatagram<First, Origin>(key, origin, now + this.config.timeout);
    this.partials.set(key, p);
    return p;
  }
}

/** Why a fragment contradicts what its partial datagram already holds, or undefined. */
function contradiction(p: PartialDatagram<unknown, unknown> | undefined, f: FragmentPlace): string | undefined {
  if (p === undefined) return undefined;
  const end = f.end;
  if (!f.more) {
    if (p.length !== undefined && end !== p.length) return `second last fragment ends at ${end}, first at ${p.length}`;
    if (end < p.maxEnd) return `last fragment ends at ${end} before held bytes end at ${p.maxEnd}`;
  } else if (p.length !== undefined && end > p.length) {
    return `fragment ends at ${end}, past the datagram's end ${p.length}`;
  }
  return undefined;
}
