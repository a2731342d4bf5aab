/**
 * When a writer that found the send buffer full hears that it may write again: Linux's
 * sk_stream_write_space (net/core/stream.c), reached from tcp_check_space -> tcp_new_space
 * (net/ipv4/tcp_input.c) once an ACK was processed and what it allowed was sent.
 *
 * A write that leaves bytes behind marks the socket SOCK_NOSPACE. Linux then wakes the
 * writer (and polls EPOLLOUT) only once the free space is at least half of what is queued,
 * sk_stream_wspace(sk) >= sk_stream_min_wspace(sk), that is
 *
 *   sndbuf - queued >= queued / 2,
 *
 * and the bytes not sent yet are under half of TCP_NOTSENT_LOWAT (__sk_stream_is_writeable
 * with wake = 1: tcp_stream_memory_free; notsent-lowat.ts). So a woken writer has room for a
 * large write, rather than being woken for every segment an ACK frees (include/net/sock.h:
 * "do not wake up a writer until he can make significant progress").
 *
 * In synack `sndbuf` is the send buffer's capacity and `queued` the memory its bytes are
 * charged, each skb's fixed cost included (write-admission.ts queuedMemory).
 */
import { notsentWritable } from "./notsent-lowat.js";

/**
 * Linux __sk_stream_is_writeable(sk, 1): the send buffer of `capacity` bytes with `queued`
 * bytes in it has room enough to wake a writer, and the `unsent` ones are under half of the
 * not-sent limit `lowat`.
 */
export function streamWritable(capacity: number, queued: number, unsent: number, lowat: number): boolean {
  // __sk_stream_memory_free: sk_wmem_queued < sk_sndbuf; sk_stream_wspace >= sk_stream_min_wspace (queued >> 1).
  return queued < capacity && capacity - queued >= queued >>> 1 && notsentWritable(unsent, lowat);
}
