/**
 * The sender's tail loss probe (RFC 8985 section 7; the timeout arithmetic is loss/tlp.ts):
 * what goes out when the probe timer fires.
 */
import type { Millis } from "../env.js";
import { seqAdd, seqDiff, seqGt, seqLt, seqMax, type Seq } from "../wire/seq.js";
import type { Sender } from "./sender.js";

/**
 * The probe timeout (RFC 8985 7.3, Linux tcp_send_loss_probe): new data if the window
 * allows, else the last segment again; then the RTO watches.
 */
export function sendLossProbe(s: Sender, now: Millis): void {
  // RFC 8985 7.2: no probe during loss recovery; CWR (an ECN reduction) is not one (Linux probes in CWR too).
  if (s.tlp.highSeq !== undefined || s.congestion.inRecovery || s.congestion.state === "loss") {
    s.host.armTimer(now, "rto", now + s.rtt.rto);
    return;
  }
  const before = s.sndMax;
  s.probing = true;
  const unsent = s.sendBuffer.length - seqDiff(s.sndNxt, s.sndBufSeq);
  if (unsent > 0 && s.sndWnd - seqDiff(s.sndNxt, s.sndUna) >= Math.min(unsent, s.host.segmentMss())) {
    s.forceOne = true;
    s.sendNextSegment(now);
    s.forceOne = false;
  }
  let probed = seqGt(s.sndMax, before);
  if (probed) {
    s.tlp.onProbeSent(s.sndNxt, false);
    s.traceLoss(now, "tlp", "tail loss probe: new data");
  } else if (s.log.size > 0) {
    const end = s.log.end(s.log.size - 1);
    const start = seqMax(seqMax(s.log.start(s.log.size - 1), seqAdd(end, -s.host.segmentMss())), s.sndUna);
    if (!pastWindow(s, start)) {
      s.retransmitRange(now, start, end);
      s.tlp.onProbeSent(s.sndNxt, true);
      s.traceLoss(now, "tlp", `tail loss probe: last segment again (${seqDiff(end, start)} bytes)`);
      probed = true;
    }
  }
  s.probing = false;
  // Linux tcp_rearm_rto: from now after a probe, else from the oldest segment's send time.
  const from = probed || s.log.size === 0 ? now : Math.max(now, s.log.sentAt(0));
  s.host.armTimer(now, "rto", from + s.rtt.rto);
}

/**
 * The last segment, from `start`, lies beyond the peer's window (closed or shrunk since it
 * went out) and not at SND.UNA: it is not resent (Linux __tcp_retransmit_skb refuses it, so
 * tcp_send_loss_probe only rearms the timer; the timeout then probes with the first segment).
 */
function pastWindow(s: Sender, start: Seq): boolean {
  return start !== s.sndUna && !seqLt(start, seqAdd(s.sndUna, s.sndWnd));
}
