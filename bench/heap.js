// Heap bytes per idle ESTABLISHED connection (no buffered data), and per TIME_WAIT entry.
// Must run with --expose-gc (bench/run.js spawns it that way):
//
//   node --expose-gc bench/heap.js --count 10000
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
import { args, emitResult, makePair, SERVER_ADDR, CLIENT_ADDR } from "./lib.js";

if (typeof globalThis.gc !== "function") {
  console.error("heap.js needs node --expose-gc");
  process.exit(2);
}
const a = args();
const count = Number(a.count ?? 10_000);

function heap() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const pair = makePair();
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

const base = heap();
for (let i = 0; i < count; i++) {
  client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: 80 });
  // Keep the SYN queue (1024) from overflowing: let the handshakes run every 500 connects.
  if (i % 500 === 499) pair.pump(pair.now());
}
let outcome = pair.run(() => accepted === count && established(client) === count && pair.nextDeadline() === Infinity, undefined, 20_000);
const afterOpen = heap();
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
    return ss.length === 0 && client.tcp.allConnections().every((c) => c.state === "TIME_WAIT");
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
const afterTimeWait = heap();

emitResult({
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
});
