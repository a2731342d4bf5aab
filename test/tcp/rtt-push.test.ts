/** The RTO as Linux computes it, and where PSH goes (Linux tcp_mark_push / forced_push). */
import { describe, expect, it } from "vitest";
import { PushMarks } from "../../src/tcp/push-marks.js";
import { RttEstimator } from "../../src/tcp/rtt.js";
import { seq, seqAdd } from "../../src/wire/seq.js";

describe("RttEstimator (Linux tcp_rtt_estimator)", () => {
  it("starts at the initial RTO and makes the first sample's RTO 3 x RTT when RTT >= 100 ms", () => {
    const r = new RttEstimator({ initialRto: 1000, minRto: 200, maxRto: 120_000 });
    expect(r.rto).toBe(1000);
    r.sample(100, seq(1), seq(1));
    expect(r.rto).toBe(300);
    expect(r.srtt).toBe(100);
    expect(r.rttvar).toBe(50);
  });

  it("adds the 200 ms minimum to SRTT at small RTTs instead of clamping (RFC 6298 would say 200 ms)", () => {
    const r = new RttEstimator({ initialRto: 1000, minRto: 200, maxRto: 120_000 });
    r.sample(10, seq(1), seq(1));
    expect(r.rto).toBe(210);
  });

  it("keeps the variance term for a window of data and lets it decay once per window", () => {
    const r = new RttEstimator({ initialRto: 1000, minRto: 200, maxRto: 120_000 });
    r.sample(100, seq(0), seq(1000)); // window ends at 1000
    r.sample(500, seq(500), seq(2000)); // a spike inside the window: deviation jumps
    const spiked = r.rto;
    expect(spiked).toBeGreaterThan(300);
    r.sample(150, seq(600), seq(2000)); // same window: the term may not shrink yet
    expect(r.rto - (r.srtt ?? 0)).toBeCloseTo(spiked - 150, 0);
    for (let i = 0; i < 20; i++) r.sample(150, seq(3000 + i * 1000), seq(4000 + i * 1000));
    expect(r.rto).toBeLessThan(spiked); // decayed back towards SRTT + 200 ms
    expect(r.rto).toBeGreaterThanOrEqual((r.srtt ?? 0) + 200);
  });

  it("doubles on backoff up to the maximum and resets on a sample", () => {
    const r = new RttEstimator({ initialRto: 1000, minRto: 200, maxRto: 3000 });
    r.backOff();
    expect(r.rto).toBe(2000);
    r.backOff();
    expect(r.rto).toBe(3000);
    r.sample(100);
    expect(r.rto).toBe(300);
  });
});

describe("PushMarks", () => {
  it("puts a push point at the end of every write", () => {
    const p = new PushMarks(seq(1));
    p.wrote(seq(1), seq(501), seq(1), 1000, 0);
    p.wrote(seq(501), seq(2501), seq(501), 1000, 0);
    expect(p.covers(seq(1), seq(501))).toBe(true);
    expect(p.covers(seq(501), seq(1501))).toBe(false);
    expect(p.covers(seq(1501), seq(2501))).toBe(true);
    p.acked(seq(501), 0);
    expect(p.covers(seq(1), seq(501))).toBe(false);
  });

  it("forces a push inside a long write past half the largest window (forced_push)", () => {
    const p = new PushMarks(seq(1));
    p.wrote(seq(1), seq(10_001), seq(1), 1000, 4000); // half window 2000: boundaries past 2001
    expect(p.covers(seq(1), seq(1001))).toBe(false);
    expect(p.covers(seq(2001), seq(3001))).toBe(true);
    expect(p.covers(seq(5001), seq(6001))).toBe(true);
    expect(p.covers(seq(9001), seq(10_001))).toBe(true);
  });

  it("finds the push point of any segment among many writes in flight, across the sequence wrap", () => {
    const start = seq(0xffff_0000);
    const p = new PushMarks(start);
    // 200 writes of 700 bytes: a push point every 700 bytes, the stream crossing 2^32.
    for (let w = 0; w < 200; w++) p.wrote(seqAdd(start, w * 700), seqAdd(start, (w + 1) * 700), seqAdd(start, w * 700), 1000, 0);
    p.acked(seqAdd(start, 3500), 0); // the first five are acknowledged
    for (let from = 3500; from < 140_000; from += 250) {
      const end = from + 250;
      const expected = Math.floor(end / 700) > Math.floor(from / 700); // a multiple of 700 in (from, end]
      expect(p.covers(seqAdd(start, from), seqAdd(start, end))).toBe(expected);
    }
  });
});
