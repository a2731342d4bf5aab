/**
 * Throughput of synack against the Linux kernel over TUN, next to the kernel against
 * itself over a veth pair, and goodput through the impairment relay. Needs root.
 *
 *   npx esbuild test/interop/measure.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist/measure.mjs && node dist/measure.mjs [--mib 64] [--relay-mib 4] [--mtu 1500] [--cc reno|bbr] [--json]
 *
 * Every figure is application goodput: bytes delivered / seconds from connect to the end.
 *   kernel->synack  python sends N bytes to synack's discard service (TUN)
 *   synack->kernel  synack writes N bytes (one reused block, as python's sender) to python's sink (TUN);
 *                   and again as curl GETting /bytes/N from synack's HTTP server, which computes every byte
 *   kernel->kernel  python sends N bytes between two namespaces joined by veth
 *   relay (1% loss, 20 ms each way): kernel->kernel (two TUNs), synack->synack (two
 *   stacks on pipes), kernel->synack and synack->kernel.
 * The TUN rows and the veth reference each run two transfers back to back and report both:
 * the "(first)" row, and the second one, which is the figure issue 13's ratios use.
 * Both peers are started before the first transfer (the sender waits for a start signal,
 * harness.ts peerOnSignal), so this process forks no child between the two: a fork marks
 * every page of synack's process copy-on-write, and the transfer right after one pays a
 * page fault per page it writes (BENCHMARKS.md, fourteenth session). The first transfer
 * also pays for a cold process (first-touch of packet memory, code not yet optimised). The
 * HTTP GET row is a single curl spawned just before it.
 * --tun-only measures just the TUN and veth rows; --no-offload opens the TUN device without
 * virtio-net offloads (the plain one-packet-per-read path). --only recv|send runs just
 * kernel->synack or synack->kernel over TUN (for profiling one direction with --cpu-prof).
 * --pacing: synack paces its CUBIC on the TUN rows (TcpConfig.pacing).
 * Namespaces are created here and deleted at the end, also on failure.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { discardService } from "../../src/node/services/discard.js";
import { httpRequest, httpService } from "../../src/node/services/http.js";
import { LiveStack } from "../../src/node/services/live.js";
import { pipePair, Relay } from "../../src/node/relay.js";
import { ip, parseCidr } from "../../src/node/tun.js";
import type { LinkConfig } from "../../src/sim/link.js";
import { interopUnavailableReason, kernelToKernelThroughRelay, MIB, newNamespace, peer, PEER_PY, peerOnSignal, removeNamespace, runIn, startIn, synackOnTun, synackSend } from "./harness.js";

const { values } = parseArgs({
  options: { mib: { type: "string" }, "relay-mib": { type: "string" }, mtu: { type: "string" }, json: { type: "boolean" }, cc: { type: "string" }, "tun-only": { type: "boolean" }, "no-offload": { type: "boolean" }, only: { type: "string" }, pacing: { type: "boolean" } },
});
const MIBS = Number(values.mib ?? 64);
const RELAY_MIBS = Number(values["relay-mib"] ?? 4);
const MTU = Number(values.mtu ?? 1500);
const IMPAIR: LinkConfig = { loss: 0.01, delay: 20 };
/**
 * The kernel's congestion control inside our namespaces. This machine's kernel defaults to
 * BBR, which ignores random loss, so a relay comparison with synack's loss-based CUBIC
 * would compare algorithms rather than stacks. A namespace may only pick from the host's
 * tcp_allowed_congestion_control (here "reno bbr", not cubic), so the default is Reno,
 * loss-based like CUBIC and close to it at these small windows. --cc bbr shows the other.
 */
const CC = values.cc ?? "reno";

async function withCc(netns: string): Promise<string> {
  const r = await runIn(netns, ["sysctl", "-qw", `net.ipv4.tcp_congestion_control=${CC}`]);
  if (r.code !== 0) throw new Error(`cannot set tcp_congestion_control=${CC} in ${netns}: ${r.stderr}`);
  return netns;
}

interface Figure {
  name: string;
  mib: number;
  seconds: number;
  mbps: number;
  /**
   * The machine's 1-minute load average when the figure was taken. On a shared 2-core
   * machine synack's TUN sender (one thread, which also runs the kernel's receive path in
   * its writes) falls from about 0.5x of veth at load 2-3 to 0.3x at 4-7, far more than the
   * veth reference moves (BENCHMARKS.md, fifteenth session): read a ratio with its load.
   */
  load: number;
}
const figures: Figure[] = [];

function record(name: string, bytes: number, seconds: number): void {
  const f = { name, mib: bytes / MIB, seconds, mbps: (bytes * 8) / seconds / 1e6, load: loadavg()[0]! };
  figures.push(f);
  if (values.json !== true) process.stdout.write(`${name.padEnd(44)} ${f.mib.toFixed(0).padStart(4)} MiB  ${seconds.toFixed(2).padStart(7)} s  ${f.mbps.toFixed(1).padStart(8)} Mbit/s  load ${f.load.toFixed(1)}\n`);
}

async function overTun(): Promise<void> {
  const s = await synackOnTun({ subnet: 81, mtu: MTU, label: "mt", offload: values["no-offload"] !== true, ...(values.pacing === true ? { tcp: { pacing: true } } : {}) });
  await withCc(s.netns);
  try {
    discardService(s.stack, 9);
    httpService(s.stack, 80);
    const n = MIBS * MIB;
    if (values.only !== "send") {
      const senders = [0, 1].map(() => peerOnSignal<{ seconds: number }>(s.netns, ["send", s.synackIp, 9, n], 600_000));
      record(`(first) kernel->synack over TUN (mtu ${MTU})`, n, (await senders[0]!.go()).seconds);
      record(`kernel->synack over TUN (mtu ${MTU})`, n, (await senders[1]!.go()).seconds);
    }
    if (values.only === "recv") return;
    // As the reference's sender: an application writing one reused block to python's sink.
    const sinks = [await startIn(s.netns, ["python3", "-u", PEER_PY, "sink", "5001"], /ready/), await startIn(s.netns, ["python3", "-u", PEER_PY, "sink", "5002"], /ready/)];
    try {
      const kernel = parseCidr(s.kernelIp).address;
      record(`(first) synack->kernel over TUN (mtu ${MTU})`, n, await synackSend(s.stack, kernel, 5001, n));
      record(`synack->kernel over TUN (mtu ${MTU})`, n, await synackSend(s.stack, kernel, 5002, n));
    } finally {
      for (const sink of sinks) sink.stop();
    }
    if (values.only === "send") return;
    // The same direction as HTTP: curl GETs /bytes/N, every byte of which synack's server computes.
    const r = await runIn(s.netns, ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total} %{size_download}", `http://${s.synackIp}/bytes/${n}`], 600_000);
    const [secs, size] = r.stdout.trim().split(" ").map(Number);
    if (size !== n) throw new Error(`curl got ${size} of ${n} bytes: ${r.stderr}`);
    record(`synack->kernel over TUN, HTTP GET /bytes (mtu ${MTU})`, n, secs!);
  } finally {
    await s.close();
  }
}

async function overVeth(): Promise<void> {
  const a = await withCc(await newNamespace("va"));
  const b = await withCc(await newNamespace("vb"));
  try {
    await ip(["link", "add", "veth-a", "netns", a, "type", "veth", "peer", "name", "veth-b", "netns", b]);
    await ip(["addr", "add", "10.7.82.1/24", "dev", "veth-a"], a);
    await ip(["addr", "add", "10.7.82.2/24", "dev", "veth-b"], b);
    await ip(["link", "set", "veth-a", "mtu", String(MTU), "up"], a);
    await ip(["link", "set", "veth-b", "mtu", String(MTU), "up"], b);
    // As the TUN rows: two transfers, the peers all started before the first.
    const sinks = [await startIn(b, ["python3", "-u", PEER_PY, "sink", "5001"], /ready/), await startIn(b, ["python3", "-u", PEER_PY, "sink", "5002"], /ready/)];
    try {
      const n = MIBS * MIB;
      const senders = [5001, 5002].map((port) => peerOnSignal<{ seconds: number }>(a, ["send", "10.7.82.2", port, n], 600_000));
      record(`(first) kernel->kernel over veth (mtu ${MTU})`, n, (await senders[0]!.go()).seconds);
      record(`kernel->kernel over veth (mtu ${MTU})`, n, (await senders[1]!.go()).seconds);
    } finally {
      for (const sink of sinks) sink.stop();
    }
  } finally {
    await removeNamespace(a);
    await removeNamespace(b);
  }
}

async function relayKernelKernel(): Promise<void> {
  const n = RELAY_MIBS * MIB;
  record("relay 1%/20ms kernel->kernel", n, await kernelToKernelThroughRelay({ subnet: 83, impair: IMPAIR, seed: 83, n, cc: CC }));
}

async function relaySynackSynack(): Promise<void> {
  const [a1, a2] = pipePair(MTU);
  const [b1, b2] = pipePair(MTU);
  const relay = new Relay({ a: a2, b: b1, impair: IMPAIR, seed: 84 });
  const server = new LiveStack({ link: a1, address: parseCidr("10.7.84.1").address, name: "server" });
  const client = new LiveStack({ link: b2, address: parseCidr("10.7.84.2").address, name: "client" });
  try {
    httpService(server, 80);
    const n = RELAY_MIBS * MIB;
    const res = await httpRequest(client, `http://10.7.84.1/bytes/${n}`, { timeoutMs: 600_000 });
    if (res.length !== n) throw new Error(`got ${res.length} of ${n} bytes`);
    record("relay 1%/20ms synack->synack", n, res.elapsedMs / 1000);
  } finally {
    await server.close();
    await client.close();
    await relay.close();
  }
}

async function relayMixed(): Promise<void> {
  const s = await synackOnTun({ subnet: 85, label: "rm", relay: { impair: IMPAIR, seed: 85 } });
  await withCc(s.netns);
  try {
    discardService(s.stack, 9);
    httpService(s.stack, 80);
    const n = RELAY_MIBS * MIB;
    const sent = await peer<{ seconds: number }>(s.netns, ["send", s.synackIp, 9, n], 600_000);
    record("relay 1%/20ms kernel->synack", n, sent.seconds);
    const r = await runIn(s.netns, ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total} %{size_download}", `http://${s.synackIp}/bytes/${n}`], 600_000);
    const [secs, size] = r.stdout.trim().split(" ").map(Number);
    if (size !== n) throw new Error(`curl got ${size} of ${n} bytes: ${r.stderr}`);
    record("relay 1%/20ms synack->kernel", n, secs!);
  } finally {
    await s.close();
  }
}

const reason = interopUnavailableReason();
if (reason !== undefined) {
  process.stderr.write(`measure: cannot run: ${reason}\n`);
  process.exit(1);
}
await overTun();
if (values.only === undefined) await overVeth();
if (values["tun-only"] !== true) {
  await relayKernelKernel();
  await relaySynackSynack();
  await relayMixed();
}
if (values.json === true) process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), mtu: MTU, figures }, null, 2)}\n`);
