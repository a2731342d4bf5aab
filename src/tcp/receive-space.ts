/**
 * Receive buffer autotuning, as Linux's dynamic right-sizing (tcp_rcv_space_adjust, after
 * Fisher's DRS): once per receiver-side round trip, look at how many bytes the application
 * read in it; if that beat the previous round, grow the buffer (and so the window we
 * offer) to what the sender could need next round: twice the bytes read, to ride out a
 * loss, plus 16 segments of cushion, plus twice the round's growth again for a sender still
 * in slow start (its next round doubles; the ACKs we send now govern that round). The
 * buffer never shrinks here and stops at `receiveBufferMax` (tcp_rmem[2]); a size the
 * application set (SO_RCVBUF, Linux SOCK_RCVBUF_LOCK) is left alone.
 *
 * The round trip is measured from timestamps as Linux's tcp_rcv_rtt_measure_ts does: a
 * full-sized segment echoing our timestamp gives now - TSecr, smoothed 7/8 old + 1/8 new.
 * Without timestamps it is measured as Linux's tcp_rcv_rtt_measure does: note the window
 * we offer, and time how long the peer takes to fill it (it cannot send more than one
 * window per round trip, so this is at least an RTT); one sample per window, and only the
 * minimum is kept, as a bulk sender stalled on its own I/O would otherwise inflate it.
 *
 * Linux sizes in memory (truesize) and converts with the socket's payload-to-memory
 * ratio; synack's buffer counts payload, so the window Linux would offer is used directly.
 */
import type { Millis } from "../env.js";
import { seqAdd, seqDiff, type Seq } from "../wire/seq.js";

/** TCP_INIT_CWND: the first round's expectation is ten segments. */
const INIT_SEGMENTS = 10;
/** Segments of cushion above twice the bytes read ("16 * tp->advmss"). */
const CUSHION_SEGMENTS = 16;

export class ReceiveSpace {
  /** Smoothed receiver RTT, ms (0: no sample yet). */
  rtt: Millis = 0;
  /** Bytes read in the last measured round (Linux rcvq_space.space). */
  private space = 0;

  /** tcpi_rcv_space: what the application read in its best round so far. */
  get bytesPerRound(): number {
    return this.space;
  }
  /** Read position and time where the current round started (undefined: not started). */
  private seq: Seq | undefined;
  private time: Millis = 0;

  /** Window-timing measure (Linux rcv_rtt_est.seq/time): done when rcvNxt reaches `windowEnd`. */
  private windowEnd: Seq | undefined;
  private windowStart: Millis = 0;

  /**
   * In-order data arrived at `now` on a connection without timestamps (Linux
   * tcp_rcv_rtt_measure, from tcp_event_data_recv): `rcvNxt` after it, `window` the
   * window we offer now.
   */
  measureWindow(now: Millis, rcvNxt: Seq, window: number): void {
    if (this.windowEnd !== undefined) {
      if (seqDiff(rcvNxt, this.windowEnd) < 0) return;
      // Linux tcp_rcv_rtt_update with win_dep: keep the minimum, no smoothing.
      const rtt = Math.max(now - this.windowStart, 1);
      if (this.rtt === 0 || rtt < this.rtt) this.rtt = rtt;
    }
    this.windowEnd = seqAdd(rcvNxt, window);
    this.windowStart = now;
  }

  /** A full-sized in-order segment echoed our timestamp `rtt` ms ago. */
  sample(rtt: Millis | undefined): void {
    if (rtt === undefined || rtt <= 0) return;
    this.rtt = this.rtt === 0 ? rtt : this.rtt + (rtt - this.rtt) / 8;
  }

  /**
   * The application has read up to `readSeq` at `now`; returns the buffer size to use from
   * now on: `capacity` or more, at most `max`.
   */
  afterRead(now: Millis, readSeq: Seq, capacity: number, max: number, mss: number): number {
    if (this.seq === undefined) {
      this.seq = readSeq;
      this.time = now;
      this.space = Math.min(capacity, INIT_SEGMENTS * mss);
      return capacity;
    }
    if (this.rtt === 0 || now - this.time < this.rtt) return capacity;
    const copied = seqDiff(readSeq, this.seq);
    let size = capacity;
    if (copied > this.space) {
      let window = 2 * copied + CUSHION_SEGMENTS * mss;
      window += 2 * Math.floor((window * (copied - this.space)) / this.space);
      size = Math.max(capacity, Math.min(window, max));
      this.space = copied;
    }
    this.seq = readSeq;
    this.time = now;
    return size;
  }
}
