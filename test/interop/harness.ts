/**
 * Shared plumbing of the interop suite: capability checks, network namespaces that the
 * tests create (and always delete), kernel peers run inside them, and a synack stack on a
 * TUN device whose kernel side sits in such a namespace.
 *
 * Addresses: only 10.7.x.x, only inside namespaces created here. Every child process is
 * started by us, bounded by a timeout, and killed by its pid when a test ends.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TraceHub, type TraceEvent } from "../../src/trace/events.js";
import { LiveStack, type LiveSocket } from "../../src/node/services/live.js";
import { patternBytes } from "../../src/node/services/pattern.js";
import { pipePair, Relay, type RelayLateness } from "../../src/node/relay.js";
import { createNetns, deleteNetns, parseCidr, TunDevice, tunUnavailableReason, type PacketLink } from "../../src/node/tun.js";
import type { LinkConfig } from "../../src/sim/link.js";

/** Impairments of both directions of a relay, or of each one (Relay's `impair`). */
export type RelayImpair = LinkConfig | { aToB: LinkConfig; bToA: LinkConfig };
import type { TcpConfig } from "../../src/tcp/config.js";
import { tcpInfo } from "../../src/tcp/tcp-info.js";
import { SYN, URG } from "../../src/wire/tcp.js";

/** The python peer script; found beside this file, or from the repository root when this file was bundled (measure.ts). */
export const PEER_PY = [join(dirname(fileURLToPath(import.meta.url)), "peer.py"), join(process.cwd(), "test", "interop", "peer.py")].find((p) => existsSync(p)) ?? "peer.py";
export const MIB = 1024 * 1024;

/** Sizes: 64 MiB direct transfers as the issue asks; through the lossy relay the default is smaller (see README of the suite). */
export function envMib(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} must be a positive number of MiB, got ${v}`);
  return n;
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Why the interop suite cannot run here, or undefined. */
export function interopUnavailableReason(): string | undefined {
  const tun = tunUnavailableReason();
  if (tun !== undefined) return tun;
  for (const cmd of ["ip", "curl", "python3", "sha256sum", "ping"]) {
    if (!hasCommand(cmd)) return `${cmd} is not installed`;
  }
  if (!existsSync("/run/netns") && !hasCommand("unshare")) return "network namespaces are unavailable";
  return undefined;
}

/**
 * Either runs the suite or explains why not. With SYNACK_REQUIRE_TUN=1 (CI) a missing
 * capability is a failure instead of a skip.
 */
export function interopGate(): { skip: boolean; reason: string | undefined; required: boolean } {
  const reason = interopUnavailableReason();
  if (reason === undefined) sweepStaleNamespaces();
  const required = process.env.SYNACK_REQUIRE_TUN === "1";
  if (reason !== undefined && !required) process.stdout.write(`interop tests skipped: ${reason} (set SYNACK_REQUIRE_TUN=1 to make this a failure)\n`);
  return { skip: reason !== undefined && !required, reason, required };
}

// ------------------------------------------------------------------------------------------
// Namespaces and processes, cleaned up even when a test fails or the worker dies.

const liveNamespaces = new Set<string>();
const liveChildren = new Set<ChildProcess>();
let counter = 0;

function cleanupSync(): void {
  for (const c of liveChildren) {
    if (c.pid !== undefined && c.exitCode === null) {
      try {
        process.kill(c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  for (const ns of liveNamespaces) {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
}
process.once("exit", cleanupSync);

/** Deletes namespaces this suite made in a process that no longer exists (a worker killed mid-test). */
function sweepStaleNamespaces(): void {
  let names: string[];
  try {
    names = readdirSync("/run/netns");
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^synt(\d+)-/.exec(name);
    if (m === null || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // its test process is still running
    } catch {
      // no such process: the namespace is an orphan
    }
    try {
      execFileSync("ip", ["netns", "del", name], { stdio: "ignore" });
    } catch {
      // gone meanwhile
    }
  }
}

/** A namespace name unique to this process ("synt-<pid>-<n>-<label>", at most 15 chars for device reuse). */
export async function newNamespace(label: string): Promise<string> {
  const name = `synt${process.pid}-${++counter}${label}`.slice(0, 30);
  await createNetns(name);
  liveNamespaces.add(name);
  return name;
}

export async function removeNamespace(name: string): Promise<void> {
  for (const c of liveChildren) {
    if ((c as ChildProcess & { netns?: string }).netns === name) killChild(c);
  }
  await deleteNetns(name);
  liveNamespaces.delete(name);
}

function killChild(c: ChildProcess): void {
  if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
    try {
      process.kill(c.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  liveChildren.delete(c);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `argv` inside `netns` to completion (killed after `timeoutMs`). Never blocks the event loop. */
export function runIn(netns: string, argv: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", netns, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    (child as ChildProcess & { netns?: string }).netns = netns;
    liveChildren.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      killChild(child);
      reject(new Error(`timed out after ${timeoutMs} ms: ${argv.join(" ")}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a peer.py mode and parses its (last) JSON line. */
export async function peer<T>(netns: string, args: Array<string | number>, timeoutMs = 60_000): Promise<T> {
  const r = await runIn(netns, ["python3", PEER_PY, ...args.map(String)], timeoutMs);
  const last = r.stdout.trim().split("\n").at(-1) ?? "";
  if (r.code !== 0 || last === "") throw new Error(`peer.py ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(last) as T;
}

/**
 * Starts a peer.py mode that takes `--go PATH` (send) now, and returns `go()`, which lets it
 * begin by creating PATH and resolves with its JSON line. Starting a process forks this one,
 * and a fork marks every page of this process copy-on-write, so that each page synack then
 * writes costs a page fault (about 10 us each on this project's VM, 16 per 64 KiB packet
 * buffer): a measurement started by spawning its peer times those faults as well. Peers
 * started ahead and signalled through a file let back-to-back transfers run with no fork
 * in between (measure.ts).
 */
export function peerOnSignal<T>(netns: string, args: Array<string | number>, timeoutMs = 60_000): { go(): Promise<T> } {
  const dir = mkdtempSync(join(tmpdir(), "synack-go-"));
  const file = join(dir, "go");
  const argv = [...args.map(String), "--go", file];
  const done = runIn(netns, ["python3", PEER_PY, ...argv], timeoutMs).finally(() => rmSync(dir, { recursive: true, force: true }));
  // Handled in go(); until then a failure must not be an unhandled rejection.
  done.catch(() => {});
  return {
    async go() {
      writeFileSync(file, "");
      const r = await done;
      const last = r.stdout.trim().split("\n").at(-1) ?? "";
      if (r.code !== 0 || last === "") throw new Error(`peer.py ${argv.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
      return JSON.parse(last) as T;
    },
  };
}

/** A long-running kernel peer (a server); resolves once it printed a line containing `readyText`. */
export interface Background {
  child: ChildProcess;
  /** Lines printed so far. */
  lines: string[];
  /** Resolves with the first line matching (waits up to timeoutMs). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): void;
}

export async function startIn(netns: string, argv: string[], ready: RegExp, timeoutMs = 10_000): Promise<Background> {
  const child = spawn("ip", ["netns", "exec", netns, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
  (child as ChildProcess & { netns?: string }).netns = netns;
  liveChildren.add(child);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let partial = "";
  const onText = (d: Buffer): void => {
    partial += d.toString();
    const parts = partial.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on("data", onText);
  child.stderr!.on("data", onText);
  child.on("close", () => {
    liveChildren.delete(child);
    for (const w of waiters.splice(0)) w();
  });
  const bg: Background = {
    child,
    lines,
    waitFor(pattern, ms = timeoutMs) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`${argv.join(" ")}: no line matching ${pattern} within ${ms} ms; got:\n${lines.join("\n")}`)), ms);
        const check = (): void => {
          const hit = lines.find((l) => pattern.test(l));
          if (hit !== undefined) {
            clearTimeout(deadline);
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(deadline);
            reject(new Error(`${argv.join(" ")} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${lines.join("\n")}`));
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    stop() {
      killChild(child);
    },
  };
  await bg.waitFor(ready);
  return bg;
}

// ------------------------------------------------------------------------------------------
// A synack stack on a TUN device whose kernel side lives in a fresh namespace.

export interface SynackOnTun {
  netns: string;
  /** With `ipv6`: the kernel's and synack's IPv6 addresses (fd07:N::1 and fd07:N::2). */
  kernelIp6: string | undefined;
  synackIp6: string | undefined;
  /** The kernel's address in the namespace (10.7.N.1). */
  kernelIp: string;
  /** synack's address (10.7.N.2). */
  synackIp: string;
  stack: LiveStack;
  link: PacketLink;
  /** The stack's state, timer-fired, error and drop events, when `trace` was asked for. */
  events: TraceEvent[];
  close(): Promise<void>;
}

export interface SynackOnTunOptions {
  /** The third octet: 10.7.SUBNET.0/24. */
  subnet: number;
  mtu?: number;
  tcp?: Partial<TcpConfig>;
  trace?: boolean;
  label?: string;
  /** Also give both sides an IPv6 address on the same device (fd07:SUBNET::1/64 and ::2/64). */
  ipv6?: boolean;
  /**
   * Virtio-net offloads on the TUN device (default: on, unless SYNACK_TUN_OFFLOAD=off in
   * the environment, which runs the whole interop suite over the plain path). Always off
   * under a relay, which forwards packets one MTU at a time.
   */
  offload?: boolean;
  /** Put the impairment relay between the TUN device and synack (synack then sits on an in-memory pipe). */
  relay?: { impair: RelayImpair; seed?: number };
}

export async function synackOnTun(opts: SynackOnTunOptions): Promise<SynackOnTun & { relay: Relay | undefined }> {
  const netns = await newNamespace(opts.label ?? "k");
  try {
    const kernel = parseCidr(`10.7.${opts.subnet}.1/24`);
    const synack = parseCidr(`10.7.${opts.subnet}.2/24`);
    const mtu = opts.mtu ?? 1500;
    const kernel6 = opts.ipv6 === true ? parseCidr(`fd07:${opts.subnet}::1/64`) : undefined;
    const synack6 = opts.ipv6 === true ? parseCidr(`fd07:${opts.subnet}::2/64`) : undefined;
    const offload = opts.relay === undefined && (opts.offload ?? process.env.SYNACK_TUN_OFFLOAD !== "off");
    const tun = await TunDevice.open({ name: "syn0", netns, kernelAddress: kernel6 !== undefined ? [kernel, kernel6] : kernel, mtu, offload });
    let link: PacketLink = tun;
    let relay: Relay | undefined;
    if (opts.relay !== undefined) {
      const [toRelay, toSynack] = pipePair(mtu, ["relay-side", "synack-side"]);
      relay = new Relay({ a: tun, b: toRelay, impair: opts.relay.impair, ...(opts.relay.seed !== undefined ? { seed: opts.relay.seed } : {}) });
      link = toSynack;
    }
    const events: TraceEvent[] = [];
    let trace: TraceHub | undefined;
    if (opts.trace === true) {
      trace = new TraceHub();
      // Only the rare kinds: segments hold payloads, and a 64 MiB transfer would keep them all.
      trace.subscribe((e) => {
        if (e.type === "state" || e.type === "timer-fired" || e.type === "error" || e.type === "drop" || e.type === "fast-open" || e.type === "urgent") events.push(e);
        // SYNs and URG segments are few and small: kept so that tests can see their options
        // and any data (Fast Open), and urgent pointers.
        else if ((e.type === "segment-in" || e.type === "segment-out") && (e.segment.flags & (SYN | URG)) !== 0) events.push(e);
      });
    }
    const interfaces = synack6 !== undefined ? [{ name: "tun0", address: synack.address, prefixLength: synack.prefix }, { name: "tun1", address: synack6.address, prefixLength: synack6.prefix }] : undefined;
    const stack = new LiveStack({ link, address: synack.address, ...(interfaces !== undefined ? { interfaces } : {}), ...(opts.tcp !== undefined ? { tcp: opts.tcp } : {}), ...(trace !== undefined ? { trace } : {}) });
    return {
      netns,
      kernelIp: kernel.address.toString(),
      synackIp: synack.address.toString(),
      kernelIp6: kernel6?.address.toString(),
      synackIp6: synack6?.address.toString(),
      stack,
      link,
      relay,
      events,
      async close() {
        for (const c of stack.host.tcp.allConnections()) c.abort("test over");
        stack.host.poll(stack.now());
        await stack.close();
        if (relay !== undefined) await relay.close();
        await tun.close();
        await removeNamespace(netns);
      },
    };
  } catch (e) {
    await removeNamespace(netns);
    throw e;
  }
}

/** SHA-256 of the first `length` bytes of the /bytes/N pattern. */
export function patternSha(length: number): string {
  const h = createHash("sha256");
  for (let off = 0; off < length; off += 4 * MIB) h.update(patternBytes(off, Math.min(4 * MIB, length - off)));
  return h.digest("hex");
}

/** Resolves when `cond()` holds (checked every 10 ms), or rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The kernel sending `n` bytes to the kernel through the impairment relay: two namespaces
 * (congestion control `cc` in both), a TUN device in each, joined by a Relay; python's
 * peer.py sends to its sink. Returns the sender's seconds from connect until the sink closed.
 * `sample`: a file (in the host's file system) for the sender's TCP_INFO every 5 ms (peer.py send --sample).
 */
export async function kernelToKernelThroughRelay(opts: { subnet: number; impair: RelayImpair; seed: number; n: number; cc: string; fin?: FinPlacement; sample?: string; lateness?: (l: RelayLateness) => void }): Promise<number> {
  const a = await newNamespace("ra");
  const b = await newNamespace("rb");
  let relay: Relay | undefined;
  try {
    for (const ns of [a, b]) {
      const r = await runIn(ns, ["sysctl", "-qw", `net.ipv4.tcp_congestion_control=${opts.cc}`]);
      // Not an allowed default here (cubic): the sender's socket asks for it itself (peer.py --cc).
      if (r.code !== 0 && !/not permitted/i.test(r.stderr)) throw new Error(`cannot set tcp_congestion_control=${opts.cc} in ${ns}: ${r.stderr}`);
    }
    // Plain devices: the relay forwards one MTU-sized packet at a time.
    const ta = await TunDevice.open({ name: "syn0", netns: a, kernelAddress: parseCidr(`10.7.${opts.subnet}.1/24`), offload: false });
    const tb = await TunDevice.open({ name: "syn0", netns: b, kernelAddress: parseCidr(`10.7.${opts.subnet}.2/24`), offload: false });
    relay = new Relay({ a: ta, b: tb, impair: opts.impair, seed: opts.seed });
    const sink = await startIn(b, ["python3", "-u", PEER_PY, "sink", "5001"], /ready/);
    try {
      const sent = await peer<{ seconds: number }>(a, ["send", `10.7.${opts.subnet}.2`, 5001, opts.n, "--cc", opts.cc, ...(opts.fin === undefined ? [] : ["--fin", opts.fin]), ...(opts.sample === undefined ? [] : ["--sample", opts.sample])], 600_000);
      return sent.seconds;
    } finally {
      sink.stop();
    }
  } finally {
    if (relay !== undefined) opts.lateness?.(relay.stats.lateness);
    await relay?.close();
    await removeNamespace(a);
    await removeNamespace(b);
  }
}

/** Where a sender's FIN goes, set by how the application half-closes (loss-table.ts explains both). */
export type FinPlacement = "on-last" | "alone";

/**
 * synack (client) sends `n` bytes to `port` and waits until the receiver closes; seconds from
 * connect. With `fin` "alone" it half-closes only once nothing is left unsent (tcpi_notsent_bytes
 * 0, what SIOCOUTQNSD reports for the kernel sender); otherwise right after the last write.
 */
export function synackSend(stack: LiveStack, address: ReturnType<typeof parseCidr>["address"], port: number, n: number, fin?: FinPlacement): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const socket: LiveSocket = stack.connect(address, port);
    const block = new Uint8Array(64 * 1024).fill(0x61);
    let left = n;
    let ending = false;
    const endOnceSent = (): void => {
      const poll = setInterval(() => {
        if (socket.pendingWrites > 0 || tcpInfo(socket.conn, stack.now()).notsentBytes > 0) return;
        clearInterval(poll);
        socket.end();
      }, 0.5);
    };
    const pump = (): void => {
      while (left > 0) {
        const k = Math.min(left, block.length);
        left -= k;
        if (!socket.write(k === block.length ? block : block.subarray(0, k))) return;
      }
      if (ending) return;
      ending = true;
      if (fin === "alone") endOnceSent();
      else socket.end();
    };
    socket.onConnect = pump;
    socket.onDrain = pump;
    socket.onData = () => {};
    // Done when the receiver, having read everything, closed its side (as peer.py's send).
    socket.onEnd = () => {
      socket.close();
      resolve((performance.now() - start) / 1000);
    };
    socket.onClose = (error) => {
      if (error !== undefined) reject(new Error(`synack sender: ${error.code}`));
    };
  });
}
