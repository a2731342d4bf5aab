/**
 * What each sender did, the kernel's and synack's, through the same impairment relay with
 * the same lost bytes: the sender's TCP_INFO every 5 ms, written as TSV files, and a summary
 * of the windows it reduced from. Needs root (TUN devices in namespaces it creates and
 * deletes). How BENCHMARKS.md's eleventh session found why CUBIC trailed at 0.1% loss.
 *
 *   npx esbuild test/interop/sender-sample.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist/sender-sample.mjs && node dist/sender-sample.mjs [--seed 9100] [--loss 0.001] [--mib 8]
 *     [--cc cubic] [--kernel-cc cubic] [--pacing] [--out /tmp/sender-sample]
 *
 * The kernel sends with peer.py (`send --sample`, getsockopt TCP_INFO); synack's sample is
 * tcpInfo() of its connection, in the same columns: ms since connect, cwnd (segments),
 * ssthresh, ca_state (0 open, 1 disorder, 3 recovery, 4 loss), unacked, total_retrans,
 * bytes_acked, rtt_ms, snd_wnd (the receiver's last advertised window, bytes).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseCidr } from "../../src/node/tun.js";
import type { LinkConfig } from "../../src/sim/link.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { tcpInfo } from "../../src/tcp/tcp-info.js";
import { interopUnavailableReason, kernelToKernelThroughRelay, MIB, PEER_PY, startIn, synackOnTun, synackSend } from "./harness.js";

const { values } = parseArgs({
  options: { seed: { type: "string" }, loss: { type: "string" }, mib: { type: "string" }, cc: { type: "string" }, "kernel-cc": { type: "string" }, pacing: { type: "boolean" }, out: { type: "string" } },
});
const SEED = Number(values.seed ?? 9100);
const BYTES = Math.round(Number(values.mib ?? 8) * MIB);
const CC = (values.cc ?? "cubic") as TcpConfig["congestionControl"];
const KERNEL_CC = values["kernel-cc"] ?? CC;
const OUT = values.out ?? "/tmp/sender-sample";
const IMPAIR: LinkConfig = { loss: Number(values.loss ?? 0.001), delay: 20, lossBy: "sequence" };
const COLUMNS = "ms\tcwnd\tssthresh\tca_state\tunacked\ttotal_retrans\tbytes_acked\trtt_ms\tsnd_wnd";

async function kernelSends(file: string): Promise<number> {
  return kernelToKernelThroughRelay({ subnet: 91, impair: IMPAIR, seed: SEED, n: BYTES, cc: KERNEL_CC, sample: file });
}

async function synackSends(file: string): Promise<number> {
  const s = await synackOnTun({ subnet: 92, label: "ss", relay: { impair: IMPAIR, seed: SEED }, tcp: { congestionControl: CC, pacing: values.pacing === true } });
  const rows: string[] = [COLUMNS];
  const start = performance.now();
  // The stack's one client connection, sampled as peer.py samples the kernel's socket.
  const timer = setInterval(() => {
    const conn = s.stack.host.tcp.allConnections().find((c) => c.state === "ESTABLISHED" || c.state === "FIN_WAIT_1");
    if (conn === undefined) return;
    const i = tcpInfo(conn, s.stack.now());
    rows.push([(performance.now() - start).toFixed(1), i.sndCwnd, i.sndSsthresh, i.caState, i.unacked, i.totalRetrans, i.bytesAcked, Math.round(i.rtt / 1000), i.sndWnd].join("\t"));
  }, 5);
  try {
    const sink = await startIn(s.netns, ["python3", "-u", PEER_PY, "sink", "5001"], /ready/);
    try {
      return await synackSend(s.stack, parseCidr(s.kernelIp).address, 5001, BYTES);
    } finally {
      sink.stop();
    }
  } finally {
    clearInterval(timer);
    writeFileSync(file, rows.join("\n") + "\n");
    await s.close();
  }
}

/** Each change of ssthresh in a sample, with the cwnd just before it: the windows the sender cut from. */
function reductions(file: string): string {
  const rows = readFileSync(file, "utf8").trim().split("\n").slice(1).map((l) => l.split("\t").map(Number));
  const cuts: string[] = [];
  for (let k = 1; k < rows.length; k++) {
    const [, prevCwnd, prevSsthresh] = rows[k - 1]!;
    const ssthresh = rows[k]![2]!;
    if (ssthresh !== prevSsthresh && ssthresh < 2 ** 31 - 1) cuts.push(`${prevCwnd}->${ssthresh}`);
  }
  return cuts.join(", ") || "none";
}

const unavailable = interopUnavailableReason();
if (unavailable !== undefined) {
  process.stderr.write(`sender-sample: ${unavailable}\n`);
  process.exit(2);
}
const kernelFile = `${OUT}-kernel.tsv`;
const synackFile = `${OUT}-synack.tsv`;
const kernelSeconds = await kernelSends(kernelFile);
const synackSeconds = await synackSends(synackFile);
const label = `synack ${CC}${values.pacing === true ? "+pacing" : ""}`;
console.log(`seed ${SEED}, ${BYTES / MIB} MiB, loss ${IMPAIR.loss! * 100}%, 20 ms each way, losses by sequence`);
console.log(`kernel ${KERNEL_CC}: ${kernelSeconds.toFixed(2)} s; ssthresh set (cwnd before -> ssthresh, segments): ${reductions(kernelFile)}; samples ${kernelFile}`);
console.log(`${label}: ${synackSeconds.toFixed(2)} s; ssthresh set: ${reductions(synackFile)}; samples ${synackFile}`);
