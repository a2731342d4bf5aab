/**
 * synack's wire analyser (src/trace/analysis.ts) against Wireshark's: every built-in
 * scenario is run as the playground runs it, its pcapng export is read by tshark, and the
 * tcp.analysis.* flags tshark sets on each frame must be exactly the ones synack computes
 * (the issue 11 acceptance: the same counts per flag for every built-in scenario; this
 * compares frame by frame, which implies it).
 *
 * tshark comes from apt (`.ci/run` installs it); outside CI a missing tshark skips this file.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUILTIN_SCENARIOS } from "../../src/scenario/builtin/index.js";
import { ANALYSIS_FLAGS, analyseCapture, type AnalysisFlag, type CapturedPacket } from "../../src/trace/analysis.js";
import { MemorySink, PcapngWriter } from "../../src/trace/capture.js";
import { emitIpv4Header, PROTO_TCP } from "../../src/wire/ipv4.js";
import { ACK, emitTcp, FIN, NO_OPTIONS, PSH, SYN } from "../../src/wire/tcp.js";
import { seq as s32 } from "../../src/wire/seq.js";
import { pcapngOf } from "../../web/playground/model/export.js";
import { applyChanges, type Knobs } from "../../web/playground/model/knobs.js";
import { runSession } from "../../web/playground/model/session.js";

const haveTshark = (() => {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const inCi = process.env["CI"] === "true";
if (!haveTshark && !inCi) console.warn("tshark not found: the comparison with Wireshark's analysis is skipped outside CI (apt-get install tshark).");

/** The tcp.analysis flags tshark sets on each frame of a capture file. */
function tsharkFlags(file: string): AnalysisFlag[][] {
  const out = execFileSync("tshark", ["-r", file, "-T", "ek"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 1 << 28 });
  const frames: AnalysisFlag[][] = [];
  for (const line of out.split("\n")) {
    if (!line.startsWith('{"timestamp"')) continue;
    // The flags sit in the tcp layer's expert items (one object, or an array of them).
    const tcp = (JSON.parse(line) as { layers: { tcp?: Record<string, unknown> } }).layers.tcp ?? {};
    const expert = tcp["_ws_expert"];
    const items = [tcp, ...(Array.isArray(expert) ? expert : expert !== undefined ? [expert] : [])] as Array<Record<string, unknown>>;
    frames.push(ANALYSIS_FLAGS.filter((f) => items.some((o) => `tcp_tcp_analysis_${f}` in o)));
  }
  return frames;
}

const count = (frames: readonly AnalysisFlag[][]): Record<string, number> => {
  const c: Record<string, number> = {};
  for (const fl of frames) for (const f of fl) c[f] = (c[f] ?? 0) + 1;
  return c;
};

describe.skipIf(!haveTshark && !inCi)("tcp.analysis flags: synack's analyser agrees with tshark", () => {
  const dir = mkdtempSync(join(tmpdir(), "synack-analysis-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const seen: Record<string, number> = {};

  /** Writes the capture, reads it with tshark and compares tshark's flags with synack's, frame by frame. */
  function compare(name: string, file: Uint8Array, packets: readonly CapturedPacket[]): void {
    const path = join(dir, `${name.replace(/[^a-z0-9-]+/gi, "_")}.pcapng`);
    writeFileSync(path, file);
    const theirs = tsharkFlags(path);
    const ours = analyseCapture(packets).map((x) => x.flags);
    expect(theirs).toHaveLength(packets.length);
    const diffs = ours.flatMap((fl, i) => (fl.join() === theirs[i]!.join() ? [] : [`frame ${i + 1}: synack [${fl.join(" ")}] tshark [${theirs[i]!.join(" ")}]`]));
    expect(diffs).toEqual([]);
    expect(count(ours)).toEqual(count(theirs));
    for (const [f, n] of Object.entries(count(ours))) seen[f] = (seen[f] ?? 0) + n;
  }

  // Every built-in scenario as written, and lossy, reordering, duplicating runs of the
  // bulk transfer with the playground's knobs (where fast retransmits and dup ACKs live).
  const runs: Array<{ name: string; spec: (typeof BUILTIN_SCENARIOS)[number] }> = BUILTIN_SCENARIOS.map((spec) => ({ name: spec.name, spec }));
  const bulk = BUILTIN_SCENARIOS.find((s) => s.name === "data-transfer")!;
  const variants: Knobs[] = [{ loss: 0.05, seed: 1 }, { loss: 0.05, seed: 2 }, { loss: 0.1, seed: 3 }, { reorder: 0.2, jitter: 5, seed: 4 }, { duplicate: 0.2, seed: 5 }, { loss: 0.03, reorder: 0.1, duplicate: 0.05, seed: 6 }];
  for (const k of variants) runs.push({ name: `data-transfer ${JSON.stringify(k)}`, spec: applyChanges(bulk, k, []) });

  for (const { name, spec } of runs) {
    it(`${name}: the same flags on every frame`, () => {
      const session = runSession(spec);
      compare(name, pcapngOf(session), session.packets);
    });
  }

  // Hand-written captures for the rules no simulated capture reaches (a capture taken at
  // the sender never shows reordering; synack's persist probes are keep-alive shaped).
  const A = 0x0a000001;
  const B = 0x0a000002;
  const ISN_A = 1000;
  const ISN_B = 5000;
  type P = [time: number, fromA: boolean, flags: number, seq: number, ack: number, len: number, win: number];
  const pkt = ([time, fromA, flags, sq, ack, len, win]: P): CapturedPacket => {
    const seg = { srcPort: fromA ? 40000 : 80, dstPort: fromA ? 80 : 40000, seq: s32(sq), ack: s32(ack), flags, window: win, urgentPointer: 0, options: NO_OPTIONS, payload: new Uint8Array(len).fill(0x61) };
    const bytes = new Uint8Array(40 + len);
    emitIpv4Header({ src: fromA ? A : B, dst: fromA ? B : A, protocol: PROTO_TCP, payloadLength: 20 + len }, bytes, 0);
    emitTcp(seg, bytes, 20, { src: fromA ? A : B, dst: fromA ? B : A });
    return { time, bytes };
  };
  const handshake: P[] = [
    [0, true, SYN, ISN_A, 0, 0, 65535],
    [10, false, SYN | ACK, ISN_B, ISN_A + 1, 0, 65535],
    [20, true, ACK, ISN_A + 1, ISN_B + 1, 0, 65535],
  ];
  const a = ISN_A + 1;
  const b = ISN_B + 1;
  const crafted: Record<string, P[]> = {
    "keep-alive and its ACK": [...handshake, [100, true, ACK | PSH, a, b, 100, 65535], [110, false, ACK, b, a + 100, 0, 65535], [7300, true, ACK, a + 99, b, 0, 65535], [7310, false, ACK, b, a + 100, 0, 65535], [7400, true, ACK, a + 99, b, 1, 65535], [7410, false, ACK, b, a + 100, 0, 65535]],
    "zero-window probe and its ACK": [...handshake, [100, true, ACK | PSH, a, b, 100, 65535], [110, false, ACK, b, a + 100, 0, 0], [400, true, ACK, a + 100, b, 1, 65535], [410, false, ACK, b, a + 100, 0, 0], [900, false, ACK, b, a + 100, 0, 8192]],
    "reordered on the way (captured at the receiver)": [...handshake, [100, true, ACK, a, b, 100, 65535], [101, true, ACK, a + 200, b, 100, 65535], [101, false, ACK, b, a + 100, 0, 65535], [102, true, ACK, a + 100, b, 100, 65535], [103, false, ACK, b, a + 300, 0, 65535]],
    "a spurious retransmission": [...handshake, [100, true, ACK | PSH, a, b, 100, 65535], [110, false, ACK, b, a + 100, 0, 65535], [400, true, ACK | PSH, a, b, 100, 65535], [410, false, ACK, b, a + 100, 0, 65535]],
    "three dup ACKs and a fast retransmission": [...handshake, ...[0, 1, 2, 3, 4].map((i): P => [100, true, ACK, a + i * 100, b, 100, 65535]), [110, false, ACK, b, a + 100, 0, 65535], [111, false, ACK, b, a + 100, 0, 65535], [112, false, ACK, b, a + 100, 0, 65535], [113, false, ACK, b, a + 100, 0, 65535], [114, true, ACK, a + 100, b, 100, 65535], [124, false, ACK, b, a + 500, 0, 65535], [130, true, FIN | ACK, a + 500, b, 0, 65535]],
  };
  for (const [name, list] of Object.entries(crafted)) {
    it(`crafted: ${name}`, () => {
      const packets = list.map(pkt);
      const sink = new MemorySink();
      const w = new PcapngWriter(sink.write);
      for (const p of packets) w.packet(p.time, "wire", p.bytes, "inbound");
      compare(name, sink.bytes(), packets);
    });
  }

  it("the runs exercise the flags that matter (so the comparison is not vacuous)", () => {
    for (const f of ANALYSIS_FLAGS) expect(seen[f] ?? 0, f).toBeGreaterThan(0);
  });
});
