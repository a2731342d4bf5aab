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
 * Two exceptions, where a connection is flushed after its segment as without a batch:
 * - While it holds out-of-order data (a hole in its receive queue). Linux GRO does not merge
 *   across a hole, and each segment then must produce its own duplicate ACK (RFC 5681
 *   section 4.2: "immediately"), since a sender without SACK counts them for fast retransmit.
 * - Once the data it has not acknowledged would fill a GRO packet: GRO merges a flow's
 *   segments only while the merged IP packet stays within gro_max_size (64 KiB by default,
 *   GRO_LEGACY_MAX_SIZE), so a Linux receiver ACKs at least every 64 KiB. A TUN device with
 *   offloads hands us 64 KiB GSO packets already merged, up to 256 per drain: without this
 *   rule one drain (16 MiB) would get one ACK and starve the sender's ACK clock.
 *
 * And one the other way round, for a sender: before an ACK that reports a hole (SACK
 * blocks, or a duplicate ACK), the connection's deferred pass runs first. Such an ACK may
 * start loss recovery, whose recovery point is SND.NXT at that moment (RFC 6675 section 5,
 * Linux high_seq), and Linux sends after every ACK it processes (tcp_data_snd_check), so
 * what the batch's earlier ACKs released is out, and below that point, before it looks at
 * the next. Deferred, those segments left after it, above the point: a loss among them
 * then began a second episode with a second reduction of the window, and a synack sender
 * behind a batching link lost 10% of its goodput at 1% loss (BENCHMARKS.md, thirtieth session).
 *
 * A driver that feeds one packet at a time (packetdrill, simulations) never opens a batch
 * and sees exactly the old behaviour.
 */
import { seqDiff } from "../wire/seq.js";
import type { Connection } from "./connection.js";
import type { TcpSegment } from "../wire/tcp.js";

/** Linux's default gro_max_size (GRO_LEGACY_MAX_SIZE): the largest packet GRO builds. */
export const GRO_MAX_SIZE = 65536;
/** IPv4 and TCP headers without options: the least a GRO packet spends on headers. */
const HEADERS = 40;

/** Whether `conn` must send now even in a batch: a hole in its receive queue, or a GRO packet's worth unacknowledged. */
export function flushesInBatch(conn: Connection): boolean {
  const r = conn.receiver;
  if (r.buffer.outOfOrderRanges > 0) return true;
  // One more full segment would not fit the GRO packet: GRO would hand it to TCP now.
  return seqDiff(r.rcvNxt, r.lastAckSent) + r.window.fullSegment + HEADERS > GRO_MAX_SIZE;
}

/** Whether `conn`'s deferred pass must run before it takes `seg`: an ACK that reports a hole (see above). */
export function flushesBeforeInBatch(conn: Connection, seg: TcpSegment): boolean {
  if (!conn.dirtyQueued) return false;
  const sack = seg.options.sackBlocks;
  if (sack !== undefined && sack.length > 0) return true;
  // A duplicate ACK (RFC 5681 2): nothing new acknowledged, no data, something outstanding.
  return seg.payload.length === 0 && seg.ack === conn.sndUna && conn.sndNxt !== conn.sndUna;
}
