/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement
 * sum of 16-bit words. TCP and UDP also cover a pseudo-header (RFC 9293 section 3.1), and
 * over IPv6 so do TCP, UDP and ICMPv6 (RFC 8200 section 8.1).
 */
import { IpAddress } from "./address.js";
import { MAX_SIMD_LENGTH, simdWordSum } from "./checksum-simd.js";

/** True on little-endian hosts (all mainstream ones); the word-at-a-time path relies on it. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Adds bytes[start, end) to a running sum of big-endian 16-bit words (odd byte padded with
 * zero). The result is not folded; pass it to `finishChecksum`.
 *
 * This is the hottest loop of the stack. Long inputs go to the WebAssembly SIMD loop
 * (checksum-simd.ts) where the runtime has one. Otherwise it reads 32 bits at a time: on an
 * aligned little-endian buffer it sums byte-swapped words and swaps the folded result back,
 * which RFC 1071 section 2(B) shows is equivalent; otherwise a DataView reads big-endian words.
 */
export function sumBytes(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  // Bytes outside the array count as zero (they add nothing): a window past its end must
  // not sum what an earlier packet left in the SIMD loop's memory.
  if (end > bytes.length) end = bytes.length;
  if (start < 0) start = 0;
  const len = end - start;
  if (len <= 0) return sum;
  // Headers and small segments: a plain loop beats allocating a typed-array view. The
  // word sum is the high bytes' sum times 256 plus the low bytes' sum, the same number:
  // two running sums and no shift or OR per word, four bytes a round, sum these 20 to 150
  // bytes about a fifth faster (on Node 20; every segment and header of a small
  // connection is summed twice, once sent and once received).
  if (len < 256) {
    let high = 0;
    let low = 0;
    let i = start;
    for (; i + 3 < end; i += 4) {
      high += bytes[i]! + bytes[i + 2]!;
      low += bytes[i + 1]! + bytes[i + 3]!;
    }
    if (i + 1 < end) {
      high += bytes[i]!;
      low += bytes[i + 1]!;
      i += 2;
    }
    if (i < end) high += bytes[i]!;
    return sum + high * 256 + low;
  }
  if (simdWordSum !== undefined) {
    // Copy the whole array when little lies outside the window (a packet's headers): a
    // subarray view costs more to make than those bytes take to copy.
    if (bytes.length - len <= SIMD_WHOLE_COPY_SLACK && bytes.length <= MAX_SIMD_LENGTH) {
      simdWordSum.memory.set(bytes);
      return sum + swapBytes(reduceLikeFold(simdWordSum.sum(start, end)));
    }
    if (len >= SIMD_MIN_VIEW_LENGTH && len <= MAX_SIMD_LENGTH) {
      simdWordSum.memory.set(bytes.subarray(start, end));
      return sum + swapBytes(reduceLikeFold(simdWordSum.sum(0, len)));
    }
  }
  return sumWords32(bytes, start, end, len, sum);
}

/**
 * `sumBytes` without WebAssembly: 32 bits at a time. Exported for the tests, which check
 * it apart from the SIMD loop that takes its place on most runtimes.
 */
export function sumBytesScalar(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  if (end > bytes.length) end = bytes.length;
  if (start < 0) start = 0;
  return end > start ? sumWords32(bytes, start, end, end - start, sum) : sum;
}

/** The 32-bit loop over a window inside the array (len = end - start > 0). */
function sumWords32(bytes: Uint8Array, start: number, end: number, len: number, sum: number): number {
  const offset = bytes.byteOffset + start;
  const words = len >>> 2;
  let acc = 0;
  if (LITTLE_ENDIAN && (offset & 3) === 0) {
    // Whole 32-bit words added as numbers (exact: at most 2^14 words of 2^32 for 64 KiB).
    // 2^16 = 1 (mod 0xffff), so this sum is congruent to the sum of the 16-bit halves.
    const w = wordsOf(bytes);
    let k = offset >>> 2;
    const stop = k + words;
    // Eight words a round into two sums: the two chains of additions run side by side
    // (-5% CPU per MiB for bulk at MTU 65535, where the checksum is a quarter of the time).
    let acc2 = 0;
    for (; k + 8 <= stop; k += 8) {
      acc += w[k]! + w[k + 1]! + w[k + 2]! + w[k + 3]!;
      acc2 += w[k + 4]! + w[k + 5]! + w[k + 6]! + w[k + 7]!;
    }
    for (; k < stop; k++) acc += w[k]!;
    acc += acc2;
    acc = swapBytes(reduceLikeFold(acc));
  } else {
    const view = new DataView(bytes.buffer, offset, len);
    for (let k = 0; k < words; k++) {
      const v = view.getUint32(k * 4);
      acc += (v >>> 16) + (v & 0xffff);
    }
  }
  let i = start + words * 4;
  if (end - i >= 2) {
    acc += (bytes[i]! << 8) | bytes[i + 1]!;
    i += 2;
  }
  if (i < end) acc += bytes[i]! << 8;
  return sum + acc;
}

/**
 * When to hand a sum to the SIMD loop, measured on Node 20 (nanoseconds per sum,
 * JavaScript against SIMD). The copy into WebAssembly memory and the call cost about 30
 * ns when the whole array is copied: 47 against 42 at 256 bytes, 61 against 43 at 384,
 * 178 against 79 at 1,468. A subarray of a larger array costs about 35 ns more to make:
 * 75 against 94 at 512 bytes, 104 against 101 at 768, 178 against 132 at 1,468.
 */
const SIMD_WHOLE_COPY_SLACK = 128;
const SIMD_MIN_VIEW_LENGTH = 768;

/**
 * Reduces a sum of 16-bit words mod 0xffff the way an end-around-carry fold would: a
 * nonzero multiple folds to 0xffff, not 0. Division and floor rather than `%`, which V8
 * compiles to a call into C's fmod (-5 to -15% per 1,468-byte sum). The product is exact;
 * a quotient rounded up across an integer (possible only for sums near 2^53, inputs of
 * megabytes) leaves a negative remainder: one 0xffff more.
 */
function reduceLikeFold(acc: number): number {
  if (acc === 0) return 0;
  acc -= Math.floor(acc / 0xffff) * 0xffff;
  if (acc < 0) acc += 0xffff;
  return acc === 0 ? 0xffff : acc;
}

/** A folded sum of little-endian words as the sum of big-endian ones (RFC 1071 2(B)). */
function swapBytes(folded: number): number {
  return ((folded & 0xff) << 8) | (folded >>> 8);
}

/**
 * A Uint32Array over the whole of the buffer under `bytes`, kept for the next call.
 * Outgoing packets are carved from shared slabs (ip/packet-alloc.ts) and the in-memory
 * link hands the same buffers to the receiver, so consecutive calls mostly hit one buffer:
 * one view per slab instead of one per packet. Only one buffer is held, so at most one
 * stale slab stays alive.
 *
 * The same array as last time (the in-memory link hands the receiver the very packet the
 * sender summed) skips `bytes.buffer`: in V8 that read is an inline-cache miss and a call
 * into a C++ getter, dearer than the rest of this lookup. An array's buffer never changes;
 * were it detached since, the view over it would have length 0 and be made again.
 */
let lastBytes: Uint8Array | undefined;
let lastBuffer: ArrayBufferLike | undefined;
let lastWords: Uint32Array = new Uint32Array(0);
function wordsOf(bytes: Uint8Array): Uint32Array {
  if (bytes === lastBytes && lastWords.length !== 0) return lastWords;
  const buffer = bytes.buffer;
  if (buffer !== lastBuffer || lastWords.length !== buffer.byteLength >>> 2) {
    lastBuffer = buffer;
    lastWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  lastBytes = bytes;
  return lastWords;
}

function fold16(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Folds a running sum into the final 16-bit checksum (one's complement of the folded sum). */
export function finishChecksum(sum: number): number {
  return ~fold16(sum) & 0xffff;
}

/** Sum of the IPv4 pseudo-header: source, destination, zero+protocol, transport length. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/**
 * Sum of the pseudo-header for either family, for the IpAddress type.
 *
 * IPv4 (RFC 9293 3.1): source, destination, zero, protocol, 16-bit length.
 * IPv6 (RFC 8200 8.1): source, destination, 32-bit upper-layer length, three zero bytes,
 * next header. Summed as 16-bit words both come to "the address halves + protocol + the
 * length's two halves" (an IPv4 length has no high half), so one formula serves both.
 * `protocol` is the upper-layer protocol, not the Next Header of the IPv6 header when
 * extension headers sit in between; `length` is the upper-layer length, without them.
 */
export function pseudoHeaderSumFor(src: IpAddress, dst: IpAddress, protocol: number, length: number): number {
  return addressSum(src) + addressSum(dst) + protocol + (length >>> 16) + (length & 0xffff);
}

/**
 * The pseudo-header sum for a `PseudoHeader` (wire/tcp.ts) whose addresses are IPv4 uint32s
 * or `IpAddress`es of either family.
 */
export function pseudoSumOf(src: number | IpAddress, dst: number | IpAddress, protocol: number, length: number): number {
  if (typeof src === "number" && typeof dst === "number") return pseudoHeaderSum(src, dst, protocol, length);
  const s = typeof src === "number" ? IpAddress.v4(src) : src;
  const d = typeof dst === "number" ? IpAddress.v4(dst) : dst;
  return pseudoHeaderSumFor(s, d, protocol, length);
}

/** Sum of an address's wire bytes as 16-bit words: 4 bytes for IPv4, 16 for IPv6. */
function addressSum(a: IpAddress): number {
  const w3 = (a.w3 >>> 16) + (a.w3 & 0xffff);
  if (a.family === 4) return w3;
  return (a.w0 >>> 16) + (a.w0 & 0xffff) + (a.w1 >>> 16) + (a.w1 & 0xffff) + (a.w2 >>> 16) + (a.w2 & 0xffff) + w3;
}

export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  return finishChecksum(sumBytes(bytes, start, end, initial));
}
