/**
 * The scenario runner and the checks: faults do exactly what they say, failures read like
 * bug reports, and the connection table can be taken at any moment.
 */
import { describe, expect, it } from "vitest";
import { BUILTIN_SCENARIOS, findBuiltin } from "../../src/scenario/builtin/index.js";
import type { ScenarioSpec } from "../../src/scenario/model.js";
import { ScenarioRun } from "../../src/scenario/runner.js";
import { failures, runToEnd } from "./helpers.js";

const base: ScenarioSpec = {
  name: "t",
  hosts: [
    { name: "client", address: "10.0.0.1" },
    { name: "server", address: "10.0.0.2" },
  ],
  script: [
    { at: 0, do: "listen", host: "server", port: 80 },
    { at: 0, do: "connect", host: "client", to: "server", port: 80 },
  ],
};

describe("checks", () => {
  it("fail with what actually happened, in the narration's terms", () => {
    const tour = findBuiltin("tour")!;
    const wrong: ScenarioSpec = {
      ...tour,
      expect: [
        { expect: "segment", from: "server", flags: "SYN,ACK", ack: "x+2", at: 11 },
        { expect: "states", conn: "client", sequence: ["SYN_SENT", "CLOSED"] },
        { expect: "received", conn: "server", text: "hullo" },
        { expect: "timer", conn: "client", timer: "time-wait", fired: [60_000] },
        { expect: "timer", conn: "client", timer: "time-wait", fired: [] },
        { expect: "error", conn: "client", code: "ECONNRESET" },
        { expect: "count", host: "server", state: "ESTABLISHED", at: 100, atLeast: 2 },
        { expect: "segments", from: "client", flags: "SYN", count: 2 },
        { expect: "segment", from: "client", flags: "RST" },
      ],
    };
    expect(failures(runToEnd(wrong).results)).toEqual([
      "1st SYN,ACK from server: at 0.011s ack=x+2: sent at 0.010s ack=x+1",
      "client went SYN_SENT > CLOSED: it went SYN_SENT > ESTABLISHED > FIN_WAIT_1 > FIN_WAIT_2 > TIME_WAIT > CLOSED",
      `server read "hullo": read "hello"`,
      "client time-wait timer, fired at 60.000s: fired at 60.410s",
      "client time-wait timer, never fired: fired at 60.410s",
      "client fails with ECONNRESET: no error",
      "server has at least 2 connections in ESTABLISHED at 0.100s: it has 1",
      "SYN from client: 2 sent: 1 sent",
      "1st RST from client is sent: only 0 such segments were sent",
    ]);
  });

  it("count a call that failed unexpectedly, or names a connection that does not exist, as a failure", () => {
    const spec: ScenarioSpec = { ...base, script: [...base.script, { at: 5, do: "send", conn: "ghost", text: "x" }] };
    expect(failures(runToEnd(spec).results)).toEqual([`no call fails: ghost: send failed at 0.005s: ESCRIPT no connection named "ghost" at 5 ms`]);
  });
});

describe("faults", () => {
  it("drop only the listed occurrences of matching segments", () => {
    const spec: ScenarioSpec = { ...base, faults: [{ from: "client", to: "server", match: { flags: "SYN" }, nth: [1, 2], action: "drop" }] };
    const { run } = runToEnd(spec);
    const lost = run.events.filter((e) => e.type === "link" && e.action === "drop");
    expect(lost.map((e) => e.time)).toEqual([0, 1000]);
    expect(run.apps.get("client")!.conn.state).toBe("ESTABLISHED");
  });

  it("delay, corrupt and duplicate, each traced right after the segment it hit", () => {
    for (const action of ["delay", "corrupt", "duplicate"] as const) {
      const spec: ScenarioSpec = { ...base, faults: [{ from: "client", to: "server", match: { flags: "SYN" }, action, ...(action === "delay" ? { by: 500 } : {}) }] };
      const { run } = runToEnd(spec);
      const i = run.events.findIndex((e) => e.type === "segment-out" && e.host === "client");
      expect(run.events[i + 1]).toMatchObject({ type: "link", link: "client->server", action: action === "delay" ? "delay" : action });
    }
  });

  it("unplugging a host loses what it sends and what is sent to it", () => {
    const spec: ScenarioSpec = { ...base, script: [{ at: 0, do: "unplug", host: "server" }, ...base.script] };
    const { run } = runToEnd(spec);
    expect(run.events.filter((e) => e.type === "link" && e.reason === "server unplugged").length).toBe(7);
    expect(run.apps.get("client")!.conn.error?.code).toBe("ETIMEDOUT");
  });

  it("--loss and --delay style overrides apply to every path", () => {
    const { run } = runToEnd(base, { link: { loss: 1, delay: 50 } });
    expect(run.apps.get("client")!.conn.error?.code).toBe("ETIMEDOUT");
    const { run: slow } = runToEnd(base, { link: { delay: 50 } });
    expect(slow.events.find((e) => e.type === "state" && e.host === "client" && e.to === "ESTABLISHED")?.time).toBe(100);
  });
});

describe("runs", () => {
  it("record events in time order for every built-in (views rely on it)", () => {
    for (const spec of BUILTIN_SCENARIOS) {
      const { run } = runToEnd(spec);
      const times = run.events.map((e) => e.time);
      expect(times.every((t, i) => i === 0 || t >= times[i - 1]!), spec.name).toBe(true);
    }
  });

  it("can stop at any moment for a connection table (S34)", () => {
    const run = new ScenarioRun(findBuiltin("syn-flood")!);
    run.advanceTo(2500);
    const table = run.table("server");
    expect(table.time).toBe(2500);
    expect(table.sockets.filter((s) => s.state === "SYN_RCVD")).toHaveLength(128);
    expect(table.sockets.find((s) => s.state === "LISTEN")?.synQueue).toMatchObject({ length: 128, limit: 128 });
    expect(table.sockets.find((s) => s.state === "SYN_SENT")).toBeUndefined();
    expect(run.table("client").sockets).toMatchObject([{ state: "SYN_SENT", timer: { name: "on", remaining: 500, retries: 0 } }]);
  });

  it("are deterministic: the same seed gives the same events", () => {
    const a = runToEnd(findBuiltin("reordering")!, { seed: 7 }).run.events;
    const b = runToEnd(findBuiltin("reordering")!, { seed: 7 }).run.events;
    expect(JSON.stringify(a, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))).toBe(JSON.stringify(b, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));
  });
});
