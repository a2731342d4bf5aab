/**
 * A UDP socket's receive buffer: datagrams waiting for the application, bounded by bytes
 * (S33: "datagrams are lost when the receive buffer overflows").
 *
 * Each datagram is charged its length plus DATAGRAM_OVERHEAD, standing in for the kernel's
 * per-packet bookkeeping (skb truesize), so a flood of empty datagrams is bounded too.
 * The admission rule is Linux's (__udp_enqueue_schedule_skb): a datagram is accepted while
 * the bytes already queued do not exceed the limit, so the queue may pass the limit by one
 * datagram and a datagram larger than the whole buffer still fits into an empty queue.
 */

import type { UdpAddress } from "./address.js";
import { InvalidSettingError } from "../../invalid-setting.js";
import { showValue } from "../../show-value.js";

/** Bytes charged per queued datagram on top of its data. */
export const DATAGRAM_OVERHEAD = 256;

/** Linux net.core.rmem_default. */
export const DEFAULT_RECEIVE_BUFFER = 212_992;

export interface UdpMessage {
  data: Uint8Array;
  /** Sender's address and port: an IPv4 uint32 as before, an IpAddress for IPv6. */
  address: UdpAddress;
  port: number;
  /** The local address the datagram was sent to (what IP_PKTINFO reports). */
  localAddress: UdpAddress;
}

export class ReceiveQueue {
  /** Consumed slots before `head` are cleared so their bytes can be collected. */
  private items: Array<UdpMessage | undefined> = [];
  private head = 0;
  private charged = 0;

  constructor(readonly limit: number) {
    if (!(typeof limit === "number" && limit > 0)) throw new InvalidSettingError(`receive buffer must be > 0 bytes, got ${showValue(limit)}`);
  }

  /** Bytes charged for the queued datagrams. */
  get bytes(): number {
    return this.charged;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Queues `m`; false (dropped) when the buffer is full. */
  push(m: UdpMessage): boolean {
    if (this.charged > this.limit) return false;
    this.items.push(m);
    this.charged += m.data.length + DATAGRAM_OVERHEAD;
    return true;
  }

  shift(): UdpMessage | undefined {
    if (this.head >= this.items.length) return undefined;
    const m = this.items[this.head]!;
    this.items[this.head] = undefined;
    this.head++;
    this.charged -= m.data.length + DATAGRAM_OVERHEAD;
    // Compact once the consumed prefix dominates, so shift stays O(1) amortized.
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.charged = 0;
  }
}
