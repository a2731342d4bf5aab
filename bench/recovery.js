// Loss recovery sweep (issue 12): goodput of one bulk transfer through the simulator at
// loss 0-10% and reordering 0-10%, 20 ms each way, a 20 Mbit/s bottleneck, for several
// seeds, with RACK-TLP (synack's default, Linux's tcp_recovery=1) against duplicate-ACK
// counting (tcp_recovery=0, what synack did before). Virtual time: the figures depend on
// the algorithms and the seeds only, never on the machine, so one run is enough.
//
//   node bench/recovery.js [--seeds 50] [--kib 512] [--json]
//
// Prints a table (median goodput per cell, and the ratio RACK / dupack) and, with --json,
// one JSON line. Goodput = bytes delivered in order / virtual time from first write to
// last byte read.
import { Host } from "../dist/src/host/host.js";
import { SimNetwork } from "../dist/src/sim/index.js";
import { IpAddress } from "../dist/src/wire/address.js";
import { parseIpv4Address } from "../dist/src/wire/ipv4.js";
import { args } from "./lib.js";

const a = args();
const SEEDS = Number(a.seeds ?? 50);
const BYTES = Number(a.kib ?? 512) * 1024;
const LOSS = [0, 0.01, 0.03, 0.05, 0.1];
const REORDER = [0, 0.02, 0.05, 0.1];
const LIMIT_MS = 600_000;
const CLIENT = parseIpv4Address("10.0.0.1");
const SERVER = parseIpv4Address("10.0.0.2");

/** One transfer; returns goodput in Mbit/s (virtual time), or 0 if it did not finish. */
function transfer(seed, loss, reorder, tcp) {
  const net = new SimNetwork({ seed });
  const make = (name, address) =>
    net.addHost(name, address, (transmit, ctx) => {
      const host = new Host({ name, address, rng: ctx.rng, transmit, tcp });
      host.tcp.setClock(ctx.now);
      return host;
    }).endpoint;
  const client = make("client", CLIENT);
  const server = make("server", SERVER);
  net.connect("client", "server", { delay: 20, loss, reorder, reorderDelay: 10, rate: 20e6, queueLimit: 200 });
  const listener = server.tcp.listen(80);
  let received = 0;
  let start;
  let end;
  listener.onConnection = () => {
    const s = listener.accept();
    if (s === undefined) return;
    s.onWake = () => {
      for (;;) {
        const d = s.read();
        if (d.length === 0) break;
        received += d.length;
      }
      if (received >= BYTES && end === undefined) end = net.now;
    };
  };
  const c = client.tcp.connect({ localAddr: IpAddress.v4(CLIENT), remoteAddr: IpAddress.v4(SERVER), remotePort: 80 });
  const chunk = new Uint8Array(64 * 1024);
  let sent = 0;
  c.onWake = () => {
    if (c.state !== "ESTABLISHED" && c.state !== "CLOSE_WAIT") return;
    start ??= net.now;
    while (sent < BYTES) {
      const n = c.send(chunk.subarray(0, Math.min(chunk.length, BYTES - sent)));
      if (n === 0) break;
      sent += n;
    }
  };
  net.runUntil(() => end !== undefined || c.state === "CLOSED", LIMIT_MS, 5_000_000);
  if (end === undefined || start === undefined) return 0;
  return (BYTES * 8) / ((end - start) / 1000) / 1e6;
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};

const rows = [];
for (const loss of LOSS) {
  for (const reorder of REORDER) {
    const rack = [];
    const dupack = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      rack.push(transfer(seed, loss, reorder, {}));
      dupack.push(transfer(seed, loss, reorder, { rack: false }));
    }
    const row = { loss, reorder, rackMbps: median(rack), dupackMbps: median(dupack) };
    row.ratio = row.dupackMbps > 0 ? row.rackMbps / row.dupackMbps : null;
    rows.push(row);
    process.stderr.write(`  loss ${loss * 100}% reorder ${reorder * 100}%: RACK ${row.rackMbps.toFixed(2)} / dupack ${row.dupackMbps.toFixed(2)} Mbit/s\n`);
  }
}

const pct = (x) => `${Math.round(x * 100)}%`;
console.log(`Loss recovery sweep: ${BYTES / 1024} KiB, 20 ms each way, 20 Mbit/s, median of ${SEEDS} seeds (virtual time)`);
console.log("| loss | reorder | RACK-TLP Mbit/s | dupack Mbit/s | RACK / dupack |");
console.log("|---|---|---|---|---|");
for (const r of rows) {
  console.log(`| ${pct(r.loss)} | ${pct(r.reorder)} | ${r.rackMbps.toFixed(2)} | ${r.dupackMbps.toFixed(2)} | ${r.ratio === null ? "-" : r.ratio.toFixed(2) + "x"} |`);
}
if (a.json === true) console.log(JSON.stringify({ bench: "recovery", seeds: SEEDS, bytes: BYTES, rows }));
