/**
 * What the sans-IO core needs from its environment, passed in rather than reached for.
 * Time is always a number of milliseconds (virtual in the simulator, real in src/node).
 */

/** Milliseconds. The one time unit of the whole code base. */
export type Millis = number;

/** A source of randomness. The simulator passes a seeded one; real drivers pass a CSPRNG. */
export interface Rng {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
}
