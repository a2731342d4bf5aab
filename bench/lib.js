// Shared pieces of the benchmarks: two synack Hosts joined by a zero-delay in-memory
// link, and a driver loop that runs them on real time.
//
// Clock choice: `now` is real elapsed time (performance.now() since the pair was built),
// so every timer the engine arms (delayed ACK 40 ms, RTO >= 200 ms) costs real time if it
// ever becomes the thing a transfer waits for. A virtual clock that jumps to the next
// deadline when idle would hide such stalls; here they show up as lost throughput and
// are reported separately (`idleWaits`, `idleMs`).
//
// The link: each Host's transmit pushes the packet onto the other Host's queue. The
// driver delivers queued packets (receive) and runs due timers (poll) until both queues
// are empty and no deadline is due. No copying, no loss, no reordering, no delay.
import { performance } from "node:perf_hooks";
import { Host } from "../dist/src/host/host.js";
import { SimRng } from "../dist/src/sim/rng.js";
import { parseIpAddress } from "../dist/src/wire/address.js";

/** The two hosts' addresses (IpAddress; `.w3` is the IPv4 uint32 that packet builders take). */
export const CLIENT_ADDR = parseIpAddress("10.0.0.1");
export const SERVER_ADDR = parseIpAddress("10.0.0.2");

/**
 * Builds a client and a server Host on one in-memory link.
 * opts: { mtu, trace, tcp, seed, offload, gso, batch, clientAddr, serverAddr } (addresses: IpAddress, IPv4 by default)
 */
export function makePair(opts = {}) {
  const toServer = [];
  const toClient = [];
  // With `gso`, each packet's GSO size (0: a plain packet) rides in a parallel queue.
  const toServerGso = [];
  const toClientGso = [];
  const rng = new SimRng(opts.seed ?? 1);
  const common = {};
  if (opts.mtu !== undefined) common.mtu = opts.mtu;
  if (opts.trace !== undefined) common.trace = opts.trace;
  if (opts.tcp !== undefined) common.tcp = opts.tcp;
  // Like Linux loopback (and the node:net reference over it): no checksums on a link that cannot corrupt.
  if (opts.offload === true) common.checksumOffload = true;
  // Like Linux's veth and loopback (TSO/GSO and GRO): a pass's consecutive segments cross
  // the link as one super-packet, which the receiver takes whole, measuring the peer's MSS
  // by its GSO size. A super-packet carries a partial checksum (pseudo-header only, Linux
  // CHECKSUM_PARTIAL) that a device would complete per segment; veth hands such packets to
  // the receiver unverified, and so does this link. Plain packets are checksummed as ever.
  const gso = opts.gso === true;
  if (gso) common.gsoMaxSize = 65536;
  // With `batch`, the packets a pump round finds queued for a host are one receive batch
  // (Host.beginBatch/endBatch), as LiveStack hands a device's read burst to the engine.
  const batch = opts.batch === true;
  const client = new Host({ ...common, name: "client", address: opts.clientAddr ?? CLIENT_ADDR, rng: rng.fork("client"), transmit: gso ? (p, g) => (toServer.push(p), toServerGso.push(g?.size ?? 0)) : (p) => toServer.push(p) });
  const server = new Host({ ...common, name: "server", address: opts.serverAddr ?? SERVER_ADDR, rng: rng.fork("server"), transmit: gso ? (p, g) => (toClient.push(p), toClientGso.push(g?.size ?? 0)) : (p) => toClient.push(p) });
  const t0 = performance.now();
  const pair = {
    client,
    server,
    packets: 0,
    bytes: 0,
    idleWaits: 0,
    idleMs: 0,
    /** Real milliseconds since the pair was built: the engine's clock. */
    now: () => performance.now() - t0,
    /**
     * Runs both hosts until nothing is queued and no deadline is due, reading the real
     * clock again on every round (a long burst must not freeze the engine's time).
     * Queued packets are always delivered before timers run, as the simulator orders
     * them: if this process is descheduled for longer than an RTO while ACKs sit in a
     * queue, the ACKs are seen first, rather than the RTO firing spuriously. Due timers
     * run one host at a time, earliest deadline first.
     * Returns true if anything happened.
     */
    pump(now = pair.now()) {
      let did = false;
      for (;; now = pair.now()) {
        if (toServer.length > 0 || toClient.length > 0) {
          did = true;
          // server.receive only pushes to toClient, and client.receive only to toServer,
          // so each queue can be drained in place.
          if (batch) server.beginBatch();
          for (let i = 0; i < toServer.length; i++) {
            const p = toServer[i];
            pair.bytes += p.length;
            if (gso) server.receive(now, p, toServerGso[i] > 0, toServerGso[i]);
            else server.receive(now, p);
          }
          if (batch) server.endBatch(now);
          pair.packets += toServer.length;
          toServer.length = toServerGso.length = 0;
          if (batch) client.beginBatch();
          for (let i = 0; i < toClient.length; i++) {
            const p = toClient[i];
            pair.bytes += p.length;
            if (gso) client.receive(now, p, toClientGso[i] > 0, toClientGso[i]);
            else client.receive(now, p);
          }
          if (batch) client.endBatch(now);
          pair.packets += toClient.length;
          toClient.length = toClientGso.length = 0;
          continue;
        }
        // Then the one host whose deadline is earliest, and deliver what it sent before
        // the other's timers run: after a pause (a descheduled process, another pair
        // running) both may be overdue, and a 40 ms delayed ACK must still beat a 200 ms RTO.
        const dc = client.nextDeadline();
        const ds = server.nextDeadline();
        if (Math.min(dc, ds) > now) return did;
        if (dc <= ds) client.poll(now);
        else server.poll(now);
        did = true;
      }
    },
    /** The earliest deadline of either host. */
    nextDeadline() {
      return Math.min(client.nextDeadline(), server.nextDeadline());
    },
    /**
     * Drives the pair until `done()` is true or `limitMs` of real time passed. `step(now)`
     * (the application) runs before every pump. When nothing happened and nothing is due,
     * it spins on the real clock until the next deadline and counts the wait. Returns
     * "done", "timeout" (limit reached) or "deadlock" (idle with no deadline at all).
     */
    run(done, step, limitMs) {
      const end = pair.now() + limitMs;
      for (;;) {
        if (done()) return "done";
        const now = pair.now();
        if (now > end) return "timeout";
        if (step !== undefined) step(now);
        if (pair.pump(now) || done()) continue;
        const dl = pair.nextDeadline();
        if (dl === Infinity) return "deadlock";
        pair.idleWaits++;
        const until = Math.min(dl, end + 1);
        let w = pair.now();
        while (w < until) w = pair.now();
        pair.idleMs += w - now;
      }
    },
  };
  return pair;
}

/** A repeatable byte pattern: block[i] = (i * 7 + 3) & 0xff. */
export function patternBlock(size) {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

export function mib(n) {
  return n * 1024 * 1024;
}

export function gbps(bytes, ms) {
  return (bytes * 8) / (ms / 1000) / 1e9;
}

/** Parses "--key value" and "--flag" arguments. */
export function args(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) out[key] = true;
    else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

/** The last line a benchmark child prints is its result as JSON. */
export function emitResult(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}
