/**
 * pcap and pcapng: the encoders byte by byte, then whole captures of scenarios read back
 * (by our own small readers and by tshark) and compared with the trace, field by field.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findBuiltin } from "../../src/scenario/builtin/index.js";
import { ScenarioRun } from "../../src/scenario/runner.js";
import { captureRecorder, createCapture, MemorySink, type CapturePoint } from "../../src/trace/capture.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { DEFAULT_SNAPLEN, LINKTYPE_IPV4, LINKTYPE_RAW, pcapHeader, pcapRecord, splitMicros } from "../../src/trace/pcap.js";
import { pcapngInterface, pcapngPacket, pcapngSectionHeader } from "../../src/trace/pcapng.js";
import { readPcap, readPcapng } from "./readers.js";

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);

describe("pcap encoder", () => {
  it("writes the classic 24-byte header, little-endian, microseconds", () => {
    const h = pcapHeader();
    expect(h.length).toBe(24);
    expect(u32(h, 0)).toBe(0xa1b2c3d4);
    expect([u16(h, 4), u16(h, 6)]).toEqual([2, 4]);
    expect(u32(h, 16)).toBe(DEFAULT_SNAPLEN);
    expect(u32(h, 20)).toBe(LINKTYPE_RAW);
    expect(u32(pcapHeader(LINKTYPE_IPV4, 96), 20)).toBe(228);
  });

  it("splits virtual milliseconds into seconds and microseconds", () => {
    expect(splitMicros(0)).toEqual({ seconds: 0, micros: 0 });
    expect(splitMicros(1234.5678)).toEqual({ seconds: 1, micros: 234568 });
    expect(splitMicros(7_875_100)).toEqual({ seconds: 7875, micros: 100_000 });
  });

  it("writes a record with captured and original lengths, truncating to the snap length", () => {
    const packet = new Uint8Array(100).map((_, i) => i);
    const r = pcapRecord(2500.25, packet, 60);
    expect([u32(r, 0), u32(r, 4), u32(r, 8), u32(r, 12)]).toEqual([2, 500_250, 60, 100]);
    expect(r.length).toBe(16 + 60);
    expect([...r.subarray(16, 20)]).toEqual([0, 1, 2, 3]);
    expect(() => pcapRecord(-1, packet)).toThrow(RangeError);
    expect(() => pcapRecord(Infinity, packet)).toThrow(RangeError);
  });
});

describe("pcapng encoder", () => {
  it("writes blocks whose lengths agree at both ends and are padded to 4 bytes", () => {
    const shb = pcapngSectionHeader("synack");
    expect(u32(shb, 0)).toBe(0x0a0d0d0a);
    expect(u32(shb, 8)).toBe(0x1a2b3c4d);
    expect(u32(shb, 4)).toBe(shb.length);
    expect(u32(shb, shb.length - 4)).toBe(shb.length);
    const idb = pcapngInterface("client");
    expect([u32(idb, 0), u16(idb, 8), u32(idb, 12)]).toEqual([1, LINKTYPE_RAW, DEFAULT_SNAPLEN]);
    for (const n of [1, 2, 3, 4, 5]) {
      const epb = pcapngPacket(0, 1, new Uint8Array(n), { comment: "x".repeat(n), direction: "inbound" });
      expect(epb.length % 4).toBe(0);
      expect(u32(epb, 4)).toBe(epb.length);
      expect(u32(epb, epb.length - 4)).toBe(epb.length);
    }
  });

  it("stores 64-bit microsecond timestamps (high word first) and round-trips through a reader", () => {
    const late = 5_000_000_000; // ms: past 2^32 microseconds
    const file = new Uint8Array([...pcapngSectionHeader(), ...pcapngInterface("a"), ...pcapngPacket(0, late, new Uint8Array([1, 2, 3]), { comment: "hi", direction: "outbound" })]);
    const read = readPcapng(file);
    expect(read.application).toBe("synack");
    expect(read.interfaces).toEqual([{ name: "a", linkType: LINKTYPE_RAW }]);
    expect(read.packets).toEqual([{ micros: late * 1000, bytes: new Uint8Array([1, 2, 3]), iface: "a", comment: "hi", direction: 2 }]);
  });
});

/** Runs a built-in scenario with a capture and returns the file and the trace. */
function capture(name: string, format: "pcap" | "pcapng", point: CapturePoint = "send"): { file: Uint8Array; events: TraceEvent[] } {
  const sink = new MemorySink();
  const run = new ScenarioRun(findBuiltin(name)!, { recorder: captureRecorder(createCapture(format, sink.write), point) });
  run.finish();
  return { file: sink.bytes(), events: run.events };
}

const segmentsOut = (events: readonly TraceEvent[]) => events.filter((e): e is Extract<TraceEvent, { type: "segment-out" }> => e.type === "segment-out");

describe("captures of scenarios, read back by our readers", () => {
  it("hold every segment sent, at its virtual time, in order", () => {
    const { file, events } = capture("tour", "pcap");
    const { linkType, packets } = readPcap(file);
    expect(linkType).toBe(LINKTYPE_RAW);
    const sent = segmentsOut(events);
    expect(packets.length).toBe(sent.length);
    packets.forEach((p, i) => {
      expect(p.micros).toBe(sent[i]!.time * 1000);
      const tcp = p.bytes.subarray(20);
      expect(new DataView(tcp.buffer, tcp.byteOffset).getUint32(4)).toBe(sent[i]!.segment.seq);
    });
  });

  it("in pcapng, name one interface per host and say who sent what", () => {
    const { file } = capture("tour", "pcapng", "both");
    const { interfaces, packets } = readPcapng(file);
    expect(interfaces.map((i) => i.name).sort()).toEqual(["client", "server"]);
    expect(packets[0]).toMatchObject({ iface: "client", comment: "client -> server", direction: 2 });
    expect(packets[1]).toMatchObject({ iface: "server", comment: "client -> server (delivered)", direction: 1 });
  });
});

/** tshark, if installed. In CI it must be: .ci/run installs it, and a missing tshark is a failure there. */
function tsharkAvailable(): boolean {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const FIELDS = ["frame.time_epoch", "tcp.flags", "tcp.seq", "tcp.ack", "tcp.window_size_value", "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_perm", "tcp.options.timestamp.tsval", "tcp.len", "tcp.checksum.status"];

function tshark(file: Uint8Array, suffix: string): string[][] {
  const dir = mkdtempSync(join(tmpdir(), "synack-pcap-"));
  const path = join(dir, `capture.${suffix}`);
  writeFileSync(path, file);
  const out = execFileSync("tshark", ["-r", path, "-T", "fields", ...FIELDS.flatMap((f) => ["-e", f]), "-E", "separator=;", "-o", "tcp.check_checksum:TRUE", "-o", "tcp.relative_sequence_numbers:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return out.trimEnd().split("\n").map((l) => l.split(";"));
}

/** What tshark must print for a segment-out event (checksum status 1 = good, 0 = bad). */
function expectedRow(e: Extract<TraceEvent, { type: "segment-out" }>, checksumGood: boolean): string[] {
  const s = e.segment;
  return [
    (e.time / 1000).toFixed(9),
    `0x${s.flags.toString(16).padStart(4, "0")}`,
    String(s.seq >>> 0),
    String(s.ack >>> 0),
    String(s.window),
    s.options.mss !== undefined ? String(s.options.mss) : "",
    s.options.windowScale !== undefined ? String(s.options.windowScale) : "",
    s.options.sackPermitted ? "0402" : "",
    s.options.timestamp !== undefined ? String(s.options.timestamp.value) : "",
    String(s.payload.length),
    checksumGood ? "1" : "0",
  ];
}

describe("captures read back by tshark", () => {
  const available = tsharkAvailable();

  it("tshark is installed where it must be (CI)", () => {
    if (process.env["CI"] === "true") expect(available, "tshark is required in CI (.ci/run installs it)").toBe(true);
    // Elsewhere the readers above are the check; install tshark to run the comparisons below.
    expect(typeof available).toBe("boolean");
  });

  it.each([
    ["tour", "pcap"],
    ["lost-third-ack", "pcap"],
    ["reordering", "pcapng"],
    ["syn-flood-cookies", "pcapng"],
  ] as const)("%s as %s: flags, seq, ack, window, options and checksums match the trace", (name, format) => {
    if (!available) return;
    const { file, events } = capture(name, format);
    const rows = tshark(file, format);
    const sent = segmentsOut(events);
    expect(rows.length).toBe(sent.length);
    expect(rows).toEqual(sent.map((e) => expectedRow(e, true)));
  });

  it("shows the corrupted segment of the corruption scenario with a bad checksum, and only that one", () => {
    if (!available) return;
    const { file, events } = capture("corruption", "pcap");
    const rows = tshark(file, "pcap");
    const sent = segmentsOut(events);
    const corrupted = sent.findIndex((e) => e.segment.payload.length > 0);
    expect(rows.map((r) => r[10])).toEqual(sent.map((_, i) => (i === corrupted ? "0" : "1")));
  });
});
