/**
 * The sender's SACK scoreboard (RFC 2018, RFC 6675 section 3): which bytes above SND.UNA
 * the receiver reported holding. Retransmissions skip them, and loss recovery repairs the
 * holes between them instead of resending one segment per round trip.
 */
import { seqDiff, seqGt, seqLt, seqMax, seqMin, type Seq } from "../wire/seq.js";
import type { SackBlock } from "../wire/tcp.js";

/** Ranges kept at most; more fragmented reports only lose precision, never correctness. */
const MAX_RANGES = 32;

export class Scoreboard {
  /** Sorted, disjoint [left, right) ranges, all above SND.UNA. */
  private ranges: SackBlock[] = [];

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** The ranges, lowest first (RACK's scan hops over them: rack.ts). */
  get blocks(): readonly SackBlock[] {
    return this.ranges;
  }

  /** Highest SACKed sequence number + 1 (RFC 6675 HighACK side), or undefined. */
  get highest(): Seq | undefined {
    return this.ranges.length > 0 ? this.ranges[this.ranges.length - 1]!.right : undefined;
  }

  get sackedBytes(): number {
    let n = 0;
    for (const r of this.ranges) n += seqDiff(r.right, r.left);
    return n;
  }

  /** SACKed bytes below `limit` (the part of the flight the receiver already holds). */
  sackedBelow(limit: Seq): number {
    let n = 0;
    for (const r of this.ranges) {
      if (!seqLt(r.left, limit)) break;
      n += seqDiff(seqMin(r.right, limit), r.left);
    }
    return n;
  }

  /** Merges the blocks of an ACK; blocks outside (una, max] are ignored (RFC 2018 stale/bogus). */
  update(blocks: readonly SackBlock[], una: Seq, max: Seq): void {
    for (const b of blocks) {
      if (!seqLt(b.left, b.right)) continue;
      const left = seqMax(b.left, una);
      const right = seqMin(b.right, max);
      if (!seqLt(left, right)) continue;
      this.insert(left, right);
    }
  }

  /** Forgets everything below the new cumulative ACK. */
  prune(una: Seq): void {
    while (this.ranges.length > 0 && !seqGt(this.ranges[0]!.right, una)) this.ranges.shift();
    if (this.ranges.length > 0 && seqLt(this.ranges[0]!.left, una)) this.ranges[0] = { left: una, right: this.ranges[0]!.right };
  }

  clear(): void {
    this.ranges = [];
  }

  /**
   * The parts of [left, right) no range holds yet, lowest first: what a SACK block can newly
   * report (the sender walks only these records; the rest were SACKed before).
   */
  uncovered(left: Seq, right: Seq): SackBlock[] {
    const parts: SackBlock[] = [];
    let cursor = left;
    for (const r of this.ranges) {
      if (!seqLt(cursor, right)) break;
      if (!seqGt(r.right, cursor)) continue;
      if (seqLt(cursor, r.left)) parts.push({ left: cursor, right: seqMin(r.left, right) });
      cursor = seqMax(cursor, r.right);
    }
    if (seqLt(cursor, right)) parts.push({ left: cursor, right });
    return parts;
  }

  /** If `seq` lies in a SACKed range, the end of that range; otherwise undefined. */
  sackedUntil(seq: Seq): Seq | undefined {
    for (const r of this.ranges) {
      if (seqLt(seq, r.left)) return undefined;
      if (seqLt(seq, r.right)) return r.right;
    }
    return undefined;
  }

  /**
   * The first hole at or after `from` that lies below the highest SACKed byte: data the
   * receiver has skipped, hence presumed lost (RFC 6675 IsLost, simplified).
   */
  nextHole(from: Seq): { start: Seq; end: Seq } | undefined {
    let cursor = from;
    for (const r of this.ranges) {
      if (seqLt(cursor, r.left)) return { start: cursor, end: r.left };
      if (seqLt(cursor, r.right)) cursor = r.right;
    }
    return undefined;
  }

  private insert(left: Seq, right: Seq): void {
    const out: SackBlock[] = [];
    let placed = false;
    for (const r of this.ranges) {
      if (seqLt(r.right, left)) out.push(r);
      else if (seqGt(r.left, right)) {
        if (!placed) out.push({ left, right });
        placed = true;
        out.push(r);
      } else {
        left = seqMin(left, r.left);
        right = seqMax(right, r.right);
      }
    }
    if (!placed) out.push({ left, right });
    this.ranges = out.length > MAX_RANGES ? out.slice(out.length - MAX_RANGES) : out;
  }
}

/**
 * Separates a D-SACK block (RFC 2883 section 4) from the ordinary SACK blocks of an ACK:
 * the first block reports a duplicate when it lies below the cumulative ACK, or inside the
 * second block (Linux tcp_check_dsack).
 */
export function splitDsack(blocks: readonly SackBlock[], ack: Seq): { dsack: SackBlock | undefined; blocks: readonly SackBlock[] } {
  const first = blocks[0];
  if (first === undefined) return { dsack: undefined, blocks };
  const second = blocks[1];
  const isDsack = seqLt(first.left, ack) || (second !== undefined && !seqGt(first.right, second.right) && !seqLt(first.left, second.left));
  return isDsack ? { dsack: first, blocks: blocks.slice(1) } : { dsack: undefined, blocks };
}

/**
 * Whether a SACK block (not a D-SACK) may mark anything, as Linux's tcp_is_sackblock_valid
 * judges it: it must start above the cumulative ACK, end no later than the highest byte
 * sent, and not be empty or reversed. Any other block is thrown out whole rather than
 * trimmed ("interpretation is ambiguous"), so a peer that reports data never sent marks
 * nothing (RFC 2018 4 leaves such blocks to the sender).
 */
export function isValidSackBlock(b: SackBlock, ack: Seq, sndMax: Seq): boolean {
  return seqGt(b.left, ack) && seqLt(b.left, b.right) && !seqGt(b.right, sndMax);
}
