/**
 * The simulator's seeded random numbers.
 *
 * Every random choice in a simulation (link loss, jitter, ISNs of simulated hosts) comes
 * from a `SimRng`, so a seed replays a run exactly. The generator is xoshiro128** (Blackman
 * and Vigna): small state, fast with 32-bit integer maths, good statistical quality; it is
 * seeded through splitmix32 so that nearby seeds (1, 2, 3 ...) give unrelated streams.
 *
 * `fork(label)` derives a child stream from the parent's *seed* and the label, never from
 * the parent's current position. Adding a link or a host therefore never shifts the numbers
 * another link or host sees, and the order in which forks are taken does not matter.
 *
 * Changing this algorithm changes every recorded simulation; test/sim/rng.test.ts pins the
 * first outputs so such a change is a deliberate one.
 */
import type { Rng } from "../env.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

const TWO_POW_32 = 0x1_0000_0000;

/** One step of splitmix32: a strong 32-bit mixer, used to expand seeds into state. */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** FNV-1a over UTF-16 code units: labels only need to be told apart, not be secret. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class SimRng implements Rng {
  /** The 32-bit key this stream was seeded from; forks derive from it. Set once, at construction. */
  private key: number;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** `seed` is any safe integer (negative and > 2^32 included); equal seeds give equal streams. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new InvalidSettingError(`SimRng seed must be a safe integer, got ${showValue(seed)}`);
    // Fold the high bits in too, so seeds that differ only above bit 31 still differ.
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    this.key = splitmix32(low ^ splitmix32(high));
    this.seedState();
  }

  /** A stream seeded directly from a 32-bit key (how forks are built). */
  private static fromKey(key: number): SimRng {
    const rng = new SimRng(0);
    rng.key = key >>> 0;
    rng.seedState();
    return rng;
  }

  private seedState(): void {
    let x = this.key;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return splitmix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // xoshiro must never hold the all-zero state (it would output zeros forever).
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), with 32 bits of resolution. */
  float(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + this.float() * (hi - lo);
  }

  /**
   * Uniform integer in [lo, hi], both inclusive. Rejection sampling keeps it exactly
   * uniform (a plain modulo would favour small values for spans that do not divide 2^32).
   */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new InvalidSettingError(`SimRng.int needs integers lo <= hi, got ${lo}, ${hi}`);
    }
    const span = hi - lo + 1;
    if (span > TWO_POW_32) throw new InvalidSettingError(`SimRng.int span ${span} exceeds 2^32`);
    const limit = TWO_POW_32 - (TWO_POW_32 % span);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return lo + (x % span);
  }

  /**
   * True with probability p. p <= 0 and p >= 1 draw nothing, so a link with no impairment
   * configured consumes no randomness and turning one impairment on does not re-roll the others.
   */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /** An independent stream named `label`, derived from this stream's seed (not its position). */
  fork(label: string): SimRng {
    return SimRng.fromKey(splitmix32(this.key ^ hashLabel(label)));
  }
}
