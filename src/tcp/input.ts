/**
 * Segment arrival (RFC 9293 section 3.10.7), the counterpart of Linux's tcp_input.c: what
 * a connection in SYN-SENT, TIME-WAIT and the synchronized states does with each segment,
 * step by step as the RFC orders the checks (sequence number, RST, SYN, ACK, text, FIN),
 * with RFC 5961's blind-attack rules and RFC 7323's PAWS. The connection (connection.ts)
 * owns the state; these functions read and change it through its internal members.
 */
import type { Millis } from "../env.js";
import { ACK, FIN, PSH, RST, SYN, URG, type TcpSegment } from "../wire/tcp.js";
import { seqAdd, seqGt, seqLe, seqLt, type Seq } from "../wire/seq.js";
import type { Connection } from "./connection.js";
import { clientSynAcked } from "./fast-open/client.js";
import { acceptUrgent } from "./urgent-io.js";

/** Bytes of IPv4 + TCP header without options. */
const HEADERS = 40;
/** Linux TCP_MAX_QUICKACKS. */
const MAX_QUICKACKS = 16;
/** Linux TCP_DELACK_MAX: the longest an ACK is held back. */
const DELACK_MAX: Millis = 200;

/** RFC 9293 3.10.7.3: SYN-SENT. */
export function onSegmentSynSent(c: Connection, now: Millis, seg: TcpSegment): void {
  const hasAck = (seg.flags & ACK) !== 0;
  // First: the ACK must acknowledge our SYN exactly (S2).
  if (hasAck && (seqLe(seg.ack, c.iss) || seqGt(seg.ack, c.sndMax))) {
    if ((seg.flags & RST) === 0) c.sendControl(RST, seg.ack, 0 as Seq, false); // S10, S11
    c.drop(seg, "bad-ack", "ACK does not acknowledge our SYN");
    return;
  }
  // Linux tcp_rcv_synsent_state_process: an acceptable ACK echoing a timestamp we did not
  // send is refused with a RST (RFC 7323 5.2 leaves SYN-SENT's check to the implementation).
  if (hasAck && (seg.flags & RST) === 0 && c.negotiation.synAckEchoInvalid(seg, c.synSentAt, now)) {
    c.sendControl(RST, seg.ack, 0 as Seq, false);
    c.drop(seg, "bad-ack", "SYN-ACK echoes a timestamp we never sent");
    return;
  }
  // Second: RST. Only believed when it acknowledges our SYN (RFC 5961 3.2 for SYN-SENT).
  if ((seg.flags & RST) !== 0) {
    if (hasAck) c.terminate("ECONNREFUSED", "RST in SYN_SENT");
    else c.drop(seg, "rst-invalid", "RST without ACK in SYN_SENT");
    return;
  }
  if ((seg.flags & SYN) === 0) {
    c.drop(seg, "state", "neither SYN nor RST in SYN_SENT");
    return;
  }
  // Fourth: SYN.
  c.receiver.onSyn(seg.seq);
  // The window our SYN offered now has a left edge: the peer's first data byte.
  c.receiver.window.offerUnscaled(c.rcvNxt);
  c.negotiate(now, seg.options);
  if (hasAck) {
    c.ecn.onSynAck(now, seg.flags);
    c.sender.synAcked(now, seg.ack);
    clientSynAcked(c, seg); // Fast Open: cache the cookie, resend SYN data not acknowledged
    c.sender.updateWindow(seg, true, c.negotiation.sndShift);
    c.setState("ESTABLISHED", "SYN,ACK received");
    // Linux tcp_rcv_synsent_state_process: with a writer waiting, the ACK is delayed (up to
    // TCP_DELACK_MAX) so that it rides on the data; otherwise it goes at once.
    // (It enters quick-ACK mode, which restarts the ACK estimator: tcp_enter_quickack_mode.)
    if (c.fastOpen?.writerWaiting === true) {
      c.receiver.quickAck(MAX_QUICKACKS);
      c.armTimer(now, "delayedAck", now + DELACK_MAX);
    } else c.receiver.ackNow = true;
    acceptText(c, now, seg); // data on a SYN-ACK is legal; queue it
    acceptFin(c, now, seg);
    return;
  }
  // Simultaneous open (S13, RFC 9293 figure 7).
  c.ecn.onSyn(now, seg.flags, c.ecn.arrived, false);
  c.sender.updateWindow(seg, true, c.negotiation.sndShift);
  c.setState("SYN_RCVD", "SYN received in SYN_SENT (simultaneous open)");
  c.synAckPending = true;
}

/**
 * TIME_WAIT (S27, S28). The only thing expected is a retransmission of the peer's FIN,
 * meaning our last ACK was lost: ACK it again and restart the 2 MSL timer. Like Linux,
 * any segment with ACK restarts the timer and gets an ACK; an exact RST ends TIME_WAIT
 * (tcp_rfc1337=0); a SYN never reopens the 4-tuple here (S28), it gets an ACK instead.
 */
export function onSegmentTimeWait(c: Connection, now: Millis, seg: TcpSegment): void {
  if ((seg.flags & RST) !== 0) {
    if (seg.seq === c.rcvNxt) onReset(c);
    else c.drop(seg, "rst-invalid", "RST in TIME_WAIT not at RCV.NXT");
    return;
  }
  if ((seg.flags & SYN) !== 0) {
    c.drop(seg, "state", "SYN for a 4-tuple in TIME_WAIT");
    c.challengeAck(now);
    if (c.receiver.ackNow) c.sendAckNow();
    return;
  }
  const bareInWindowAck = seg.seq === c.rcvNxt && seg.payload.length === 0 && (seg.flags & FIN) === 0;
  if (bareInWindowAck) return;
  if ((seg.flags & ACK) !== 0) {
    const cause = (seg.flags & FIN) !== 0 ? "retransmitted FIN" : "segment";
    c.drop(seg, "duplicate", `${cause} in TIME_WAIT: re-ACK and restart 2MSL`);
    c.armTimer(now, "linger", now + 2 * c.config.msl);
  }
  c.sendAckNow();
}

/** RFC 9293 3.10.7.4: SYN-RECEIVED and every synchronized state. */
export function onSegmentSynchronizing(c: Connection, now: Millis, seg: TcpSegment): void {
  const segLen = seg.payload.length + ((seg.flags & SYN) !== 0 ? 1 : 0) + ((seg.flags & FIN) !== 0 ? 1 : 0);
  const r = c.receiver;

  // Simultaneous open, step 5 of figure 7: the peer's SYN,ACK completes our SYN_RCVD.
  // (Linux accepts it the same way rather than challenge-ACKing the SYN.)
  if (
    c.state === "SYN_RCVD" &&
    !c.passive &&
    (seg.flags & (SYN | ACK | RST)) === (SYN | ACK) &&
    seg.seq === c.irs &&
    seg.ack === c.sndMax
  ) {
    c.sender.synAcked(now, seg.ack);
    c.sender.updateWindow(seg, true, c.negotiation.sndShift);
    c.setState("ESTABLISHED", "SYN,ACK received in SYN_RCVD (simultaneous open)");
    // Its SYN is a sequence number we already have: Linux's tcp_data_queue ACKs it at once
    // with a D-SACK for it (RFC 2883), as for any old segment.
    r.onOldSegment(seg.seq, seqAdd(seg.seq, 1));
    return;
  }

  // A retransmitted SYN for a half-open passive connection: our SYN-ACK was lost (S9).
  if (c.state === "SYN_RCVD" && c.passive && (seg.flags & (SYN | ACK | RST)) === SYN && seg.seq === c.irs) {
    c.synAckPending = true;
    c.retransmits++;
    return;
  }

  // RFC 7323 5.3: PAWS, before the sequence check.
  if (c.negotiation.pawsRejects(now, seg)) {
    c.drop(seg, "duplicate", "PAWS: timestamp older than TS.Recent");
    // Linux tcp_send_dupack: old data is reported with a D-SACK (RFC 2883).
    if (segLen > 0 && seqLt(seg.seq, r.rcvNxt)) r.onOldSegment(seg.seq, seqAdd(seg.seq, segLen));
    else if (segLen > 0) r.ackNow = true;
    else c.challengeAck(now);
    return;
  }

  // First: sequence number acceptable? (RFC 9293 3.10.7.4 "first")
  if (!r.window.acceptable(r.rcvNxt, seg.seq, segLen)) {
    const windowClosedAckOnly = r.window.size(r.rcvNxt) === 0 && seg.seq === r.rcvNxt && (seg.flags & ACK) !== 0;
    if ((seg.flags & RST) === 0) {
      c.drop(seg, "out-of-window", `seq ${seg.seq} len ${segLen} outside rcv window`);
      // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. Answers to bare ACKs are rate-limited like
      // Linux (tcp_oow_rate_limited): two stacks that disagree must not ACK each other forever.
      // Data we already have is answered with a D-SACK; a SYN never is (Linux syn_challenge).
      if (segLen > 0 && seqLt(seg.seq, r.rcvNxt) && (seg.flags & SYN) === 0) r.onOldSegment(seg.seq, seqAdd(seg.seq, segLen));
      else if (segLen > 0) r.ackNow = true;
      else c.challengeAck(now);
    } else {
      c.drop(seg, "out-of-window", "RST outside window");
    }
    // A zero window makes no data acceptable, but ACKs must still be processed (3.10.7.4).
    if (!windowClosedAckOnly) return;
    processAck(c, now, seg, segLen);
    return;
  }

  // Second: RST (RFC 5961 section 3: only an exact match resets; in-window gets a challenge ACK).
  if ((seg.flags & RST) !== 0) {
    if (seg.seq !== r.rcvNxt) {
      c.drop(seg, "rst-invalid", "RST in window but not at RCV.NXT");
      c.challengeAck(now);
      return;
    }
    onReset(c);
    return;
  }

  // Fourth: SYN in a synchronized state (RFC 5961 section 4): challenge ACK.
  if ((seg.flags & SYN) !== 0) {
    c.drop(seg, "state", `SYN in ${c.state}`);
    c.challengeAck(now);
    return;
  }

  // Fifth: the ACK field.
  if ((seg.flags & ACK) === 0) {
    c.drop(seg, "no-ack-flag", "segment without ACK");
    return;
  }
  if (c.state === "SYN_RCVD") {
    if (seqLe(seg.ack, c.sndUna) || seqGt(seg.ack, c.sndMax)) {
      c.sendControl(RST, seg.ack, 0 as Seq, false);
      c.drop(seg, "bad-ack", "ACK in SYN_RCVD does not acknowledge our SYN");
      return;
    }
    if (c.passive && !c.ctx.mayEstablish(c)) {
      // Linux: the accept queue is full, so the final ACK is dropped and the SYN-ACK
      // retransmission gives the client another chance later.
      c.drop(seg, "accept-queue-full", "accept queue full");
      return;
    }
    c.setState("ESTABLISHED", "ACK of SYN received");
    c.synAckPending = false;
  }
  if (!processAck(c, now, seg, segLen)) return;
  if (c.state === "CLOSED") return;

  // RFC 3168 6.1.3: CWR ends our ECE echo, CE on data starts it; either may want quick ACKs.
  const quick = c.ecn.onAcceptable(now, seg);
  if (quick > 0) r.quickAck(quick);
  // Sixth: the URG bit (urgent-io.ts); seventh: segment text.
  acceptUrgent(c, now, seg);
  acceptText(c, now, seg);
  if (c.isClosed()) return;
  // Eighth: FIN. A FIN,ACK acknowledging our FIN takes FIN_WAIT_1 straight to TIME_WAIT
  // (S26); the FIN_WAIT_2 step is only for an ACK that comes without the peer's FIN.
  acceptFin(c, now, seg);
  if (c.state === "FIN_WAIT_1" && c.sender.finAcked()) {
    c.setState("FIN_WAIT_2", "ACK of FIN received");
    if (c.orphaned) c.armFinWait2();
  }
}

function onReset(c: Connection): void {
  switch (c.state) {
    case "SYN_RCVD":
      // Passive: the half-open entry is simply forgotten (back to LISTEN, S11).
      // Active (simultaneous open): the connection was refused. A Fast Open child is
      // already the application's: it is reset (Linux tcp_reset: ECONNRESET).
      c.terminate(c.fastOpen?.child === true ? "ECONNRESET" : c.passive ? undefined : "ECONNREFUSED", "RST received in SYN_RCVD");
      return;
    case "TIME_WAIT":
      // Linux (tcp_rfc1337=0) lets an exact RST end TIME_WAIT early; nobody is told.
      c.terminate(undefined, "RST received in TIME_WAIT");
      return;
    default:
      // Every other synchronized state: reset by peer (Linux tcp_reset also reports
      // ECONNRESET for CLOSING and LAST_ACK, where RFC 9293 just closes).
      c.terminate("ECONNRESET", `RST received in ${c.state}`);
  }
}

/**
 * RFC 9293 3.10.7.4 "fifth" for synchronized states. Returns false when the segment must
 * be dropped after the ACK check.
 */
function processAck(c: Connection, now: Millis, seg: TcpSegment, segLen: number): boolean {
  const ack = seg.ack;
  if (seqGt(ack, c.sndMax)) {
    // Acknowledges something not yet sent: RFC 9293 3.10.7.4 and RFC 5961 5.2 say drop
    // it and send an ACK. Linux answers with a rate-limited challenge ACK in every state
    // (tcp_ack: after(ack, snd_nxt) -> tcp_send_challenge_ack; until 2025 it stayed silent
    // in ESTABLISHED, fixed upstream and in 6.18.y, which the host kernel here runs). The
    // rate limit keeps two stacks that disagree about what was sent from an ACK storm.
    c.drop(seg, "bad-ack", "ACK for data not sent");
    c.challengeAck(now);
    return false;
  }
  // RFC 5961 5.2: an ACK older than the largest window the peer ever offered is bogus.
  if (seqLt(ack, seqAdd(c.sndUna, -Math.max(c.sender.maxSndWnd, 1)))) {
    c.drop(seg, "bad-ack", "ACK too old (RFC 5961 5.2)");
    c.challengeAck(now);
    return false;
  }
  // RFC 7323 4.3 updates TS.Recent once a segment is acceptable; Linux waits until its
  // ACK has passed too (tcp_ack with FLAG_UPDATE_TS_RECENT), so a segment whose ACK is
  // dropped cannot move TS.Recent, and with it PAWS, forward. It is updated before the
  // ACK's effects, so a retransmission the ACK triggers echoes it.
  c.negotiation.noteTimestamp(now, seg, segLen, c.receiver.lastAckSent);
  c.softError = undefined; // the path works again (Linux clears sk_err_soft in tcp_ack)
  c.sender.onAck(now, seg);
  afterAck(c, now);
  return c.state !== "CLOSED";
}

/**
 * State changes caused by our FIN being acknowledged (3.10.7.4 "fifth"). FIN_WAIT_1 is
 * settled after the FIN bit, in onSegmentSynchronizing.
 */
function afterAck(c: Connection, now: Millis): void {
  if (!c.sender.finAcked()) return;
  switch (c.state) {
    case "CLOSING":
      c.enterTimeWait(now, "ACK of FIN received");
      break;
    case "LAST_ACK":
      c.terminate(undefined, "ACK of FIN received");
      break;
    default:
      break;
  }
}

/** RFC 9293 3.10.7.4 "seventh": text in ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2. */
export function acceptText(c: Connection, now: Millis, seg: TcpSegment): void {
  if (seg.payload.length === 0) return;
  if (c.state !== "ESTABLISHED" && c.state !== "FIN_WAIT_1" && c.state !== "FIN_WAIT_2") {
    c.drop(seg, "state", `data after the peer's FIN, in ${c.state}`);
    return;
  }
  if (c.orphaned) {
    // Nobody will read it: tell the peer (Linux "TCPAbortOnData", RFC 9293 3.10.4). Linux
    // answers the segment itself (tcp_v4_send_reset): <SEQ=SEG.ACK><CTL=RST>.
    c.sendControl(RST, seg.ack, 0 as Seq, false);
    c.terminate(undefined, "data received after close()");
    return;
  }
  c.receiving = true; // a receiver in the middle of a transfer keeps its timer set (Connection.settle)
  const r = c.receiver;
  let seq = seg.seq;
  let data = seg.payload;
  if ((seg.flags & SYN) !== 0) seq = seqAdd(seq, 1);
  // Trim anything beyond the window we advertised.
  const room = r.window.roomFrom(seq);
  if (room < data.length) data = data.subarray(0, Math.max(0, room));
  if (data.length === 0) return;
  const result = r.insert(seq, data, c.ctx.mtu - HEADERS, now, c.sender.rtt.rto, c.negotiation.sack, (seg.flags & (PSH | FIN | URG | SYN)) !== 0);
  switch (result) {
    case "in-order":
      if (r.space !== undefined) {
        if (!c.negotiation.timestamps) r.space.measureWindow(now, r.rcvNxt, r.window.offered); // tcp_rcv_rtt_measure
        else if (data.length >= r.window.fullSegment) r.space.sample(c.negotiation.rttFromEcho(now, seg)); // tcp_rcv_rtt_measure_ts
      }
      c.wake();
      if (r.wantsDelayedAck && c.timers.delayedAck === Infinity) c.armTimer(now, "delayedAck", r.delayedAckAt(now));
      break;
    case "out-of-order":
      c.stats.rcvOoopack++;
      break;
    case "duplicate":
      c.drop(seg, "duplicate", "already received");
      break;
    case "ooo-limit":
      c.drop(seg, "ooo-limit", "too many out-of-order ranges held");
      break;
  }
}

/** RFC 9293 3.10.7.4 "eighth": the FIN bit, processed only once everything before it arrived. */
export function acceptFin(c: Connection, now: Millis, seg: TcpSegment): void {
  const r = c.receiver;
  if ((seg.flags & FIN) !== 0) {
    if (r.peerFinished) {
      r.ackNow = true; // a retransmitted FIN: our ACK was lost
      return;
    }
    const finSeq = seqAdd(seg.seq, seg.payload.length + ((seg.flags & SYN) !== 0 ? 1 : 0));
    if (seqGt(finSeq, r.rcvNxt)) {
      r.ownBuffer().holdFin(finSeq); // data before it is missing (S18)
      r.ackNow = true;
      return;
    }
    if (finSeq !== r.rcvNxt) return; // its data was trimmed off: not yet reachable
  } else if (r.peerFinished || !r.buffer.finReached(r.rcvNxt)) {
    return;
  }
  r.consumeFin();
  c.wake();
  switch (c.state) {
    case "SYN_RCVD":
    case "ESTABLISHED":
      c.setState("CLOSE_WAIT", "FIN received");
      break;
    case "FIN_WAIT_1":
      // Our FIN acknowledged by this same segment: FIN_WAIT_1 -> TIME_WAIT (S26).
      if (c.sender.finAcked()) c.enterTimeWait(now, "FIN,ACK received");
      else c.setState("CLOSING", "FIN received (simultaneous close)");
      break;
    case "FIN_WAIT_2":
      c.enterTimeWait(now, "FIN received");
      break;
    default:
      break;
  }
}
