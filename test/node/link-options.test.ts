/**
 * The Node-side links and their helpers take options from programs: whatever they are
 * given, they throw an error with a stable code, never the TypeError of reading a field
 * of null (found by calling each with odd values: loopbackPair(null), addresses: -1,
 * new Relay(undefined), UdpTunnel.open("x")).
 */
import { describe, expect, it } from "vitest";
import { loopbackPair, LoopbackWire, Relay, TunDevice, UdpTunnel } from "../../src/node/index.js";

const refused = expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" });

describe("Node-side link options of the wrong shape", () => {
  it("loopbackPair and LoopbackWire", () => {
    expect(() => loopbackPair(null as never)).toThrow(refused);
    expect(() => new LoopbackWire(null as never)).toThrow(refused);
    for (const addresses of [-1, ["10.0.0.1"], [1, 2], "10.0.0.1"]) expect(() => loopbackPair({ addresses: addresses as never })).toThrow(refused);
    expect(() => loopbackPair({ names: [7, 8] as never })).toThrow(refused);
  });

  it("Relay", () => {
    for (const opts of [undefined, null, {}, { a: {}, b: {} }, { a: 5, b: 5 }]) expect(() => new Relay(opts as never)).toThrow(refused);
  });

  it("UdpTunnel.open rejects before opening a socket", async () => {
    for (const opts of [undefined, null, "x", { listen: "127.0.0.1:7001" }, { listen: { host: "127.0.0.1", port: 70000 } }, { listen: { host: "127.0.0.1", port: 0 }, peer: 5 }]) {
      await expect(UdpTunnel.open(opts as never)).rejects.toMatchObject({ code: "ERR_INVALID_ARG_VALUE" });
    }
  });
});

describe("classes that only open() makes", () => {
  it.each([["UdpTunnel", UdpTunnel], ["TunDevice", TunDevice]] as const)("new %s() from JavaScript is Node's ERR_ILLEGAL_CONSTRUCTOR with the way to open one, not a TypeError about undefined", (name, cls) => {
    const make = cls as unknown as new (...args: unknown[]) => unknown;
    expect(() => new make()).toThrow(expect.objectContaining({ name: "TypeError", code: "ERR_ILLEGAL_CONSTRUCTOR", message: `${name} has no public constructor; use ${name}.open(options)` }));
    expect(() => new make({ kind: "dgram" }, 1400)).toThrow(expect.objectContaining({ code: "ERR_ILLEGAL_CONSTRUCTOR" }));
  });
});
