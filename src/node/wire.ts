/**
 * An in-process "loopback wire" in real time: any number of stacks attach with their
 * address, and a packet goes to the port whose address is its IPv4 destination (one sent
 * to the sender's own address comes back to it, like a loopback interface).
 *
 * Delivery is never synchronous: packets are queued and handed over on a later turn of the
 * event loop (setImmediate, or setTimeout with `latency`), because a stack must not be
 * re-entered from inside its own transmit, and a busy pair must not starve timers and I/O.
 */
import { NextTurnInbox, inBatch } from "./inbox.js";
import type { Millis } from "../env.js";
import { IpAddress, type AddressKey } from "../wire/address.js";
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
  private readonly ports = new Map<AddressKey, WirePort>();
  /** Packets sent to an address nobody attached. */
  unroutable = 0;

  constructor(options: LoopbackWireOptions = {}) {
    this.latency = options.latency ?? 0;
    this.mtu = options.mtu ?? 1500;
  }

  /** A link for the stack at `address` (an IPv4 uint32 or an IpAddress of either family). */
  attach(address: number | IpAddress, name = `wire:${String(address)}`): PacketLink {
    const key: AddressKey = typeof address === "number" ? address >>> 0 : address.key;
    if (this.ports.has(key)) throw new Error(`address ${String(address)} is already attached to this wire`);
    const port = new WirePort(this, name, this.mtu, this.latency, key);
    this.ports.set(key, port);
    return port;
  }

  /** Routes one packet (called by the sending port). */
  route(from: WirePort, packet: Uint8Array): void {
    // The version nibble says where the destination sits: IPv4 bytes 16..19, IPv6 24..39.
    const v6 = packet.length > 0 && packet[0]! >>> 4 === 6;
    const key = v6 ? (packet.length >= 40 ? IpAddress.fromBytes(packet, 24, 6).key : undefined) : packet.length >= IPV4_MIN_HEADER ? readU32(packet, IPV4_DST) : undefined;
    const to = key !== undefined ? this.ports.get(key) : undefined;
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
  onBatch: ((open: boolean) => void) | undefined;
  isClosed = false;
  private readonly inbox = new NextTurnInbox((batch) => this.deliver(batch));

  constructor(
    private readonly wire: LoopbackWire,
    readonly name: string,
    readonly mtu: number,
    private readonly latency: Millis,
    readonly address: AddressKey,
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
    // One turn's packets are one read burst, as a TUN device's: the stack handles them all,
    // then sends once (src/tcp/batch.ts), instead of a transmission pass and a timer re-arm
    // per packet.
    inBatch(this.onBatch, () => {
      for (const p of batch) {
        if (this.isClosed) return;
        this.counters.packetsIn++;
        this.counters.bytesIn += p.length;
        this.onPacket?.(p);
      }
    });
  }
}
