/**
 * A UDP socket driven through libc (koffi) in batches: sendmmsg(2) with UDP_SEGMENT
 * (GSO) out, recvmmsg(2) with UDP_GRO in. node:dgram offers neither: one send or one
 * 'message' event costs a trip through libuv and the kernel per datagram, and the kernel
 * cannot coalesce. Layouts and the grouping rules are in mmsg.ts; this file does the I/O.
 *
 * Memory: each direction has one native arena (koffi.alloc) holding the mmsghdr array,
 * the iovecs, socket addresses, control messages and the data, reused for every call;
 * pointers inside it are the arena's address plus an offset. Outgoing datagrams are
 * copied in (the kernel copies them again; a JS buffer has no stable address to hand
 * over), incoming ones are copied out so the arena can be refilled.
 *
 * Readiness, as tun.ts does it (fd-waiter.ts): the socket is non-blocking; one poll() on {socket, wake
 * pipe} runs as a koffi async call in a libuv worker, and when it returns the main thread
 * drains with recvmmsg until EAGAIN (yielding after a budget) and only then polls again.
 * The wake pipe makes close() immediate.
 *
 * Errors. Sends never throw: EAGAIN (send buffer full), ECONNREFUSED (an ICMP error
 * queued on the socket), EMSGSIZE and the like drop the datagrams of the failing message
 * and go on with the next, as a full queue on a real link would. If the kernel refuses a
 * GSO send (EIO: no checksum offload on the route's device; EINVAL or EMSGSIZE: a segment
 * above the path MTU) the socket stops segmenting and sends that group one by one.
 * Opening failures are `UdpBatchError`s with a stable `code`.
 */
import koffi, { type KoffiFunc } from "koffi";
import { isIP } from "node:net";
import { constants } from "node:os";
import { FdWaiter } from "./fd-waiter.js";
import { inBatch } from "./inbox.js";
import {
  CMSG_SPACE_INT,
  decodeSockaddr,
  encodeSockaddr,
  IOVEC_SIZE,
  MMSGHDR_SIZE,
  MSG_TRUNC,
  parseGroSize,
  planSendGroups,
  readReceived,
  SOCKADDR_SPACE,
  SOL_UDP,
  splitGro,
  UDP_GRO,
  writeIovec,
  writeMsghdr,
  writeSegmentCmsg,
  type SendGroup,
  type SockAddr,
} from "./mmsg.js";

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const MSG_DONTWAIT = 0x40;

/** Messages per sendmmsg / recvmmsg call. */
const SEND_SLOTS = 64;
const RECV_SLOTS = 32;
/** Outgoing data copied per sendmmsg call (flushed earlier when full). */
const SEND_DATA = 1 << 20;
/** Each receive slot takes a whole coalesced read (GRO builds up to 64 KiB). */
const RECV_SLOT_DATA = 65536;
/** recvmmsg calls before yielding to the event loop (each up to RECV_SLOTS reads). */
const RECV_BUDGET = 16;

/** A failure to set the socket up, or to use it, with a stable `code`. */
export class UdpBatchError extends Error {
  constructor(
    /** "ERR_UDP_BATCH_UNAVAILABLE" (no koffi, not Linux, syscalls missing) or an errno name ("EADDRINUSE", ...). */
    readonly code: string,
    message: string,
    readonly syscall?: string,
    readonly errno?: number,
  ) {
    super(message);
    this.name = "UdpBatchError";
  }
}

interface SockLibc {
  socket: KoffiFunc<(domain: number, type: number, protocol: number) => number>;
  bind: KoffiFunc<(fd: number, addr: Uint8Array, len: number) => number>;
  getsockname: KoffiFunc<(fd: number, addr: Uint8Array, len: number[]) => number>;
  setsockopt: KoffiFunc<(fd: number, level: number, name: number, value: Int32Array, len: number) => number>;
  sendmmsg: KoffiFunc<(fd: number, msgs: unknown, vlen: number, flags: number) => number>;
  recvmmsg: KoffiFunc<(fd: number, msgs: unknown, vlen: number, flags: number, timeout: null) => number>;
  write: KoffiFunc<(fd: number, buf: Uint8Array, count: number) => number>;
  close: KoffiFunc<(fd: number) => number>;
}

let libcCache: SockLibc | undefined;

function libc(): SockLibc {
  if (libcCache !== undefined) return libcCache;
  if (process.platform !== "linux") throw new UdpBatchError("ERR_UDP_BATCH_UNAVAILABLE", `batched UDP needs Linux (this is ${process.platform})`);
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load("libc.so.6");
  } catch (e) {
    throw new UdpBatchError("ERR_UDP_BATCH_UNAVAILABLE", `koffi cannot load libc: ${(e as Error).message}`);
  }
  libcCache = {
    socket: lib.func("int socket(int domain, int type, int protocol)") as SockLibc["socket"],
    bind: lib.func("int bind(int fd, void *addr, unsigned int len)") as SockLibc["bind"],
    getsockname: lib.func("int getsockname(int fd, void *addr, _Inout_ unsigned int *len)") as SockLibc["getsockname"],
    setsockopt: lib.func("int setsockopt(int fd, int level, int name, void *value, unsigned int len)") as SockLibc["setsockopt"],
    sendmmsg: lib.func("int sendmmsg(int fd, void *msgs, unsigned int vlen, int flags)") as SockLibc["sendmmsg"],
    recvmmsg: lib.func("int recvmmsg(int fd, void *msgs, unsigned int vlen, int flags, void *timeout)") as SockLibc["recvmmsg"],
    write: lib.func("long write(int fd, const void *buf, unsigned long count)") as SockLibc["write"],
    close: lib.func("int close(int fd)") as SockLibc["close"],
  };
  return libcCache;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const ERRNO = constants.errno as Record<string, number>;
const EAGAIN = ERRNO.EAGAIN ?? 11;
const EINTR = ERRNO.EINTR ?? 4;
const EIO = ERRNO.EIO ?? 5;
const EINVAL = ERRNO.EINVAL ?? 22;
const EMSGSIZE = ERRNO.EMSGSIZE ?? 90;

function errnoName(n: number): string {
  return ERRNO_NAMES.get(n) ?? `errno ${n}`;
}

function syscallError(syscall: string, where?: string, n = koffi.errno()): UdpBatchError {
  const code = errnoName(n);
  return new UdpBatchError(code, `${syscall} ${code}${where !== undefined ? ` ${where}` : ""}`, syscall, -n);
}

/** A native memory block with a DataView over it and its address. */
class Arena {
  readonly mem: unknown;
  readonly base: bigint;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(size: number) {
    this.mem = koffi.alloc("uint8", size);
    this.base = koffi.address(this.mem);
    const ab = koffi.view(this.mem, size);
    this.bytes = new Uint8Array(ab);
    this.view = new DataView(ab);
  }
  free(): void {
    koffi.free(this.mem);
  }
}

/** What the batched socket did (for benchmarks and tests). */
export interface BatchCounters {
  /** sendmmsg and recvmmsg calls. */
  sendCalls: number;
  recvCalls: number;
  /** GSO sends and the datagrams they carried. */
  gsoSends: number;
  gsoSegments: number;
  /** Reads the kernel coalesced (UDP_GRO), and the datagrams split out of them. */
  groReads: number;
  groSegments: number;
  /** Errors by errno name ("EAGAIN": 3), sends and receives together. */
  errors: Record<string, number>;
}

export interface BatchedUdpOptions {
  /** Ask for UDP_SEGMENT sends and UDP_GRO receives (default true). */
  offload?: boolean;
  /** SO_SNDBUF / SO_RCVBUF request (default 4 MiB; capped by wmem_max / rmem_max). */
  bufferSize?: number;
}

/** A bound, non-blocking UDP socket read and written in batches. */
export class BatchedUdpSocket {
  /** Each received datagram; the callee owns the bytes. */
  onDatagram: ((data: Uint8Array, from: SockAddr) => void) | undefined;
  /** Called with true before the datagrams of one drain and with false after them (PacketLink.onBatch). */
  onBatch: ((open: boolean) => void) | undefined;
  /** A failed poll or read, after which the socket stops reading. */
  onError: ((error: Error) => void) | undefined;
  readonly counters: BatchCounters = { sendCalls: 0, recvCalls: 0, gsoSends: 0, gsoSegments: 0, groReads: 0, groSegments: 0, errors: {} };
  /** Still sending UDP_SEGMENT groups (false after the kernel refused one). */
  segmenting: boolean;
  private readonly send = new Arena(SEND_SLOTS * (MMSGHDR_SIZE + IOVEC_SIZE + SOCKADDR_SPACE + CMSG_SPACE_INT) + SEND_DATA);
  private readonly recv = new Arena(RECV_SLOTS * (MMSGHDR_SIZE + IOVEC_SIZE + SOCKADDR_SPACE + CMSG_SPACE_INT * 2 + RECV_SLOT_DATA));
  private closing: Promise<void> | undefined;
  private closed = false;
  /** The peer's encoded sockaddr, kept while it stays the same. */
  private lastTo: SockAddr | undefined;
  private lastName = new Uint8Array(SOCKADDR_SPACE);
  private lastNameLen = 0;

  private constructor(
    private readonly fd: number,
    private readonly waiter: FdWaiter,
    readonly local: SockAddr,
    /** UDP_GRO was accepted: reads may hold several datagrams. */
    readonly gro: boolean,
    offload: boolean,
  ) {
    this.segmenting = offload;
    this.prepareReceive();
  }

  /** Binds to `listen` (numeric host) and starts reading. */
  static open(listen: SockAddr, opts: BatchedUdpOptions = {}): BatchedUdpSocket {
    const c = libc();
    const family = isIP(listen.host);
    if (family === 0) throw new UdpBatchError("ERR_INVALID_ADDRESS", `not a numeric IP address: ${JSON.stringify(listen.host)}`);
    const fd = c.socket(family === 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw syscallError("socket");
    try {
      const name = new Uint8Array(SOCKADDR_SPACE);
      const len = encodeSockaddr(listen, name, 0);
      if (c.bind(fd, name, len) < 0) throw syscallError("bind", `${listen.host}:${listen.port}`);
      const size = opts.bufferSize ?? 4 * 1024 * 1024;
      // Bursts of a whole congestion window arrive at once; capped by rmem_max / wmem_max, which still works.
      c.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, new Int32Array([size]), 4);
      c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, new Int32Array([size]), 4);
      const offload = opts.offload ?? true;
      // UDP_GRO: Linux 5.0. Refused on older kernels: plain reads, still in batches.
      const gro = offload && c.setsockopt(fd, SOL_UDP, UDP_GRO, new Int32Array([1]), 4) === 0;
      const out = new Uint8Array(SOCKADDR_SPACE);
      const outLen = [SOCKADDR_SPACE];
      if (c.getsockname(fd, out, outLen) < 0) throw syscallError("getsockname");
      const waiter = FdWaiter.open(fd);
      if ("errno" in waiter) throw syscallError("pipe2", undefined, waiter.errno);
      const local = decodeSockaddr(out, 0) ?? listen;
      const sock = new BatchedUdpSocket(fd, waiter, local, gro, offload);
      sock.startPolling();
      return sock;
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  /**
   * Sends `datagrams` to `to` (numeric host), grouped into UDP_SEGMENT sends where the
   * sizes allow, in as few sendmmsg calls as the arena allows. Returns how many were
   * dropped (not accepted by the kernel).
   */
  sendBatch(datagrams: readonly Uint8Array[], to: SockAddr): number {
    if (this.closed || this.closing !== undefined) return datagrams.length;
    this.encodePeer(to);
    let groups = this.plan(datagrams, 0);
    let dropped = 0;
    let g = 0;
    while (g < groups.length) {
      const n = this.fillSend(datagrams, groups, g);
      if (n === 0) {
        // A group larger than the whole data area (it cannot be: MAX_UDP_PAYLOAD < SEND_DATA).
        dropped += groups[g]!.count;
        g++;
        continue;
      }
      const r = this.flushSend(groups, g, n);
      dropped += r.dropped;
      if (r.replanFrom !== undefined) {
        // The kernel refused segmentation: the rest goes one datagram per message.
        groups = this.plan(datagrams, r.replanFrom);
        g = 0;
        continue;
      }
      g += n;
    }
    return dropped;
  }

  /** Groups datagrams[from..]: UDP_SEGMENT groups while segmenting, else one per message. */
  private plan(datagrams: readonly Uint8Array[], from: number): SendGroup[] {
    const rest = datagrams.slice(from);
    const groups = this.segmenting ? planSendGroups(rest.map((d) => d.length)) : rest.map((d, i) => ({ start: i, count: 1, segment: d.length }));
    for (const group of groups) group.start += from;
    return groups;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private encodePeer(to: SockAddr): void {
    if (this.lastTo !== undefined && this.lastTo.host === to.host && this.lastTo.port === to.port) return;
    this.lastNameLen = encodeSockaddr(to, this.lastName, 0);
    this.lastTo = { host: to.host, port: to.port };
  }

  /** Packs groups[g..] into the send arena; returns how many fit. */
  private fillSend(datagrams: readonly Uint8Array[], groups: readonly SendGroup[], g: number): number {
    const a = this.send;
    const msgs = 0;
    const iovs = SEND_SLOTS * MMSGHDR_SIZE;
    const names = iovs + SEND_SLOTS * IOVEC_SIZE;
    const controls = names + SEND_SLOTS * SOCKADDR_SPACE;
    const data = controls + SEND_SLOTS * CMSG_SPACE_INT;
    let used = 0;
    let k = 0;
    for (; k < SEND_SLOTS && g + k < groups.length; k++) {
      const group = groups[g + k]!;
      let len = 0;
      for (let i = group.start; i < group.start + group.count; i++) len += datagrams[i]!.length;
      if (used + len > SEND_DATA) break;
      for (let i = group.start; i < group.start + group.count; i++) {
        a.bytes.set(datagrams[i]!, data + used);
        used += datagrams[i]!.length;
      }
      const slot = {
        msg: msgs + k * MMSGHDR_SIZE,
        name: names + k * SOCKADDR_SPACE,
        nameLen: this.lastNameLen,
        iov: iovs + k * IOVEC_SIZE,
        iovCount: 1,
        control: controls + k * CMSG_SPACE_INT,
        controlLen: group.count > 1 ? writeSegmentCmsg(a.view, controls + k * CMSG_SPACE_INT, group.segment) : 0,
      };
      a.bytes.set(this.lastName.subarray(0, this.lastNameLen), slot.name);
      writeIovec(a.view, slot.iov, a.base, data + used - len, len);
      writeMsghdr(a.view, a.base, slot);
    }
    return k;
  }

  /**
   * sendmmsg for the `n` packed messages, going past failing ones. Returns the datagrams
   * dropped and, when the kernel refused a UDP_SEGMENT group, the datagram to re-plan from.
   */
  private flushSend(groups: readonly SendGroup[], g: number, n: number): { dropped: number; replanFrom?: number } {
    const c = libc();
    const a = this.send;
    let dropped = 0;
    let done = 0;
    while (done < n) {
      this.counters.sendCalls++;
      const sent = c.sendmmsg(this.fd, a.mem, n - done, MSG_DONTWAIT);
      if (sent > 0) {
        for (let k = done; k < done + sent; k++) {
          const group = groups[g + k]!;
          if (group.count > 1) {
            this.counters.gsoSends++;
            this.counters.gsoSegments += group.count;
          }
        }
        done += sent;
        // Messages not yet sent move to the front of the array for the next call.
        if (done < n) this.shiftSend(sent, n - done);
        continue;
      }
      const err = koffi.errno();
      if (err === EINTR) continue;
      this.count(err);
      const group = groups[g + done]!;
      if (group.count > 1 && (err === EIO || err === EINVAL || err === EMSGSIZE)) {
        this.segmenting = false;
        process.emitWarning(`batched UDP: the kernel refused a UDP_SEGMENT send (${errnoName(err)}); sending datagrams one by one`);
        return { dropped, replanFrom: group.start };
      }
      if (err === EAGAIN) {
        // Send buffer full: what is left of this call is dropped, like a full queue.
        for (let k = done; k < n; k++) dropped += groups[g + k]!.count;
        return { dropped };
      }
      // ECONNREFUSED (a queued ICMP error, reported once), EMSGSIZE, ...: drop this one, go on.
      dropped += group.count;
      done++;
      if (done < n) this.shiftSend(1, n - done);
    }
    return { dropped };
  }

  /** Moves `remaining` mmsghdrs from index `by` to the front (their pointers stay valid). */
  private shiftSend(by: number, remaining: number): void {
    const b = this.send.bytes;
    b.copyWithin(0, by * MMSGHDR_SIZE, (by + remaining) * MMSGHDR_SIZE);
  }

  private count(err: number): void {
    const name = errnoName(err);
    this.counters.errors[name] = (this.counters.errors[name] ?? 0) + 1;
  }

  /** Sets up the receive arena's mmsghdrs once; recvmmsg only needs msg_namelen and msg_controllen reset. */
  private prepareReceive(): void {
    const a = this.recv;
    for (let k = 0; k < RECV_SLOTS; k++) writeMsghdr(a.view, a.base, this.recvSlot(k));
    for (let k = 0; k < RECV_SLOTS; k++) writeIovec(a.view, this.recvSlot(k).iov, a.base, this.recvData(k), RECV_SLOT_DATA);
  }

  private recvSlot(k: number): { msg: number; name: number; nameLen: number; iov: number; iovCount: number; control: number; controlLen: number } {
    const iovs = RECV_SLOTS * MMSGHDR_SIZE;
    const names = iovs + RECV_SLOTS * IOVEC_SIZE;
    const controls = names + RECV_SLOTS * SOCKADDR_SPACE;
    return {
      msg: k * MMSGHDR_SIZE,
      name: names + k * SOCKADDR_SPACE,
      nameLen: SOCKADDR_SPACE,
      iov: iovs + k * IOVEC_SIZE,
      iovCount: 1,
      control: controls + k * CMSG_SPACE_INT * 2,
      controlLen: CMSG_SPACE_INT * 2,
    };
  }

  private recvData(k: number): number {
    return RECV_SLOTS * (MMSGHDR_SIZE + IOVEC_SIZE + SOCKADDR_SPACE + CMSG_SPACE_INT * 2) + k * RECV_SLOT_DATA;
  }

  private startPolling(): void {
    this.waiter.wait(
      () => this.drain(),
      (e) => this.fail(e instanceof Error ? e : syscallError("poll", undefined, e.errno)),
    );
  }

  /** One drain is one batch for the stack: one transmission pass at its end (src/tcp/batch.ts). */
  private drain(): void {
    inBatch(this.onBatch, () => this.drainBurst());
  }

  /** recvmmsg until EAGAIN or the budget is spent (then yields and continues). */
  private drainBurst(): void {
    const c = libc();
    const a = this.recv;
    for (let round = 0; round < RECV_BUDGET; round++) {
      if (this.closing !== undefined) return;
      for (let k = 0; k < RECV_SLOTS; k++) writeMsghdr(a.view, a.base, this.recvSlot(k));
      this.counters.recvCalls++;
      const n = c.recvmmsg(this.fd, a.mem, RECV_SLOTS, MSG_DONTWAIT, null);
      if (n < 0) {
        const e = koffi.errno();
        if (e === EINTR) continue;
        if (e === EAGAIN) return this.startPolling();
        // An ICMP error queued on the socket (ECONNREFUSED, EHOSTUNREACH) is reported
        // once by the next read and cleared: count it and read on.
        this.count(e);
        continue;
      }
      for (let k = 0; k < n; k++) this.deliver(k);
    }
    setImmediate(() => this.drain());
  }

  private deliver(k: number): void {
    const a = this.recv;
    const slot = this.recvSlot(k);
    const r = readReceived(a.view, slot.msg);
    if ((r.flags & MSG_TRUNC) !== 0) {
      this.count(EMSGSIZE);
      return;
    }
    const from = decodeSockaddr(a.bytes, slot.name);
    if (from === undefined) return;
    const start = this.recvData(k);
    const data = a.bytes.slice(start, start + r.length);
    const size = this.gro ? parseGroSize(a.view, slot.control, r.controlLen) : 0;
    const parts = splitGro(data, size);
    if (parts.length > 1) {
      this.counters.groReads++;
      this.counters.groSegments += parts.length;
    }
    for (const p of parts) {
      if (this.closing !== undefined) return;
      this.onDatagram?.(p, from);
    }
  }

  private async shutdown(): Promise<void> {
    // The worker polling the socket must have returned before its descriptor is closed.
    await this.waiter.close();
    this.closed = true;
    libc().close(this.fd);
    this.send.free();
    this.recv.free();
  }

  private fail(error: Error): void {
    if (this.onError !== undefined) this.onError(error);
    else process.emitWarning(`batched UDP ${this.local.host}:${this.local.port}: ${error.message}`);
  }
}
