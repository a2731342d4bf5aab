/**
 * IPv4 output: route, header, identification, fragmentation, transmit (RFC 791 3.2,
 * RFC 1122 3.3.3 for fragmentation, 3.2.1.5 for the identification field).
 *
 * Every transport hands a datagram here. The payload is written by the caller into the
 * packet buffer, so an unfragmented datagram is built in place with one allocation; it
 * learns the chosen source address first because UDP and TCP checksums cover it.
 *
 * The DF policy follows Linux's IP_MTU_DISCOVER values:
 *   - "do": DF set; a datagram larger than the MTU is not sent (EMSGSIZE). TCP uses it,
 *     since its segments are sized by the MSS and must never be fragmented.
 *   - "want" (Linux's default for UDP, ip_no_pmtu_disc=0): DF set when the datagram fits
 *     the MTU; a larger one is fragmented here with DF clear on every fragment
 *     (Linux __ip_make_skb sets DF only when skb->len <= mtu).
 *   - "dont": DF never set. ICMP replies and errors use it, as Linux's ICMP socket does.
 *
 * Identification: one per-host counter, starting at a random value and advanced once per
 * datagram (all its fragments share it). RFC 6864 4.1 only needs IDs unique per
 * (src, dst, protocol) within the reassembly lifetime for fragmentable datagrams.
 */
import { IpAddress } from "../wire/address.js";
import { PacketAllocator } from "./packet-alloc.js";
import type { Millis } from "../env.js";
import type { TraceSink } from "../trace/events.js";
import { emitIpv4Header, IPV4_MIN_HEADER } from "../wire/ipv4.js";
import type { DropRecorder } from "./drops.js";
import { planFragments } from "./fragment.js";
import type { RoutingTable } from "./routing.js";
import type { IpStats } from "./stats.js";

export type FragmentPolicy = "do" | "want" | "dont";

/** The largest IPv4 packet: the total-length field is 16 bits. */
export const IPV4_MAX_PACKET = 0xffff;

export interface OutgoingDatagram {
  dst: number;
  /** Source address; default: the route's. Must be local (callers check). */
  src?: number;
  protocol: number;
  /** Transport bytes (header included) the datagram carries. */
  payloadLength: number;
  /** Writes exactly `payloadLength` bytes at buf[offset]; `src` is the chosen source address. */
  writePayload(buf: Uint8Array, offset: number, src: number): void;
  policy: FragmentPolicy;
  /**
   * With policy "do": send a datagram larger than the MTU anyway (DF set), counted in
   * `outOversize`, instead of refusing it. For TCP, whose engine sizes its own segments;
   * a link with a smaller MTU then drops them, as a real wire would.
   */
  allowOversize?: boolean;
  ttl?: number;
  tos?: number;
}

export type OutputResult =
  | { ok: true; source: number; fragments: number }
  | { ok: false; code: "ENETUNREACH" | "EHOSTUNREACH" | "EMSGSIZE"; mtu: number };

export interface OutputOptions {
  routing: RoutingTable;
  transmit: (packet: Uint8Array) => void;
  drops: DropRecorder;
  stats: IpStats;
  /** Time-to-live of our datagrams (Linux ip_default_ttl 64; RFC 1122 3.2.1.7: never 0). */
  ttl: number;
  /** First identification value (random, so IDs are not predictable from boot). */
  firstId: number;
  /** Traces each fragment as it leaves (`fragment-out`), named after `hostName`. */
  trace?: TraceSink;
  hostName?: string;
}

export class Ipv4Output {
  private nextId: number;
  private readonly packets = new PacketAllocator();

  constructor(private readonly opts: OutputOptions) {
    this.nextId = opts.firstId & 0xffff;
  }

  /** Sends a datagram. Never throws: failures are counted, traced and returned. */
  send(now: Millis, d: OutgoingDatagram): OutputResult {
    const { stats, drops } = this.opts;
    stats.outRequests++;
    const lookup = this.opts.routing.lookup(d.dst);
    if (!lookup.ok) {
      stats.outNoRoutes++;
      drops.drop(now, "no-route", `no route for protocol ${d.protocol} datagram (${lookup.code})`);
      return { ok: false, code: lookup.code, mtu: 0 };
    }
    const { iface } = lookup.value;
    const src = d.src ?? lookup.value.source;
    const totalLength = IPV4_MIN_HEADER + d.payloadLength;
    let fits = totalLength <= iface.mtu;
    if (!fits && d.policy === "do" && d.allowOversize === true && totalLength <= IPV4_MAX_PACKET) {
      stats.outOversize++;
      fits = true;
    }
    if (totalLength > IPV4_MAX_PACKET || (!fits && d.policy === "do")) {
      stats.fragFails++;
      drops.drop(now, "too-big", `${totalLength}-byte datagram, MTU ${iface.mtu}, policy ${d.policy}`);
      return { ok: false, code: "EMSGSIZE", mtu: iface.mtu };
    }
    const id = this.nextId;
    this.nextId = (this.nextId + 1) & 0xffff;
    const ttl = d.ttl ?? this.opts.ttl;
    if (fits) {
      const packet = this.packets.alloc(totalLength);
      d.writePayload(packet, IPV4_MIN_HEADER, src);
      emitIpv4Header(
        { src, dst: d.dst, protocol: d.protocol, payloadLength: d.payloadLength, ttl, id, tos: d.tos ?? 0, dontFragment: d.policy !== "dont" },
        packet,
        0,
      );
      this.opts.transmit(packet);
      return { ok: true, source: src, fragments: 1 };
    }
    // Build the whole payload once (its checksum covers all of it), then cut it.
    const payload = new Uint8Array(d.payloadLength);
    d.writePayload(payload, 0, src);
    const pieces = planFragments(d.payloadLength, iface.mtu);
    for (const p of pieces) {
      const packet = new Uint8Array(IPV4_MIN_HEADER + p.length);
      emitIpv4Header(
        {
          src, dst: d.dst, protocol: d.protocol, payloadLength: p.length, ttl, id, tos: d.tos ?? 0,
          dontFragment: false, moreFragments: p.more, fragmentOffset: p.offset,
        },
        packet,
        0,
      );
      packet.set(payload.subarray(p.offset, p.offset + p.length), IPV4_MIN_HEADER);
      // Before transmit, so the link's verdict on this fragment follows its event.
      const trace = this.opts.trace;
      if (trace?.enabled) {
        trace.emit({ type: "fragment-out", time: now, host: this.opts.hostName ?? "", src: IpAddress.v4(src), dst: IpAddress.v4(d.dst), protocol: d.protocol, id, offset: p.offset, length: p.length, more: p.more });
      }
      this.opts.transmit(packet);
    }
    stats.fragOks++;
    stats.fragCreates += pieces.length;
    return { ok: true, source: src, fragments: pieces.length };
  }
}
