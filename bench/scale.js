// Many concurrent connections in one process (issue 13 item 2): opens --count ESTABLISHED
// connections between two synack Hosts on the in-memory link (one client address, the
// whole port range 1024-65535 as ephemeral ports, and as many server ports as the count
// needs: 64,512 4-tuples per server port), then, with all of them open and idle:
//
//   - heap per idle end: heapUsed after forced GCs minus before the first connect, divided
//     by 2 * count (client and server ends are both in this process);
//   - time to open them (connects issued 500 at a time, handshakes run in between);
//   - per-packet cost of a bulk transfer (--bulk-mib MiB, MTU 1500) on one more connection;
//   - per-packet cost of the connection rate: --rate connections (100 B each way, close,
//     100 in flight, as connrate.js) on a server port of their own.
//
// The per-packet figures are wall time / packets through the engine; the curve over
// 1k / 10k / 100k / 1M open connections says whether the cost stays flat.
//
//   node --expose-gc bench/scale.js --count 100000 [--bulk-mib 64] [--rate 20000]
//   node --expose-gc --max-old-space-size=4096 bench/scale.js --count 1000000   # about 1.7 GB of heap
//
// bench/run.js runs 1k, 10k and 100k; 1M only with `node bench/run.js --million` (it takes
// a minute and 1.7 GB; see BENCHMARKS.md for the --max-old-space-size it needs).
import { performance } from "node:perf_hooks";
import { args, emitResult, makePair, patternBlock, SERVER_ADDR, CLIENT_ADDR } from "./lib.js";

if (typeof globalThis.gc !== "function") {
  console.error("scale.js needs node --expose-gc");
  process.exit(2);
}
const a = args();
const count = Number(a.count ?? 10_000);
const bulkBytes = Number(a["bulk-mib"] ?? 64) * 1048576;
const rateCount = Number(a.rate ?? 20_000);
const PORTS_PER_SERVER_PORT = 65535 - 1024 + 1;
const BASE_PORT = 10_000;
const serverPorts = Math.max(1, Math.ceil(count / PORTS_PER_SERVER_PORT));
const RATE_PORT = 9_000;
const BULK_PORT = 9_001;

function heap() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const pair = makePair({ tcp: { ephemeralPorts: [1024, 65535], synQueueSize: 4096 } });
const { client, server } = pair;
let accepted = 0;
const listen = (port, onConn) => {
  const l = server.tcp.listen(port, 4096);
  l.onConnection = (lst) => {
    for (let s = lst.accept(); s !== undefined; s = lst.accept()) onConn(s);
  };
};
for (let p = 0; p < serverPorts; p++) listen(BASE_PORT + p, () => accepted++);

const base = heap();
const t0 = performance.now();
const cpuOpen0 = process.cpuUsage();
let opened = 0;
const idle = [];
for (let i = 0; i < count; i++) {
  // Connections are only held by the layers; the benchmark keeps a few to check on.
  const c = client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: BASE_PORT + Math.floor(i / PORTS_PER_SERVER_PORT) });
  if (i % 1000 === 0) idle.push(c);
  if (i % 500 === 499) pair.pump(pair.now());
}
let outcome = pair.run(() => accepted === count && pair.nextDeadline() === Infinity, undefined, 600_000);
const openMs = performance.now() - t0;
const cpuOpen = process.cpuUsage(cpuOpen0);
opened = accepted;
const afterOpen = heap();
const perEnd = (afterOpen - base) / (2 * count);
const packetsOpen = pair.packets;

// Bulk on one more connection, all the others idle.
let bulk;
{
  let s;
  listen(BULK_PORT, (x) => (s = x));
  const c = client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: BULK_PORT });
  pair.run(() => c.state === "ESTABLISHED" && s !== undefined, undefined, 10_000);
  const block = patternBlock(65536);
  let sent = 0;
  let received = 0;
  const fill = () => {
    while (sent < bulkBytes) {
      const n = c.send(block.subarray(0, Math.min(65536, bulkBytes - sent)));
      if (n === 0) return;
      sent += n;
    }
  };
  c.onWake = fill;
  s.onWake = () => {
    for (let d = s.read(); d.length > 0; d = s.read()) received += d.length;
  };
  const p0 = pair.packets;
  const b0 = performance.now();
  const cpu0 = process.cpuUsage();
  fill();
  const o = pair.run(() => received >= bulkBytes, undefined, 120_000);
  const ms = performance.now() - b0;
  const cpu = process.cpuUsage(cpu0);
  const packets = pair.packets - p0;
  bulk = { outcome: o, ms, packets, nsPerPacket: (ms * 1e6) / packets, cpuNsPerPacket: ((cpu.user + cpu.system) * 1e3) / packets, gbps: (received * 8) / (ms * 1e6) };
  c.abort();
  pair.pump(pair.now());
}

// Connection rate on its own server port (4-tuples never repeat: at most 64,512).
let rate;
{
  const SIZE = 100;
  const request = patternBlock(SIZE);
  const response = patternBlock(SIZE).reverse();
  let started = 0;
  let done = 0;
  let errors = 0;
  listen(RATE_PORT, (s) => {
    let got = 0;
    let replied = false;
    let closed = false;
    const wake = () => {
      for (let d = s.read(); d.length > 0; d = s.read()) got += d.length;
      if (!replied && got >= SIZE) {
        s.send(response);
        replied = true;
      }
      if (!closed && s.peerFinished) {
        s.close();
        closed = true;
      }
      if (s.state === "CLOSED") s.onWake = undefined;
    };
    s.onWake = wake;
    wake();
  });
  const open = () => {
    started++;
    const c = client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: RATE_PORT });
    let got = 0;
    let closed = false;
    c.onWake = () => {
      for (let d = c.read(); d.length > 0; d = c.read()) got += d.length;
      if (!closed && got >= SIZE) {
        c.close();
        closed = true;
      }
      if (c.state === "TIME_WAIT" || c.state === "CLOSED") {
        c.onWake = undefined;
        if (c.error !== undefined) errors++;
        done++;
        if (started < rateCount) open();
      }
    };
    c.send(request);
  };
  const n = Math.min(rateCount, 60_000);
  const p0 = pair.packets;
  const r0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < 100 && started < n; i++) open();
  const o = pair.run(() => done >= n, undefined, 120_000);
  const ms = performance.now() - r0;
  const cpu = process.cpuUsage(cpu0);
  const packets = pair.packets - p0;
  rate = { outcome: o, count: done, errors, ms, perSec: (done / ms) * 1000, packets, nsPerPacket: (ms * 1e6) / packets, cpuNsPerPacket: ((cpu.user + cpu.system) * 1e3) / packets };
}

const stillOpen = idle.filter((c) => c.state === "ESTABLISHED").length;
emitResult({
  bench: "scale",
  outcome: outcome === "done" && bulk.outcome === "done" && rate.outcome === "done" && stillOpen === idle.length ? "done" : outcome,
  count,
  opened,
  serverPorts,
  openMs,
  openPerSec: (opened / openMs) * 1000,
  openCpuMs: (cpuOpen.user + cpuOpen.system) / 1000,
  packetsToOpen: packetsOpen,
  heapBaseMiB: base / 1048576,
  heapUsedMiB: afterOpen / 1048576,
  perEndBytes: perEnd,
  bulk,
  rate,
  heapLimitMiB: (await import("node:v8")).getHeapStatistics().heap_size_limit / 1048576,
});
