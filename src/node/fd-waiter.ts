/**
 * Waiting for a non-blocking descriptor to become readable without blocking Node's event
 * loop, for the TUN device (tun.ts) and the batched UDP socket (udp-batch.ts), which read
 * through koffi and so have no libuv handle of their own.
 *
 * One poll(2) on {the descriptor, a wake pipe} runs as a koffi async call in a libuv worker
 * thread; its callback runs on the main thread, where the owner reads until EAGAIN and then
 * waits again (so a busy descriptor costs no poll per packet). close() writes a byte into
 * the wake pipe, so a pending poll returns at once, and resolves once it has: only then may
 * the owner close its descriptor, which the worker would otherwise still be polling.
 */
import koffi, { type KoffiFunc } from "koffi";

interface PollLibc {
  poll: KoffiFunc<(fds: Uint8Array, nfds: number, timeout: number) => number>;
  pipe2: KoffiFunc<(fds: Int32Array, flags: number) => number>;
  write: KoffiFunc<(fd: number, buf: Uint8Array, count: number) => number>;
  close: KoffiFunc<(fd: number) => number>;
}

const POLLIN = 0x001;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const EINTR = koffi.os.errno.EINTR ?? 4;
/** sizeof(struct pollfd): int fd, short events, short revents. */
const POLLFD_SIZE = 8;

let libcCache: PollLibc | undefined;

function libc(): PollLibc {
  if (libcCache !== undefined) return libcCache;
  const lib = koffi.load("libc.so.6");
  libcCache = {
    poll: lib.func("int poll(void *fds, unsigned long nfds, int timeout)") as PollLibc["poll"],
    pipe2: lib.func("int pipe2(_Out_ int *fds, int flags)") as PollLibc["pipe2"],
    write: lib.func("long write(int fd, const void *buf, unsigned long count)") as PollLibc["write"],
    close: lib.func("int close(int fd)") as PollLibc["close"],
  };
  return libcCache;
}

export class FdWaiter {
  private readonly pollFds = new Uint8Array(2 * POLLFD_SIZE);
  private pending = false;
  private closing: Promise<void> | undefined;
  private resolveIdle: (() => void) | undefined;

  private constructor(
    fd: number,
    private readonly wakeRead: number,
    private readonly wakeWrite: number,
  ) {
    const v = new DataView(this.pollFds.buffer);
    v.setInt32(0, fd, true);
    v.setInt16(4, POLLIN, true);
    v.setInt32(POLLFD_SIZE, wakeRead, true);
    v.setInt16(POLLFD_SIZE + 4, POLLIN, true);
  }

  /** A waiter for `fd`, with its wake pipe; the errno of a failed pipe2 otherwise. */
  static open(fd: number): FdWaiter | { errno: number } {
    const pipe = new Int32Array(2);
    if (libc().pipe2(pipe, O_NONBLOCK | O_CLOEXEC) < 0) return { errno: koffi.errno() };
    return new FdWaiter(fd, pipe[0]!, pipe[1]!);
  }

  /**
   * Calls `ready` once the descriptor is readable (or poll was interrupted: the owner's
   * read then finds EAGAIN and waits again), `failed` with the errno or the worker's error
   * if poll failed. Neither is called once close() has begun.
   */
  wait(ready: () => void, failed: (error: { errno: number } | Error) => void): void {
    if (this.closing !== undefined) return this.resolveIdle?.();
    this.pending = true;
    libc().poll.async(this.pollFds, 2, -1, (err: unknown, result: number) => {
      this.pending = false;
      if (this.closing !== undefined) return this.resolveIdle?.();
      if (err !== null && err !== undefined) return failed(err instanceof Error ? err : new Error(String(err)));
      if (result < 0) {
        const errno = koffi.errno();
        if (errno !== EINTR) return failed({ errno });
      }
      ready();
    });
  }

  /** Ends any pending wait and closes the wake pipe; the owner's descriptor stays open. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const c = libc();
    if (this.pending) {
      const idle = new Promise<void>((resolve) => (this.resolveIdle = resolve));
      c.write(this.wakeWrite, new Uint8Array(1), 1);
      await idle;
    }
    c.close(this.wakeRead);
    c.close(this.wakeWrite);
  }
}
