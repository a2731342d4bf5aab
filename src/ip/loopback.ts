/**
 * Datagrams a host sends to one of its own addresses. They never reach the link: Linux
 * routes them through the loopback device (the local routing table's RTN_LOCAL routes),
 * and a TUN device's kernel side would not hand them back (it does not forward a packet
 * addressed to the device's far end back into it). The host feeds them to its own IP
 * input in the same instant, in order, after the call that sent them (as lo's netif_rx
 * queues them for the receive softirq rather than recursing).
 */

/**
 * Looped datagrams one host call delivers at most, so a pair of sockets that keep talking
 * to each other through callbacks cannot hold a driver's turn for ever. What is left is
 * due at once (Host.nextDeadline): a real-time driver takes it on its next turn, and the
 * simulator, which needs every poll to finish what is due, names the host as stuck.
 * Linux bounds its softirq the same way (netdev_budget, then ksoftirqd).
 */
export const LOOPBACK_BUDGET = 100_000;

const COMPACT_AT = 4096;

export class LoopbackQueue {
  private packets: Uint8Array[] = [];
  private gsoSizes: number[] = [];
  private head = 0;

  get isEmpty(): boolean {
    return this.head === this.packets.length;
  }

  /** Takes ownership of `packet` (a TCP super-packet of `gsoSize`-byte segments when > 0). */
  push(packet: Uint8Array, gsoSize: number): void {
    this.packets.push(packet);
    this.gsoSizes.push(gsoSize);
  }

  /** Hands the oldest datagram to `deliver`; false when there was none. */
  deliverOne(deliver: (packet: Uint8Array, gsoSize: number) => void): boolean {
    if (this.isEmpty) return false;
    const i = this.head++;
    const packet = this.packets[i]!;
    const gsoSize = this.gsoSizes[i]!;
    if (this.isEmpty) {
      this.packets = [];
      this.gsoSizes = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AT) {
      // Never empty for long (two sockets streaming to each other): drop what was taken.
      this.packets = this.packets.slice(this.head);
      this.gsoSizes = this.gsoSizes.slice(this.head);
      this.head = 0;
    }
    deliver(packet, gsoSize);
    return true;
  }
}
