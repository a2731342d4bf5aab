/**
 * Counts the fuzz and soak tests take from the environment (HOSTILE_RUNS=3000 and the
 * like, listed in the README). fast-check runs a property forever when numRuns is not a
 * whole number (HOSTILE_RUNS=2000 split in three hung the suite) and not at all when it is
 * NaN (a typo passed, having checked nothing), so a value that is not a positive whole
 * number stops the test file with the variable's name instead.
 */
export function countFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${JSON.stringify(raw)}: expected a positive whole number`);
  return n;
}

/** A share of a count for one of several properties: `count / parts`, rounded up. */
export function shareOf(count: number, parts: number): number {
  return Math.ceil(count / parts);
}
