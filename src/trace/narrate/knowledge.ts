/**
 * What each side of a connection knows about the other (S35), derived from its state
 * changes, and the one-line explanations of --explain.
 *
 * The documents explain the handshake as two questions each side must answer ("can the
 * peer send? can it receive?") and the close as "has the peer finished sending?" and "does
 * the peer know I have finished?". Every answer changes at a state transition, so the
 * transition is all we need to track them.
 */
import type { TcpState } from "../events.js";
import { formatDuration } from "../format.js";

export interface Knowledge {
  peerCanSend: boolean;
  peerCanReceive: boolean;
  peerFinished: boolean;
  ourFinAcked: boolean;
}

export function freshKnowledge(): Knowledge {
  return { peerCanSend: false, peerCanReceive: false, peerFinished: false, ourFinAcked: false };
}

/** Updates `k` for a transition and returns it. */
export function learn(k: Knowledge, from: TcpState, to: TcpState): Knowledge {
  if (to === "SYN_RCVD") k.peerCanSend = true;
  if (to === "ESTABLISHED") {
    k.peerCanSend = true;
    k.peerCanReceive = true;
  }
  if (to === "CLOSE_WAIT" || to === "CLOSING") k.peerFinished = true;
  if (from === "FIN_WAIT_1" && to === "FIN_WAIT_2") k.ourFinAcked = true;
  // Every way into TIME_WAIT means both FINs are in and ours is acknowledged.
  if (to === "TIME_WAIT") {
    k.peerFinished = true;
    k.ourFinAcked = true;
  }
  if (from === "LAST_ACK" && to === "CLOSED") k.ourFinAcked = true;
  return k;
}

const yn = (b: boolean): string => (b ? "yes" : "?");

/**
 * "client knows server: sends yes, receives ?, finished ?". A "?" is the documents' "I do
 * not know yet": a side can never know the opposite, only learn the positive.
 */
export function describeKnowledge(host: string, peer: string, k: Knowledge): string {
  let s = `${host} knows ${peer}: sends ${yn(k.peerCanSend)}, receives ${yn(k.peerCanReceive)}, finished ${yn(k.peerFinished)}`;
  if (k.ourFinAcked) s += `, has our FIN`;
  return s;
}

/** Why a state changed, in words, from the point of view of `host` talking to `peer`. */
export function explainTransition(host: string, peer: string, from: TcpState, to: TcpState, cause: string, extra: { msl2?: number; error?: string }): string {
  if (extra.error === "ECONNREFUSED") return `${peer} answered with RST: nobody listens on that port, so connect() fails with ECONNREFUSED (S32).`;
  if (extra.error === "ECONNRESET") return `A RST from ${peer}: it has no such connection (any more), so ${host}'s side is torn down: "connection reset by peer" (S10, S32).`;
  if (extra.error === "ETIMEDOUT") return `${host} gives up: every retry went unanswered, so the application gets ETIMEDOUT (S8, S21).`;
  const key = `${from}>${to}`;
  switch (key) {
    case "CLOSED>SYN_SENT":
      return `Active open: ${host} picks its initial sequence number and sends a SYN (S2, S4).`;
    case "LISTEN>SYN_RCVD":
      return `${host} got a SYN: ${peer} wants to connect and can send. It answers SYN,ACK and keeps a half-open entry in its SYN queue (S2, S7).`;
    case "SYN_SENT>ESTABLISHED":
      return `The SYN,ACK acknowledges ${host}'s SYN, so ${peer} can receive, and its SYN shows it can send: ${host} is ESTABLISHED and sends the third segment, an ACK (S2).`;
    case "SYN_RCVD>ESTABLISHED":
      return cause.includes("simultaneous")
        ? `${peer}'s SYN,ACK acknowledges ${host}'s SYN: both sides opened at once and both are now ESTABLISHED (S13).`
        : `The ACK shows ${peer} got the SYN,ACK: now both sides know both can send and receive, and the connection moves to the accept queue (S2, S7).`;
    case "SYN_SENT>SYN_RCVD":
      return `A SYN arrived while ${host}'s own SYN is out: a simultaneous open. ${host} answers SYN,ACK (S13).`;
    case "SYN_RCVD>CLOSED":
      return cause.includes("retries")
        ? `${host} gave up waiting for the final ACK: its SYN,ACK retries are used up and the half-open entry is dropped. ${peer} does not know (S9, S10).`
        : `The RST frees ${host}'s half-open entry: no connection is left that nobody uses (S11).`;
    case "ESTABLISHED>FIN_WAIT_1":
      return `${host}'s application closed: a FIN (which takes one sequence number) follows the queued data (S22, S23).`;
    case "ESTABLISHED>CLOSE_WAIT":
      return `A FIN: ${peer} has finished sending (the reader sees end of stream). ${host} ACKs it and may still send until its application closes (S22, S24).`;
    case "FIN_WAIT_1>FIN_WAIT_2":
      return `${peer} acknowledged ${host}'s FIN: it knows ${host} is done, but it may still send data (S22).`;
    case "FIN_WAIT_1>CLOSING":
      return `${peer}'s FIN crossed ${host}'s own: a simultaneous close. ${host} ACKs it and waits for the ACK of its FIN (S26).`;
    case "FIN_WAIT_1>TIME_WAIT":
      return `One segment carried ${peer}'s FIN and the ACK of ${host}'s FIN: straight to TIME_WAIT (S26).`;
    case "FIN_WAIT_2>TIME_WAIT":
    case "CLOSING>TIME_WAIT":
      return `Both directions are finished. ${host} ACKs and waits 2 MSL${extra.msl2 !== undefined ? ` (${formatDuration(extra.msl2)})` : ""} so a lost ACK can be resent and old segments die out (S22, S27).`;
    case "CLOSE_WAIT>LAST_ACK":
      return `${host}'s application closed too: its FIN goes out and it waits for the last ACK (S22).`;
    case "LAST_ACK>CLOSED":
      return `The last ACK arrived: ${peer} got ${host}'s FIN, so ${host} frees the connection at once, no TIME_WAIT on this side (S22).`;
    case "TIME_WAIT>CLOSED":
      return `2 MSL passed: nothing of this connection can still be in the network, so the 4-tuple may be used again (S27, S28).`;
    case "FIN_WAIT_2>CLOSED":
      return `The orphaned connection waited too long for ${peer}'s FIN and is dropped (tcp_fin_timeout, S31).`;
    default:
      return `${host}: ${from} -> ${to} (${cause}).`;
  }
}

export function explainTimer(host: string, timer: string, next: number | undefined): string {
  switch (timer) {
    case "rto":
      return `No ACK came within the retransmission timeout: ${host} resends${next !== undefined ? ` and doubles the timeout to ${formatDuration(next)}` : ""} (exponential backoff, S8, S9, S16).`;
    case "persist":
      return `${host}'s peer advertises a zero window: ${host} probes it so a lost window update cannot stall both sides forever (S17).`;
    case "keepalive":
      return `The connection was idle too long: ${host} sends a keep-alive probe (an old sequence number) to see whether the peer is still there (S21).`;
    case "tlp":
      return `About two round trips passed with data outstanding and no ACK: ${host} sends a tail loss probe (new data, or its last segment again) so that a lost tail is found by the probe's ACK instead of a much later retransmission timeout (RFC 8985 section 7).`;
    case "reorder":
      return `A segment sent after the missing one has been delivered, and the reordering window (a quarter of the minimum RTT) has passed: RACK now deems the missing one lost and ${host} resends it (RFC 8985 section 6).`;
    case "time-wait":
      return `The 2 MSL timer expired.`;
    case "fin-wait-2":
      return `The FIN_WAIT_2 timer expired for an orphaned connection (S31).`;
    default:
      return `${host}'s ${timer} timer expired.`;
  }
}

export function explainDrop(host: string, reason: string): string {
  switch (reason) {
    case "bad-checksum":
      return `The checksum does not match (a bit flipped on the way): ${host} drops the segment silently, without an ACK; the sender's timer will resend it (S20).`;
    case "duplicate":
      return `${host} already has these bytes: the duplicate is discarded and re-acknowledged, the stream never repeats a byte (S19).`;
    case "syn-queue-full":
      return `${host}'s SYN queue is full of half-open connections: the SYN is dropped; the client will retry after its timeout (S7, S12).`;
    case "accept-queue-full":
      return `${host}'s accept queue is full: the final ACK is dropped and the SYN,ACK retransmission will retry later (S7).`;
    case "no-listener":
      return `No connection and no listener for this segment at ${host}: it is answered with RST (S30).`;
    case "out-of-window":
      return `The segment is outside ${host}'s receive window: dropped, and ${host} ACKs to say what it expects.`;
    case "bad-ack":
      return `The ACK does not match anything ${host} sent: ${host} answers with RST (S2, S11).`;
    default:
      return `${host} drops the segment (${reason}).`;
  }
}

/** What an application call means, for --explain. */
export function explainCall(host: string, call: string): string {
  if (call.startsWith("listen")) return `Passive open: ${host} goes from CLOSED to LISTEN and waits for SYNs (S4).`;
  if (call.startsWith("connect")) return `Active open: ${host} sends a SYN with its initial sequence number and waits in SYN_SENT (S2, S4, S6).`;
  if (call.startsWith("send")) return `The application hands bytes to ${host}'s TCP; they leave in segments of at most one MSS, as the window allows (S14, S17).`;
  if (call.startsWith("shutdown")) return `Half-close: ${host} will send no more data (FIN) but keeps reading (S24, S32).`;
  if (call.startsWith("close")) return `close(): ${host} will neither send nor read any more; a FIN follows the queued data (S22, S32).`;
  if (call.startsWith("abort")) return `abort(): ${host} sends RST and forgets the connection at once (S32).`;
  if (call.startsWith("stop reading")) return `${host}'s application stops reading: received bytes pile up and the window it advertises shrinks (S17).`;
  if (call.startsWith("read") || call.startsWith("resume")) return `${host}'s application reads: buffer space frees up and the window opens again (S17).`;
  if (call.startsWith("keep-alive")) return `Keep-alive on: after an idle period ${host} will probe the peer (S21).`;
  if (call.startsWith("unplug") || call.startsWith("crash")) return `${host} disappears from the network without a word: no FIN, no RST.`;
  return `${host}: ${call}.`;
}
