/**
 * Goodput through the impairment relay (issue 12's measures), the kernel as the reference in
 * the same run. Needs root (TUN devices in network namespaces it creates and deletes).
 *
 *   npx esbuild test/interop/loss-table.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist/loss-table.mjs && node dist/loss-table.mjs [--mib 2] [--reps 3] [--loss 0.001,0.01,0.03]
 *     [--cc reno,cubic,cubic+pacing] [--kernel-cc reno] [--tail-kib 100] [--skip-tail] [--loss-by sequence|packet]
 *     [--warmup-mib 1] [--json]
 *
 * For each loss rate (random, both directions, 20 ms each way; --mib at 1%, up to 4x that at lower
 * rates and down to half at higher ones, so every transfer meets a few losses):
 *   kernel->kernel   python sends N bytes across two TUNs joined by the relay (kernel: --kernel-cc,
 *                    default Reno, the issue's reference: the only loss-based default a namespace
 *                    may set here; the sender's socket picks any other, e.g. cubic, itself)
 *   synack->kernel   synack connects to the kernel's sink through the relay and sends N bytes
 *   synack->synack   two synack stacks on pipes through the relay
 * each with synack's congestion control set to every --cc, median of --reps runs (the relay's
 * seed changes per run, and every sender in a run uses the same seed). Losses are paired by
 * default (--loss-by sequence): a segment's fate hangs on its place in the byte stream, so every
 * sender in a run loses the same bytes (src/sim/sequence-fates.ts). --loss-by packet draws per
 * packet offered instead, which pairs the senders only while their packet sequences agree.
 * Short-flow tail: a --tail-kib transfer whose last data segment the relay drops once (no other
 * loss), time from connect until the receiver has everything and closed: synack and kernel sending,
 * each in two write patterns that decide where the FIN goes (and so how the loss is found):
 *   FIN on the last segment  the application hands over everything, then half-closes at once; the
 *                            last segment is still unsent and carries the FIN, so the lost segment
 *                            is the only one out and only the tail loss probe finds it
 *   FIN alone                the application half-closes once every byte has left; the FIN follows
 *                            the lost segment, is SACKed, and RACK repairs the hole
 * Linux's own buffer sizing (tcp_wmem, tcp_sndbuf_expand) lands a plain sendall-then-close
 * program in either pattern from run to run, so each is pinned down explicitly.
 * Every figure is bytes / seconds from connect until the receiver closed after the sender's FIN.
 * Before the first counted transfer, each synack sender makes one uncounted --warmup-mib transfer
 * (default 1 MiB, 1% loss, seed 1; 0 skips it) to the kernel and to synack: the first ACK a process
 * handles runs cold code, a few milliseconds that slow start carries through every later round
 * (BENCHMARKS.md, twenty-fourth session), and so does its first recovery, where the kernel's
 * code is always compiled. The
 * in-memory bulk rows are measured warm for the same reason.
 */
import { parseArgs } from "node:util";
import { LiveStack } from "../../src/node/services/live.js";
import { discardService } from "../../src/node/services/discard.js";
import { pipePair, Relay, type RelayLateness } from "../../src/node/relay.js";
import { parseCidr } from "../../src/node/tun.js";
import type { FaultRule, LinkConfig } from "../../src/sim/link.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { parseIpv4 } from "../../src/wire/ipv4.js";
import { FIN, parseTcp, SYN } from "../../src/wire/tcp.js";
import { interopUnavailableReason, kernelToKernelThroughRelay, MIB, PEER_PY, startIn, synackOnTun, synackSend, type FinPlacement, type RelayImpair } from "./harness.js";

const { values } = parseArgs({
  options: {
    mib: { type: "string" },
    reps: { type: "string" },
    loss: { type: "string" },
    cc: { type: "string" },
    "tail-kib": { type: "string" },
    "kernel-cc": { type: "string" },
    json: { type: "boolean" },
    "skip-tail": { type: "boolean" },
    "loss-by": { type: "string" },
    "warmup-mib": { type: "string" },
  },
});
const BYTES = Math.round(Number(values.mib ?? 2) * MIB);
const REPS = Number(values.reps ?? 3);
/** Paired losses by default: every sender loses the same bytes of its stream (src/sim/sequence-fates.ts). */
const LOSS_BY = (values["loss-by"] ?? "sequence") as NonNullable<LinkConfig["lossBy"]>;
if (LOSS_BY !== "sequence" && LOSS_BY !== "packet") throw new Error(`--loss-by must be sequence or packet, got ${String(LOSS_BY)}`);
const LOSSES = (values.loss ?? "0.001,0.01,0.03").split(",").map(Number);
/**
 * synack's senders: a congestion control, "+pacing" to pace it too (TcpConfig.pacing, as
 * Linux under the fq qdisc), e.g. "cubic,cubic+pacing".
 */
const CCS = (values.cc ?? "reno,cubic").split(",");
const TAIL_BYTES = Number(values["tail-kib"] ?? 100) * 1000;
const WARMUP_BYTES = Math.round(Number(values["warmup-mib"] ?? 1) * MIB);
if (!(WARMUP_BYTES >= 0)) throw new Error(`--warmup-mib must be a number >= 0, got ${String(values["warmup-mib"])}`);
const CC_NAMES: ReadonlyArray<TcpConfig["congestionControl"]> = ["reno", "cubic", "bbr"];
/** The TCP settings one --cc entry names. */
function senderConfig(cc: string): Partial<TcpConfig> {
  const [name, extra] = cc.split("+");
  const congestionControl = CC_NAMES.find((n) => n === name);
  if (congestionControl === undefined || (extra !== undefined && extra !== "pacing")) throw new Error(`--cc: unknown sender ${cc} (want reno, cubic or bbr, optionally +pacing)`);
  return { congestionControl, ...(extra === "pacing" ? { pacing: true } : {}) };
}
for (const cc of CCS) senderConfig(cc);
/** One --cc entry, as given. */
type CongestionControlName = string;
/**
 * Reno by default: the only loss-based algorithm a namespace may make its default here
 * (tcp_allowed_congestion_control is "reno bbr"). Others (cubic) are set on the sending
 * socket by peer.py, which root may do for any available algorithm.
 */
const KERNEL_CC = values["kernel-cc"] ?? "reno";
const DELAY = 20;
const log = (s: string): void => {
  process.stderr.write(s + "\n");
};


/** What a drop rule saw: whether the segment it dropped carried the FIN. */
interface DropRecord {
  finOnDropped?: boolean;
}

/**
 * Drops, once, the data segment that ends `total` bytes after its direction's SYN: the last
 * segment of a `total`-byte transfer, whatever the stacks' ISNs and segment sizes. Records in
 * `seen` whether that segment carried the FIN, so a run can check its write pattern did what
 * it says.
 */
function dropLastSegmentOnce(total: number, seen: DropRecord): FaultRule {
  const isnBySrcPort = new Map<number, number>();
  let dropped = false;
  return (packet) => {
    if (dropped) return "pass";
    const ip = parseIpv4(packet, { verifyChecksum: false });
    if (!ip.ok) return "pass";
    const seg = parseTcp(ip.value.payload, null);
    if (!seg.ok) return "pass";
    const s = seg.value;
    if ((s.flags & SYN) !== 0) {
      isnBySrcPort.set(s.srcPort, s.seq);
      return "pass";
    }
    const isn = isnBySrcPort.get(s.srcPort);
    if (isn === undefined || s.payload.length === 0) return "pass";
    const end = (s.seq + s.payload.length - isn - 1) >>> 0;
    if (end !== total) return "pass";
    dropped = true;
    seen.finOnDropped = (s.flags & FIN) !== 0;
    return "drop";
  };
}

/**
 * The relay's lateness in the last transfer (src/node/relay.ts): how long after their due time
 * it delivered the packets it held back. The kernel-to-kernel relay has a process of its own;
 * for synack's transfers it shares the event loop with the stacks, so a late relay lengthens
 * only their path.
 */
let lastLateness: RelayLateness | undefined;
const noteLateness = (l: RelayLateness): void => {
  lastLateness = l;
};
/** Each counted transfer's mean lateness, by path (kernel->kernel, synack->kernel, synack->synack). */
const latenessByPath: Record<string, number[]> = {};
const countLateness = (path: string): void => {
  if (lastLateness !== undefined) (latenessByPath[path] ??= []).push(lastLateness.meanMs);
};
const showLateness = (): string => (lastLateness === undefined ? "" : ` [relay late ${lastLateness.meanMs.toFixed(2)} ms mean, ${((100 * lastLateness.over2Ms) / Math.max(1, lastLateness.held)).toFixed(1)}% > 2 ms, max ${lastLateness.maxMs.toFixed(0)} ms]`);

const kernelToKernel = (impair: RelayImpair, seed: number, n: number, fin?: FinPlacement): Promise<number> => kernelToKernelThroughRelay({ subnet: 91, impair, seed, n, cc: KERNEL_CC, fin, lateness: noteLateness });

async function synackToKernel(impair: RelayImpair, seed: number, n: number, cc: CongestionControlName, fin?: FinPlacement): Promise<number> {
  const s = await synackOnTun({ subnet: 92, label: "ls", relay: { impair, seed }, tcp: senderConfig(cc) });
  try {
    const sink = await startIn(s.netns, ["python3", "-u", PEER_PY, "sink", "5001"], /ready/);
    try {
      return await synackSend(s.stack, parseCidr(s.kernelIp).address, 5001, n, fin);
    } finally {
      sink.stop();
    }
  } finally {
    if (s.relay !== undefined) noteLateness(s.relay.stats.lateness);
    await s.close();
  }
}

async function synackToSynack(impair: LinkConfig, seed: number, n: number, cc: CongestionControlName): Promise<number> {
  const [a1, a2] = pipePair(1500);
  const [b1, b2] = pipePair(1500);
  const relay = new Relay({ a: a2, b: b1, impair, seed });
  const server = new LiveStack({ link: a1, address: parseCidr("10.7.93.1").address, name: "server", tcp: senderConfig(cc) });
  const client = new LiveStack({ link: b2, address: parseCidr("10.7.93.2").address, name: "client", tcp: senderConfig(cc) });
  try {
    discardService(server, 9);
    return await synackSend(client, parseCidr("10.7.93.1").address, 9, n);
  } finally {
    noteLateness(relay.stats.lateness);
    await server.close();
    await client.close();
    await relay.close();
  }
}

/**
 * `work` with a deadline: a transfer that stalls (the process would otherwise exit with
 * nothing left to wait for) fails with its name instead.
 */
async function step<T>(name: string, work: () => Promise<T>, limitMs = 180_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no result after ${limitMs / 1000} s`)), limitMs);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const mbps = (n: number, seconds: number): number => (n * 8) / seconds / 1e6;

interface Row {
  loss: number;
  bytes: number;
  kernelMbps: number;
  synackToKernel: Record<string, number>;
  synackToSynack: Record<string, number>;
  /** Median of the per-run ratios to kernel->kernel: the runs are paired (same seed, same lost bytes). */
  ratioToKernel: Record<string, number>;
  ratioToSynack: Record<string, number>;
}

/**
 * Bytes per transfer at `loss`: --mib at 1%, more at lower rates (up to 4x) and less at higher
 * ones (down to half), so that each transfer meets enough losses (about 6 at 0.1%, 15 at 1%, 20
 * at 3% with 1448-byte segments) for its figure to say something about recovery.
 */
const bytesAt = (loss: number): number => Math.round(BYTES * Math.min(4, Math.max(0.5, 0.01 / loss)));

async function lossRow(loss: number): Promise<Row> {
  const impair: LinkConfig = { loss, delay: DELAY, lossBy: LOSS_BY };
  const n = bytesAt(loss);
  const kk: number[] = [];
  const sk: Record<string, number[]> = {};
  const ss: Record<string, number[]> = {};
  for (let rep = 0; rep < REPS; rep++) {
    const seed = 9100 + rep;
    const at = `loss ${loss * 100}% seed ${seed}`;
    kk.push(mbps(n, await step(`${at} kernel->kernel`, () => kernelToKernel(impair, seed, n))));
    countLateness("kernel->kernel");
    log(`    kernel->kernel ${kk[rep]!.toFixed(2)} Mbit/s${showLateness()}`);
    for (const cc of CCS) {
      (sk[cc] ??= []).push(mbps(n, await step(`${at} synack ${cc}->kernel`, () => synackToKernel(impair, seed, n, cc))));
      countLateness("synack->kernel");
      log(`    synack ${cc}->kernel ${sk[cc]![rep]!.toFixed(2)} Mbit/s${showLateness()}`);
      (ss[cc] ??= []).push(mbps(n, await step(`${at} synack ${cc}->synack`, () => synackToSynack(impair, seed, n, cc))));
      countLateness("synack->synack");
      log(`    synack ${cc}->synack ${ss[cc]![rep]!.toFixed(2)} Mbit/s${showLateness()}`);
    }
    log(`  loss ${loss * 100}% run ${rep + 1}/${REPS}: kernel->kernel ${kk[rep]!.toFixed(2)} Mbit/s, ${CCS.map((cc) => `synack ${cc} ->kernel ${sk[cc]![rep]!.toFixed(2)} ->synack ${ss[cc]![rep]!.toFixed(2)}`).join(", ")}`);
  }
  const med = (r: Record<string, number[]>): Record<string, number> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
  // Each run's synack figure against the same run's kernel figure, then the median: the runs
  // share their seed (and, with --loss-by sequence, their lost bytes), so this is the paired
  // estimate; a ratio of medians could set one run's luck against another's.
  const ratios = (r: Record<string, number[]>): Record<string, number> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v.map((x, i) => x / kk[i]!))]));
  return { loss, bytes: n, kernelMbps: median(kk), synackToKernel: med(sk), synackToSynack: med(ss), ratioToKernel: ratios(sk), ratioToSynack: ratios(ss) };
}

interface Tail {
  /** Which write pattern (see the header). */
  fin: FinPlacement;
  kernelSeconds: number;
  synackSeconds: Record<string, number>;
  /** Runs (of every sender) whose dropped segment did not carry the FIN as `fin` says; should be 0. */
  misplaced: number;
}

/** The short transfer in one write pattern, with the last data segment dropped once or (drop false) clean. */
async function tailRow(fin: FinPlacement, drop: boolean): Promise<Tail> {
  const k: number[] = [];
  const s: Record<string, number[]> = {};
  let misplaced = 0;
  // The drop rule counts, so every transfer gets its own; `check` counts the ones that dropped
  // a segment with the FIN where there should be none, or the other way round.
  const lossy = (): { link: LinkConfig; check: () => void } => {
    if (!drop) return { link: { delay: DELAY }, check: () => {} };
    const seen: DropRecord = {};
    return {
      link: { delay: DELAY, filter: dropLastSegmentOnce(TAIL_BYTES, seen) },
      check: () => {
        if (seen.finOnDropped !== (fin === "on-last")) misplaced++;
      },
    };
  };
  for (let rep = 0; rep < REPS; rep++) {
    // kernelToKernel's data goes a -> b.
    const kl = lossy();
    k.push(await step("tail kernel->kernel", () => kernelToKernel({ aToB: kl.link, bToA: { delay: DELAY } }, 1, TAIL_BYTES, fin)));
    kl.check();
    for (const cc of CCS) {
      // synackOnTun's relay: a is the TUN (kernel side), b synack's side; synack's data goes b -> a.
      const sl = lossy();
      (s[cc] ??= []).push(await step(`tail synack ${cc}->kernel`, () => synackToKernel({ aToB: { delay: DELAY }, bToA: sl.link }, 1, TAIL_BYTES, cc, fin)));
      sl.check();
    }
    log(`  tail, FIN ${fin}, ${drop ? "with the drop" : "clean"}, run ${rep + 1}/${REPS}: kernel ${(k[rep]! * 1000).toFixed(0)} ms, ${CCS.map((cc) => `synack ${cc} ${(s[cc]![rep]! * 1000).toFixed(0)} ms`).join(", ")}`);
  }
  return { fin, kernelSeconds: median(k), synackSeconds: Object.fromEntries(Object.entries(s).map(([cc, v]) => [cc, median(v)])), misplaced };
}

const reason = interopUnavailableReason();
if (reason !== undefined) {
  log(`loss-table: cannot run: ${reason}`);
  process.exit(1);
}
log(`relay goodput, ${LOSSES.map((l) => `${(bytesAt(l) / MIB).toFixed(1)} MiB at ${l * 100}%`).join(", ")}, ${DELAY} ms each way, median of ${REPS}, losses by ${LOSS_BY}; kernel: ${KERNEL_CC}; synack: ${CCS.join(", ")}`);
/** The warm-up's path: lossy, so that loss recovery's code is compiled too, with a seed no counted run uses. */
const WARMUP_LINK: LinkConfig = { delay: DELAY, loss: 0.01, lossBy: LOSS_BY };
if (WARMUP_BYTES > 0) {
  log(`warm-up: one uncounted ${(WARMUP_BYTES / MIB).toFixed(1)} MiB transfer per synack sender to the kernel and to synack, 1% loss (seed 1)`);
  for (const cc of CCS) {
    await step(`warm-up synack ${cc}->kernel`, () => synackToKernel(WARMUP_LINK, 1, WARMUP_BYTES, cc));
    await step(`warm-up synack ${cc}->synack`, () => synackToSynack(WARMUP_LINK, 1, WARMUP_BYTES, cc));
  }
}
const rows: Row[] = [];
for (const loss of LOSSES) rows.push(await lossRow(loss));
if (values["skip-tail"] !== true) log(`short-flow tail: ${TAIL_BYTES / 1000} KB, last data segment dropped once, FIN on it and FIN alone, median of ${REPS}`);
const skipTail = values["skip-tail"] === true;
const tails = skipTail ? [] : [await tailRow("on-last", true), await tailRow("alone", true)];
const clean = skipTail ? undefined : await tailRow("on-last", false);

const lines: string[] = [];
/** Each sender's columns are as wide as their headers, at least 26. */
const width = (cc: string): number => Math.max(26, `synack(${cc})->synack`.length + 2);
lines.push(`loss    MiB  kernel->kernel   ${CCS.map((cc) => `synack(${cc})->kernel`.padStart(width(cc)) + `synack(${cc})->synack`.padStart(width(cc))).join("")}`);
for (const r of rows) {
  const cell = (v: number, ratio: number): string => `${v.toFixed(2)} (${ratio.toFixed(2)}x)`;
  lines.push(`${`${r.loss * 100}%`.padEnd(8)}${(r.bytes / MIB).toFixed(1).padEnd(5)}${`${r.kernelMbps.toFixed(2)} Mbit/s`.padStart(15)}   ${CCS.map((cc) => cell(r.synackToKernel[cc]!, r.ratioToKernel[cc]!).padStart(width(cc)) + cell(r.synackToSynack[cc]!, r.ratioToSynack[cc]!).padStart(width(cc))).join("")}`);
}
lines.push("(goodput: median of the runs; ratio: median of the per-run ratios to the same run's kernel->kernel)");
const tailLine = (t: Tail, what: string): string =>
  `tail ${TAIL_BYTES / 1000} KB, ${what}: kernel ${(t.kernelSeconds * 1000).toFixed(0)} ms; ${CCS.map((cc) => `synack ${cc} ${(t.synackSeconds[cc]! * 1000).toFixed(0)} ms (${(t.synackSeconds[cc]! / t.kernelSeconds).toFixed(2)}x)`).join("; ")}`;
if (clean !== undefined) {
  lines.push(tailLine(tails[0]!, "last segment (with the FIN) dropped once"));
  lines.push(tailLine(tails[1]!, "last segment dropped once, FIN alone after it"));
  lines.push(tailLine(clean, "no loss (the same transfer clean)"));
}
/** Per path: the median and the largest of the transfers' mean lateness, ms. */
const lateness = Object.fromEntries(Object.entries(latenessByPath).map(([path, means]) => [path, { transfers: means.length, medianMs: median(means), maxMs: Math.max(...means) }]));
lines.push(`relay lateness (median / largest of the transfers' means): ${Object.entries(lateness).map(([path, l]) => `${path} ${l.medianMs.toFixed(2)} / ${l.maxMs.toFixed(2)} ms (${l.transfers})`).join(", ")}`);
for (const t of tails) if (t.misplaced > 0) lines.push(`tail, FIN ${t.fin}: ${t.misplaced} run(s) dropped a segment whose FIN flag did not match the pattern`);
if (values.json === true) {
  log(lines.join("\n"));
  process.stdout.write(`${JSON.stringify({ outcome: "done", bytes: BYTES, reps: REPS, delay: DELAY, kernelCc: KERNEL_CC, rows, tails, clean, lateness })}\n`);
} else process.stdout.write(lines.join("\n") + "\n");
