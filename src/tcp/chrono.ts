/**
 * How long the sender has been busy, and for how much of that the peer's receive window
 * or our own send buffer was what held it back: Linux's send chronograph (tcp_chrono_start,
 * tcp_chrono_stop; tcp_info's tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited).
 * RFC 4898 (TCP ESTATS) names the same split: SndLimTimeCwnd / SndLimTimeRwin / SndLimTimeSnd.
 *
 * One state at a time; a higher one takes over from a lower one (send buffer over receive
 * window over busy), and when a limit ends the sender falls back to busy, or to idle once
 * nothing is queued or in flight. The sender drives it:
 * - busy starts when bytes are queued with nothing unsent before them (tcp_add_write_queue_tail);
 * - a transmission pass that the receive window cut short starts the window state, any other
 *   pass ends it (tcp_write_xmit);
 * - a pass that sent everything queued, not held back by cwnd, while the application's last
 *   write did not fit, starts the send-buffer state (tcp_cwnd_validate); send space opening
 *   ends it (tcp_check_space);
 * - an ACK that leaves nothing in flight ends busy (tcp_clean_rtx_queue), and so does the end
 *   of the connection (tcp_write_queue_purge).
 */
import type { Millis } from "../env.js";

export const CHRONO_IDLE = 0;
export const CHRONO_BUSY = 1;
export const CHRONO_RWND_LIMITED = 2;
export const CHRONO_SNDBUF_LIMITED = 3;
export type ChronoState = typeof CHRONO_IDLE | typeof CHRONO_BUSY | typeof CHRONO_RWND_LIMITED | typeof CHRONO_SNDBUF_LIMITED;

/** Milliseconds spent in each state so far (tcp_info reports them in microseconds). */
export interface ChronoTotals {
  /** Busy in any state: sending, or held back by the window or the buffer (tcpi_busy_time). */
  busy: Millis;
  rwndLimited: Millis;
  sndbufLimited: Millis;
}

export class Chronograph {
  /** The application's last write did not all fit in the send buffer (Linux SOCK_NOSPACE). */
  writeBlocked = false;
  private state: ChronoState = CHRONO_IDLE;
  private since: Millis = 0;
  private busyMs: Millis = 0;
  private rwndMs: Millis = 0;
  private sndbufMs: Millis = 0;

  /** `state` begins unless a higher one is running (Linux tcp_chrono_start). */
  start(now: Millis, state: ChronoState): void {
    if (state > this.state) this.set(now, state);
  }

  /**
   * `state` ends (Linux tcp_chrono_stop): with nothing queued or in flight (`idle`) all
   * timing stops; otherwise, if `state` is the one running, the sender is merely busy.
   */
  stop(now: Millis, state: ChronoState, idle: boolean): void {
    if (idle) this.set(now, CHRONO_IDLE);
    else if (state === this.state) this.set(now, CHRONO_BUSY);
  }

  totals(now: Millis): ChronoTotals {
    const running = this.state === CHRONO_IDLE ? 0 : Math.max(0, now - this.since);
    const rwnd = this.rwndMs + (this.state === CHRONO_RWND_LIMITED ? running : 0);
    const sndbuf = this.sndbufMs + (this.state === CHRONO_SNDBUF_LIMITED ? running : 0);
    const busy = this.busyMs + (this.state === CHRONO_BUSY ? running : 0);
    return { busy: busy + rwnd + sndbuf, rwndLimited: rwnd, sndbufLimited: sndbuf };
  }

  private set(now: Millis, state: ChronoState): void {
    const spent = Math.max(0, now - this.since);
    if (this.state === CHRONO_BUSY) this.busyMs += spent;
    else if (this.state === CHRONO_RWND_LIMITED) this.rwndMs += spent;
    else if (this.state === CHRONO_SNDBUF_LIMITED) this.sndbufMs += spent;
    this.since = now;
    this.state = state;
  }
}
