/**
 * Where the sender drives its chronograph (chrono.ts), as Linux does at the end of
 * tcp_write_xmit, in tcp_cwnd_validate, tcp_clean_rtx_queue and tcp_check_space.
 */
import type { Millis } from "../env.js";
import { seqDiff } from "../wire/seq.js";
import { CHRONO_BUSY, CHRONO_RWND_LIMITED, CHRONO_SNDBUF_LIMITED, type Chronograph } from "./chrono.js";
import type { Sender } from "./sender.js";
import { sendQueueWritable } from "./write-admission.js";

function unsentBytes(s: Sender): number {
  return s.sendBuffer.length - seqDiff(s.sndNxt, s.sndBufSeq);
}

/** Nothing queued and nothing in flight: the sender is idle. */
function idle(s: Sender): boolean {
  return s.sndUna === s.sndMax && unsentBytes(s) <= 0;
}

/**
 * A transmission pass ended having sent something or with bytes still unsent. Linux
 * tcp_write_xmit: the receive window cut it short when the next segment fit the congestion
 * window but not the peer's window; tcp_cwnd_validate: everything queued went out, cwnd was
 * not the limit, and the application's last write did not fit, so the send buffer is.
 */
export function chronoAfterPass(s: Sender, chrono: Chronograph, now: Millis, sent: boolean): void {
  const unsent = unsentBytes(s);
  if (!sent && unsent <= 0) return;
  const next = Math.min(unsent, s.host.segmentMss());
  const cwndOpen = s.pipe() + next <= s.congestion.cwnd;
  if (unsent > 0 && cwndOpen && seqDiff(s.sndNxt, s.sndUna) + next > s.sndWnd) chrono.start(now, CHRONO_RWND_LIMITED);
  else chrono.stop(now, CHRONO_RWND_LIMITED, idle(s));
  if (sent && unsent <= 0 && chrono.writeBlocked && !s.finQueued && !s.congestion.isCwndLimited()) chrono.start(now, CHRONO_SNDBUF_LIMITED);
}

/**
 * An ACK acknowledged new data. Nothing left in flight ends busy (Linux tcp_clean_rtx_queue);
 * a blocked writer has room again once the free space is at least half what is queued (Linux
 * sk_stream_write_space's test), which ends the send-buffer state (tcp_check_space).
 */
export function chronoAfterAck(s: Sender, chrono: Chronograph, now: Millis): void {
  if (s.sndUna === s.sndMax) chrono.stop(now, CHRONO_BUSY, idle(s));
  if (chrono.writeBlocked && sendQueueWritable(s)) {
    chrono.writeBlocked = false;
    chrono.stop(now, CHRONO_SNDBUF_LIMITED, idle(s));
  }
}
