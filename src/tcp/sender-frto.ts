/**
 * The sender's side of F-RTO (RFC 5682; the decisions are loss/frto.ts): acting on the
 * verdict for each ACK in the loss state, and sending new data in step 2.b.
 */
import type { Millis } from "../env.js";
import { seqAdd, seqDiff, seqGe, seqLt, seqMax } from "../wire/seq.js";
import type { Sender } from "./sender.js";

/** An ACK in the loss state while F-RTO watches the timeout (Linux tcp_process_loss). */
export function frtoAck(s: Sender, now: Millis, unaAdvanced: boolean, duplicateOrSack: boolean): void {
  const unsent = s.sendBuffer.length - seqDiff(s.sndMax, s.sndBufSeq);
  const verdict = s.frto.onAck({
    // Linux FLAG_ORIG_SACK_ACKED: never resent, and sent before the timeout (not F-RTO's new data).
    originalDelivered: s.lowDelivered !== undefined && s.congestion.recover !== undefined && seqLt(s.lowDelivered, s.congestion.recover),
    unaAdvanced,
    recovered: s.congestion.recover !== undefined && seqGe(s.sndUna, s.congestion.recover),
    duplicateOrSack,
    canSendNew: unsent > 0 && seqLt(s.sndMax, seqAdd(s.sndUna, s.sndWnd)),
  });
  if (verdict === "spurious") {
    s.undoSpurious(now, "F-RTO: data sent before the timeout and never resent was acknowledged, so the originals arrived");
    return;
  }
  // Whatever else this ACK says, resending resumes where it stood (Linux REXMIT_LOST).
  if (s.frtoResume !== undefined) {
    s.sndNxt = seqMax(s.frtoResume, s.sndUna);
    s.frtoResume = undefined;
  }
  if (verdict === "real") s.traceLoss(now, "frto", "F-RTO: a duplicate ACK after the new data: the loss was real, resending goes on");
  if (verdict === "send-new") frtoSendNew(s, now);
}

/**
 * F-RTO step 2.b: up to two new segments instead of the next retransmissions; what the
 * ACKs of those say decides. The loss episode now ends past them (Linux high_seq = snd_nxt).
 */
export function frtoSendNew(s: Sender, now: Millis): void {
  const resume = s.sndNxt;
  s.congestion.recover = s.sndMax;
  s.sndNxt = s.sndMax;
  s.forceOne = true;
  const sent = s.sendNextSegment(now) > 0;
  if (sent) s.sendNextSegment(now);
  s.forceOne = false;
  if (!sent) {
    s.sndNxt = resume;
    s.frto.stop();
    return;
  }
  s.frto.newDataSent = true;
  s.frtoResume = resume;
  s.traceLoss(now, "frto", "F-RTO: the first ACK after the timeout advanced; new data goes instead of retransmissions, to see whether the originals arrived");
}
