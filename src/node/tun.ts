/**
 * A Linux TUN device as a packet link: the kernel routes IP packets into the device and
 * we read them from a file descriptor; what we write to the descriptor the kernel receives
 * as if it came in on that interface. IFF_TUN | IFF_NO_PI: each read or write is exactly
 * one bare IP packet, no link-layer header and no packet-information prefix.
 *
 * System calls go through koffi (FFI to libc): open, ioctl(TUNSETIFF), fcntl(O_NONBLOCK),
 * read, write, setns (and, in fd-waiter.ts, poll and pipe2). No native addon to build.
 *
 * Reading without blocking the event loop. The descriptor is non-blocking. One `poll()`
 * on {tun fd, wake pipe} runs as a koffi async call (a libuv worker thread blocks in it);
 * when it returns the main thread drains the descriptor with plain synchronous `read()`s
 * (each one a cheap syscall that either returns a packet or EAGAIN) and polls again only
 * once the queue is empty. So a burst of N packets costs one thread hop, not N. The other
 * obvious design, `fs.read()` on a blocking descriptor, costs a thread-pool round trip per
 * packet and cannot be cancelled at shutdown (a read blocked in a worker keeps the process
 * alive until a packet happens to arrive); the wake pipe makes close() immediate.
 * Measured on this project's 2-core machine, the kernel sending 64 MiB into synack's
 * discard service (MTU 1500): 0.9-1.4 Gbit/s this way, 0.19-0.23 Gbit/s with fs.read.
 *
 * Writing is a synchronous `write()`: a TUN write hands the packet to the kernel's receive
 * path (netif_rx) and does not block; a failed write (the device went down) is counted as a
 * drop, like a full queue on a real link.
 *
 * Offloads (the default; `offload: false` or `synack tun --no-offload` turns them off).
 * Opened with IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), as
 * wireguard-go and gVisor do, every read and write starts with a 10-byte virtio-net header
 * (vnet.ts). The kernel then hands us TCP segments of up to 64 KiB with their checksum left
 * to the "device" (passed to the engine whole and marked checksum-valid), and takes from us
 * 64 KiB super-packets that tcp-coalesce.ts builds from the engine's consecutive segments:
 * sends are queued and written once the engine's synchronous pass is over (a microtask),
 * so one flush of 44 segments costs one write and one trip through the kernel's receive
 * path instead of 44. If the kernel refuses the ioctls the device opens plain, and if it
 * refuses a GSO write the device stops coalescing and writes segments one by one.
 *
 * Namespaces: the device is created inside a network namespace by opening /dev/net/tun
 * from within it (setns on the calling thread around open + ioctl, then back), so the
 * rest of this process stays where it was. The device is not persistent: it disappears
 * when its descriptor closes, also if the process dies.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import koffi, { type KoffiFunc } from "koffi";
import { IpAddress, IpPrefix, parseCidr as parseAnyCidr } from "../wire/address.js";
import type { GsoInfo } from "../endpoint.js";
import { splitGso } from "../wire/gso-split.js";
import { IPV6_MIN_MTU } from "../wire/ipv6.js";
import { MAX_SUPER_PACKET, runLength, writeRun } from "./tcp-coalesce.js";
import { encodeVnetHeader, receiveVnet, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_HDR_LEN } from "./vnet.js";
import { inBatch } from "./inbox.js";
import { FdWaiter } from "./fd-waiter.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";
import { checkOpening, OPENING } from "./opening.js";

// ------------------------------------------------------------------------------------------
// The link interface shared by the TUN device, the UDP tunnel and in-memory pipes.

/** Counters every packet link keeps. */
export interface LinkCounters {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Packets we could not hand on (write failed, too large, link closed). */
  dropsOut: number;
}

/**
 * A point-to-point link that carries bare IP packets: a TUN device, a UDP tunnel, an
 * in-memory pipe. It is the real-world counterpart of a simulated link: a driver sets
 * `onPacket` to feed `host.receive(now, packet)` and passes `send` as the host's Transmit.
 */
export interface PacketLink {
  /** A name for logs and captures ("syn0", "udp 127.0.0.1:7001"). */
  readonly name: string;
  /** Largest IP packet the link carries. */
  readonly mtu: number;
  readonly counters: LinkCounters;
  /**
   * Called with each received packet; the callee owns the buffer. `checksumValid` is true
   * when the link vouches for the TCP checksum (a TUN device with offloads: the kernel's
   * checksum may be left partial), and such a packet may be a TCP segment of up to 64 KiB,
   * merged from segments of `gsoSize` bytes (Endpoint.receive).
   */
  onPacket: ((packet: Uint8Array, checksumValid?: boolean, gsoSize?: number) => void) | undefined;
  /**
   * Optional: called with true before the packets of one read burst (a drain of the device)
   * and with false after them, so the stack sends once per burst (src/tcp/batch.ts).
   */
  onBatch?: ((open: boolean) => void) | undefined;
  /**
   * The link takes TCP super-packets of up to this many bytes and segments them itself
   * (a TUN device with offloads); undefined for links that take plain packets only.
   */
  readonly gsoMaxSize?: number | undefined;
  /**
   * Sends one IP packet (with `gso`, a TCP super-packet, only if `gsoMaxSize` is set); the
   * link owns the buffer afterwards. Never throws for a full or failed link: it counts a drop.
   */
  send(packet: Uint8Array, gso?: GsoInfo): void;
  /** Stops reading, releases the device or socket and undoes what opening it set up. Idempotent. */
  close(): Promise<void>;
}

export function newCounters(): LinkCounters {
  return { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, dropsOut: 0 };
}

// ------------------------------------------------------------------------------------------
// libc through koffi, loaded on first use so that importing this module costs nothing on
// machines without TUN support.

const O_RDONLY = 0;
const O_RDWR = 2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const F_GETFL = 3;
const F_SETFL = 4;
const CLONE_NEWNET = 0x40000000;
/** _IOW('T', 202, int) */
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
/** Fail with EBUSY rather than take over a device of that name that exists already. */
const IFF_TUN_EXCL = 0x8000;
const EBUSY = 16;
/** _IOW('T', 208, unsigned int): which offloads the reader handles (what the kernel may hand us). */
const TUNSETOFFLOAD = 0x400454d0;
/** _IOW('T', 216, int) */
const TUNSETVNETHDRSZ = 0x400454d8;
const TUN_F_CSUM = 0x01;
const TUN_F_TSO4 = 0x02;
const TUN_F_TSO6 = 0x04;
/** Packets at least this long are handed on in the read buffer itself rather than copied. */
const ZERO_COPY_MIN = 16384;
/** struct ifreq is 40 bytes on 64-bit Linux: char ifr_name[16], then a union (flags first). */
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

interface Libc {
  open: KoffiFunc<(path: string, flags: number) => number>;
  close: KoffiFunc<(fd: number) => number>;
  ioctl: (fd: number, request: number, type: string, arg: Uint8Array | number) => number;
  fcntlGet: (fd: number, cmd: number) => number;
  fcntlSet: (fd: number, cmd: number, type: string, value: number) => number;
  read: KoffiFunc<(fd: number, buf: Uint8Array, count: number) => number>;
  write: KoffiFunc<(fd: number, buf: Uint8Array, count: number) => number>;
  setns: KoffiFunc<(fd: number, nstype: number) => number>;
  strerror: KoffiFunc<(errnum: number) => string>;
  errno(): number;
  EAGAIN: number;
  EINTR: number;
}

let libcCache: Libc | undefined;

function libc(): Libc {
  if (libcCache !== undefined) return libcCache;
  const lib = koffi.load("libc.so.6");
  const ioctl = lib.func("int ioctl(int fd, unsigned long request, ...)");
  const fcntl = lib.func("int fcntl(int fd, int cmd, ...)");
  const errnos = koffi.os.errno;
  libcCache = {
    open: lib.func("int open(const char *path, int flags)") as Libc["open"],
    close: lib.func("int close(int fd)") as Libc["close"],
    ioctl: (fd, request, type, arg) => ioctl(fd, request, type, arg) as number,
    fcntlGet: (fd, cmd) => fcntl(fd, cmd) as number,
    fcntlSet: (fd, cmd, type, value) => fcntl(fd, cmd, type, value) as number,
    read: lib.func("long read(int fd, void *buf, unsigned long count)") as Libc["read"],
    write: lib.func("long write(int fd, const void *buf, unsigned long count)") as Libc["write"],
    setns: lib.func("int setns(int fd, int nstype)") as Libc["setns"],
    strerror: lib.func("const char *strerror(int errnum)") as Libc["strerror"],
    errno: () => koffi.errno(),
    EAGAIN: errnos.EAGAIN ?? 11,
    EINTR: errnos.EINTR ?? 4,
  };
  return libcCache;
}

/** A failed system call, with the errno name and message. */
export class SyscallError extends Error {
  constructor(
    readonly syscall: string,
    readonly errno: number,
    detail: string,
  ) {
    super(`${syscall}: ${detail} (errno ${errno})`);
    this.name = "SyscallError";
  }
}

function check(name: string, result: number): number {
  if (result < 0) {
    const c = libc();
    const e = c.errno();
    throw new SyscallError(name, e, c.strerror(e));
  }
  return result;
}

/** Why TUN devices cannot be used here, or undefined when they can (Linux, /dev/net/tun, root or CAP_NET_ADMIN). */
export function tunUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return `TUN devices need Linux (this is ${process.platform})`;
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun does not exist";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not running as root (creating TUN devices and namespaces needs CAP_NET_ADMIN)";
  try {
    libc();
  } catch (e) {
    return `koffi cannot load libc: ${(e as Error).message}`;
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------
// iproute2 and network namespaces

const execFileAsync = promisify(execFile);

/** Runs `ip [-n NETNS] ARGS...`; rejects with ip's own message on failure. */
export async function ip(args: readonly string[], netns?: string): Promise<string> {
  const full = netns !== undefined ? ["-n", netns, ...args] : [...args];
  try {
    const { stdout } = await execFileAsync("ip", full, { timeout: 10_000 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`ip ${full.join(" ")}: ${(err.stderr ?? err.message).trim()}`);
  }
}

/** Whether network device `name` exists (in `netns`, or this process's namespace). */
async function deviceExists(name: string, netns: string | undefined): Promise<boolean> {
  try {
    await ip(["link", "show", "dev", name], netns);
    return true;
  } catch {
    return false;
  }
}

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

/** `ip netns add NAME` and brings its loopback up. */
export async function createNetns(name: string): Promise<void> {
  await ip(["netns", "add", name]);
  await ip(["link", "set", "lo", "up"], name);
}

/** `ip netns del NAME`, ignoring a namespace that is already gone. */
export async function deleteNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  await ip(["netns", "del", name]);
}

/**
 * Runs `fn` with the calling thread inside network namespace `netns` (setns), then moves
 * it back. Everything in `fn` must be synchronous: sockets and devices created in it
 * belong to that namespace.
 */
export function inNetns<T>(netns: string | undefined, fn: () => T): T {
  if (netns === undefined) return fn();
  const c = libc();
  const home = check("open /proc/thread-self/ns/net", c.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  try {
    const target = check(`open /run/netns/${netns}`, c.open(`/run/netns/${netns}`, O_RDONLY | O_CLOEXEC));
    try {
      check(`setns ${netns}`, c.setns(target, CLONE_NEWNET));
    } finally {
      c.close(target);
    }
    try {
      return fn();
    } finally {
      check("setns back", c.setns(home, CLONE_NEWNET));
    }
  } finally {
    c.close(home);
  }
}

// ------------------------------------------------------------------------------------------
// Addresses

/** An address of either family with a prefix length, e.g. 10.7.0.2/24 or fd00::2/64. */
export interface Cidr {
  address: IpAddress;
  prefix: number;
}

/** "10.7.0.2/24" or "fd00::2/64"; without "/N" a host prefix (/32 or /128). */
export function parseCidr(text: string): Cidr {
  const c = parseAnyCidr(text.includes("/") ? text : `${text}/${text.includes(":") ? 128 : 32}`);
  if (c === undefined) throw new InvalidSettingError(`not an IP address with prefix length: ${JSON.stringify(text)} (expected e.g. 10.7.0.2/24 or fd00::2/64)`);
  return { address: c.address, prefix: c.length };
}

export function formatCidr(c: Cidr): string {
  return `${c.address.toString()}/${c.prefix}`;
}

/**
 * The address the kernel side of a device gets when none is given: the first host of the
 * subnet (10.7.0.1 for 10.7.0.2/24, fd00::1 for fd00::2/64), or the second when synack
 * itself took the first.
 */
export function defaultKernelAddress(synack: Cidr): Cidr {
  if (synack.prefix >= synack.address.bitLength - 1) throw new InvalidSettingError(`prefix /${synack.prefix} leaves no room for a kernel address; pass one explicitly`);
  const network = IpPrefix.of(synack.address, synack.prefix)!.network;
  const plus = (n: number): IpAddress =>
    network.family === 4 ? IpAddress.v4((network.w3 + n) >>> 0) : IpAddress.v6(network.w0, network.w1, network.w2, (network.w3 + n) >>> 0);
  const first = plus(1);
  return { address: first.equals(synack.address) ? plus(2) : first, prefix: synack.prefix };
}

// ------------------------------------------------------------------------------------------
// The device

export interface TunOptions {
  /** Interface name; the kernel picks tunN when omitted. At most 15 characters. */
  name?: string;
  /** Network namespace the device lives in (it must exist unless `createNetns` is set). Default: this process's. */
  netns?: string;
  /** Create the namespace if it does not exist, and delete it again on close. */
  createNetns?: boolean;
  /** Device MTU (default 1500). */
  mtu?: number;
  /**
   * Address (and prefix) of the kernel's side of the device. Its prefix gives the kernel a
   * route to synack's address. Omit to leave addressing alone (e.g. when attaching).
   */
  kernelAddress?: Cidr | readonly Cidr[];
  /** Extra routes to add through the device, e.g. "10.7.9.0/24". */
  routes?: string[];
  /**
   * Attach to an existing persistent device (made with `ip tuntap add dev NAME mode tun`)
   * instead of creating one: its MTU, addresses and state are left as they are, and close()
   * leaves it in place.
   */
  attach?: boolean;
  /** Packets read per burst before yielding to the event loop (default 256). */
  readBudget?: number;
  /**
   * Checksum and segmentation offloads through virtio-net headers (default true, except
   * when attaching: the features would outlive us on a device others may open plain).
   * Falls back to the plain device when the kernel refuses them; `offloading` tells.
   */
  offload?: boolean;
}

/** What the offload path did (all zero on a plain device). */
export interface OffloadCounters {
  /** TCP GSO packets read (each up to 64 KiB). */
  gsoPacketsIn: number;
  /** Super-packets written, and the engine segments they carried. */
  gsoPacketsOut: number;
  /** Of those, the ones the engine built itself (src/ip/gso-batch.ts) rather than this device's coalescer. */
  tsoPacketsOut: number;
  segmentsCoalesced: number;
  /** Reads refused (a GSO type we did not ask for, checksum offsets out of range). */
  badPacketsIn: number;
}

/** A TUN device opened by this process. */
export class TunDevice implements PacketLink {
  readonly counters = newCounters();
  onPacket: ((packet: Uint8Array, checksumValid?: boolean, gsoSize?: number) => void) | undefined;
  onBatch: ((open: boolean) => void) | undefined;
  readonly offloadCounters: OffloadCounters = { gsoPacketsIn: 0, gsoPacketsOut: 0, tsoPacketsOut: 0, segmentsCoalesced: 0, badPacketsIn: 0 };
  /** Packets the engine sent in this turn, written together by `flush` (offload path only). */
  private pending: Uint8Array[] = [];
  /** The GSO size of each pending packet that is a super-packet built by the engine (else undefined). */
  private pendingGso: Array<number | undefined> = [];
  private flushQueued = false;
  private writeBuf: Uint8Array | undefined;
  /** Still building super-packets (false after the kernel refused one). */
  private coalescing: boolean;
  /** Errors of the reader, after which the device stops reading (reported once). */
  onError: ((error: Error) => void) | undefined;
  private readBuf: Uint8Array;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly budget: number;

  private constructor(
    opening: typeof OPENING,
    readonly name: string,
    readonly mtu: number,
    readonly netns: string | undefined,
    private readonly fd: number,
    private readonly waiter: FdWaiter,
    private readonly createdNetns: boolean,
    readBudget: number,
    /** Reads and writes carry virtio-net headers with checksum and TSO offloads. */
    readonly offloading: boolean,
  ) {
    checkOpening(opening, "TunDevice");
    this.readBuf = new Uint8Array(Math.max(mtu, 65536) + (offloading ? VNET_HDR_LEN : 0));
    this.coalescing = offloading;
    if (offloading) this.writeBuf = new Uint8Array(VNET_HDR_LEN + MAX_SUPER_PACKET);
    this.budget = readBudget;
  }

  /** Creates (or attaches to) a TUN device, configures it and starts reading. */
  static async open(opts: TunOptions = {}): Promise<TunDevice> {
    const reason = tunUnavailableReason();
    if (reason !== undefined) throw new Error(`cannot open a TUN device: ${reason}`);
    const mtu = opts.mtu ?? 1500;
    if (!(Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535)) throw new InvalidSettingError(`TUN mtu must be an integer in [68, 65535], got ${showValue(mtu)}`);
    if (opts.name !== undefined && (opts.name.length === 0 || opts.name.length >= IFNAMSIZ)) {
      throw new InvalidSettingError(`interface name must have 1-15 characters, got ${JSON.stringify(opts.name)}`);
    }
    if (opts.attach === true && opts.name === undefined) throw new InvalidSettingError("attaching to an existing device needs its name");
    let createdNetns = false;
    if (opts.netns !== undefined && !netnsExists(opts.netns)) {
      if (opts.createNetns !== true) throw new Error(`network namespace ${opts.netns} does not exist (create it with: ip netns add ${opts.netns})`);
      await createNetns(opts.netns);
      createdNetns = true;
    }
    const c = libc();
    let fd = -1;
    let name: string;
    let offloading = false;
    let waiter: FdWaiter;
    try {
      // TUNSETIFF makes a device of any name it does not find, so an attach to a misspelt
      // name would quietly run on a new, unconfigured device that nothing routes to.
      if (opts.attach === true && !(await deviceExists(opts.name!, opts.netns))) {
        throw new Error(`no device named ${opts.name}${opts.netns !== undefined ? ` in netns ${opts.netns}` : ""} to attach to (create it with: ip tuntap add dev ${opts.name} mode tun)`);
      }
      ({ fd, name, offloading } = inNetns(opts.netns, () => openTunFd(c, opts.name, opts.offload ?? opts.attach !== true, opts.attach !== true)));
      check("fcntl(F_SETFL, O_NONBLOCK)", c.fcntlSet(fd, F_SETFL, "int", check("fcntl(F_GETFL)", c.fcntlGet(fd, F_GETFL)) | O_NONBLOCK));
      const w = FdWaiter.open(fd);
      if ("errno" in w) throw new SyscallError("pipe2", w.errno, c.strerror(w.errno));
      waiter = w;
    } catch (e) {
      if (fd >= 0) c.close(fd);
      if (createdNetns && opts.netns !== undefined) await deleteNetns(opts.netns).catch(() => {});
      throw e;
    }
    const dev = new TunDevice(OPENING, name, mtu, opts.netns, fd, waiter, createdNetns, opts.readBudget ?? 256, offloading);
    if (opts.attach !== true) {
      try {
        // No IPv6 link-local address: the kernel would otherwise send router solicitations and MLD
        // reports into the device. Below IPv6's 1,280 bytes the device has no IPv6 at all, and
        // the kernel refuses the IPv6-only setting (EAFNOSUPPORT): an IPv4 device is left as it is.
        await ip(["link", "set", "dev", name, "mtu", String(mtu), ...(mtu >= IPV6_MIN_MTU ? ["addrgenmode", "none"] : [])], opts.netns);
        const kernel = opts.kernelAddress === undefined ? [] : Array.isArray(opts.kernelAddress) ? opts.kernelAddress : [opts.kernelAddress as Cidr];
        // IPv6: nodad, so the address is usable at once rather than tentative for a second
        // of duplicate address detection on a link where nobody else can hold it.
        for (const k of kernel) await ip(k.address.family === 6 ? ["-6", "addr", "add", formatCidr(k), "dev", name, "nodad"] : ["addr", "add", formatCidr(k), "dev", name], opts.netns);
        await ip(["link", "set", "dev", name, "up"], opts.netns);
        for (const route of opts.routes ?? []) await ip(["route", "add", route, "dev", name], opts.netns);
      } catch (e) {
        await dev.close();
        throw e;
      }
    }
    dev.startPolling();
    return dev;
  }

  /**
   * With offloads the engine may hand whole TCP super-packets (gso-batch.ts): the kernel
   * takes up to 64 KiB per write (tun_get_user with a GSO virtio-net header).
   */
  get gsoMaxSize(): number | undefined {
    return this.offloading ? MAX_SUPER_PACKET : undefined;
  }

  send(packet: Uint8Array, gso?: GsoInfo): void {
    if (this.closed || this.closing !== undefined) {
      this.counters.dropsOut += gso?.segments ?? 1;
      return;
    }
    if (this.offloading) {
      this.pending.push(packet);
      this.pendingGso.push(gso?.size);
      if (!this.flushQueued) {
        this.flushQueued = true;
        // After the engine's synchronous pass (receive, poll, a burst of reads): its
        // segments of this turn are all here and can be coalesced.
        queueMicrotask(() => this.flush());
      }
      return;
    }
    const n = libc().write(this.fd, packet, packet.length);
    if (n !== packet.length) {
      this.counters.dropsOut++;
      return;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += n;
  }

  /** Writes the queued packets, coalescing runs of one flow's segments into super-packets. */
  private flush(): void {
    this.flushQueued = false;
    const packets = this.pending;
    const sizes = this.pendingGso;
    this.pending = [];
    this.pendingGso = [];
    if (this.closed) {
      this.counters.dropsOut += packets.length;
      return;
    }
    const c = libc();
    const out = this.writeBuf!;
    for (let i = 0; i < packets.length; ) {
      const size = sizes[i];
      if (size !== undefined) {
        this.writeSuperPacket(packets[i]!, size);
        i++;
        continue;
      }
      // A run never takes in an engine super-packet that follows: its payload is larger
      // than the run's first segment.
      const count = this.coalescing ? runLength(packets, i) : 1;
      const len = writeRun(packets, i, count, out);
      const n = c.write(this.fd, out, len);
      if (n !== len && count > 1) {
        // The kernel refused the GSO packet: from now on, one segment per write.
        this.coalescing = false;
        process.emitWarning(`TUN ${this.name}: the kernel refused a GSO write (errno ${c.errno()}); writing segments one by one`);
        continue;
      }
      for (let k = i; k < i + count; k++) {
        if (n !== len) this.counters.dropsOut++;
        else {
          this.counters.packetsOut++;
          this.counters.bytesOut += packets[k]!.length;
        }
      }
      if (count > 1 && n === len) {
        this.offloadCounters.gsoPacketsOut++;
        this.offloadCounters.segmentsCoalesced += count;
      }
      i += count;
    }
  }

  /**
   * Writes a TCP super-packet the engine built (its checksum field holds the pseudo-header
   * sum) behind a GSO virtio-net header; if the kernel refuses it, its segments one by one.
   */
  private writeSuperPacket(packet: Uint8Array, size: number): void {
    const c = libc();
    const out = this.writeBuf!;
    const v4 = packet[0]! >>> 4 === 4;
    const ih = v4 ? 20 : 40;
    const headers = ih + (packet[ih + 12]! >>> 4) * 4;
    const segments = Math.ceil((packet.length - headers) / size);
    if (this.coalescing) {
      encodeVnetHeader({ flags: VNET_F_NEEDS_CSUM, gsoType: v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6, hdrLen: headers, gsoSize: size, csumStart: ih, csumOffset: 16 }, out, 0);
      out.set(packet, VNET_HDR_LEN);
      const len = VNET_HDR_LEN + packet.length;
      if (c.write(this.fd, out, len) === len) {
        this.counters.packetsOut += segments;
        this.counters.bytesOut += packet.length + (segments - 1) * headers;
        this.offloadCounters.gsoPacketsOut++;
        this.offloadCounters.tsoPacketsOut++;
        this.offloadCounters.segmentsCoalesced += segments;
        return;
      }
      this.coalescing = false;
      process.emitWarning(`TUN ${this.name}: the kernel refused a GSO write (errno ${c.errno()}); writing segments one by one`);
    }
    const pieces = splitGso(packet, size);
    for (let k = 0; k < pieces.length; k++) {
      const len = writeRun(pieces, k, 1, out);
      if (c.write(this.fd, out, len) !== len) this.counters.dropsOut++;
      else {
        this.counters.packetsOut++;
        this.counters.bytesOut += pieces[k]!.length;
      }
    }
  }

  close(): Promise<void> {
    if (this.flushQueued) this.flush();
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // The worker polling the device must have returned before its descriptor is closed.
    await this.waiter.close();
    this.closed = true;
    // Closing the last descriptor of a non-persistent device deletes the device.
    libc().close(this.fd);
    if (this.createdNetns && this.netns !== undefined) await deleteNetns(this.netns);
  }

  private startPolling(): void {
    this.waiter.wait(
      () => this.drain(),
      (e) => this.fail(e instanceof Error ? e : new SyscallError("poll", e.errno, libc().strerror(e.errno))),
    );
  }

  /**
   * One burst: the packets read here reach the stack as one batch, so it runs one
   * transmission pass for all of them (src/tcp/batch.ts), as NAPI and GRO give Linux.
   */
  private drain(): void {
    inBatch(this.onBatch, () => this.drainBurst());
  }

  /** Reads until the device is empty or the budget is spent (then yields and continues). */
  private drainBurst(): void {
    const c = libc();
    for (let i = 0; i < this.budget; i++) {
      if (this.closing !== undefined) return;
      const n = c.read(this.fd, this.readBuf, this.readBuf.length);
      if (n < 0) {
        const e = c.errno();
        if (e === c.EINTR) continue;
        if (e === c.EAGAIN) return this.startPolling();
        return this.fail(new SyscallError("read", e, c.strerror(e)));
      }
      if (n === 0) continue;
      if (this.offloading) {
        const r = receiveVnet(this.readBuf.subarray(0, n));
        if (!r.ok) {
          this.offloadCounters.badPacketsIn++;
          continue;
        }
        this.counters.packetsIn++;
        this.counters.bytesIn += r.packet.length;
        if (r.gso) this.offloadCounters.gsoPacketsIn++;
        let packet: Uint8Array;
        if (r.packet.length >= ZERO_COPY_MIN) {
          // A large (GSO) packet keeps the read buffer, and the next read gets a fresh one
          // (not zero-filled): cheaper than copying 64 KiB, and the waste is small.
          packet = r.packet;
          const fresh = Buffer.allocUnsafeSlow(this.readBuf.length);
          // A plain Uint8Array over it: the engine's slice() must copy, as Buffer's does not.
          this.readBuf = new Uint8Array(fresh.buffer, fresh.byteOffset, fresh.length);
        } else {
          packet = r.packet.slice();
        }
        this.onPacket?.(packet, r.checksumValid, r.gsoSize);
        continue;
      }
      this.counters.packetsIn++;
      this.counters.bytesIn += n;
      const packet = this.readBuf.slice(0, n);
      this.onPacket?.(packet);
    }
    setImmediate(() => this.drain());
  }

  private fail(error: Error): void {
    if (this.onError !== undefined) this.onError(error);
    else process.emitWarning(`TUN ${this.name}: ${error.message}`);
  }
}

/**
 * Opens /dev/net/tun and attaches it to a (new or named) device. With `offload`, first
 * tries IFF_VNET_HDR with checksum and TSO offloads; if the kernel refuses any of it the
 * descriptor is closed and the device opened again plain.
 */
function openTunFd(c: Libc, name: string | undefined, offload: boolean, fresh: boolean): { fd: number; name: string; offloading: boolean } {
  if (offload) {
    try {
      return { ...openTunFdWith(c, name, true, fresh), offloading: true };
    } catch {
      // Fall through to the plain device (an old kernel, or a device that cannot take them).
    }
  }
  return { ...openTunFdWith(c, name, false, fresh), offloading: false };
}

/**
 * One attempt at TUNSETIFF. `fresh`: the device must be new (IFF_TUN_EXCL), so that a
 * name that happens to be an existing persistent device is not reconfigured under its owner.
 */
function openTunFdWith(c: Libc, name: string | undefined, vnet: boolean, fresh: boolean): { fd: number; name: string } {
  const fd = check("open /dev/net/tun", c.open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  try {
    const ifr = new Uint8Array(IFREQ_SIZE);
    if (name !== undefined) ifr.set(new TextEncoder().encode(name), 0);
    new DataView(ifr.buffer).setUint16(IFNAMSIZ, IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0) | (fresh ? IFF_TUN_EXCL : 0), true);
    const set = c.ioctl(fd, TUNSETIFF, "void *", ifr);
    if (set < 0 && fresh && name !== undefined && c.errno() === EBUSY) {
      throw new Error(`a device named ${name} exists already (or is busy): attach to it as it is with --attach, or pick another --name`);
    }
    check("ioctl(TUNSETIFF)", set);
    if (vnet) {
      const size = new Uint8Array(4);
      new DataView(size.buffer).setInt32(0, VNET_HDR_LEN, true);
      check("ioctl(TUNSETVNETHDRSZ)", c.ioctl(fd, TUNSETVNETHDRSZ, "void *", size));
      // The kernel takes TSO only together with CSUM and rejects unknown bits. UDP
      // segmentation (TUN_F_USO4/6) is not asked for: the engine would need those split.
      check("ioctl(TUNSETOFFLOAD)", c.ioctl(fd, TUNSETOFFLOAD, "unsigned long", TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6));
    }
    const end = ifr.indexOf(0);
    return { fd, name: new TextDecoder().decode(ifr.subarray(0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end)) };
  } catch (e) {
    c.close(fd);
    throw e;
  }
}
