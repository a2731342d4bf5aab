/**
 * Wireshark's TCP sequence analysis (the `tcp.analysis.*` flags), computed from the wire
 * alone: a list of captured IPv4 packets in, the flags of each packet out. It knows no
 * TCB, timers or drops, only what a capture shows, and guesses as Wireshark does, so the
 * playground can show its verdict beside the stack's own reason for each segment.
 *
 * Read first: Wireshark's epan/dissectors/packet-tcp.c, tcp_analyze_sequence_number()
 * (the behaviour of Wireshark 4.0 is the reference; test/trace/analysis.tshark.test.ts
 * compares this module with tshark per packet on every built-in scenario). The rules,
 * per direction of a conversation, on the raw sequence numbers:
 *
 * - zero_window_probe: 1 byte at the next expected seq while the peer's window is 0
 *   (skips every check below up to ack_lost_segment);
 * - zero_window: window 0 on a segment without SYN, FIN or RST;
 * - lost_segment: seq beyond the next expected seq (a gap in what was captured);
 * - keep_alive: 0 or 1 byte starting one before the next expected seq;
 * - window_update: no data, same seq and ack as before, a different non-zero window;
 * - window_full: data up to the right edge of the peer's advertised window;
 * - keep_alive_ack / zero_window_probe_ack: repeats the last ACK after a keep-alive or a
 *   zero-window probe from the peer (skip the duplicate-ACK check);
 * - duplicate_ack: no data, same seq, ack and non-zero window as before;
 * - ack_lost_segment: acknowledges data the capture never showed;
 * - for a segment with data, SYN or FIN that does not advance the sequence space, exactly
 *   one of, in this precedence: fast_retransmission (>= 2 dup ACKs for this seq from the
 *   peer, within 20 ms of the last one; flagged retransmission as well), out_of_order (within 3 ms,
 *   of the highest segment, unless it ends exactly there), spurious_retransmission (all
 *   of it already acknowledged; also flagged retransmission), retransmission;
 * - reused_ports: a SYN on a 4-tuple already seen, with another initial sequence number:
 *   a new conversation (tcp.stream) begins; a SYN,ACK with a new ISN is flagged too.
 */
import type { Millis } from "../env.js";
import { parseIpv4, PROTO_TCP } from "../wire/ipv4.js";
import { ACK, FIN, RST, SYN, parseTcp, type TcpSegment } from "../wire/tcp.js";

/** Wireshark's flag names, each `tcp.analysis.<name>` as a display filter. */
export const ANALYSIS_FLAGS = [
  "retransmission",
  "fast_retransmission",
  "spurious_retransmission",
  "out_of_order",
  "reused_ports",
  "lost_segment",
  "ack_lost_segment",
  "window_update",
  "window_full",
  "keep_alive",
  "keep_alive_ack",
  "duplicate_ack",
  "zero_window_probe",
  "zero_window",
  "zero_window_probe_ack",
] as const;
export type AnalysisFlag = (typeof ANALYSIS_FLAGS)[number];

/** Wireshark's expert-info summaries for each flag (the words its packet list shows). */
export const FLAG_TEXT: Readonly<Record<AnalysisFlag, string>> = {
  retransmission: "TCP Retransmission",
  fast_retransmission: "TCP Fast Retransmission",
  spurious_retransmission: "TCP Spurious Retransmission",
  out_of_order: "TCP Out-Of-Order",
  reused_ports: "TCP Port numbers reused",
  lost_segment: "TCP Previous segment not captured",
  ack_lost_segment: "TCP ACKed unseen segment",
  window_update: "TCP Window Update",
  window_full: "TCP Window Full",
  keep_alive: "TCP Keep-Alive",
  keep_alive_ack: "TCP Keep-Alive ACK",
  duplicate_ack: "TCP Dup ACK",
  zero_window_probe: "TCP ZeroWindowProbe",
  zero_window: "TCP ZeroWindow",
  zero_window_probe_ack: "TCP ZeroWindowProbeAck",
};

export interface CapturedPacket {
  time: Millis;
  /** An IPv4 packet (LINKTYPE_RAW). */
  bytes: Uint8Array;
}

export interface PacketAnalysis {
  /** The flags, in ANALYSIS_FLAGS order; empty for a packet that is not TCP. */
  flags: AnalysisFlag[];
  /** Wireshark's tcp.stream: conversations numbered in the order they appear. */
  stream?: number;
  /** tcp.analysis.duplicate_ack_num, for a duplicate ACK. */
  dupAckNum?: number;
}

/**
 * Out-of-order window in ms: tshark 4.0 compares with the initial RTT only when it has one,
 * and it does not compute it for these captures (tcp.analysis.initial_rtt stays empty), so
 * its default of 3 ms applies; a resegmented resend 10 ms after the original (path-mtu) is
 * a retransmission to tshark, which a 20 ms initial RTT would have called out of order.
 */
const OOO_THRESHOLD = 3;

const u32 = (n: number): number => n >>> 0;
const diff = (a: number, b: number): number => (a - b) | 0;
const gt = (a: number, b: number): boolean => diff(a, b) > 0;
const lt = (a: number, b: number): boolean => diff(a, b) < 0;
const le = (a: number, b: number): boolean => diff(a, b) <= 0;

/** Flags as bits (bit i is ANALYSIS_FLAGS[i]): a capture has tens of thousands of packets. */
const BIT = Object.fromEntries(ANALYSIS_FLAGS.map((f, i) => [f, 1 << i])) as Record<AnalysisFlag, number>;
const NO_FLAGS: AnalysisFlag[] = [];
function flagList(mask: number): AnalysisFlag[] {
  if (mask === 0) return NO_FLAGS;
  return ANALYSIS_FLAGS.filter((f) => (mask & BIT[f]) !== 0);
}

/** One direction of a conversation (Wireshark's tcp_flow_t with its seq info). */
interface Flow {
  base?: number;
  /** Window scale: -1 unknown (no SYN seen), -2 not in use, else the shift. */
  winScale: number;
  /** Last window seen, already scaled (a SYN's is never scaled). */
  window: number;
  windowKnown: boolean;
  nextseq: number;
  nextseqTime: Millis;
  maxseqtobeacked: number;
  lastack: number;
  lastackTime: Millis;
  dupacknum: number;
  /** The flags of this direction's last segment. */
  lastFlags: number;
}

interface Conversation {
  stream: number;
  /** The endpoint (address * 65536 + port) that sent first, and each direction's flow. */
  first: number;
  fromFirst: Flow;
  toFirst: Flow;
  /** The initial RTT (tcp.analysis.initial_rtt): SYN to the ACK of the SYN,ACK. */
}

const newFlow = (): Flow => ({ winScale: -1, window: 0, windowKnown: false, nextseq: 0, nextseqTime: 0, maxseqtobeacked: 0, lastack: 0, lastackTime: 0, dupacknum: 0, lastFlags: 0 });

/** Analyses a capture, packet by packet in order, as Wireshark's first pass does. */
export function analyseCapture(packets: readonly CapturedPacket[]): PacketAnalysis[] {
  // Conversations by their two endpoints, lower one first.
  const conversations = new Map<number, Map<number, Conversation>>();
  let streams = 0;
  return packets.map((p) => {
    const ip = parseIpv4(p.bytes, { verifyChecksum: false });
    if (!ip.ok || ip.value.header.protocol !== PROTO_TCP || ip.value.header.fragmentOffset !== 0 || ip.value.header.moreFragments) return { flags: NO_FLAGS };
    const tcp = parseTcp(ip.value.payload, null);
    if (!tcp.ok) return { flags: NO_FLAGS };
    const seg = tcp.value;
    const src = ip.value.header.src * 65536 + seg.srcPort;
    const dst = ip.value.header.dst * 65536 + seg.dstPort;
    const lo = Math.min(src, dst);
    const hi = Math.max(src, dst);
    let byHi = conversations.get(lo);
    if (byHi === undefined) {
      byHi = new Map();
      conversations.set(lo, byHi);
    }
    let flags = 0;
    let conv = byHi.get(hi);
    // A new connection on the same ports: a SYN whose ISN is not the one seen before starts
    // a new conversation; a SYN,ACK with a new ISN is flagged and stays in the conversation.
    const fwd0 = conv === undefined ? undefined : conv.first === src ? conv.fromFirst : conv.toFirst;
    if (conv !== undefined && (seg.flags & SYN) !== 0 && fwd0?.base !== undefined && u32(seg.seq) !== fwd0.base) {
      flags |= BIT.reused_ports;
      if ((seg.flags & ACK) === 0) conv = undefined;
      else fwd0.base = u32(seg.seq);
    }
    if (conv === undefined) {
      conv = { stream: streams++, first: src, fromFirst: newFlow(), toFirst: newFlow() };
      byHi.set(hi, conv);
    }
    const fwd = conv.first === src ? conv.fromFirst : conv.toFirst;
    const rev = conv.first === src ? conv.toFirst : conv.fromFirst;
    const r = analyseSegment(p.time, seg, fwd, rev, flags);
    const out: PacketAnalysis = { flags: flagList(r.flags), stream: conv.stream };
    if (r.dupAckNum !== undefined) out.dupAckNum = r.dupAckNum;
    return out;
  });
}

function analyseSegment(now: Millis, seg: TcpSegment, fwd: Flow, rev: Flow, ta: number): { flags: number; dupAckNum: number | undefined } {
  const f = seg.flags;
  // Wireshark analyses the raw sequence numbers (relative ones are only for display); the
  // first one seen in each direction is its base, against which a new SYN is compared.
  if (fwd.base === undefined) fwd.base = u32(seg.seq);
  const seq = u32(seg.seq);
  const ack = u32(seg.ack);
  const seglen = seg.payload.length;
  if ((f & SYN) !== 0) {
    // RFC 7323 2.2: the shift is announced in the SYN; scaling applies only if both sides announce it.
    fwd.winScale = seg.options.windowScale ?? -2;
    if ((f & ACK) !== 0 && (fwd.winScale === -2 || rev.winScale === -2)) {
      fwd.winScale = -2;
      rev.winScale = -2;
    }
  }
  const window = (f & SYN) !== 0 || fwd.winScale < 0 ? seg.window : seg.window * 2 ** fwd.winScale;

  let dupAckNum: number | undefined;
  const noSynFinRst = (f & (SYN | FIN | RST)) === 0;
  checks: {
    if (seglen === 1 && seq === fwd.nextseq && rev.windowKnown && rev.window === 0) {
      ta |= BIT.zero_window_probe;
      break checks;
    }
    if (window === 0 && noSynFinRst) ta |= BIT.zero_window;
    if (fwd.nextseq !== 0 && gt(seq, fwd.nextseq) && (f & RST) === 0) ta |= BIT.lost_segment;
    if ((seglen === 0 || seglen === 1) && seq === u32(fwd.nextseq - 1) && noSynFinRst) ta |= BIT.keep_alive;
    const sameAck = seglen === 0 && seq === fwd.nextseq && ack === fwd.lastack && noSynFinRst;
    if (sameAck && window !== 0 && window !== fwd.window) ta |= BIT.window_update;
    if (seglen > 0 && rev.winScale !== -1 && rev.windowKnown && u32(seq + seglen) === u32(rev.lastack + rev.window) && noSynFinRst) ta |= BIT.window_full;
    if (sameAck && window !== 0 && window === fwd.window && (rev.lastFlags & BIT.keep_alive) !== 0) {
      ta |= BIT.keep_alive_ack;
      break checks;
    }
    if (seglen === 0 && window === 0 && window === fwd.window && seq === fwd.nextseq && (ack === fwd.lastack || ack === u32(fwd.lastack + 1)) && (rev.lastFlags & BIT.zero_window_probe) !== 0 && noSynFinRst) {
      ta |= BIT.zero_window_probe_ack;
      break checks;
    }
    if (sameAck && window !== 0 && window === fwd.window) {
      fwd.dupacknum++;
      ta |= BIT.duplicate_ack;
      dupAckNum = fwd.dupacknum;
    }
  }
  if ((ta & BIT.duplicate_ack) === 0) fwd.dupacknum = 0;

  if (rev.maxseqtobeacked !== 0 && gt(ack, rev.maxseqtobeacked) && (f & ACK) !== 0) {
    ta |= BIT.ack_lost_segment;
    rev.maxseqtobeacked = rev.nextseq;
  }

  if ((seglen > 0 || (f & (SYN | FIN)) !== 0) && (ta & BIT.keep_alive) === 0) {
    const notAdvanced = fwd.nextseq !== 0 && lt(seq, fwd.nextseq);
    const oooThreshold = OOO_THRESHOLD;
    if (notAdvanced && rev.dupacknum >= 2 && rev.lastack === seq && now - rev.lastackTime < 20) {
      // A fast retransmission is also a retransmission (tcp.analysis.retransmission matches both).
      ta |= BIT.fast_retransmission;
      ta |= BIT.retransmission;
    }
    // A copy that ends exactly at the highest seq seen is a retransmission, not out of order.
    else if (notAdvanced && now - fwd.nextseqTime < oooThreshold && fwd.nextseq !== u32(seq + seglen)) ta |= BIT.out_of_order;
    else if (seglen > 0 && rev.lastack !== 0 && le(u32(seq + seglen), rev.lastack)) {
      ta |= BIT.spurious_retransmission;
      ta |= BIT.retransmission;
    }
    else if (notAdvanced) ta |= BIT.retransmission;
  }

  const nextseq = u32(seq + seglen + ((f & (SYN | FIN)) !== 0 ? 1 : 0));
  const probe = (ta & BIT.zero_window_probe) !== 0;
  if ((gt(nextseq, fwd.nextseq) || fwd.nextseq === 0) && !probe) {
    fwd.nextseq = nextseq;
    fwd.nextseqTime = now;
  }
  if ((seq === fwd.maxseqtobeacked || fwd.maxseqtobeacked === 0) && !probe) fwd.maxseqtobeacked = fwd.nextseq;
  fwd.window = window;
  fwd.windowKnown = true;
  fwd.lastack = ack;
  fwd.lastackTime = now;
  fwd.lastFlags = ta;
  return { flags: ta, dupAckNum };
}
