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
 *
 * IPv6 (RFC 8200): the same path with a 40-byte header, chosen by the destination's family.
 * Only the source fragments (section 5; there is no DF bit): "do" refuses or (TCP) sends
 * oversize as IPv4 does, "want" and "dont" cut the datagram into fragments that each
 * carry the fixed header and an 8-byte Fragment header (section 4.5). The 32-bit
 * Identification is drawn at random per datagram (RFC 7739 section 5.1, as Linux does).
 */
import { PacketAllocator } from "./packet-alloc.js";
import type { Millis } from "../env.js";
import type { GsoInfo } from "../endpoint.js";
import type { TraceSink } from "../trace/events.js";
import { IpAddress } from "../wire/address.js";
import { emitIpv4Header, IPV4_MIN_HEADER, type Ipv4EmitFields } from "../wire/ipv4.js";
import { emitIpv6Header, emitIpv6Headers, IPV6_HEADER_LENGTH, IPV6_MAX_PAYLOAD } from "../wire/ipv6.js";
import type { DropRecorder } from "./drops.js";
import { planFragments } from "./fragment.js";
import type { RoutingTable } from "./routing.js";
import type { IpStats } from "./stats.js";

export type FragmentPolicy = "do" | "want" | "dont";

/** The largest IPv4 packet: the total-length field is 16 bits. */
export const IPV4_MAX_PACKET = 0xffff;

/** The IPv6 Fragment header's size (RFC 8200 4.5). */
const FRAGMENT_HEADER = 8;

export interface OutgoingDatagram {
  /** The destination; its family picks the IP header. */
  dst: IpAddress;
  /** Source address; default: the route's. Must be local and of `dst`'s family (callers check). */
  src?: IpAddress;
  protocol: number;
  /** Transport bytes (header included) the datagram carries. */
  payloadLength: number;
  /** Writes exactly `payloadLength` bytes at buf[offset]; `src` is the chosen source address. */
  writePayload(buf: Uint8Array, offset: number, src: IpAddress): void;
  policy: FragmentPolicy;
  /**
   * With policy "do": send a datagram larger than the MTU anyway (DF set), counted in
   * `outOversize`, instead of refusing it. For TCP, whose engine sizes its own segments;
   * a link with a smaller MTU then drops them, as a real wire would.
   */
  allowOversize?: boolean;
  ttl?: number;
  tos?: number;
  /**
   * A TCP super-packet for a link that segments it (GsoInfo): sent whole whatever the
   * MTU, and numbered as its segments will be once cut.
   */
  gso?: GsoInfo | undefined;
  /**
   * A buffer of `ipHeaderLength + payloadLength` bytes whose tail already holds this
   * datagram's data (its payload copied with room in front), so the packet is built in
   * place; undefined when there is none. `writePayload` is then called on it as usual.
   */
  inPlace?(ipHeaderLength: number): Uint8Array | undefined;
}

export type OutputResult =
  | { ok: true; source: IpAddress; fragments: number }
  | { ok: false; code: "ENETUNREACH" | "EHOSTUNREACH" | "EMSGSIZE"; mtu: number };

export interface OutputOptions {
  routing: RoutingTable;
  transmit: (packet: Uint8Array, gso?: GsoInfo) => void;
  /** Takes a datagram for one of our own addresses (RouteChoice.local) instead of `transmit`: it never goes to the link. */
  loopback?: (packet: Uint8Array, gso?: GsoInfo) => void;
  drops: DropRecorder;
  stats: IpStats;
  /** Time-to-live of our datagrams (Linux ip_default_ttl 64; RFC 1122 3.2.1.7: never 0). */
  ttl: number;
  /** First identification value (random, so IDs are not predictable from boot). */
  firstId: number;
  /** A random 32-bit IPv6 fragment Identification (RFC 7739); default: a counter from firstId. */
  nextId6?: () => number;
  /** Traces each fragment as it leaves (`fragment-out`), named after `hostName`. */
  trace?: TraceSink;
  hostName?: string;
}

export class IpOutput {
  private nextId: number;
  private readonly packets = new PacketAllocator();
  /** The header of each whole IPv4 datagram, one description reused (emitIpv4Header keeps nothing of it). */
  private readonly header4: Required<Ipv4EmitFields> = { src: 0, dst: 0, protocol: 0, payloadLength: 0, ttl: 0, id: 0, tos: 0, dontFragment: true, moreFragments: false, fragmentOffset: 0 };
  /** The result of the last datagram sent whole: callers only read results, so one serves every datagram from the same source. */
  private lastWhole: OutputResult & { ok: true } = { ok: true, source: IpAddress.ANY4, fragments: 1 };

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
    const transmit = lookup.value.local && this.opts.loopback !== undefined ? this.opts.loopback : this.opts.transmit;
    if (d.dst.family === 6) return this.send6(now, d, src, iface.mtu, transmit);
    const totalLength = IPV4_MIN_HEADER + d.payloadLength;
    let fits = totalLength <= iface.mtu || (d.gso !== undefined && totalLength <= IPV4_MAX_PACKET);
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
    // A super-packet's pieces get IDs id, id + 1, ... when cut (Linux inet_gso_segment),
    // so the counter moves past all of them (ip_select_ident_segs).
    this.nextId = (this.nextId + (d.gso?.segments ?? 1)) & 0xffff;
    const ttl = d.ttl ?? this.opts.ttl;
    const src4 = src.v4Value!;
    const dst4 = d.dst.v4Value!;
    if (fits) {
      const packet = d.inPlace?.(IPV4_MIN_HEADER) ?? this.packets.alloc(totalLength);
      d.writePayload(packet, IPV4_MIN_HEADER, src);
      const h = this.header4;
      h.src = src4;
      h.dst = dst4;
      h.protocol = d.protocol;
      h.payloadLength = d.payloadLength;
      h.ttl = ttl;
      h.id = id;
      h.tos = d.tos ?? 0;
      h.dontFragment = d.policy !== "dont";
      emitIpv4Header(h, packet, 0);
      transmit(packet, d.gso);
      return this.sentWhole(src);
    }
    // Build the whole payload once (its checksum covers all of it), then cut it.
    const payload = new Uint8Array(d.payloadLength);
    d.writePayload(payload, 0, src);
    const pieces = planFragments(d.payloadLength, iface.mtu);
    for (const p of pieces) {
      const packet = new Uint8Array(IPV4_MIN_HEADER + p.length);
      emitIpv4Header(
        {
          src: src4, dst: dst4, protocol: d.protocol, payloadLength: p.length, ttl, id, tos: d.tos ?? 0,
          dontFragment: false, moreFragments: p.more, fragmentOffset: p.offset,
        },
        packet,
        0,
      );
      packet.set(payload.subarray(p.offset, p.offset + p.length), IPV4_MIN_HEADER);
      // Before transmit, so the link's verdict on this fragment follows its event.
      const trace = this.opts.trace;
      if (trace?.enabled) {
        trace.emit({ type: "fragment-out", time: now, host: this.opts.hostName ?? "", src, dst: d.dst, protocol: d.protocol, id, offset: p.offset, length: p.length, more: p.more });
      }
      transmit(packet);
    }
    stats.fragOks++;
    stats.fragCreates += pieces.length;
    return { ok: true, source: src, fragments: pieces.length };
  }
  private sentWhole(source: IpAddress): OutputResult {
    if (this.lastWhole.source === source) return this.lastWhole;
    return (this.lastWhole = { ok: true, source, fragments: 1 });
  }

  /** RFC 8200: the IPv6 half of `send`, after the route was found. */
  private send6(now: Millis, d: OutgoingDatagram, src: IpAddress, mtu: number, transmit: OutputOptions["transmit"]): OutputResult {
    const { stats, drops } = this.opts;
    const hopLimit = d.ttl ?? this.opts.ttl;
    const trafficClass = d.tos ?? 0;
    const totalLength = IPV6_HEADER_LENGTH + d.payloadLength;
    let fits = totalLength <= mtu || (d.gso !== undefined && d.payloadLength <= IPV6_MAX_PAYLOAD);
    if (!fits && d.policy === "do" && d.allowOversize === true && d.payloadLength <= IPV6_MAX_PAYLOAD) {
      stats.outOversize++;
      fits = true;
    }
    // A fragment carries at most 65,528 bytes of offset plus its data (the 13-bit offset field).
    if (d.payloadLength > IPV6_MAX_PAYLOAD || (!fits && d.policy === "do")) {
      stats.fragFails++;
      drops.drop(now, "too-big", `${totalLength}-byte IPv6 datagram, MTU ${mtu}, policy ${d.policy}`);
      return { ok: false, code: "EMSGSIZE", mtu };
    }
    if (fits) {
      const packet = d.inPlace?.(IPV6_HEADER_LENGTH) ?? this.packets.alloc(totalLength);
      d.writePayload(packet, IPV6_HEADER_LENGTH, src);
      emitIpv6Header({ src, dst: d.dst, nextHeader: d.protocol, payloadLength: d.payloadLength, hopLimit, trafficClass }, packet, 0);
      transmit(packet, d.gso);
      return this.sentWhole(src);
    }
    // RFC 8200 section 5: the source fragments, each piece behind the fixed header and a
    // Fragment header; every piece but the last a multiple of 8 bytes (planFragments).
    const id = this.opts.nextId6 !== undefined ? this.opts.nextId6() >>> 0 : (this.nextId = (this.nextId + 1) >>> 0);
    const payload = new Uint8Array(d.payloadLength);
    d.writePayload(payload, 0, src);
    const pieces = planFragments(d.payloadLength, mtu, IPV6_HEADER_LENGTH + FRAGMENT_HEADER);
    for (const p of pieces) {
      const packet = new Uint8Array(IPV6_HEADER_LENGTH + FRAGMENT_HEADER + p.length);
      const at = emitIpv6Headers(
        { src, dst: d.dst, nextHeader: d.protocol, payloadLength: p.length, hopLimit, trafficClass },
        [{ kind: "fragment", offset: p.offset, more: p.more, id }],
        packet,
        0,
      );
      packet.set(payload.subarray(p.offset, p.offset + p.length), at);
      const trace = this.opts.trace;
      if (trace?.enabled) {
        trace.emit({ type: "fragment-out", time: now, host: this.opts.hostName ?? "", src, dst: d.dst, protocol: d.protocol, id, offset: p.offset, length: p.length, more: p.more });
      }
      transmit(packet);
    }
    stats.fragOks++;
    stats.fragCreates += pieces.length;
    return { ok: true, source: src, fragments: pieces.length };
  }
}
