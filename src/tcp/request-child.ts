/**
 * The connection a request record (request-table.ts) becomes when its handshake completes,
 * as Linux's tcp_create_openreq_child builds the child socket from the request socket.
 * The child is left exactly as a connection that had lived through the handshake would be
 * (connection.ts openPassive, then the SYN-ACKs it sent and the timeouts it took), still
 * in SYN_RCVD; the layer then hands it the segment that completes the handshake, which it
 * processes as it always did (input.ts), and so reaches ESTABLISHED. Nothing here is
 * traced: the record traced the handshake, the child's own events start with that segment.
 */
import { ACK, NO_OPTIONS, SYN, type TcpSegment } from "../wire/tcp.js";
import { seqAdd, type Seq } from "../wire/seq.js";
import type { Connection } from "./connection.js";
import type { RequestRecord } from "./request-table.js";
import { EMPTY } from "./send-buffer.js";
import { ecnOn } from "./ecn.js";

/** Restores in `c` (fresh, passive, same ISS, timestamp offset and settings) what `r` lived through. */
export function restoreChild(c: Connection, r: RequestRecord): void {
  const at = r.synAt;
  const syn: TcpSegment = {
    srcPort: r.tuple.remotePort, dstPort: r.tuple.localPort, seq: r.irs, ack: 0 as Seq, flags: SYN,
    window: r.synWindow, urgentPointer: 0, options: r.options, payload: EMPTY,
  };
  // The SYN (openPassive, without its trace and its SYN-ACK). The record counted the
  // segment being handed over, which the child counts again.
  c.segmentsIn = r.segmentsIn - 1;
  c.stats.onReceive(at, syn);
  c.receiver.onSyn(r.irs);
  if (r.ecnOk) ecnOn(c, c.config.ecn).ok = true;
  c.negotiate(at, r.options);
  c.sender.updateWindow(syn, true, c.negotiation.sndShift);
  c.state = "SYN_RCVD";
  c.receiver.established(at);
  // The SYN-ACKs (Connection.sendSynAck): the window offered, SND.NXT past our SYN, the
  // first one timed for an RTT sample unless a timeout resent it (Karn's rule).
  const s = c.sender;
  const synAck: TcpSegment = {
    srcPort: r.tuple.localPort, dstPort: r.tuple.remotePort, seq: r.iss, ack: seqAdd(r.irs, 1), flags: SYN | ACK,
    window: r.synWindow, urgentPointer: 0, options: NO_OPTIONS, payload: EMPTY,
  };
  for (let i = 0; i < r.synAcks; i++) c.stats.onSend(at, synAck, i > 0, r.iss);
  c.receiver.window.offerUnscaled(c.rcvNxt);
  c.receiver.onAckSent(c.rcvNxt);
  s.sndNxt = s.sndMax = seqAdd(r.iss, 1);
  s.timed = r.retries === 0 ? { end: s.sndNxt, at } : undefined;
  // The timeouts (timeouts.ts for SYN_RCVD): retries counted, the RTO backed off.
  s.retries = r.retries;
  for (let i = 0; i < r.retries; i++) s.rtt.backOff();
  c.ownTimers().rto = r.deadline;
  c.segmentsOut = r.segmentsOut;
  c.retransmits = r.retransmits;
}
