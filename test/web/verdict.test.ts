/**
 * The playground's verdicts: Wireshark's tcp.analysis flags (computed from the run's
 * capture alone) beside the stack's reason, and a note where the two disagree.
 */
import { describe, expect, it } from "vitest";
import { findBuiltin } from "../../src/scenario/builtin/index.js";
import { runSession } from "../../web/playground/model/session.js";
import { summaryOf } from "../../web/playground/model/verdict.js";
import { nextFlaggedStep } from "../../web/playground/model/at.js";

const run = (name: string) => runSession(findBuiltin(name)!);

describe("verdicts from the wire beside the stack's reasons", () => {
  it("lost-data: the client's timer retransmission is tcp.analysis.retransmission; the server's ACK of the segment after the hole is a window update", () => {
    const s = run("lost-data");
    const retx = s.segments.filter((r) => r.retransmit);
    expect(retx).toHaveLength(1);
    expect(retx[0]!.verdict?.flags).toEqual(["retransmission"]);
    expect(retx[0]!.verdict?.disagreement).toBeUndefined();
    // It repeats the ACK number, but a receiver with SACK grows its window with out-of-order
    // data too (Linux tcp_data_queue_ofo -> tcp_grow_window), and Wireshark counts an ACK as
    // a duplicate only if its window is unchanged.
    expect(s.segments.some((r) => r.verdict?.flags.includes("duplicate_ack"))).toBe(false);
    const update = s.segments.filter((r) => r.verdict?.flags.includes("window_update"));
    expect(update.map((r) => [r.from, r.verdict!.summary, r.seg.options.sackBlocks?.length])).toEqual([["server", "[TCP Window Update]", 1]]);
    // "next flagged" stops at the lost segment first, then at the flagged ones.
    const k = nextFlaggedStep(s, 0)!;
    expect(s.segments[s.segmentAt.get(s.steps[k]!)!]!.fate).toBe("lost");
  });

  it("zero-window: Wireshark calls synack's persist probes keep-alives, and the page says why they differ", () => {
    const s = run("zero-window");
    const probes = s.segments.filter((r) => r.reason.startsWith("zero-window probe"));
    expect(probes.length).toBeGreaterThan(1);
    for (const p of probes) {
      expect(p.verdict?.flags).toEqual(["keep_alive"]);
      expect(p.verdict?.disagreement).toMatch(/keep-alive .* zero-window probe/);
    }
    expect(s.segments.filter((r) => r.verdict?.flags.includes("zero_window")).every((r) => r.from === "server" && r.seg.window === 0)).toBe(true);
    expect(s.segments.some((r) => r.verdict?.flags.includes("window_full"))).toBe(true);
    expect(s.segments.some((r) => r.verdict?.flags.includes("window_update"))).toBe(true);
  });

  it("simultaneous open: the crossing SYN,ACKs look like retransmissions on the wire; synack sent each once", () => {
    const s = run("simultaneous-open");
    const synAcks = s.segments.filter((r) => r.match.flags === "SYN,ACK");
    expect(synAcks).toHaveLength(2);
    for (const r of synAcks) {
      expect(r.retransmit).toBe(false);
      expect(r.verdict?.flags).toEqual(["retransmission"]);
      expect(r.verdict?.disagreement).toMatch(/for the first time/);
    }
  });

  it("duplication: the link's copy is what Wireshark flags, and the original carries the note", () => {
    const s = run("duplication");
    expect(s.segments.some((r) => r.verdict?.copy?.includes("[TCP Retransmission]"))).toBe(true);
  });

  it("summaries as Wireshark's Info column: the specific retransmission kind only, dup ACKs numbered", () => {
    expect(summaryOf(["retransmission", "fast_retransmission"])).toBe("[TCP Fast Retransmission]");
    expect(summaryOf(["retransmission", "spurious_retransmission"])).toBe("[TCP Spurious Retransmission]");
    expect(summaryOf(["duplicate_ack"], 3)).toBe("[TCP Dup ACK #3]");
    expect(summaryOf(["window_update", "zero_window"])).toBe("[TCP Window Update] [TCP ZeroWindow]");
  });
});
