/**
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed
 * hash Linux uses for Fast Open cookies (net/ipv4/tcp_fastopen.c, siphash() from
 * lib/siphash.c). A 128-bit key as two 64-bit words, any message, a 64-bit result.
 *
 * BigInt keeps the 64-bit arithmetic exact; a cookie is made once per SYN, so clarity wins
 * over speed here (the per-connection ISN hash in ../isn.ts is the 32-bit HalfSipHash).
 */

const MASK = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK;
}

/** Reads 8 bytes little-endian (SipHash's word order) from `bytes` at `at`, zero past the end. */
function wordLE(bytes: Uint8Array, at: number, count: number): bigint {
  let m = 0n;
  for (let j = count - 1; j >= 0; j--) m = (m << 8n) | BigInt(bytes[at + j]!);
  return m;
}

/** SipHash-2-4 of `message` under the key (k0, k1): two compression rounds, four finalization rounds. */
export function sipHash24(k0: bigint, k1: bigint, message: Uint8Array): bigint {
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & MASK;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & MASK;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & MASK;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const n = message.length;
  const whole = n - (n % 8);
  for (let i = 0; i < whole; i += 8) {
    const m = wordLE(message, i, 8);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  // The last block: the remaining bytes, with the message length mod 256 in the top byte.
  const last = wordLE(message, whole, n - whole) | (BigInt(n & 0xff) << 56n);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xffn;
  for (let r = 0; r < 4; r++) round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK;
}

/** A 64-bit value as 8 bytes little-endian (Linux stores the cookie with cpu_to_le64). */
export function bytesLE(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}
