// Bulk throughput: one synack connection between two Hosts on the in-memory link,
// client -> server, `--mib` MiB in 64 KiB application writes.
//
//   node bench/bulk.js --mtu 1500 --mib 256 [--trace none|hub|noop] [--nodelay] [--sndbuf B] [--rcvbuf B] [--offload] [--limit 60000]
//
// --offload: Host checksumOffload on both ends, as the kernel's loopback skips checksums.
//
// --trace none: no trace option (the Host's NULL_SINK); hub: a TraceHub nobody subscribed
// to; noop: a TraceHub with one subscriber that does nothing but count the events.
// Prints one JSON line. Time is measured from the first write to the last byte read.
import { performance } from "node:perf_hooks";
import { TraceHub } from "../dist/src/trace/events.js";
import { args, emitResult, gbps, makePair, mib, patternBlock, SERVER_ADDR, CLIENT_ADDR } from "./lib.js";

const a = args();
const mtu = Number(a.mtu ?? 1500);
const total = mib(Number(a.mib ?? 256));
const traceMode = a.trace ?? "none";
const limitMs = Number(a.limit ?? 60_000);
const BLOCK = 64 * 1024;

let trace;
let events = 0;
if (traceMode !== "none") {
  trace = new TraceHub();
  // "noop": the subscriber only counts, so the events are really built and delivered.
  if (traceMode === "noop") trace.subscribe(() => events++);
}

// --nodelay: Nagle off on both ends; --sndbuf / --rcvbuf: buffer sizes in bytes.
const tcp = {};
if (a.nodelay === true) tcp.noDelay = true;
if (a.sndbuf !== undefined) tcp.sendBufferSize = Number(a.sndbuf);
if (a.rcvbuf !== undefined) tcp.receiveBufferSize = Number(a.rcvbuf);
const pair = makePair({ mtu, trace, tcp, offload: a.offload === true });
const { client, server } = pair;
const listener = server.tcp.listen(5001);
const c = client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: 5001 });
let s;
const hs = pair.run(() => c.state === "ESTABLISHED" && (s ??= listener.accept()) !== undefined, undefined, 5000);
if (hs !== "done") fail(`handshake did not complete (${hs}): client ${c.state}`);

const block = patternBlock(BLOCK);
let sent = 0;
let received = 0;
let corrupt = 0;
let reads = 0;

function fill() {
  while (sent < total) {
    const off = sent % BLOCK;
    const want = Math.min(BLOCK - off, total - sent);
    const n = c.send(off === 0 && want === BLOCK ? block : block.subarray(off, off + want));
    if (n === 0) return;
    sent += n;
  }
}

function drain() {
  for (;;) {
    const d = s.read();
    if (d.length === 0) return;
    reads++;
    // Spot-check the stream: first and last byte of every read against the pattern.
    if (d[0] !== block[received % BLOCK] || d[d.length - 1] !== block[(received + d.length - 1) % BLOCK]) corrupt++;
    received += d.length;
  }
}

c.onWake = fill;
s.onWake = drain;
const packets0 = pair.packets;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
fill();
const outcome = pair.run(() => received >= total, undefined, limitMs);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
// CPU time of this process (user + system) during the transfer: less sensitive than wall
// time to other work on a shared machine. Idle waits for timers spin, so they count too.
const cpuMs = (cpu.user + cpu.system) / 1000;

const ci = c.inspect();
const si = s.inspect();
const result = {
  bench: "bulk",
  mtu,
  trace: traceMode,
  noDelay: a.nodelay === true,
  outcome,
  bytes: received,
  ms,
  gbps: gbps(received, ms),
  cpuMs,
  gbpsCpu: gbps(received, cpuMs),
  corrupt,
  reads,
  packets: pair.packets - packets0,
  idleWaits: pair.idleWaits,
  idleMs: Math.round(pair.idleMs),
  sendMss: ci.sendMss,
  retransmits: ci.retransmits,
  clientSegmentsOut: ci.segmentsOut,
  serverSegmentsOut: si.segmentsOut,
  events,
};
if (outcome !== "done") {
  result.stall = { sent, received, client: ci, server: si, clientDeadline: client.nextDeadline(), serverDeadline: server.nextDeadline(), now: pair.now() };
}
emitResult(result);

function fail(msg) {
  emitResult({ bench: "bulk", mtu, trace: traceMode, outcome: "error", error: msg });
  process.exit(1);
}
