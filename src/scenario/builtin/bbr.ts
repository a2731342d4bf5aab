/**
 * Built-in scenario about BBR v1 (congestion/bbr.ts): a bulk upload through a bottleneck,
 * showing STARTUP, DRAIN and the PROBE_BW gain cycle, with pacing instead of bursts.
 */
import type { ScenarioSpec } from "../model.js";
import { OPEN, SERVER } from "./common.js";

export const bbr: ScenarioSpec = {
  name: "bbr",
  title: "BBR: startup finds the bottleneck rate, drain empties the queue, probe-bandwidth cycles",
  description:
    "The client runs BBR (congestionControl \"bbr\", Linux's tcp_congestion_control=bbr) and uploads 400,000 bytes through a 2 Mbit/s bottleneck with a 40 ms round trip. BBR paces every segment at a rate of its own instead of sending bursts. In STARTUP it paces at 2.885 times its bandwidth estimate, doubling the rate each round, until three rounds in a row raise the estimate by less than 25%: the pipe is full. DRAIN then paces below the estimate until what is in flight is one bandwidth-delay product, emptying the queue STARTUP built. PROBE_BW follows, cycling the pacing gain 1.25 (probe for more), 0.75 (drain it again), then 1 for six rounds. Nothing is lost: the queue at the bottleneck stays short.",
  behaviours: ["S14", "S15"],
  hosts: [{ name: "client", address: "10.0.0.1", tcp: { congestionControl: "bbr" } }, SERVER],
  links: [
    { from: "client", to: "server", delay: 20, rate: 2_000_000 },
    { from: "server", to: "client", delay: 20 },
  ],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 400_000 }],
  expect: [
    { expect: "bbr", host: "client", mode: "drain", equals: 1 },
    { expect: "bbr", host: "client", mode: "probe_bw", atLeast: 4 },
    { expect: "bbr", host: "client", mode: "probe_rtt", equals: 0 },
    { expect: "recovery", host: "client", action: "recovery", equals: 0 },
    { expect: "timer", conn: "client", timer: "rto", fired: [] },
    { expect: "received", conn: "server", bytes: 400_000 },
  ],
};
