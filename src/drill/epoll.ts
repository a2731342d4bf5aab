/**
 * epoll for drill scripts (epoll_create, epoll_ctl, epoll_wait), over the same readiness
 * the runner's poll() reports (Linux tcp_poll). Level-triggered interests report whenever
 * the socket is ready. Edge-triggered ones (EPOLLET) report once per readiness edge: when
 * added or modified while ready (Linux ep_insert / ep_modify queue a ready item at once),
 * and when the socket becomes ready for an event it was not ready for when last reported.
 * Linux also re-arms an edge on every wakeup of a socket that stays ready (ep_poll_callback
 * queues the item again). Of those wakeups only the error queue's is modelled
 * (sk_error_report, for each MSG_ZEROCOPY completion queued or merged: EPOLLERR is "not
 * edge-triggered, not level-triggered either"); others, such as new data on a socket
 * already readable, are not, so a script that counts such edges may differ.
 * EPOLLONESHOT disables the interest once it has reported, until EPOLL_CTL_MOD re-arms it
 * (Linux ep_send_events clears the events; a disabled item ignores wakeups).
 */
import type { Expr } from "./ast.js";
import { numberOf } from "./constants.js";
import { DrillFailure, type SourcePos } from "./errors.js";
import type { CallResult } from "./socket-state.js";

const EPOLLERR = 0x8;
const EPOLLHUP = 0x10;
const EPOLLET = 0x80000000;
const EPOLLONESHOT = 0x40000000;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;

interface Interest {
  events: number;
  /** Edge-triggered: an edge is waiting to be reported. */
  pending: boolean;
  /** The readiness last seen (for edges). */
  last: number;
  /** The socket's error-queue wakeups counted when last seen (EpollHost.errorReports). */
  reports: number;
  /** EPOLLONESHOT: reported once, silent until EPOLL_CTL_MOD. */
  disabled: boolean;
}

/** What epoll needs from the socket table. */
export interface EpollHost {
  /** The socket's poll mask now, or undefined if `fd` is not an open socket. */
  readiness(fd: number): number | undefined;
  /** Wakeups of the socket by its error queue so far (Linux sk_error_report calls). */
  errorReports(fd: number): number;
}

export class EpollSet {
  private readonly interests = new Map<number, Interest>();

  ctl(op: number, fd: number, events: number, host: EpollHost): CallResult {
    const ready = host.readiness(fd);
    if (ready === undefined) return { ret: -1, errno: "EBADF" };
    const has = this.interests.has(fd);
    if (op === EPOLL_CTL_ADD) {
      if (has) return { ret: -1, errno: "EEXIST" };
    } else if (!has) {
      return { ret: -1, errno: "ENOENT" };
    }
    if (op === EPOLL_CTL_DEL) {
      this.interests.delete(fd);
      return { ret: 0 };
    }
    if (op !== EPOLL_CTL_ADD && op !== EPOLL_CTL_MOD) return { ret: -1, errno: "EINVAL" };
    const always = EPOLLERR | EPOLLHUP;
    this.interests.set(fd, { events, pending: (ready & (events | always)) !== 0, last: ready, reports: host.errorReports(fd), disabled: false });
    return { ret: 0 };
  }

  /** The events to report now (at most `max`), as [fd, events] pairs; edges reported are consumed. */
  collect(max: number, host: EpollHost): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const [fd, it] of this.interests) {
      if (out.length >= max) break;
      const ready = host.readiness(fd);
      if (ready === undefined || it.disabled) continue;
      const want = ready & ((it.events & ~(EPOLLET | EPOLLONESHOT)) | EPOLLERR | EPOLLHUP);
      if ((it.events & EPOLLET) === 0) {
        if (want !== 0) this.report(out, fd, it, want);
        continue;
      }
      if ((ready & ~it.last) !== 0) it.pending = true; // a new readiness edge since last seen
      it.last = ready;
      const reports = host.errorReports(fd);
      if (reports !== it.reports) it.pending = true; // the error queue woke the socket
      it.reports = reports;
      if (it.pending && want !== 0) {
        it.pending = false;
        this.report(out, fd, it, want);
      }
    }
    return out;
  }

  private report(out: Array<[number, number]>, fd: number, it: Interest, events: number): void {
    out.push([fd, events]);
    if ((it.events & EPOLLONESHOT) !== 0) it.disabled = true;
  }
}

/** `{events=..., fd=N}` (or `ptr=`/`u64=`) as the script writes an epoll_event. */
export function epollEvent(e: Expr | undefined, pos: SourcePos): { events: number; fd: number | undefined } {
  if (e === undefined || e.type !== "struct") throw new DrillFailure("an epoll_event is written {events=..., fd=N}", e?.pos ?? pos);
  let events = 0;
  let fd: number | undefined;
  for (const f of e.items) {
    if (f.type !== "field") continue;
    if (f.name === "events") events = (numberOf(f.value) ?? 0) >>> 0;
    else if (f.name === "fd") fd = numberOf(f.value);
  }
  return { events, fd };
}

