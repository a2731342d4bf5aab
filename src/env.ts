/**
 * What the sans-IO core needs from its environment, passed in rather than reached for.
 * Time is always a number of milliseconds (virtual in the simulator, real in src/node).
 */

/** Milliseconds. The one time unit of the whole code base. */
export type Millis = number;

/**
 * The latest clock reading a driver may hand the engine: 2^42 ms, about 139 years (a
 * wall-clock reading in ms since 1970 fits until 2109). Up to it a double still tells
 * microseconds apart, which pacing and sub-millisecond timers need. Far beyond it a timer
 * re-armed `d` ms later lands on the very same number and is due again at once: from
 * 2^53 ms on, whole milliseconds are lost, and `poll()` would fire such a timer for ever.
 */
export const MAX_CLOCK_MS: Millis = 2 ** 42;

/** A source of randomness. The simulator passes a seeded one; real drivers pass a CSPRNG. */
export interface Rng {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
}
