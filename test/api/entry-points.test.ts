/**
 * The package's entry points given what a JavaScript caller can pass by mistake (nothing,
 * null, a plain object, a number): each refuses with a coded error, or, for the parsers,
 * answers "not an address". They threw TypeErrors from deep inside ("Cannot read properties
 * of undefined"), or accepted a non-stack and failed later as "getaddrinfo ENOTFOUND".
 */
import { describe, expect, it } from "vitest";
import { MemorySink, narrate, parseCidr, parseIpAddress, parseIpv4Address, PcapngWriter, PcapWriter, SimDriver, SimNetwork, Stack } from "../../src/index.js";
import { SynackAgent } from "../../src/node/http-agent.js";
import { bindNet } from "../../src/node/net.js";
import { NodeStack } from "../../src/node/stack.js";
import { hasCode } from "../coded-error.js";

/** Calls `f` (as JavaScript would, whatever the types say) and returns what it threw. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
}

const call = (f: (...args: never[]) => unknown, ...args: unknown[]): (() => unknown) => () => (f as (...a: unknown[]) => unknown)(...args);

describe("entry points refuse what is not theirs with a coded error", () => {
  const sink = new MemorySink();
  const cases: Array<[string, () => unknown, string]> = [
    ["new Stack()", () => new (Stack as unknown as new () => Stack)(), "new Stack(options): options must be { host, driver }"],
    ["new Stack({})", () => new Stack({} as never), "new Stack(options): options must be { host, driver }"],
    ["new SimNetwork(null)", () => new SimNetwork(null as never), "SimNetwork's options must be an object like { seed }, got null"],
    ["runFor(NaN)", () => new SimNetwork().runFor(NaN), "runFor(ms) takes a number of ms, got NaN"],
    ["runUntil(42)", () => new SimNetwork().runUntil(42 as never), "runUntil(predicate) takes a function that says when to stop, got 42"],
    ["new PcapWriter(null)", () => new PcapWriter(null as never), "new PcapWriter(sink): sink must be a function"],
    ["new PcapngWriter(sink, null)", () => new PcapngWriter(sink.write, null as never), "new PcapngWriter(sink, options): options must be an object, got null"],
    ["narrate(null)", call(narrate, null, { hosts: [] }), "narrate(events): events must be an array of trace events, got null"],
    ["narrate([], undefined)", call(narrate, [], undefined), "narrate(events, options): options must be an object with hosts"],
    ['addStack("")', () => new SimDriver().addStack("", "10.0.0.1"), `a stack's name must be a non-empty string, got ""`],
    ["new NodeStack()", () => new (NodeStack as unknown as new () => NodeStack)(), "new NodeStack(options): options must be { link, address }"],
    ["bindNet(null)", call(bindNet, null), "bindNet(stack) needs a synack Stack"],
    ["bindNet({})", call(bindNet, {}), "bindNet(stack) needs a synack Stack"],
    ["new SynackAgent({})", () => new SynackAgent({} as never), "new SynackAgent(stack) needs a synack Stack"],
  ];
  it.each(cases)("%s", (_, f, message) => {
    const e = thrown(f);
    expect(hasCode(e)).toBe(true);
    expect((e as Error).message).toContain(message);
  });

  it("a misspelt setting is refused, naming it and the known ones (it was ignored, and the default used)", () => {
    const refusals: Array<[() => unknown, string]> = [
      [() => new SimDriver().addStack("x", "10.0.0.1", { tcp: { synRetriez: 3 } as never }), "unknown TCP setting synRetriez; known settings: synRetries,"],
      [() => new SimDriver({ sede: 5 } as never), "unknown SimDriver setting sede; known settings: seed, trace, link, maxEvents, turn"],
      [() => new SimDriver({ link: { dealy: 5 } as never }), "unknown link setting dealy; known settings: delay,"],
      [() => new SimDriver().addStack("x", "10.0.0.1", { mut: 1400 } as never), "unknown addStack setting mut; known settings: tcp, mtu, dns"],
      [() => new SimNetwork({ seed: 1, packetlog: true } as never), "unknown SimNetwork setting packetlog"],
    ];
    for (const [f, message] of refusals) {
      const e = thrown(f);
      expect(hasCode(e)).toBe(true);
      expect((e as Error).message).toContain(message);
    }
  });

  it("sleep() rejects a negative or unreadable time, as sleep(NaN) did", async () => {
    const sim = new SimDriver();
    await expect(sim.sleep(-1)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_VALUE", message: "sleep(ms) takes a time of 0 ms or more, got -1" });
    await expect(sim.sleep("x" as never)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_VALUE" });
    await sim.sleep(0);
  });

  it("new SimNetwork() needs no options (seed 1, as SimDriver's)", () => {
    expect(new SimNetwork().runFor(5).now).toBe(5);
  });

  it("the address parsers answer 'not an address' for a value that is not a string", () => {
    for (const v of [null, undefined, 42, {}]) {
      expect(parseIpAddress(v as never)).toBeUndefined();
      expect(parseCidr(v as never)).toBeUndefined();
      expect(parseIpv4Address(v as never)).toBeUndefined();
    }
  });
});
