/**
 * The diagram's time axis. Time runs downwards, but not linearly: a millisecond RTT and a
 * 60 s TIME_WAIT must both fit on one screen, so each gap between moments that show
 * something gets a height that grows with the logarithm of its length, and gaps longer
 * than a second are marked as compressed. Events of one instant are stacked a few pixels
 * apart in the order they happened, so a burst of segments does not overlap.
 */
import type { Millis } from "../../../src/env.js";

export interface AxisPoint {
  index: number;
  time: Millis;
  y: number;
}

export interface Break {
  y0: number;
  y1: number;
  ms: Millis;
}

export const SAME_INSTANT_PX = 7;
export const TOP_PX = 40;
const COMPRESS_ABOVE_MS = 1000;

/** Height for a gap of `ms` between two shown moments. */
export function gapPx(ms: Millis): number {
  if (ms <= 0) return SAME_INSTANT_PX;
  return 14 + 26 * Math.log2(1 + ms / 5);
}

export class TimeAxis {
  readonly points: AxisPoint[] = [];
  readonly breaks: Break[] = [];
  private readonly yByIndex = new Map<number, number>();
  readonly height: number;

  /** `moments`: event indices and times to place, in event order. */
  constructor(moments: ReadonlyArray<{ index: number; time: Millis }>) {
    let y = TOP_PX;
    let prev: Millis | undefined;
    for (const m of moments) {
      if (prev !== undefined) {
        const gap = m.time - prev;
        const h = gapPx(gap);
        if (gap > COMPRESS_ABOVE_MS) this.breaks.push({ y0: y, y1: y + h, ms: gap });
        y += h;
      }
      prev = m.time;
      this.points.push({ index: m.index, time: m.time, y });
      this.yByIndex.set(m.index, y);
    }
    this.height = y + TOP_PX;
  }

  /** y of an event placed on the axis. */
  yOf(index: number): number | undefined {
    return this.yByIndex.get(index);
  }

  /** y of a time: interpolated between placed moments (linear within a gap). */
  yAt(t: Millis): number {
    const p = this.points;
    if (p.length === 0) return TOP_PX;
    if (t <= p[0]!.time) return p[0]!.y;
    let lo = 0;
    let hi = p.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (p[mid]!.time <= t) lo = mid;
      else hi = mid - 1;
    }
    // Last point at this time (an instant spans several stacked points).
    while (lo + 1 < p.length && p[lo + 1]!.time === p[lo]!.time) lo++;
    const a = p[lo]!;
    const b = p[lo + 1];
    if (b === undefined || b.time === a.time) return a.y;
    return a.y + ((b.y - a.y) * (t - a.time)) / (b.time - a.time);
  }
}
