/**
 * What a connection does when its retransmission or persist timer fires (RFC 6298 5.4 -
 * 5.7, RFC 9293 3.8.6.1), with Linux's retry limits and TCP_USER_TIMEOUT (RFC 5482). The
 * segment side of the state machine is input.ts; keep-alive is keepalive.ts.
 */
import type { Millis } from "../env.js";
import { ACK } from "../wire/tcp.js";
import { seqAdd, seqDiff } from "../wire/seq.js";
import type { Connection } from "./connection.js";
import { SYNCHRONIZED } from "./states.js";
import type { Sender } from "./sender.js";

/** RFC 6298 5.4 - 5.7, with the retry limits of Linux (S8, S9, S16, S29). */
export function onRetransmitTimeout(c: Connection, now: Millis): void {
  c.fireTimer(now, "rto");
  const s = c.sender;
  // RFC 5482 / Linux retransmits_timed_out: the user timeout overrides the retry count,
  // for a SYN too (counted from the first SYN, once one was resent).
  const since = c.state === "SYN_SENT" ? (s.retries > 0 ? c.synSentAt : undefined) : s.retransStamp;
  // Compared as the clamped deadline was computed (since + timeout): with fractional times
  // now - since can fall short of the timeout by a rounding error at that very deadline, and
  // the timer, armed for now again, fired for ever.
  if (s.userTimeout > 0 && since !== undefined && now >= since + s.userTimeout) {
    c.terminate(c.softError ?? "ETIMEDOUT", `unacknowledged for TCP_USER_TIMEOUT (${s.userTimeout} ms)`);
    return;
  }
  const windowClosed = s.sndWnd === 0 && SYNCHRONIZED.has(c.state);
  const probesWindow = windowClosed && !c.orphaned; // an orphan's resends probe too, its retries counted
  if (!probesWindow) s.retries++;
  const cfg = c.config;
  const limit = c.state === "SYN_SENT" ? cfg.synRetries : c.state === "SYN_RCVD" ? cfg.synAckRetries : cfg.dataRetries;
  if (probesWindow && windowProbesTimedOut(c, now)) {
    c.terminate(c.softError ?? "ETIMEDOUT", `window closed and nothing heard for ${2 * cfg.maxRto} ms`);
    return;
  }
  const synchronizing = c.state === "SYN_SENT" || c.state === "SYN_RCVD";
  if (synchronizing ? s.retries > limit : !probesWindow && retriesTimedOut(c, now)) {
    if (c.state === "SYN_RCVD" && c.passive) c.terminate(undefined, "SYN-ACK retries exhausted");
    else c.terminate(c.softError ?? "ETIMEDOUT", `retransmission limit (${c.orphaned ? "orphan" : limit}) reached in ${c.state}`);
    return;
  }
  if (c.state === "SYN_SENT") {
    s.rtt.backOff();
    s.timed = undefined; // Karn's rule
    s.sndNxt = c.iss; // resend the SYN
  } else if (c.state === "SYN_RCVD") {
    s.rtt.backOff();
    s.timed = undefined;
    c.synAckPending = true;
  } else {
    c.stats.onRto(c.sndMax);
    s.onRetransmitTimeout(now);
  }
  if (c.timers.rto !== Infinity) c.timers.rto = Infinity;
  s.retransmitting = true;
  s.headProbe = windowClosed;
  c.flush(now);
  s.retransmitting = false;
  s.headProbe = false;
}

/** Linux tcp_orphan_retries with net.ipv4.tcp_orphan_retries at its default 0: "some safe number". */
const ORPHAN_RETRIES = 8;

/**
 * Linux tcp_write_timeout once synchronized: TCP_RETRIES2 (`dataRetries`) is a time, what
 * that many retransmissions would take backing off from the minimum RTO
 * (tcp_model_timeout: 924.6 s for 15), counted from the first retransmission; the
 * connection gives up at the first timeout past it ("a lower bound for the effective
 * timeout", ip-sysctl.rst). RFC 9293 3.8.3 lets R2 be a time or a count. A connection the
 * application closed gets 8 (tcp_orphan_retries), and none once its RTO reached the
 * maximum: nobody waits for it.
 */
function retriesTimedOut(c: Connection, now: Millis): boolean {
  const s = c.sender;
  // A user timeout replaces the limit altogether (checked first, in onRetransmitTimeout).
  if (s.retransStamp === undefined || s.userTimeout > 0) return false;
  const cfg = c.config;
  const boundary = !c.orphaned ? cfg.dataRetries : s.rtt.rto < cfg.maxRto ? ORPHAN_RETRIES : 0;
  return now - s.retransStamp >= modelTimeout(boundary, cfg.minRto, cfg.maxRto);
}

/** Linux tcp_model_timeout: `boundary` timeouts from `base`, doubling up to `max`. */
export function modelTimeout(boundary: number, base: Millis, max: Millis): Millis {
  const doublings = Math.floor(Math.log2(max / base));
  if (boundary <= doublings) return (2 ** (boundary + 1) - 1) * base;
  return (2 ** (doublings + 1) - 1) * base + (boundary - doublings) * max;
}

/**
 * The peer closed its window on data in flight. RFC 9293 3.8.6.1 asks that such a window
 * be probed and the connection not timed out while it stays closed; Linux makes each
 * timeout's resend of the first segment the probe (tcp_retransmit_timer: "our retransmits
 * become zero probes"; __tcp_retransmit_skb lets the segment at SND.UNA go beyond the
 * window), counts no retry for it, and gives up only when nothing came back from the peer
 * for twice the largest RTO and the resending has lasted that long too
 * (tcp_rtx_probe0_timed_out; the user timeout is checked before). An orphaned connection
 * counts its retries as usual, so a closed window cannot hold it for ever.
 */
function windowProbesTimedOut(c: Connection, now: Millis): boolean {
  const limit = 2 * c.config.maxRto;
  const heard = c.stats.lastAckRecvAt;
  if (heard !== undefined && now - heard <= limit) return false;
  const since = c.sender.retransStamp;
  return since !== undefined && now - since > limit;
}

/**
 * The persist timer: zero-window probing (RFC 9293 3.8.6.1, S17; Linux probes with an old
 * sequence number), or for a window too small for a segment, sending what fits.
 */
export function onPersistTimeout(c: Connection, now: Millis): void {
  c.fireTimer(now, "persist");
  const s = c.sender;
  if (s.sndWnd > 0) {
    // The window is open but sender SWS avoidance, TCP_CORK or MSG_MORE held the data: send
    // what fits, with PSH, and let the retransmission timer take over (Linux
    // tcp_write_wakeup; its probe count and backoff restart once data is in flight).
    s.windowProbe = true;
    c.flush(now);
    s.windowProbe = false;
    if (c.sndNxt !== c.sndUna) {
      s.retries = 0;
      return;
    }
  }
  s.retries++;
  // RFC 1122 4.2.2.17: the window may stay closed for as long as the peer answers the probes
  // (an answer resets `retries`). TCP_USER_TIMEOUT bounds the episode itself, answered or
  // not, counted from its first probe until the window opens (Linux tcp_probe_timer with
  // icsk_probes_tstamp, "tcp: fix TCP_USER_TIMEOUT with zero window"; RFC 5482 leaves the
  // case open). armPersistIfWaiting starts each episode afresh.
  if (c.persistSince === 0) c.persistSince = now;
  else if (s.userTimeout > 0 && now >= c.persistSince + s.userTimeout) {
    c.terminate(c.softError ?? "ETIMEDOUT", `window closed for TCP_USER_TIMEOUT (${s.userTimeout} ms)`);
    return;
  }
  if (c.orphaned ? orphanProbesDone(c) : s.retries > c.config.dataRetries) {
    c.terminate(c.softError ?? "ETIMEDOUT", c.orphaned ? "closed by the application, its window probes done" : "zero-window probes unanswered");
    return;
  }
  s.rtt.backOff();
  c.sendControl(ACK, seqAdd(c.sndUna, -1), c.rcvNxt, false);
  c.armTimer(now, "persist", clampToUserTimeout(now + s.rtt.rto, c.persistSince, s.userTimeout, now + TIMEOUT_MIN));
}

/**
 * Linux tcp_probe_timer for a socket the application closed: 8 probes (tcp_orphan_retries),
 * and none once the backed-off interval reached the maximum RTO, answered or not: a peer
 * that keeps its window closed cannot hold an orphan for ever ("we cannot allow such beasts
 * to hang infinitely", tcp_retransmit_timer).
 */
function orphanProbesDone(c: Connection): boolean {
  const s = c.sender;
  return s.rtt.rto >= c.config.maxRto || s.retries > ORPHAN_RETRIES;
}

/** Linux TCP_TIMEOUT_MIN (2 jiffies at HZ=1000): the least a timer is set ahead. */
const TIMEOUT_MIN = 2;

/**
 * `at`, but no later than the user timeout's end, `since + userTimeout` (Linux
 * tcp_clamp_rto_to_user_timeout, tcp_clamp_probe0_to_user_timeout), and no sooner than
 * `floor`, so the connection fails on time rather than a whole backed-off interval after
 * it. The expiry tests compare `now` with the same sum: a timer set here always expires.
 */
export function clampToUserTimeout(at: Millis, since: Millis | undefined, userTimeout: number, floor: Millis): Millis {
  if (userTimeout === 0 || since === undefined) return at;
  return Math.min(at, Math.max(floor, since + userTimeout));
}

/**
 * Arms the persist timer when data waits and nothing is in flight: for a closed window it
 * sends zero-window probes (RFC 9293 3.8.6.1, S17); when the window is open but SWS avoidance
 * (3.8.6.2.1), TCP_CORK or MSG_MORE held the data, it is their override timeout and sends
 * what fits (Linux's probe timer: tcp_check_probe_timer, tcp_write_wakeup; it is what
 * bounds TCP_CORK to about 200 ms).
 */
export function armPersistIfWaiting(s: Sender, now: Millis): void {
  const pending = s.sendBuffer.length - seqDiff(s.sndNxt, s.sndBufSeq);
  const t = s.host.timers;
  if (pending > 0 && s.sndNxt === s.sndUna && t.persist === Infinity && t.rto === Infinity && t.tlp === Infinity && t.pacing === Infinity) {
    s.host.persistSince = 0; // a new episode: its first probe starts the user timeout's count
    s.host.armTimer(now, "persist", now + s.rtt.rto);
  }
}
