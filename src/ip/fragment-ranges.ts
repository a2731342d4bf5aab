/**
 * The byte ranges of one partial datagram, for IPv4 and IPv6 reassembly alike: a sorted
 * list of non-overlapping pieces, and how a new fragment relates to them (Linux
 * inet_frag_queue_insert, shared by its IPv4 and IPv6 code the same way).
 */

export interface Piece {
  start: number;
  end: number;
  data: Uint8Array;
}

export type Relation = "none" | "duplicate" | "overlap";

export class FragmentRanges {
  /** Sorted by start; never overlapping. */
  readonly pieces: Piece[] = [];
  /** Sum of the pieces' lengths. */
  received = 0;

  /**
   * "duplicate" if [start, end) lies inside one contiguous run of held pieces, "overlap" if
   * it touches held bytes otherwise, "none" if it touches none.
   */
  relation(start: number, end: number): Relation {
    let first = -1;
    let last = -1;
    for (let i = 0; i < this.pieces.length; i++) {
      const piece = this.pieces[i]!;
      if (piece.end <= start) continue;
      if (piece.start >= end) break;
      if (first < 0) first = i;
      last = i;
    }
    if (first < 0) return "none";
    if (this.pieces[first]!.start > start || this.pieces[last]!.end < end) return "overlap";
    for (let i = first + 1; i <= last; i++) {
      if (this.pieces[i]!.start !== this.pieces[i - 1]!.end) return "overlap";
    }
    return "duplicate";
  }

  /** Inserts a piece whose relation is "none", keeping the list sorted by start. */
  add(piece: Piece): void {
    let i = this.pieces.length;
    while (i > 0 && this.pieces[i - 1]!.start > piece.start) i--;
    this.pieces.splice(i, 0, piece);
    this.received += piece.end - piece.start;
  }

  /** The piece at offset 0, if it arrived. */
  get head(): Piece | undefined {
    const p = this.pieces[0];
    return p !== undefined && p.start === 0 ? p : undefined;
  }

  /** Copies the pieces into `out` at `at` (they must cover [0, received) exactly). */
  joinInto(out: Uint8Array, at: number): void {
    for (const piece of this.pieces) out.set(piece.data, at + piece.start);
  }
}
