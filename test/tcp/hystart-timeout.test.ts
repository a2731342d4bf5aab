/**
 * After a retransmission timeout HyStart measures the path's minimum RTT afresh, as Linux's
 * CUBIC does: cubictcp_state on TCP_CA_Loss calls bictcp_reset, which zeroes delay_min with
 * the rest of its state. A path whose RTT rose for good (a new route) is then judged by its
 * own minimum, not by one it no longer has.
 */
import { describe, expect, it } from "vitest";
import { Cubic } from "../../src/tcp/congestion/cubic.js";
import { HYSTART_DELAY } from "../../src/tcp/congestion/hystart.js";
import { CongestionControl } from "../../src/tcp/congestion/recovery.js";
import type { Seq } from "../../src/wire/seq.js";
import { LINUX_DEFAULTS } from "../../src/tcp/config.js";

const MSS = 1000;

/** Slow start at a steady `rtt` from `cwnd`: one sample per segment, rounds of one window. Returns the window HyStart ended it at, or undefined. */
let seq = 1000;
function slowStart(cc: CongestionControl, start: number, rtt: number, rounds: number): number | undefined {
  let now = start;
  for (let r = 0; r < rounds; r++) {
    const window = Math.floor(cc.cwnd / MSS);
    const roundEnd = seq + window * MSS;
    for (let k = 0; k < window; k++) {
      now += 0.1;
      seq += MSS;
      if (cc.onRttSample(now, rtt, seq as Seq, roundEnd as Seq) !== 0) return Math.floor(cc.cwnd / MSS);
      cc.validate(seq as Seq, roundEnd as Seq, cc.cwnd, true);
      cc.grow(now, MSS);
    }
    now += rtt;
  }
  return undefined;
}

describe("HyStart after a timeout", () => {
  it("forgets the minimum RTT of before the timeout", () => {
    const cc = new CongestionControl(new Cubic(), MSS, 10, { ...LINUX_DEFAULTS, hystartDetect: HYSTART_DELAY });
    // A steady 40 ms: slow start runs on (no queue) to 160 segments; then a timeout.
    expect(slowStart(cc, 0, 40, 4)).toBeUndefined();
    expect(cc.cwnd).toBe(160 * MSS);
    cc.onTimeout(500, seq as Seq, cc.cwnd);
    expect(cc.maybeEndEpisode(seq as Seq)).toBe(true);
    // The path now takes 60 ms, steadily: no queue, so slow start runs on up to ssthresh
    // (112 segments) and beyond; measured against the old 40 ms it would end at 16.
    expect(slowStart(cc, 1000, 60, 8)).toBeUndefined();
    expect(cc.cwnd).toBeGreaterThanOrEqual(112 * MSS);
  });
});
