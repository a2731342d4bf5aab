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

export class SendBuffer {
  /** NO_CHUNKS (shared, never written) while empty: an idle connection holds no array of its own. */
  private chunks: Uint8Array[] = NO_CHUNKS;
  /** Index of the first live chunk (dropped chunks before it are compacted away lazily). */
  private first = 0;
  /** Offset of the first unacknowledged byte inside chunks[first]. */
  private head = 0;
  private bytes = 0;
  /** Cursor of the last peek: logical offset `cursorOffset` starts in chunk `cursorChunk` at `cursorPos`. */
  private cursorOffset = -1;
  private cursorChunk = 0;
  private cursorPos = 0;

  /** Bytes the application may queue; SO_SNDBUF can change it on an open connection. */
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
    return this.bytes;
  }

  get free(): number {
    return Math.max(0, this.capacity - this.bytes);
  }

  /** Queues as much of `data` as fits; returns the number of bytes taken. */
  append(data: Uint8Array): number {
    const n = Math.min(data.length, this.free);
    if (n === 0) return 0;
    if (this.chunks === NO_CHUNKS) this.chunks = [];
    const last = this.chunks.length - 1;
    const tail = last >= this.first ? this.chunks[last]! : undefined;
    if (tail !== undefined && tail.buffer === data.buffer && tail.byteOffset + tail.length === data.byteOffset) {
      // The rest of a write the buffer only partly took (a stream retrying with the
      // remainder): the bytes follow the tail chunk in the same memory, so one wider view
      // replaces both. No copy, and segments cut across the old seam stay views instead of
      // being copied by `peek`. Offsets into the tail (the peek cursor) keep their meaning.
      // (The view of just the part taken is never made: this runs for most writes of a bulk sender.)
      this.chunks[last] = new Uint8Array(tail.buffer, tail.byteOffset, tail.length + n);
    } else {
      this.chunks.push(n === data.length ? data : data.subarray(0, n));
    }
    this.bytes += n;
    return n;
  }

  /** Drops `n` acknowledged bytes from the front. */
  consume(n: number): void {
    n = Math.min(n, this.bytes);
    if (n === 0) return;
    this.bytes -= n;
    this.cursorOffset = -1;
    while (n > 0) {
      const left = this.chunks[this.first]!.length - this.head;
      if (n < left) {
        this.head += n;
        break;
      }
      n -= left;
      this.first++;
      this.head = 0;
    }
    if (this.bytes === 0) {
      this.chunks = NO_CHUNKS;
      this.first = 0;
      this.head = 0;
    } else if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  /**
   * `len` bytes starting `offset` bytes after the first unacknowledged one. A view when
   * they lie in one chunk (the common case), a fresh copy when they span chunks (with
   * room for the packet's headers in front of it, see `withHeadroom`).
   */
  peek(offset: number, len: number): Uint8Array {
    len = Math.max(0, Math.min(len, this.bytes - offset));
    if (len === 0) return EMPTY;
    let i: number;
    let pos: number;
    if (offset === this.cursorOffset) {
      i = this.cursorChunk;
      pos = this.cursorPos;
    } else {
      i = this.first;
      pos = offset + this.head;
      while (pos >= this.chunks[i]!.length) {
        pos -= this.chunks[i]!.length;
        i++;
      }
    }
    const chunk = this.chunks[i]!;
    let out: Uint8Array;
    if (pos + len <= chunk.length) {
      out = chunk.subarray(pos, pos + len);
      pos += len;
    } else {
      // Room in front: IP output builds the packet around this copy (ip/packet-alloc.ts).
      out = withHeadroom(len);
      let written = 0;
      while (written < len) {
        const c = this.chunks[i]!;
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
    if (pos === this.chunks[i]!.length && i + 1 < this.chunks.length) {
      i++;
      pos = 0;
    }
    this.cursorOffset = offset + len;
    this.cursorChunk = i;
    this.cursorPos = pos;
    return out;
  }
}

export const EMPTY = new Uint8Array(0);
/** The chunk list of every empty send buffer; never written (append replaces it first). */
const NO_CHUNKS: Uint8Array[] = [];
