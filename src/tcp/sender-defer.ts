/**
 * The sender's side of Linux's TSO deferral (tcp_tso_should_defer, whose rule is
 * tso-chunks.ts `tsoShouldDefer`): what it reads from the sender where a chunk of new
 * full-size segments would start.
 */
import type { Millis } from "../env.js";
import { seqDiff } from "../wire/seq.js";
import type { Sender } from "./sender.js";
import { newTsoState, tsoPath, tsoSegments, tsoShouldDefer, writeSizeGoal, type DeferView } from "./tso-chunks.js";

/** One view and one path, rewritten at each call: the sender asks at every chunk start. */
const path = newTsoState();
const view: DeferView = {
  now: 0, lastSendAt: undefined, recovering: false, mss: 0, cwndSegs: 0, inFlightSegs: 0, sendWindow: 0, sndWnd: 0,
  maxSegs: 0, skbLen: 0, tail: false, closed: false, headSentAt: undefined, srtt: undefined, winDivisor: 0,
};

/**
 * Whether the new data at SND.NXT should wait for the next ACK. `pending` is the unsent
 * bytes from SND.NXT, `toRecordEnd` the bytes to the next MSG_EOR record end.
 */
export function tsoDefers(s: Sender, now: Millis, mss: number, pending: number, toRecordEnd: number): boolean {
  const goal = writeSizeGoal(mss, s.maxSndWnd);
  const skbLen = Math.min(pending, toRecordEnd, goal);
  // Linux weighs only an skb of two segments or more (tso_segs > 1); one segment is Nagle's.
  if (skbLen <= mss) return false;
  const state = s.congestion.state;
  const v = view;
  v.now = now;
  v.lastSendAt = s.lastSendAt;
  v.recovering = state === "recovery" || state === "loss";
  v.mss = mss;
  v.cwndSegs = Math.floor(s.cwnd / mss);
  v.inFlightSegs = Math.ceil(s.pipe() / mss);
  v.sendWindow = s.sndWnd - seqDiff(s.sndNxt, s.sndUna);
  v.sndWnd = s.sndWnd;
  v.maxSegs = tsoSegments(tsoPath(s.congestion, s.rtt, mss, s.config.minTsoSegments, path));
  v.skbLen = skbLen;
  v.tail = skbLen === pending;
  v.closed = (v.tail && s.finQueued) || skbLen === toRecordEnd;
  const log = s.logPart;
  v.headSentAt = log !== undefined && log.size > 0 ? log.sentAt(0) : undefined;
  v.srtt = s.srtt;
  v.winDivisor = s.config.tsoWinDivisor;
  return tsoShouldDefer(v);
}
