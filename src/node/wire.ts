/**
 * An in-process "loopback wire" in real time: any number of stacks attach with their
 * address, and a packet goes to the port whose address is its IPv4 destination (one sent
 * to the sender's own address comes back to it, like a loopback interface).
 *
 * Delivery is never synchronous: packets are queued and handed over on a later turn of the
 * event loop (setImmediate, or setTimeout with `latency`), because a stack must not be
 * re-entered from inside its own transmit, and a busy pair must not starve timers and I/O.
 */
import { NextTurnInbox } from "./inbox.js";
import type { Millis } from "../env.js";
import { IPV4_MIN_HEADER, readU32 } from "../wire/ipv4.js";
import type { LinkCounters, PacketLink } from "./tun.js";

/** Offset of the destination address in an IPv4 header. */
const IPV4_DST = 16;

export interface LoopbackWireOptions {
  /** One-way delay in ms (default 0: the next turn of the event loop). */
  latency?: Millis;
  /** Largest packet the wire carries (default 1500). */
  mtu?: number;
}

export class LoopbackWire {
  readonly mtu: number;
  private readonly latency: Millis;
  private readonly ports = new Map<number, WirePort>();
  /** Packets sent to an address nobody attached. */
  unroutable = 0;

  constructor(options: LoopbackWireOptions = {}) {
    this.latency = options.latency ?? 0;
    this.mtu = options.mtu ?? 1500;
  }

  /** A link for the stack at `address` (uint32). */
  attach(address: number, name = `wire:${address >>> 0}`): PacketLink {
    if (this.ports.has(address)) throw new Error(`address ${address} is already attached to this wire`);
    const port = new WirePort(this, name, this.mtu, this.latency, address);
    this.ports.set(address, port);
    return port;
  }

  /** Routes one packet (called by the sending port). */
  route(from: WirePort, packet: Uint8Array): void {
    const to = packet.length >= IPV4_MIN_HEADER ? this.ports.get(readU32(packet, IPV4_DST)) : undefined;
    if (to === undefined || to.isClosed) {
      this.unroutable++;
      from.counters.dropsOut++;
      return;
    }
    to.enqueue(packet);
  }

  detach(port: WirePort): void {
    if (this.ports.get(port.address) === port) this.ports.delete(port.address);
  }
}

class WirePort implements PacketLink {
  readonly counters: LinkCounters = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, dropsOut: 0 };
  onPacket: ((packet: Uint8Array) => void) | undefined;
  isClosed = false;
  private readonly inbox = new NextTurnInbox((batch) => this.deliver(batch));

  constructor(
    private readonly wire: LoopbackWire,
    readonly name: string,
    readonly mtu: number,
    private readonly latency: Millis,
    readonly address: number,
  ) {}

  send(packet: Uint8Array): void {
    if (this.isClosed || packet.length > this.mtu) {
      this.counters.dropsOut++;
      return;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    this.wire.route(this, packet);
  }

  enqueue(packet: Uint8Array): void {
    if (this.latency > 0) {
      setTimeout(() => this.deliver([packet]), this.latency);
      return;
    }
    this.inbox.push(packet);
  }

  close(): Promise<void> {
    this.isClosed = true;
    this.inbox.clear();
    this.wire.detach(this);
    return Promise.resolve();
  }

  private deliver(batch: Uint8Array[]): void {
    for (const p of batch) {
      if (this.isClosed) return;
      this.counters.packetsIn++;
      this.counters.bytesIn += p.length;
      this.onPacket?.(p);
    }
  }
}
