/**
 * Proportional Rate Reduction (RFC 9937, which obsoletes RFC 6937): how much may be sent
 * for each ACK during recovery, so the window comes down to ssthresh smoothly instead of
 * stopping (RFC 6675's cwnd = ssthresh with a full pipe sends nothing for half an RTT)
 * or bursting.
 *
 * While the pipe is above ssthresh, send in proportion to what is delivered
 * (ssthresh / RecoverFS of it); once below, the slow-start reduction bound lets the pipe
 * grow back towards ssthresh by at most what was delivered plus one segment.
 *
 * Arithmetic as Linux's tcp_cwnd_reduction (in segments, RecoverFS = the cwnd before the
 * reduction, prior_cwnd; RFC 9937 uses the pipe at the start, which Linux approximates),
 * including the extra segment when SND.UNA advanced without new losses and the one
 * segment always allowed for the fast retransmit itself.
 */
export class ProportionalRateReduction {
  /** prr_delivered and prr_out, in bytes. */
  delivered = 0;
  out = 0;
  /** RecoverFS in bytes (Linux prior_cwnd). */
  private recoverFs = 1;

  start(priorCwnd: number): void {
    this.delivered = 0;
    this.out = 0;
    this.recoverFs = Math.max(priorCwnd, 1);
  }

  onSent(bytes: number): void {
    this.out += bytes;
  }

  /**
   * An ACK during the reduction delivered `newlyDelivered` bytes (cumulatively ACKed or
   * newly SACKed). Returns the new cwnd: the pipe plus what may be sent now.
   */
  cwndAfterAck(newlyDelivered: number, pipe: number, ssthresh: number, mss: number, sndUnaAdvanced: boolean, newlyLost: boolean): number | undefined {
    if (newlyDelivered <= 0) return undefined;
    this.delivered += newlyDelivered;
    const seg = (bytes: number) => bytes / mss;
    const delta = seg(ssthresh) - seg(pipe);
    let sndcnt: number;
    if (delta < 0) {
      // Proportional part: ceil(ssthresh * prr_delivered / RecoverFS) - prr_out.
      sndcnt = Math.ceil((seg(ssthresh) * seg(this.delivered)) / seg(this.recoverFs) - 1e-9) - seg(this.out);
    } else {
      // Slow-start reduction bound (RFC 9937 section 3: PRR-SSRB).
      sndcnt = Math.max(seg(this.delivered) - seg(this.out), seg(newlyDelivered));
      if (sndUnaAdvanced && !newlyLost) sndcnt += 1;
      sndcnt = Math.min(delta, sndcnt);
    }
    sndcnt = Math.max(Math.floor(sndcnt + 1e-9), this.out > 0 ? 0 : 1);
    return pipe + sndcnt * mss;
  }
}
