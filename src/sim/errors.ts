/**
 * Errors the simulator throws. Each has a stable `code` so tests can tell a livelock from a
 * misbehaving endpoint without matching message text.
 */
import type { Millis } from "../env.js";

export type SimErrorCode = "SIM_LIVELOCK" | "SIM_ENDPOINT_DEADLINE" | "SIM_CONDITION_TIMEOUT";

export class SimError extends Error {
  constructor(
    readonly code: SimErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SimError";
  }
}

/** A run processed more events than allowed: something keeps generating work. */
export class SimLivelockError extends SimError {
  /** @param sameInstant how many of the last events all happened at `now` */
  constructor(maxEvents: number, startedAt: Millis, now: Millis, sameInstant: number) {
    // Time standing still for most of the budget is the telling sign of a zero-delay loop.
    const where =
      sameInstant * 2 >= maxEvents
        ? `the last ${sameInstant} events all happened at ${now} ms: virtual time is not moving, ` +
          `so endpoints or actions keep scheduling work at the same instant`
        : `virtual time went from ${startedAt} to ${now} ms`;
    super(
      "SIM_LIVELOCK",
      `simulation did not settle within ${maxEvents} events (${where}): possible livelock, ` +
        `e.g. endpoints exchanging packets or re-arming timers forever. ` +
        `If the workload is simply large, pass a higher maxEvents.`,
    );
    this.name = "SimLivelockError";
  }
}

/**
 * An endpoint broke the driver contract: its deadline is not a number, or `poll(now)` left
 * a deadline that did not move forward (a timer that is due but never fires). Polling it
 * again would loop forever, so the simulator names the host instead.
 */
export class SimEndpointError extends SimError {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super("SIM_ENDPOINT_DEADLINE", `endpoint of host "${host}": ${message}`);
    this.name = "SimEndpointError";
  }
}

/** `runUntil` reached its time limit, or ran out of work, before its condition held. */
export class SimConditionTimeoutError extends SimError {
  constructor(message: string) {
    super("SIM_CONDITION_TIMEOUT", message);
    this.name = "SimConditionTimeoutError";
  }
}
