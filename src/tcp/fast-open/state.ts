/**
 * What one connection knows about its Fast Open (RFC 7413): the option its SYN or SYN-ACK
 * carries, how much data its SYN may carry and did, and whether that data was acknowledged
 * (what TCP_INFO reports as TCPI_OPT_SYN_DATA).
 */
import type { IpAddress } from "../../wire/address.js";
import type { FastOpenOption } from "../../wire/tcp.js";
import type { FastOpenCache } from "./cache.js";

export class FastOpenState {
  /** Server: a child made from a Fast Open SYN, queued for accept() before its handshake completed. */
  child = false;
  /** The data of the SYN was acknowledged (Linux syn_data_acked). */
  synDataAcked = false;
  /** The option our SYN (client) or SYN-ACK (server) carries: a cookie request, a cookie, or none. */
  synOption: FastOpenOption | undefined;
  /** Client: bytes of the send buffer the first SYN may carry (0: none, e.g. no cookie yet). */
  synRoom = 0;
  /** Client: bytes the first SYN carried. */
  synData = 0;
  /** Client: the SYN was sent again after a timeout (plain, without data or option). */
  synRetransmitted = false;
  /**
   * Client: a blocking write waits for the handshake to queue the rest of its data (Linux
   * sk_write_pending): the SYN-ACK's ACK is delayed so that it leaves with that data.
   */
  writerWaiting = false;

  constructor(
    /** Client only: where cookies are remembered, and for which server. */
    readonly cache?: FastOpenCache,
    readonly server?: IpAddress,
  ) {}

  /** Client: this SYN asked for or used Fast Open (Linux syn_fastopen). */
  get requested(): boolean {
    return this.synOption !== undefined || this.synData > 0;
  }
}
