/**
 * What an ACK tells the sender about loss, and what follows (Linux tcp_fastretrans_alert):
 * the two loss detectors, duplicate-ACK counting (RFC 5681 3.2, RFC 6675, NewReno partial
 * ACKs of RFC 6582; Linux's tcp_recovery=0) and RACK (RFC 8985 6.2), then the window for
 * this ACK: PRR during a reduction (RFC 9937), growth otherwise, the ECN echo's single
 * reduction (RFC 3168 6.1.2), the probe's fate (RFC 8985 7.4.2), Eifel and F-RTO undo, and
 * the timer that watches what is still in flight. The sender (sender.ts) calls in after its
 * own bookkeeping of the ACK (SACK blocks, SND.UNA, RTT).
 */
import type { Millis } from "../env.js";
import { ECE, FIN, SYN, type SackBlock, type TcpSegment } from "../wire/tcp.js";
import { seqAdd, seqGe, seqGt, seqLe, seqLt, seqMax, seqMin, type Seq } from "../wire/seq.js";
import { formatMillis } from "../trace/format.js";
import { REO_TIMEOUT_SLACK } from "./loss/rack.js";
import { frtoAck } from "./sender-frto.js";
import { mtuProbeLost } from "./sender-mtu.js";
import { bbrOnAck } from "./sender-bbr.js";
import type { Sender } from "./sender.js";

/**
 * Whether `seg`'s ACK field, with its scaled `window`, leaves the sender exactly as it is,
 * so that Sender.onAck only moves SND.WL1/WL2. Linux's fast path does the same for a
 * receiver in a bulk transfer (tcp_rcv_established, "bulk data transfer: receiver": a data
 * segment whose ACK equals SND.UNA, with the window the header predicted, is queued without
 * tcp_ack, and tcp_update_wl moves snd_wl1): such a receiver gets one per MSS, and the whole
 * ACK pass (SACK, RTT, RACK, TLP, the window, the timers) would find nothing to do in each.
 * Here any segment qualifies, in order or not (the receiving side's checks all still run),
 * but only when nothing of ours is in flight or queued (no SND.UNA to move, no loss to look
 * for, no probe or timer to watch, no writer waiting for room), the connection is in the
 * open state (no episode to end), and the segment brings no SACK block, no ECE and no new
 * window. Every other ACK takes the full path.
 */
export function ackChangesNothing(s: Sender, seg: TcpSegment, window: number): boolean {
  if (seg.ack !== s.sndUna || s.sndUna !== s.sndMax || window !== s.sndWnd) return false;
  if ((seg.flags & ECE) !== 0 || seg.options.sackBlocks !== undefined) return false;
  if (s.sendBuffer.length !== 0 || s.noSpace || s.congestion.state !== "open" || s.tlpPart?.highSeq !== undefined) return false;
  const t = s.host.timers;
  return t.rto === Infinity && t.tlp === Infinity && t.reorder === Infinity && t.persist === Infinity;
}

/**
 * A duplicate ACK (RFC 5681 section 2). Without RACK it is the loss signal: the third
 * starts fast retransmit (RFC 5681 3.2), or with SACK as soon as the scoreboard shows
 * SND.UNA lost (RFC 6675 IsLost). Returns the bytes it stands for as delivered.
 */
export function onDuplicateAck(s: Sender, now: Millis): number {
  let delivered = 0;
  if (s.scoreboard === undefined) {
    // Without SACK each duplicate stands for one segment received (tcp_add_reno_sack).
    const room = Math.max(0, s.flightSize() - s.sendMss - s.renoSacked);
    delivered = Math.min(s.sendMss, room);
    s.renoSacked += delivered;
  }
  if (s.rackOn) {
    s.congestion.dupAcks++;
    if (s.congestion.state === "open") s.congestion.state = "disorder";
    return delivered;
  }
  const lost = s.scoreboard !== undefined && s.scoreboard.sackedBytes >= 3 * s.sendMss;
  if (s.congestion.onDuplicateAck(now, s.sndMax, s.flightSize(), lost)) {
    s.startEpisode();
    s.traceLoss(now, "recovery", `${s.congestion.dupAcks} duplicate ACKs: fast retransmit`);
    s.traceCwnd(now, "3 duplicate ACKs: fast retransmit");
    s.highRxt = s.sndUna;
    retransmitAt(s, now, s.sndUna);
  } else if (s.congestion.inRecovery && s.scoreboard !== undefined) {
    retransmitNextHole(s, now);
  }
  return delivered;
}

/** The least time a receiver that seems to have reneged gets before the timeout (Linux tcp_check_sack_reneging: 10 ms). */
const RENEGING_GRACE_MIN: Millis = 10;

/** Loss detection and the window after an ACK (Linux tcp_fastretrans_alert, RFC 8985 6.2 and 7.4). */
export function afterAckLoss(s: Sender, now: Millis, seg: TcpSegment, priorUna: Seq, delivered: number, newlySacked: boolean, dsack: SackBlock | undefined, windowChanged: boolean): void {
  const ack = seg.ack;
  const unaAdvanced = seqGt(s.sndUna, priorUna);
  const lostBefore = s.lostBytes;
  // Eifel detection (RFC 3522; Linux tcp_packet_delayed): new data acknowledged by a segment
  // that echoes a timestamp from before our first retransmission means the original
  // arrived: the timeout or fast retransmit was spurious, so its reduction is undone.
  if (unaAdvanced && (s.congestion.state === "loss" || s.congestion.state === "recovery") && s.retransStamp !== undefined && s.host.negotiation.echoesBefore(seg, s.retransStamp)) {
    s.undoSpurious(now, "the ACK echoes a timestamp from before the first retransmission (Eifel)");
  }
  if (s.congestion.state === "loss" && s.frto.active) frtoAck(s, now, unaAdvanced, newlySacked || (!unaAdvanced && seg.payload.length === 0 && (seg.flags & (SYN | FIN)) === 0));
  if (s.rackOn && (s.rackPart !== undefined || dsack !== undefined)) s.rack.onAck(s.sndUna, s.sndNxt, dsack !== undefined);
  // The probe's fate (RFC 8985 7.4.2).
  const probeEnd = s.tlpPart?.highSeq;
  const probeRepairedLoss =
    probeEnd !== undefined &&
    s.tlp.onAck({
      ack,
      dsackForProbe: dsack !== undefined && seqLe(dsack.right, probeEnd),
      notPureDuplicate: unaAdvanced || newlySacked || windowChanged || seg.payload.length > 0,
    });
  if (probeRepairedLoss && !s.congestion.reducing) {
    s.congestion.reduceOnce(now, s.flightSize());
    s.traceLoss(now, "tlp-recovery", "the probe's ACK shows one segment was lost: window reduced once");
    s.traceCwnd(now, "loss repaired by tail loss probe");
  }
  const episode = s.congestion.state;
  if (s.congestion.maybeEndEpisode(ack)) {
    s.frto.stop();
    s.frtoResume = undefined;
    // The undo state outlives the episode: a D-SACK arriving after it can still show
    // the retransmissions were spurious (Linux keeps undo_marker; TCPDSACKUndo in Open).
    s.rack.onRecoveryExit();
    s.traceCwnd(now, episode === "cwr" ? "CWR complete: the window was reduced once for the ECN echo" : "recovery complete");
  } else if (s.congestion.state === "disorder" && s.scoreboard?.empty !== false && s.renoSacked === 0 && unaAdvanced) {
    s.congestion.state = "open";
  }
  let newlyLost = false;
  // In the loss state (after a timeout) everything outstanding is being resent from
  // SND.UNA already; RACK resumes once that episode ends.
  if (s.rackOn && s.congestion.state !== "loss") newlyLost = detectLoss(s, now, false);
  // RFC 3168 6.1.2: ECE on an ACK that is not old, and no loss being repaired: reduce once
  // (Linux tcp_try_to_open -> tcp_enter_cwr); later ECEs of this window change nothing.
  if (s.host.ecn.echoes(seg) && seqGe(ack, priorUna)) {
    const cwnd = s.congestion.cwnd;
    if (s.congestion.enterCwr(now, s.sndNxt, s.flightSize())) {
      s.host.ecn.onReduced(now, cwnd, s.congestion.ssthresh);
      s.traceCwnd(now, "ECE: congestion experienced, window reduced once (CWR)");
    }
  }
  // Linux tcp_ack: congestion control runs only for ACKs that found data in flight.
  if (s.model !== undefined && priorUna !== s.sndMax) bbrOnAck(s, s.model, now, Math.max(0, s.lostBytes - lostBefore));
  if (s.congestion.inCwndReduction) {
    s.congestion.onRecoveryAck(delivered, s.pipe(), unaAdvanced, newlyLost);
    if (delivered > 0 && s.model === undefined) s.traceCwnd(now, `PRR: ${delivered} bytes delivered, pipe ${s.pipe()}`);
    // NewReno without RACK: a partial ACK means the next segment was lost too (RFC 6582 3.2 step 5).
    if (s.congestion.inRecovery && !s.rackOn && unaAdvanced) onPartialAck(s, now);
  } else if (unaAdvanced && (!s.congestion.reducing || s.congestion.state === "loss")) {
    // Linux tcp_may_raise_cwnd: only when data is cumulatively acknowledged, then by
    // everything this ACK delivered (ACKed and SACKed).
    s.congestion.grow(now, delivered);
    if (delivered > 0 && s.model === undefined) s.traceCwnd(now, "ACK");
  }
  // New data may go out after the ACK; the timer watching the flight is set then (flush).
  if (s.sndUna === s.sndMax) {
    s.retransStamp = undefined;
    s.host.cancelTimer(now, "rto");
    s.host.cancelTimer(now, "tlp");
    s.host.cancelTimer(now, "reorder");
  } else if (unaAdvanced && s.unaSacked) {
    // The ACK stops at data the receiver had SACKed: it reneged, or is short of memory for a
    // moment. Linux (tcp_check_sack_reneging) gives it max(SRTT / 2, 10 ms) to SACK that data
    // again before the timeout forgets every SACK (onRetransmitTimeout).
    s.host.cancelTimer(now, "tlp");
    s.host.armTimer(now, "rto", now + Math.max((s.srtt ?? 0) / 2, RENEGING_GRACE_MIN));
  } else if (unaAdvanced || (s.host.timers.rto === Infinity && s.host.timers.tlp === Infinity)) {
    // Linux FLAG_SET_XMIT_TIMER: only an ACK of new data moves the timer.
    s.armRtoOrProbe(now, true);
  }
}

/**
 * RACK (RFC 8985 6.2 step 5): marks overdue segments lost, arms the reordering timer for
 * the rest, and starts recovery on the first loss. Returns true when something was marked.
 */
export function detectLoss(s: Sender, now: Millis, timerFired: boolean): boolean {
  // A RACK never made has seen no delivery, so its scan would find nothing (and arm nothing).
  if (s.rackPart === undefined && !timerFired) return (s.host.cancelTimer(now, "reorder"), false);
  // Nothing delivered since the last scan (a duplicate ACK): nothing new to learn, and a
  // reordering timer already armed keeps running (Linux tcp_rack_mark_lost returns early).
  if (!timerFired && !s.rack.advancedSinceScan) return false;
  const sackedSegments = s.scoreboard === undefined ? 0 : Math.floor(s.scoreboard.sackedBytes / s.sendMss);
  const reoWnd = s.rack.reorderWindow(s.congestion.inRecovery || s.congestion.state === "loss", sackedSegments, s.rtt.minRtt, s.rtt.srtt);
  const found = s.rack.detectLoss(s.log, now, reoWnd, timerFired, s.scoreboard?.blocks);
  if (found.timeout > 0) s.host.armTimer(now, "reorder", now + found.timeout + REO_TIMEOUT_SLACK);
  else s.host.cancelTimer(now, "reorder");
  if (found.lostSegments === 0) return false;
  if (mtuProbeLost(s, now)) return true;
  s.traceLoss(now, "rack-lost", `RACK: ${found.lostSegments} segment${found.lostSegments === 1 ? "" : "s"} lost: not delivered within RACK.rtt + reordering window (${formatMillis(s.rack.rtt)} + ${formatMillis(reoWnd)} ms) although sent no later than one that was`);
  if (s.congestion.state !== "recovery" && s.congestion.state !== "loss") {
    s.congestion.enterRecovery(now, s.sndMax, s.flightSize());
    s.startEpisode();
    s.highRxt = s.sndUna;
    s.traceLoss(now, "recovery", "fast recovery (RACK)");
    s.traceCwnd(now, "RACK: loss detected, fast recovery");
    if (timerFired) s.congestion.onRecoveryAck(s.sendMss, s.pipe(), false, true);
  }
  return true;
}

/**
 * Resends one segment starting at `from`, whatever cwnd says (RFC 5681 3.2 step 4):
 * fast retransmit and partial ACKs at SND.UNA, or the next hole the SACK scoreboard shows.
 */
export function retransmitAt(s: Sender, now: Millis, from: Seq): void {
  if (!seqLt(from, s.sndMax)) return;
  let end = seqAdd(from, s.host.segmentMss());
  const hole = s.scoreboard?.nextHole(from);
  if (hole !== undefined && hole.start === from) end = seqMin(end, hole.end);
  s.retransmitRange(now, from, seqMin(end, s.sndMax));
}

/** During SACK recovery: repair the next hole not yet retransmitted (RFC 6675 NextSeg, rule 1). */
export function retransmitNextHole(s: Sender, now: Millis): boolean {
  const hole = s.scoreboard?.nextHole(seqMax(s.highRxt, s.sndUna));
  if (hole === undefined) return false;
  retransmitAt(s, now, hole.start);
  return true;
}

/** A partial ACK in NewReno recovery without RACK: resend the next hole (RFC 6582 3.2 step 5). */
export function onPartialAck(s: Sender, now: Millis): void {
  if (!(s.scoreboard !== undefined && retransmitNextHole(s, now))) retransmitAt(s, now, s.sndUna);
}
