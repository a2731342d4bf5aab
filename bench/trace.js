// Trace overhead: does a stack that nobody subscribed to pay for its trace events?
//
//   node bench/trace.js --mtu 1500 --mib 16 --rounds 10
//
// One process holds three host pairs, each with one established connection:
//   none: no trace option (the Host's NULL_SINK);
//   hub:  a TraceHub nobody subscribed to;
//   noop: a TraceHub with one subscriber that only counts events (so events are built).
// Each round streams --mib MiB over each connection in turn (the order rotates every
// round), so that all three modes share the machine's conditions of that moment; the
// first round only warms up the JIT. Per mode: the median Gbit/s over the rounds, and the
// median over rounds of (mode / none - 1), which cancels most of the machine's noise.
// (bulk.js --trace MODE measures one mode per process, for comparison.)
//
// --order hub,noop,none: the order the pairs are made in (default none,hub,noop). The
// pair made first runs about 10% faster than the others whatever its mode (BENCHMARKS.md,
// fifteenth session: with the hub's pair made first, "none" came out 4% slower than the
// hub), so `npm run bench` runs every mode first once and pools the rounds; the per-round
// figures are in the result for that (samples, cpuSamples, ratios, ratiosCpu).
import { performance } from "node:perf_hooks";
import { TraceHub } from "../dist/src/trace/events.js";
import { args, emitResult, gbps, makePair, mib, patternBlock, SERVER_ADDR, CLIENT_ADDR } from "./lib.js";

const a = args();
const mtu = Number(a.mtu ?? 1500);
// A whole number of full segments per round: otherwise Nagle holds the last short segment
// until the previous one is ACKed, and each round would end with a 40 ms delayed-ACK wait
// (see BENCHMARKS.md) that has nothing to do with tracing.
const mss = mtu - 40;
const chunk = Math.floor(mib(Number(a.mib ?? 16)) / mss) * mss;
const rounds = Number(a.rounds ?? 10);
const BLOCK = 64 * 1024;
const block = patternBlock(BLOCK);
const MODES = String(a.order ?? "none,hub,noop").split(",");
if (MODES.length !== 3 || !["none", "hub", "noop"].every((m) => MODES.includes(m))) throw new Error(`--order must name none, hub and noop once each, got ${a.order}`);

function setup(mode) {
  let trace;
  const st = { mode, events: 0, sent: 0, received: 0, target: 0, corrupt: 0, packets: 0, idleWaits: 0, idleMs: 0, samples: [], cpuSamples: [] };
  if (mode !== "none") {
    trace = new TraceHub();
    if (mode === "noop") trace.subscribe(() => st.events++);
  }
  const pair = makePair({ mtu, trace });
  const listener = pair.server.tcp.listen(5001);
  const c = pair.client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: 5001 });
  let s;
  const hs = pair.run(() => c.state === "ESTABLISHED" && (s ??= listener.accept()) !== undefined, undefined, 5000);
  if (hs !== "done") throw new Error(`${mode}: handshake ${hs}`);
  const fill = () => {
    while (st.sent < st.target) {
      const off = st.sent % BLOCK;
      const want = Math.min(BLOCK - off, st.target - st.sent);
      const n = c.send(off === 0 && want === BLOCK ? block : block.subarray(off, off + want));
      if (n === 0) return;
      st.sent += n;
    }
  };
  const drain = () => {
    for (let d = s.read(); d.length > 0; d = s.read()) {
      if (d[0] !== block[st.received % BLOCK]) st.corrupt++;
      st.received += d.length;
    }
  };
  c.onWake = fill;
  s.onWake = drain;
  Object.assign(st, { pair, c, fill });
  return st;
}

const states = MODES.map(setup);
let outcome = "done";
for (let r = 0; r <= rounds && outcome === "done"; r++) {
  for (let k = 0; k < MODES.length; k++) {
    const st = states[(k + r) % MODES.length];
    st.target += chunk;
    const p0 = st.pair.packets;
    const w0 = st.pair.idleWaits;
    const m0 = st.pair.idleMs;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    st.fill();
    const o = st.pair.run(() => st.received >= st.target, undefined, 60_000);
    const ms = performance.now() - t0;
    const cu = process.cpuUsage(c0);
    if (r > 0) st.cpuSamples.push(gbps(chunk, (cu.user + cu.system) / 1000));
    if (o !== "done") outcome = `${st.mode}: ${o}`;
    st.packets += st.pair.packets - p0;
    st.idleWaits += st.pair.idleWaits - w0;
    st.idleMs += st.pair.idleMs - m0;
    if (r > 0) st.samples.push(gbps(chunk, ms));
    // Settle (untimed): let the last delayed ACK arrive, so no timer of this pair falls
    // due while the other pairs run.
    const settled = st.pair.run(() => st.c.sndUna === st.c.sndMax, undefined, 5000);
    if (settled !== "done") outcome = `${st.mode}: settle ${settled}`;
  }
}

function median(xs) {
  const v = [...xs].sort((p, q) => p - q);
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}
const none = states.find((st) => st.mode === "none");
const result = { bench: "trace", outcome, mtu, bytesPerRound: chunk, rounds, modes: {} };
for (const st of states) {
  result.modes[st.mode] = {
    gbps: median(st.samples),
    min: Math.min(...st.samples),
    max: Math.max(...st.samples),
    change: median(st.samples.map((g, i) => g / none.samples[i] - 1)),
    samples: st.samples,
    ratios: st.samples.map((g, i) => g / none.samples[i] - 1),
    // The same from CPU time (user + system) of this process: blind to time spent
    // descheduled while other work runs, which dominates wall time on a busy machine.
    gbpsCpu: median(st.cpuSamples),
    minCpu: Math.min(...st.cpuSamples),
    maxCpu: Math.max(...st.cpuSamples),
    changeCpu: median(st.cpuSamples.map((g, i) => g / none.cpuSamples[i] - 1)),
    cpuSamples: st.cpuSamples,
    ratiosCpu: st.cpuSamples.map((g, i) => g / none.cpuSamples[i] - 1),
    packets: st.packets,
    events: st.events,
    eventsPerPacket: st.events / Math.max(st.packets, 1),
    retransmits: st.c.inspect().retransmits,
    // Timer waits inside the timed part only (the untimed settling waits on purpose).
    idleWaits: st.idleWaits,
    idleMs: Math.round(st.idleMs),
    corrupt: st.corrupt,
  };
}
emitResult(result);
