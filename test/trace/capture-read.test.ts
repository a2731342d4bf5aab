/**
 * Reading captures made elsewhere (src/trace/capture-read.ts): what synack's writers wrote
 * comes back packet for packet, in both formats, from the link types tcpdump produces,
 * in big-endian and nanosecond variants; damaged files are refused with a reason.
 */
import { describe, expect, it } from "vitest";
import { MemorySink, PcapngWriter, PcapWriter } from "../../src/trace/capture.js";
import { CaptureFormatError, ipv4OfFrame, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_NULL, readCapture } from "../../src/trace/capture-read.js";

const ip = (n: number): Uint8Array => {
  const b = new Uint8Array(40);
  b[0] = 0x45;
  b[19] = n;
  return b;
};

describe("reading pcap and pcapng", () => {
  it("round-trips synack's own pcap and pcapng, times relative to the first packet, comments kept", () => {
    for (const fmt of ["pcap", "pcapng"] as const) {
      const sink = new MemorySink();
      const w = fmt === "pcap" ? new PcapWriter(sink.write) : new PcapngWriter(sink.write);
      w.packet(1000, "client", ip(1), "outbound", "first");
      w.packet(1010.5, "server", ip(2), "outbound", "second");
      const r = readCapture(sink.bytes());
      expect(r.format).toBe(fmt);
      expect(r.frames.map((f) => [f.time, f.bytes[19]])).toEqual([[0, 1], [10.5, 2]]);
      expect(r.frames.map((f) => f.comment)).toEqual(fmt === "pcapng" ? ["first", "second"] : [undefined, undefined]);
      expect(r.skipped).toBe(0);
    }
  });

  it("a big-endian, nanosecond pcap of Ethernet frames (one of them ARP)", () => {
    const records = [
      [0x0800, ip(7), 5, 250_000_000],
      [0x0806, new Uint8Array(28), 5, 300_000_000],
      [0x0800, ip(8), 6, 0],
    ] as const;
    const parts: number[] = [];
    const u32 = (n: number) => parts.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    u32(0xa1b23c4d);
    parts.push(0, 2, 0, 4);
    u32(0);
    u32(0);
    u32(65535);
    u32(LINKTYPE_ETHERNET);
    for (const [type, payload, sec, ns] of records) {
      u32(sec);
      u32(ns);
      u32(14 + payload.length);
      u32(14 + payload.length);
      parts.push(...new Array<number>(12).fill(0xaa), type >> 8, type & 255, ...payload);
    }
    const r = readCapture(new Uint8Array(parts));
    expect(r.frames.map((f) => [f.time, f.bytes[19]])).toEqual([[0, 7], [750, 8]]);
    expect(r.skipped).toBe(1);
  });

  it("takes the link-layer header off Linux cooked, BSD loopback and VLAN-tagged Ethernet frames", () => {
    const sll = new Uint8Array(16 + 40);
    sll[14] = 0x08;
    sll.set(ip(3), 16);
    expect(ipv4OfFrame(LINKTYPE_LINUX_SLL, sll)?.[19]).toBe(3);
    const loop = new Uint8Array([2, 0, 0, 0, ...ip(4)]);
    expect(ipv4OfFrame(LINKTYPE_NULL, loop)?.[19]).toBe(4);
    const vlan = new Uint8Array([...new Array<number>(12).fill(0), 0x81, 0x00, 0, 5, 0x08, 0x00, ...ip(5)]);
    expect(ipv4OfFrame(LINKTYPE_ETHERNET, vlan)?.[19]).toBe(5);
    expect(ipv4OfFrame(LINKTYPE_ETHERNET, new Uint8Array([...new Array<number>(12).fill(0), 0x86, 0xdd, ...ip(6)]))).toBeUndefined();
  });

  it("refuses what is not a capture, and a capture cut short", () => {
    expect(() => readCapture(new TextEncoder().encode('{"name": "not a capture at all, a JSON file"}'))).toThrow(CaptureFormatError);
    const sink = new MemorySink();
    new PcapWriter(sink.write).packet(0, "a", ip(1));
    const cut = sink.bytes().subarray(0, 24 + 16 + 10);
    expect(() => readCapture(cut)).toThrow(/truncated record/);
  });
});
