/**
 * What ping needs on either ICMP (icmp.ts, icmp6.ts): echo requests the application queued,
 * which leave on the next poll, and the replies received, which reach the application after
 * processing (so a callback never runs inside packet handling). The message type is the
 * family's own (IcmpMessage or Icmpv6Message).
 */
import type { IpAddress } from "../wire/address.js";
import type { Millis } from "../env.js";
import { WouldBlockError } from "./errors.js";
import { SendQueue } from "./send-queue.js";

export interface EchoReply {
  /** Who answered. */
  from: IpAddress;
  /** Our address it was sent to. */
  to: IpAddress;
  id: number;
  seq: number;
  data: Uint8Array;
  time: Millis;
}

export class EchoBook<M> {
  private readonly requests: SendQueue<{ dst: IpAddress; message: M }>;
  private replies: EchoReply[] = [];

  /** `sendBufferSize`: bytes of echo data that may wait (Linux wmem_default). */
  constructor(sendBufferSize = 212_992) {
    this.requests = new SendQueue(sendBufferSize);
  }

  /** Queues a request of `dataLength` bytes of data; throws EAGAIN when too much waits. */
  request(dst: IpAddress, message: M, dataLength: number): void {
    if (!this.requests.push({ dst, message }, dataLength)) throw new WouldBlockError("too many echo requests queued");
  }

  get hasRequests(): boolean {
    return this.requests.length > 0;
  }

  /** Hands each queued request to `send`, oldest first. The layers call it after every packet, behind `hasRequests`. */
  sendRequests(send: (dst: IpAddress, message: M) => void): void {
    for (const r of this.requests.drain()) send(r.dst, r.message);
  }

  replied(reply: EchoReply): void {
    this.replies.push(reply);
  }

  /** Calls `onReply` for each reply received since the last call (and any that arrive meanwhile). */
  deliverReplies(onReply: ((reply: EchoReply) => void) | undefined): void {
    while (this.replies.length > 0) {
      const batch = this.replies;
      this.replies = [];
      for (const r of batch) onReply?.(r);
    }
  }
}
