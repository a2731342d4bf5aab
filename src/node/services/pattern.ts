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

/** This machine stores words little-endian, as the pattern does: whole words can be written directly. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Fills `out` with the pattern bytes starting at stream offset `offset`. */
export function fillPattern(out: Uint8Array, offset: number): Uint8Array {
  // GET /bytes/N makes every byte it serves here: whole aligned words through a
  // Uint32Array are about 1.5x faster than DataView.setUint32 (bench: 256 MiB in 110 ms
  // rather than 170 ms), which shows in synack->kernel throughput over TUN.
  if (LITTLE_ENDIAN && out.byteOffset % 4 === 0 && offset % 4 === 0) {
    const words = out.length >>> 2;
    const u32 = new Uint32Array(out.buffer, out.byteOffset, words);
    const w0 = offset / 4;
    for (let j = 0; j < words; j++) u32[j] = patternWord(w0 + j);
    const done = words * 4;
    for (let i = done; i < out.length; i++) out[i] = patternByte(offset + i);
    return out;
  }
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
