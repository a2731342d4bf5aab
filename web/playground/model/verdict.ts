/**
 * A capture analyser's verdict beside the stack's reason. Wireshark's tcp.analysis flags
 * (src/trace/analysis.ts) are computed from the run's packets exactly as the exported
 * pcapng holds them, so the page shows what Wireshark would; where the guess from the
 * wire and what synack knows differ, the segment carries a note saying how. Capture
 * analysers guess, synack knows, and the difference is itself a lesson.
 */
import { analyseCapture, FLAG_TEXT, type AnalysisFlag } from "../../../src/trace/analysis.js";
import type { TcpSegment } from "../../../src/wire/tcp.js";

/** What the verdict reads of a segment record (session.ts VerdictSegment has it): no import of the session, which uses this module. */
export interface VerdictSegment {
  seg: TcpSegment;
  retransmit: boolean;
  reason: string;
}

export interface Verdict {
  /** tcp.analysis flags of the segment's packet, in Wireshark's order. */
  flags: AnalysisFlag[];
  /** What Wireshark's Info column would prefix: "[TCP Dup ACK #2]", "[TCP Fast Retransmission]". */
  summary: string;
  /** Set where the wire's guess and the stack's reason differ. */
  disagreement?: string;
  /** The verdict on a copy the link made of it (duplicate fault), which the stack never sent. */
  copy?: string;
}

/** Retransmission flags are also set with fast_retransmission and spurious_retransmission; show the specific one. */
const SHADOWED_BY: Partial<Record<AnalysisFlag, AnalysisFlag[]>> = { retransmission: ["fast_retransmission", "spurious_retransmission"] };

export function summaryOf(flags: readonly AnalysisFlag[], dupAckNum?: number): string {
  const shown = flags.filter((f) => !(SHADOWED_BY[f] ?? []).some((g) => flags.includes(g)));
  return shown.map((f) => `[${FLAG_TEXT[f]}${f === "duplicate_ack" && dupAckNum !== undefined ? ` #${dupAckNum}` : ""}]`).join(" ");
}

const RETRANSMISSION_FLAGS: readonly AnalysisFlag[] = ["retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order"];

/** How the wire's verdict and the stack's reason differ, if they do. */
export function disagreementOf(rec: VerdictSegment, flags: readonly AnalysisFlag[]): string | undefined {
  const wireRetx = flags.some((f) => RETRANSMISSION_FLAGS.includes(f));
  const reason = rec.reason;
  if (flags.includes("keep_alive") && reason.startsWith("zero-window probe"))
    return "Wireshark calls it a keep-alive (at most one byte, starting one below the next sequence number expected); synack sent it as a zero-window probe, because the persist timer expired";
  if (wireRetx && !rec.retransmit) return "Wireshark calls it a retransmission, but synack sent these bytes for the first time here";
  if (!wireRetx && rec.retransmit && !flags.includes("keep_alive")) return "synack retransmitted it, but the capture shows nothing it repeats";
  if (flags.includes("fast_retransmission") && reason.includes("retransmission timer")) return "Wireshark calls it a fast retransmission (it follows dup ACKs), but synack's retransmission timer sent it";
  if (rec.retransmit && rec.seg.payload.length > 0 && reason.startsWith("fast retransmission") && !flags.includes("fast_retransmission"))
    return "synack retransmitted it on duplicate ACKs; Wireshark saw too few of them, or too long ago (it wants 2 within 20 ms), to call it fast";
  return undefined;
}

/**
 * Analyses the run's packets as the pcapng export holds them and gives each segment the
 * verdict of its own packet. `segmentOfPacket[i]` is the segment id of packet i, if any.
 */
export function verdicts(packets: ReadonlyArray<{ time: number; bytes: Uint8Array }>, segmentOfPacket: ReadonlyArray<number | undefined>, segments: readonly VerdictSegment[]): Map<number, Verdict> {
  const out = new Map<number, Verdict>();
  let last: Verdict | undefined;
  analyseCapture(packets).forEach((a, i) => {
    const id = segmentOfPacket[i];
    if (id === undefined) {
      // A copy of the packet before it, made by the link: the stack sent it once.
      const prev = packets[i - 1];
      if (last !== undefined && prev !== undefined && sameBytes(prev.bytes, packets[i]!.bytes) && a.flags.length > 0)
        last.copy = `the link's copy of it is flagged ${summaryOf(a.flags, a.dupAckNum)}: Wireshark cannot tell a duplicate from a retransmission`;
      return;
    }
    if (out.has(id)) return;
    const rec = segments[id]!;
    const v: Verdict = { flags: a.flags, summary: summaryOf(a.flags, a.dupAckNum) };
    const d = disagreementOf(rec, a.flags);
    if (d !== undefined) v.disagreement = d;
    out.set(id, v);
    last = v;
  });
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
