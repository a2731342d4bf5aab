// Connections per second through the node:net API: connect, write a 100-byte request,
// the server answers 100 bytes, the client end()s, the server (allowHalfOpen false) ends
// too; a connection is done at the client's 'close'. `--concurrency` in flight (a finished
// one starts the next). The same code runs on two stacks:
//
//   --stack kernel (default): Node's own node:net over the kernel loopback (127.0.0.1),
//     client and server in this one process. The reference for connrate.js (the synack
//     engine driven directly) and for --stack synack.
//   --stack synack: synack's node:net-compatible API (`bindNet` from "synack/node") on the
//     two real-time stacks of `loopbackPair()` (10.0.0.1 and 10.0.0.2, joined by the
//     in-process wire that hands packets over on the next turn of the event loop).
//
//   node bench/net-connrate.js [--stack kernel|synack] --count 20000 --concurrency 100 [--warmup 5000] [--limit 10000]
//
// --warmup N: N connections first, the same way, not counted (both stacks' JavaScript is
// compiled by V8 in the first thousands, which run several times slower); `coldPerSec` is
// the rate over all of them, from the first connect.
//
// New connections stop once `--count` were started or `--limit` ms have passed, whichever
// comes first; the run ends when every started connection has closed, and the rate is
// connections done / time to the last close. A run cut by the limit is still a valid
// measurement (`limited: true`); one where connections fail to close within a further
// 10 s is a "timeout".
//
// The client closes first, so each connection leaves a TIME_WAIT entry on the client for
// 60 s. synack never reuses such a 4-tuple, so its server listens on 5 ports used
// round-robin (28,232 ephemeral ports x 5 distinct 4-tuples, as in connrate.js); the kernel
// reference uses one port (Linux reuses loopback TIME_WAIT ports, tcp_tw_reuse = 2).
import net from "node:net";
import { performance } from "node:perf_hooks";
import { args, emitResult, patternBlock } from "./lib.js";

const a = args();
const stackKind = a.stack ?? "kernel";
const count = Number(a.count ?? 20_000);
const warmup = Number(a.warmup ?? 0);
const total = warmup + count;
const concurrency = Number(a.concurrency ?? 100);
const limitMs = Number(a.limit ?? 10_000);
const SIZE = 100;
const request = Buffer.from(patternBlock(SIZE));
const response = Buffer.from(patternBlock(SIZE).reverse());

let clientNet;
let serverNet;
let serverHost;
let ports;
let stacks = [];
if (stackKind === "kernel") {
  clientNet = net;
  serverNet = net;
  serverHost = "127.0.0.1";
  ports = [0];
} else if (stackKind === "synack") {
  if (total > 141_160) throw new Error("--warmup + --count above 141160 would repeat 4-tuples still in TIME_WAIT");
  const { loopbackPair, bindNet } = await import("../dist/src/node/index.js");
  stacks = loopbackPair({ addresses: ["10.0.0.1", "10.0.0.2"] });
  clientNet = bindNet(stacks[0]);
  serverNet = bindNet(stacks[1]);
  serverHost = "10.0.0.2";
  ports = [8000, 8001, 8002, 8003, 8004];
} else {
  throw new Error(`--stack must be kernel or synack, got ${stackKind}`);
}

let started = 0;
let done = 0;
let errors = 0;
let firstError;
let t0 = 0;
/** When the warm-up's last connection finished: the measured part starts there. */
let warmAt = 0;
let finished = false;
let limited = false;

function serve(sock) {
  let got = 0;
  sock.on("data", (d) => {
    got += d.length;
    if (got >= SIZE && got - d.length < SIZE) sock.write(response);
  });
  sock.on("error", () => {});
}

const servers = [];
for (const p of ports) {
  const server = serverNet.createServer(serve);
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(p, serverHost, resolve);
  });
  servers.push(server);
}
const targets = servers.map((s) => s.address().port);

function open() {
  const port = targets[started % targets.length];
  started++;
  const sock = clientNet.connect({ port, host: serverHost });
  let got = 0;
  sock.on("connect", () => sock.write(request));
  sock.on("data", (d) => {
    got += d.length;
    if (got >= SIZE) sock.end();
  });
  sock.on("error", (e) => {
    errors++;
    firstError ??= `${e.code}: ${e.message}`;
  });
  sock.on("close", () => {
    done++;
    if (done === warmup) warmAt = performance.now();
    if (started < total && !limited) {
      if (performance.now() - t0 > limitMs) limited = true;
      else open();
    }
    if (done === started) finish("done");
  });
}

async function finish(outcome) {
  if (finished) return;
  finished = true;
  const end = performance.now();
  const ms = end - warmAt;
  const measured = Math.max(done - warmup, 0);
  const result = { bench: "net-connrate", stack: stackKind, outcome, count, warmup, concurrency, limited, started, done, errors, firstError, ms, perSec: (measured / ms) * 1000, coldPerSec: (done / (end - t0)) * 1000 };
  if (stacks.length > 0) {
    // Packets both stacks put on the wire (handshakes, data, ACKs, FINs), per connection.
    const packets = stacks.reduce((n, s) => n + s.link.counters.packetsOut, 0);
    result.packetsPerConn = packets / Math.max(done, 1);
  }
  emitResult(result);
  for (const s of servers) s.close();
  for (const s of stacks) await s.close();
  process.exit(0);
}

t0 = warmAt = performance.now();
setTimeout(() => finish("timeout"), limitMs + 10_000).unref();
for (let i = 0; i < concurrency && started < total; i++) open();
