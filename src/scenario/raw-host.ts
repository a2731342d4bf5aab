/**
 * A host without a TCP stack that sends crafted packets: the SYN flooder of S12. Each SYN
 * comes from a random address of a spoofed prefix and a random port, so every one takes a
 * half-open slot on the target, and the SYN,ACKs go to addresses nobody answers for.
 *
 * It is a sans-IO Endpoint like a Host: its sends are deadlines the simulator polls.
 */
import { IpAddress } from "../wire/address.js";
import type { Endpoint, Transmit } from "../endpoint.js";
import type { Millis, Rng } from "../env.js";
import type { TraceSink } from "../trace/events.js";
import { emitIpv4Header, IPV4_MIN_HEADER, PROTO_TCP } from "../wire/ipv4.js";
import { seq } from "../wire/seq.js";
import { emitTcp, headerLength, SYN, type TcpSegment } from "../wire/tcp.js";

export interface FloodPlan {
  start: Millis;
  count: number;
  interval: Millis;
  target: number;
  port: number;
  /** Spoofed sources: base address and prefix length. */
  spoof: { base: number; bits: number };
}

export class RawHost implements Endpoint {
  private readonly floods: Array<FloodPlan & { sent: number }> = [];
  received = 0;

  constructor(
    readonly name: string,
    private readonly transmit: Transmit,
    private readonly rng: Rng,
    private readonly trace: TraceSink,
  ) {}

  flood(plan: FloodPlan): void {
    this.floods.push({ ...plan, sent: 0 });
  }

  receive(): void {
    this.received++;
  }

  poll(now: Millis): void {
    for (const f of this.floods) {
      while (f.sent < f.count && f.start + f.sent * f.interval <= now) {
        this.sendSyn(now, f);
        f.sent++;
      }
    }
  }

  nextDeadline(): Millis {
    let next = Infinity;
    for (const f of this.floods) if (f.sent < f.count) next = Math.min(next, f.start + f.sent * f.interval);
    return next;
  }

  private sendSyn(now: Millis, f: FloodPlan): void {
    const hostBits = 32 - f.spoof.bits;
    const src = (f.spoof.base + (hostBits === 0 ? 0 : this.rng.nextU32() % 2 ** hostBits)) >>> 0;
    const seg: TcpSegment = {
      srcPort: 1024 + (this.rng.nextU32() % 64512),
      dstPort: f.port,
      seq: seq(this.rng.nextU32()),
      ack: seq(0),
      flags: SYN,
      window: 64240,
      urgentPointer: 0,
      options: { mss: 1460 },
      payload: new Uint8Array(0),
    };
    const tcpLength = headerLength(seg.options);
    const packet = new Uint8Array(IPV4_MIN_HEADER + tcpLength);
    emitIpv4Header({ src, dst: f.target, protocol: PROTO_TCP, payloadLength: tcpLength, ttl: 64, id: 0 }, packet, 0);
    emitTcp(seg, packet, IPV4_MIN_HEADER, { src, dst: f.target });
    if (this.trace.enabled) {
      const tuple = { localAddr: IpAddress.v4(src), localPort: seg.srcPort, remoteAddr: IpAddress.v4(f.target), remotePort: f.port };
      this.trace.emit({ type: "segment-out", time: now, host: this.name, tuple, segment: seg, retransmit: false });
    }
    this.transmit(packet);
  }
}
