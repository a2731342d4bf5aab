// The UDP tunnel's two transports over loopback: the batched socket (sendmmsg/recvmmsg
// with UDP_SEGMENT and UDP_GRO) against node:dgram, one datagram per call.
//
//   node bench/udp-tunnel.js --mode tcp  --transport batch|dgram [--mib 64] [--mtu 1400]
//   node bench/udp-tunnel.js --mode rate --transport batch|dgram [--ms 2000] [--size 1400] [--burst 64]
//
// tcp: two synack stacks in this one process (one JS thread, like bench/bulk.js), each on
// its own tunnel endpoint bound to 127.0.0.1, both endpoints on the same transport; one
// HTTP GET of --mib MiB from one to the other. Prints Mbit/s of the body.
// rate: raw datagrams, no TCP: a sender pushes bursts of --burst datagrams of --size
// bytes, one burst per event-loop turn, to a receiver on the same transport, for --ms;
// prints the datagrams per second that arrived (and how many the kernel dropped).
import { createSocket } from "node:dgram";
import { performance } from "node:perf_hooks";
import { httpRequest, httpService } from "../dist/src/node/services/http.js";
import { LiveStack } from "../dist/src/node/services/live.js";
import { BatchedUdpSocket } from "../dist/src/node/udp-batch.js";
import { UdpTunnel } from "../dist/src/node/udp-tunnel.js";
import { parseIpv4Address } from "../dist/src/wire/ipv4.js";
import { args, emitResult, mib } from "./lib.js";

const a = args();
const mode = a.mode ?? "tcp";
const transport = a.transport ?? "batch";
if (transport !== "batch" && transport !== "dgram") throw new Error(`--transport batch|dgram, got ${transport}`);
const batch = transport === "batch";
const LOOP = { host: "127.0.0.1", port: 0 };

async function tcp() {
  const total = mib(Number(a.mib ?? 64));
  const mtu = Number(a.mtu ?? 1400);
  const ta = await UdpTunnel.open({ listen: LOOP, mtu, batch });
  const tb = await UdpTunnel.open({ listen: LOOP, peer: { host: "127.0.0.1", port: ta.local.port }, mtu, batch });
  if (ta.batched !== batch) throw new Error(`batched transport unavailable: ${ta.batchFallback}`);
  const A = parseIpv4Address("10.7.90.1");
  const B = parseIpv4Address("10.7.90.2");
  const sa = new LiveStack({ link: ta, address: A, interfaces: [{ name: "t0", address: A, prefixLength: 24 }], name: "a" });
  const sb = new LiveStack({ link: tb, address: B, interfaces: [{ name: "t0", address: B, prefixLength: 24 }], name: "b" });
  httpService(sa, 80);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await httpRequest(sb, `http://10.7.90.1/bytes/${total}`, { timeoutMs: 120_000 });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result = {
    bench: "udp-tunnel-tcp",
    transport,
    outcome: res.status === 200 && res.length === total ? "done" : "error",
    bytes: res.length,
    ms,
    mbps: (res.length * 8) / (ms / 1000) / 1e6,
    cpuMs: (cpu.user + cpu.system) / 1000,
    packetsOut: ta.counters.packetsOut + tb.counters.packetsOut,
    dropsOut: ta.counters.dropsOut + tb.counters.dropsOut,
    batch: ta.batchCounters !== undefined ? { server: ta.batchCounters, client: tb.batchCounters } : undefined,
  };
  await sa.close();
  await sb.close();
  return result;
}

async function rate() {
  const ms = Number(a.ms ?? 2000);
  const size = Number(a.size ?? 1400);
  const burst = Number(a.burst ?? 64);
  const payload = new Uint8Array(size).fill(0x5a);
  const datagrams = Array.from({ length: burst }, () => payload);
  let received = 0;
  let sent = 0;
  let dropped = 0;
  let send, close, rxPort;
  if (batch) {
    const rx = BatchedUdpSocket.open(LOOP);
    rx.onDatagram = () => received++;
    const tx = BatchedUdpSocket.open(LOOP);
    rxPort = rx.local.port;
    send = () => {
      dropped += tx.sendBatch(datagrams, { host: "127.0.0.1", port: rxPort });
      sent += burst;
    };
    close = () => Promise.all([rx.close(), tx.close()]);
  } else {
    const rx = createSocket("udp4");
    const tx = createSocket("udp4");
    rx.on("message", () => received++);
    await new Promise((r) => rx.bind(0, "127.0.0.1", r));
    await new Promise((r) => tx.bind(0, "127.0.0.1", r));
    for (const s of [rx, tx]) {
      s.setRecvBufferSize(4 << 20);
      s.setSendBufferSize(4 << 20);
    }
    rxPort = rx.address().port;
    const buf = Buffer.from(payload);
    send = () => {
      for (let i = 0; i < burst; i++) tx.send(buf, rxPort, "127.0.0.1", (err) => err && dropped++);
      sent += burst;
    };
    close = () => Promise.all([new Promise((r) => rx.close(r)), new Promise((r) => tx.close(r))]);
  }
  const t0 = performance.now();
  let stop = false;
  setTimeout(() => (stop = true), ms);
  // One burst per turn: the receiver's callbacks run between bursts, as in the tunnel.
  await new Promise((resolve) => {
    const loop = () => {
      if (stop) return resolve();
      send();
      setImmediate(loop);
    };
    loop();
  });
  const elapsed = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 50));
  await close();
  return { bench: "udp-tunnel-rate", transport, outcome: "done", size, burst, sent, received, dropped, ms: elapsed, perSec: received / (elapsed / 1000) };
}

emitResult(mode === "rate" ? await rate() : await tcp());
