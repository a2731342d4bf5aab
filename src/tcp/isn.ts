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
import type { IpAddress } from "../wire/address.js";
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

  isn(now: Millis, localAddr: IpAddress, localPort: number, remoteAddr: IpAddress, remotePort: number): Seq {
    const m = Math.floor(now * TICKS_PER_MS);
    const f = halfSipHash24(this.k0, this.k1, tupleWords(localAddr, localPort, remoteAddr, remotePort));
    return seq(m + f);
  }
}

/**
 * The hash input for a 4-tuple: the local address's words, the remote's, then both ports
 * in one word. An IPv4 address is its one 32-bit word (so IPv4 ISNs and cookies are what
 * they were before IPv6), an IPv6 address its four (RFC 6528 hashes the whole 4-tuple;
 * Linux's secure_tcpv6_seq and __cookie_v6_init_sequence feed all 128 bits likewise).
 */
export function tupleWords(localAddr: IpAddress, localPort: number, remoteAddr: IpAddress, remotePort: number, ...more: number[]): number[] {
  const out: number[] = [];
  if (localAddr.family === 4) out.push(localAddr.w3);
  else out.push(localAddr.w0, localAddr.w1, localAddr.w2, localAddr.w3);
  if (remoteAddr.family === 4) out.push(remoteAddr.w3);
  else out.push(remoteAddr.w0, remoteAddr.w1, remoteAddr.w2, remoteAddr.w3);
  out.push(((localPort << 16) | remotePort) >>> 0, ...more);
  return out;
}

/**
 * HalfSipHash-2-4 with a 64-bit key over a message of 32-bit words; 32-bit output. The
 * state is four local int32s (additions wrap with `| 0`): a Uint32Array for it cost a
 * conversion per read of any word at or above 2^31, and this runs twice per connection
 * (the client's ISN, the server's). The round is written out in the loop, as a function
 * could not hand back four words without an object.
 */
export function halfSipHash24(k0: number, k1: number, words: readonly number[]): number {
  let v0 = k0 | 0;
  let v1 = k1 | 0;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  const n = words.length;
  // The message words, then the length word, two rounds each (c = 2); then the
  // finalization's four (d = 4), after v2 ^= 0xff. One round body serves both.
  for (let i = 0; i <= n + 1; i++) {
    const final = i > n;
    const m = final ? 0 : i < n ? words[i]! | 0 : (n * 4) << 24;
    if (final) v2 ^= 0xff;
    else v3 ^= m;
    for (let r = final ? 4 : 2; r > 0; r--) {
      v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
      v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
      v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    }
    v0 ^= m;
  }
  return (v1 ^ v3) >>> 0;
}
