/**
 * What a Stack needs from whatever runs it in time. The engine is sans-IO: someone must
 * hand it packets, call `poll(now)` when `nextDeadline()` comes due, and poll again soon
 * after the application changed something (a write, a close), because application calls
 * only mark work and the segments leave on the next poll.
 *
 * Two drivers implement this: the simulator's (virtual time, src/api/sim-driver.ts) and
 * Node's real-time one (src/node/driver.ts). A browser or Workers driver would be a third.
 */
import type { Millis } from "../env.js";

export interface Driver {
  /** The current time on this driver's clock (virtual or real), in milliseconds. */
  now(): Millis;
  /**
   * The application called into the stack, or the stack just handed the application
   * something (data, a connection, an error) that it may answer at once: re-read the
   * endpoint's deadline and poll by then. Cheap to call often; calls are coalesced.
   */
  schedule(): void;
  /**
   * Calls `fn` at time `at` on this driver's clock (socket idle timeouts and the like, so
   * they run in virtual time under the simulator). Returns a function that cancels it.
   */
  setTimer(at: Millis, fn: () => void): () => void;
}

/**
 * Keeps a runtime alive while something is open, like an open socket keeps Node's event
 * loop alive. Drivers with no such notion (the simulator, a browser tab) return a no-op.
 */
export interface Hold {
  ref(): void;
  unref(): void;
  /** The thing is closed: stop holding for good. Idempotent. */
  release(): void;
}

export interface HoldingDriver extends Driver {
  hold(): Hold;
}

export const NO_HOLD: Hold = Object.freeze({ ref() {}, unref() {}, release() {} });

/** The driver's hold when it has one (Node), otherwise one that does nothing. */
export function holdOf(driver: Driver): Hold {
  const d = driver as Partial<HoldingDriver>;
  return typeof d.hold === "function" ? d.hold() : NO_HOLD;
}
