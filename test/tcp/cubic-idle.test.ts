/**
 * CUBIC after the application left the connection idle (RFC 9438 5.8; Linux
 * cubictcp_cwnd_event on CA_EVENT_TX_START): the curve's epoch moves later by the idle
 * time, so growth resumes where the curve was instead of counting the idle seconds.
 */
import { describe, expect, it } from "vitest";
import { Cubic } from "../../src/tcp/congestion/cubic.js";

const MSS = 1000;

/** Acknowledges `acks` segments one at a time, `gap` ms apart, from `start`; returns the window in segments. */
function ackSegments(c: Cubic, cwnd: number, start: number, acks: number, gap: number): number {
  for (let k = 0; k < acks; k++) cwnd = c.grow(start + k * gap, cwnd, MSS, MSS);
  return cwnd / MSS;
}

/** A CUBIC after a loss at 100 segments (cwnd 70), its epoch begun by one ACK at t = 0. */
function afterLoss(): { c: Cubic; cwnd: number } {
  const c = new Cubic();
  const cwnd = c.reduce(0, 100 * MSS, 100 * MSS, MSS);
  c.onRttSample(0, 40);
  return { c, cwnd: c.grow(0, cwnd, MSS, MSS) };
}

describe("CUBIC after an idle period", () => {
  it("grows after 5 s idle as it grew right after the epoch began", () => {
    const busy = afterLoss();
    const resumed = afterLoss();
    const grownBusy = ackSegments(busy.c, busy.cwnd, 10, 40, 10);
    resumed.c.onTransmitStart(5000, 5000);
    const grownResumed = ackSegments(resumed.c, resumed.cwnd, 5010, 40, 10);
    expect(grownResumed).toBe(grownBusy);
  });

  it("without the shift the idle seconds would count as growth (what Linux fixed in 2015)", () => {
    const busy = afterLoss();
    const unshifted = afterLoss();
    const grownBusy = ackSegments(busy.c, busy.cwnd, 10, 40, 10);
    const grownUnshifted = ackSegments(unshifted.c, unshifted.cwnd, 5010, 40, 10);
    // Five seconds into the epoch the curve is far above cwnd: one segment per two acknowledged.
    expect(grownUnshifted).toBeGreaterThanOrEqual(grownBusy + 10);
  });

  it("never moves the epoch past now, and leaves an epoch not yet begun alone", () => {
    const a = afterLoss();
    const b = afterLoss();
    // Idle longer than the epoch is old: the epoch restarts at now, not in the future.
    a.c.onTransmitStart(3000, 5000);
    b.c.onTransmitStart(3000, 3000);
    expect(ackSegments(a.c, a.cwnd, 3000, 30, 10)).toBe(ackSegments(b.c, b.cwnd, 3000, 30, 10));
    const fresh = new Cubic();
    fresh.onTransmitStart(1000, 1000);
    expect(fresh.grow(1000, 10 * MSS, MSS, MSS)).toBe(new Cubic().grow(1000, 10 * MSS, MSS, MSS));
  });
});
