/**
 * Long runs of the same thing (a flood's hundred identical SYN,ACK retransmissions) are
 * shortened to their first and last occurrence and a count, so the narration stays
 * readable. Rows are "the same" when their shapes match (host, flags, kind, fate; never
 * times or numbers). Short runs are kept whole: the lost-SYN backoff must show every retry.
 */
import { formatTime } from "../format.js";
import type { Row } from "./model.js";

export function collapseRepeats(rows: readonly Row[], minRepeats = 10, maxPeriod = 4): Row[] {
  const out: Row[] = [];
  let i = 0;
  while (i < rows.length) {
    let best: { period: number; repeats: number } | undefined;
    for (let p = 1; p <= maxPeriod; p++) {
      let repeats = 1;
      while (i + (repeats + 1) * p <= rows.length && sameBlock(rows, i, i + repeats * p, p)) repeats++;
      if (repeats >= minRepeats && (best === undefined || repeats * p > best.repeats * best.period)) best = { period: p, repeats };
    }
    if (best === undefined) {
      out.push(rows[i]!);
      i++;
      continue;
    }
    const { period, repeats } = best;
    const lastStart = i + (repeats - 1) * period;
    out.push(...rows.slice(i, i + period));
    const first = rows[i + period]!;
    const last = rows[lastStart - 1]!;
    const what = period === 1 ? "the row above repeats" : `the ${period} rows above repeat`;
    out.push({
      time: first.time,
      col: -1,
      states: last.states,
      changed: last.states.map(() => false),
      notes: [],
      block: { lines: [`... ${what} ${repeats - 2} more times, ${formatTime(first.time)} to ${formatTime(last.time)} ...`], tone: "info" },
      shape: "collapsed",
    });
    out.push(...rows.slice(lastStart, lastStart + period));
    i += repeats * period;
  }
  return out;
}

function sameBlock(rows: readonly Row[], a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (rows[a + k]!.shape !== rows[b + k]!.shape) return false;
  return true;
}
