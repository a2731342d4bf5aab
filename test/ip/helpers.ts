/**
 * Fixtures for the IP, ICMP and UDP tests: two hosts in the simulator, a standalone host
 * driven by hand (sans-IO: the test is the driver), and raw packet builders.
 */
import { Host, type HostOptions } from "../../src/host/host.js";
import { planFragments } from "../../src/ip/fragment.js";
import { SimNetwork, SimRng, type LinkConfig } from "../../src/sim/index.js";
import { TraceHub, type TraceEvent } from "../../src/trace/events.js";
import { emitIcmp, type IcmpMessage, icmpLength } from "../../src/wire/icmp.js";
import { emitIpv4Header, IPV4_MIN_HEADER, parseIpv4, parseIpv4Address, PROTO_ICMP, PROTO_UDP, type Ipv4Header } from "../../src/wire/ipv4.js";
import { emitUdp, parseUdp, UDP_HEADER_LENGTH } from "../../src/wire/udp.js";

export const A = parseIpv4Address("10.0.0.1")!;
export const B = parseIpv4Address("10.0.0.2")!;
export const C = parseIpv4Address("10.0.0.3")!;

export type HostExtras = Omit<HostOptions, "name" | "address" | "rng" | "transmit" | "trace">;

export interface Pair {
  net: SimNetwork;
  a: Host;
  b: Host;
  events: TraceEvent[];
}

/** Hosts "a" (10.0.0.1) and "b" (10.0.0.2) joined by a link with 10 ms delay by default. */
export function pair(opts: { seed?: number; link?: LinkConfig; a?: HostExtras; b?: HostExtras } = {}): Pair {
  const hub = new TraceHub();
  const events: TraceEvent[] = [];
  hub.subscribe((e) => events.push(e));
  const net = new SimNetwork({ seed: opts.seed ?? 1, trace: hub });
  const make = (name: string, address: number, extra: HostExtras | undefined): Host =>
    net.addHost(name, address, (transmit, ctx) => new Host({ name, address, rng: ctx.rng, transmit, trace: hub, ...extra })).endpoint;
  const a = make("a", A, opts.a);
  const b = make("b", B, opts.b);
  net.connect("a", "b", opts.link ?? { delay: 10 });
  return { net, a, b, events };
}

/** A host with no network: the test hands it packets and collects what it sends. */
export interface Standalone {
  host: Host;
  sent: Uint8Array[];
  /** Takes (and forgets) what was sent so far. */
  take(): Uint8Array[];
}

export function standalone(address: number = B, extra: HostExtras & { seed?: number } = {}): Standalone {
  const sent: Uint8Array[] = [];
  const { seed, ...rest } = extra;
  const host = new Host({ name: "h", address, rng: new SimRng(seed ?? 7), transmit: (p) => sent.push(p), ...rest });
  return {
    host,
    sent,
    take: () => sent.splice(0, sent.length),
  };
}

/** Deterministic bytes that differ with position and `salt`, so a misplaced byte shows. */
export function pattern(length: number, salt = 0): Uint8Array {
  const out = new Uint8Array(length);
  let x = (salt * 2654435761 + 1) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (x >>> 16) & 0xff;
  }
  return out;
}

/** UDP header + data with a valid checksum for src -> dst. */
export function udpBytes(src: number, dst: number, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(UDP_HEADER_LENGTH + data.length);
  emitUdp({ srcPort, dstPort, payload: data }, buf, 0, { src, dst });
  return buf;
}

export interface RawFields {
  src: number;
  dst: number;
  protocol: number;
  id?: number;
  ttl?: number;
  moreFragments?: boolean;
  fragmentOffset?: number;
  dontFragment?: boolean;
}

/** One IPv4 packet carrying `payload`, with a valid header checksum. */
export function rawPacket(f: RawFields, payload: Uint8Array): Uint8Array {
  const buf = new Uint8Array(IPV4_MIN_HEADER + payload.length);
  emitIpv4Header({ ...f, payloadLength: payload.length }, buf, 0);
  buf.set(payload, IPV4_MIN_HEADER);
  return buf;
}

/** A whole UDP datagram as one unfragmented packet. */
export function udpPacket(src: number, dst: number, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  return rawPacket({ src, dst, protocol: PROTO_UDP }, udpBytes(src, dst, srcPort, dstPort, data));
}

export function icmpPacket(src: number, dst: number, m: IcmpMessage): Uint8Array {
  const bytes = new Uint8Array(icmpLength(m));
  emitIcmp(m, bytes, 0);
  return rawPacket({ src, dst, protocol: PROTO_ICMP }, bytes);
}

/** The fragments of a datagram carrying `payload` (transport bytes), cut for `mtu`. */
export function fragments(f: RawFields, payload: Uint8Array, mtu: number): Uint8Array[] {
  return planFragments(payload.length, mtu).map((p) =>
    rawPacket({ ...f, moreFragments: p.more, fragmentOffset: p.offset }, payload.subarray(p.offset, p.offset + p.length)),
  );
}

/** A fragment at byte `offset` of the datagram with `id`, MF as given. */
export function fragment(id: number, offset: number, data: Uint8Array, more: boolean, src = A, dst = B, protocol = PROTO_UDP): Uint8Array {
  return rawPacket({ src, dst, protocol, id, moreFragments: more, fragmentOffset: offset }, data);
}

export function header(packet: Uint8Array): Ipv4Header {
  const ip = parseIpv4(packet);
  if (!ip.ok) throw new Error(`not an IPv4 packet: ${ip.reason}`);
  return ip.value.header;
}

/** The UDP data of an unfragmented packet. */
export function udpData(packet: Uint8Array): Uint8Array {
  const ip = parseIpv4(packet);
  if (!ip.ok) throw new Error(`not an IPv4 packet: ${ip.reason}`);
  const u = parseUdp(ip.value.payload, { src: ip.value.header.src, dst: ip.value.header.dst });
  if (!u.ok) throw new Error(`not a UDP datagram: ${u.reason}`);
  return u.value.payload;
}

/** Fisher-Yates with a seeded stream, for reordering tests. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const rng = new SimRng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.nextU32() % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Byte-for-byte equality; far faster than a deep `toEqual` on 64 KiB arrays. */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
