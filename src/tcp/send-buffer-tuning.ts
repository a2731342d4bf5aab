/**
 * Send buffer autotuning, as Linux's tcp_sndbuf_expand: the space a writer may fill grows
 * with the congestion window, so a fast path is never limited by a buffer sized for a
 * slow one. Linux starts sk_sndbuf at tcp_wmem[1] and, whenever an ACK frees room a
 * blocked writer is waiting for and the window is not full (tcp_new_space,
 * tcp_should_expand_sndbuf), raises it to
 *
 *   factor x max(cwnd, 10 segments, reordering + 1) x per-segment memory,   at most tcp_wmem[2]
 *
 * where factor is 2 (RFC 5681 fast recovery needs about 1.7 windows; CUBIC's) or the
 * congestion control's own (BBR asks 3: it may keep slow-starting during recovery), and
 * per-segment memory is what one MSS-sized packet costs the kernel (a power-of-two head
 * with room for headers and shared info, plus the sk_buff): the worst case, a packet per
 * segment. What the queue is charged against the buffer is each skb's payload and fixed
 * cost (write-admission.ts). The buffer never shrinks here, and a socket whose size the
 * application set (SO_SNDBUF, Linux SOCK_SNDBUF_LOCK) is left alone.
 */

/** Linux MAX_TCP_HEADER plus the aligned skb_shared_info on x86-64, rounded: header room per packet. */
const PACKET_OVERHEAD = 320 + 320;
/** The sk_buff itself (SKB_DATA_ALIGN(sizeof(struct sk_buff))). */
const SKB_STRUCT = 256;
/** TCP_INIT_CWND: the buffer holds at least this many segments' worth. */
const MIN_SEGMENTS = 10;

/** Memory one segment of `mss` payload costs (Linux's per_mss). */
export function perSegmentMemory(mss: number): number {
  let head = 1;
  while (head < mss + PACKET_OVERHEAD) head *= 2;
  return head + SKB_STRUCT;
}

/**
 * The send buffer's size after an ACK, given its current `capacity`: grown to the goal
 * for `cwndSegments` (never beyond `max`, never shrunk), or unchanged when the window is
 * full (`pipe` >= `cwnd` bytes: more buffer would not let more leave).
 */
export function tunedSendBuffer(capacity: number, max: number, cwnd: number, pipe: number, mss: number, factor: number): number {
  if (pipe >= cwnd || capacity >= max) return capacity;
  const segments = Math.max(Math.ceil(cwnd / mss), MIN_SEGMENTS);
  const goal = Math.min(max, factor * segments * perSegmentMemory(mss));
  return Math.max(capacity, goal);
}
