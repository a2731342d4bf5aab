/**
 * The bottleneck's AQM option (src/sim/aqm.ts): above its queue threshold an ECN-capable
 * packet is CE-marked and a not-ECT one dropped (RFC 3168 section 5); below it nothing
 * changes. Also the ECN field codec it uses, for IPv4 (checksum kept valid) and IPv6.
 */
import { describe, expect, it } from "vitest";
import { ImpairedLink, type LinkConfig } from "../../src/sim/link.js";
import { SimRng } from "../../src/sim/rng.js";
import { parseIpAddress } from "../../src/wire/address.js";
import { ipEcn, setIpEcn } from "../../src/wire/ip-ecn.js";
import { emitIpv4Header, parseIpv4 } from "../../src/wire/ipv4.js";
import { emitIpv6Header, parseIpv6 } from "../../src/wire/ipv6.js";
import { A, B, TraceLog } from "./helpers.js";

function v4(ecn: number, size = 1000): Uint8Array {
  const buf = new Uint8Array(size).fill(0xa5);
  emitIpv4Header({ src: A, dst: B, protocol: 253, payloadLength: size - 20, tos: 0xb8 | ecn }, buf);
  return buf;
}

function v6(ecn: number, size = 1000): Uint8Array {
  const buf = new Uint8Array(size).fill(0xa5);
  emitIpv6Header({ src: parseIpAddress("fd00::1")!, dst: parseIpAddress("fd00::2")!, nextHeader: 253, payloadLength: size - 40, hopLimit: 64, trafficClass: 0xb8 | ecn }, buf, 0);
  return buf;
}

// 8 Mbit/s: a 1000-byte packet takes 1 ms to serialize, so packets offered at once queue up.
const BOTTLENECK: LinkConfig = { delay: 5, rate: 8_000_000, aqm: { markAbove: 2 } };

function burst(config: LinkConfig, packets: Uint8Array[], trace = new TraceLog()) {
  const l = new ImpairedLink("a->b", config, new SimRng(1), trace);
  const out = packets.map((p) => l.send(0, p));
  return { l, out, trace };
}

describe("AQM at the bottleneck (RFC 3168 section 5)", () => {
  it("passes packets while at most markAbove wait, then marks ECT(0) packets CE on a copy", () => {
    const sent = Array.from({ length: 6 }, () => v4(2));
    const { l, out, trace } = burst(BOTTLENECK, sent);
    // The first is sent at once, the next two wait (1, 2 waiting: not above 2), the rest find 3+ waiting.
    expect(out.map((d) => ipEcn(d[0]!.packet))).toEqual([2, 2, 2, 2, 3, 3]);
    expect(out[3]![0]!.packet).toBe(sent[3]);
    expect(out[4]![0]!.packet).not.toBe(sent[4]);
    expect(ipEcn(sent[4]!)).toBe(2); // the sender's buffer is untouched
    const marked = parseIpv4(out[4]![0]!.packet); // the header checksum is still valid
    expect(marked.ok && marked.value.header.tos).toBe(0xbb); // DSCP kept, ECN now CE
    expect(l.stats.aqmMarks).toBe(2);
    expect(trace.links().filter((e) => e.action === "mark")).toEqual([
      { type: "link", time: 0, link: "a->b", action: "mark", reason: "aqm", bytes: 1000 },
      { type: "link", time: 0, link: "a->b", action: "mark", reason: "aqm", bytes: 1000 },
    ]);
  });

  it("drops not-ECT packets above the threshold instead of marking them, and lets CE through as it is", () => {
    const { l, out } = burst(BOTTLENECK, [v4(2), v4(0), v4(0), v4(0), v4(0), v4(1), v4(3)]);
    // Waiting: none, 0, 1, 2 -> pass; then 3: not-ECT dropped (not queued), ECT(1) marked, CE untouched.
    expect(out.map((d) => (d.length === 0 ? "dropped" : ipEcn(d[0]!.packet)))).toEqual([2, 0, 0, 0, "dropped", 3, 3]);
    expect([l.stats.aqmDrops, l.stats.aqmMarks]).toEqual([1, 1]);
  });

  it("marks IPv6 packets in the Traffic Class, keeping its DSCP bits", () => {
    const { out } = burst(BOTTLENECK, Array.from({ length: 5 }, () => v6(2)));
    expect(parseIpv6(out[3]![0]!.packet).ok && ipEcn(out[3]![0]!.packet)).toBe(2);
    const last = parseIpv6(out[4]![0]!.packet);
    expect(last.ok && last.value.header.trafficClass).toBe(0xbb);
  });

  it("without aqm the same burst is only tail-dropped at queueLimit", () => {
    const { l, out } = burst({ delay: 5, rate: 8_000_000, queueLimit: 3 }, Array.from({ length: 6 }, () => v4(0)));
    expect(out.map((d) => d.length)).toEqual([1, 1, 1, 1, 0, 0]);
    expect([l.stats.aqmDrops, l.stats.aqmMarks, l.stats.queueDrops]).toEqual([0, 0, 2]);
  });

  it("rejects an AQM that could never act, naming the field", () => {
    expect(() => new ImpairedLink("a->b", { aqm: { markAbove: 2 } }, new SimRng(1), new TraceLog())).toThrow(/aqm needs a finite rate/);
    expect(() => new ImpairedLink("a->b", { rate: 1e6, aqm: { markAbove: -1 } }, new SimRng(1), new TraceLog())).toThrow(/aqm\.markAbove must be an integer >= 0/);
  });
});

describe("the IP ECN field codec", () => {
  it("reads and writes both families and refuses what is neither", () => {
    const p4 = v4(0);
    expect(setIpEcn(p4, 2)).toBe(true);
    expect(ipEcn(p4)).toBe(2);
    expect(parseIpv4(p4).ok).toBe(true);
    const p6 = v6(0);
    setIpEcn(p6, 3);
    expect(ipEcn(p6)).toBe(3);
    const junk = new Uint8Array(40);
    expect(ipEcn(junk)).toBeUndefined();
    expect(setIpEcn(junk, 3)).toBe(false);
  });
});
