/**
 * MSG_ZEROCOPY completion notifications, as Linux gives them.
 *
 * Read first: Linux Documentation/networking/msg_zerocopy.rst; then net/core/skbuff.c
 * (msg_zerocopy_realloc, msg_zerocopy_put_abort, __msg_zerocopy_callback,
 * skb_zerocopy_notify_extend) and tcp_sendmsg_locked in net/ipv4/tcp.c.
 *
 * - SO_ZEROCOPY is a socket flag. Without it the MSG_ZEROCOPY flag of a write is ignored:
 *   no id is used and nothing is ever notified.
 * - With it, each write flagged MSG_ZEROCOPY that queues at least one byte takes the
 *   socket's next 32-bit id (Linux sk_zckey): 0, 1, 2, ... A write that queues nothing
 *   (fails, finds the buffer full, has no bytes) gives its id back
 *   (msg_zerocopy_put_abort), so the ids of the writes that did queue stay consecutive.
 * - When the stack holds none of a write's bytes any more, a completion for its id goes on
 *   the socket's error queue, read with recvmsg(MSG_ERRQUEUE) as a struct
 *   sock_extended_err (ee_origin SO_EE_ORIGIN_ZEROCOPY, ee_info = lo, ee_data = hi). A
 *   completion whose id follows the range at the tail of the queue widens that range
 *   instead of queueing another, as long as the range stays under 2^32 ids
 *   (skb_zerocopy_notify_extend): an application that reads late gets one range for many
 *   writes. Reading takes the oldest range off the queue. The queue is the socket's one
 *   error queue (error-queue.ts), shared with SO_TIMESTAMPING's TX timestamps.
 *
 * synack's send buffer keeps views of the caller's arrays, not copies (send-buffer.ts), so
 * "holds none of its bytes" means "every byte acknowledged": a write is tracked by the
 * sequence number just past its last byte and completes once SND.UNA reaches it. Writes
 * complete in sequence order, so the ids awaiting completion are always a consecutive run
 * and only their end sequence numbers need keeping.
 *
 * Every completion says SO_EE_CODE_ZEROCOPY_COPIED: synack copies the payload into each
 * packet it builds (wire/tcp.ts emitTcp), as Linux copies when the device cannot take the
 * pages by reference (no scatter-gather, or loopback), and says so with that code.
 *
 * When a reset or a timeout ends the connection, the bytes not acknowledged are dropped
 * (Linux tcp_write_queue_purge frees the skbs and with them their ids' references), so
 * every outstanding write completes at once. After close() (Linux SOCK_DEAD) nothing more
 * is queued: no descriptor is left to read it from.
 *
 * Made on first use (Connection.setZerocopy), hanging off the send side's other write
 * boundaries (push-marks.ts): an idle connection pays nothing for it.
 */
import { seqLe, type Seq } from "../wire/seq.js";
import { InvalidArgumentError } from "./errors.js";
import { ErrorQueue, isTxTimestamp, type ZerocopyCompletion } from "./error-queue.js";
import { showValue } from "../show-value.js";

export type { ZerocopyCompletion } from "./error-queue.js";

/** Ids are 32 bits and wrap (Linux u32 ee_info / ee_data). */
const ID_SPACE = 2 ** 32;

export class Zerocopy {
  /** SO_ZEROCOPY (Linux SOCK_ZEROCOPY). */
  enabled = false;
  /** The id the next zerocopy write takes (Linux sk_zckey). */
  nextId = 0;
  /** Id of the oldest write not yet complete; those after it are nextId - oldestId more. */
  private oldestId = 0;
  /** End sequence number of each write not yet complete, oldest first, from `head`. */
  private ends: Seq[] = [];
  private head = 0;

  /** `errors` is the socket's error queue, shared with TX timestamps (error-queue.ts). */
  constructor(readonly errors: ErrorQueue = new ErrorQueue()) {}

  /** Entries queued or merged so far on the error queue (each a Linux sk_error_report wakeup). */
  get reports(): number {
    return this.errors.reports;
  }

  /**
   * A zerocopy write queued bytes ending just before `end`. A new write takes the next
   * id; `continuing` is the rest of the write that took the last id (a blocking call
   * queueing in several steps), whose end moves if that id is still outstanding. (If it
   * has completed meanwhile, which Linux prevents by holding the id for the whole call,
   * the rest takes a new id.) Returns the write's id, or undefined when SO_ZEROCOPY is off.
   */
  wrote(end: Seq, continuing = false): number | undefined {
    if (!this.enabled) return undefined;
    if (continuing && this.head < this.ends.length) {
      this.ends[this.ends.length - 1] = end;
      return (this.nextId + ID_SPACE - 1) % ID_SPACE;
    }
    if (this.head === this.ends.length) this.oldestId = this.nextId; // none outstanding (complete() emptied the list)
    this.ends.push(end);
    const id = this.nextId;
    this.nextId = (id + 1) % ID_SPACE;
    return id;
  }

  /** SND.UNA's data reached `una`: writes whose every byte is acknowledged complete. Returns true when any did. */
  acked(una: Seq): boolean {
    let n = 0;
    while (this.head + n < this.ends.length && seqLe(this.ends[this.head + n]!, una)) n++;
    return this.complete(n);
  }

  /** The end of the oldest write not yet complete, if any (push-marks.ts orders completions with ACK timestamps by it). */
  get nextEnd(): Seq | undefined {
    return this.head < this.ends.length ? this.ends[this.head] : undefined;
  }

  /** The unacknowledged bytes were dropped (reset, timeout): every outstanding write completes. */
  purged(): boolean {
    return this.complete(this.ends.length - this.head);
  }

  /** Entries wait on the error queue (Linux: it is not empty, so poll says POLLERR). */
  get ready(): boolean {
    return this.errors.ready;
  }

  /** Takes the oldest entry off the error queue, which without SO_TIMESTAMPING holds only completions. */
  read(): ZerocopyCompletion | undefined {
    const e = this.errors.read();
    return e === undefined || isTxTimestamp(e) ? undefined : e;
  }

  /** The `n` oldest outstanding writes are complete: queue their ids (__msg_zerocopy_callback). */
  private complete(n: number): boolean {
    if (n === 0) return false;
    const lo = this.oldestId;
    this.oldestId = (lo + n) % ID_SPACE;
    this.head += n;
    if (this.head === this.ends.length) {
      this.ends = [];
      this.head = 0;
    } else if (this.head > 32 && this.head * 2 > this.ends.length) {
      this.ends = this.ends.slice(this.head);
      this.head = 0;
    }
    if (this.errors.dead) return false;
    const hi = (lo + n - 1) % ID_SPACE;
    // skb_zerocopy_notify_extend: widen the unread tail when it is a zerocopy range, lo
    // follows its hi and the range stays under 2^32 ids (a TX timestamp at the tail, or an
    // empty queue, means a new entry).
    const tail = this.errors.tail();
    if (tail !== undefined && !isTxTimestamp(tail)) {
      const width = (tail.hi - tail.lo + ID_SPACE) % ID_SPACE + 1;
      if (lo === (tail.hi + 1) % ID_SPACE && width + n < ID_SPACE) {
        tail.hi = hi;
        this.errors.merged();
        return true;
      }
    }
    return this.errors.push({ lo, hi, copied: true });
  }
}

/** The send side's hold on a connection's zerocopy state (Sender.zerocopy). */
interface ZerocopyHost {
  zerocopy(make?: boolean): Zerocopy | undefined;
}

/** SO_ZEROCOPY on (made on first use) or off; ids already taken still complete. Linux takes 0 or 1 only. */
export function setZerocopy(s: ZerocopyHost, on: boolean): void {
  if (typeof on !== "boolean") throw new InvalidArgumentError(`setZerocopy(on): on must be a boolean, got ${showValue(on)}`);
  if (on) s.zerocopy(true)!.enabled = true;
  else if (s.zerocopy() !== undefined) s.zerocopy()!.enabled = false;
}

/** send()'s `zerocopy` option: true, false, "continue" or absent; anything else is a bad argument. */
export function checkZerocopyOption(v: unknown): boolean | "continue" {
  if (v === undefined || v === false) return false;
  if (v === true || v === "continue") return v;
  throw new InvalidArgumentError(`send(data, { zerocopy }): zerocopy must be true, false or "continue", got ${showValue(v)}`);
}
