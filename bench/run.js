// `npm run bench`: every benchmark in its own child process (fresh heap and JIT), synack
// and its node:net reference interleaved so that noise on a shared machine hits both,
// medians of the repetitions, a table on stdout and the raw results in bench/results.json
// (not committed; BENCHMARKS.md records the figures).
//
//   node bench/run.js [--quick] [--reps N] [--json] [--million]
//
// --quick: one repetition and smaller transfers and floods (a smoke run, about 20 s).
// --million: the scale benchmark also opens 1,000,000 connections (about a minute and
// 1.7 GB of heap; it runs with --max-old-space-size=4096, so that it also runs where
// Node's default heap limit is lower).
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { args } from "./lib.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const a = args();
const quick = a.quick === true;
const reps = Number(a.reps ?? (quick ? 1 : 3));
// 1 GiB: at MTU 65535 synack moves it in about 150 ms, so a shorter timed transfer would
// be a few garbage collections long.
const BULK_MIB = quick ? 64 : 1024;
// Every bulk figure, synack's and node:net's, is taken after warm-up transfers of
// BULK_WARMUP_MIB each, over fresh connections, for at least BULK_WARMUP_MS: V8 compiles
// the hot paths during the first transfers, which run several times slower (BENCHMARKS.md,
// fifteenth session), and a byte count alone ends the warm-up too soon where packets are
// large, since each new connection first sends V8 back to slower code (twenty-second
// session). The connection rates leave their warm-up out too, and the TUN rows count a
// second transfer. The first transfer's figures are printed among the notes.
const BULK_WARMUP_MIB = quick ? 16 : 64;
const BULK_WARMUP_MS = quick ? 250 : 1000;
const TRACE_MIB = 8;
const TRACE_ROUNDS = quick ? 4 : 24;
const CONN_COUNT = quick ? 20_000 : 60_000;
const NET_CONN_COUNT = quick ? 4_000 : 10_000;
const API_CONN_COUNT = quick ? 4_000 : 20_000;
// Connections run first and not counted, on both sides of every connection-rate ratio: V8
// compiles the hot paths in the first thousands, which run several times slower than the
// rest (BENCHMARKS.md, eleventh session). The cold rate over all of them is printed too.
const CONN_WARMUP = quick ? 2_000 : 10_000;
const NET_CONN_WARMUP = quick ? 1_000 : 5_000;
const API_CONCURRENCY = 50;
const FLOOD_SYNS = quick ? 100_000 : 400_000;
const FLOOD_CLIENTS = 100;
const HEAP_COUNT = 10_000;
const CHILD_TIMEOUT_MS = 120_000;
const LOSS_MIB = quick ? 1 : 2;
const TUNNEL_MIB = quick ? 16 : 64;
const TUNNEL_RATE_MS = quick ? 1000 : 2000;
// Five: single runs at 0.1% range from 8 to 100 Mbit/s (a transfer that meets no loss in slow start
// finishes at the path's speed), and a median of three was still noise there (BENCHMARKS.md).
const LOSS_REPS = quick ? 1 : 5;
const SCALE_COUNTS = quick ? [1_000, 10_000] : a.million === true ? [1_000, 10_000, 100_000, 1_000_000] : [1_000, 10_000, 100_000];

const log = (s) => process.stderr.write(s + "\n");

/** Runs one benchmark file in a child node; returns its JSON result (last stdout line). */
function child(file, argv, nodeFlags = [], timeout = CHILD_TIMEOUT_MS, env = {}) {
  const envText = Object.entries(env).map(([k, v]) => `${k}=${v} `).join("");
  const label = envText + [file, ...argv].join(" ");
  log(`  running ${label}`);
  const r = spawnSync(process.execPath, [...nodeFlags, path.join(here, file), ...argv.map(String)], {
    encoding: "utf8",
    timeout,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  const lines = (r.stdout ?? "").trim().split("\n").filter(Boolean);
  let result;
  try {
    result = JSON.parse(lines[lines.length - 1]);
  } catch {
    result = { outcome: "error" };
  }
  if (r.error !== undefined || r.status !== 0) {
    result.outcome = "error";
    result.error = r.error?.message ?? `exit ${r.status} ${r.signal ?? ""}`.trim();
    result.stderr = (r.stderr ?? "").slice(-2000);
    log(`  ! ${label}: ${result.error}\n${result.stderr}`);
  } else if (result.outcome !== undefined && result.outcome !== "done") {
    log(`  ! ${label}: outcome ${result.outcome}`);
  }
  result.command = `${envText}node ${nodeFlags.join(" ")} bench/${file} ${argv.join(" ")}`.replace(/ +/g, " ");
  return result;
}

/**
 * Builds and runs test/interop/loss-table.ts (issue 12's relay table) when TUN is allowed:
 * `extra` picks the congestion controls (and whether the short-flow tail runs).
 */
function measureLossTable(extra) {
  if (process.getuid?.() !== 0) return { reason: "needs root" };
  if (!existsSync("/dev/net/tun")) return { reason: "no /dev/net/tun" };
  const root = path.join(here, "..");
  const out = path.join(root, "dist", "loss-table.mjs");
  log(`goodput through the impairment relay at 0.1%, 1%, 3% loss (${LOSS_MIB} MiB x ${LOSS_REPS}): ${extra.join(" ")}`);
  const build = spawnSync(path.join(root, "node_modules", ".bin", "esbuild"), ["test/interop/loss-table.ts", "--bundle", "--platform=node", "--format=esm", "--packages=external", `--outfile=${out}`], { cwd: root, encoding: "utf8" });
  if (build.status !== 0) return { reason: `esbuild failed: ${build.stderr.slice(-500)}` };
  const r = spawnSync(process.execPath, [out, "--mib", LOSS_MIB, "--reps", LOSS_REPS, ...extra, "--json"], { cwd: root, encoding: "utf8", timeout: 1_200_000 });
  process.stderr.write(r.stderr ?? "");
  if (r.status !== 0) return { reason: `loss-table.ts failed (exit ${r.status})` };
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop());
  } catch {
    return { reason: "loss-table.ts printed no JSON" };
  }
}

/** Builds and runs test/interop/measure.ts when this machine allows TUN devices (root). */
function measureRealLinks() {
  const cc = "reno";
  if (process.getuid?.() !== 0) return { reason: "needs root" };
  if (!existsSync("/dev/net/tun")) return { reason: "no /dev/net/tun" };
  const root = path.join(here, "..");
  const out = path.join(root, "dist", "measure.mjs");
  // 256 MiB direct, as the in-memory bulk rows: at 64 MiB a transfer of synack's lasts about
  // 0.1 s warm, and the connection's start (slow start, a cold process) weighs on it more
  // than on the kernel's over veth (BENCHMARKS.md, fourteenth session).
  log(`real links over TUN and the impairment relay (${quick ? 64 : 256} MiB direct, two transfers each, the second counted; 4 MiB through the relay)`);
  const build = spawnSync(path.join(root, "node_modules", ".bin", "esbuild"), ["test/interop/measure.ts", "--bundle", "--platform=node", "--format=esm", "--packages=external", `--outfile=${out}`], { cwd: root, encoding: "utf8" });
  if (build.status !== 0) return { reason: `esbuild failed: ${build.stderr.slice(-500)}` };
  const r = spawnSync(process.execPath, [out, "--mib", quick ? "64" : "256", "--relay-mib", "4", "--cc", cc, "--json"], { cwd: root, encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) return { reason: `measure.ts failed: ${(r.stderr ?? "").slice(-500)}` };
  try {
    return { figures: JSON.parse(r.stdout).figures, cc };
  } catch {
    return { reason: "measure.ts printed no JSON" };
  }
}

/** One trace result from runs in several creation orders: each mode's rounds and per-round ratios pooled. */
function poolTraceRuns(results) {
  const failed = results.find((r) => r.outcome !== "done");
  if (failed !== undefined) return failed;
  const modes = {};
  for (const mode of ["none", "hub", "noop"]) {
    const ms = results.map((r) => r.modes[mode]);
    const all = (k) => ms.flatMap((m) => m[k]);
    const sum = (k) => ms.reduce((t, m) => t + m[k], 0);
    const [samples, cpuSamples] = [all("samples"), all("cpuSamples")];
    modes[mode] = {
      gbps: median(samples),
      min: Math.min(...samples),
      max: Math.max(...samples),
      change: median(all("ratios")),
      gbpsCpu: median(cpuSamples),
      minCpu: Math.min(...cpuSamples),
      maxCpu: Math.max(...cpuSamples),
      changeCpu: median(all("ratiosCpu")),
      events: sum("events"),
      eventsPerPacket: sum("events") / Math.max(sum("packets"), 1),
      retransmits: sum("retransmits"),
      idleWaits: sum("idleWaits"),
      idleMs: sum("idleMs"),
      corrupt: sum("corrupt"),
    };
  }
  return { bench: "trace", outcome: "done", modes, command: results.map((r) => r.command).join(" ; ") };
}

function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const started = Date.now();
const load0 = os.loadavg()[0];
// glibc gives memory back to the system once 128 KiB lie free at the top of its heap
// (M_TRIM_THRESHOLD), so a process that frees and allocates 64 KiB packet slabs all the
// time page-faults fresh memory in again and again; raising the threshold is a process
// setting a user can make (README "Benchmarks"), measured here as a row of its own.
const GLIBC_KEEP = { MALLOC_TRIM_THRESHOLD_: 268435456, MALLOC_TOP_PAD_: 16777216 };
const runs = { bulk1500: [], bulk1500Trim: [], bulk1500Offload: [], bulk1500Batch: [], bulk1500BatchOffload: [], bulk1500Gso: [], bulk65535: [], bulk65535Offload: [], netBulk: [], conn: [], netConn: [], apiConn: [], apiNetConn: [], apiConnSemi: [], apiNetConnSemi: [], floodCookies: [], floodNever: [], trace: undefined, heap: undefined, tunnelTcp_batch: [], tunnelTcp_dgram: [], tunnelRate_batch: [], tunnelRate_dgram: [] };

log(`bulk throughput (${reps} x ${BULK_MIB} MiB each after ${BULK_WARMUP_MIB} MiB warm-up transfers for ${BULK_WARMUP_MS} ms, node:net twice per repetition)`);
const bulkArgs = ["--mib", BULK_MIB, "--warmup-mib", BULK_WARMUP_MIB, "--warmup-ms", BULK_WARMUP_MS];
for (let i = 0; i < reps; i++) {
  runs.netBulk.push(child("net-bulk.js", bulkArgs));
  runs.bulk1500.push(child("bulk.js", ["--mtu", 1500, ...bulkArgs]));
  runs.bulk1500Trim.push(child("bulk.js", ["--mtu", 1500, ...bulkArgs], [], CHILD_TIMEOUT_MS, GLIBC_KEEP));
  runs.bulk1500Offload.push(child("bulk.js", ["--mtu", 1500, ...bulkArgs, "--offload"]));
  runs.bulk1500Batch.push(child("bulk.js", ["--mtu", 1500, ...bulkArgs, "--batch"]));
  runs.bulk1500BatchOffload.push(child("bulk.js", ["--mtu", 1500, ...bulkArgs, "--batch", "--offload"]));
  runs.bulk1500Gso.push(child("bulk.js", ["--mtu", 1500, ...bulkArgs, "--gso"]));
  runs.bulk65535.push(child("bulk.js", ["--mtu", 65535, ...bulkArgs]));
  runs.bulk65535Offload.push(child("bulk.js", ["--mtu", 65535, ...bulkArgs, "--offload"]));
  // node:net is fast and short, hence noisier: sample it on both sides of the synack runs.
  runs.netBulk.push(child("net-bulk.js", bulkArgs));
}

log(`UDP tunnel over loopback: batched (sendmmsg/recvmmsg, UDP GSO/GRO) vs node:dgram, ${reps} x ${TUNNEL_MIB} MiB TCP and ${TUNNEL_RATE_MS} ms of raw datagrams each`);
for (let i = 0; i < reps; i++) {
  for (const t of i % 2 === 0 ? ["batch", "dgram"] : ["dgram", "batch"]) runs[`tunnelTcp_${t}`].push(child("udp-tunnel.js", ["--mode", "tcp", "--transport", t, "--mib", TUNNEL_MIB]));
  for (const t of i % 2 === 0 ? ["dgram", "batch"] : ["batch", "dgram"]) runs[`tunnelRate_${t}`].push(child("udp-tunnel.js", ["--mode", "rate", "--transport", t, "--ms", TUNNEL_RATE_MS]));
}

log(`connections per second (${reps} x ${CONN_COUNT} synack after ${CONN_WARMUP} warm-up, ${NET_CONN_COUNT} node:net after ${NET_CONN_WARMUP})`);
for (let i = 0; i < reps; i++) {
  runs.netConn.push(child("net-connrate.js", ["--count", NET_CONN_COUNT, "--warmup", NET_CONN_WARMUP, "--concurrency", 100]));
  runs.conn.push(child("connrate.js", ["--count", CONN_COUNT, "--warmup", CONN_WARMUP, "--concurrency", 100]));
}

log(`connections per second through the node:net API (${reps} x ${API_CONN_COUNT} each after ${NET_CONN_WARMUP} warm-up, synack over loopbackPair and node:net over 127.0.0.1)`);
for (let i = 0; i < reps; i++) {
  runs.apiNetConn.push(child("net-connrate.js", ["--stack", "kernel", "--count", API_CONN_COUNT, "--warmup", NET_CONN_WARMUP, "--concurrency", API_CONCURRENCY]));
  runs.apiConn.push(child("net-connrate.js", ["--stack", "synack", "--count", API_CONN_COUNT, "--warmup", NET_CONN_WARMUP, "--concurrency", API_CONCURRENCY]));
}
// The same with a young generation that may grow to 64 MiB semi-spaces (Node's default
// maximum is 16 MiB here). V8 moves an object literal's allocation site to the old
// generation only at a scavenge that finds the young generation at its maximum size; the
// synack runs reach it during the warm-up in some runs and then keep Node's stream objects
// (the events object, ReadableState's arrays) in the old generation for the whole run,
// about a fifth slower (BENCHMARKS.md, twenty-fifth and twenty-sixth sessions). A user who
// runs a connection-heavy service can set the flag; both stacks get it here.
const SEMI_FLAGS = ["--max-semi-space-size=64"];
for (let i = 0; i < reps; i++) {
  runs.apiNetConnSemi.push(child("net-connrate.js", ["--stack", "kernel", "--count", API_CONN_COUNT, "--warmup", NET_CONN_WARMUP, "--concurrency", API_CONCURRENCY], SEMI_FLAGS));
  runs.apiConnSemi.push(child("net-connrate.js", ["--stack", "synack", "--count", API_CONN_COUNT, "--warmup", NET_CONN_WARMUP, "--concurrency", API_CONCURRENCY], SEMI_FLAGS));
}

log(`SYN flood (${reps} x ${FLOOD_SYNS} spoofed SYNs per mode, ${FLOOD_CLIENTS} legitimate clients; no node:net reference)`);
for (let i = 0; i < reps; i++) {
  runs.floodCookies.push(child("synflood.js", ["--cookies", "overflow", "--syns", FLOOD_SYNS, "--clients", FLOOD_CLIENTS]));
  runs.floodNever.push(child("synflood.js", ["--cookies", "never", "--syns", FLOOD_SYNS, "--clients", FLOOD_CLIENTS]));
}

log(`heap per idle connection (${HEAP_COUNT} connections)`);
runs.heap = child("heap.js", ["--count", HEAP_COUNT], ["--expose-gc"]);

log(`open connections: ${SCALE_COUNTS.join(", ")} idle connections, then bulk and connection rate beside them`);
runs.scale = SCALE_COUNTS.map((n) =>
  child("scale.js", ["--count", n, "--bulk-mib", 32, "--rate", 5000], n >= 1_000_000 ? ["--expose-gc", "--max-old-space-size=4096"] : ["--expose-gc"], n >= 1_000_000 ? 1_800_000 : CHILD_TIMEOUT_MS),
);

// Three processes, each making a different mode's pair first: in one process the pair made
// first runs about 10% faster whatever its mode (bench/trace.js), so each mode gets the
// first place once and the rounds of the three are pooled.
const TRACE_ORDERS = ["none,hub,noop", "hub,noop,none", "noop,none,hub"];
const TRACE_ROUNDS_EACH = Math.max(2, Math.ceil(TRACE_ROUNDS / TRACE_ORDERS.length));
log(`trace overhead (MTU 1500, ${TRACE_ORDERS.length} processes x ${TRACE_ROUNDS_EACH} rounds x ${TRACE_MIB} MiB per mode, each mode's pair made first in one)`);
runs.trace = poolTraceRuns(TRACE_ORDERS.map((order) => child("trace.js", ["--mtu", 1500, "--mib", TRACE_MIB, "--rounds", TRACE_ROUNDS_EACH, "--order", order])));

log("playground page load in chromium (every built-in scenario)");
runs.pageLoad = child("page-load.js", ["--runs", quick ? 1 : 3, "--json"], [], 600_000);

const ok = (r) => r.outcome === "done";
const med = (rs, key) => median(rs.filter(ok).map((r) => r[key]));
const allOk = (rs) => rs.length > 0 && rs.every(ok);

const netGbps = med(runs.netBulk, "gbps");
const b1500 = med(runs.bulk1500, "gbps");
const b1500Offload = med(runs.bulk1500Offload, "gbps");
const b1500Trim = med(runs.bulk1500Trim, "gbps");
const b1500Gso = med(runs.bulk1500Gso, "gbps");
const b1500Batch = med(runs.bulk1500Batch, "gbps");
const b1500BatchOffload = med(runs.bulk1500BatchOffload, "gbps");
const b65535 = med(runs.bulk65535, "gbps");
const b65535Offload = med(runs.bulk65535Offload, "gbps");
const conn = med(runs.conn, "perSec");
const netConn = med(runs.netConn, "perSec");
const apiConn = med(runs.apiConn, "perSec");
const apiNetConn = med(runs.apiNetConn, "perSec");
const coldConn = med(runs.conn, "coldPerSec");
const coldNetConn = med(runs.netConn, "coldPerSec");
const coldApiConn = med(runs.apiConn, "coldPerSec");
const coldApiNetConn = med(runs.apiNetConn, "coldPerSec");
const tunnelBatch = med(runs.tunnelTcp_batch, "mbps");
const tunnelDgram = med(runs.tunnelTcp_dgram, "mbps");
const tunnelRateBatch = med(runs.tunnelRate_batch, "perSec");
const tunnelRateDgram = med(runs.tunnelRate_dgram, "perSec");
const floodSyn = med(runs.floodCookies, "synsPerSec");
const floodCookieRate = med(runs.floodCookies, "cookiesPerSec");
const floodDrops = med(runs.floodNever, "dropsPerSec");
const floodNeverSyn = med(runs.floodNever, "synsPerSec");
const everyClientIn = (r) => ok(r) && r.connected === r.clients && r.accepted === r.clients;
const rate = (x) => `${Math.round(x).toLocaleString("en-US")}/s`;
const heap = runs.heap;
const tm = ok(runs.trace) ? runs.trace.modes : undefined;
const tNone = tm?.none.gbps ?? NaN;
const tHub = tm?.hub.gbps ?? NaN;
const tNoop = tm?.noop.gbps ?? NaN;

/** A bulk row: the median of `rs` against node:net's loopback, met at `target` x. */
const bulkRow = (label, rs, gbps, target) => ({
  name: `Bulk, ${label} (${BULK_MIB} MiB, warm)`,
  synack: `${gbps.toFixed(2)} Gbit/s`,
  ref: `${netGbps.toFixed(2)} Gbit/s`,
  ratio: gbps / netGbps,
  target: `>= ${target}x node:net`,
  met: allOk(rs) && gbps / netGbps >= target,
});

const rows = [
  bulkRow("MTU 1500", runs.bulk1500, b1500, 0.6),
  bulkRow("MTU 1500, glibc keeping freed memory (MALLOC_TRIM_THRESHOLD_)", runs.bulk1500Trim, b1500Trim, 0.6),
  bulkRow("MTU 1500, checksum offload as loopback", runs.bulk1500Offload, b1500Offload, 0.6),
  bulkRow("MTU 1500, receive batches as synack's links deliver (an ACK per batch or 64 KiB, as per GRO packet)", runs.bulk1500Batch, b1500Batch, 0.6),
  bulkRow("MTU 1500, receive batches and checksum offload", runs.bulk1500BatchOffload, b1500BatchOffload, 0.6),
  bulkRow("MTU 1500, TSO/GSO and GRO as Linux's veth", runs.bulk1500Gso, b1500Gso, 0.6),
  bulkRow("MTU 65535", runs.bulk65535, b65535, 1.2),
  bulkRow("MTU 65535, checksum offload as loopback", runs.bulk65535Offload, b65535Offload, 1.2),
  {
    name: `UDP tunnel, TCP bulk (${TUNNEL_MIB} MiB), batched; ref dgram`,
    synack: `${tunnelBatch.toFixed(0)} Mbit/s`,
    ref: `${tunnelDgram.toFixed(0)} Mbit/s`,
    ratio: tunnelBatch / tunnelDgram,
    target: "> 1x node:dgram",
    met: allOk(runs.tunnelTcp_batch) && tunnelBatch > tunnelDgram,
  },
  {
    name: "UDP tunnel, 1400 B datagrams/s, batched; ref dgram",
    synack: rate(tunnelRateBatch),
    ref: rate(tunnelRateDgram),
    ratio: tunnelRateBatch / tunnelRateDgram,
    target: "> 1x node:dgram",
    met: allOk(runs.tunnelRate_batch) && tunnelRateBatch > tunnelRateDgram,
  },
  {
    name: `Connections/s, engine (100 B each way; after ${CONN_WARMUP.toLocaleString("en-US")} warm-up)`,
    synack: `${Math.round(conn).toLocaleString("en-US")}/s`,
    ref: `${Math.round(netConn).toLocaleString("en-US")}/s`,
    ratio: conn / netConn,
    target: ">= 100,000/s",
    met: allOk(runs.conn) && conn >= 100_000,
  },
  {
    name: `Connections/s, node:net API (${API_CONCURRENCY} in flight; after ${NET_CONN_WARMUP.toLocaleString("en-US")} warm-up)`,
    synack: rate(apiConn),
    ref: rate(apiNetConn),
    ratio: apiConn / apiNetConn,
    target: ">= 3x node:net",
    met: apiConn / apiNetConn >= 3,
  },
  {
    name: "SYN flood, cookies: SYNs/s absorbed",
    synack: rate(floodSyn),
    ref: "n/a (kernel path)",
    ratio: NaN,
    target: `all ${FLOOD_CLIENTS} clients get in`,
    met: allOk(runs.floodCookies) && runs.floodCookies.every(everyClientIn),
  },
  {
    name: "SYN flood, no cookies: drops/s",
    synack: rate(floodDrops),
    ref: "n/a",
    ratio: NaN,
    target: "- (info)",
    met: undefined,
  },
  {
    name: "Heap per idle ESTABLISHED end",
    synack: ok(heap) ? `${Math.round(heap.perEndBytes).toLocaleString("en-US")} B` : "error",
    ref: "n/a (kernel memory)",
    ratio: NaN,
    target: "<= 1 KiB (1,024 B)",
    met: ok(heap) && heap.perEndBytes <= 1024,
  },
  {
    // The second batch (code warm, tables already grown) is what one more entry costs; the
    // first also holds what V8 compiled on the way. Both are printed; the target is judged
    // on the second when it ran.
    name: "Heap per TIME_WAIT entry, warm (first batch)",
    synack: ok(heap) ? `${heap.timeWaitSecondBatchPerEntryBytes !== undefined ? `${Math.round(heap.timeWaitSecondBatchPerEntryBytes).toLocaleString("en-US")} B ` : ""}(${Math.round(heap.timeWaitPerConnBytes).toLocaleString("en-US")} B)` : "error",
    ref: "Linux 248 B",
    ratio: NaN,
    target: "< 248 B",
    met: ok(heap) && (heap.timeWaitSecondBatchPerEntryBytes ?? heap.timeWaitPerConnBytes) < 248,
  },
  {
    name: "Heap per half-open (SYN_RCVD) entry",
    synack: ok(heap) && heap.halfOpenPerEntryBytes !== undefined ? `${Math.round(heap.halfOpenPerEntryBytes).toLocaleString("en-US")} B` : "error",
    ref: "Linux 312 B",
    ratio: NaN,
    target: "< 312 B",
    met: ok(heap) && heap.halfOpenPerEntryBytes < 312,
  },
  {
    name: "Playground: slowest scenario drawn after opening the page",
    synack: ok(runs.pageLoad) ? `${runs.pageLoad.slowestMs.toLocaleString("en-US")} ms (${runs.pageLoad.slowest})` : runs.pageLoad.outcome,
    ref: ok(runs.pageLoad) ? `handshake ${runs.pageLoad.handshakeMs} ms` : "n/a",
    ratio: ok(runs.pageLoad) ? runs.pageLoad.slowestMs / runs.pageLoad.handshakeMs : NaN,
    target: "< 1,000 ms",
    met: ok(runs.pageLoad) && runs.pageLoad.slowestMs < 1000,
  },
];

const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
// Rounds of the three modes are adjacent in time, so their ratio cancels most machine noise.
const paired = (mode) => tm?.[mode].change ?? NaN;
const pairedCpu = (mode) => tm?.[mode].changeCpu ?? NaN;
const eventsPerPacket = tm?.noop.eventsPerPacket ?? NaN;
const traceRows = [
  { name: "no trace option (NULL_SINK)", mode: "none", vs: "baseline", vsCpu: "baseline" },
  { name: "TraceHub, no subscriber", mode: "hub", vs: pct(paired("hub")), vsCpu: pct(pairedCpu("hub")) },
  { name: "TraceHub, one counting subscriber", mode: "noop", vs: pct(paired("noop")), vsCpu: `${pct(pairedCpu("noop"))}  (${eventsPerPacket.toFixed(1)} events/packet)` },
];

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}
const out = [];
out.push("");
out.push(`synack benchmarks - ${new Date().toISOString()} - node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), ${reps} rep(s), medians`);
out.push(`load average (1 min) at start ${load0.toFixed(2)}, at end ${os.loadavg()[0].toFixed(2)}: above the CPU count means other work shared the machine`);
out.push("");
const head = [pad("benchmark", 44), pad("synack", 14), pad("node:net loopback", 20), pad("ratio", 8), pad("target", 24), "met"];
out.push(head.join(" "));
out.push("-".repeat(118));
for (const r of rows) {
  out.push(
    [
      pad(r.name, 44),
      pad(r.synack, 14),
      pad(r.ref, 20),
      pad(Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : "-", 8),
      pad(r.target, 24),
      r.met === undefined ? "" : r.met ? "yes" : "NO",
    ].join(" "),
  );
}
out.push("");
out.push(`trace overhead: bulk MTU 1500, ${TRACE_ORDERS.length} processes (each mode's pair made first in one) x ${TRACE_ROUNDS_EACH} rounds of ${TRACE_MIB} MiB per mode, medians; change = median of per-round ratios`);
out.push([pad("", 36), pad("wall clock", 24), "CPU time (user+sys)"].join(" "));
out.push("-".repeat(100));
const g = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} Gbit/s` : "-");
for (const r of traceRows) {
  const m = tm?.[r.mode];
  out.push([pad(r.name, 44), pad(`${g(m?.gbps)} ${r.vs}`, 24), `${g(m?.gbpsCpu)} ${r.vsCpu}`].join(" "));
}
const spread = (m, cpu) => (tm ? (cpu ? `${tm[m].minCpu.toFixed(2)}-${tm[m].maxCpu.toFixed(2)}` : `${tm[m].min.toFixed(2)}-${tm[m].max.toFixed(2)}`) : "-");
out.push(`(round-to-round range, wall: none ${spread("none")}, hub ${spread("hub")}, counting ${spread("noop")}; CPU: ${spread("none", 1)}, ${spread("hub", 1)}, ${spread("noop", 1)} Gbit/s)`);
out.push("");
out.push(`SYN flood: ${FLOOD_SYNS.toLocaleString("en-US")} spoofed SYNs fed to a listener (SYN queue 1024) as fast as it takes them, ${FLOOD_CLIENTS} legitimate clients connecting meanwhile; medians. No node:net reference (the kernel's SYN path needs raw sockets).`);
for (const [label, rs] of [["cookies on overflow", runs.floodCookies], ["cookies off", runs.floodNever]]) {
  const good = rs.filter(ok);
  const m = (k) => median(good.map((r) => r[k]));
  const ins = good.map((r) => `${r.connected}/${r.clients}`).join(", ");
  const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} ms` : "-");
  out.push(
    `  ${pad(label, 20)} ${rate(m("synsPerSec"))} SYNs, cookies sent ${rate(m("cookiesPerSec"))}, dropped ${rate(m("dropsPerSec"))}; ` +
      `clients in: ${ins || "-"}; handshake median ${ms(m("handshakeMsMedian"))}, max ${ms(m("handshakeMsMax"))}; ` +
      `server connections at the end ${Math.round(m("serverConnsAtEnd"))}, heap growth ${m("heapGrowthMiB").toFixed(1)} MiB`,
  );
}
out.push("");
const notes = [];
const c1500 = med(runs.bulk1500, "gbpsCpu");
const c65535 = med(runs.bulk65535, "gbpsCpu");
if (Number.isFinite(c1500)) notes.push(`bulk per CPU-second of the synack process: MTU 1500 ${c1500.toFixed(2)}, MTU 65535 ${c65535.toFixed(2)} Gbit/s`);
// The warm-up transfers themselves: what a fresh process gets from its first connection.
const coldBulk = (rs) => median(rs.filter(ok).map((r) => r.cold?.gbps));
const coldNet = coldBulk(runs.netBulk);
const coldRow = (label, rs) => `${label} ${coldBulk(rs).toFixed(2)} (${(coldBulk(rs) / coldNet).toFixed(2)}x)`;
if (Number.isFinite(coldNet)) {
  notes.push(
    `bulk cold (the first ${BULK_WARMUP_MIB} MiB warm-up transfer in its process), Gbit/s: node:net ${coldNet.toFixed(2)}; ` +
      [coldRow("MTU 1500", runs.bulk1500), coldRow("offload", runs.bulk1500Offload), coldRow("batches", runs.bulk1500Batch), coldRow("batches+offload", runs.bulk1500BatchOffload), coldRow("GSO/GRO", runs.bulk1500Gso), coldRow("MTU 65535", runs.bulk65535), coldRow("offload", runs.bulk65535Offload)].join(", "),
  );
}
const ppc = med(runs.conn, "packetsPerConn");
const appc = med(runs.apiConn, "packetsPerConn");
if (Number.isFinite(ppc)) notes.push(`connections/s: ${ppc.toFixed(1)} packets per connection (engine), ${appc.toFixed(1)} (node:net API)`);
if (Number.isFinite(coldConn)) notes.push(`connections/s cold (warm-up included, from the first connect): engine ${Math.round(coldConn).toLocaleString("en-US")}/s vs node:net ${Math.round(coldNetConn).toLocaleString("en-US")}/s; node:net API ${Math.round(coldApiConn).toLocaleString("en-US")}/s vs ${Math.round(coldApiNetConn).toLocaleString("en-US")}/s (${(coldApiConn / coldApiNetConn).toFixed(2)}x)`);
{
  const apiSemi = med(runs.apiConnSemi, "perSec");
  const apiNetSemi = med(runs.apiNetConnSemi, "perSec");
  const each = (rs) => rs.map((r) => (ok(r) ? Math.round(r.perSec).toLocaleString("en-US") : r.outcome)).join(" / ");
  if (Number.isFinite(apiSemi)) {
    notes.push(
      `node:net API with ${SEMI_FLAGS.join(" ")} on both: synack ${rate(apiSemi)} vs node:net ${rate(apiNetSemi)} (${(apiSemi / apiNetSemi).toFixed(2)}x); ` +
        `synack's runs ${each(runs.apiConnSemi)} with it, ${each(runs.apiConn)} without`,
    );
  }
}
const limitedRuns = [...runs.conn, ...runs.netConn, ...runs.apiConn, ...runs.apiNetConn, ...runs.apiConnSemi, ...runs.apiNetConnSemi].filter((r) => r.limited === true);
if (limitedRuns.length > 0) notes.push(`connections/s: ${limitedRuns.length} run(s) stopped opening at the time limit before the count (still valid rates), e.g. ${limitedRuns[0].command}`);
if (ok(heap)) {
  notes.push(
    heap.closedRetainedMs > 0
      ? `heap: closed connections stayed referenced (timer heap) for ${heap.closedRetainedMs} ms after CLOSED`
      : "heap: closed connections were released at once (closedRetainedMs 0)",
  );
}
if (notes.length) out.push("notes:\n  " + notes.join("\n  "));
{
  const lines = ["open connections (bench/scale.js): idle ESTABLISHED connections in one process, then 32 MiB bulk (MTU 1500) and 5,000 connections (100 B each way) beside them",
    "  open        heap/end   heap used   time to open   bulk ns/packet (CPU)   conn rate ns/packet (CPU)   conn/s"];
  for (const r of runs.scale) {
    if (!ok(r)) {
      lines.push(`  ${String(r.count ?? "?").padStart(9)}   ${r.outcome}${r.error ? " " + r.error : ""}`);
      continue;
    }
    const ns = (x) => Math.round(x).toLocaleString("en-US");
    lines.push(
      `  ${r.count.toLocaleString("en-US").padStart(9)}   ${ns(r.perEndBytes).padStart(6)} B   ${(r.heapUsedMiB).toFixed(0).padStart(6)} MiB   ${(r.openMs / 1000).toFixed(1).padStart(9)} s` +
        `   ${ns(r.bulk.nsPerPacket).padStart(8)} (${ns(r.bulk.cpuNsPerPacket)})`.padEnd(24) +
        `   ${ns(r.rate.nsPerPacket).padStart(8)} (${ns(r.rate.cpuNsPerPacket)})`.padEnd(29) +
        `   ${ns(r.rate.perSec)}`,
    );
  }
  if (!SCALE_COUNTS.includes(1_000_000)) lines.push("  (1,000,000 with --million: about 1.7 GB of heap, node --max-old-space-size=4096)");
  out.push(lines.join("\n"));
}
const problems = [];
const traceModes = tm ? Object.entries(tm).map(([mode, m]) => ({ ...m, outcome: "done", command: `${runs.trace.command} (${mode})` })) : [runs.trace];
const floodRuns = [...runs.floodCookies, ...runs.floodNever];
const everyRun = [...runs.scale, ...runs.bulk1500, ...runs.bulk1500Trim, ...runs.bulk1500Offload, ...runs.bulk1500Batch, ...runs.bulk1500BatchOffload, ...runs.bulk1500Gso, ...runs.bulk65535, ...runs.bulk65535Offload, ...runs.netBulk, ...runs.conn, ...runs.netConn, ...runs.apiConn, ...runs.apiNetConn, ...runs.apiConnSemi, ...runs.apiNetConnSemi, ...floodRuns, heap, ...traceModes];
for (const r of everyRun) {
  if (!ok(r)) problems.push(`${r.command}: ${r.outcome}${r.error ? " " + r.error : ""}`);
  if (r.corrupt > 0) problems.push(`${r.command}: ${r.corrupt} reads did not match the sent pattern`);
  if (r.errors > 0) problems.push(`${r.command}: ${r.errors} connection errors (first: ${r.firstError})`);
  if (r.retransmits > 0) problems.push(`${r.command}: ${r.retransmits} retransmissions on a lossless link`);
}
for (const r of runs.floodCookies) {
  if (ok(r) && !everyClientIn(r)) problems.push(`${r.command}: only ${r.connected} of ${r.clients} legitimate clients connected (${r.accepted} accepted) during the flood`);
  if (ok(r) && r.clientErrors > 0) problems.push(`${r.command}: ${r.clientErrors} legitimate clients failed`);
}
const waited = everyRun.filter((r) => r.idleWaits > 0);
if (waited.length > 0) {
  const ms = waited.map((r) => r.idleMs);
  problems.push(
    `${waited.length} of ${everyRun.filter((r) => r.idleWaits !== undefined).length} synack runs sat idle waiting for an engine timer ` +
      `(${Math.min(...ms)}-${Math.max(...ms)} ms per run, included in their figures), e.g. ${waited[0].command}`,
  );
}
// Real links (issue 5): synack against the kernel over TUN and through the impairment
// relay, next to kernel-to-kernel; needs root and /dev/net/tun, otherwise said and skipped.
out.push("");
const realLinks = measureRealLinks();
if (realLinks.figures !== undefined) {
  out.push("real links (test/interop/measure.ts: TUN devices in namespaces it creates; kernel congestion control " + realLinks.cc + "):");
  // With the load when each was taken: the TUN sender's ratio moves with it (measure.ts Figure.load).
  for (const f of realLinks.figures) out.push(`  ${f.name.padEnd(44)} ${String(f.mib).padStart(4)} MiB  ${f.mbps.toFixed(1).padStart(8)} Mbit/s  load ${f.load?.toFixed(1) ?? "?"}`);
  // Issue 13's TUN target: each direction at least half of the kernel over a veth pair, same
  // run; each the second of two back-to-back transfers (the "(first)" rows are printed above).
  const fig = (prefix) => realLinks.figures.find((f) => f.name.startsWith(prefix))?.mbps ?? NaN;
  const veth = fig("kernel->kernel over veth");
  for (const dir of ["kernel->synack over TUN", "synack->kernel over TUN"]) {
    const ratio = fig(dir) / veth;
    out.push(`  ${`${dir} / kernel over veth`.padEnd(44)} ${ratio.toFixed(2)}x   target >= 0.5x   met: ${ratio >= 0.5 ? "yes" : "NO"}`);
  }
} else {
  out.push(`real links: not measured (${realLinks.reason})`);
}
// Issue 12's measures: goodput through the relay at three loss rates, kernel as the reference.
// Loss-based congestion control against the kernel's Reno (the only loss-based choice a
// namespace may pick here), with the short-flow tail; then BBR against the kernel's BBR.
// "+pacing": the same algorithm paced as Linux under fq (TcpConfig.pacing), beside the default.
const lossTable = measureLossTable(["--cc", "reno,cubic,cubic+pacing"]);
const bbrTable = measureLossTable(["--cc", "bbr", "--kernel-cc", "bbr", "--skip-tail"]);
// CUBIC against the kernel's own CUBIC: a namespace may not make it the default, but root
// may pick it per socket (peer.py send --cc), so the like-for-like reference exists too.
const cubicTable = measureLossTable(["--cc", "cubic,cubic+pacing", "--kernel-cc", "cubic", "--skip-tail"]);
runs.lossTable = lossTable;
runs.bbrTable = bbrTable;
runs.cubicTable = cubicTable;
const relayRows = (t) => {
  out.push(`goodput through the impairment relay (test/interop/loss-table.ts; ${t.bytes / 1048576} MiB at 1% loss, more at 0.1%, ${t.delay} ms each way, median of ${t.reps}, losses paired by byte-stream place; kernel ${t.kernelCc}; ratio = median of per-run ratios), target >= 1.0x in every row:`);
  const ccs = Object.keys(t.rows[0].synackToKernel);
  const width = (cc) => Math.max(26, `synack ${cc}->synack`.length + 2);
  out.push(`  ${pad("loss", 7)}${pad("kernel->kernel", 17)}${ccs.map((cc) => pad(`synack ${cc}->kernel`, width(cc)) + pad(`synack ${cc}->synack`, width(cc))).join("")}`);
  for (const r of t.rows) {
    const cell = (v, ratio) => `${v.toFixed(2)} (${ratio.toFixed(2)}x)`;
    out.push(`  ${pad(`${r.loss * 100}%`, 7)}${pad(`${r.kernelMbps.toFixed(2)} Mbit/s`, 17)}${ccs.map((cc) => pad(cell(r.synackToKernel[cc], r.ratioToKernel[cc]), width(cc)) + pad(cell(r.synackToSynack[cc], r.ratioToSynack[cc]), width(cc))).join("")}`);
  }
  // How late the relay delivered what it held back: alike for every path, or the table is not comparing like with like.
  if (t.lateness !== undefined) out.push(`  relay lateness, median / largest of the transfers' means: ${Object.entries(t.lateness).map(([p, l]) => `${p} ${l.medianMs.toFixed(2)} / ${l.maxMs.toFixed(2)} ms`).join(", ")}`);
  return ccs;
};
if (lossTable.rows !== undefined) {
  out.push("");
  const ccs = relayRows(lossTable);
  const tailLine = (t, what) => `  100 KB, ${what}: kernel ${(t.kernelSeconds * 1000).toFixed(0)} ms; ${ccs.map((cc) => `synack ${cc} ${(t.synackSeconds[cc] * 1000).toFixed(0)} ms (${(t.synackSeconds[cc] / t.kernelSeconds).toFixed(2)}x)`).join("; ")}`;
  out.push("short-flow tail, both senders in the same write pattern (target: within 1.1x of the kernel sender):");
  out.push(tailLine(lossTable.tails[0], "last data segment, carrying the FIN, dropped once"));
  out.push(tailLine(lossTable.tails[1], "last data segment dropped once, FIN sent alone after it"));
  out.push(tailLine(lossTable.clean, "the same transfer without the drop"));
  for (const t of lossTable.tails) if (t.misplaced > 0) problems.push(`short-flow tail, FIN ${t.fin}: ${t.misplaced} run(s) dropped a segment whose FIN flag did not match the write pattern`);
} else {
  out.push(`relay loss table: not measured (${lossTable.reason})`);
}
if (bbrTable.rows !== undefined) relayRows(bbrTable);
else out.push(`relay BBR table: not measured (${bbrTable.reason})`);
if (cubicTable.rows !== undefined) relayRows(cubicTable);
else out.push(`relay CUBIC table: not measured (${cubicTable.reason})`);
out.push(problems.length ? "problems:\n  " + problems.join("\n  ") : "no stalls, errors, corruption or retransmissions in any run");
out.push(`total time ${((Date.now() - started) / 1000).toFixed(1)} s; raw results in bench/results.json`);
console.log(out.join("\n"));

const summary = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  loadAverage: { start: load0, end: os.loadavg()[0] },
  reps,
  medians: { bulk1500Gbps: b1500, bulk1500ColdGbps: median(runs.bulk1500.filter(ok).map((r) => r.cold?.gbps)), netBulkColdGbps: median(runs.netBulk.filter(ok).map((r) => r.cold?.gbps)), bulk1500TrimGbps: b1500Trim, bulk1500GsoGbps: b1500Gso, bulk1500BatchGbps: b1500Batch, bulk1500BatchOffloadGbps: b1500BatchOffload, bulk65535Gbps: b65535, bulk65535OffloadGbps: b65535Offload, bulk1500GbpsCpu: c1500, bulk65535GbpsCpu: c65535, netBulkGbps: netGbps, connPerSec: conn, netConnPerSec: netConn, apiConnPerSec: apiConn, apiNetConnPerSec: apiNetConn, floodCookiesSynsPerSec: floodSyn, floodCookiesSentPerSec: floodCookieRate, floodNeverSynsPerSec: floodNeverSyn, floodNeverDropsPerSec: floodDrops, heapPerEndBytes: heap.perEndBytes, heapTimeWaitBytes: heap.timeWaitPerConnBytes, heapTimeWaitWarmBytes: heap.timeWaitSecondBatchPerEntryBytes, heapHalfOpenBytes: heap.halfOpenPerEntryBytes, traceNoneGbps: tNone, traceHubGbps: tHub, traceNoopGbps: tNoop, traceHubChange: paired("hub"), traceNoopChange: paired("noop"), traceHubChangeCpu: pairedCpu("hub"), traceNoopChangeCpu: pairedCpu("noop"), traceEventsPerPacket: eventsPerPacket },
  targets: rows.map((r) => ({ name: r.name, target: r.target, met: r.met })),
  problems,
  runs,
};
writeFileSync(path.join(here, "results.json"), JSON.stringify(summary, null, 2) + "\n");
if (a.json === true) console.log(JSON.stringify(summary.medians));
