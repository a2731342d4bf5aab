/**
 * Urgent data as the connection sees it: a MSG_OOB write, the URG check of an arriving
 * segment (RFC 9293 3.10.7.4 "sixth"), ordinary reads that stop at the mark and the
 * out-of-band read. The rules themselves are in urgent.ts; this file applies them to a
 * connection's sender, receiver and trace (Linux: tcp_sendmsg's MSG_OOB, tcp_urg,
 * tcp_recvmsg, tcp_recv_urg).
 */
import type { Millis } from "../env.js";
import type { UrgentAction } from "../trace/events.js";
import { URG, type TcpSegment } from "../wire/tcp.js";
import { seqDiff, type Seq } from "../wire/seq.js";
import type { Connection } from "./connection.js";
import type { OobResult } from "./urgent.js";

/**
 * `taken` bytes of a MSG_OOB write were queued: SND.UP moves to their end (Linux
 * tcp_mark_urg). While urgent mode lasts, the connection's flush sends whatever Nagle or
 * TCP_CORK would hold (Linux tcp_nagle_test: "don't use the nagle rule for urgent data").
 */
export function markUrgentWrite(c: Connection, taken: number): void {
  const up = c.sender.finSeq();
  c.urgentOut.mark(up);
  note(c, c.ctx.now(), "sent", `MSG_OOB write of ${taken} byte${taken === 1 ? "" : "s"}: SND.UP is ISS+${seqDiff(up, c.iss)}, just past its last byte; segments carry URG until it is acknowledged`);
}

/** The urgent pointer of our segment starting at `seq`, or undefined for no URG: see UrgentSender.field. */
export function urgentField(c: Connection, seq: Seq): number | undefined {
  return c.urgentOutPart?.field(seq, c.sndUna, c.sndNxt);
}

/**
 * RFC 9293 3.10.7.4 "sixth, check the URG bit" as Linux tcp_urg: a newer pointer sets the
 * mark, and the segment holding the urgent byte hands it over.
 */
export function acceptUrgent(c: Connection, now: Millis, seg: TcpSegment): void {
  if ((seg.flags & URG) === 0 && c.urgentInPart === undefined) return; // no mark was ever set: nothing to capture
  const u = c.urgentIn;
  const r = c.receiver;
  let marked = false;
  if ((seg.flags & URG) !== 0) {
    const { fresh, discardAtReader } = u.onPointer(seg.seq, seg.urgentPointer, r.readSeq, r.rcvNxt);
    if (discardAtReader) r.buffer.read(1); // the older out-of-band byte the reader was stopped at
    marked = fresh;
  }
  const got = u.capture(seg.seq, seg.payload);
  if (!marked && !got) return;
  const where = `URG: urgent pointer ${seg.urgentPointer}`;
  const byte = got ? `byte ${showByte(u.peek)} ${u.inline ? "kept in the stream (SO_OOBINLINE)" : "taken out of band"}` : "";
  const detail = marked ? (got ? `${where}, ${byte}` : `${where}, urgent byte not arrived yet`) : `urgent byte arrived: ${byte}`;
  note(c, now, marked && !got ? "mark" : "byte", detail);
  c.wake();
}

/**
 * Ordinary read of up to `max` bytes (Linux tcp_recvmsg): it stops before the urgent byte;
 * a read at the mark first drops the out-of-band byte unless SO_OOBINLINE is set.
 */
export function readAroundMark(c: Connection, max: number): Uint8Array {
  const r = c.receiver;
  const u = c.urgentInPart;
  if (u?.mark === undefined) return r.buffer.read(max);
  const plan = u.plan(r.readSeq, max, r.buffer.readable);
  if (plan.skip > 0) r.buffer.read(plan.skip);
  const data = r.buffer.read(plan.max);
  u.afterRead(r.readSeq);
  return data;
}

/** recv(MSG_OOB) (Linux tcp_recv_urg): the urgent byte, or why there is none. */
export function readOob(c: Connection, peek: boolean): OobResult {
  const got = c.urgentIn.readOob(peek, c.peerFinished || c.isClosed());
  if ("byte" in got && !peek) note(c, c.ctx.now(), "oob-read", `urgent byte ${showByte(got.byte)} read out of band (MSG_OOB)`);
  return got;
}

/** Bytes an ordinary read can get: all received, less the out-of-band byte it must skip. */
export function readableBytes(c: Connection): number {
  const r = c.receiver;
  return r.buffer.readable - (c.urgentInPart?.hidden(r.readSeq, r.buffer.readable) ?? 0);
}

/** SIOCATMARK: the next byte an ordinary read returns (or skips) is the urgent one. */
export function atMark(c: Connection): boolean {
  return c.urgentInPart?.atMark(c.receiver.readSeq) === true;
}

function note(c: Connection, now: Millis, action: UrgentAction, detail: string): void {
  if (c.trace.enabled) c.trace.emit({ type: "urgent", time: now, host: c.hostName, tuple: c.tuple, action, detail });
}

/** 'X' for a printable byte, else 0x1b: narration quotes the byte. */
export function showByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `0x${b.toString(16).padStart(2, "0")}`;
}
