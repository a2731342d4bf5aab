/**
 * How the page loads a SYN flood (issue 11: "loads in under a second"): only what is drawn
 * is derived from the 49,000 trace events, and the run goes in slices (model/slices.ts) so
 * its first screen is drawn before the rest is done. Both must leave every drawn thing as
 * one uninterrupted run with every derivation would have it.
 */
import { describe, expect, it } from "vitest";
import { findBuiltin } from "../../src/scenario/builtin/index.js";
import { analyseCapture } from "../../src/trace/analysis.js";
import { pcapngOf } from "../../web/playground/model/export.js";
import { runSession, SessionRun, type Session } from "../../web/playground/model/session.js";
import { FIRST_SCREEN_MS, runInSlices } from "../../web/playground/model/slices.js";
import { axisOf } from "../../web/playground/views/ladder.js";

const builtin = (name: string) => findBuiltin(name)!;

/** What the views draw of a session, to compare two runs of one scenario. */
function drawn(s: Session): unknown {
  return {
    steps: s.steps,
    segments: s.segments.map((r) => JSON.stringify([r.out, r.in, r.from, r.to, r.fate, r.label, r.reason, r.cause, r.link, r.dropped, r.verdict, r.match, r.bytes?.length])),
    rows: JSON.stringify(s.rows),
    snapshots: JSON.stringify(s.snapshots),
    hash: s.hash,
  };
}

/** Drives runInSlices with a clock that moves `tick` ms per reading, and yields that run at once (in order). */
function sliced(name: string, tick: number, screenPx = 1000): { first?: Session; done?: Session; yields: number } {
  const out: { first?: Session; done?: Session; yields: number } = { yields: 0 };
  let clock = 0;
  const later: Array<() => void> = [];
  runInSlices(new SessionRun(builtin(name)), {
    screenPx,
    now: () => (clock += tick),
    cancelled: () => false,
    yieldThen: (fn) => {
      out.yields++;
      later.push(fn);
    },
    first: (s) => (out.first = s),
    done: (s) => (out.done = s),
  });
  while (later.length > 0) later.shift()!();
  return out;
}

describe("a SYN flood in the playground", () => {
  it("records only the segments between drawn hosts; their verdicts are the whole capture's", () => {
    const s = runSession(builtin("syn-flood"));
    // The client's 7 SYNs; the server's 2,304 SYN,ACKs to spoofed addresses have no column.
    expect(s.segments.map((r) => `${r.from}>${r.to} ${r.match.flags}`)).toEqual(Array(7).fill("client>server SYN"));
    expect(s.segments.every((r) => r.fate === "delivered" && r.dropped === "syn-queue-full")).toBe(true);
    // Wireshark's analysis of all 15,311 packets gives the drawn ones the same flags.
    const all = analyseCapture(s.packets);
    for (const r of s.segments) {
      const i = s.packets.findIndex((p) => p.segment === r.out);
      expect(r.verdict?.flags).toEqual(all[i]!.flags);
    }
    expect(s.segments.slice(1).every((r) => r.verdict?.flags.includes("retransmission"))).toBe(true);
  });

  it("the cookie flood's server ISN keeps the name the narration gives it (y201: 200 spoofed SYN,ACKs came first)", () => {
    const s = runSession(builtin("syn-flood-cookies"));
    const synAck = s.segments.find((r) => r.from === "server" && r.match.flags === "SYN,ACK")!;
    expect(synAck.label).toMatch(/^SYN,ACK seq=y201 ack=x\+1 /);
    expect(s.rows.some((row) => JSON.stringify(row).includes("seq=y201 ack=x+1"))).toBe(true);
  });

  it("the pcapng export still describes the packets to spoofed addresses, which have no record", () => {
    const text = new TextDecoder("latin1").decode(pcapngOf(runSession(builtin("syn-flood-cookies"))));
    expect(text).toMatch(/server -> 198\.1[89]\.\d+\.\d+: SYN,ACK answering the SYN/);
    expect(text).toMatch(/server -> 198\.1[89]\.\d+\.\d+: retransmission of SYN,ACK: the retransmission timer expired \(expiry 1\) \[lost \(no-route\)\]/);
  });

  it("run in slices, the flood is the same run; its first screen comes after a twentieth of it", () => {
    const whole = runSession(builtin("syn-flood"));
    const { first, done, yields } = sliced("syn-flood", 1);
    expect(done).toBeDefined();
    expect(done!.complete).toBe(true);
    expect(drawn(done!)).toEqual(drawn(whole));
    expect(yields).toBeGreaterThanOrEqual(1);
    // The first screen: every step it draws is the whole run's, and it fills the screen.
    expect(first).toBeDefined();
    expect(first!.complete).toBe(false);
    expect(axisOf(first!).height).toBeGreaterThanOrEqual(1000);
    expect(first!.events.length).toBeLessThan(whole.events.length / 10);
    expect(first!.steps).toEqual(whole.steps.slice(0, first!.steps.length));
    expect(first!.segments.map((r) => r.label)).toEqual(whole.segments.slice(0, first!.segments.length).map((r) => r.label));
    // At its cursor (the first step) and beyond it, up to where it stops, the views read the same.
    expect(JSON.stringify(first!.snapshots.slice(0, -1))).toBe(JSON.stringify(whole.snapshots.slice(0, first!.snapshots.length - 1)));
  });

  it("a short run is over before its first screen is full: drawn once, as in one piece", () => {
    const { first, done, yields } = sliced("handshake", 1);
    expect(first).toBeUndefined();
    expect(yields).toBe(0);
    expect(drawn(done!)).toEqual(drawn(runSession(builtin("handshake"))));
  });

  it(`a run whose first screen is not full after ${FIRST_SCREEN_MS} ms is drawn as far as it got`, () => {
    // A clock that moves 50 ms per reading: the wait is over after a few advances.
    const { first, done } = sliced("syn-flood", 50, 1e9);
    expect(first).toBeDefined();
    expect(first!.complete).toBe(false);
    expect(done!.hash).toBe(runSession(builtin("syn-flood")).hash);
  });
});
