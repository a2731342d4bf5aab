/** BBR v1's parts alone: its filters, its state machine, the delivery-rate estimator and the pacer. */
import { describe, expect, it } from "vitest";
import { MinRttFilter, WindowedMaxFilter } from "../../src/tcp/congestion/bbr-filters.js";
import { Bbr, BBR_DRAIN_GAIN, BBR_HIGH_GAIN, BBR_PACING_GAIN_CYCLE, type BbrAck } from "../../src/tcp/congestion/bbr.js";
import { DeliveryRate, type RateSample } from "../../src/tcp/congestion/delivery-rate.js";
import { Pacer } from "../../src/tcp/pacing.js";
import { CongestionControl } from "../../src/tcp/congestion/recovery.js";
import { BbrWindow } from "../../src/tcp/sender-bbr.js";
import { seq } from "../../src/wire/seq.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { pair, PAIR_ADDRESSES, type Pair } from "./fixtures.js";
import { StreamApp, pattern } from "./app.js";

const MSS = 1000;

/** A sink listening on the server's port 80, and a client connection sending it `bytes`. */
function sendToSink(client: Pair["client"], server: Pair["server"], bytes: number): ReturnType<Pair["client"]["tcp"]["connect"]> {
  const listener = server.tcp.listen(80);
  listener.onConnection = () => {
    const c = listener.accept();
    if (c !== undefined) new StreamApp(c, new Uint8Array(0));
  };
  const conn = client.tcp.connect({ localAddr: PAIR_ADDRESSES[4].client, remoteAddr: PAIR_ADDRESSES[4].server, remotePort: 80 });
  new StreamApp(conn, pattern(bytes, 1));
  return conn;
}

describe("BBR filters", () => {
  it("the bandwidth filter keeps the maximum of the last 10 rounds and forgets older ones", () => {
    const f = new WindowedMaxFilter(10);
    f.update(0, 50);
    f.update(1, 80);
    f.update(1, 60); // a lower sample in the same round leaves the round's max
    f.update(2, 70);
    expect(f.max(2)).toBe(80);
    expect(f.max(10)).toBe(80); // round 1 is still within (0, 10]
    expect(f.max(11)).toBe(70); // round 1 has left the window
    f.update(12, 10);
    expect(f.max(12)).toBe(10); // and round 2 too
    expect(f.max(21)).toBe(10);
    expect(f.max(22)).toBe(0);
  });

  it("the bandwidth filter's answer follows a sample taken after it was asked, in the same round", () => {
    const f = new WindowedMaxFilter(10);
    f.update(3, 40);
    expect(f.max(3)).toBe(40);
    f.update(3, 90); // BBR asks between samples; the remembered answer must not outlive one
    expect(f.max(3)).toBe(90);
    f.reset();
    expect(f.max(3)).toBe(0);
  });

  it("the min RTT filter takes lower samples, and any sample once 10 s have passed", () => {
    const f = new MinRttFilter();
    expect(f.update(0, 40)).toBe(false);
    f.update(100, 45);
    expect(f.value).toBe(40);
    f.update(200, 38);
    expect(f.value).toBe(38);
    expect(f.stamp).toBe(200);
    expect(f.expired(10_200)).toBe(false);
    expect(f.update(10_201, 50)).toBe(true); // expired: the higher sample replaces it
    expect(f.value).toBe(50);
    expect(f.stamp).toBe(10_201);
  });
});

/** A model path: `bw` bytes per ms, `rtt` ms; one ACK per round delivering a round's worth. */
class Path {
  readonly rate = new DeliveryRate();
  readonly bbr = new Bbr(this.rate, () => 0.5);
  now = 0;
  cwnd = 10 * MSS;

  ack(bw: number, rtt: number, inflight: number, opts: Partial<BbrAck> & { appLimited?: boolean } = {}): number {
    const newly = bw * rtt;
    const prior = this.rate.delivered;
    this.rate.delivered += newly;
    this.now += rtt;
    this.rate.deliveredAt = this.now;
    const sample: RateSample = { delivered: newly, interval: rtt, deliveryRate: bw, rtt, isAppLimited: opts.appLimited ?? false, priorDelivered: prior, newlyDelivered: newly };
    this.cwnd = this.bbr.onAck({ now: this.now, sample, inflight, cwnd: this.cwnd, mss: MSS, losses: 0, caState: "open", ...opts });
    return this.cwnd;
  }
}

describe("BBR state machine", () => {
  it("STARTUP at gain 2/ln2, DRAIN after 3 rounds without 25% growth, PROBE_BW once in flight is one BDP", () => {
    const p = new Path();
    expect(p.bbr.mode).toBe("startup");
    p.ack(100, 10, 5000);
    expect(p.bbr.pacingGain).toBeCloseTo(2.885, 3);
    expect(p.bbr.pacingRate).toBeCloseTo(100 * BBR_HIGH_GAIN * 0.99, 6);
    p.ack(200, 10, 5000);
    p.ack(400, 10, 5000); // still doubling
    p.ack(450, 10, 50_000); // +12.5%: first round without 25% growth
    p.ack(450, 10, 50_000);
    expect(p.bbr.mode).toBe("startup");
    expect(p.bbr.fullBwReached).toBe(false);
    p.ack(450, 10, 50_000); // third: the pipe is full
    expect(p.bbr.fullBwReached).toBe(true);
    expect(p.bbr.mode).toBe("drain");
    expect(p.bbr.pacingGain).toBeCloseTo(BBR_DRAIN_GAIN, 6);
    expect(p.bbr.changed).toMatch(/3 rounds/);
    // BDP = 450 bytes/ms x 10 ms = 4500 bytes: in flight above it keeps DRAIN, at it ends it.
    p.ack(450, 10, 9000);
    expect(p.bbr.mode).toBe("drain");
    p.ack(450, 10, 4500);
    expect(p.bbr.mode).toBe("probe_bw");
    // Random draw 0.5 -> phase 7 - 3 = 4, advanced to 5: never the 0.75 phase first.
    expect(p.bbr.cycleIndex).toBe(5);
    expect(p.bbr.pacingGain).toBe(1);
    // cwnd in PROBE_BW: at most 2 x BDP, plus the ACK-aggregation allowance (this path ACKs a
    // whole round at once: 1 BDP more than the estimate expected at that instant), plus 3
    // segments, rounded up to an even count: 9000 + 4500 + 3000 -> 18 segments.
    p.ack(450, 10, 4500);
    expect(p.bbr.aggregation.extraAcked).toBe(4500);
    expect(p.cwnd).toBe(18 * MSS);
  });

  it("PROBE_BW cycles through 1.25, 0.75 and six rounds at 1, one min RTT each", () => {
    const p = new Path();
    for (const bw of [100, 200, 400, 450, 450, 450]) p.ack(bw, 10, 50_000);
    p.ack(450, 10, 4500);
    expect(p.bbr.mode).toBe("probe_bw");
    const gains: number[] = [];
    for (let i = 0; i < 8; i++) {
      // Gain 1.25 ends once in flight reaches 1.25 BDP, 0.75 once it is down to 1 BDP.
      p.ack(450, 11, p.bbr.pacingGain > 1 ? 6000 : 4500);
      gains.push(p.bbr.pacingGain);
    }
    expect(gains).toEqual([1, 1, 5 / 4, 3 / 4, 1, 1, 1, 1]);
    expect(new Set(gains)).toEqual(new Set(BBR_PACING_GAIN_CYCLE));
  });

  it("app-limited samples do not lower the estimate nor count towards a full pipe", () => {
    const p = new Path();
    p.ack(400, 10, 5000);
    for (let i = 0; i < 5; i++) p.ack(50, 10, 500, { appLimited: true });
    expect(p.bbr.maxBw).toBe(400);
    expect(p.bbr.mode).toBe("startup");
    expect(p.bbr.fullBwReached).toBe(false);
  });

  it("PROBE_RTT: entered when the min RTT is 10 s old, cwnd 4 segments for 200 ms and a round, then the window comes back", () => {
    const p = new Path();
    for (const bw of [100, 200, 400, 450, 450, 450]) p.ack(bw, 10, 50_000);
    p.ack(450, 10, 4500);
    expect(p.bbr.mode).toBe("probe_bw");
    const before = p.ack(450, 11, 4500);
    while (p.now < 10_010) p.ack(450, 11, 4500); // no sample below 10 ms for 10 s
    expect(p.bbr.mode).toBe("probe_rtt");
    expect(p.cwnd).toBe(4 * MSS);
    expect(p.rate.appLimitedUntil).toBeGreaterThan(0); // samples in PROBE_RTT are app-limited
    // Samples taken at the small window are app-limited (the estimator's mark): the bandwidth estimate stays.
    p.ack(450, 10, 4 * MSS, { appLimited: true }); // in flight is down to 4 segments: 200 ms start now
    const start = p.now;
    while (p.now <= start + 200) {
      p.ack(450, 10, 4 * MSS, { appLimited: true });
      if (p.now <= start + 200) expect(p.bbr.mode).toBe("probe_rtt");
    }
    expect(p.bbr.mode).toBe("probe_bw");
    // Restored up to the target, not just grown by one ACK (4 + 4.5 segments): 2 BDP + the
    // aggregation allowance, which PROBE_RTT's 4-segment window capped at 4 segments
    // (Linux caps extra_acked at cwnd) + 3 segments = 16.
    expect(before).toBe(18 * MSS);
    expect(p.cwnd).toBe(16 * MSS);
    expect(p.bbr.minRtt.stamp).toBe(p.now);
  });

  it("packet conservation on entering recovery, the window restored when it ends; loss itself does not shrink the model", () => {
    const p = new Path();
    for (const bw of [100, 200, 400, 450, 450, 450]) p.ack(bw, 10, 50_000);
    p.ack(450, 10, 4500);
    const cwnd = p.ack(450, 10, 4500);
    p.bbr.saveCwnd(cwnd); // what the recovery controller's reduce() does (Linux bbr_ssthresh)
    const inRecovery = p.ack(450, 10, 2000, { caState: "recovery", losses: 1000 });
    expect(inRecovery).toBe(2000 + 4500); // in flight + delivered
    expect(p.bbr.maxBw).toBe(450);
    expect(p.ack(450, 10, 4500, { caState: "open" })).toBeGreaterThanOrEqual(cwnd);
  });
});

describe("BBR under the shared loss-recovery controller", () => {
  it("recovery, an ECN echo and a timeout never set cwnd from BBR's infinite ssthresh", () => {
    const bbr = new Bbr(new DeliveryRate(), () => 0);
    const cc = new CongestionControl(new BbrWindow(bbr), MSS, 10);
    cc.cwnd = 40 * MSS;
    expect(cc.enterCwr(0, seq(50_000), 40 * MSS)).toBe(true);
    expect(cc.ssthresh).toBe(Number.MAX_SAFE_INTEGER);
    cc.onRecoveryAck(MSS, 30 * MSS, true, false); // no PRR: BBR sets the window on the ACK
    expect(cc.maybeEndEpisode(seq(50_001))).toBe(true);
    expect(cc.cwnd).toBe(40 * MSS);
    cc.enterRecovery(0, seq(60_000), 40 * MSS);
    expect(cc.maybeEndEpisode(seq(60_000))).toBe(true);
    expect(cc.cwnd).toBe(40 * MSS);
    cc.grow(0, 10 * MSS); // growth is BBR's too
    expect(cc.cwnd).toBe(40 * MSS);
    cc.onTimeout(0, seq(70_000), 40 * MSS);
    expect(cc.cwnd).toBe(MSS); // as Linux's tcp_enter_loss
  });
});

describe("delivery-rate estimator (draft-cheng-iccrg-delivery-rate-estimation)", () => {
  it("rate = delivered since the segment's send / max(send interval, ACK interval)", () => {
    const r = new DeliveryRate();
    r.onSend(0, seq(1000), true);
    r.onSend(5, seq(2000), false);
    r.beginAck();
    r.onDelivered(40, seq(1000), 0, 1000);
    const s1 = r.finishAck(40, 30, seq(1000))!;
    expect(s1.delivered).toBe(1000);
    expect(s1.interval).toBe(40); // ACK interval (40) > send interval (0)
    expect(s1.deliveryRate).toBe(25);
    expect(s1.rtt).toBe(40);
    r.beginAck();
    r.onDelivered(45, seq(2000), 5, 1000);
    const s2 = r.finishAck(45, 30, seq(2000))!;
    expect(s2.priorDelivered).toBe(0);
    expect(s2.delivered).toBe(2000);
    expect(s2.interval).toBe(45);
  });

  it("Karn's rule: a retransmission delivered moments after it left gives no RTT (its rate sample stays)", () => {
    const r = new DeliveryRate();
    r.onSend(0, seq(1000), true);
    r.onSend(1, seq(2000), false);
    r.onSend(300, seq(1000), false); // segment 1 retransmitted at 300 ms; the ACK for the original is already on its way
    r.beginAck();
    r.onDelivered(301, seq(1000), 300, 1000, true);
    const s = r.finishAck(301, 30, seq(1000))!;
    expect(s.rtt).toBe(-1); // not 1 ms: that would become BBR's min RTT and its BDP would collapse
    expect(s.delivered).toBe(1000);
    r.beginAck();
    r.onDelivered(341, seq(2000), 1, 1000); // never retransmitted: a real RTT
    expect(r.finishAck(341, 30, seq(2000))!.rtt).toBe(340);
  });

  it("an interval shorter than the min RTT is not a valid sample (ACK compression)", () => {
    const r = new DeliveryRate();
    r.onSend(0, seq(1000), true);
    r.beginAck();
    r.onDelivered(5, seq(1000), 0, 1000);
    const s = r.finishAck(5, 30, seq(1000))!;
    expect(s.interval).toBe(-1);
    expect(s.deliveryRate).toBe(0);
  });

  it("marks samples app-limited while what was in flight when the application ran dry is delivered", () => {
    const r = new DeliveryRate();
    r.onSend(0, seq(1000), true);
    r.onSend(0, seq(2000), false);
    r.checkAppLimited(0, MSS, 2000, 10_000, 0); // nothing to send, room in cwnd
    expect(r.appLimitedUntil).toBe(2000);
    r.onSend(1, seq(3000), false); // sent while app-limited
    r.beginAck();
    r.onDelivered(40, seq(1000), 0, 1000);
    expect(r.finishAck(40, 10, seq(1000))!.isAppLimited).toBe(false); // sent before the mark
    r.beginAck();
    r.onDelivered(41, seq(2000), 0, 1000);
    r.finishAck(41, 10, seq(2000));
    r.beginAck();
    r.onDelivered(42, seq(3000), 1, 1000);
    expect(r.finishAck(42, 10, seq(3000))!.isAppLimited).toBe(true);
    expect(r.appLimitedUntil).toBe(0); // delivered passed the mark
    // Not app-limited when data waits or the window is full.
    r.checkAppLimited(5000, MSS, 2000, 10_000, 0);
    r.checkAppLimited(0, MSS, 10_000, 10_000, 0);
    expect(r.appLimitedUntil).toBe(0);
  });
});

describe("pacing", () => {
  it("releases segments len / rate apart, from max(previous release, now): idle time earns no burst", () => {
    const p = new Pacer();
    expect(p.ready(0, 1000)).toBe(true); // rate 0: no pacing
    p.rate = 100; // bytes per ms: below 1.2 Mbit/s, so one segment per release
    for (let i = 0; i < 10; i++) p.onSent(0, 1000, 1000); // the first ten segments are not paced
    expect(p.ready(0, 1000)).toBe(true);
    p.onSent(0, 1000, 1000);
    expect(p.nextAt).toBe(10);
    expect(p.ready(9.9, 1000)).toBe(false);
    expect(p.ready(10, 1000)).toBe(true);
    p.onSent(10, 500, 1000);
    expect(p.nextAt).toBe(15);
    p.onSent(100, 1000, 1000); // sent late: the schedule restarts at now, less up to half a segment's time
    expect(p.nextAt).toBe(105);
    p.onSent(105.5, 1000, 1000); // 0.5 ms late: 0.5 ms back
    expect(p.nextAt).toBe(115);
  });

  it("sends a TSO packet's worth per release: about 1 ms at the rate, at least two segments above 1.2 Mbit/s", () => {
    const p = new Pacer();
    p.rate = 1000; // 8 Mbit/s: 976 bytes per 1/1024 s, so the two-segment minimum
    expect(p.quantum(1448)).toBe(2 * 1448);
    p.rate = 100_000; // 800 Mbit/s: about 97,656 bytes a millisecond, capped at 64 KiB
    expect(p.quantum(1448)).toBe(45 * 1448);
    p.rate = 10_000; // 80 Mbit/s: 9,765 bytes, 6 segments
    expect(p.quantum(1448)).toBe(6 * 1448);
    for (let i = 0; i < 10; i++) p.onSent(0, 1448, 1448);
    let sent = 0;
    while (p.ready(0, 1448)) {
      p.onSent(0, 1448, 1448);
      sent++;
    }
    expect(sent).toBe(6); // one burst now, the next one when its serialization time has passed
    expect(p.nextAt).toBeCloseTo((6 * 1448) / 10_000, 9);
  });

  it("credits a late release per burst (Linux: per TSO packet, up to half its time), and up to the driver's timer slack", () => {
    const burst = (p: Pacer, now: number, slack = 0): void => {
      for (let i = 0; i < 6; i++) p.onSent(now, 1448, 1448, slack);
    };
    const paced = (): Pacer => {
      const p = new Pacer();
      p.rate = 10_000; // 80 Mbit/s: six segments a release, 0.8688 ms of serialization
      for (let i = 0; i < 10; i++) p.onSent(0, 1448, 1448);
      burst(p, 0);
      expect(p.nextAt).toBeCloseTo(0.8688, 9);
      return p;
    };
    // Woken 0.6312 ms late: Linux gives back at most half the burst (0.4344 ms), not half a segment.
    const linux = paced();
    burst(linux, 1.5);
    expect(linux.nextAt).toBeCloseTo(1.5 - 0.4344 + 0.8688, 9);
    // A driver whose timers may come 2 ms late: the whole lateness is credited, no rate is lost.
    const node = paced();
    burst(node, 1.5, 2);
    expect(node.nextAt).toBeCloseTo(2 * 0.8688, 9);
  });

  it("a release due within the driver's timer granularity goes now; the schedule still runs from the release time", () => {
    const p = new Pacer();
    p.rate = 100;
    for (let i = 0; i < 11; i++) p.onSent(0, 1000, 1000);
    expect(p.nextAt).toBe(10);
    expect(p.ready(8.9, 1000, 1)).toBe(false);
    expect(p.ready(9, 1000, 1)).toBe(true); // a Node timer cannot wait the last millisecond
    p.onSent(9, 1000, 1000);
    expect(p.nextAt).toBe(20); // not 19: sending early earns no rate
  });

  it("on a whole-millisecond clock, releasing within the granularity keeps the rate and takes the lateness out", () => {
    // A driver like Node's: asked to wake after d ms it wakes after ceil(d) (at least 1) and
    // 0.3 ms more. Each wakeup's first departure against its release time, over 2 s at 80 Mbit/s.
    const run = (granularity: number): { rate: number; meanOffset: number } => {
      const p = new Pacer();
      p.rate = 10_000;
      for (let i = 0; i < 10; i++) p.onSent(0, 1448, 1448);
      let now = 0;
      let bytes = 0;
      let offsets = 0;
      let segments = 0;
      while (now < 2000) {
        let first = true;
        while (p.ready(now, 1448, granularity)) {
          if (first) {
            offsets += now - p.nextAt;
            segments++;
            first = false;
          }
          p.onSent(now, 1448, 1448, 2);
          bytes += 1448;
        }
        const wakeAt = p.nextAt - granularity;
        now += Math.max(1, Math.ceil(wakeAt - now)) + 0.3;
      }
      return { rate: bytes / now, meanOffset: offsets / segments };
    };
    const exact = run(0);
    const early = run(1);
    expect(exact.meanOffset).toBeGreaterThan(0.5); // each release about a millisecond late
    expect(Math.abs(early.meanOffset)).toBeLessThan(exact.meanOffset / 2);
    // The rate is the pacer's either way (within one release's quantum over 2 s).
    expect(early.rate).toBeGreaterThan(10_000 * 0.99);
    expect(early.rate).toBeLessThan(10_000 * 1.01);
    expect(exact.rate).toBeGreaterThan(10_000 * 0.99);
  });

  it("a host with timer granularity sets the pacing deadline that much before the release time", () => {
    const { net, client, server } = pair({ link: { delay: 20 }, tcp: { congestionControl: "bbr" }, clientHost: { timerGranularity: 1 } });
    const conn = sendToSink(client, server, 2_000_000);
    const internals = conn as unknown as { sender: { pacer: Pacer }; timers: { pacing: number } };
    const sender = internals.sender;
    let t = 0;
    let held = 0;
    while (t < 400) {
      net.run({ until: (t += 0.25) });
      const timers = internals.timers; // a busy connection's own set, made when needed
      // Whenever pacing holds a segment, the host asks to be woken a millisecond before it is due.
      if (timers.pacing !== Infinity && timers.pacing > net.now) {
        if (timers.pacing === sender.pacer.nextAt - 1) held++;
        expect(timers.pacing).toBeLessThanOrEqual(sender.pacer.nextAt - 1);
        expect(client.nextDeadline()).toBeLessThanOrEqual(timers.pacing);
      }
    }
    expect(held).toBeGreaterThan(10);
  });

  it("a connection opened when the clock is past 10 s starts in STARTUP, not PROBE_RTT (the min RTT window starts at the first send)", () => {
    const { net, client, server, events } = pair({ link: { delay: 20, rate: 2_000_000 }, tcp: { congestionControl: "bbr" } });
    net.run({ until: 15_000 }); // a real stack's clock is the process's, long past zero
    sendToSink(client, server, 200_000);
    net.run({ until: 17_000 });
    const modes = events.filter((e): e is Extract<TraceEvent, { type: "bbr" }> => e.type === "bbr" && e.host === "client").map((e) => e.mode);
    expect(modes.length).toBeGreaterThan(0);
    expect(modes).not.toContain("probe_rtt");
    expect(modes).toContain("drain"); // STARTUP ran its course
  });

  it("with BBR, data segments leave spaced by the pacing rate and the host's nextDeadline is the release time", () => {
    const { net, client, server, events } = pair({ link: { delay: 20 }, tcp: { congestionControl: "bbr" } });
    const conn = sendToSink(client, server, 2_000_000);
    const sender = (conn as unknown as { sender: { pacer: Pacer; sendMss: number } }).sender;
    // Step until pacing holds a segment (after the ten unpaced ones, once ACKs open the window).
    let t = 0;
    while (!(sender.pacer.nextAt > net.now) && t < 1000) net.run({ until: (t += 0.5) });
    expect(sender.pacer.rate).toBeGreaterThan(0);
    expect(sender.pacer.nextAt).toBeGreaterThan(net.now);
    expect(client.nextDeadline()).toBeLessThanOrEqual(sender.pacer.nextAt);
    expect(client.nextDeadline()).toBeGreaterThan(net.now);
    net.run({ until: 400 });
    const out = events.filter((e): e is Extract<TraceEvent, { type: "segment-out" }> => e.type === "segment-out" && e.host === "client" && e.segment.payload.length > 0 && !e.retransmit);
    expect(out.length).toBeGreaterThan(20);
    // The first ten leave as the window allows (unpaced, as Linux); after them no instant
    // sends more than one release's quantum, and the releases are spread in time.
    const perInstant = new Map<number, number>();
    for (const e of out.slice(10)) perInstant.set(e.time, (perInstant.get(e.time) ?? 0) + e.segment.payload.length);
    const largest = Math.max(...perInstant.values());
    expect(largest).toBeLessThanOrEqual(sender.pacer.quantum(sender.sendMss));
    expect(largest).toBeGreaterThan(0);
    expect(perInstant.size).toBeGreaterThan(50);
  });
});
