import { describe, expect, it } from "vitest";
import type { Endpoint } from "../../src/endpoint.js";
import { captureRecorder, MemorySink, PcapngWriter, PcapWriter, tapEndpoint, tapTransmit } from "../../src/trace/capture.js";
import { readPcap, readPcapng } from "./readers.js";

describe("capture taps", () => {
  it("tapTransmit records what leaves, at the clock's time, before passing it on", () => {
    const sink = new MemorySink();
    const sent: Uint8Array[] = [];
    let now = 5;
    const t = tapTransmit((p) => sent.push(p), new PcapWriter(sink.write), () => now, "a");
    t(new Uint8Array([1]));
    now = 7.5;
    t(new Uint8Array([2, 3]));
    expect(sent).toHaveLength(2);
    expect(readPcap(sink.bytes()).packets).toEqual([
      { micros: 5000, bytes: new Uint8Array([1]) },
      { micros: 7500, bytes: new Uint8Array([2, 3]) },
    ]);
  });

  it("tapEndpoint records what arrives and forwards the whole Endpoint contract", () => {
    const sink = new MemorySink();
    const calls: string[] = [];
    const inner: Endpoint = { receive: (now) => void calls.push(`receive ${now}`), poll: (now) => void calls.push(`poll ${now}`), nextDeadline: () => 42 };
    const e = tapEndpoint(inner, new PcapngWriter(sink.write), "b");
    e.receive(3, new Uint8Array([9]));
    e.poll(4);
    expect(e.nextDeadline()).toBe(42);
    expect(calls).toEqual(["receive 3", "poll 4"]);
    expect(readPcapng(sink.bytes()).packets).toEqual([{ micros: 3000, bytes: new Uint8Array([9]), iface: "b", direction: 1 }]);
  });

  it("captureRecorder keeps sends, deliveries or both", () => {
    for (const [point, n] of [["send", 1], ["deliver", 1], ["both", 2]] as const) {
      const sink = new MemorySink();
      const r = captureRecorder(new PcapWriter(sink.write), point);
      r({ time: 1, event: "send", from: "a", to: "b", bytes: new Uint8Array([1]) });
      r({ time: 2, event: "deliver", from: "a", to: "b", bytes: new Uint8Array([1]) });
      expect(readPcap(sink.bytes()).packets).toHaveLength(n);
    }
  });
});
