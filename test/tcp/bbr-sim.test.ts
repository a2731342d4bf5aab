/**
 * BBR v1 end to end in the simulator: over a rate-limited bottleneck it fills the link
 * without the standing queue CUBIC builds, and under random loss it keeps its rate where a
 * loss-based algorithm collapses (BBR v1 does not treat loss as congestion).
 */
import { describe, expect, it } from "vitest";
import type { TcpConfig } from "../../src/tcp/config.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { pair, PAIR_ADDRESSES } from "./fixtures.js";
import { StreamApp, pattern, equalBytes } from "./app.js";

interface Run {
  /** Payload bytes per ms delivered from 1 s until the last byte arrived. */
  goodput: number;
  /** Median RTT sample at the sender after the first second, ms. */
  medianRtt: number;
  /** The whole stream arrived intact. */
  done: boolean;
  events: TraceEvent[];
}

interface Link {
  rate: number;
  delay: number;
  loss?: number;
  queueLimit?: number;
}

/** One bulk upload of `bytes` from client to server, run for `until` ms of virtual time. */
function bulk(cc: TcpConfig["congestionControl"], link: Link, bytes: number, until: number, seed = 1): Run {
  const { net, client, server, events } = pair({ seed, link, tcp: { congestionControl: cc, sendBufferSize: 1 << 20, receiveBufferSize: 1 << 22 } });
  const data = pattern(bytes, seed);
  const listener = server.tcp.listen(80);
  let app: StreamApp | undefined;
  listener.onConnection = () => {
    const c = listener.accept();
    if (c !== undefined) app = new StreamApp(c, new Uint8Array(0), { closeOnEof: true });
  };
  const conn = client.tcp.connect({ localAddr: PAIR_ADDRESSES[4].client, remoteAddr: PAIR_ADDRESSES[4].server, remotePort: 80 });
  new StreamApp(conn, data, { read: true });
  net.run({ until: 1000 });
  const at1s = app?.receivedBytes ?? 0;
  let lastAt = 1000;
  let lastBytes = at1s;
  for (let t = 1000; t < until; t += 100) {
    net.run({ until: t + 100 });
    const got = app?.receivedBytes ?? 0;
    if (got > lastBytes) {
      lastBytes = got;
      lastAt = t + 100;
    }
  }
  const rtts = events
    .filter((e): e is Extract<TraceEvent, { type: "rtt" }> => e.type === "rtt" && e.host === "client" && e.time > 1000)
    .map((e) => e.sample)
    .sort((a, b) => a - b);
  const done = app !== undefined && equalBytes(app.data(), data);
  return { goodput: (lastBytes - at1s) / Math.max(1, lastAt - 1000), medianRtt: rtts[Math.floor(rtts.length / 2)] ?? NaN, done, events };
}

const modes = (r: Run) => r.events.filter((e): e is Extract<TraceEvent, { type: "bbr" }> => e.type === "bbr");

describe("BBR v1 in the simulator", () => {
  // 10 Mbit/s = 1250 bytes/ms on the wire, ~1200 of payload with 1460-byte segments.
  const bottleneck = { rate: 10_000_000, delay: 20, queueLimit: 1000 };

  it("fills a 10 Mbit/s, 40 ms RTT bottleneck without a standing queue, where CUBIC keeps one", () => {
    const bbr = bulk("bbr", bottleneck, 8_000_000, 8000);
    const cubic = bulk("cubic", bottleneck, 8_000_000, 8000);
    expect(bbr.done && cubic.done).toBe(true);
    expect(bbr.goodput).toBeGreaterThan(0.9 * 1200); // the link is full
    // The path's RTT is 40 ms plus serialization: BBR stays within a few ms of it, while
    // CUBIC fills the 1000-packet buffer until loss and its RTT samples show the queue.
    expect(bbr.medianRtt).toBeLessThan(50);
    expect(cubic.medianRtt).toBeGreaterThan(2 * bbr.medianRtt);
    // STARTUP -> DRAIN -> PROBE_BW, in that order, with a bandwidth estimate near the link rate.
    const m = modes(bbr);
    expect(m.slice(0, 2).map((e) => e.mode)).toEqual(["drain", "probe_bw"]);
    expect(m[0]!.bw).toBeGreaterThan(0.9 * 1200);
    expect(m[0]!.bw).toBeLessThan(1300);
    expect(m[0]!.minRtt).toBeGreaterThanOrEqual(40);
    expect(m[0]!.minRtt).toBeLessThan(45);
  }, 120_000);

  it("enters PROBE_RTT when its min RTT is 10 s old and returns to PROBE_BW", () => {
    const bbr = bulk("bbr", bottleneck, 30_000_000, 14_000);
    const m = modes(bbr);
    const probeRtt = m.find((e) => e.mode === "probe_rtt");
    expect(probeRtt).toBeDefined();
    expect(probeRtt!.time).toBeGreaterThan(10_000);
    const after = m.find((e) => e.time > probeRtt!.time);
    expect(after?.mode).toBe("probe_bw");
    expect(after!.time - probeRtt!.time).toBeGreaterThanOrEqual(200);
  }, 120_000);

  it("keeps most of the link under 1% random loss, where Reno collapses", () => {
    const link = { rate: 10_000_000, delay: 20, loss: 0.01 };
    const bbr = bulk("bbr", link, 8_000_000, 12_000);
    const reno = bulk("reno", link, 8_000_000, 12_000);
    expect(bbr.done).toBe(true);
    expect(bbr.goodput).toBeGreaterThan(0.8 * 1200);
    expect(bbr.goodput).toBeGreaterThan(2 * reno.goodput);
  }, 120_000);
});
