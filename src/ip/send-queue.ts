/**
 * Datagrams an application handed over that leave on the next `poll`: application calls
 * run between packets, and sending from the poll keeps every packet stamped with the
 * driver's current time (the same contract TCP follows).
 *
 * Bounded by bytes, like a socket's send buffer (Linux wmem_default 212992): a datagram is
 * accepted while the bytes already queued are below the limit (sock_alloc_send_pskb waits
 * while sk_wmem_alloc >= sk_sndbuf), so one datagram larger than the limit still goes out.
 * A refused send is the "sent too fast" loss of S33 made visible: the caller gets EAGAIN.
 */
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

export class SendQueue<T> {
  private items: T[] = [];
  private queuedBytes = 0;

  constructor(readonly limit: number) {
    if (!(typeof limit === "number" && limit > 0)) throw new InvalidSettingError(`send buffer must be > 0 bytes, got ${showValue(limit)}`);
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  get length(): number {
    return this.items.length;
  }

  /** No more items are accepted until the queue drains. */
  get full(): boolean {
    return this.queuedBytes >= this.limit;
  }

  /** Queues `item` of `bytes` bytes; false (nothing queued) when the buffer is full. */
  push(item: T, bytes: number): boolean {
    if (this.full) return false;
    this.items.push(item);
    this.queuedBytes += bytes;
    return true;
  }

  /** Takes every queued item, oldest first. */
  drain(): T[] {
    const items = this.items;
    this.items = [];
    this.queuedBytes = 0;
    return items;
  }

  clear(): void {
    this.drain();
  }
}
