/**
 * A receiver's view of each direction, rebuilt from the segments that arrive, so the
 * narration can say "out of order", "duplicate" or "duplicate ACK" without the engine
 * having to emit an event for each of them.
 */
import { ACK, FIN, SYN, type TcpSegment } from "../../wire/tcp.js";
import { seqAdd, seqDiff, type Seq } from "../../wire/seq.js";
import type { Direction } from "./label.js";

export type DataArrival = "in-order" | "fills-gap" | "out-of-order" | "duplicate";
export type AckArrival = "advances" | "duplicate" | "window-update" | "same";

interface DirState {
  expected: Seq;
  held: Array<[Seq, Seq]>;
  lastAck: Seq | undefined;
  lastWindow: number;
}

export class StreamView {
  private readonly dirs = new Map<string, DirState>();
  /** The highest sequence number sent so far in each direction (what may be unacknowledged). */
  private readonly sentMax = new Map<string, Seq>();

  /** Records a segment as sent, so a later ACK can tell whether data is still missing. */
  sent(d: Direction, seg: TcpSegment): void {
    const k = `${d.src}:${d.srcPort}>${d.dst}:${d.dstPort}`;
    const end = seqAdd(seg.seq, seg.payload.length + ((seg.flags & (SYN | FIN)) !== 0 ? 1 : 0));
    const prev = this.sentMax.get(k);
    if ((seg.flags & SYN) !== 0 || prev === undefined || seqDiff(end, prev) > 0) this.sentMax.set(k, end);
  }

  private state(d: Direction): DirState | undefined {
    return this.dirs.get(`${d.src}:${d.srcPort}>${d.dst}:${d.dstPort}`);
  }

  /** Classifies the data (and FIN) of an arriving segment. Undefined for segments without any. */
  data(d: Direction, seg: TcpSegment): DataArrival | undefined {
    const k = `${d.src}:${d.srcPort}>${d.dst}:${d.dstPort}`;
    if ((seg.flags & SYN) !== 0) {
      this.dirs.set(k, { expected: seqAdd(seg.seq, 1 + seg.payload.length), held: [], lastAck: undefined, lastWindow: -1 });
      return undefined;
    }
    const st = this.dirs.get(k);
    const len = seg.payload.length + ((seg.flags & FIN) !== 0 ? 1 : 0);
    if (st === undefined || len === 0) return undefined;
    const start = seg.seq;
    const end = seqAdd(seg.seq, len);
    if (seqDiff(end, st.expected) <= 0) return "duplicate";
    if (seqDiff(start, st.expected) > 0) {
      if (st.held.some(([s, e]) => seqDiff(start, s) >= 0 && seqDiff(end, e) <= 0)) return "duplicate";
      st.held.push([start, end]);
      return "out-of-order";
    }
    st.expected = end;
    const hadGap = st.held.length > 0;
    // Held ranges that now touch the stream join it.
    for (let merged = true; merged; ) {
      merged = false;
      for (let i = 0; i < st.held.length; i++) {
        const [s, e] = st.held[i]!;
        if (seqDiff(s, st.expected) <= 0) {
          if (seqDiff(e, st.expected) > 0) st.expected = e;
          st.held.splice(i, 1);
          merged = true;
          break;
        }
      }
    }
    return hadGap ? "fills-gap" : "in-order";
  }

  /** Classifies the acknowledgement of an arriving segment (the sender's view of its own data). */
  ack(d: Direction, seg: TcpSegment, windowBytes: number): AckArrival | undefined {
    if ((seg.flags & ACK) === 0) return undefined;
    const st = this.state(d);
    if (st === undefined) return undefined;
    const prev = st.lastAck;
    const prevWindow = st.lastWindow;
    st.lastAck = seg.ack;
    st.lastWindow = windowBytes;
    if (prev === undefined || seqDiff(seg.ack, prev) > 0) return "advances";
    const bare = seg.payload.length === 0 && (seg.flags & (SYN | FIN)) === 0;
    // With data still unacknowledged, a repeated ACK reports a gap even if the window moved.
    const outstanding = this.sentMax.get(`${d.dst}:${d.dstPort}>${d.src}:${d.srcPort}`);
    if (bare && outstanding !== undefined && seqDiff(outstanding, seg.ack) > 0) return "duplicate";
    if (bare && windowBytes !== prevWindow) return "window-update";
    return "same";
  }
}
