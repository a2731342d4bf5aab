/**
 * Bytes the application queued for sending and the peer has not yet acknowledged.
 *
 * A list of chunks with a read offset into the first one: appending never copies, and
 * acknowledging drops whole chunks, so an idle connection holds no buffer memory at all.
 * The stack takes ownership of appended chunks; callers must not modify them afterwards.
 *
 * Segments are usually cut one after another, so `peek` remembers where the last one
 * ended and continues from there instead of walking the list from the start.
 */
import { withHeadroom } from "../ip/packet-alloc.js";

/** The queued bytes: chunks with a read offset into the first, and the cursor of the last peek. */
class Queued {
  chunks: Uint8Array[] = [];
  /** Index of the first live chunk (dropped chunks before it are compacted away lazily). */
  first = 0;
  /** Offset of the first unacknowledged byte inside chunks[first]. */
  head = 0;
  bytes = 0;
  /** Cursor of the last peek: logical offset `cursorOffset` starts in chunk `cursorChunk` at `cursorPos`. */
  cursorOffset = -1;
  cursorChunk = 0;
  cursorPos = 0;
}

/** The shared empty buffers by size (emptySendBuffer); a handful of sizes at most. */
const EMPTY_BY_SIZE = new Map<number, SendBuffer>();
const MAX_SHARED_SIZES = 16;

/**
 * An empty, unlocked buffer of `capacity` bytes shared by every connection that has written
 * nothing yet, so an idle one keeps no buffer of its own (48 B): all such buffers are alike.
 * It is never written: the sender makes its own (`Sender.ownSendBuffer`) before the first
 * write, and consume() of an empty buffer writes nothing.
 */
export function emptySendBuffer(capacity: number): SendBuffer {
  const b = EMPTY_BY_SIZE.get(capacity);
  if (b !== undefined) return b;
  const made = new SendBuffer(capacity);
  if (EMPTY_BY_SIZE.size < MAX_SHARED_SIZES) EMPTY_BY_SIZE.set(capacity, made);
  return made;
}

/** `b` is one of the shared empty buffers (a write needs a buffer of the connection's own). */
export function isSharedSendBuffer(b: SendBuffer): boolean {
  return EMPTY_BY_SIZE.get(b.capacity) === b;
}

export class SendBuffer {
  /**
   * What is queued; undefined while the buffer is empty, so an idle connection's buffer is
   * only its size (48 bytes less per connection, bench/heap.js). Made by the first append
   * after the buffer emptied, dropped when acknowledgements empty it again.
   */
  private q: Queued | undefined;

  /** Linux sk_sndbuf: the memory the queue may use, each skb's fixed cost included (write-admission.ts); SO_SNDBUF can change it on an open connection. */
  capacity: number;
  /** The application set the size (SO_SNDBUF): autotuning leaves it (send-buffer-tuning.ts). */
  locked = false;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** SO_SNDBUF: a size the application chose, kept from now on. */
  lock(capacity: number): void {
    this.capacity = capacity;
    this.locked = true;
  }

  get length(): number {
    return this.q === undefined ? 0 : this.q.bytes;
  }

  /** Holds bytes: certainly not a shared empty buffer (emptySendBuffer). */
  get active(): boolean {
    return this.q !== undefined;
  }

  /** Queues all of `data`: how much of a write the buffer takes is the sender's decision (write-admission.ts). */
  append(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    const q = (this.q ??= new Queued());
    const last = q.chunks.length - 1;
    const tail = last >= q.first ? q.chunks[last]! : undefined;
    if (tail !== undefined && tail.buffer === data.buffer && tail.byteOffset + tail.length === data.byteOffset) {
      // The rest of a write the buffer only partly took (a stream retrying with the
      // remainder): the bytes follow the tail chunk in the same memory, so one wider view
      // replaces both. No copy, and segments cut across the old seam stay views instead of
      // being copied by `peek`. Offsets into the tail (the peek cursor) keep their meaning.
      // (The view of just the part taken is never made: this runs for most writes of a bulk sender.)
      q.chunks[last] = new Uint8Array(tail.buffer, tail.byteOffset, tail.length + n);
    } else {
      q.chunks.push(data);
    }
    q.bytes += n;
  }

  /** Drops `n` acknowledged bytes from the front. */
  consume(n: number): void {
    const q = this.q;
    if (q === undefined) return;
    n = Math.min(n, q.bytes);
    if (n === 0) return;
    q.bytes -= n;
    q.cursorOffset = -1;
    while (n > 0) {
      const left = q.chunks[q.first]!.length - q.head;
      if (n < left) {
        q.head += n;
        break;
      }
      n -= left;
      q.first++;
      q.head = 0;
    }
    if (q.bytes === 0) {
      this.q = undefined;
    } else if (q.first > 64 && q.first * 2 > q.chunks.length) {
      q.chunks = q.chunks.slice(q.first);
      q.first = 0;
    }
  }

  /**
   * `len` bytes starting `offset` bytes after the first unacknowledged one. A view when
   * they lie in one chunk (the common case), a fresh copy when they span chunks (with
   * room for the packet's headers in front of it, see `withHeadroom`).
   */
  peek(offset: number, len: number): Uint8Array {
    const q = this.q;
    if (q === undefined) return EMPTY;
    len = Math.max(0, Math.min(len, q.bytes - offset));
    if (len === 0) return EMPTY;
    let i: number;
    let pos: number;
    if (offset === q.cursorOffset) {
      i = q.cursorChunk;
      pos = q.cursorPos;
    } else {
      i = q.first;
      pos = offset + q.head;
      while (pos >= q.chunks[i]!.length) {
        pos -= q.chunks[i]!.length;
        i++;
      }
    }
    const chunk = q.chunks[i]!;
    let out: Uint8Array;
    if (pos + len <= chunk.length) {
      out = chunk.subarray(pos, pos + len);
      pos += len;
    } else {
      // Room in front: IP output builds the packet around this copy (ip/packet-alloc.ts).
      out = withHeadroom(len);
      let written = 0;
      while (written < len) {
        const c = q.chunks[i]!;
        const take = Math.min(c.length - pos, len - written);
        out.set(c.subarray(pos, pos + take), written);
        written += take;
        pos += take;
        if (pos === c.length && written < len) {
          i++;
          pos = 0;
        }
      }
    }
    if (pos === q.chunks[i]!.length && i + 1 < q.chunks.length) {
      i++;
      pos = 0;
    }
    q.cursorOffset = offset + len;
    q.cursorChunk = i;
    q.cursorPos = pos;
    return out;
  }
}

export const EMPTY = new Uint8Array(0);