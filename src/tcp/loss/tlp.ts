/**
 * Tail Loss Probe (RFC 8985 section 7): when the last segments of a flight are lost, no
 * ACK comes to let RACK notice. Instead of waiting for the RTO (200 ms or more), send a
 * probe after about two round trips: new data if the window allows, else the last
 * segment again. The ACK of the probe either shows nothing was lost, or triggers RACK,
 * or (when only the probe's ACK comes back) reveals one loss and a cwnd reduction.
 *
 * Timing and the "loss repaired by the probe" rule follow Linux (tcp_schedule_loss_probe,
 * tcp_send_loss_probe, tcp_process_tlp_ack), which RFC 8985 7.2 describes with WCDelAckT
 * = 200 ms for a single outstanding segment.
 */
import type { Millis } from "../../env.js";
import { seqGt, seqLt, type Seq } from "../../wire/seq.js";

/** Linux TCP_TIMEOUT_MIN: added to 2 SRTT when more than one segment is outstanding. */
const PTO_SLACK: Millis = 2;

/** How the ACK that covers a probe is described to the probe's bookkeeping. */
export interface ProbeAck {
  ack: Seq;
  /** The ACK carried a D-SACK block for the probe's range: original and probe both arrived. */
  dsackForProbe: boolean;
  /** SND.UNA advanced, SACKed new data or updated the window: not a pure duplicate ACK. */
  notPureDuplicate: boolean;
}

export class TailLossProbe {
  /** TLP.end_seq: SND.NXT when the probe went out; undefined when no probe is outstanding. */
  highSeq: Seq | undefined;
  /** TLP.is_retrans: the probe was a retransmission (not new data). */
  retransmission = false;
  /** Probes sent (Linux LINUX_MIB_TCPLOSSPROBES). */
  probes = 0;
  /** Losses the probe repaired (LINUX_MIB_TCPLOSSPROBERECOVERY). */
  recoveries = 0;

  /**
   * The probe timeout, PTO (RFC 8985 7.2; Linux tcp_schedule_loss_probe): 2 SRTT, plus the
   * minimum RTO when one segment is out (its ACK may be delayed), else plus 2 ms; the
   * initial RTO before any RTT sample; never later than the RTO would fire.
   */
  timeout(srtt: Millis | undefined, segmentsOut: number, minRto: Millis, initialRto: Millis, rtoIn: Millis): Millis {
    const pto = srtt === undefined ? initialRto : 2 * srtt + (segmentsOut === 1 ? minRto : PTO_SLACK);
    return Math.min(pto, rtoIn);
  }

  onProbeSent(sndNxt: Seq, retransmission: boolean): void {
    this.highSeq = sndNxt;
    this.retransmission = retransmission;
    this.probes++;
  }

  /** A timeout or recovery started: a probe outstanding no longer says anything. */
  reset(): void {
    this.highSeq = undefined;
  }

  /**
   * RFC 8985 7.4.2 (Linux tcp_process_tlp_ack). Returns true when the probe repaired a
   * loss, so the sender must reduce its window once, as for any loss.
   */
  onAck(a: ProbeAck): boolean {
    if (this.highSeq === undefined || seqLt(a.ack, this.highSeq)) return false;
    if (!this.retransmission || a.dsackForProbe) {
      // New data was the probe, or both copies arrived: nothing was lost.
      this.highSeq = undefined;
      return false;
    }
    if (seqGt(a.ack, this.highSeq)) {
      this.highSeq = undefined;
      this.recoveries++;
      return true;
    }
    if (!a.notPureDuplicate) this.highSeq = undefined;
    return false;
  }
}
