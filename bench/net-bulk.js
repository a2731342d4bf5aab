// Reference for bulk throughput: node:net over the kernel loopback (127.0.0.1), client and
// server in this one process (one JS thread, like the synack pair), the same bytes in the
// same 64 KiB writes, honouring backpressure ('drain').
//
//   node bench/net-bulk.js --mib 256
import net from "node:net";
import { performance } from "node:perf_hooks";
import { args, emitResult, gbps, mib, patternBlock } from "./lib.js";

const a = args();
const total = mib(Number(a.mib ?? 256));
const limitMs = Number(a.limit ?? 60_000);
const BLOCK = 64 * 1024;
const block = Buffer.from(patternBlock(BLOCK));

let received = 0;
let t0 = 0;
const server = net.createServer((sock) => {
  sock.on("data", (d) => {
    received += d.length;
    if (received >= total) {
      const ms = performance.now() - t0;
      emitResult({ bench: "net-bulk", outcome: "done", bytes: received, ms, gbps: gbps(received, ms) });
      sock.destroy();
      server.close();
    }
  });
});
const timer = setTimeout(() => {
  emitResult({ bench: "net-bulk", outcome: "timeout", bytes: received });
  process.exit(0);
}, limitMs);
timer.unref();
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const sock = net.connect({ port, host: "127.0.0.1" }, () => {
    t0 = performance.now();
    let sent = 0;
    const write = () => {
      while (sent < total) {
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
