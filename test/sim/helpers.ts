/**
 * Small fake endpoints and packet builders for the simulator tests. They know nothing of
 * TCP beyond the wire codecs: the simulator must work with any Endpoint.
 */
import type { Endpoint, Transmit } from "../../src/endpoint.js";
import type { Millis } from "../../src/env.js";
import type { TraceEvent, TraceSink } from "../../src/trace/events.js";
import { emitIpv4Header, PROTO_TCP, readU32, writeU32 } from "../../src/wire/ipv4.js";
import { emitTcp, NO_OPTIONS } from "../../src/wire/tcp.js";
import { seq } from "../../src/wire/seq.js";

export const A = 0x0a000001; // 10.0.0.1
export const B = 0x0a000002; // 10.0.0.2
export const C = 0x0a000003; // 10.0.0.3

/** An IPv4 protocol number reserved for experiments (RFC 3692): the payload means nothing. */
const PROTO_TEST = 253;

/** An IPv4 packet of `size` bytes in total, payload bytes filled with `fill`. */
export function ipPacket(src: number, dst: number, size = 100, fill = 0xa5): Uint8Array {
  const buf = new Uint8Array(size).fill(fill);
  emitIpv4Header({ src, dst, protocol: PROTO_TEST, payloadLength: size - 20 }, buf);
  return buf;
}

export interface TcpFields {
  flags: number;
  srcPort?: number;
  dstPort?: number;
  payload?: Uint8Array;
  seq?: number;
}

/** A complete IPv4+TCP packet with valid checksums. */
export function tcpPacket(src: number, dst: number, f: TcpFields): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const tcpLength = 20 + payload.length;
  const buf = new Uint8Array(20 + tcpLength);
  emitIpv4Header({ src, dst, protocol: PROTO_TCP, payloadLength: tcpLength }, buf);
  emitTcp(
    {
      srcPort: f.srcPort ?? 40000,
      dstPort: f.dstPort ?? 80,
      seq: seq(f.seq ?? 1000),
      ack: seq(0),
      flags: f.flags,
      window: 65535,
      urgentPointer: 0,
      options: NO_OPTIONS,
      payload,
    },
    buf,
    20,
    { src, dst },
  );
  return buf;
}

export const srcOf = (p: Uint8Array): number => readU32(p, 12);
export const dstOf = (p: Uint8Array): number => readU32(p, 16);

/** Number of bits that differ between two equally long buffers. */
export function bitDifference(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    while (x !== 0) {
      n += x & 1;
      x >>>= 1;
    }
  }
  return n;
}

/** Remembers what it received and when; never has a timer. */
export class Sink implements Endpoint {
  readonly received: Array<{ time: Millis; packet: Uint8Array }> = [];
  constructor(readonly transmit: Transmit) {}
  receive(now: Millis, packet: Uint8Array): void {
    this.received.push({ time: now, packet });
  }
  poll(_now: Millis): void {}
  nextDeadline(): Millis {
    return Infinity;
  }
  get times(): Millis[] {
    return this.received.map((r) => r.time);
  }
}

/** Sends every packet straight back, with source and destination swapped. */
export class Echo extends Sink {
  override receive(now: Millis, packet: Uint8Array): void {
    super.receive(now, packet);
    const reply = packet.slice();
    // Swapping the two addresses leaves the header checksum valid (same words, other order).
    writeU32(reply, 12, dstOf(packet));
    writeU32(reply, 16, srcOf(packet));
    this.transmit(reply);
  }
}

/** Sends `count` packets to `dst`, one every `interval` ms from `start`, using its timer. */
export class Pinger extends Sink {
  readonly polledAt: Millis[] = [];
  private sent = 0;
  private next: Millis;
  constructor(
    transmit: Transmit,
    private readonly src: number,
    private readonly dst: number,
    private readonly count: number,
    private readonly interval: Millis,
    start: Millis = 0,
    private readonly size = 100,
  ) {
    super(transmit);
    this.next = start;
  }
  override poll(now: Millis): void {
    this.polledAt.push(now);
    while (this.sent < this.count && this.next <= now) {
      this.transmit(ipPacket(this.src, this.dst, this.size, this.sent & 0xff));
      this.sent++;
      this.next += this.interval;
    }
  }
  override nextDeadline(): Millis {
    return this.sent < this.count ? this.next : Infinity;
  }
}

/** Collects trace events. */
export class TraceLog implements TraceSink {
  readonly events: TraceEvent[] = [];
  enabled = true;
  emit(event: TraceEvent): void {
    this.events.push(event);
  }
  links(): Array<Extract<TraceEvent, { type: "link" }>> {
    return this.events.filter((e): e is Extract<TraceEvent, { type: "link" }> => e.type === "link");
  }
}
