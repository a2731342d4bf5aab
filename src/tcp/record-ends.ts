/**
 * Record ends set by MSG_EOR (Linux 4.14, "tcp: add MSG_EOR support"). A write with
 * MSG_EOR marks its last skb `eor`, and from then on Linux puts no byte queued after that
 * skb into it:
 *
 * - tcp_sendmsg_locked starts a new skb rather than append to it (tcp_skb_can_collapse_to);
 * - a retransmission does not collapse the next skb into it (tcp_retrans_try_collapse ->
 *   tcp_can_collapse / tcp_skb_can_collapse);
 * - an MTU probe is not built across it (tcp_mtu_probe -> tcp_can_coalesce_send_queue_head).
 *
 * synack cuts segments from a byte stream, not from skbs, so the rule here reads: no
 * segment, new or resent, carries bytes on both sides of a record end. Only the end of a
 * record is a boundary: its first bytes may still join the tail of the write before it, as
 * they join Linux's tail skb.
 *
 * A record end at or below SND.UNA bounds nothing any more and is dropped as ACKs arrive.
 */
import { seqDiff, seqGt, seqLe, type Seq } from "../wire/seq.js";

export class RecordEnds {
  /** Record ends in sequence order; those before `head` are acknowledged. */
  private ends: Seq[] = [];
  private head = 0;

  /** A write with MSG_EOR queued its last byte just before `end` (ends only grow: writes append). */
  add(end: Seq): void {
    const n = this.ends.length;
    const last = n > 0 ? this.ends[n - 1] : undefined; // not ends[-1]: a slow property lookup (push-marks.ts)
    if (this.head < this.ends.length && last !== undefined && !seqGt(end, last)) return;
    this.ends.push(end);
  }

  /** Whether the queue's last record ends at `at`: an skb ending there takes no more bytes. */
  lastEndsAt(at: Seq): boolean {
    const n = this.ends.length;
    return n > this.head && this.ends[n - 1] === at;
  }

  /** The first record end above `from`: a segment starting at `from` stops there. Undefined when none. */
  after(from: Seq): Seq | undefined {
    // Binary search, as PushMarks.covers: many small records may be in flight at once.
    const ends = this.ends;
    let lo = this.head;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqGt(ends[mid]!, from)) hi = mid;
      else lo = mid + 1;
    }
    return lo < ends.length ? ends[lo] : undefined;
  }

  /** Bytes from `from` to the first record end above it: the most a segment starting there may carry (Infinity when none). */
  left(from: Seq): number {
    const end = this.after(from);
    return end === undefined ? Infinity : seqDiff(end, from);
  }

  /** Forgets record ends the peer has acknowledged. */
  acked(una: Seq): void {
    while (this.head < this.ends.length && seqLe(this.ends[this.head]!, una)) this.head++;
    if (this.head > 32 && this.head * 2 > this.ends.length) {
      this.ends = this.ends.slice(this.head);
      this.head = 0;
    }
  }
}
