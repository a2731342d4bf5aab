/**
 * The programs behind `synack tun`, `synack tunnel` and `synack relay`: a synack stack on
 * a TUN device or a UDP tunnel with built-in services, and the impairment relay.
 *
 *   synack tun --addr 10.7.0.2/24 [--name syn0] [--netns NAME] [--kernel-addr 10.7.0.1/24]
 *              [--mtu N] [--attach] [--no-offload] SERVICES
 *   synack tunnel --listen HOST:PORT [--peer HOST:PORT] --addr 10.7.0.2/24 [--mtu N] [--no-batch] SERVICES
 *   synack relay --a SPEC --b SPEC [--loss P] [--delay MS] [--jitter MS] [--reorder P]
 *              [--duplicate P] [--corrupt P] [--rate BITS] [--queue N] [--seed N]
 *
 *   SERVICES: [--echo PORT] [--discard PORT] [--http PORT] [--get URL [--out FILE]]
 *             [--pcap FILE] [--trace] [--table SECONDS] [--web PORT [--web-host ADDR] [--web-history N] [--web-dir DIR]]
 *
 * Each function takes argv (without the subcommand) and an io object, and resolves to an
 * exit code; the CLI's main wires them in. SIGUSR1 prints the connection table.
 */
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Millis } from "../env.js";
import { InvalidSettingError } from "../invalid-setting.js";
import type { LinkConfig } from "../sim/link.js";
import { PcapngWriter, PcapWriter, type PacketCapture } from "../trace/capture.js";
import type { FourTuple, TraceEvent, TraceSink } from "../trace/events.js";
import { formatEndpoint } from "../trace/format.js";
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, type TcpSegment } from "../wire/tcp.js";
import { Relay } from "./relay.js";
import { discardService } from "./services/discard.js";
import { echoService } from "./services/echo.js";
import { HttpClientError, httpRequest, httpService, httpTarget } from "./services/http.js";
import { DEFAULT_LIVE_HISTORY, LiveEventStream, LiveFeed, serveLive } from "./live-web.js";
import { LiveStack, type PacketDirection, type PacketTap } from "./services/live.js";
import { defaultKernelAddress, formatCidr, parseCidr, TunDevice, type Cidr, type PacketLink } from "./tun.js";
import { parseHostPort, UdpTunnel, type HostPort } from "./udp-tunnel.js";
import { defaultWebDir, type WebServer } from "./web-server.js";
import { argsMessage } from "./args-message.js";

/** Where a command writes, and what stops it. */
export interface CliIo {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string): unknown };
  /** Aborting it stops a long-running command. Default: SIGINT or SIGTERM. */
  signal?: AbortSignal;
  /** Print the connection table when this emits (default: process SIGUSR1). Return an unsubscribe function. */
  onTableRequest?: (print: () => void) => () => void;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr };
}

class UsageError extends Error {}

const SERVICE_OPTIONS = {
  echo: { type: "string" },
  discard: { type: "string" },
  http: { type: "string" },
  get: { type: "string" },
  out: { type: "string" },
  pcap: { type: "string" },
  trace: { type: "boolean" },
  table: { type: "string" },
  web: { type: "string" },
  "web-host": { type: "string" },
  "web-history": { type: "string" },
  "web-dir": { type: "string" },
  mtu: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const WEB_USAGE = `--web PORT serves the playground page on http://127.0.0.1:PORT/ (--web-host to listen elsewhere)
in live mode: the stack's trace events stream to it as they happen, with a connection picker;
the newest --web-history messages (default ${DEFAULT_LIVE_HISTORY.maxMessages}, at most 16 MiB) are kept for pages opened later.
--web-dir DIR serves another build of the page (default: the package's dist/web).`;

const TUN_USAGE = `usage: synack tun --addr 10.7.0.2/24 [--addr fd00::2/64] [--name syn0] [--netns NAME] [--kernel-addr CIDR] [--mtu N] [--attach]
                  [--no-offload] [--echo PORT] [--discard PORT] [--http PORT] [--get URL [--out FILE]] [--pcap FILE] [--trace] [--table SECONDS]
                  [--web PORT [--web-host ADDR] [--web-history N] [--web-dir DIR]]

Runs a synack stack on a Linux TUN device (needs root). --addr is synack's address, IPv4 or
IPv6; give it twice for both families on one device (the first is the primary). The kernel's
side of the device gets --kernel-addr (default: the first host of each subnet, e.g.
10.7.0.1/24 and fd00::1/64). No neighbour discovery is needed: TUN carries IP directly. --netns puts the device in that network namespace (created if missing, and then
deleted on exit). --attach uses an existing device made with 'ip tuntap add dev NAME mode tun'
and leaves its configuration alone. The device uses virtio-net checksum and TCP segmentation
offloads (64 KiB segments each way) unless --no-offload or --attach is given, or the kernel
refuses them; then one packet per read and write. --get fetches a URL through synack, prints its status,
length and SHA-256 and exits. SIGUSR1 prints the connection table.
${WEB_USAGE}`;

const TUNNEL_USAGE = `usage: synack tunnel --listen HOST:PORT [--peer HOST:PORT] --addr 10.7.0.2/24 [--mtu N] [--no-batch]
                  [--echo PORT] [--discard PORT] [--http PORT] [--get URL [--out FILE]] [--pcap FILE] [--trace] [--table SECONDS]
                  [--web PORT [--web-host ADDR] [--web-history N] [--web-dir DIR]]

Runs a synack stack whose link is a UDP tunnel: each IP packet in one datagram to --peer.
Without --peer the peer is learnt from the first datagram. No root needed. On Linux the
datagrams go in batches (sendmmsg/recvmmsg, with UDP_SEGMENT and UDP_GRO offloads where
the kernel has them); --no-batch, or a platform without them, uses node:dgram, one
datagram per call. Either end may use either. Two processes:
  synack tunnel --listen 127.0.0.1:7001 --peer 127.0.0.1:7002 --addr 10.7.0.1/24 --http 80
  synack tunnel --listen 127.0.0.1:7002 --peer 127.0.0.1:7001 --addr 10.7.0.2/24 --get http://10.7.0.1/bytes/1000000
${WEB_USAGE}`;

const RELAY_USAGE = `usage: synack relay --a SPEC --b SPEC [--loss P] [--loss-by packet|sequence] [--delay MS] [--jitter MS] [--reorder P] [--reorder-delay MS]
                    [--duplicate P] [--corrupt P] [--rate BITS_PER_S] [--queue N] [--seed N] [--stats SECONDS]

Forwards IP packets between two links through the simulator's impairments (each direction alike).
--loss-by sequence keys each TCP segment's loss on its place in its byte stream, so two stacks
run through the same --seed lose the same bytes (default packet: one draw per packet).
SPEC is one of
  tun:NETNS:CIDR[:NAME]            a TUN device in namespace NETNS (created if missing), kernel side CIDR
  udp:LISTEN_HOST:PORT[:PEER_HOST:PORT]  a UDP tunnel to a 'synack tunnel' process
Example (kernel to kernel across 1% loss and 20 ms each way):
  synack relay --a tun:syn-a:10.7.2.1/24 --b tun:syn-b:10.7.2.2/24 --loss 0.01 --delay 20`;

export async function runTun(argv: string[], io: CliIo = processIo()): Promise<number> {
  return main(io, "tun", argv, async () => {
    const { values } = parseArgs({
      args: argv,
      options: { ...SERVICE_OPTIONS, addr: { type: "string", multiple: true }, name: { type: "string" }, netns: { type: "string" }, "kernel-addr": { type: "string", multiple: true }, attach: { type: "boolean" }, "no-offload": { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) return usage(io, TUN_USAGE);
    if (values.addr === undefined || values.addr.length === 0) throw new UsageError("--addr is required (synack's address, e.g. 10.7.0.2/24 or fd00::2/64)");
    const addrs = values.addr.map((a) => parseCidr(a));
    if (new Set(addrs.map((a) => a.address.family)).size !== addrs.length) throw new UsageError("--addr: at most one address per family");
    if (values.netns === "") throw new UsageError("--netns needs a namespace name");
    const attach = values.attach === true;
    const kernelAddress = values["kernel-addr"] !== undefined ? values["kernel-addr"].map((a) => parseCidr(a)) : attach ? undefined : addrs.map((a) => defaultKernelAddress(a));
    checkTunAddresses(addrs, kernelAddress ?? []);
    const mtu = mtuOption(values.mtu, 1500);
    const plan = planServices(values);
    const link = await TunDevice.open({
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values.netns !== undefined ? { netns: values.netns, createNetns: true } : {}),
      mtu,
      kernelAddress,
      attach,
      ...(values["no-offload"] === true ? { offload: false } : {}),
    });
    link.onError = (e) => io.stderr.write(`synack: ${e.message}\n`);
    const where = values.netns !== undefined ? ` in netns ${values.netns}` : "";
    const kernelSide = kernelAddress !== undefined ? `, kernel side ${kernelAddress.map(formatCidr).join(" ")}` : "";
    io.stderr.write(`synack: ${addrs.map((a) => a.address.toString()).join(" ")} on TUN ${link.name}${where} (mtu ${link.mtu}${kernelSide})\n`);
    return runServices(io, link, addrs, plan, "kernel");
  });
}

export async function runTunnel(argv: string[], io: CliIo = processIo()): Promise<number> {
  return main(io, "tunnel", argv, async () => {
    const { values } = parseArgs({
      args: argv,
      options: { ...SERVICE_OPTIONS, addr: { type: "string" }, listen: { type: "string" }, peer: { type: "string" }, "no-batch": { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) return usage(io, TUNNEL_USAGE);
    if (values.addr === undefined) throw new UsageError("--addr is required (synack's address inside the tunnel, e.g. 10.7.0.2/24)");
    if (values.listen === undefined) throw new UsageError("--listen HOST:PORT is required");
    const addr = parseCidr(values.addr);
    const listen = parseHostPort(values.listen);
    const peer = values.peer !== undefined ? parseHostPort(values.peer, false) : undefined;
    const mtu = mtuOption(values.mtu, 1400);
    const plan = planServices(values);
    const link = await UdpTunnel.open({ listen, ...(peer !== undefined ? { peer } : {}), mtu, batch: values["no-batch"] !== true });
    const transport = link.batched ? "batched" : link.batchFallback !== undefined ? `node:dgram; batching unavailable: ${link.batchFallback}` : "node:dgram";
    io.stderr.write(`synack: ${addr.address.toString()} on ${link.name} (mtu ${link.mtu}, ${transport})\n`);
    return runServices(io, link, [addr], plan, "peer");
  });
}

export async function runRelay(argv: string[], io: CliIo = processIo()): Promise<number> {
  return main(io, "relay", argv, async () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        a: { type: "string" }, b: { type: "string" }, loss: { type: "string" }, "loss-by": { type: "string" }, delay: { type: "string" }, jitter: { type: "string" },
        reorder: { type: "string" }, "reorder-delay": { type: "string" }, duplicate: { type: "string" }, corrupt: { type: "string" },
        rate: { type: "string" }, queue: { type: "string" }, seed: { type: "string" }, stats: { type: "string" }, mtu: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) return usage(io, RELAY_USAGE);
    if (values.a === undefined || values.b === undefined) throw new UsageError("--a and --b are required");
    const impair: LinkConfig = {};
    const set = <K extends keyof LinkConfig>(key: K, value: LinkConfig[K] | undefined): void => {
      if (value !== undefined) impair[key] = value;
    };
    set("loss", numberOption("loss", values.loss));
    const lossBy = values["loss-by"];
    if (lossBy !== undefined && lossBy !== "packet" && lossBy !== "sequence") throw new UsageError(`--loss-by must be packet or sequence, got ${lossBy}`);
    set("lossBy", lossBy);
    set("delay", numberOption("delay", values.delay));
    set("jitter", numberOption("jitter", values.jitter));
    set("reorder", numberOption("reorder", values.reorder));
    set("reorderDelay", numberOption("reorder-delay", values["reorder-delay"]));
    set("duplicate", numberOption("duplicate", values.duplicate));
    set("corrupt", numberOption("corrupt", values.corrupt));
    set("queueLimit", numberOption("queue", values.queue));
    if (values.rate !== undefined) impair.rate = parseRate(values.rate);
    const mtu = mtuOption(values.mtu, 1500);
    const seed = numberOption("seed", values.seed);
    const statsEvery = nonNegative("stats", numberOption("stats", values.stats));
    // Everything the relay would reject is rejected before a device or socket is opened.
    Relay.checkOptions({ impair, ...(seed !== undefined ? { seed } : {}) });
    const specs = [linkSpec(values.a), linkSpec(values.b)];
    const links: PacketLink[] = [];
    let relay: Relay;
    try {
      for (const spec of specs) links.push(await openSpec(spec, mtu));
      relay = new Relay({ a: links[0]!, b: links[1]!, impair, ...(seed !== undefined ? { seed } : {}) });
    } catch (e) {
      await Promise.all(links.map((l) => l.close()));
      throw e;
    }
    io.stderr.write(`synack relay: ${links[0]!.name} <-> ${links[1]!.name}, ${JSON.stringify(impair)}, seed ${relay.seed}\n`);
    const printStats = (): void => {
      const s = relay.stats;
      const line = (n: string, x: typeof s.aToB): string =>
        `${n}: offered ${x.offered} delivered ${x.delivered} lost ${x.losses} queue-drops ${x.queueDrops} dup ${x.duplicated} corrupt ${x.corrupted} reordered ${x.reordered}`;
      const late = s.lateness;
      io.stderr.write(`${line("a->b", s.aToB)}\n${line("b->a", s.bToA)}\nheld back ${late.held}: late ${late.meanMs.toFixed(2)} ms mean, ${late.maxMs.toFixed(1)} ms max, ${late.over2Ms} more than 2 ms\n`);
    };
    const interval = statsEvery !== undefined && statsEvery > 0 ? setInterval(printStats, statsEvery * 1000) : undefined;
    const unsubscribe = (io.onTableRequest ?? onSigusr1)(printStats);
    try {
      await waitForStop(io);
    } finally {
      if (interval !== undefined) clearInterval(interval);
      unsubscribe();
      printStats();
      await relay.close();
    }
    return 0;
  });
}

/**
 * Refuses addresses that configure without complaint and then carry nothing: synack's
 * address given to the kernel too (the kernel takes the packets as its own and never
 * writes them to the device), or an IPv4 subnet's network or broadcast address, which
 * Linux treats as the subnet's own (RFC 919, RFC 1122 3.2.1.3: not a host's address).
 */
function checkTunAddresses(addrs: readonly Cidr[], kernel: readonly Cidr[]): void {
  for (const a of addrs) {
    if (kernel.some((k) => k.address.equals(a.address))) throw new UsageError(`--kernel-addr ${a.address.toString()} is synack's --addr too; the two sides of the device need addresses of their own`);
    if (a.address.family !== 4 || a.prefix > 30) continue;
    const size = 2 ** (32 - a.prefix);
    const host = a.address.w3 % size;
    if (host === 0 || host === size - 1) throw new UsageError(`--addr ${formatCidr(a)} is the subnet's ${host === 0 ? "network" : "broadcast"} address, not one a host can use`);
  }
}

/** One side of the relay, as its SPEC names it. */
type LinkSpec = { kind: "tun"; netns: string; kernelAddress: Cidr; name: string | undefined } | { kind: "udp"; listen: HostPort; peer: HostPort | undefined };

/** Reads a SPEC (tun:NETNS:CIDR[:NAME] or udp:HOST:PORT[:PEER_HOST:PORT]) without opening anything. */
function linkSpec(spec: string): LinkSpec {
  const parts = spec.split(":");
  if (parts[0] === "tun" && (parts.length === 3 || parts.length === 4) && parts[1] !== "") {
    return { kind: "tun", netns: parts[1]!, kernelAddress: parseCidr(parts[2]!), name: parts[3] };
  }
  // udp:HOST:PORT[:PEER_HOST:PORT], an IPv6 host in brackets: udp:[::1]:7401.
  const udp = /^udp:((?:\[[^\]]+\]|[^:[\]]+):\d+)(?::((?:\[[^\]]+\]|[^:[\]]+):\d+))?$/.exec(spec);
  if (udp !== null) return { kind: "udp", listen: parseHostPort(udp[1]!), peer: udp[2] !== undefined ? parseHostPort(udp[2], false) : undefined };
  throw new UsageError(`bad link spec ${JSON.stringify(spec)}: expected tun:NETNS:CIDR[:NAME] or udp:HOST:PORT[:PEER_HOST:PORT]`);
}

/** Opens one side of the relay. */
function openSpec(spec: LinkSpec, mtu: number): Promise<PacketLink> {
  if (spec.kind === "tun") {
    // Plain device: the relay forwards packets one at a time, each within the MTU.
    return TunDevice.open({ netns: spec.netns, createNetns: true, kernelAddress: spec.kernelAddress, mtu, offload: false, ...(spec.name !== undefined ? { name: spec.name } : {}) });
  }
  return UdpTunnel.open({ listen: spec.listen, mtu, ...(spec.peer !== undefined ? { peer: spec.peer } : {}) });
}

interface ServiceValues {
  echo?: string | undefined;
  discard?: string | undefined;
  http?: string | undefined;
  get?: string | undefined;
  out?: string | undefined;
  pcap?: string | undefined;
  trace?: boolean | undefined;
  table?: string | undefined;
  web?: string | undefined;
  "web-host"?: string | undefined;
  "web-history"?: string | undefined;
  "web-dir"?: string | undefined;
}

/** The services and outputs a command line asks for, checked before a link is opened. */
interface ServicePlan {
  listeners: { name: "echo" | "discard" | "http"; port: number }[];
  get: { url: string; out: string | undefined } | undefined;
  pcap: string | undefined;
  trace: boolean;
  /** Seconds between connection tables on stderr (0: only on SIGUSR1). */
  tableSeconds: number;
  web: { port: number; host: string | undefined; history: number; dir: string } | undefined;
}

/** Reads the SERVICES options; a bad one is a usage error, raised before anything is opened. */
function planServices(values: ServiceValues): ServicePlan {
  const listeners: ServicePlan["listeners"] = [];
  for (const name of ["echo", "discard", "http"] as const) {
    const text = values[name];
    if (text === undefined) continue;
    const port = portOption(name, text);
    const taken = listeners.find((l) => l.port === port);
    if (taken !== undefined) throw new UsageError(`--${name} ${port}: port ${port} is already --${taken.name}'s; give each service a port of its own`);
    listeners.push({ name, port });
  }
  if (values.get !== undefined) {
    try {
      httpTarget(values.get);
    } catch (e) {
      if (e instanceof HttpClientError) throw new UsageError(`--get: ${e.message}`);
      throw e;
    }
  } else if (values.out !== undefined) throw new UsageError("--out needs --get");
  if (values.web === undefined) {
    for (const name of ["web-host", "web-history", "web-dir"] as const) if (values[name] !== undefined) throw new UsageError(`--${name} needs --web`);
  }
  const webDir = values["web-dir"] ?? defaultWebDir();
  if (values.web !== undefined && !existsSync(join(webDir, "index.html"))) {
    throw new UsageError(`--web needs the playground page built in ${JSON.stringify(webDir)}, which holds no index.html; run \`npm run build:web\` to build the package's own`);
  }
  return {
    listeners,
    get: values.get !== undefined ? { url: values.get, out: values.out } : undefined,
    pcap: values.pcap,
    trace: values.trace === true,
    tableSeconds: nonNegative("table", numberOption("table", values.table)) ?? 0,
    web:
      values.web !== undefined
        ? {
            port: portOption("web", values.web, 0),
            host: values["web-host"],
            history: positiveInt("web-history", values["web-history"], DEFAULT_LIVE_HISTORY.maxMessages),
            dir: webDir,
          }
        : undefined,
  };
}

/**
 * Runs the stack with the planned services until stopped (or until --get is done), then
 * closes the link: whatever fails after the link was opened, it is closed.
 */
async function runServices(io: CliIo, link: PacketLink, addrs: readonly Cidr[], plan: ServicePlan, peerName: string): Promise<number> {
  let stack: LiveStack | undefined;
  let pcap: PcapFile | undefined;
  let webServer: WebServer | undefined;
  let interval: ReturnType<typeof setInterval> | undefined;
  let unsubscribe: (() => void) | undefined;
  try {
    const address = addrs[0]!.address;
    pcap = plan.pcap !== undefined ? new PcapFile(plan.pcap, link.name) : undefined;
    const live = plan.web !== undefined ? new LiveFeed(new LiveEventStream({ maxMessages: plan.web.history }), "synack") : undefined;
    const sinks: TraceSink[] = [];
    if (plan.trace) sinks.push({ enabled: true, emit: (e) => io.stderr.write(formatTraceEvent(e)) });
    if (live !== undefined) sinks.push(live.sink);
    const trace: TraceSink | undefined = sinks.length === 0 ? undefined : sinks.length === 1 ? sinks[0] : { enabled: true, emit: (e) => sinks.forEach((s) => s.emit(e)) };
    const taps: PacketTap[] = [];
    const capture = pcap;
    if (capture !== undefined) taps.push((time, direction, packet) => capture.write(time, direction, packet));
    if (live !== undefined) taps.push((_time, direction, packet) => live.packet(direction, packet));
    const running = new LiveStack({
      link,
      address,
      // Every address on the one device, each with its connected prefix and a default route.
      ...(addrs.length > 1 ? { interfaces: addrs.map((a, i) => ({ name: `tun${i}`, address: a.address, prefixLength: a.prefix })) } : {}),
      ...(trace !== undefined ? { trace } : {}),
      ...(taps.length > 0 ? { tap: (time: Millis, direction: PacketDirection, packet: Uint8Array) => taps.forEach((t) => t(time, direction, packet)) } : {}),
    });
    stack = running;
    live?.attach(running);
    const printTable = (): void => {
      io.stderr.write(connectionTable(running));
    };
    unsubscribe = (io.onTableRequest ?? onSigusr1)(printTable);
    if (plan.tableSeconds > 0) interval = setInterval(printTable, plan.tableSeconds * 1000);
    if (live !== undefined && plan.web !== undefined) webServer = await startLiveServer(io, live, plan.web, addrs, link.name, peerName);
    const starts = { echo: echoService, discard: discardService, http: httpService };
    for (const { name, port } of plan.listeners) {
      starts[name](running, port);
      io.stderr.write(`synack: ${name} on ${addrs.map((a) => formatEndpoint(a.address, port)).join(" ")}\n`);
    }
    if (plan.get !== undefined) return await fetchOnce(io, running, plan.get.url, plan.get.out);
    await waitForStop(io);
    return 0;
  } finally {
    if (interval !== undefined) clearInterval(interval);
    unsubscribe?.();
    if (stack !== undefined) {
      // Reset what is still open so kernel peers learn at once instead of retrying into a gone device.
      for (const c of stack.host.tcp.allConnections()) c.abort("synack exiting");
      stack.host.poll(stack.now());
      await stack.close();
    } else await link.close();
    pcap?.close();
    await webServer?.close();
  }
}

/** The live view's server (planServices made sure the page is built). */
async function startLiveServer(io: CliIo, live: LiveFeed, where: { port: number; host: string | undefined; dir: string }, addrs: readonly Cidr[], linkName: string, peerName: string): Promise<WebServer> {
  const { port, host, dir } = where;
  const server = await serveLive({ dir, port, ...(host !== undefined ? { host } : {}), stream: live.stream, hello: { host: "synack", addresses: addrs.map((a) => a.address.toString()), peerName, link: linkName } });
  io.stderr.write(`synack: live view on ${server.url}\n`);
  return server;
}

async function fetchOnce(io: CliIo, stack: LiveStack, url: string, out: string | undefined): Promise<number> {
  let fd: number | undefined;
  let toStdout = false;
  if (out === "-") toStdout = true;
  else if (out !== undefined) fd = openSync(out, "w");
  try {
    const res = await httpRequest(stack, url, {
      ...(io.signal !== undefined ? { signal: io.signal } : {}),
      onBody: (chunk) => {
        if (fd !== undefined) writeSync(fd, chunk);
        else if (toStdout) io.stdout.write(chunk);
      },
    });
    const secs = res.elapsedMs / 1000;
    const mbit = (res.length * 8) / 1e6 / Math.max(secs, 1e-6);
    const summary = `${res.status} ${res.reason}, ${res.length} bytes in ${secs.toFixed(2)} s (${mbit.toFixed(0)} Mbit/s), sha256 ${res.sha256}\n`;
    if (toStdout) io.stderr.write(summary);
    else io.stdout.write(summary);
    return res.status >= 200 && res.status < 300 ? 0 : 1;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** One line per connection and listener, like `ss -tn` with a few TCP internals. */
export function connectionTable(stack: LiveStack): string {
  const rows: string[][] = [["State", "Recv-Q", "Send-Q", "Local", "Peer", "cwnd", "srtt", "rto", "snd.wnd", "rcv.wnd", "retrans", "in/out"]];
  for (const l of stack.host.tcp.allListeners()) {
    rows.push(["LISTEN", String(l.acceptQueue.length), String(l.backlog), `*:${l.port}`, "*:*", "", "", "", "", "", "", ""]);
  }
  for (const { info: i } of stack.host.tcp.allSockets()) {
    rows.push([
      i.state,
      String(i.receiveQueued),
      String(i.sendQueued),
      formatEndpoint(i.tuple.localAddr, i.tuple.localPort),
      formatEndpoint(i.tuple.remoteAddr, i.tuple.remotePort),
      String(i.cwnd),
      i.srtt === undefined ? "-" : `${i.srtt.toFixed(1)}ms`,
      `${Math.round(i.rto)}ms`,
      String(i.sndWnd),
      String(i.rcvWnd),
      String(i.retransmits),
      `${i.segmentsIn}/${i.segmentsOut}`,
    ]);
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  const link = stack.link.counters;
  const footer = `link ${stack.link.name}: ${link.packetsIn} packets in, ${link.packetsOut} out, ${link.dropsOut} dropped\n`;
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd()).join("\n") + "\n" + footer;
}

/** A tcpdump-like line per trace event of interest (segments, state changes, drops, errors, timers). */
export function formatTraceEvent(e: TraceEvent): string {
  const t = (e.time / 1000).toFixed(6);
  switch (e.type) {
    case "segment-in":
    case "segment-out": {
      const { tuple } = e;
      const local = formatEndpoint(tuple.localAddr, tuple.localPort);
      const remote = formatEndpoint(tuple.remoteAddr, tuple.remotePort);
      const arrow = e.type === "segment-in" ? `${remote} > ${local}` : `${local} > ${remote}`;
      const re = e.type === "segment-out" && e.retransmit ? " (retransmit)" : "";
      return `${t} ${e.type === "segment-in" ? "in " : "out"} ${arrow} ${describeSegment(e.segment)}${re}\n`;
    }
    case "state":
      return `${t} state ${endpoint(e.tuple)} ${e.from} -> ${e.to} (${e.cause})\n`;
    case "drop":
      return `${t} drop ${e.reason}${e.tuple !== undefined ? ` ${endpoint(e.tuple)}` : ""}${e.detail !== undefined ? `: ${e.detail}` : ""}\n`;
    case "error":
      return `${t} error ${endpoint(e.tuple)} ${e.code}: ${e.message}\n`;
    case "timer-fired":
      return `${t} timer ${e.timer} fired ${endpoint(e.tuple)} (backoff ${e.backoff})\n`;
    default:
      return "";
  }
}

function endpoint(t: FourTuple): string {
  return `${formatEndpoint(t.localAddr, t.localPort)}<->${formatEndpoint(t.remoteAddr, t.remotePort)}`;
}

function describeSegment(s: TcpSegment): string {
  let flags = "";
  if (s.flags & SYN) flags += "S";
  if (s.flags & FIN) flags += "F";
  if (s.flags & RST) flags += "R";
  if (s.flags & PSH) flags += "P";
  if (s.flags & URG) flags += "U";
  if (s.flags & ECE) flags += "E";
  if (s.flags & CWR) flags += "W";
  if (s.flags & ACK) flags += ".";
  const ack = s.flags & ACK ? ` ack ${s.ack >>> 0}` : "";
  return `[${flags}] seq ${s.seq >>> 0}${ack} win ${s.window} len ${s.payload.length}`;
}

/**
 * Every packet in and out, written as it passes: classic pcap (raw IPv4), or pcapng with
 * each packet's direction when the file name ends in .pcapng.
 */
class PcapFile {
  private fd: number | undefined;
  private readonly writer: PacketCapture;
  constructor(
    path: string,
    private readonly iface: string,
  ) {
    const fd = openSync(path, "w");
    this.fd = fd;
    const sink = (chunk: Uint8Array): void => {
      if (this.fd !== undefined) writeSync(this.fd, chunk);
    };
    this.writer = path.endsWith(".pcapng") ? new PcapngWriter(sink, { application: "synack" }) : new PcapWriter(sink);
  }
  write(timeMs: Millis, direction: PacketDirection, packet: Uint8Array): void {
    this.writer.packet(timeMs, this.iface, packet, direction === "in" ? "inbound" : "outbound");
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function onSigusr1(print: () => void): () => void {
  process.on("SIGUSR1", print);
  return () => process.off("SIGUSR1", print);
}

/** Resolves when io.signal aborts, or on SIGINT / SIGTERM when there is no io.signal. */
function waitForStop(io: CliIo): Promise<void> {
  return new Promise<void>((resolve) => {
    if (io.signal !== undefined) {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener("abort", () => resolve(), { once: true });
      return;
    }
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** A port number from `lowest` (1 for a service; 0, any free port, for the live view) to 65535. */
function portOption(name: string, text: string, lowest = 1): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < lowest || port > 65535 || text.trim() === "") throw new UsageError(`--${name} must be a port number (${lowest}-65535), got ${JSON.stringify(text)}`);
  return port;
}

function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || text.trim() === "") throw new UsageError(`--${name} must be a number, got ${JSON.stringify(text)}`);
  return n;
}

function nonNegative(name: string, n: number | undefined): number | undefined {
  if (n !== undefined && n < 0) throw new UsageError(`--${name} must not be negative, got ${n}`);
  return n;
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  const n = intOption(name, text, fallback);
  if (n === 0) throw new UsageError(`--${name} must be at least 1, got ${JSON.stringify(text)}`);
  return n;
}

function intOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || text.trim() === "") throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * The smallest MTU TCP can use: a segment of Linux's smallest MSS (48 bytes,
 * tcp_min_snd_mss) with 40 bytes of IP and TCP headers and up to 40 of options. Below it
 * every data segment is too big for the link and a connection stalls without a word.
 */
const TCP_MIN_MTU = 128;

function mtuOption(text: string | undefined, fallback: number): number {
  const mtu = intOption("mtu", text, fallback);
  if (mtu < TCP_MIN_MTU) throw new UsageError(`--mtu ${mtu} leaves TCP no room: it needs ${TCP_MIN_MTU} bytes (a 48-byte segment, Linux's smallest, with 40 of headers and up to 40 of options)`);
  return mtu;
}

/** "10M", "1.5G", "64k" or plain bits per second. */
function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)(?:bit|bps|b)?(?:\/s)?$/i.exec(text.trim());
  if (m === null) throw new UsageError(`--rate must be bits per second like 10M or 1.5G, got ${JSON.stringify(text)}`);
  const scale = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * scale;
}

function usage(io: CliIo, text: string): number {
  io.stdout.write(`${text}\n`);
  return 0;
}

/**
 * Runs a command's body and turns what it throws into an exit code: 2 for the command
 * line's mistakes, with a pointer to the usage (not the whole usage text, which buried the
 * one line that mattered), 1 for what failed at run time.
 */
async function main(io: CliIo, command: string, argv: readonly string[], body: () => Promise<number>): Promise<number> {
  const hint = `Run "synack ${command} --help" for usage.`;
  try {
    return await body();
  } catch (e) {
    // Settings the stack, a device or the relay rejected are the command line's fault too.
    if (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`synack: ${argsMessage(e, argv)}\n${hint}\n`);
      return 2;
    }
    if (e instanceof UsageError || e instanceof InvalidSettingError) {
      io.stderr.write(`synack: ${e.message}\n${hint}\n`);
      return 2;
    }
    io.stderr.write(`synack: ${(e as Error).message}\n`);
    return 1;
  }
}
