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
 * state lives in one preallocated array so hashing allocates nothing (it runs per SYN).
 */
const v = new Uint32Array(4);

function sipRound(): void {
  v[0] = v[0]! + v[1]!;
  v[1] = (v[1]! << 5) | (v[1]! >>> 27);
  v[1] = v[1]! ^ v[0]!;
  v[0] = (v[0]! << 16) | (v[0]! >>> 16);
  v[2] = v[2]! + v[3]!;
  v[3] = (v[3]! << 8) | (v[3]! >>> 24);
  v[3] = v[3]! ^ v[2]!;
  v[0] = v[0]! + v[3]!;
  v[3] = (v[3]! << 7) | (v[3]! >>> 25);
  v[3] = v[3]! ^ v[0]!;
  v[2] = v[2]! + v[1]!;
  v[1] = (v[1]! << 13) | (v[1]! >>> 19);
  v[1] = v[1]! ^ v[2]!;
  v[2] = (v[2]! << 16) | (v[2]! >>> 16);
}

function absorb(m: number): void {
  v[3] = v[3]! ^ m;
  sipRound();
  sipRound();
  v[0] = v[0]! ^ m;
}

export function halfSipHash24(k0: number, k1: number, words: readonly number[]): number {
  v[0] = k0;
  v[1] = k1;
  v[2] = 0x6c796765 ^ k0;
  v[3] = 0x74656462 ^ k1;
  for (let i = 0; i < words.length; i++) absorb(words[i]! >>> 0);
  const b = (words.length * 4) << 24;
  absorb(b);
  v[2] = v[2]! ^ 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  return (v[1]! ^ v[3]!) >>> 0;
}
