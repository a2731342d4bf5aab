// Reference for connections per second: node:net over the kernel loopback, client and
// server in this one process, the same exchange as connrate.js: connect, write 100 bytes,
// the server answers 100 bytes, the client end()s, the server (allowHalfOpen false) ends
// too; a connection is done at the client's 'close'. `--concurrency` in flight.
//
//   node bench/net-connrate.js --count 20000 --concurrency 100 [--limit 10000]
import net from "node:net";
import { performance } from "node:perf_hooks";
import { args, emitResult, patternBlock } from "./lib.js";

const a = args();
const count = Number(a.count ?? 20_000);
const concurrency = Number(a.concurrency ?? 100);
const limitMs = Number(a.limit ?? 10_000);
const SIZE = 100;
const request = Buffer.from(patternBlock(SIZE));
const response = Buffer.from(patternBlock(SIZE).reverse());

let started = 0;
let done = 0;
let errors = 0;
let firstError;
let t0 = 0;
let finished = false;

const server = net.createServer((sock) => {
  let got = 0;
  sock.on("data", (d) => {
    got += d.length;
    if (got >= SIZE && got - d.length < SIZE) sock.write(response);
  });
  sock.on("error", () => {});
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const open = () => {
    started++;
    const sock = net.connect({ port, host: "127.0.0.1" });
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
      if (done >= count || performance.now() - t0 > limitMs) finish();
      else if (started < count) open();
    });
  };
  t0 = performance.now();
  for (let i = 0; i < concurrency && started < count; i++) open();
});

function finish() {
  if (finished) return;
  finished = true;
  const ms = performance.now() - t0;
  emitResult({ bench: "net-connrate", outcome: done >= count ? "done" : "timeout", count, concurrency, done, errors, firstError, ms, perSec: (done / ms) * 1000 });
  server.close();
  process.exit(0);
}
