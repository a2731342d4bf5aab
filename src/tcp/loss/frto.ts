/**
 * F-RTO (RFC 5682; the SACK-enhanced algorithm of section 3.1 as Linux's tcp_process_loss
 * runs it): after a retransmission timeout, tell a spurious timeout (the segments were only
 * delayed) from a real loss by what the next ACKs acknowledge.
 *
 * - An ACK that delivers data which was never retransmitted shows the originals arrived:
 *   the timeout was spurious, and the window reduction is undone (step 3.b; Linux
 *   FLAG_ORIG_SACK_ACKED with tcp_try_undo_loss).
 * - The first ACK that advances SND.UNA without that lets new data go instead of more
 *   retransmissions (step 2.b), if there is new data and the peer's window allows.
 * - After that, a duplicate ACK or new SACK information says the loss was real (step 3.a):
 *   conventional recovery (resending from SND.UNA) goes on.
 *
 * This module only decides; the sender acts on the verdict.
 */
export type FrtoVerdict = "none" | "spurious" | "send-new" | "real";

export interface FrtoAck {
  /** The ACK (cumulatively or by SACK) delivered a segment never retransmitted. */
  readonly originalDelivered: boolean;
  readonly unaAdvanced: boolean;
  /** SND.UNA reached the highest sequence sent when the timeout fired (recovery is over). */
  readonly recovered: boolean;
  /** The ACK is a duplicate or reports newly SACKed data. */
  readonly duplicateOrSack: boolean;
  /** Unsent data waits and the peer's window has room for it. */
  readonly canSendNew: boolean;
}

export class Frto {
  /** Linux tp->frto: the current timeout is under F-RTO's watch. */
  active = false;
  /** Step 2.b happened: new data went out after the timeout (Linux: snd_nxt after high_seq). */
  newDataSent = false;

  /** A retransmission timeout: watch it unless disabled or an MTU probe is out (Linux tcp_enter_loss). */
  onTimeout(enabled: boolean, mtuProbeOut: boolean): void {
    this.active = enabled && !mtuProbeOut;
    this.newDataSent = false;
  }

  onAck(a: FrtoAck): FrtoVerdict {
    if (!this.active) return "none";
    if (a.originalDelivered) {
      this.stop();
      return "spurious";
    }
    if (this.newDataSent) {
      if (!a.duplicateOrSack) return "none";
      this.stop();
      return "real";
    }
    if (a.unaAdvanced && !a.recovered) {
      if (a.canSendNew) return "send-new";
      this.stop();
    }
    return "none";
  }

  stop(): void {
    this.active = false;
  }
}
