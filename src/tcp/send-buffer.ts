/**
 * Bytes the application queued for sending and the peer has not yet acknowledged.
 *
 * A list of chunks with a read offset into the first one: appending never copies, and
 * acknowledging drops whole chunks, so an idle connection holds no buffer memory at all.
 * The stack takes ownership of appended chunks; callers must not modify them afterwards.
 */
export class SendBuffer {
  private chunks: Uint8Array[] = [];
  /** Offset of the first unacknowledged byte inside chunks[0]. */
  private head = 0;
  private bytes = 0;

  constructor(readonly capacity: number) {}

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
    this.chunks.push(n === data.length ? data : data.subarray(0, n));
    this.bytes += n;
    return n;
  }

  /** Drops `n` acknowledged bytes from the front. */
  consume(n: number): void {
    n = Math.min(n, this.bytes);
    this.bytes -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      const left = first.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
    if (this.bytes === 0) {
      this.chunks = [];
      this.head = 0;
    }
  }

  /**
   * `len` bytes starting `offset` bytes after the first unacknowledged one. A view when
   * they lie in one chunk (the common case), a fresh copy when they span chunks.
   */
  peek(offset: number, len: number): Uint8Array {
    len = Math.max(0, Math.min(len, this.bytes - offset));
    let pos = offset + this.head;
    let i = 0;
    while (i < this.chunks.length && pos >= this.chunks[i]!.length) {
      pos -= this.chunks[i]!.length;
      i++;
    }
    if (len === 0) return EMPTY;
    const first = this.chunks[i]!;
    if (pos + len <= first.length) return first.subarray(pos, pos + len);
    const out = new Uint8Array(len);
    let written = 0;
    while (written < len) {
      const c = this.chunks[i++]!;
      const take = Math.min(c.length - pos, len - written);
      out.set(c.subarray(pos, pos + take), written);
      written += take;
      pos = 0;
    }
    return out;
  }
}

export const EMPTY = new Uint8Array(0);
