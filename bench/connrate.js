// Connections per second: open, one request/response exchange (100 bytes each way), close,
// over the in-memory link between two synack Hosts, with `--concurrency` connections in
// flight (a finished one immediately starts the next).
//
//   node bench/connrate.js --count 60000 --concurrency 100 [--warmup 10000] [--limit 10000]
//
// --warmup N: N connections first, the same way, not counted: the rate is that of the
// --count connections after them (steady state; V8 compiles the hot code in the first few
// thousand, which alone take about as long as the next 40,000). `coldPerSec` is the rate
// over all of them, from the first connect.
//
// One connection: connect() and write the request at once (it leaves after the
// handshake); the server accepts, reads the 100-byte request, writes a 100-byte response;
// the client reads it and close()s (FIN); the server sees the FIN and close()s; the
// connection counts as done when the client reaches TIME_WAIT (both FINs exchanged and
// the response read), as node:net's client 'close' does.
//
// The client closes first, so every finished connection leaves a TIME_WAIT entry (Linux
// default 2 MSL = 60 s) on the client for the rest of the run. 4-tuples must therefore
// not repeat: the server listens on 5 ports, used round-robin; with 28,232 ephemeral
// ports (coprime with 5) that gives 141,160 distinct 4-tuples, more than --count.
import { performance } from "node:perf_hooks";
import { args, emitResult, makePair, patternBlock, SERVER_ADDR, CLIENT_ADDR } from "./lib.js";

const a = args();
const count = Number(a.count ?? 60_000);
const warmup = Number(a.warmup ?? 0);
const total = warmup + count;
const concurrency = Number(a.concurrency ?? 100);
const limitMs = Number(a.limit ?? 10_000);
const SIZE = 100;
const PORTS = [8000, 8001, 8002, 8003, 8004];
if (total > 141_160) throw new Error("--warmup + --count above 141160 would repeat 4-tuples still in TIME_WAIT");

const request = patternBlock(SIZE);
const response = patternBlock(SIZE).reverse();

const pair = makePair();
const { client, server } = pair;
let started = 0;
let done = 0;
let serverClosed = 0;
let errors = 0;
let firstError;

for (const port of PORTS) {
  const l = server.tcp.listen(port, 4096);
  l.onConnection = (lst) => {
    for (let s = lst.accept(); s !== undefined; s = lst.accept()) serve(s);
  };
}

function serve(s) {
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
    if (s.state === "CLOSED") {
      serverClosed++;
      s.onWake = undefined;
      if (s.error !== undefined) noteError(s.error);
    }
  };
  s.onWake = wake;
  wake();
}

function open() {
  const port = PORTS[started % PORTS.length];
  started++;
  const c = client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: port });
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
      if (c.error !== undefined) noteError(c.error);
      done++;
      if (done === warmup) warmAt = performance.now();
      if (started < total) open();
    }
  };
  c.send(request);
}

function noteError(e) {
  errors++;
  firstError ??= `${e.code}: ${e.message}`;
}

const heap0 = process.memoryUsage().heapUsed;
const t0 = performance.now();
/** When the warm-up's last connection finished: the measured part starts there. */
let warmAt = t0;
for (let i = 0; i < concurrency && started < total; i++) open();
const outcome = pair.run(() => done >= total, undefined, limitMs);
const end = performance.now();
const ms = end - warmAt;
const heap1 = process.memoryUsage().heapUsed;

const result = {
  bench: "connrate",
  outcome,
  count,
  warmup,
  concurrency,
  done,
  serverClosed,
  errors,
  firstError,
  ms,
  perSec: (Math.max(done - warmup, 0) / ms) * 1000,
  coldPerSec: (done / (end - t0)) * 1000,
  packets: pair.packets,
  packetsPerConn: pair.packets / Math.max(done, 1),
  idleWaits: pair.idleWaits,
  idleMs: Math.round(pair.idleMs),
  clientConnections: client.tcp.allConnections().length,
  heapGrowthMiB: (heap1 - heap0) / 1048576,
};
if (outcome !== "done") {
  const states = {};
  for (const c of client.tcp.allConnections()) states["client " + c.state] = (states["client " + c.state] ?? 0) + 1;
  for (const c of server.tcp.allConnections()) states["server " + c.state] = (states["server " + c.state] ?? 0) + 1;
  result.stall = { started, states };
}
emitResult(result);
