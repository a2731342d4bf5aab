// Reference for bulk throughput: node:net over the kernel loopback (127.0.0.1), client and
// server in this one process (one JS thread, like the synack pair), the same bytes in the
// same 64 KiB writes, honouring backpressure ('drain').
//
//   node bench/net-bulk.js --mib 256 [--warmup-mib 64 [--warmup-ms 1000]]
//
// --warmup-mib W: first W MiB over a connection of their own, untimed, then the timed
// transfer over a fresh connection, as bulk.js does (the first transfer's figure is `cold`).
// --warmup-ms T: warm-up transfers of W MiB, each over a connection of its own, until T ms
// have passed, as bulk.js does.
import net from "node:net";
import { performance } from "node:perf_hooks";
import { args, emitResult, gbps, mib, patternBlock } from "./lib.js";

const a = args();
const total = mib(Number(a.mib ?? 256));
const warmup = mib(Number(a["warmup-mib"] ?? 0));
const warmupMs = Number(a["warmup-ms"] ?? 0);
const limitMs = Number(a.limit ?? 60_000);
const BLOCK = 64 * 1024;
const block = Buffer.from(patternBlock(BLOCK));

/** Bytes each accepted socket has to receive, in accept order, and who waits for them. */
const expected = [];
const server = net.createServer((sock) => {
  const want = expected.shift();
  let received = 0;
  sock.on("data", (d) => {
    received += d.length;
    if (received >= want.bytes) {
      sock.destroy();
      want.done(received);
    }
  });
});
const timer = setTimeout(() => {
  emitResult({ bench: "net-bulk", outcome: "timeout" });
  process.exit(0);
}, limitMs);
timer.unref();

/** Connects and sends `bytes`; resolves with the milliseconds from connect until the server had them all. */
function transfer(port, bytes) {
  return new Promise((resolve) => {
    let t0 = 0;
    expected.push({ bytes, done: (received) => resolve({ received, ms: performance.now() - t0 }) });
    const sock = net.connect({ port, host: "127.0.0.1" }, () => {
      t0 = performance.now();
      let sent = 0;
      const write = () => {
        while (sent < bytes) {
          sent += BLOCK;
          if (!sock.write(block)) {
            sock.once("drain", write);
            return;
          }
        }
        sock.end();
      };
      write();
    });
    sock.on("error", () => {});
  });
}

server.listen(0, "127.0.0.1", async () => {
  const { port } = server.address();
  let cold;
  let warmupTransfers = 0;
  const warmupStart = performance.now();
  while (warmup > 0 && (warmupTransfers === 0 || performance.now() - warmupStart < warmupMs)) {
    const w = await transfer(port, warmup);
    warmupTransfers++;
    cold ??= { bytes: w.received, ms: w.ms, gbps: gbps(w.received, w.ms) };
  }
  const warmupElapsed = performance.now() - warmupStart;
  const r = await transfer(port, total);
  emitResult({ bench: "net-bulk", outcome: "done", bytes: r.received, ms: r.ms, gbps: gbps(r.received, r.ms), ...(cold !== undefined ? { warmupBytes: warmup, warmupTransfers, warmupMs: Math.round(warmupElapsed), cold } : {}) });
  server.close();
});
