/**
 * TCP_NOTSENT_LOWAT (Linux 3.12, "tcp: TCP_NOTSENT_LOWAT socket option"): a limit on the
 * bytes an application may have written that TCP has not sent yet. Below the send buffer's
 * own limit it keeps the queue short, so that what the application writes next (a newer
 * HTTP/2 frame, say) is not stuck behind megabytes already queued.
 *
 * Linux applies it at two places, and so does synack:
 * - a write (tcp_sendmsg_locked) checks it only when it needs a new skb
 *   (sk_stream_memory_free -> tcp_stream_memory_free with wake = 0): it stops once the
 *   unsent bytes have reached the limit. What the window lets out during the write does
 *   not count; write-admission.ts replays that, with the send buffer's own limit.
 * - writability (tcp_poll -> __sk_stream_is_writeable with wake = 1) needs the unsent
 *   bytes at most half the limit, so a writer woken up has room for a real write.
 *
 * The value is a number of bytes; Linux's default, 0xffffffff (sysctl tcp_notsent_lowat),
 * means no limit.
 */

/** Linux's default for tcp_notsent_lowat: no limit. */
export const NOTSENT_UNLIMITED = 0xffffffff;

/** Whether a socket with `unsent` bytes not sent polls writable under `lowat` (Linux tcp_stream_memory_free, wake = 1). */
export function notsentWritable(unsent: number, lowat: number): boolean {
  return lowat >= NOTSENT_UNLIMITED || unsent * 2 < lowat;
}
