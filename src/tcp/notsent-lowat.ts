/**
 * TCP_NOTSENT_LOWAT (Linux 3.12, "tcp: TCP_NOTSENT_LOWAT socket option"): a limit on the
 * bytes an application may have written that TCP has not sent yet. Below the send buffer's
 * own limit it keeps the queue short, so that what the application writes next (a newer
 * HTTP/2 frame, say) is not stuck behind megabytes already queued.
 *
 * Linux applies it at two places, and so does synack:
 * - a write (tcp_sendmsg_locked) checks it only when it needs a new skb
 *   (sk_stream_memory_free -> tcp_stream_memory_free with wake = 0): it stops once the
 *   unsent bytes have reached the limit. Skbs are filled up to the size goal and the first
 *   unsent one is pushed out as soon as it is full (tcp_push_one), so what the window
 *   allows leaves during the write and does not count; `notsentAdmits` replays that.
 * - writability (tcp_poll -> __sk_stream_is_writeable with wake = 1) needs the unsent
 *   bytes at most half the limit, so a writer woken up has room for a real write.
 *
 * The value is a number of bytes; Linux's default, 0xffffffff (sysctl tcp_notsent_lowat),
 * means no limit.
 */

/** Linux's default for tcp_notsent_lowat: no limit. */
export const NOTSENT_UNLIMITED = 0xffffffff;

/**
 * How many of `length` bytes a write takes under a not-sent limit of `lowat`.
 *
 * `unsent`: bytes queued before this write and not sent yet; `sendable`: bytes beyond
 * SND.NXT that the congestion and receive windows let out now; `sizeGoal`: the size skbs
 * are filled to (tso-chunks.ts sizeGoal, Linux tcp_xmit_size_goal). The skbs of the bytes
 * already queued are laid out again from SND.NXT as this write would have filled them, so
 * calls for successive pieces of one write agree with one call for the whole.
 */
export function notsentAdmits(unsent: number, length: number, sendable: number, sizeGoal: number, lowat: number): number {
  if (lowat >= NOTSENT_UNLIMITED) return length;
  const goal = Math.max(1, sizeGoal);
  const total = unsent + length;
  let end = 0; // bytes laid out in skbs, counted from SND.NXT
  let sent = 0; // of those, pushed out while writing
  let tailStart = 0; // where the last skb begins
  while (end < total) {
    // A new skb is needed when the last one is full or already sent whole (tcp_skb_can_collapse_to
    // fails on an skb that left the write queue); that is when the limit is checked.
    if (end === sent || end - tailStart >= goal) {
      if (end >= unsent && end - sent >= lowat) break;
      tailStart = end;
    }
    end = Math.min(tailStart + goal, total);
    // A full skb at the head of the unsent queue is pushed at once (tcp_push_one); what the
    // windows refuse stays, split off as the new last skb, which fills up to the goal again.
    if (end - tailStart === goal && sent >= tailStart) {
      sent = Math.min(end, Math.max(sent, sendable));
      if (sent > tailStart && sent < end) tailStart = sent;
    }
  }
  return Math.max(0, end - unsent);
}

/** Whether a socket with `unsent` bytes not sent polls writable under `lowat` (Linux tcp_stream_memory_free, wake = 1). */
export function notsentWritable(unsent: number, lowat: number): boolean {
  return lowat >= NOTSENT_UNLIMITED || unsent * 2 < lowat;
}
