// SYNs per second a listener absorbs during a SYN flood, and whether legitimate clients
// get in meanwhile. No node:net reference: the kernel's SYN path cannot be driven from
// userspace here (it needs raw sockets and spoofed sources), so the figure stands alone.
//
//   node bench/synflood.js --cookies overflow|always|never --syns 400000 --clients 100 [--limit 10000]
//   (with node --expose-gc it also reports the live memory per SYN queue entry)
//
// A server Host (10.0.0.2) listens on port 80 (backlog 4096) with default TCP settings
// except `synCookies` (default "overflow", as Linux tcp_syncookies=1; synQueueSize 1024,
// tcp_max_syn_backlog). `--syns` spoofed SYNs are built beforehand (not timed) in one
// buffer: random unicast sources in 11.0.0.0-90.255.255.255, random source ports and
// sequence numbers, an MSS option only (what flood tools send), valid checksums. Then they
// are fed to `server.receive(now, packet)` as fast as the server takes them, reading the
// clock once per batch of 32 and polling the server's due timers between batches (its
// SYN-ACK retransmissions for the 1,024 half-open entries are real work a flooded server
// does). SYN-ACKs to the spoofed sources are counted and dropped.
//
// Meanwhile a legitimate client Host (10.0.0.1) on a zero-delay link opens `--clients`
// connections, the first after 2,048 spoofed SYNs (the SYN queue is full by then), then one
// every (syns - 2048) / clients; its packets are exchanged between
// batches, so a handshake waits behind at most one batch of the flood each way. The server
// application accepts whatever reaches the accept queue. A client counts as connected when
// it is ESTABLISHED and the server accepted it; its handshake time runs from connect() to
// ESTABLISHED. After the last spoofed SYN the pair runs for at most `--grace` ms more
// (default 200) for handshakes in progress: with cookies off every client SYN meets a SYN
// queue full of spoofed entries that stay for a minute (five SYN-ACK retries), so none gets
// in, which is the documented failure and part of the result.
import { performance } from "node:perf_hooks";
import { Host } from "../dist/src/host/host.js";
import { SimRng } from "../dist/src/sim/rng.js";
import { emitIpv4Header, IPV4_MIN_HEADER, PROTO_TCP, readU32 } from "../dist/src/wire/ipv4.js";
import { emitTcp, SYN } from "../dist/src/wire/tcp.js";
import { args, emitResult, CLIENT_ADDR, SERVER_ADDR } from "./lib.js";

const a = args();
const cookies = a.cookies ?? "overflow";
const syns = Number(a.syns ?? 400_000);
const clients = Number(a.clients ?? 100);
const limitMs = Number(a.limit ?? 10_000);
const graceMs = Number(a.grace ?? 200);
const BATCH = 32;
const PORT = 80;
const SYN_LEN = IPV4_MIN_HEADER + 24;

// --- the spoofed SYNs, built before the clock starts
const rng = new SimRng(Number(a.seed ?? 7));
const slab = new Uint8Array(syns * SYN_LEN);
{
  const empty = new Uint8Array(0);
  for (let i = 0; i < syns; i++) {
    const off = i * SYN_LEN;
    const src = (0x0b000000 + (rng.nextU32() % (80 * 2 ** 24))) >>> 0;
    emitIpv4Header({ src, dst: SERVER_ADDR.w3, protocol: PROTO_TCP, payloadLength: 24, id: i & 0xffff, dontFragment: true }, slab, off);
    emitTcp(
      { srcPort: 1024 + (rng.nextU32() % 60000), dstPort: PORT, seq: rng.nextU32() >>> 0, ack: 0, flags: SYN, window: 64240, urgentPointer: 0, options: { mss: 1460 }, payload: empty },
      slab, off + IPV4_MIN_HEADER, { src, dst: SERVER_ADDR.w3 },
    );
  }
}

// --- the hosts
const toServer = [];
const toClient = [];
let synAcksToSpoofed = 0;
const hostRng = new SimRng(1);
const server = new Host({
  name: "server", address: SERVER_ADDR, rng: hostRng.fork("server"), tcp: { synCookies: cookies },
  transmit: (p) => {
    if (readU32(p, 16) === CLIENT_ADDR.w3) toClient.push(p);
    else synAcksToSpoofed++;
  },
});
const client = new Host({ name: "client", address: CLIENT_ADDR, rng: hostRng.fork("client"), transmit: (p) => toServer.push(p) });
const listener = server.tcp.listen(PORT, 4096);
let accepted = 0;
listener.onConnection = (l) => {
  while (l.accept() !== undefined) accepted++;
};

const t0 = performance.now();
const clock = () => performance.now() - t0;

/** Legitimate traffic and due timers, between batches of the flood. */
function pump(now) {
  for (;;) {
    if (toServer.length > 0 || toClient.length > 0) {
      for (let i = 0; i < toServer.length; i++) server.receive(now, toServer[i]);
      toServer.length = 0;
      for (let i = 0; i < toClient.length; i++) client.receive(now, toClient[i]);
      toClient.length = 0;
      continue;
    }
    if (server.nextDeadline() <= now) server.poll(now);
    else if (client.nextDeadline() <= now) client.poll(now);
    else return;
  }
}

const conns = [];
const openedAt = [];
const establishedAt = [];
function openClient(now) {
  const k = conns.length;
  const c = client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: PORT });
  c.onWake = () => {
    if (establishedAt[k] === undefined && c.state === "ESTABLISHED") establishedAt[k] = clock();
  };
  conns.push(c);
  openedAt.push(now);
}
const connected = () => establishedAt.filter((x) => x !== undefined).length;

/** V8 heap plus ArrayBuffer contents after full GCs, each followed by a turn of the event loop (V8 frees backing stores behind the GC). */
async function liveMemory() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
const heap0Live = typeof globalThis.gc === "function" ? await liveMemory() : 0;

// --- the flood
const cpu0 = process.cpuUsage();
const heap0 = process.memoryUsage().heapUsed;
// The clients start once the flood has filled the SYN queue (so each meets a full queue),
// then one every (syns - FIRST_CLIENT) / clients spoofed SYNs.
const FIRST_CLIENT = 2048;
if (syns < FIRST_CLIENT * 2) throw new Error(`--syns must be at least ${FIRST_CLIENT * 2}`);
const every = clients > 0 ? Math.max(1, Math.floor((syns - FIRST_CLIENT) / clients)) : Infinity;
let fed = 0;
let outcome = "done";
let now = 0;
while (fed < syns) {
  now = clock();
  if (now > limitMs) {
    outcome = "timeout";
    break;
  }
  const end = Math.min(fed + BATCH, syns);
  for (; fed < end; fed++) {
    server.receive(now, slab.subarray(fed * SYN_LEN, fed * SYN_LEN + SYN_LEN));
    if (fed >= FIRST_CLIENT && (fed - FIRST_CLIENT) % every === 0 && conns.length < clients) openClient(now);
  }
  pump(now);
}
const floodMs = clock();
const cpu = process.cpuUsage(cpu0);
const heapFlood = process.memoryUsage().heapUsed;
const synQueueAtEnd = listener.synQueue.size;
// With --expose-gc: growth of live memory (V8 heap and ArrayBuffer contents, after full GCs)
// over the flood, per SYN queue entry. It includes the legitimate client host and its 100
// connections and warm-up, so it is an upper bound; bench/heap.js isolates one entry. The
// baseline (heap0Live) is taken after the SYNs are built, before the flood.
const liveGrowthPerSynQueueEntryBytes = typeof globalThis.gc === "function" && synQueueAtEnd > 0 ? (await liveMemory() - heap0Live) / synQueueAtEnd : undefined;
const serverConnsAtEnd = server.tcp.allConnections().length;
const connectedDuringFlood = connected();
// Handshakes still in progress get a short grace period without the flood.
while (clock() < floodMs + graceMs && !(connected() === clients && accepted === clients)) pump(clock());
const times = establishedAt.map((t, k) => (t === undefined ? undefined : t - openedAt[k])).filter((x) => x !== undefined).sort((p, q) => p - q);
const q = (f) => (times.length === 0 ? NaN : times[Math.min(times.length - 1, Math.floor(f * times.length))]);

emitResult({
  bench: "synflood",
  cookies,
  outcome,
  syns,
  fed,
  floodMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  synsPerSec: (fed / floodMs) * 1000,
  cookiesSent: listener.cookiesSent,
  cookiesAccepted: listener.cookiesAccepted,
  cookiesRejected: listener.cookiesRejected,
  cookiesPerSec: (listener.cookiesSent / floodMs) * 1000,
  synQueueDrops: listener.synQueueDrops,
  dropsPerSec: (listener.synQueueDrops / floodMs) * 1000,
  synAcksToSpoofed,
  synQueueAtEnd,
  serverConnsAtEnd,
  heapGrowthMiB: (heapFlood - heap0) / 1048576,
  liveGrowthPerSynQueueEntryBytes,
  // Read here so the SYN buffer stays alive through the measure above (it was in heap0Live).
  synBufferBytes: slab.byteLength,
  clients,
  clientsOpened: conns.length,
  connectedDuringFlood,
  connected: connected(),
  accepted,
  clientErrors: conns.filter((c) => c.error !== undefined).length,
  handshakeMsMedian: q(0.5),
  handshakeMsMax: times.length === 0 ? NaN : times[times.length - 1],
  graceMs,
});
