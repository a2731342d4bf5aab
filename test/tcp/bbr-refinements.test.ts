/**
 * The two refinements Linux's BBR v1 ships on by default: the cwnd allowance for ACK
 * aggregation (bbr_update_ack_aggregation / extra_acked) and the long-term bandwidth
 * estimate for token-bucket policers (bbr_lt_bw_sampling / lt_bw).
 */
import { describe, expect, it } from "vitest";
import { AckAggregation, BBR_EXTRA_ACKED_MAX_MS } from "../../src/tcp/congestion/bbr-ack-aggregation.js";
import { Bbr, BBR_PACING_GAIN_CYCLE, type BbrAck } from "../../src/tcp/congestion/bbr.js";
import { BBR_LT_BW_MAX_ROUNDS } from "../../src/tcp/congestion/bbr-lt-bw.js";
import { DeliveryRate, type RateSample } from "../../src/tcp/congestion/delivery-rate.js";

const MSS = 1000;
const RTT = 10;

/**
 * A path of `bw` bytes per ms and a 10 ms RTT whose ACKs arrive every `ackEvery` ms, each
 * covering what the path delivered since the last one (ackEvery > 1: aggregated ACKs).
 */
class AckStream {
  readonly rate = new DeliveryRate();
  readonly bbr = new Bbr(this.rate, () => 0.5);
  now = 0;
  cwnd = 10 * MSS;
  /** (time, delivered) after each ACK: a segment ACKed now was sent one RTT ago, at that count. */
  private readonly history: Array<[number, number]> = [[0, 0]];

  constructor(private readonly ackEvery: number) {
    this.bbr.start(0, this.cwnd, undefined);
  }

  /** One ACK; `lostFraction` of what the path carried in the interval was lost instead of delivered. */
  ack(bw: number, opts: { lostFraction?: number; inflight?: number } = {}): void {
    const carried = bw * this.ackEvery;
    const lost = Math.round(carried * (opts.lostFraction ?? 0));
    const newly = carried - lost;
    this.now += this.ackEvery;
    let prior = 0;
    for (const [t, d] of this.history) if (t <= this.now - RTT) prior = d;
    this.rate.delivered += newly;
    this.history.push([this.now, this.rate.delivered]);
    if (this.history.length > 64) this.history.shift();
    this.rate.deliveredAt = this.now;
    const sample: RateSample = { delivered: bw * RTT, interval: RTT, deliveryRate: bw, rtt: RTT, isAppLimited: false, priorDelivered: prior, newlyDelivered: newly };
    const a: BbrAck = { now: this.now, sample, inflight: opts.inflight ?? (this.bbr.pacingGain > 1 ? 1.5 : 1) * bw * RTT, cwnd: this.cwnd, mss: MSS, losses: lost, caState: "open" };
    this.cwnd = this.bbr.onAck(a);
  }

  run(ms: number, bw: number, opts: { lostFraction?: number; inflight?: number } = {}): void {
    const end = this.now + ms;
    while (this.now < end) this.ack(bw, opts);
  }
}

describe("BBR ACK aggregation (Linux extra_acked)", () => {
  it("ACKs that arrive in bursts raise cwnd by the burst's excess; a smooth ACK stream at the same rate does not", () => {
    const smooth = new AckStream(1);
    const bursty = new AckStream(5); // every 5 ms an ACK for 5 ms worth of data: 2250 bytes at once
    for (const s of [smooth, bursty]) {
      s.run(1000, 450);
      while (s.bbr.cycleIndex === 0) s.ack(450); // compare outside the probing phase's 2 extra segments
    }
    expect(smooth.bbr.mode).toBe("probe_bw");
    expect(bursty.bbr.mode).toBe("probe_bw");
    expect(smooth.bbr.maxBw).toBe(450);
    expect(bursty.bbr.maxBw).toBe(450);
    // The excess over what 450 B/ms explains at that instant: one ACK's worth.
    expect(smooth.bbr.aggregation.extraAcked).toBe(450);
    expect(bursty.bbr.aggregation.extraAcked).toBe(2250);
    // cwnd target = 2 BDP (9000) + allowance + 3 segments, rounded up to an even count.
    expect(smooth.cwnd).toBe(14 * MSS); // 9000 + 450 + 3000 -> 13 -> 14 segments
    expect(bursty.cwnd).toBe(16 * MSS); // 9000 + 2250 + 3000 -> 15 -> 16 segments
  });

  it("the allowance is zero until the pipe is full and never above 100 ms at the estimated bandwidth", () => {
    const agg = new AckAggregation();
    agg.start(0);
    agg.update(false, 0, 1000, 10, 1e9, MSS); // opens an epoch at 0
    agg.update(false, 10, 50_000, 10, 1e9, MSS); // 50,000 more at 10 ms, 100 expected: a burst
    expect(agg.extraAcked).toBe(51_000 - 100);
    expect(agg.allowance(10, false)).toBe(0); // STARTUP: no allowance (bbr_full_bw_reached)
    expect(agg.allowance(10, true)).toBe(10 * BBR_EXTRA_ACKED_MAX_MS); // capped at bw x 100 ms = 1000
    expect(agg.allowance(1000, true)).toBe(51_000 - 100);
    // ... and at most one cwnd: a burst cannot have ACKed more than was in flight.
    agg.update(false, 11, 90_000, 10, 20_000, MSS);
    expect(agg.extraAcked).toBe(51_000 - 100); // the slot keeps its max; the new sample was capped at 20,000
  });

  it("the excess is forgotten after 5 to 10 rounds without bursts", () => {
    const agg = new AckAggregation();
    agg.start(0);
    agg.update(false, 0, 1000, 10, 1e9, MSS);
    agg.update(false, 1, 30_000, 10, 1e9, MSS);
    expect(agg.extraAcked).toBeGreaterThan(20_000);
    let t = 100;
    for (let round = 0; round < 10; round++) {
      t += 100;
      // One ACK per round, slower than the 100 B/ms estimate: the burst's epoch ends, a new one starts.
      agg.update(true, t, 1000, 100, 1e9, MSS);
    }
    expect(agg.extraAcked).toBe(1000);
  });
});

describe("BBR long-term bandwidth (Linux lt_bw): a token-bucket policer", () => {
  /** PROBE_BW at 450 B/ms, then a policer: the path carries 450 B/ms but drops `loss` of it, every round. */
  function policed(loss: number): AckStream {
    const s = new AckStream(RTT); // one ACK per round, each reporting the round's losses
    s.run(300, 450);
    expect(s.bbr.mode).toBe("probe_bw");
    // Until the detector engages (it needs two intervals of at least 4 rounds), or 20 rounds.
    for (let i = 0; i < 20 && !s.bbr.lt.useBw; i++) s.ack(450, { lostFraction: loss });
    return s;
  }

  it("two intervals of 4+ rounds, each losing over 20% at a steady rate: pace at that rate with gain 1", () => {
    const s = policed(0.3);
    expect(s.bbr.lt.useBw).toBe(true);
    // Delivered 70% of 450 B/ms: the policed rate, which now sizes pacing and cwnd.
    expect(s.bbr.lt.bw).toBeCloseTo(315, 6);
    expect(s.bbr.bwEstimate).toBeCloseTo(315, 6);
    expect(s.bbr.maxBw).toBe(450); // the max filter still holds the burst rate
    expect(s.bbr.pacingGain).toBe(1);
    expect(s.bbr.pacingRate).toBeCloseTo(315 * 0.99, 6);
  });

  it("a loss rate under 20% is not a policer", () => {
    const s = policed(0.1);
    expect(s.bbr.lt.useBw).toBe(false);
    expect(s.bbr.bwEstimate).toBe(450);
  });

  it("after 48 rounds at the policed rate, BBR probes again (gain cycling restarts)", () => {
    const s = policed(0.3);
    expect(s.bbr.lt.useBw).toBe(true);
    const gains = new Set<number>();
    let rounds = 0;
    while (s.bbr.lt.useBw && rounds < 200) {
      s.ack(450, { lostFraction: 0.3 }); // still policed: one ACK and one round start each
      gains.add(s.bbr.pacingGain);
      rounds++;
    }
    expect(gains).toEqual(new Set([1])); // no probing while policed
    expect(rounds).toBe(BBR_LT_BW_MAX_ROUNDS);
    expect(s.bbr.lt.bw).toBe(0);
    expect(s.bbr.mode).toBe("probe_bw");
    expect(s.bbr.bwEstimate).toBe(450);
    for (let i = 0; i < 12; i++) {
      s.ack(450, { inflight: s.bbr.pacingGain > 1 ? 6000 : 4500 });
      gains.add(s.bbr.pacingGain);
    }
    expect(gains).toEqual(new Set(BBR_PACING_GAIN_CYCLE));
  });

  it("a retransmission timeout counts as a lossy round for the detector (Linux bbr_set_state)", () => {
    const s = new AckStream(RTT);
    s.run(300, 450);
    expect(s.bbr.lt.useBw).toBe(false);
    s.bbr.onEnterLoss(4500); // starts a sampling interval although no ACK reported a loss
    s.run(5 * RTT, 450, { lostFraction: 0.3 });
    s.bbr.onEnterLoss(4500);
    s.run(5 * RTT, 450, { lostFraction: 0.3 });
    expect(s.bbr.lt.bw).toBeGreaterThan(0);
  });
});
