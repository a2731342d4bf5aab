// Memory (V8 heap and ArrayBuffer contents) per idle ESTABLISHED connection (no buffered data), and per TIME_WAIT entry.
// Must run with --expose-gc (bench/run.js spawns it that way):
//
//   node --expose-gc bench/heap.js --count 10000
//   node --expose-gc bench/heap.js --count 10000 --ipv6   # ends and TIME_WAIT over fd00::1 / fd00::2
//
// Two synack Hosts on the in-memory link; the server listens; the client opens --count
// connections; the server accepts each one and drops its reference (the TCP layer keeps
// it, as it keeps every connection). Once every connection is ESTABLISHED on both ends
// and nothing is due, heapUsed is compared with the figure before the first connect,
// after forced full GCs. The benchmark itself holds no per-connection objects.
//
//   per end  = delta / (2 * count)   (client and server ends cost the same kind of object)
//   per pair = delta / count
//
// Then every client close()s, the server closes on the FIN, and once the client ends are
// all in TIME_WAIT (server ends CLOSED and gone) the same measure gives the cost of one
// TIME_WAIT entry, which is what a busy client accumulates for 60 s (see connrate.js).
//
// Last, half-open entries: a fresh server Host (SYN queue as large as --count, SYN cookies
// off) is fed --count SYNs from distinct spoofed sources, built before the measure starts;
// each becomes a SYN_RCVD entry. Heap growth / count is the cost of one, what a SYN flood
// without cookies costs per SYN queue entry (Linux: a 312 B request socket).
import { Host } from "../dist/src/host/host.js";
import { SimRng } from "../dist/src/sim/rng.js";
import { emitIpv4Header, IPV4_MIN_HEADER, PROTO_TCP } from "../dist/src/wire/ipv4.js";
import { emitTcp, SYN } from "../dist/src/wire/tcp.js";
import { parseIpAddress } from "../dist/src/wire/address.js";
import { args, emitResult, makePair, SERVER_ADDR as SERVER_V4, CLIENT_ADDR as CLIENT_V4 } from "./lib.js";

if (typeof globalThis.gc !== "function") {
  console.error("heap.js needs node --expose-gc");
  process.exit(2);
}
const a = args();
const count = Number(a.count ?? 10_000);
// --ipv6: the connections and TIME_WAIT records are IPv6 ones (the half-open part below
// stays IPv4: it builds its SYNs by hand).
const family = a.ipv6 === true ? 6 : 4;
const CLIENT_ADDR = family === 6 ? parseIpAddress("fd00::1") : CLIENT_V4;
const SERVER_ADDR = family === 6 ? parseIpAddress("fd00::2") : SERVER_V4;

// Typed arrays' contents (the connection table, TIME_WAIT and request records) live in
// ArrayBuffer backing stores outside V8's heap: heapUsed alone misses them, so the
// measure is heapUsed + arrayBuffers. V8 frees backing stores on a background sweeper
// after a GC, so each GC is followed by a turn of the event loop before the next reading.
async function heap() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const pair = makePair({ clientAddr: CLIENT_ADDR, serverAddr: SERVER_ADDR });
const { client, server } = pair;
const listener = server.tcp.listen(80, 4096);
let accepted = 0;
listener.onConnection = (l) => {
  while (l.accept() !== undefined) accepted++;
};
// Warm up the code paths (and the layer's maps) with one connection, then let it finish.
{
  const c = client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: 80 });
  pair.run(() => c.state === "ESTABLISHED" && accepted === 1, undefined, 5000);
  c.abort();
  pair.pump(pair.now());
  accepted = 0;
}

const established = (host) => {
  let n = 0;
  for (const c of host.tcp.allConnections()) if (c.state === "ESTABLISHED") n++;
  return n;
};

const base = await heap();
for (let i = 0; i < count; i++) {
  client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: 80 });
  // Keep the SYN queue (1024) from overflowing: let the handshakes run every 500 connects.
  if (i % 500 === 499) pair.pump(pair.now());
}
let outcome = pair.run(() => accepted === count && established(client) === count && pair.nextDeadline() === Infinity, undefined, 20_000);
const afterOpen = await heap();
const perEnd = (afterOpen - base) / (2 * count);
const timersIdle = pair.nextDeadline();

// TIME_WAIT: the client closes first.
for (const c of client.tcp.allConnections()) c.close();
const serverEnds = () => server.tcp.allConnections();
// The server closes on the peer's FIN (its application would).
let outcome2 = pair.run(
  () => {
    const ss = serverEnds();
    for (const s of ss) if (s.state === "CLOSE_WAIT") s.close();
    // Client ends in TIME_WAIT are compact records (src/tcp/time-wait.ts), not connections.
    return ss.length === 0 && client.tcp.allConnections().length === 0 && client.tcp.timeWaitCount === count;
  },
  (now) => {
    for (const s of serverEnds()) if (s.state === "CLOSE_WAIT") s.close();
    void now;
  },
  20_000,
);
// A closed connection stays referenced from its layer's timer heap until the time of the
// timer it last had armed (lazy deletion); wait for the server's heap to drain so only
// the client's TIME_WAIT entries are counted.
const drain0 = pair.now();
const outcome3 = pair.run(() => server.nextDeadline() === Infinity, undefined, 20_000);
const closedRetainedMs = pair.now() - drain0;
// A TIME_WAIT record holds no reference to its connection (src/tcp/time-wait.ts), so the
// closed connection objects are garbage now. The measure starts on a fresh turn of the
// event loop, as an application's would, so nothing the current job keeps alive counts.
await new Promise((resolve) => setImmediate(resolve));
const afterTimeWait = await heap();

// A second batch opened and closed into TIME_WAIT beside the first (whose 2MSL has not run
// out), once the code is warm: its growth is the cost of the entries alone, where the
// first figure also holds code V8 compiled on the way. Needs 2 * count ephemeral ports.
let timeWaitSecondBatchPerEntryBytes;
if (2 * count <= 28_000) {
  accepted = 0;
  for (let i = 0; i < count; i++) {
    client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: 80 });
    if (i % 500 === 499) pair.pump(pair.now());
  }
  pair.run(() => accepted === count && established(client) === count, undefined, 20_000);
  for (const c of client.tcp.allConnections()) c.close();
  const closeServerEnds = () => {
    for (const s of serverEnds()) if (s.state === "CLOSE_WAIT") s.close();
  };
  pair.run(() => (closeServerEnds(), serverEnds().length === 0 && client.tcp.timeWaitCount === 2 * count), closeServerEnds, 20_000);
  pair.run(() => server.nextDeadline() === Infinity, undefined, 20_000);
  await new Promise((resolve) => setImmediate(resolve));
  timeWaitSecondBatchPerEntryBytes = client.tcp.timeWaitRecords === 2 * count ? ((await heap()) - afterTimeWait) / count : undefined;
}

// Half-open entries.
const SYN_LEN = IPV4_MIN_HEADER + 24;
const slab = new Uint8Array(count * SYN_LEN);
for (let i = 0; i < count; i++) {
  const src = (0x0b000000 + i) >>> 0;
  emitIpv4Header({ src, dst: SERVER_V4.w3, protocol: PROTO_TCP, payloadLength: 24, id: i & 0xffff, dontFragment: true }, slab, i * SYN_LEN);
  emitTcp(
    { srcPort: 1024 + (i % 60000), dstPort: 80, seq: (i * 2654435761) >>> 0, ack: 0, flags: SYN, window: 64240, urgentPointer: 0, options: { mss: 1460 }, payload: new Uint8Array(0) },
    slab, i * SYN_LEN + IPV4_MIN_HEADER, { src, dst: SERVER_V4.w3 },
  );
}
let synAcks = 0;
const flooded = new Host({ name: "flooded", address: SERVER_V4, rng: new SimRng(3), tcp: { synCookies: "never", synQueueSize: count }, transmit: () => synAcks++ });
const floodListener = flooded.tcp.listen(80, 4096);
const beforeHalfOpen = await heap();
const half = count >> 1;
for (let i = 0; i < half; i++) flooded.receive(0, slab.subarray(i * SYN_LEN, (i + 1) * SYN_LEN));
// The second half is measured on its own too: by then the SYN path's code is compiled and
// optimized, and V8 has flushed what the earlier phases left, so it is the cost of the
// entries alone (the whole-flood figure moves with code by tens of bytes either way).
const midHalfOpen = await heap();
for (let i = half; i < count; i++) flooded.receive(0, slab.subarray(i * SYN_LEN, (i + 1) * SYN_LEN));
const afterHalfOpen = await heap();

emitResult({
  family,
  bench: "heap",
  outcome,
  outcomeTimeWait: outcome2 === "done" ? outcome3 : outcome2,
  closedRetainedMs: Math.round(closedRetainedMs),
  count,
  established: { client: count, server: accepted },
  nextDeadlineWhenIdle: timersIdle === Infinity ? "none" : timersIdle,
  baseMiB: base / 1048576,
  deltaBytes: afterOpen - base,
  perPairBytes: (afterOpen - base) / count,
  perEndBytes: perEnd,
  timeWaitPerConnBytes: (afterTimeWait - base) / count,
  timeWaitRecords: client.tcp.timeWaitRecords,
  timeWaitSecondBatchPerEntryBytes,
  halfOpen: floodListener.synQueue.size,
  halfOpenSynAcks: synAcks,
  halfOpenPerEntryBytes: (afterHalfOpen - beforeHalfOpen) / count,
  halfOpenSecondHalfPerEntryBytes: (afterHalfOpen - midHalfOpen) / (count - half),
});
