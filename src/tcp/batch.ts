/**
 * Receive batching: the packets of one read of a device are all handled before the layer
 * runs one transmission pass (TcpLayer.beginBatch / endBatch).
 *
 * Why. Over a TUN device the kernel hands us several packets per wakeup (about 6.5 ACKs per
 * drain in a bulk send, BENCHMARKS.md sixth session). A pass after each of them frees one
 * ACK's worth of window and sends small TSO chunks, each a separate device write that runs
 * the kernel's receive path in our thread; in the other direction every second data segment
 * gets its own ACK. Linux gets the same effect from NAPI and GRO: the packets of one poll are
 * merged into super-packets before TCP sees them, so a receiver ACKs once per merged packet
 * (RFC 5681 section 4.2 allows a cumulative ACK of several segments; Linux
 * __tcp_ack_snd_check runs per skb, and a GRO skb holds up to 64 KiB), and a sender frees the
 * window of several ACKs before tcp_write_xmit builds its next TSO burst.
 *
 * What is deferred: only the pass over dirty connections (sending data, ACKs, FINs) and the
 * TIME_WAIT hand-over that follows it. Segments are processed and applications woken per
 * packet as before, so data a wake callback writes goes out at the end of the batch with the
 * ACK, as it would after one merged packet. Timers are untouched: a delayed ACK armed in the
 * batch is cancelled when the pass at its end sends the ACK.
 *
 * One exception: while a connection holds out-of-order data (a hole in its receive queue),
 * each of its segments is flushed at once, as without a batch. Linux GRO does not merge
 * across a hole either, and every segment then must produce its own duplicate ACK (RFC 5681
 * section 4.2: "immediately"), since a sender without SACK counts them for fast retransmit.
 *
 * A driver that feeds one packet at a time (packetdrill, simulations) never opens a batch
 * and sees exactly the old behaviour.
 */
import type { Connection } from "./connection.js";

/** Whether `conn` holds data beyond a hole: its segments are ACKed one by one even in a batch. */
export function holdsGap(conn: Connection): boolean {
  return conn.receiver.buffer.outOfOrderRanges > 0;
}
