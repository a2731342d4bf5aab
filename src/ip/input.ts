/**
 * IPv4 input for a host: validate, filter, reassemble, hand to the transport
 * (RFC 791 3.2, RFC 1122 3.2.1 and 3.3.2).
 *
 * Order of checks, like Linux ip_rcv_core then ip_local_deliver:
 *   1. the header itself (version, lengths, checksum): the wire codec, which never throws;
 *   2. the destination must be one of our addresses (a host does not forward: RFC 1122
 *      3.3.4.2 / 3.3.1.1), and the source must be able to be a host (RFC 1122 3.2.1.3);
 *   3. fragments go to the reassembler; only whole datagrams continue;
 *   4. the protocol number selects the transport; none means protocol unreachable.
 * IP options are skipped, not interpreted (RFC 1122 3.2.1.8 lets a host ignore them).
 */
import type { Millis } from "../env.js";
import { formatIpv4Address, parseIpv4 } from "../wire/ipv4.js";
import type { InboundDatagram } from "./datagram.js";
import type { DropRecorder } from "./drops.js";
import type { Reassembler } from "./reassembly.js";
import { isMartianSource, type RoutingTable } from "./routing.js";
import type { IpStats } from "./stats.js";

export type DatagramHandler = (now: Millis, d: InboundDatagram) => void;

export interface InputOptions {
  routing: RoutingTable;
  reassembler: Reassembler;
  drops: DropRecorder;
  stats: IpStats;
  /** Transport handlers by protocol number. */
  handlers: ReadonlyMap<number, DatagramHandler>;
  /** A whole datagram for a protocol with no handler (after it was counted and traced). */
  onUnknownProtocol: DatagramHandler;
  /** Verify header checksums (default true; a device with offload may have done it). */
  verifyChecksum?: boolean;
}

export class Ipv4Input {
  constructor(private readonly opts: InputOptions) {}

  /** One packet from the link. Never throws on any bytes. */
  receive(now: Millis, packet: Uint8Array): void {
    const { stats, drops } = this.opts;
    stats.inReceives++;
    const ip = parseIpv4(packet, { verifyChecksum: this.opts.verifyChecksum !== false });
    if (!ip.ok) {
      stats.inHdrErrors++;
      return drops.drop(now, ip.reason === "bad-checksum" ? "bad-checksum" : "malformed", `IPv4: ${ip.reason}`);
    }
    const { header, payload } = ip.value;
    if (!this.opts.routing.isLocal(header.dst)) {
      stats.inAddrErrors++;
      return drops.drop(now, "not-for-us", () => `destination ${formatIpv4Address(header.dst)} is not this host`);
    }
    if (isMartianSource(header.src)) {
      stats.inHdrErrors++;
      return drops.drop(now, "martian-source", () => `source ${formatIpv4Address(header.src)} cannot be a host`);
    }
    const rawHeader = packet.subarray(0, header.headerLength);
    let datagram: InboundDatagram;
    if (header.moreFragments || header.fragmentOffset !== 0) {
      const r = this.opts.reassembler.insert(now, header, payload, rawHeader);
      if (r.kind === "held") return;
      if (r.kind === "dropped") return drops.drop(now, r.reason, r.detail);
      datagram = r.datagram;
    } else {
      datagram = { header, payload, rawHeader };
    }
    const handler = this.opts.handlers.get(datagram.header.protocol);
    if (handler === undefined) {
      stats.inUnknownProtos++;
      drops.drop(now, "unknown-protocol", `protocol ${datagram.header.protocol}`);
      return this.opts.onUnknownProtocol(now, datagram);
    }
    stats.inDelivers++;
    handler(now, datagram);
  }
}
