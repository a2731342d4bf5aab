/** Window arithmetic of the congestion controllers (RFC 5681, RFC 6582, RFC 9438). */
import { describe, expect, it } from "vitest";
import { Reno } from "../../src/tcp/congestion/algorithm.js";
import { Cubic } from "../../src/tcp/congestion/cubic.js";
import { HYSTART_ACK_TRAIN, HYSTART_DELAY, HyStart } from "../../src/tcp/congestion/hystart.js";
import { CongestionControl } from "../../src/tcp/congestion/recovery.js";
import { LINUX_DEFAULTS } from "../../src/tcp/config.js";
import { seq } from "../../src/wire/seq.js";

const MSS = 1000;

describe("slow start and recovery (shared by every algorithm)", () => {
  it("starts at 10 segments and, while the window is the limit, grows by every byte acknowledged (Linux)", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    expect(cc.cwnd).toBe(10_000);
    cc.validate(seq(0), seq(10_000), 10_000, true); // a full window went out, more was waiting
    cc.grow(0, 2 * MSS);
    expect(cc.cwnd).toBe(12_000);
    cc.grow(0, 5 * MSS);
    expect(cc.cwnd).toBe(17_000); // no RFC 3465 limit L: Linux counts every segment acked
  });

  it("does not grow when the application, not the window, limits the sender (tcp_is_cwnd_limited)", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    cc.validate(seq(0), seq(5000), 5000, false); // 5 segments out, cwnd 10, nothing more to send
    cc.grow(0, 2 * MSS);
    expect(cc.cwnd).toBe(10_000); // cwnd 10 is not under twice the 5 in flight
    const cc6 = new CongestionControl(new Reno(), MSS, 10);
    cc6.validate(seq(0), seq(6000), 6000, false); // 6 out: slow start may reach twice that
    cc6.grow(0, 2 * MSS);
    cc6.grow(0, 2 * MSS);
    expect(cc6.cwnd).toBe(12_000);
  });

  it("third duplicate ACK starts recovery: ssthresh halves (Reno); PRR then sets cwnd per ACK", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    expect(cc.onDuplicateAck(0, seq(10_000), 10_000)).toBe(false);
    expect(cc.state).toBe("disorder");
    expect(cc.onDuplicateAck(0, seq(10_000), 10_000)).toBe(false);
    expect(cc.onDuplicateAck(0, seq(10_000), 10_000)).toBe(true);
    expect(cc.state).toBe("recovery");
    expect(cc.ssthresh).toBe(5000);
    // A fourth duplicate during recovery starts nothing new (RFC 6582 3.2 step 2).
    expect(cc.onDuplicateAck(0, seq(10_000), 10_000)).toBe(false);
  });

  it("recovery ends at the first ACK at or past `recover`, with cwnd = ssthresh (RFC 9937, Linux)", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    for (let i = 0; i < 3; i++) cc.onDuplicateAck(0, seq(10_000), 10_000);
    expect(cc.maybeEndEpisode(seq(1000))).toBe(false);
    expect(cc.inRecovery).toBe(true);
    expect(cc.maybeEndEpisode(seq(10_000))).toBe(true);
    expect(cc.inRecovery).toBe(false);
    expect(cc.cwnd).toBe(cc.ssthresh);
  });

  it("PRR sends in proportion ssthresh / RecoverFS while the pipe is above ssthresh (RFC 9937 section 3)", () => {
    const cc = new CongestionControl(new Reno(), MSS, 20);
    cc.enterRecovery(0, seq(20_000), 20_000); // ssthresh = 10 segments, RecoverFS = 20
    expect(cc.ssthresh).toBe(10_000);
    let pipe = 19_000; // one segment lost
    const sent: number[] = [];
    for (let k = 0; k < 8; k++) {
      pipe -= MSS; // each ACK: one segment delivered
      cc.onRecoveryAck(MSS, pipe, false, false);
      const n = Math.max(0, Math.floor((cc.cwnd - pipe) / MSS));
      for (let j = 0; j < n; j++) cc.onSent(MSS);
      pipe += n * MSS;
      sent.push(n);
    }
    expect(sent).toEqual([1, 0, 1, 0, 1, 0, 1, 0]); // half of what is delivered
  });

  it("PRR's slow-start reduction bound lets the pipe grow back to ssthresh by delivered + 1 segment", () => {
    const cc = new CongestionControl(new Reno(), MSS, 20);
    cc.enterRecovery(0, seq(20_000), 20_000);
    cc.onSent(MSS); // the fast retransmit
    cc.onRecoveryAck(2 * MSS, 4000, true, false); // heavy loss: pipe far below ssthresh
    // max(prr_delivered - prr_out, delivered) + 1 = max(2 - 1, 2) + 1 = 3 segments, within ssthresh - pipe.
    expect(cc.cwnd).toBe(4000 + 3 * MSS);
  });

  it("undo restores the window when every retransmission was D-SACKed (RFC 3708, Linux tcp_try_undo_dsack)", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    cc.enterRecovery(0, seq(10_000), 10_000);
    cc.onRetransmit();
    cc.onRetransmit();
    expect(cc.onSpuriousRetransmit()).toBe(false);
    expect(cc.onSpuriousRetransmit()).toBe(true);
    expect(cc.cwnd).toBe(10_000);
    expect(cc.ssthresh).toBe(Number.MAX_SAFE_INTEGER);
    expect(cc.state).toBe("open");
  });

  it("a timeout resets cwnd to one segment", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    cc.onTimeout(0, seq(10_000), 10_000);
    expect(cc.cwnd).toBe(MSS);
    expect(cc.ssthresh).toBe(5000);
  });
});

describe("Reno congestion avoidance", () => {
  it("adds one MSS per window of acknowledged bytes", () => {
    const reno = new Reno();
    let cwnd = 10_000;
    for (let i = 0; i < 10; i++) cwnd = reno.grow(0, cwnd, MSS, MSS);
    expect(cwnd).toBe(11_000);
  });
});

describe("CUBIC (RFC 9438)", () => {
  it("reduces to 0.7 W on loss", () => {
    expect(new Cubic().reduce(0, 100 * MSS, 100 * MSS, MSS)).toBe(70 * MSS);
  });

  it("climbs back to W_max after K = cbrt(W_max (1 - beta) / C) seconds, then probes beyond", () => {
    const cubic = new Cubic();
    let cwnd = cubic.reduce(0, 100 * MSS, 100 * MSS, MSS);
    const k = Math.cbrt((100 * 0.3) / 0.4) * 1000;
    const rtt = 100;
    cubic.onRttSample(0, rtt); // the curve looks ahead by the minimum RTT (Linux delay_min)
    let t = 0;
    // One window of ACKs per RTT.
    const windowAt: Record<string, number> = {};
    for (; t <= 8000; t += rtt) {
      cwnd = cubic.grow(t, cwnd, cwnd, MSS);
      if (Math.abs(t - Math.round(k / rtt) * rtt) < 1) windowAt.k = cwnd / MSS;
      if (t === 2000) windowAt.early = cwnd / MSS;
    }
    expect(windowAt.early).toBeGreaterThan(85); // concave: most of the way back quickly
    expect(windowAt.early).toBeLessThan(100);
    expect(windowAt.k).toBeGreaterThan(97);
    expect(windowAt.k).toBeLessThan(103);
    expect(cwnd / MSS).toBeGreaterThan(110); // convex: probing past W_max
  });

  it("grows at least 5% per RTT before the first loss, where the flat curve alone would not (Linux bictcp_update)", () => {
    // HyStart ended slow start at 150 segments without a loss: the curve starts flat there.
    const cubic = new Cubic();
    let cwnd = 150 * MSS;
    const rtt = 40;
    cubic.onRttSample(0, rtt);
    for (let t = 0; t < 10 * rtt; t += rtt) cwnd = cubic.grow(t, cwnd, cwnd, MSS);
    // Ten windows of ACKs at >= 5% each: at least 150 * 1.05^10 = 244 segments (floors aside).
    expect(cwnd / MSS).toBeGreaterThan(240);
    expect(cwnd / MSS).toBeLessThan(150 * 1.06 ** 10);
  });

  it("after a loss follows the curve, without the 5% floor, until a timeout resets it (Linux bictcp_reset)", () => {
    const cubic = new Cubic();
    const rtt = 40;
    cubic.onRttSample(0, rtt);
    let cwnd = cubic.reduce(0, 100 * MSS, 100 * MSS, MSS);
    // Near the plateau (well before K = 4.2 s) growth is far below 5% per RTT.
    for (let t = 0; t < 4000; t += rtt) cwnd = cubic.grow(t, cwnd, cwnd, MSS);
    const before = cwnd;
    cwnd = cubic.grow(4000, cwnd, cwnd, MSS);
    expect(cwnd / before).toBeLessThan(1.01);
    // A timeout forgets W_max: the next epoch grows at the floor again.
    cubic.enterLoss();
    cwnd = 100 * MSS;
    const start = cwnd;
    cwnd = cubic.grow(5000, cwnd, cwnd, MSS);
    expect(cwnd / start).toBeGreaterThanOrEqual(1.05);
  });

  it("looks ahead by the smallest RTT seen, not the latest, and forgets it on a timeout (Linux delay_min)", () => {
    // The same loss and ACK clock; only the RTT samples differ.
    const run = (samples: Array<[number, number]>, timeoutFirst = false): number => {
      const cubic = new Cubic();
      for (const [at, rtt] of samples) cubic.onRttSample(at, rtt);
      if (timeoutFirst) cubic.enterLoss();
      let cwnd = cubic.reduce(0, 100 * MSS, 100 * MSS, MSS);
      // One window of ACKs every 100 ms for 2 s: still on the concave side (K = 4.2 s).
      for (let t = 0; t <= 2000; t += 100) cwnd = cubic.grow(t, cwnd, cwnd, MSS);
      return cwnd;
    };
    const lookAhead400 = run([[0, 400]]);
    // A later, larger sample does not raise the minimum: the curve still looks 40 ms ahead.
    expect(run([[0, 40], [0, 400]])).toBe(run([[0, 40]]));
    expect(run([[0, 40]])).toBeLessThan(lookAhead400);
    // A timeout zeroes the minimum (bictcp_reset): no look-ahead at all, the slowest.
    expect(run([[0, 400]], true)).toBeLessThan(lookAhead400);
  });

  it("leaves out RTT samples from the first second of an epoch (Linux bictcp_acked)", () => {
    const grown = (sampleAt: number): number => {
      const cubic = new Cubic();
      cubic.onRttSample(0, 400);
      let cwnd = cubic.reduce(0, 100 * MSS, 100 * MSS, MSS);
      cwnd = cubic.grow(0, cwnd, cwnd, MSS); // the epoch starts at 0
      cubic.onRttSample(sampleAt, 10);
      for (let t = 1300; t <= 2000; t += 100) cwnd = cubic.grow(t, cwnd, cwnd, MSS);
      return cwnd;
    };
    const none = (() => {
      const cubic = new Cubic();
      cubic.onRttSample(0, 400);
      let cwnd = cubic.reduce(0, 100 * MSS, 100 * MSS, MSS);
      cwnd = cubic.grow(0, cwnd, cwnd, MSS);
      for (let t = 1300; t <= 2000; t += 100) cwnd = cubic.grow(t, cwnd, cwnd, MSS);
      return cwnd;
    })();
    expect(grown(500)).toBe(none); // 0.5 s into the epoch: ignored
    expect(grown(1200)).toBeLessThan(none); // 1.2 s: the minimum falls to 10 ms
  });

  it("fast convergence: a loss below the previous W_max lowers W_max further", () => {
    const cubic = new Cubic();
    cubic.reduce(0, 100 * MSS, 100 * MSS, MSS);
    // Second loss at 80 segments (< W_max 100): W_max becomes 80 * (1 + 0.7) / 2 = 68.
    const ssthresh = cubic.reduce(1000, 80 * MSS, 80 * MSS, MSS);
    expect(ssthresh).toBe(56 * MSS);
    let cwnd = ssthresh;
    cubic.onRttSample(1000, 100);
    for (let t = 1000; t < 1000 + 2000; t += 100) cwnd = cubic.grow(t, cwnd, cwnd, MSS);
    expect(cwnd / MSS).toBeLessThan(72);
  });
});

describe("HyStart delay detection (Linux tcp_cubic hystart_update)", () => {
  it("ends slow start when a round's RTT rises an eighth (at least 4 ms) above the minimum", () => {
    const h = new HyStart();
    // Round 1 (ends at 20_000): 10 samples at the path's 40 ms.
    for (let i = 0; i < 10; i++) expect(h.onRtt(0, 40, seq(1000 * i), seq(20_000), 20)).toBe(0);
    // Round 2: the queue builds, 44 ms is within 40 + 5; 46 ms is not, after 8 samples.
    for (let i = 0; i < 9; i++) expect(h.onRtt(0, 44, seq(20_000 + 1000 * (i + 1)), seq(40_000), 20)).toBe(0);
    const h2 = new HyStart();
    for (let i = 0; i < 10; i++) h2.onRtt(0, 40, seq(1000 * i), seq(20_000), 20);
    const verdicts = Array.from({ length: 9 }, (_, i) => h2.onRtt(0, 46, seq(20_000 + 1000 * (i + 1)), seq(40_000), 20));
    expect(verdicts).toEqual([0, 0, 0, 0, 0, 0, 0, 0, HYSTART_DELAY]);
  });

  it("stays out below 16 segments, and only CUBIC uses it: the controller sets ssthresh = cwnd", () => {
    const h = new HyStart();
    for (let i = 0; i < 30; i++) expect(h.onRtt(0, i === 0 ? 10 : 100, seq(1000 * (i + 1)), seq(50_000), 15)).toBe(0);
    const cubic = new CongestionControl(new Cubic(), MSS, 20);
    const reno = new CongestionControl(new Reno(), MSS, 20);
    let ended = 0;
    for (let i = 0; i < 20 && ended === 0; i++) {
      reno.onRttSample(0, i < 10 ? 40 : 60, seq(1000 * (i + 1)), seq(i < 10 ? 10_000 : 40_000));
      ended = cubic.onRttSample(0, i < 10 ? 40 : 60, seq(1000 * (i + 1)), seq(i < 10 ? 10_000 : 40_000));
    }
    expect(ended).toBe(HYSTART_DELAY);
    expect(cubic.ssthresh).toBe(cubic.cwnd);
    expect(reno.ssthresh).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("HyStart ACK-train detection (Linux tcp_cubic HYSTART_ACK_TRAIN)", () => {
  /** One round of ACKs `spacing` ms apart from t = 1000, each sampling a 40 ms RTT, at a 20-segment window. */
  const round = (h: HyStart, spacing: number, count: number): number[] =>
    Array.from({ length: count }, (_, i) => h.onRtt(1000 + i * spacing, 40, seq(20_000 + 1000 * (i + 1)), seq(60_000), 20));

  it("ends slow start once ACKs 2 ms apart or closer have kept coming for over half the minimum RTT plus 1 ms", () => {
    const h = new HyStart();
    h.onRtt(0, 40, seq(1000), seq(20_000), 20);
    const verdicts = round(h, 1, 25);
    // (40 + 1) / 2 = 20.5 ms: the ACK at 1021 ms is the first past it.
    expect(verdicts.indexOf(HYSTART_ACK_TRAIN)).toBe(21);
    expect(verdicts.slice(0, 21).every((v) => v === 0)).toBe(true);
  });

  it("a paced sender's train must outlast the whole minimum RTT plus 1 ms (Linux: no halving unless SK_PACING_NONE)", () => {
    const paced = new HyStart(HYSTART_ACK_TRAIN | HYSTART_DELAY, Infinity, true);
    paced.onRtt(0, 40, seq(1000), seq(20_000), 20);
    const verdicts = Array.from({ length: 45 }, (_, i) => paced.onRtt(1000 + i, 40, seq(20_000 + 1000 * (i + 1)), seq(90_000), 20));
    // 40 + 1 = 41 ms: the ACK at 1042 ms is the first past it; at 1021 ms (unpaced) nothing.
    expect(verdicts.indexOf(HYSTART_ACK_TRAIN)).toBe(42);
    // Through the controller: CUBIC with TcpConfig.pacing hands the flag over.
    const train = (pacing: boolean): number => {
      const cubic = new CongestionControl(new Cubic(), MSS, 20, { ...LINUX_DEFAULTS, pacing });
      cubic.onRttSample(0, 40, seq(1000), seq(20_000));
      let i = 0;
      while (i < 60 && cubic.onRttSample(1000 + i, 40, seq(20_000 + 1000 * (i + 1)), seq(90_000)) === 0) i++;
      return i;
    };
    expect(train(false)).toBe(21);
    expect(train(true)).toBe(42);
  });

  it("a gap over 2 ms breaks the train; with hystart_detect=2 (delay only) it never fires", () => {
    const spaced = new HyStart();
    spaced.onRtt(0, 40, seq(1000), seq(20_000), 20);
    expect(round(spaced, 3, 25).every((v) => v === 0)).toBe(true);
    const delayOnly = new HyStart(HYSTART_DELAY);
    delayOnly.onRtt(0, 40, seq(1000), seq(20_000), 20);
    expect(round(delayOnly, 1, 25).every((v) => v === 0)).toBe(true);
    const off = new HyStart(0);
    expect(off.onRtt(0, 400, seq(1000), seq(20_000), 20)).toBe(0);
  });
});
