/**
 * A capture opened on the page is drawn as an inferred ladder: the packets of
 * `synack demo NAME --pcap FILE` give the same labels as the engine's own ladder of that
 * run, with Wireshark's flags, and nothing the engine alone knows.
 */
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { findBuiltin } from "../../src/scenario/builtin/index.js";
import { CaptureFormatError } from "../../src/trace/capture-read.js";
import { inferCapture, mainStream } from "../../web/playground/model/inferred.js";
import { runSession } from "../../web/playground/model/session.js";
import { fakeIo } from "../cli/fake-io.js";

async function demoCapture(name: string, file: string): Promise<Uint8Array> {
  const { io, written } = fakeIo();
  expect(await main(["demo", name, "--pcap", file], io)).toBe(0);
  return written.get(file)!;
}

describe("inferred ladder of an imported capture", () => {
  it("lost-data from `synack demo --pcap`: one conversation, the engine's labels, the retransmission and the window update flagged", async () => {
    const c = inferCapture(await demoCapture("lost-data", "lost.pcap"), "lost.pcap");
    expect(c.format).toBe("pcap");
    expect(c.streams).toHaveLength(1);
    const st = mainStream(c)!;
    expect(st.ends).toEqual(["10.0.0.1:46274", "10.0.0.2:80"]);
    const engine = runSession(findBuiltin("lost-data")!);
    expect(st.packets.map((p) => p.label)).toEqual(engine.segments.map((r) => r.label));
    expect(st.packets.map((p) => p.from)).toEqual(engine.segments.map((r) => r.fromCol));
    expect(st.packets.filter((p) => p.flags.length > 0).map((p) => [p.frame, p.summary])).toEqual([
      [8, "[TCP Window Update]"], // the ACK after the hole: its window grew (test/web/verdict.test.ts)
      [9, "[TCP Retransmission]"],
    ]);
    expect(st.packets[0]!.label).toMatch(/^SYN seq=x win=65535/);
  });

  it("pcapng with --pcapng keeps the packet comments; the SYN flood has one conversation per spoofed source", async () => {
    const c = inferCapture(await demoCapture("syn-flood-cookies", "flood.pcapng"), "flood.pcapng");
    expect(c.format).toBe("pcapng");
    expect(c.streams.length).toBeGreaterThan(100);
    const client = c.streams.find((s) => s.ends[0].startsWith("10.0.0.1:"))!;
    expect(client.packets.map((p) => p.label.split(" ")[0])).toEqual(["SYN", "SYN,ACK", "ACK", "PSH,ACK", "ACK"]);
    expect(client.packets[0]!.comment).toContain("client");
  });

  it("a file that is not a capture is refused", () => {
    expect(() => inferCapture(new TextEncoder().encode("hello, this is plain text and no capture"), "notes.txt")).toThrow(CaptureFormatError);
  });
});
