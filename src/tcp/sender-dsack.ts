/**
 * The sender's side of D-SACK (RFC 2883; the receiver's side is receiver.ts): counting the
 * duplicates a D-SACK reports, undoing a reduction whose retransmissions all proved
 * unnecessary (RFC 3708), and crediting a duplicate of resent data as delivered.
 */
import type { Millis } from "../env.js";
import { seqDiff, seqGt } from "../wire/seq.js";
import type { SackBlock } from "../wire/tcp.js";
import type { Sender } from "./sender.js";

/**
 * A D-SACK block on an ACK. Returns the bytes that count as delivered: a duplicate of data
 * we resent means the original had arrived, so the resend was delivered too. Linux
 * (tcp_dsack_seen, "a spurious retransmission is delivered") adds it to tp->delivered, which
 * both the window's growth (acked_sacked) and the delivery-rate sample read; without it a
 * sender resending a window after a timeout, most of it already received, sees almost
 * nothing delivered per round and BBR's bandwidth estimate decays to nothing.
 */
export function onDsack(s: Sender, now: Millis, block: SackBlock): number {
  const bytes = seqDiff(block.right, block.left);
  let credit = 0;
  // Linux tcp_dsack_seen: a block wider than any window the peer offered is dubious and not
  // counted; otherwise one duplicate per MSS it covers, at least one, and none is credited
  // once more duplicates were reported than segments were ever resent (the peer's doing).
  if (bytes > 0 && bytes <= s.maxSndWnd) {
    s.dsackDups += Math.max(1, Math.ceil(bytes / s.sendMss));
    if (s.dsackDups <= s.host.retransmits) credit = bytes;
  }
  s.traceLoss(now, "dsack", `D-SACK ${bytes} bytes: a segment arrived twice`);
  // RFC 3708 3.2 / Linux tcp_sacktag_write_queue: a duplicate of data resent in this
  // episode shows that resending was unnecessary.
  if (s.undoMarker !== undefined && seqGt(block.right, s.undoMarker) && s.congestion.onSpuriousRetransmit()) {
    s.undoMarker = undefined;
    s.traceLoss(now, "undo", "every retransmission was D-SACKed: the reduction is undone");
    s.traceCwnd(now, "undo (D-SACK)");
  }
  if (credit > 0) s.model?.rate.onDsackDelivered(credit);
  return credit;
}
