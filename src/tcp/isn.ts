/**
 * Initial sequence numbers (RFC 6528, S6): ISN = M + F(4-tuple, secret), where M is a
 * clock ticking every 4 microseconds and F a keyed hash. The clock makes ISNs of one
 * 4-tuple move forward over time (so old duplicates of an earlier incarnation fall outside
 * the new window); the keyed hash makes them unpredictable to anyone without the secret.
 *
 * F is HalfSipHash-2-4 (Aumasson and Bernstein), the keyed hash family Linux uses for
 * the same purpose, in its 32-bit form so it runs on plain JS integer arithmetic.
 */
import type { Millis, Rng } from "../env.js";
import { seq, type Seq } from "../wire/seq.js";

/** Ticks of M per millisecond: one every 4 us. */
const TICKS_PER_MS = 250;

export class IsnGenerator {
  private readonly k0: number;
  private readonly k1: number;

  constructor(rng: Rng) {
    this.k0 = rng.nextU32();
    this.k1 = rng.nextU32();
  }

  isn(now: Millis, localAddr: number, localPort: number, remoteAddr: number, remotePort: number): Seq {
    const m = Math.floor(now * TICKS_PER_MS);
    const f = halfSipHash24(this.k0, this.k1, [localAddr, remoteAddr, ((localPort << 16) | remotePort) >>> 0]);
    return seq(m + f);
  }
}

function rotl(x: number, b: number): number {
  return ((x << b) | (x >>> (32 - b))) >>> 0;
}

/** HalfSipHash-2-4 with a 64-bit key over a message of 32-bit little-endian words; 32-bit output. */
export function halfSipHash24(k0: number, k1: number, words: readonly number[]): number {
  let v0 = k0 >>> 0;
  let v1 = k1 >>> 0;
  let v2 = (0x6c796765 ^ k0) >>> 0;
  let v3 = (0x74656462 ^ k1) >>> 0;
  const round = (): void => {
    v0 = (v0 + v1) >>> 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) >>> 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) >>> 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) >>> 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
    v1 >>>= 0;
    v3 >>>= 0;
  };
  for (const w of words) {
    const m = w >>> 0;
    v3 = (v3 ^ m) >>> 0;
    round();
    round();
    v0 = (v0 ^ m) >>> 0;
  }
  const b = ((words.length * 4) << 24) >>> 0;
  v3 = (v3 ^ b) >>> 0;
  round();
  round();
  v0 = (v0 ^ b) >>> 0;
  v2 = (v2 ^ 0xff) >>> 0;
  round();
  round();
  round();
  round();
  return (v1 ^ v3) >>> 0;
}
