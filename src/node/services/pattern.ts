/**
 * The deterministic bytes `GET /bytes/N` serves: byte i is byte (i mod 4) of a 32-bit
 * mix of the word index i >>> 2 (little-endian). No period shorter than 16 GiB, so a
 * segment delivered at the wrong offset, duplicated or skipped changes the SHA-256; and
 * any tool can regenerate the expected bytes from the index alone.
 */

/** The 32-bit word at word index `w` (a murmur3-style finalizer of w). */
export function patternWord(w: number): number {
  let x = Math.imul((w >>> 0) ^ 0x5bd1e995, 0x9e3779b1);
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Fills `out` with the pattern bytes starting at stream offset `offset`. */
export function fillPattern(out: Uint8Array, offset: number): Uint8Array {
  let i = 0;
  // Unaligned head, one byte at a time.
  while (i < out.length && (offset + i) % 4 !== 0) {
    out[i] = patternByte(offset + i);
    i++;
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let w = Math.floor((offset + i) / 4);
  for (; i + 4 <= out.length; i += 4, w++) view.setUint32(i, patternWord(w), true);
  for (; i < out.length; i++) out[i] = patternByte(offset + i);
  return out;
}

export function patternByte(index: number): number {
  return (patternWord(Math.floor(index / 4)) >>> ((index % 4) * 8)) & 0xff;
}

/** `length` pattern bytes from `offset`, as a new array. */
export function patternBytes(offset: number, length: number): Uint8Array {
  return fillPattern(new Uint8Array(length), offset);
}
