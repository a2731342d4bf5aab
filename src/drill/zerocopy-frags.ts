/**
 * Where a MSG_ZEROCOPY sendmsg() starts new skbs because one ran out of page fragments.
 *
 * With SO_ZEROCOPY and MSG_ZEROCOPY, Linux pins the user's pages instead of copying
 * (skb_zerocopy_iter_stream): each iovec element becomes at least one fragment (one per
 * page it touches; separate buffers never share one), and an skb holds at most
 * MAX_SKB_FRAGS (17) of them. When the next element finds no fragment free,
 * tcp_sendmsg_locked marks the full skb with PSH (tcp_mark_push) and starts a new one, and
 * no segment ever carries bytes of both. A copying write fills fragments with copied bytes
 * and never meets the limit this way.
 */

/** Linux MAX_SKB_FRAGS with 4 KiB pages. */
export const MAX_SKB_FRAGS = 17;
const PAGE = 4096;

/**
 * Byte offsets within the write (ascending, each below the total) after which an skb is
 * full of fragments: the write's bytes before and after such an offset never share a segment.
 */
export function zerocopySkbEnds(iovLengths: readonly number[]): number[] {
  const ends: number[] = [];
  let offset = 0;
  let frags = 0;
  for (const len of iovLengths) {
    if (len === 0) continue;
    let left = len;
    while (left > 0) {
      // A page's worth at most per fragment (the buffers' page alignment is not known: assume aligned).
      const piece = Math.min(left, PAGE);
      if (frags === MAX_SKB_FRAGS) {
        ends.push(offset);
        frags = 0;
      }
      frags++;
      offset += piece;
      left -= piece;
    }
  }
  return ends;
}
