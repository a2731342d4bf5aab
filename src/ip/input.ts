/**
 * IPv4 input for a host: validate, filter, reassemble, hand to the transport
 * (RFC 791 3.2, RFC 1122 3.2.1 and 3.3.2).
 *
 * Order of checks, like Linux ip_rcv_core then ip_local_deliver:
 *   1. the header itself (version, lengths, checksum): the wire codec, which never throws;
 *   2. the destination must be one of our addresses (a host does not forward: RFC 1122
 *      3.3.4.2 / 3.3.1.1), and the source must be able to be a host (RFC 1122 3.2.1.3)
 *      and, for a packet from the link, not be one of ours (what we send ourselves never
 *      leaves: loopback.ts);
 *   3. fragments go to the reassembler; only whole datagrams continue;
 *   4. the protocol number selects the transport; none means protocol unreachable.
 * IP options are skipped, not interpreted (RFC 1122 3.2.1.8 lets a host ignore them),
 * unless malformed (a Parameter Problem) or a source route (dropped), as Linux does.
 *
 * IPv6 (RFC 8200) takes the same steps on the version nibble's other branch: the fixed
 * header, the same local-delivery filter, then the extension header walk
 * (`walkIpv6Extensions`, section 4) whose Parameter Problems go to `onParamProblem`;
 * fragments go to the IPv6 reassembler (4.5) and a rebuilt packet is walked again from
 * where its first fragment's chain stopped. Both families end in one `InboundDatagram`,
 * so everything above is shared. An unknown upper-layer protocol over IPv6 draws a
 * Parameter Problem code 1 pointing at its Next Header field (RFC 8200 section 4);
 * Next Header 59 (no next header) is dropped silently (4.7).
 */
import type { Millis } from "../env.js";
import { formatIpv4Address, ipv4Dst, ipv4HeaderLength, ipv4HeaderProblem, ipv4IsFragment, ipv4Src, IPV4_MIN_HEADER, readIpv4Header } from "../wire/ipv4.js";
import { ipv4OptionsProblem } from "../wire/ipv4-options.js";
import { NH_ICMPV6, NH_NONE, parseIpv6, walkIpv6Extensions, type Ipv6Chain, type Ipv6Header, type Ipv6ParamProblem } from "../wire/ipv6.js";
import { v4PacketDatagram, type InboundDatagram } from "./datagram.js";
import type { DropRecorder } from "./drops.js";
import type { Reassembler } from "./reassembly.js";
import type { Ipv6Reassembler } from "./reassembly6.js";
import { isMartianSource, type RoutingTable } from "./routing.js";
import type { IpStats } from "./stats.js";

export type DatagramHandler = (now: Millis, d: InboundDatagram) => void;

export interface InputOptions {
  routing: RoutingTable;
  reassembler: Reassembler;
  drops: DropRecorder;
  stats: IpStats;
  /** Transport handlers by protocol number, for IPv4 datagrams. */
  handlers: ReadonlyMap<number, DatagramHandler>;
  /** The same for IPv6 (ICMPv6 is 58 there; TCP and UDP are shared). */
  handlers6?: ReadonlyMap<number, DatagramHandler>;
  /** A whole IPv4 datagram for a protocol with no handler (after it was counted and traced). */
  onUnknownProtocol: DatagramHandler;
  /** IPv6 fragments; without it every IPv6 fragment is dropped. */
  reassembler6?: Ipv6Reassembler;
  /**
   * A Parameter Problem the RFC asks for about an IPv6 packet (`packet` as received or
   * rebuilt, starting with the fixed header). Called after the drop was counted.
   */
  onParamProblem?: (now: Millis, packet: Uint8Array, header: Ipv6Header, problem: Ipv6ParamProblem) => void;
  /** An IPv4 datagram with a malformed option: a Parameter Problem (code 0) should point at byte `pointer` of its header. */
  onParamProblem4?: (now: Millis, datagram: InboundDatagram, pointer: number) => void;
  /** Verify header checksums (default true; a device with offload may have done it). */
  verifyChecksum?: boolean;
}

export class IpInput {
  private readonly verifyChecksum: boolean;

  constructor(private readonly opts: InputOptions) {
    this.verifyChecksum = opts.verifyChecksum !== false;
  }

  /**
   * One packet of either family (the version nibble says which), from the link or, when
   * `looped`, sent by this host to itself (loopback.ts). Never throws on any bytes.
   */
  receive(now: Millis, packet: Uint8Array, looped = false): void {
    const { stats, drops } = this.opts;
    stats.inReceives++;
    if (packet.length > 0 && packet[0]! >>> 4 === 6) return this.receive6(now, packet, looped);
    // The header is checked and its fields read from the packet: a datagram delivered
    // whole gets no header object unless something asks for it (v4PacketDatagram).
    const problem = ipv4HeaderProblem(packet, this.verifyChecksum);
    if (problem !== undefined) {
      stats.inHdrErrors++;
      return drops.drop(now, problem === "bad-checksum" ? "bad-checksum" : "malformed", `IPv4: ${problem}`);
    }
    const dst = ipv4Dst(packet);
    // 127/8 is ours, but only from ourselves: from a link it is a martian destination
    // (Linux ip_route_input_slow, route_localnet=0).
    if (!this.opts.routing.isLocal(dst) || (!looped && dst >>> 24 === 127)) {
      stats.inAddrErrors++;
      return drops.drop(now, "not-for-us", () => `destination ${formatIpv4Address(dst)} is not this host`);
    }
    const src = ipv4Src(packet);
    // What we send ourselves may come from 127.0.0.1 (the loopback interface, routing.ts).
    if (!looped && isMartianSource(src)) {
      stats.inHdrErrors++;
      return drops.drop(now, "martian-source", () => `source ${formatIpv4Address(src)} cannot be a host`);
    }
    // Our own address as the source of a packet from the link (a LAND attack's SYN, or a
    // spoofed one): only this host sends from it, and what it sends itself never leaves
    // (loopback.ts). Linux's fib_validate_source calls it a martian (accept_local=0).
    if (!looped && (src === dst || (this.opts.routing.localCount > 1 && this.opts.routing.isLocal(src)))) {
      stats.inHdrErrors++;
      return drops.drop(now, "martian-source", () => `source ${formatIpv4Address(src)} is this host's own address, from the link`);
    }
    // Options: skipped unless malformed or a source route (ipv4-options.ts; Linux ip_rcv_options).
    const headerLength = ipv4HeaderLength(packet);
    const optionsProblem = headerLength > IPV4_MIN_HEADER ? ipv4OptionsProblem(packet, headerLength) : undefined;
    if (optionsProblem !== undefined) {
      stats.inHdrErrors++;
      if (optionsProblem === "source-route") return drops.drop(now, "malformed", "IPv4: source route option (not accepted, as Linux's accept_source_route=0)");
      drops.drop(now, "malformed", `IPv4: malformed option at header byte ${optionsProblem.pointer}`);
      return this.opts.onParamProblem4?.(now, v4PacketDatagram(packet), optionsProblem.pointer);
    }
    let datagram: InboundDatagram;
    if (ipv4IsFragment(packet)) {
      const header = readIpv4Header(packet);
      const payload = packet.subarray(header.headerLength, header.totalLength);
      const r = this.opts.reassembler.insert(now, header, payload, packet.subarray(0, header.headerLength));
      if (r.kind === "held") return;
      if (r.kind === "dropped") return drops.drop(now, r.reason, r.detail);
      datagram = r.datagram;
    } else {
      datagram = v4PacketDatagram(packet);
    }
    const handler = this.opts.handlers.get(datagram.protocol);
    if (handler === undefined) {
      stats.inUnknownProtos++;
      drops.drop(now, "unknown-protocol", `protocol ${datagram.protocol}`);
      return this.opts.onUnknownProtocol(now, datagram);
    }
    stats.inDelivers++;
    handler(now, datagram);
  }

  /** RFC 8200 sections 3 and 4: the IPv6 branch of `receive`. */
  private receive6(now: Millis, packet: Uint8Array, looped: boolean): void {
    const { stats, drops } = this.opts;
    const ip = parseIpv6(packet);
    if (!ip.ok) {
      stats.inHdrErrors++;
      return drops.drop(now, "malformed", `IPv6: ${ip.reason}`);
    }
    const { header } = ip.value;
    // A host delivers only what is addressed to it (RFC 8200 section 1: it does not
    // forward). Multicast groups (all-nodes, solicited-node) belong to neighbour discovery,
    // which these links do not need; such packets are dropped here.
    const dst = this.opts.routing.ownAddress(header.dst); // the interface's object, shared (routing.ts)
    // ::1 only from ourselves (RFC 4291 2.5.3: never sent on a link; Linux ip6_rcv_core).
    if (dst === undefined || (!looped && dst.isLoopback)) {
      stats.inAddrErrors++;
      return drops.drop(now, "not-for-us", () => `destination ${header.dst.toString()} is not this host`);
    }
    if (!looped && isMartianSource(header.src)) {
      stats.inHdrErrors++;
      return drops.drop(now, "martian-source", () => `source ${header.src.toString()} cannot be a host`);
    }
    let bytes = packet;
    let h = header;
    let walk = walkIpv6Extensions(bytes, h);
    if (walk.ok && walk.value.fragment !== undefined) {
      const reassembler = this.opts.reassembler6;
      if (reassembler === undefined) return drops.drop(now, "frag-invalid", "IPv6 fragment: no reassembler");
      const r = reassembler.insert(now, bytes, h, walk.value as Ipv6Chain & { fragment: NonNullable<Ipv6Chain["fragment"]> });
      if (r.kind === "held") return;
      if (r.kind === "dropped") {
        drops.drop(now, r.reason, r.detail);
        if (r.icmp !== undefined) this.opts.onParamProblem?.(now, bytes, h, r.icmp);
        return;
      }
      bytes = r.packet;
      h = r.header;
      walk = walkIpv6Extensions(bytes, h, r.resume);
    }
    if (!walk.ok) {
      stats.inHdrErrors++;
      drops.drop(now, "malformed", `IPv6 extension headers: ${walk.reason}`);
      if (walk.icmp !== undefined) this.opts.onParamProblem?.(now, bytes, h, walk.icmp);
      return;
    }
    const chain = walk.value;
    if (chain.protocol === NH_NONE) return drops.drop(now, "malformed", "IPv6: no next header (RFC 8200 4.7)");
    // The unspecified source is for a node still without an address, and only neighbour
    // discovery's ICMPv6 uses it (RFC 4291 2.5.2). A TCP SYN from :: was answered with a
    // SYN-ACK to :: (which must never be a destination); Linux answers nothing.
    if (h.src.isUnspecified && chain.protocol !== NH_ICMPV6) {
      stats.inHdrErrors++;
      return drops.drop(now, "martian-source", `source :: with next header ${chain.protocol}`);
    }
    const datagram: InboundDatagram = {
      src: h.src, dst, protocol: chain.protocol, payload: chain.payload, bytes, payloadStart: chain.offset, payloadEnd: chain.offset + chain.payload.length,
      rawHeader: bytes.subarray(0, chain.offset), tos: h.trafficClass,
    };
    const handler = this.opts.handlers6?.get(chain.protocol);
    if (handler === undefined) {
      stats.inUnknownProtos++;
      drops.drop(now, "unknown-protocol", `IPv6 next header ${chain.protocol}`);
      // RFC 8200 section 4: unrecognized Next Header -> Parameter Problem code 1.
      this.opts.onParamProblem?.(now, bytes, h, { code: 1, pointer: chain.protocolPointer });
      return;
    }
    stats.inDelivers++;
    handler(now, datagram);
  }
}
