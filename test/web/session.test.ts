/**
 * The playground's model, in Node: the same code the page runs. A run of a built-in
 * scenario is matched segment by segment, lost segments are marked, what-ifs re-run
 * deterministically, and the URL state round-trips.
 */
import { describe, expect, it } from "vitest";
import { findBuiltin } from "../../src/scenario/builtin/index.js";
import { applyChanges, decodeState, encodeState, scenarioOf, type PlaygroundState } from "../../web/playground/model/knobs.js";
import { runSession, snapshotAt } from "../../web/playground/model/session.js";
import { pcapngOf } from "../../web/playground/model/export.js";
import { TimeAxis } from "../../web/playground/model/timeaxis.js";
import { main } from "../../src/cli/main.js";
import { eventJsonLine } from "../../src/trace/jsonl.js";
import { fakeIo } from "../cli/fake-io.js";

const builtin = (name: string) => findBuiltin(name)!;

describe("playground session", () => {
  it("the handshake: three segments, each delivered, with the documents' labels and causes", () => {
    const s = runSession(builtin("handshake"));
    expect(s.segments.map((r) => [r.from, r.to, r.label.split(" ").slice(0, 3).join(" "), r.fate])).toEqual([
      ["client", "server", "SYN seq=x win=65535", "delivered"],
      ["server", "client", "SYN,ACK seq=y ack=x+1", "delivered"],
      ["client", "server", "ACK seq=x+1 ack=y+1", "delivered"],
    ]);
    expect(s.segments.map((r) => [r.time, r.arrive])).toEqual([[0, 10], [10, 20], [20, 30]]);
    expect(s.segments[0]!.reason).toBe("SYN because the application called connect() to 10.0.0.2:80");
    expect(s.segments[1]!.reason).toBe("SYN,ACK answering the SYN");
    expect(s.segments[0]!.bytes?.length).toBeGreaterThan(40);
    const end = snapshotAt(s, 30)!;
    expect(end.hosts["client"]!.conns[0]!.state).toBe("ESTABLISHED");
    expect(end.hosts["server"]!.listeners[0]!.accept + end.hosts["server"]!.conns.length).toBeGreaterThan(0);
  });

  it("lost-syn: every SYN ends mid-air, retransmitted by the timer with growing backoff", () => {
    const s = runSession(builtin("lost-syn"));
    const syns = s.segments.filter((r) => r.from === "client");
    expect(syns.map((r) => r.time)).toEqual([0, 1000, 3000, 7000, 15000, 31000, 63000]);
    expect(syns.every((r) => r.fate === "lost")).toBe(true);
    expect(syns[1]!.retransmit).toBe(true);
    expect(syns[1]!.reason).toMatch(/retransmission timer expired \(expiry 1\)/);
    expect(syns[1]!.match).toEqual({ flags: "SYN", data: false, nth: 2 });
  });

  it("a what-if drop of the SYN,ACK re-runs deterministically with that one segment lost", () => {
    const spec = builtin("handshake");
    const a = runSession(spec);
    const b = runSession(spec);
    expect(b.hash).toBe(a.hash);
    const synAck = a.segments[1]!;
    const changed = runSession(applyChanges(spec, {}, [{ action: "drop", from: synAck.from, to: synAck.to, ...synAck.match }]));
    expect(changed.hash).not.toBe(a.hash);
    expect(changed.segments[1]!.fate).toBe("lost");
    expect(changed.segments.filter((r) => r.label.startsWith("SYN,ACK")).map((r) => [r.time, r.fate])).toEqual([
      [10, "lost"],
      [1010, "delivered"],
    ]);
  });

  it("the URL state round-trips and names the same run", () => {
    const state: PlaygroundState = { scenario: "lost-data", knobs: { seed: 7, loss: 0.02, cookies: "never", nagle: false, cc: "reno" }, whatIfs: [{ action: "drop", from: "server", to: "client", flags: "SYN,ACK", data: false, nth: 1 }] };
    const back = decodeState(encodeState(state));
    expect(back).toEqual(state);
    const json: PlaygroundState = { json: JSON.stringify(builtin("handshake")), knobs: {}, whatIfs: [] };
    expect(scenarioOf(decodeState(encodeState(json)))).toEqual(builtin("handshake"));
  });

  it("pcapng export carries one packet per send with the reason as a comment", () => {
    const s = runSession(builtin("handshake"));
    const bytes = pcapngOf(s);
    expect(new DataView(bytes.buffer).getUint32(0, true)).toBe(0x0a0d0d0a);
    expect(new TextDecoder().decode(bytes)).toContain("client -> server: SYN because the application called connect()");
  });

  it("the time axis compresses long gaps and keeps one instant's events apart", () => {
    const axis = new TimeAxis([{ index: 0, time: 0 }, { index: 1, time: 0 }, { index: 2, time: 10 }, { index: 3, time: 60_010 }]);
    const [a, b, c, d] = [0, 1, 2, 3].map((i) => axis.yOf(i)!);
    expect(b! - a!).toBe(7);
    expect(c! - b!).toBeGreaterThan(20);
    expect(d! - c!).toBeLessThan(600);
    expect(axis.breaks).toHaveLength(1);
    expect(axis.yAt(5)).toBeGreaterThan(b!);
  });

  it("the page's run of a scenario has the same events as `synack demo NAME --json`", async () => {
    for (const name of ["lost-data", "zero-window"]) {
      const { io, out } = fakeIo();
      await main(["demo", name, "--json"], io);
      const cli = out().trim().split("\n").slice(0, -1);
      const page = runSession(builtin(name)).events.map((e) => eventJsonLine(e));
      expect(page).toEqual(cli);
    }
  });
});
