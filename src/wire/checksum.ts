/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement
 * sum of 16-bit words. TCP and UDP also cover a pseudo-header (RFC 9293 section 3.1).
 */

/** Adds bytes[start, end) to a running 32-bit sum, big-endian words, odd byte padded with zero. */
export function sumBytes(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  // Fold every 64 KiB of words so the accumulator never leaves the safe integer range.
  while (end - i >= 2) {
    const stop = Math.min(end - ((end - i) & 1), i + 65536);
    for (; i < stop; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Folds a running sum into the final 16-bit checksum (one's complement of the folded sum). */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Sum of the IPv4 pseudo-header: source, destination, zero+protocol, transport length. */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  return finishChecksum(sumBytes(bytes, start, end, initial));
}
