/**
 * How much of a write the send buffer takes, decided as Linux's tcp_sendmsg_locked decides
 * it (net/ipv4/tcp.c). RFC 9293 3.10.2 leaves a full buffer to the implementation; Linux's
 * packetdrill scripts record the exact figures (a write of 59,000 bytes into a 50,000-byte
 * buffer takes 58,000), so synack replays its rule:
 *
 * - Bytes go into skbs, each filled up to the size goal (tso-chunks.ts writeSizeGoal, Linux
 *   tcp_xmit_size_goal: 64 KiB bounded by half the largest window the peer offered).
 * - The buffer is checked only when a new skb is needed (sk_stream_memory_free): the queue's
 *   memory, sk_wmem_queued, must be under sk_sndbuf, and the bytes not sent yet under
 *   TCP_NOTSENT_LOWAT (notsent-lowat.ts). An skb once started is filled, so a write may end
 *   up to one size goal beyond the buffer's size.
 * - sk_wmem_queued counts each skb's payload and its fixed cost (SKB_FIXED_COST): many small
 *   skbs (a small window makes the size goal one segment) fill the buffer sooner.
 * - A full skb at the head of the unsent queue is pushed at once (tcp_push_one). What the
 *   windows let out leaves during the write and no longer counts as unsent; what they refuse
 *   is split off (tso_fragment, which charges the new skb's fixed cost) and refilled to the
 *   goal.
 *
 * synack keeps no skbs, so the bytes already queued are laid out again as this write would
 * have filled them: the unsent ones from SND.NXT, the ones in flight as full skbs. Calls for
 * successive pieces of one write agree with one call for the whole.
 */
import { seqDiff } from "../wire/seq.js";
import type { Sender } from "./sender.js";
import { writeSizeGoal } from "./tso-chunks.js";
import { streamWritable } from "./write-space.js";

/**
 * What one skb costs sk_wmem_queued besides its payload (its truesize less the bytes in it:
 * the sk_buff, its small head and the shared info). Measured on this machine's Linux 6.18
 * (`ss -tm` beside a scripted peer on a TUN device, skbs of one 1000-byte segment): each
 * skb added its payload plus 832. The corpus agrees: timestamping/partial.pkt's three skbs
 * of 988 bytes in a 4608-byte buffer need a cost from 548 to 1,315.
 */
export const SKB_FIXED_COST = 832;

/** The send queue a write joins. All sizes in bytes. */
export interface SendQueueState {
  /** sk_sndbuf: the most memory the queue may use before a new skb is refused. */
  sndbuf: number;
  /** Sent and not acknowledged. */
  inFlight: number;
  /** Queued and not sent yet. */
  unsent: number;
  /** Beyond SND.NXT, what the congestion and receive windows let out now (whole segments). */
  sendable: number;
  /** The size skbs are filled to (writeSizeGoal). */
  sizeGoal: number;
  /** TCP_NOTSENT_LOWAT (NOTSENT_UNLIMITED: none). */
  lowat: number;
}

/** The send queue of `s` as a write sees it. */
export function sendQueueState(s: Sender): SendQueueState {
  const unsent = s.unsentBytes();
  return { sndbuf: s.sendBuffer.capacity, inFlight: s.sendBuffer.length - unsent, unsent, sendable: sendableNow(s), sizeGoal: writeSizeGoal(s.sendMss, s.maxSndWnd), lowat: s.notsentLowat };
}

/** The send buffer of `s` polls writable (Linux __sk_stream_is_writeable with wake = 1; write-space.ts). */
export function sendQueueWritable(s: Sender): boolean {
  const unsent = s.unsentBytes();
  const memory = queuedMemory(s.sendBuffer.length - unsent, unsent, writeSizeGoal(s.sendMss, s.maxSndWnd));
  return streamWritable(s.sendBuffer.capacity, memory, unsent, s.notsentLowat);
}

/** Whole segments beyond SND.NXT that the congestion and receive windows let out now, in bytes. */
function sendableNow(s: Sender): number {
  const mss = s.host.segmentMss();
  const room = Math.min(s.cwnd - s.pipe(), s.sndWnd - seqDiff(s.sndNxt, s.sndUna));
  return room >= mss ? room - (room % mss) : 0;
}

/** sk_wmem_queued for a queue of `inFlight` sent and `unsent` unsent bytes, laid out in full skbs. */
export function queuedMemory(inFlight: number, unsent: number, sizeGoal: number): number {
  const goal = Math.max(1, sizeGoal);
  return inFlight + unsent + SKB_FIXED_COST * (Math.ceil(inFlight / goal) + Math.ceil(unsent / goal));
}

/** What a write takes, and where its skbs fall. */
export interface Admission {
  /** Bytes taken (0 when the buffer is full). */
  bytes: number;
  /**
   * Counted from SND.NXT, where the write's skbs begin to fall every size goal: the skb
   * boundaries at which Linux checks forced_push (push-marks.ts). 0 unless the window let
   * the head skb out in part during the write and the rest was split off.
   */
  gridStart: number;
}

/** How many of `length` bytes a write takes now, and where its skbs fall. */
export function writeAdmits(length: number, q: SendQueueState): Admission {
  const goal = Math.max(1, q.sizeGoal);
  const { unsent, sendable, lowat, sndbuf } = q;
  const total = unsent + length;
  const inFlightMemory = queuedMemory(q.inFlight, 0, goal);
  let end = 0; // bytes laid out in skbs, counted from SND.NXT
  let sent = 0; // of those, pushed out while writing
  let tailStart = 0; // where the last skb begins
  let gridStart = 0;
  let skbs = 0;
  while (end < total) {
    // A new skb is needed when the last one is full or already sent whole (tcp_skb_can_collapse_to
    // fails on an skb that left the write queue); that is when the limits are checked.
    if (end === sent || end - tailStart >= goal) {
      if (sent < end) {
        // The skbs from here on are never the head of the unsent queue: none is pushed, each
        // is a full goal. Count them at once rather than one by one.
        end = fullSkbsEnd(end, sent, skbs, total, goal, unsent, inFlightMemory, sndbuf, lowat);
        break;
      }
      if (end >= unsent && !(inFlightMemory + end + SKB_FIXED_COST * skbs < sndbuf && end - sent < lowat)) break;
      tailStart = end;
      skbs++;
    }
    end = Math.min(tailStart + goal, total);
    if (end - tailStart === goal && sent >= tailStart) {
      sent = Math.min(end, Math.max(sent, sendable));
      if (sent > tailStart && sent < end) {
        tailStart = gridStart = sent;
        skbs++;
      }
    }
  }
  return { bytes: Math.max(0, end - unsent), gridStart };
}

/**
 * Where the layout ends when skbs of `goal` bytes start at `start`, `start + goal`, ... with
 * `skbs` before the first and `sent` bytes pushed: those starting inside the `unsent` bytes
 * queued earlier are laid out whatever the limits (they hold bytes already taken), the others
 * only while memory is under `sndbuf` and the unsent bytes under `lowat`.
 */
function fullSkbsEnd(start: number, sent: number, skbs: number, total: number, goal: number, unsent: number, inFlightMemory: number, sndbuf: number, lowat: number): number {
  const forced = Math.max(0, Math.ceil((unsent - start) / goal));
  const memoryRoom = sndbuf - inFlightMemory - start - SKB_FIXED_COST * skbs;
  const byMemory = memoryRoom > 0 ? Math.ceil(memoryRoom / (goal + SKB_FIXED_COST)) : 0;
  // No limit (NOTSENT_UNLIMITED, 2^32 - 1) leaves room for more skbs than any write fills.
  const lowatRoom = lowat - (start - sent);
  const byLowat = lowatRoom > 0 ? Math.ceil(lowatRoom / goal) : 0;
  return Math.min(total, start + Math.max(forced, Math.min(byMemory, byLowat)) * goal);
}
