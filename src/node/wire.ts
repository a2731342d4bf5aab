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
import type { GsoInfo } from "../endpoint.js";
import type { LinkCounters, PacketLink } from "./tun.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

/** Offset of the destination address in an IPv4 header. */
const IPV4_DST = 16;

export interface LoopbackWireOptions {
  /** One-way delay in ms (default 0: the next turn of the event loop). */
  latency?: Millis;
  /** Largest packet the wire carries (default 1500). */
  mtu?: number;
  /**
   * Segmentation and receive offload, as a Linux veth pair has them (default false): a
   * stack hands the wire TCP super-packets of up to 64 KiB (one per run of segments,
   * src/ip/gso-batch.ts), and the other stack takes each whole, as one segment whose MSS
   * is its GSO size. A super-packet's checksum is left partial (pseudo-header only), as
   * Linux leaves it, and the receiver does not check it, as veth's does not; plain
   * packets are checksummed as ever. Captures show the super-packets, as tcpdump on a
   * veth does.
   */
  offload?: boolean;
}

/** Largest TCP super-packet an offloading wire takes (Linux GSO_LEGACY_MAX_SIZE). */
const GSO_MAX_SIZE = 65536;

/** A super-packet in flight, with the GSO size its segments had. */
interface SuperPacket {
  packet: Uint8Array;
  gsoSize: number;
}

export class LoopbackWire {
  readonly mtu: number;
  private readonly latency: Millis;
  private readonly offload: boolean;
  private readonly ports = new Map<AddressKey, WirePort>();
  /** Packets sent to an address nobody attached. */
  unroutable = 0;

  constructor(options: LoopbackWireOptions = {}) {
    if (typeof options !== "object" || options === null) throw new InvalidSettingError(`loopback wire options must be an object, got ${showValue(options)}`);
    this.latency = options.latency ?? 0;
    this.mtu = options.mtu ?? 1500;
    this.offload = options.offload === true;
  }

  /** A link for the stack at `address` (an IPv4 uint32 or an IpAddress of either family). */
  attach(address: number | IpAddress, name = `wire:${showValue(address)}`): PacketLink {
    const key: AddressKey = typeof address === "number" ? address >>> 0 : address.key;
    if (this.ports.has(key)) throw new InvalidSettingError(`address ${showValue(address)} is already attached to this wire`);
    const port = new WirePort(this, name, this.mtu, this.latency, key, this.offload ? GSO_MAX_SIZE : undefined);
    this.ports.set(key, port);
    return port;
  }

  /** Routes one packet, or a super-packet with its GSO size (called by the sending port). */
  route(from: WirePort, packet: Uint8Array, gsoSize = 0): void {
    // The version nibble says where the destination sits: IPv4 bytes 16..19, IPv6 24..39.
    const v6 = packet.length > 0 && packet[0]! >>> 4 === 6;
    const key = v6 ? (packet.length >= 40 ? IpAddress.fromBytes(packet, 24, 6).key : undefined) : packet.length >= IPV4_MIN_HEADER ? readU32(packet, IPV4_DST) : undefined;
    const to = key !== undefined ? this.ports.get(key) : undefined;
    if (to === undefined || to.isClosed) {
      this.unroutable++;
      from.counters.dropsOut++;
      return;
    }
    to.enqueue(gsoSize > 0 ? { packet, gsoSize } : packet);
  }

  detach(port: WirePort): void {
    if (this.ports.get(port.address) === port) this.ports.delete(port.address);
  }
}

class WirePort implements PacketLink {
  readonly counters: LinkCounters = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, dropsOut: 0 };
  onPacket: ((packet: Uint8Array, checksumValid?: boolean, gsoSize?: number) => void) | undefined;
  onBatch: ((open: boolean) => void) | undefined;
  isClosed = false;
  private readonly inbox = new NextTurnInbox<Uint8Array | SuperPacket>((batch) => this.deliver(batch));

  constructor(
    private readonly wire: LoopbackWire,
    readonly name: string,
    readonly mtu: number,
    private readonly latency: Millis,
    readonly address: AddressKey,
    /** PacketLink: set when the wire offloads (LoopbackWireOptions.offload). */
    readonly gsoMaxSize: number | undefined,
  ) {}

  send(packet: Uint8Array, gso?: GsoInfo): void {
    const gsoSize = gso !== undefined && this.gsoMaxSize !== undefined ? gso.size : 0;
    if (this.isClosed || packet.length > (gsoSize > 0 ? this.gsoMaxSize! : this.mtu)) {
      this.counters.dropsOut += gso?.segments ?? 1;
      return;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    this.wire.route(this, packet, gsoSize);
  }

  enqueue(item: Uint8Array | SuperPacket): void {
    if (this.latency > 0) this.deliverLater(item);
    else this.inbox.push(item);
  }

  /** Apart from enqueue(): its closure would cost a context on every packet, delayed or not. */
  private deliverLater(item: Uint8Array | SuperPacket): void {
    setTimeout(() => this.deliver([item]), this.latency);
  }

  close(): Promise<void> {
    this.isClosed = true;
    this.inbox.clear();
    this.wire.detach(this);
    return Promise.resolve();
  }

  private deliver(batch: Array<Uint8Array | SuperPacket>): void {
    // One turn's packets are one read burst, as a TUN device's: the stack handles them all,
    // then sends once (src/tcp/batch.ts), instead of a transmission pass and a timer re-arm
    // per packet.
    inBatch(this.onBatch, () => {
      for (const item of batch) {
        if (this.isClosed) return;
        const whole = item instanceof Uint8Array;
        const p = whole ? item : item.packet;
        this.counters.packetsIn++;
        this.counters.bytesIn += p.length;
        // A super-packet's partial checksum is not checked, as veth does not check it.
        if (whole) this.onPacket?.(p);
        else this.onPacket?.(p, true, item.gsoSize);
      }
    });
  }
}
