/** Durations in scenario files: a number of milliseconds, or a string with a unit. */
import { MAX_CLOCK_MS, type Millis } from "../env.js";
import type { TimeSpec } from "./model.js";
import { InvalidSettingError } from "../invalid-setting.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, m: 60_000, h: 3_600_000 };

/**
 * "2.5s" -> 2500, "100ms" -> 100, "2min" -> 120000, 40 -> 40; undefined when unreadable or
 * past the simulated clock's end (MAX_CLOCK_MS, 2^42 ms: about 139 years), which no action,
 * delay or check can reach.
 */
export function parseTime(t: TimeSpec): Millis | undefined {
  let ms: number;
  if (typeof t === "number") {
    ms = t;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h)?\s*$/.exec(t);
    if (m === null) return undefined;
    ms = Number(m[1]) * UNITS[m[2] ?? "ms"]!;
  }
  return ms >= 0 && ms <= MAX_CLOCK_MS ? ms : undefined;
}

/** Like parseTime, for values already validated. */
export function toMillis(t: TimeSpec): Millis {
  const ms = parseTime(t);
  if (ms === undefined) throw new InvalidSettingError(`not a time: ${JSON.stringify(t)}`);
  return ms;
}
