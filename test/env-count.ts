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

/** vitest's test timeout (vitest.config.ts), which each test's default count fits in. */
const BASE_TIMEOUT_MS = 60_000;

/**
 * The timeout for tests that run `count` cases where `fallback`, the default count, fits in
 * the configured 60 s: grown in proportion, never below it. Without it a raised count
 * (SOCKET_CALLS_RUNS=20000) failed by timing out, having found nothing.
 */
export function timeoutFor(count: number, fallback: number): number {
  return Math.max(BASE_TIMEOUT_MS, Math.ceil((BASE_TIMEOUT_MS * count) / fallback));
}
