// Bulk throughput: one synack connection between two Hosts on the in-memory link,
// client -> server, `--mib` MiB in 64 KiB application writes.
//
//   node bench/bulk.js --mtu 1500 --mib 256 [--warmup-mib 64 [--warmup-ms 1000]] [--trace none|hub|noop] [--nodelay] [--sndbuf B] [--rcvbuf B] [--offload] [--gso] [--batch] [--cc reno|cubic|bbr] [--limit 60000]
//
// --warmup-mib W: first W MiB over a connection of their own, untimed, then the timed
// transfer over a fresh connection (slow start again, code compiled): the result also
// gives the first transfer's figure (`cold`). V8 compiles the hot paths during the first
// tens of MiB, which run several times slower than the rest (BENCHMARKS.md, fifteenth
// session); net-bulk.js takes the same options, so both sides of a ratio are measured alike.
// --warmup-ms T: warm-up transfers of W MiB, each over a connection of its own, until T ms
// have passed. Counted in bytes alone, a warm-up is over too soon where packets are large:
// at MTU 65535 the first 64 MiB are 1,024 packets, and a new connection's first ones take
// V8 back to slower code (deoptimized on the maps and paths they bring), so a second
// 256 MiB transfer ran at a tenth of the rate the same connection reached later
// (BENCHMARKS.md, twenty-second session).
//
// --offload: Host checksumOffload on both ends, as the kernel's loopback skips checksums.
//
// --gso: segmentation and receive offload on the link, as Linux's veth (and loopback) have
// them: each Host hands a transmission pass's consecutive segments to the link as one
// super-packet (Host gsoMaxSize 65536, src/ip/gso-batch.ts) and the other takes it whole as
// one segment (Host.receive's gsoSize, as from a TUN device's GRO). The engine still builds
// and accounts every MSS-sized segment; what goes once per super-packet is below TCP (the
// packet, its IP header, the checksum, which veth leaves partial, the receiver's segment
// processing and its ACKs). Plain packets, ACKs among them, are checksummed as ever.
//
// --batch: each Host takes the packets queued for it as one receive batch (Host.beginBatch /
// endBatch, src/tcp/batch.ts), as synack's own links hand over a read burst (TUN device, pipe,
// UDP tunnel, through LiveStack): a receiver then ACKs once per batch, and at least every
// 64 KiB, as Linux's receiver does per GRO packet on a NIC with NAPI and GRO, instead of
// every second segment. Packets stay MSS-sized on the link and are each checksummed and
// parsed; what a batch saves is ACKs and transmission passes.
//
// --cc: the congestion control of both ends (TcpConfig.congestionControl; the default's
// otherwise): BBR's per-segment work (delivery-rate snapshots, pacing) shows only with it.
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
if (a.cc !== undefined) tcp.congestionControl = a.cc;
if (a.sndbuf !== undefined) tcp.sendBufferSize = Number(a.sndbuf);
if (a.rcvbuf !== undefined) tcp.receiveBufferSize = Number(a.rcvbuf);
const pair = makePair({ mtu, trace, tcp, offload: a.offload === true, gso: a.gso === true, batch: a.batch === true });
const { client, server } = pair;
const listener = server.tcp.listen(5001);
const block = patternBlock(BLOCK);

// The transfer under way. fill and drain are made once and read it, so that the timed
// transfer after a warm-up runs the same functions, compiled by then.
let t;

function fill() {
  while (t.sent < t.total) {
    const off = t.sent % BLOCK;
    const want = Math.min(BLOCK - off, t.total - t.sent);
    const n = t.c.send(off === 0 && want === BLOCK ? block : block.subarray(off, off + want));
    if (n === 0) return;
    t.sent += n;
  }
}

function drain() {
  for (;;) {
    const d = t.s.read();
    if (d.length === 0) return;
    t.reads++;
    // Spot-check the stream: first and last byte of every read against the pattern.
    if (d[0] !== block[t.received % BLOCK] || d[d.length - 1] !== block[(t.received + d.length - 1) % BLOCK]) t.corrupt++;
    t.received += d.length;
  }
}

/** Opens a connection and sends `bytes` over it; the figures of that transfer. */
function transfer(bytes) {
  const c = client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: 5001 });
  let s;
  const hs = pair.run(() => c.state === "ESTABLISHED" && (s ??= listener.accept()) !== undefined, undefined, 5000);
  if (hs !== "done") fail(`handshake did not complete (${hs}): client ${c.state}`);
  t = { c, s, total: bytes, sent: 0, received: 0, corrupt: 0, reads: 0 };
  c.onWake = fill;
  s.onWake = drain;
  const packets0 = pair.packets;
  const idle0 = { waits: pair.idleWaits, ms: pair.idleMs };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  fill();
  const outcome = pair.run(() => t.received >= bytes, undefined, limitMs);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // CPU time of this process (user + system) during the transfer: less sensitive than wall
  // time to other work on a shared machine. Idle waits for timers spin, so they count too.
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { ...t, outcome, ms, cpuMs, packets: pair.packets - packets0, idleWaits: pair.idleWaits - idle0.waits, idleMs: pair.idleMs - idle0.ms };
}

let cold;
const warmup = mib(Number(a["warmup-mib"] ?? 0));
const warmupMs = Number(a["warmup-ms"] ?? 0);
const warmupStart = performance.now();
let warmupTransfers = 0;
while (warmup > 0 && (warmupTransfers === 0 || performance.now() - warmupStart < warmupMs)) {
  const w = transfer(warmup);
  warmupTransfers++;
  if (w.outcome !== "done" || w.corrupt > 0) fail(`warm-up transfer: ${w.outcome}, ${w.corrupt} corrupt reads`);
  cold ??= { bytes: w.received, ms: w.ms, gbps: gbps(w.received, w.ms), gbpsCpu: gbps(w.received, w.cpuMs) };
  // Closed before the timed transfer, so none of its timers fall due meanwhile (TIME_WAIT's
  // 60 s outlasts the run).
  // Both close at once, so both may pass through CLOSING into TIME_WAIT (RFC 9293 3.6):
  // waiting for the server to reach CLOSED would spin out the whole 5 s limit.
  w.c.close();
  w.s.close();
  const gone = (x) => x.state === "TIME_WAIT" || x.state === "CLOSED";
  const closed = pair.run(() => gone(w.c) && gone(w.s), undefined, 5000);
  if (closed !== "done") fail(`warm-up connection did not close (${closed}): client ${w.c.state}, server ${w.s.state}`);
}
const warmupElapsed = performance.now() - warmupStart;
const { c, s, outcome, ms, cpuMs, received, corrupt, reads, sent, packets, idleWaits, idleMs } = transfer(total);

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
  packets,
  idleWaits,
  idleMs: Math.round(idleMs),
  sendMss: ci.sendMss,
  retransmits: ci.retransmits,
  clientSegmentsOut: ci.segmentsOut,
  serverSegmentsOut: si.segmentsOut,
  events,
  ...(cold !== undefined ? { warmupBytes: warmup, warmupTransfers, warmupMs: Math.round(warmupElapsed), cold } : {}),
};
if (outcome !== "done") {
  result.stall = { sent, received, client: ci, server: si, clientDeadline: client.nextDeadline(), serverDeadline: server.nextDeadline(), now: pair.now() };
}
emitResult(result);

function fail(msg) {
  emitResult({ bench: "bulk", mtu, trace: traceMode, outcome: "error", error: msg });
  process.exit(1);
}
