/**
 * A socket's error queue, as Linux keeps it (sk->sk_error_queue): what recvmsg(MSG_ERRQUEUE)
 * reads, oldest first, one entry per call. Two features put entries on it, and Linux has one
 * queue for both, so they interleave in the order they happened:
 *
 * - MSG_ZEROCOPY completions (zerocopy.ts; Linux __msg_zerocopy_callback), a range of ids;
 * - TX timestamps of SO_TIMESTAMPING (tx-timestamps.ts; Linux __skb_complete_tx_timestamp),
 *   a stamp type, a key and a time.
 *
 * A zerocopy completion may widen the unread range at the tail instead of queueing another
 * (skb_zerocopy_notify_extend), but only while that tail is itself a zerocopy range: a
 * timestamp queued between them keeps them apart, as in Linux.
 *
 * Made on first use by either feature (hung off push-marks.ts with them): an idle
 * connection pays nothing for it. After close() (Linux SOCK_DEAD) nothing more is queued.
 */
import type { Millis } from "../env.js";

/** One entry of the error queue: the zerocopy ids lo..hi (inclusive, modulo 2^32) are complete. */
export interface ZerocopyCompletion {
  lo: number;
  hi: number;
  /**
   * The bytes were copied, not sent from the caller's memory (SO_EE_CODE_ZEROCOPY_COPIED).
   * Always true in synack, which copies each payload into its packet.
   */
  copied: boolean;
}

/** SCM_TSTAMP_* (include/uapi/linux/errqueue.h): what the stamp records, as ee_info carries it. */
export const SCM_TSTAMP_SND = 0;
export const SCM_TSTAMP_SCHED = 1;
export const SCM_TSTAMP_ACK = 2;
export type TstampType = typeof SCM_TSTAMP_SND | typeof SCM_TSTAMP_SCHED | typeof SCM_TSTAMP_ACK;

/** One entry of the error queue: a TX timestamp (SO_EE_ORIGIN_TIMESTAMPING, errno ENOMSG). */
export interface TxTimestamp {
  /** SCM_TSTAMP_SND (0: the segment left), SCM_TSTAMP_SCHED (1: it was queued for sending), SCM_TSTAMP_ACK (2: acknowledged). */
  type: TstampType;
  /** ee_data: with SOF_TIMESTAMPING_OPT_ID, the offset of the write's last byte from the key base; else 0. */
  key: number;
  /** When it happened (the software stamp, ts[0] of struct scm_timestamping), on the `now` clock. */
  at: Millis;
}

export type ErrorQueueEntry = ZerocopyCompletion | TxTimestamp;

/** True for a TX timestamp, false for a zerocopy completion. */
export function isTxTimestamp(e: ErrorQueueEntry): e is TxTimestamp {
  return "key" in e;
}

export class ErrorQueue {
  private entries: ErrorQueueEntry[] = [];
  private head = 0;
  /** Entries queued or merged so far (each is a Linux sk_error_report wakeup: edge-triggered epoll re-arms on it). */
  reports = 0;
  /** close() was called (Linux SOCK_DEAD): nothing more is queued. */
  dead = false;

  /** Queues `e` (Linux sock_queue_err_skb); false when the socket is closed and nothing was queued. */
  push(e: ErrorQueueEntry): boolean {
    if (this.dead) return false;
    this.entries.push(e);
    this.reports++;
    return true;
  }

  /** The newest unread entry, if any (a zerocopy completion may widen it in place: then call merged()). */
  tail(): ErrorQueueEntry | undefined {
    return this.head < this.entries.length ? this.entries[this.entries.length - 1] : undefined;
  }

  /** The tail was widened in place: the socket is woken as for a new entry. */
  merged(): void {
    this.reports++;
  }

  /** Entries wait to be read (Linux: the error queue is not empty, so poll says POLLERR). */
  get ready(): boolean {
    return this.head < this.entries.length;
  }

  /** Takes the oldest entry off the queue; undefined when it is empty (recvmsg's EAGAIN). */
  read(): ErrorQueueEntry | undefined {
    if (!this.ready) return undefined;
    const e = this.entries[this.head++]!;
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    }
    return e;
  }
}
