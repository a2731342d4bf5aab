/**
 * "How much is left to read", the two ways Linux answers it. Both count from the reader's
 * position (Linux copied_seq, our Receiver.readSeq) to RCV.NXT, which a received FIN has
 * advanced by one; they differ in what they do with that FIN and with urgent data:
 *
 * - SIOCINQ / FIONREAD (Linux tcp_inq, include/net/tcp.h) counts data only: the FIN is
 *   taken off, nothing is counted before the handshake completes, and while an urgent mark
 *   lies ahead of the reader (not SO_OOBINLINE) only the bytes before it count.
 * - TCP_CM_INQ, the control message recvmsg() adds with TCP_INQ on (Linux tcp_inq_hint,
 *   net/ipv4/tcp.c), keeps the FIN: it is never 0 once the peer has finished, so a reader
 *   that sees 0 knows another recvmsg() would block, and one that sees 1 after the last
 *   data knows the next one returns end of stream.
 *
 * Our reader never moves past the FIN (Linux's copied_seq does once a read returns 0), so
 * RCV.NXT - readSeq is the buffered bytes plus one for a received FIN in every case.
 */
import { seqDiff, seqGe, seqLt } from "../wire/seq.js";
import type { Connection } from "./connection.js";

/** Linux tcp_inq_hint: bytes not yet read, plus 1 once the peer's FIN has arrived (SOCK_DONE). */
export function inqHint(c: Connection): number {
  const r = c.receiver;
  return r.buffer.readable + (r.peerFinished ? 1 : 0);
}

/** Linux tcp_inq (SIOCINQ): bytes a read could return, 0 before the handshake, cut at an urgent mark ahead. */
export function inqBytes(c: Connection): number {
  if (c.state === "SYN_SENT" || c.state === "SYN_RCVD") return 0;
  const r = c.receiver;
  const mark = c.urgentInPart?.inline === false ? c.urgentInPart.mark : undefined;
  // Linux: urg_data set, and urg_seq neither behind copied_seq nor at or past rcv_nxt.
  if (mark !== undefined && seqGe(mark, r.readSeq) && seqLt(mark, r.rcvNxt)) return seqDiff(mark, r.readSeq);
  // rcv_nxt - copied_seq, less 1 for a received FIN when that leaves anything (SOCK_DONE).
  return r.buffer.readable;
}
