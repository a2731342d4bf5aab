/**
 * A read-only snapshot of a connection for tests, tables (`synack ss`) and debugging: the
 * sequence variables, windows, timers and counters, with no reaching into private fields.
 */
import type { FourTuple, TcpState } from "../trace/events.js";
import type { Seq } from "../wire/seq.js";
import type { Connection } from "./connection.js";
import type { TcpErrorCode } from "./errors.js";

export interface ConnectionInfo {
  state: TcpState;
  tuple: FourTuple;
  iss: Seq;
  irs: Seq;
  sndUna: Seq;
  sndNxt: Seq;
  sndMax: Seq;
  sndWnd: number;
  rcvNxt: Seq;
  rcvWnd: number;
  sendMss: number;
  sndShift: number;
  rcvShift: number;
  timestamps: boolean;
  sack: boolean;
  sacked: number;
  cwnd: number;
  ssthresh: number;
  srtt: number | undefined;
  rto: number;
  retries: number;
  sendQueued: number;
  receiveQueued: number;
  outOfOrderBytes: number;
  timers: { rto: number; tlp: number; reorder: number; persist: number; keepalive: number; delayedAck: number; linger: number };
  segmentsIn: number;
  segmentsOut: number;
  retransmits: number;
  bytesAcked: number;
  bytesReceived: number;
  error: TcpErrorCode | undefined;
}

export function connectionInfo(c: Connection): ConnectionInfo {
  const state = c.state; // reads the TIME_WAIT record, which then is still held or forgotten
  const record = c.timeWaitRecord;
  const tw = record !== undefined ? record.table.segmentCounts(record.slot) : undefined; // counted by the record since hand-over
  return {
    state,
    tuple: c.tuple,
    iss: c.iss,
    irs: c.irs,
    sndUna: c.sndUna,
    sndNxt: c.sndNxt,
    sndMax: c.sndMax,
    sndWnd: c.sndWnd,
    rcvNxt: c.rcvNxt,
    rcvWnd: c.receiver.window.size(c.rcvNxt),
    sendMss: c.sendMss,
    sndShift: c.negotiation.sndShift,
    rcvShift: c.negotiation.rcvShift,
    timestamps: c.negotiation.timestamps,
    sack: c.negotiation.sack,
    sacked: c.sender.scoreboard?.sackedBytes ?? 0,
    cwnd: c.congestion.cwnd,
    ssthresh: c.congestion.ssthresh,
    srtt: c.rtt.srtt,
    rto: c.rtt.rto,
    retries: c.retries,
    sendQueued: c.sendBuffer.length,
    receiveQueued: c.receiveBuffer.readable,
    outOfOrderBytes: c.receiveBuffer.outOfOrderBytes,
    timers: { rto: c.timers.rto, tlp: c.timers.tlp, reorder: c.timers.reorder, persist: c.timers.persist, keepalive: c.timers.keepalive, delayedAck: c.timers.delayedAck, linger: c.timers.linger },
    segmentsIn: c.segmentsIn + (tw?.segmentsIn ?? 0),
    segmentsOut: c.segmentsOut + (tw?.segmentsOut ?? 0),
    retransmits: c.retransmits,
    bytesAcked: c.bytesAcked,
    bytesReceived: c.bytesReceived,
    error: c.error?.code,
  };
}
