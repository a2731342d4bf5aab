/**
 * Runs a scenario in slices of wall-clock time, yielding to the browser between them, so a
 * long run (a SYN flood: 13,000 SYNs, 49,000 trace events) neither freezes the page nor
 * keeps it blank. The run goes on until the steps so far fill the first screen of the
 * diagram; that first part is drawn, then the rest runs in slices with the browser free
 * between them, and the whole run is drawn when it is over. A run that is over by the time
 * its first screen is full is drawn once, as before.
 *
 * Runtime-neutral: the clock and the way to yield are passed in, so Node tests drive it
 * with a fake clock and check that the slices add up to the same run as one piece.
 */
import type { Millis } from "../../../src/env.js";
import type { Session, SessionRun } from "./session.js";

/** Wall-clock ms a slice runs before the browser gets a turn (to paint, to take a click). */
export const SLICE_MS = 30;
/**
 * Before the first screen, the run goes on without a break for up to this long: the page has
 * nothing of it to show yet, and each break costs a frame. A run whose first screen is not
 * full by then is drawn as far as it got.
 */
export const FIRST_SCREEN_MS = 400;
/** Virtual ms the first advance covers; later ones adapt to how long an advance took. */
const FIRST_CHUNK_MS = 50;

export interface SliceHooks {
  /** Height of the diagram's first screen, in axis pixels at zoom 1. */
  screenPx: number;
  /** The run's first part fills the first screen: draw it. Called at most once, never for a run that ends in its first slice. */
  first(session: Session): void;
  /** The run is over: draw all of it. */
  done(session: Session): void;
  /** Between slices: the run so far (for a progress line). */
  progress?(run: SessionRun): void;
  /** A newer load replaced this one: stop here. */
  cancelled(): boolean;
  /** Runs `fn` later, after the browser has had its turn. */
  yieldThen(fn: () => void): void;
  /** Wall-clock milliseconds (performance.now in the page). */
  now(): number;
}

export function runInSlices(run: SessionRun, hooks: SliceHooks): void {
  let chunk: Millis = FIRST_CHUNK_MS;
  /** Runs at least one advance, then until `stop()` holds or the run is over, in advances sized to take a fraction of a slice. */
  const runWhile = (stop: () => boolean): void => {
    do {
      const t = hooks.now();
      run.advance(chunk);
      const took = hooks.now() - t;
      // Idle stretches (a 60 s TIME_WAIT) pass in a few advances; a busy one is cut finer.
      if (took < SLICE_MS / 8) chunk *= 2;
      else if (took > SLICE_MS / 2) chunk = Math.max(1, Math.floor(chunk / 2));
    } while (!run.done && !stop());
  };
  const slice = (): void => {
    if (hooks.cancelled()) return;
    const start = hooks.now();
    runWhile(() => hooks.now() - start >= SLICE_MS);
    if (run.done) return hooks.done(run.finish());
    hooks.progress?.(run);
    hooks.yieldThen(slice);
  };
  const start = hooks.now();
  runWhile(() => run.axisHeight() >= hooks.screenPx || hooks.now() - start >= FIRST_SCREEN_MS);
  if (run.done) return hooks.done(run.finish());
  hooks.first(run.partial());
  hooks.progress?.(run);
  hooks.yieldThen(slice);
}
