/**
 * Where the sender sets PSH (RFC 9293 3.9.1 leaves it to the implementation; this is
 * Linux's rule, tcp_mark_push() and forced_push() in tcp_sendmsg_locked):
 *
 * - the last byte of every write is a push point, so the segment carrying it has PSH,
 *   however the stream is later cut into segments or retransmitted;
 * - during a long write, once more than half the largest window the peer has offered is
 *   queued past the last push point, the skb boundary there becomes one too, so a
 *   receiver that waits for PSH before waking its reader is not left waiting for the
 *   whole write.
 *
 * Marks at or below SND.UNA are dropped as ACKs arrive, so the list stays as short as
 * the data in flight and queued.
 *
 * The other write boundaries Linux keeps in its skbs hang off this object: the end of a
 * MSG_EOR record (`records`, record-ends.ts), the end of each MSG_ZEROCOPY write, whose
 * id completes when it is acknowledged (`zerocopy`, zerocopy.ts), and the last byte of
 * each write SO_TIMESTAMPING stamps (`timestamps`, tx-timestamps.ts); the last two share
 * the socket's error queue (`errors`, error-queue.ts). All exist only once something was
 * written or an option set, so an idle connection pays for none.
 */
import { seqAdd, seqDiff, seqGt, seqLe, type Seq } from "../wire/seq.js";
import type { RecordEnds } from "./record-ends.js";
import type { Zerocopy } from "./zerocopy.js";
import type { ErrorQueue } from "./error-queue.js";
import type { TxTimestamps } from "./tx-timestamps.js";
import type { Millis } from "../env.js";

export class PushMarks {
  /** NO_MARKS (shared, never written) until the first mark: an idle connection holds no array. */
  private marks: Seq[] = NO_MARKS;
  private head = 0;
  /** The last push point (Linux tp->pushed_seq). */
  private pushedSeq: Seq;
  /** Where MSG_EOR records end, made by the first such write: no segment crosses one. */
  records: RecordEnds | undefined;
  /** SO_ZEROCOPY's ids and error queue, made by setting it (Connection.setZerocopy). */
  zerocopy: Zerocopy | undefined;
  /** SO_TIMESTAMPING's marked bytes, made by setting it (Connection.setTimestamping). */
  timestamps: TxTimestamps | undefined;
  /** The socket's error queue, shared by `zerocopy` and `timestamps`, made with the first of them. */
  errors: ErrorQueue | undefined;

  constructor(firstByte: Seq) {
    this.pushedSeq = firstByte;
  }

  /**
   * A write queued bytes [start, end). `sizeGoal` is the skb size the write is cut into
   * (tso-chunks.ts writeSizeGoal: Linux checks forced_push() each time an skb fills), the skbs
   * falling at `grid` + k x sizeGoal (write-admission.ts); `maxWindow` the largest window
   * the peer has offered (0 before any). With `more` (MSG_MORE) the end of the write is no
   * push point: more data follows at once.
   */
  wrote(start: Seq, end: Seq, grid: Seq, sizeGoal: number, maxWindow: number, more = false): void {
    const tailEnd = sizeGoal > 0 ? this.joinTail(start, grid, sizeGoal) : undefined;
    // The moved point is the skb's flag, not a new tcp_mark_push: pushed_seq stays.
    if (tailEnd !== undefined && seqGt(end, tailEnd)) this.marks.push(tailEnd);
    const half = Math.floor(maxWindow / 2);
    if (half > 0 && sizeGoal > 0) {
      // forced_push(): the first skb boundary past pushed_seq + max_window / 2.
      for (;;) {
        const past = seqDiff(start, this.pushedSeq) > half ? 0 : half - seqDiff(start, this.pushedSeq) + 1;
        const boundary = seqAdd(grid, Math.max(0, Math.ceil(seqDiff(seqAdd(start, past), grid) / sizeGoal)) * sizeGoal);
        if (!seqGt(end, boundary) || seqLe(boundary, start)) break;
        this.push(boundary);
        start = boundary;
      }
    }
    if (!more) this.push(end);
  }

  /**
   * The write starting at `start` first fills the tail skb, if that is unsent and not
   * full (tcp_sendmsg_locked appends to it), and Linux keeps PSH as a flag of the skb, not
   * of a byte: the previous write's push point moves to where the tail skb now ends (the
   * next skb boundary, or this write's end, pushed by `wrote`). A bulk sender's writes
   * then leave as whole TSO packets, PSH on each skb's last segment, as Linux's do; a
   * write that finds everything sent, or the tail skb full, starts a new skb and the point
   * stays.
   */
  private joinTail(start: Seq, grid: Seq, sizeGoal: number): Seq | undefined {
    const n = this.marks.length;
    // An skb ending a MSG_EOR record takes no more (tcp_skb_can_collapse_to); the drill
    // ends a MSG_ZEROCOPY skb that ran out of fragments the same way.
    if (n === this.head || this.marks[n - 1] !== start || this.records?.lastEndsAt(start) === true) return undefined;
    const intoTail = seqDiff(start, grid);
    if (intoTail <= 0 || intoTail % sizeGoal === 0) return undefined;
    this.marks.pop();
    // Where the tail skb now ends; a write that ends sooner pushes its own end instead.
    return seqAdd(grid, Math.ceil(intoTail / sizeGoal) * sizeGoal);
  }

  /** True when a push point falls in (from, end]: the segment [from, end) carries PSH. */
  covers(from: Seq, end: Seq): boolean {
    // The marks are in sequence order: binary search for the first one above `from` (a
    // linear walk from the oldest unacknowledged mark cost a bulk sender 5% of its time,
    // with a mark per write and dozens of writes in flight).
    const marks = this.marks;
    let lo = this.head;
    let hi = marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqGt(marks[mid]!, from)) hi = mid;
      else lo = mid + 1;
    }
    return lo < marks.length && !seqGt(marks[lo]!, end);
  }

  /** Forgets push points the peer has acknowledged (at `now`: ACK timestamps carry it). */
  acked(una: Seq, now: Millis): void {
    this.records?.acked(una);
    if (this.timestamps !== undefined && this.zerocopy !== undefined) this.ackedInOrder(this.timestamps, this.zerocopy, una, now);
    this.timestamps?.acked(una, now);
    this.zerocopy?.acked(una);
    while (this.head < this.marks.length && seqLe(this.marks[this.head]!, una)) this.head++;
    if (this.head > 32 && this.head * 2 > this.marks.length) {
      this.marks = this.marks.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Both share the error queue: queue their entries skb by skb, in sequence order, as
   * Linux tcp_clean_rtx_queue does (tcp_ack_tstamp for an skb, then freeing it completes
   * its zerocopy id), so a write's ACK stamp comes before its completion.
   */
  private ackedInOrder(t: TxTimestamps, z: Zerocopy, una: Seq, now: Millis): void {
    for (;;) {
      const te = t.nextEnd;
      const ze = z.nextEnd;
      const tDue = te !== undefined && seqLe(te, una);
      const zDue = ze !== undefined && seqLe(ze, una);
      if (tDue && (!zDue || seqLe(te, ze!))) t.acked(te, now);
      else if (zDue) z.acked(ze!);
      else return;
    }
  }

  private push(at: Seq): void {
    // Never marks[-1]: on an empty array V8 looks "-1" up as a property name, ~30 ns against
    // ~3 ns for the length check (every write's path).
    const n = this.marks.length;
    const last = n > 0 ? this.marks[n - 1] : undefined;
    if (last === undefined || seqGt(at, last) || this.head === this.marks.length) {
      if (this.marks === NO_MARKS) this.marks = [];
      this.marks.push(at);
    }
    this.pushedSeq = at;
  }
}

const NO_MARKS: Seq[] = [];
