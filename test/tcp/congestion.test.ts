/** Window arithmetic of the congestion controllers (RFC 5681, RFC 6582, RFC 9438). */
import { describe, expect, it } from "vitest";
import { Reno } from "../../src/tcp/congestion/algorithm.js";
import { Cubic } from "../../src/tcp/congestion/cubic.js";
import { CongestionControl } from "../../src/tcp/congestion/recovery.js";
import { seq } from "../../src/wire/seq.js";

const MSS = 1000;

describe("slow start and recovery (shared by every algorithm)", () => {
  it("starts at 10 segments and, while the window is the limit, grows by every byte acknowledged (Linux)", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    expect(cc.cwnd).toBe(10_000);
    cc.validate(seq(0), seq(10_000), 10_000, true); // a full window went out, more was waiting
    cc.onNewAck(0, 2 * MSS, seq(2000), 0, 10);
    expect(cc.cwnd).toBe(12_000);
    cc.onNewAck(0, 5 * MSS, seq(7000), 0, 10);
    expect(cc.cwnd).toBe(17_000); // no RFC 3465 limit L: Linux counts every segment acked
  });

  it("does not grow when the application, not the window, limits the sender (tcp_is_cwnd_limited)", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    cc.validate(seq(0), seq(5000), 5000, false); // 5 segments out, cwnd 10, nothing more to send
    cc.onNewAck(0, 2 * MSS, seq(2000), 3000, 10);
    expect(cc.cwnd).toBe(10_000); // cwnd 10 is not under twice the 5 in flight
    const cc6 = new CongestionControl(new Reno(), MSS, 10);
    cc6.validate(seq(0), seq(6000), 6000, false); // 6 out: slow start may reach twice that
    cc6.onNewAck(0, 2 * MSS, seq(2000), 4000, 10);
    cc6.onNewAck(0, 2 * MSS, seq(4000), 2000, 10);
    expect(cc6.cwnd).toBe(12_000);
  });

  it("third duplicate ACK: fast retransmit, ssthresh halves (Reno), cwnd = ssthresh + 3 MSS", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    expect(cc.onDuplicateAck(0, seq(10_000), 10_000)).toBe("none");
    expect(cc.onDuplicateAck(0, seq(10_000), 10_000)).toBe("none");
    expect(cc.onDuplicateAck(0, seq(10_000), 10_000)).toBe("fast-retransmit");
    expect(cc.ssthresh).toBe(5000);
    expect(cc.cwnd).toBe(8000);
    expect(cc.onDuplicateAck(0, seq(10_000), 10_000)).toBe("none");
    expect(cc.cwnd).toBe(9000); // inflation per further duplicate
  });

  it("a partial ACK keeps recovery going; a full ACK deflates to ssthresh (RFC 6582)", () => {
    const cc = new CongestionControl(new Reno(), MSS, 10);
    for (let i = 0; i < 3; i++) cc.onDuplicateAck(0, seq(10_000), 10_000);
    expect(cc.onNewAck(0, 1000, seq(1000), 9000, 10)).toBe("partial-ack");
    expect(cc.inRecovery).toBe(true);
    expect(cc.onNewAck(0, 9000, seq(10_000), 0, 10)).toBe("none");
    expect(cc.inRecovery).toBe(false);
    expect(cc.cwnd).toBeLessThanOrEqual(cc.ssthresh);
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
    let t = 0;
    // One window of ACKs per RTT.
    const windowAt: Record<string, number> = {};
    for (; t <= 8000; t += rtt) {
      cwnd = cubic.grow(t, cwnd, cwnd, MSS, rtt);
      if (Math.abs(t - Math.round(k / rtt) * rtt) < 1) windowAt.k = cwnd / MSS;
      if (t === 2000) windowAt.early = cwnd / MSS;
    }
    expect(windowAt.early).toBeGreaterThan(85); // concave: most of the way back quickly
    expect(windowAt.early).toBeLessThan(100);
    expect(windowAt.k).toBeGreaterThan(97);
    expect(windowAt.k).toBeLessThan(103);
    expect(cwnd / MSS).toBeGreaterThan(110); // convex: probing past W_max
  });

  it("fast convergence: a loss below the previous W_max lowers W_max further", () => {
    const cubic = new Cubic();
    cubic.reduce(0, 100 * MSS, 100 * MSS, MSS);
    // Second loss at 80 segments (< W_max 100): W_max becomes 80 * (1 + 0.7) / 2 = 68.
    const ssthresh = cubic.reduce(1000, 80 * MSS, 80 * MSS, MSS);
    expect(ssthresh).toBe(56 * MSS);
    let cwnd = ssthresh;
    for (let t = 1000; t < 1000 + 2000; t += 100) cwnd = cubic.grow(t, cwnd, cwnd, MSS, 100);
    expect(cwnd / MSS).toBeLessThan(72);
  });
});
