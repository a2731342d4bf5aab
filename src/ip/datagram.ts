/**
 * A datagram that arrived for this host, whole: either a single packet, or the result of
 * reassembling its fragments. Transports and ICMP see only these, for both families: the
 * demultiplexing below IP is shared (docs/ipv6-plan.md step 3).
 */
import { IpAddress } from "../wire/address.js";
import { ipv4Dst, ipv4HeaderLength, ipv4Protocol, ipv4Src, ipv4Tos, ipv4TotalLength, readIpv4Header, type Ipv4Header } from "../wire/ipv4.js";

export interface InboundDatagram {
  src: IpAddress;
  dst: IpAddress;
  /** The upper-layer protocol (IPv4 Protocol, or the last Next Header of an IPv6 chain). */
  protocol: number;
  /** The transport bytes. */
  payload: Uint8Array;
  /**
   * Where `payload` lies: bytes [payloadStart, payloadEnd) of `bytes` (the packet, for a
   * datagram that came whole), for a parser that reads in place without the payload's
   * own view. TCP does, for every segment.
   */
  bytes: Uint8Array;
  payloadStart: number;
  payloadEnd: number;
  /**
   * The IP header as received (IPv4: options included; IPv6: the fixed header and every
   * extension header before `payload`); ICMP errors quote it.
   */
  rawHeader: Uint8Array;
  /**
   * The IPv4 TOS byte or IPv6 Traffic Class: the DSCP (RFC 2474), which a RST for no
   * connection reflects, and in the low two bits the ECN field (RFC 3168 section 5: 0
   * not-ECT, 1 ECT(1), 2 ECT(0), 3 CE). Absent means 0.
   */
  tos?: number;
  /** IPv4 only: the header fields. After reassembly MF is clear, the offset 0 and the total length updated. */
  header?: Ipv4Header;
}

/**
 * An IPv4 datagram that arrived whole in one packet (its header already accepted by
 * ipv4HeaderProblem). The header object, and the view of the header's bytes, are made
 * only when something asks for them (an ICMP error about the datagram): a TCP segment
 * needs neither, and they were two of the objects every received packet built.
 */
export function v4PacketDatagram(packet: Uint8Array): InboundDatagram {
  return new Ipv4Datagram(packet, undefined, packet, ipv4HeaderLength(packet), ipv4TotalLength(packet));
}

/** A datagram described by its header (reassembled, or quoted): the header, payload and raw header bytes. */
export function v4Datagram(header: Ipv4Header, payload: Uint8Array, rawHeader: Uint8Array): InboundDatagram {
  return new Ipv4Datagram(rawHeader, header, payload, 0, payload.length);
}

class Ipv4Datagram implements InboundDatagram {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly protocol: number;
  readonly tos: number;
  /** The payload's view, made when first asked for (TCP parses in place instead). */
  private view: Uint8Array | undefined;

  constructor(
    /** The header's bytes, alone or at the start of the whole packet. */
    private readonly headerBytes: Uint8Array,
    /** The header as an object, when the caller has one; else read from `headerBytes` on demand. */
    private parsed: Ipv4Header | undefined,
    readonly bytes: Uint8Array,
    readonly payloadStart: number,
    readonly payloadEnd: number,
  ) {
    this.src = v4Address(parsed !== undefined ? parsed.src : ipv4Src(headerBytes));
    this.dst = v4Address(parsed !== undefined ? parsed.dst : ipv4Dst(headerBytes));
    this.protocol = parsed !== undefined ? parsed.protocol : ipv4Protocol(headerBytes);
    this.tos = parsed !== undefined ? parsed.tos : ipv4Tos(headerBytes);
  }

  get payload(): Uint8Array {
    if (this.view === undefined) {
      const b = this.bytes;
      this.view = this.payloadStart === 0 && this.payloadEnd === b.length ? b : b.subarray(this.payloadStart, this.payloadEnd);
    }
    return this.view;
  }

  get header(): Ipv4Header {
    return (this.parsed ??= readIpv4Header(this.headerBytes));
  }

  get rawHeader(): Uint8Array {
    const b = this.headerBytes;
    const n = this.header.headerLength;
    return b.length === n ? b : b.subarray(0, n);
  }
}

/**
 * The two addresses made last. Every packet of a flow carries the same pair, and an
 * IpAddress is immutable, so the objects are shared instead of made twice per packet.
 */
let recentA = IpAddress.v4(0);
let recentB = IpAddress.v4(0);

function v4Address(value: number): IpAddress {
  const v = value >>> 0;
  if (recentA.w3 === v) return recentA;
  if (recentB.w3 === v) return recentB;
  recentB = recentA;
  recentA = IpAddress.v4(v);
  return recentA;
}

/**
 * How much of an offending datagram an ICMP error quotes: the IP header and as much data
 * as keeps the error within 576 bytes (RFC 1812 4.3.2.3; Linux icmp_send does the same).
 * RFC 792 requires at least the header and 64 bits of data.
 */
export const ICMP_ERROR_MAX_PACKET = 576;

/**
 * The bytes an ICMP error about `d` carries after its own 8-byte header: header(s) first,
 * then data, `room` bytes at most (default: what fits an IPv4 error in 576 bytes).
 */
export function icmpQuote(d: Pick<InboundDatagram, "payload" | "rawHeader">, room = ICMP_ERROR_MAX_PACKET - 20 - 8): Uint8Array {
  const headerBytes = Math.min(d.rawHeader.length, room);
  const dataBytes = Math.max(0, Math.min(d.payload.length, room - headerBytes));
  const quote = new Uint8Array(headerBytes + dataBytes);
  quote.set(d.rawHeader.subarray(0, headerBytes), 0);
  quote.set(d.payload.subarray(0, dataBytes), headerBytes);
  return quote;
}
