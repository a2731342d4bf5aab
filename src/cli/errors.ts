/** Exit codes, so scripts can tell "the scenario showed a problem" from "you called it wrong". */
export const EXIT_OK = 0;
/** A scenario expectation did not hold (or a scripted call failed unexpectedly). */
export const EXIT_EXPECTATION = 1;
/** Bad command line, unknown scenario, or a scenario file that does not validate. */
export const EXIT_USAGE = 2;
/** The simulation itself failed (an engine exception): a bug to report. */
export const EXIT_INTERNAL = 3;

/** A mistake in how synack was called; main() prints it with a hint and exits with 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly lines: readonly string[] = [],
  ) {
    super(message);
    this.name = "UsageError";
  }
}
