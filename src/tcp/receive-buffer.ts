/**
 * Received bytes: the in-order part waiting for the application, and the out-of-order
 * ranges held until the gap before them fills (RFC 9293 3.10.7.4 "seventh", S18, S19).
 *
 * Both parts keep views of the arriving packets rather than copying them. Out-of-order
 * ranges are kept sorted and non-overlapping, so a byte is stored at most once and a
 * duplicate can never be delivered twice. The caller bounds what is stored by only passing
 * in-window data; the range count is bounded here.
 */
import { seqAdd, seqDiff, seqGt, seqLe, seqLt, type Seq } from "../wire/seq.js";
import type { SackBlock } from "../wire/tcp.js";
import { EMPTY } from "./send-buffer.js";

interface Range {
  seq: Seq;
  data: Uint8Array;
}

export type InsertResult = "in-order" | "out-of-order" | "duplicate" | "ooo-limit";

/** What a receive buffer holds. */
class Held {
  /** In-order data not yet read; NO_DATA (shared, never written) while there is none. */
  ready: Uint8Array[] = NO_DATA;
  readyHead = 0;
  readyBytes = 0;
  /** Out-of-order ranges; NO_RANGES (shared, never written) until the first (shift(), push() past the last, and reassignment change it). */
  ooo: Range[] = NO_RANGES;
  oooBytes = 0;
  /**
   * The contiguous blocks the ranges make (blocksOf(ooo)), kept as the ranges change: SACK
   * asks for them on every ACK, and a recovery holds thousands of ranges in a few blocks.
   * NO_BLOCKS (shared, never written) while there are none.
   */
  blocks: SackBlock[] = NO_BLOCKS;
  /** Sequence number of an out-of-order FIN, delivered when the data before it is. */
  pendingFinSeq: Seq | undefined;
}

/** The shared empty buffers by size (emptyReceiveBuffer); a handful of sizes at most. */
const EMPTY_BY_SIZE = new Map<number, ReceiveBuffer>();
const MAX_SHARED_SIZES = 16;

/**
 * An empty buffer of `capacity` bytes shared by every connection that has received no data
 * yet, so an idle one keeps no buffer of its own (48 B): all such buffers are alike. It is
 * never written: the receiver makes its own (`Receiver.ownBuffer`) before storing data or a
 * FIN or resizing, and read() and compact() of an empty buffer write nothing.
 */
export function emptyReceiveBuffer(capacity: number, maxRanges: number): ReceiveBuffer {
  const b = EMPTY_BY_SIZE.get(capacity);
  if (b !== undefined && b.maxRanges === maxRanges) return b;
  const made = new ReceiveBuffer(capacity, maxRanges);
  if (b === undefined && EMPTY_BY_SIZE.size < MAX_SHARED_SIZES) EMPTY_BY_SIZE.set(capacity, made);
  return made;
}

/** `b` is one of the shared empty buffers (storing anything needs a buffer of the connection's own). */
export function isSharedReceiveBuffer(b: ReceiveBuffer): boolean {
  return EMPTY_BY_SIZE.get(b.capacity) === b;
}

export class ReceiveBuffer {
  /**
   * What is held; undefined while nothing is, so an idle connection's buffer is only its
   * limits (40 bytes less per connection, bench/heap.js). Made by the first data or
   * out-of-order FIN, and let go by `compact` once the connection is idle with nothing held
   * (not as soon as a read empties it: a busy reader would make a new one per segment).
   */
  private h: Held | undefined;

  constructor(
    /** Bytes held at most; autotuning (receive-space.ts) may raise it. */
    public capacity: number,
    readonly maxRanges: number,
  ) {}

  /** Bytes ready for the application. */
  get readable(): number {
    return this.h === undefined ? 0 : this.h.readyBytes;
  }

  /** Bytes held out of order. */
  get outOfOrderBytes(): number {
    return this.h === undefined ? 0 : this.h.oooBytes;
  }

  get outOfOrderRanges(): number {
    return this.h === undefined ? 0 : this.h.ooo.length;
  }

  /** Space left for new data: what the receive window may advertise. */
  get free(): number {
    return this.h === undefined ? Math.max(0, this.capacity) : Math.max(0, this.capacity - this.h.readyBytes - this.h.oooBytes);
  }

  // Kept this small (the making is a call of its own) so that V8 inlines it everywhere.
  private get held(): Held {
    return this.h ?? this.makeHeld();
  }
  private makeHeld(): Held {
    return (this.h = new Held());
  }

  /** Holds or held data since it last went idle: certainly not a shared empty buffer (emptyReceiveBuffer). */
  get active(): boolean {
    return this.h !== undefined;
  }

  /** Nothing is held: no data to read, no gap open, no FIN waiting for one. */
  get empty(): boolean {
    const h = this.h;
    return h === undefined || (h.readyBytes === 0 && h.ooo.length === 0 && h.pendingFinSeq === undefined);
  }

  /** The connection is idle: let the holder go if it holds nothing. */
  compact(): void {
    if (this.h !== undefined && this.empty) this.h = undefined;
  }

  /**
   * Stores `data` that starts at `seq`, given the next expected sequence number `rcvNxt`,
   * and returns how it was stored. In order, RCV.NXT advances by what became readable
   * (this data and any out-of-order ranges the gap-filler joined): `readable` grows by as
   * much. A result rather than a { result, rcvNxt } pair: this runs for every segment.
   */
  insert(rcvNxt: Seq, seq: Seq, data: Uint8Array): InsertResult {
    // Trim what we already have (S19: duplicates discarded).
    const already = seqDiff(rcvNxt, seq);
    if (already > 0) {
      if (already >= data.length) return "duplicate";
      data = data.subarray(already);
      seq = rcvNxt;
    }
    if (seq === rcvNxt) {
      this.pushReady(data);
      this.drainOutOfOrder(seqAdd(rcvNxt, data.length));
      return "in-order";
    }
    return this.holdOutOfOrder(seq, data);
  }

  /** Remembers a FIN that arrived ahead of missing data. */
  holdFin(finSeq: Seq): void {
    this.held.pendingFinSeq = finSeq;
  }

  /** True once rcvNxt has reached a FIN held earlier; the caller then consumes it. */
  finReached(rcvNxt: Seq): boolean {
    return this.h !== undefined && this.h.pendingFinSeq !== undefined && this.h.pendingFinSeq === rcvNxt;
  }

  /** Reads up to `max` in-order bytes. Returns an empty array when nothing is ready. */
  read(max = Infinity): Uint8Array {
    const h = this.h;
    if (h === undefined || h.readyBytes === 0) return EMPTY;
    const first = h.ready[0]!;
    const avail = first.length - h.readyHead;
    // Common case: hand out (part of) one chunk without copying.
    if (max <= avail || h.ready.length === 1) {
      const n = Math.min(max, avail);
      // The whole chunk (a reader that keeps up takes each segment's payload whole): the
      // chunk's own view, not a new one of the same bytes (one object less per read).
      const out = h.readyHead === 0 && n === first.length ? first : first.subarray(h.readyHead, h.readyHead + n);
      this.consumeReady(h, n);
      return out;
    }
    const n = Math.min(max, h.readyBytes);
    const out = new Uint8Array(n);
    let written = 0;
    while (written < n) {
      const c = h.ready[0]!;
      const take = Math.min(c.length - h.readyHead, n - written);
      out.set(c.subarray(h.readyHead, h.readyHead + take), written);
      written += take;
      this.consumeReady(h, take);
    }
    return out;
  }

  /**
   * The out-of-order data as maximal [left, right) blocks, lowest first (for SACK and
   * inspection). Adjacent stored pieces form one block (RFC 2018 section 3: a block is a
   * contiguous run of received bytes).
   */
  outOfOrderBlocks(): SackBlock[] {
    return this.heldBlocks.map((b) => ({ left: b.left, right: b.right }));
  }

  /**
   * The same blocks as kept, not copied: they change in place as data arrives, so a caller
   * copies the ones it hands on (a segment's SACK option, and a trace of it, must keep what
   * it said). The receiver picks its few SACK blocks from here without copying them all.
   */
  get heldBlocks(): readonly Readonly<SackBlock>[] {
    return this.h?.blocks ?? NO_BLOCKS;
  }

  /** How many SACK blocks the out-of-order data makes (adjacent pieces count once). */
  get outOfOrderBlockCount(): number {
    return this.h === undefined ? 0 : this.h.blocks.length;
  }

  private pushReady(data: Uint8Array): void {
    if (data.length === 0) return;
    const h = this.held;
    if (h.ready === NO_DATA) h.ready = [];
    h.ready.push(data);
    h.readyBytes += data.length;
  }

  private consumeReady(h: Held, n: number): void {
    h.readyBytes -= n;
    h.readyHead += n;
    if (h.readyHead === h.ready[0]!.length) {
      h.ready.shift(); // kept while the holder is: a reader that drains every segment reuses it
      h.readyHead = 0;
    }
  }

  /** Moves the out-of-order ranges that `rcvNxt` reached to the readable data. */
  private drainOutOfOrder(rcvNxt: Seq): void {
    const h = this.h;
    // Nothing out of order (every in-order segment of a clean transfer): no blocks to drop.
    if (h === undefined || h.ooo.length === 0) return;
    while (h.ooo.length > 0) {
      const r = h.ooo[0]!;
      const overlap = seqDiff(rcvNxt, r.seq);
      if (overlap < 0) break; // still a gap before it
      h.ooo.shift();
      h.oooBytes -= r.data.length;
      if (overlap < r.data.length) {
        const rest = r.data.subarray(overlap);
        this.pushReady(rest);
        rcvNxt = seqAdd(rcvNxt, rest.length);
      }
    }
    // Whole blocks drained (the ranges of one block are contiguous, so RCV.NXT passing its
    // first passes them all): drop those the first range left lies beyond.
    const first = h.ooo[0];
    if (first === undefined) {
      h.blocks = NO_BLOCKS;
      return;
    }
    while (h.blocks.length > 0 && seqLe(h.blocks[0]!.right, first.seq)) h.blocks.shift();
  }

  /** Inserts into the sorted range list, keeping only bytes no range holds yet. */
  private holdOutOfOrder(seq: Seq, data: Uint8Array): InsertResult {
    const end = seqAdd(seq, data.length);
    const ooo = this.h?.ooo ?? NO_RANGES;
    // The common case while a hole waits for its retransmission: the segment lands past
    // everything held. Appended in place, without the scan and copy below (which made each
    // segment cost the whole queue: 10% of a lossy BBR transfer's time in the simulator).
    const last = ooo.length > 0 ? ooo[ooo.length - 1]! : undefined;
    if (last !== undefined && !seqLt(seq, rangeEnd(last))) {
      const h = this.held;
      if (seq !== rangeEnd(last)) {
        if (h.blocks.length + 1 > this.maxRanges) return "ooo-limit";
        h.blocks.push({ left: seq, right: end });
      } else {
        h.blocks[h.blocks.length - 1]!.right = end;
      }
      h.ooo.push({ seq, data });
      h.oooBytes += data.length;
      return "out-of-order";
    }
    let i = 0;
    while (i < ooo.length && seqLe(rangeEnd(ooo[i]!), seq)) i++;
    const pieces: Range[] = [];
    let cursor = seq;
    let j = i;
    while (j < ooo.length && seqGt(end, cursor)) {
      const r = ooo[j]!;
      if (seqGt(r.seq, cursor)) {
        const stop = seqLe(end, r.seq) ? end : r.seq;
        pieces.push({ seq: cursor, data: data.subarray(seqDiff(cursor, seq), seqDiff(stop, seq)) });
      }
      const rEnd = rangeEnd(r);
      if (seqGt(rEnd, cursor)) cursor = rEnd;
      j++;
    }
    if (seqGt(end, cursor)) pieces.push({ seq: cursor, data: data.subarray(seqDiff(cursor, seq)) });
    if (pieces.length === 0) return "duplicate";
    // Pieces are sorted and fall between ranges i..j-1 in order; merge them in.
    const merged = ooo.slice(0, i);
    let p = 0;
    for (let k = i; k < ooo.length; k++) {
      const r = ooo[k]!;
      while (p < pieces.length && seqGt(r.seq, pieces[p]!.seq)) merged.push(pieces[p++]!);
      merged.push(r);
    }
    while (p < pieces.length) merged.push(pieces[p++]!);
    // The bound is on separate ranges (holes), not on the segments that make them up: each
    // segment is kept as its own view, so counting views capped the out-of-order data at
    // 256 segments, and one loss in a large window (a BBR flight of 800 segments) made the
    // receiver drop everything past the 256th. Linux bounds the out-of-order queue by
    // memory only (tcp_prune_ofo_queue); the bytes here are bounded by the window.
    const blocks = blocksOf(merged);
    if (blocks.length > this.maxRanges) return "ooo-limit";
    const h = this.held;
    h.ooo = merged;
    h.blocks = blocks;
    for (const piece of pieces) h.oooBytes += piece.data.length;
    return "out-of-order";
  }
}

/** The contiguous blocks of a sorted range list: adjacent views of one block make one. */
function blocksOf(ranges: Range[]): SackBlock[] {
  const blocks: SackBlock[] = [];
  for (const r of ranges) {
    const last = blocks.length > 0 ? blocks[blocks.length - 1] : undefined; // not blocks[-1] (push-marks.ts)
    if (last !== undefined && last.right === r.seq) last.right = rangeEnd(r);
    else blocks.push({ left: r.seq, right: rangeEnd(r) });
  }
  return blocks;
}

function rangeEnd(r: Range): Seq {
  return seqAdd(r.seq, r.data.length);
}

/** Shared by every receive buffer with nothing to hold: an idle connection allocates no arrays. */
const NO_DATA: Uint8Array[] = [];
const NO_RANGES: Range[] = [];
const NO_BLOCKS: SackBlock[] = [];
