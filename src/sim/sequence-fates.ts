/**
 * Random loss keyed on where a TCP segment sits in its byte stream, not on its place in the
 * link's packet sequence (`LinkConfig.lossBy: "sequence"`).
 *
 * Why: comparing two senders through the same impaired path is only fair when they meet the
 * same losses. With the link's ordinary random stream, one fate is drawn per packet offered,
 * so the n-th packet's fate is shared only while both senders' packet sequences agree. One
 * extra packet (a probe, a window update, a router solicitation the kernel sends on a fresh
 * TUN) shifts every later fate, and from then on the two runs meet unrelated loss patterns.
 * At 0.1% loss a transfer's time hangs on where the first loss falls in slow start, so
 * unpaired runs swing between 10 and 100 Mbit/s and a median of a few says little. Here the
 * fate of a data segment is a hash of (the seed, the segment-sized block of the stream its
 * first byte falls in, counted from the flow's SYN, how many times a segment starting in
 * that block was offered before): both senders lose the first transmission of the same
 * bytes, even when one's segments are shifted by a short segment earlier on, and the k-th
 * retransmission of those bytes meets the same fate too. The probability per packet is the
 * configured `loss`, as before; only the pairing changes.
 *
 * Pure ACKs are keyed the same way; their sequence number stays put during a one-way
 * transfer, so the ordinal makes it "the k-th ACK of the flow". Packets that are not TCP
 * (or are IPv6 with extension headers) return undefined and the caller draws as usual.
 *
 * Memory is bounded: a flow's table of seen sequence numbers is dropped beyond
 * MAX_SEEN entries and the flow table beyond MAX_FLOWS (later fates then restart their
 * ordinals, which only matters to a measurement that long).
 */
import { splitmix32, type SimRng } from "./rng.js";

const MAX_SEEN = 1 << 17;
const MAX_FLOWS = 1024;
const TWO_POW_32 = 0x1_0000_0000;
const PROTO_TCP = 6;
const TCP_SYN = 0x02;
const TCP_FIN = 0x01;

interface FlowFates {
  /** Sequence number of the flow's SYN, once seen: offsets are relative to it. */
  isn: number | undefined;
  /** The largest payload seen: the flow's segment size, the width of a block. */
  unit: number;
  /** Times each (block, kind) was offered before, keyed block * 4 + kind. */
  seen: Map<number, number>;
}

export class SequenceFates {
  private readonly key: number;
  private readonly flows = new Map<string, FlowFates>();

  /** `rng` is the link's own stream; the key comes from a fork, so the stream does not move. */
  constructor(rng: SimRng) {
    this.key = rng.fork("sequence-fates").nextU32();
  }

  /** A number uniform in [0, 1) fixed by the segment's place in its stream, or undefined for non-TCP packets. */
  draw(packet: Uint8Array): number | undefined {
    const at = tcpOffset(packet);
    if (at === undefined) return undefined;
    const { tcp, ipPayloadEnd, flowKey } = at;
    if (ipPayloadEnd < tcp + 20) return undefined;
    const seq = ((packet[tcp + 4]! << 24) | (packet[tcp + 5]! << 16) | (packet[tcp + 6]! << 8) | packet[tcp + 7]!) >>> 0;
    const flags = packet[tcp + 13]!;
    const payload = ipPayloadEnd - tcp - (packet[tcp + 12]! >>> 4) * 4;
    let flow = this.flows.get(flowKey);
    if (flow === undefined) {
      if (this.flows.size >= MAX_FLOWS) this.flows.clear();
      flow = { isn: undefined, unit: 0, seen: new Map() };
      this.flows.set(flowKey, flow);
    }
    if ((flags & TCP_SYN) !== 0 && flow.isn === undefined) flow.isn = seq;
    const offset = flow.isn === undefined ? seq : (seq - flow.isn) >>> 0;
    // 0: a pure ACK; 1: data; 2: SYN or FIN without data.
    const kind = payload > 0 ? 1 : (flags & (TCP_SYN | TCP_FIN)) !== 0 ? 2 : 0;
    if (payload > flow.unit) flow.unit = payload;
    // Data is keyed on the segment-sized block its first byte falls in, so a sender whose
    // segments are shifted by a short one earlier (the kernel sends one now and then) still
    // loses "the segment starting in block k" where the other loses segment k.
    const block = kind === 1 && flow.unit > 0 ? Math.floor(Math.max(0, offset - 1) / flow.unit) : offset;
    const slot = block * 4 + kind;
    const ordinal = flow.seen.get(slot) ?? 0;
    if (flow.seen.size >= MAX_SEEN) flow.seen.clear();
    flow.seen.set(slot, ordinal + 1);
    const h = splitmix32(this.key ^ splitmix32(block ^ splitmix32(ordinal * 4 + kind)));
    return h / TWO_POW_32;
  }
}

/** Where the TCP header starts, where the IP payload ends, and a key naming the flow; undefined if not TCP. */
function tcpOffset(p: Uint8Array): { tcp: number; ipPayloadEnd: number; flowKey: string } | undefined {
  const version = p.length > 0 ? p[0]! >>> 4 : 0;
  let tcp: number;
  let end: number;
  let addrs: string;
  if (version === 4 && p.length >= 20) {
    if (p[9] !== PROTO_TCP) return undefined;
    tcp = (p[0]! & 0x0f) * 4;
    end = Math.min(p.length, (p[2]! << 8) | p[3]!);
    addrs = `${(p[12]! << 24) | (p[13]! << 16) | (p[14]! << 8) | p[15]!}>${(p[16]! << 24) | (p[17]! << 16) | (p[18]! << 8) | p[19]!}`;
  } else if (version === 6 && p.length >= 40) {
    if (p[6] !== PROTO_TCP) return undefined;
    tcp = 40;
    end = Math.min(p.length, 40 + ((p[4]! << 8) | p[5]!));
    addrs = Array.from(p.subarray(8, 40)).join(".");
  } else {
    return undefined;
  }
  if (end < tcp + 20) return undefined;
  return { tcp, ipPayloadEnd: end, flowKey: `${addrs}:${(p[tcp]! << 8) | p[tcp + 1]!}>${(p[tcp + 2]! << 8) | p[tcp + 3]!}` };
}
