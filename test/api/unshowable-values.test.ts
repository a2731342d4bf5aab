/**
 * A bad argument that cannot even be turned into a string (an object whose `toString` is
 * not a function) still gets the coded error every layer promises, never the TypeError
 * that describing it would raise (found by API_FUZZ_RUNS=2000: setNotsentLowat({ toString:
 * false }) threw "Cannot convert object to primitive value").
 */
import { describe, expect, it } from "vitest";
import { Host, SimDriver, SimNetwork, parseIpAddress } from "../../src/index.js";
import { bindNet } from "../../src/node/net.js";
import { showValue } from "../../src/show-value.js";

const UNSHOWABLE: unknown = { toString: false };

/** The error `f` throws, which must carry a stable code and show the value by its type. */
function thrown(f: () => unknown): { code: unknown; message: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return { code: (e as { code?: unknown }).code, message: (e as Error).message };
  }
  throw new Error("did not throw");
}

describe("arguments that cannot be shown", () => {
  it("showValue: a string quoted, String() where it works, else the value's type", () => {
    expect(showValue(42)).toBe("42");
    // Quoted: a port of "80" read "got 80" and an empty host name "got " before.
    expect(showValue("x")).toBe('"x"');
    expect(showValue("80")).toBe('"80"');
    expect(showValue("")).toBe('""');
    expect(showValue(Symbol("s"))).toBe("Symbol(s)");
    expect(showValue(UNSHOWABLE)).toBe("(an object that cannot be shown)");
    expect(showValue(Object.create(null))).toBe("(an object that cannot be shown)");
  });

  it("node:net Socket setters", async () => {
    const sim = new SimDriver({ link: { delay: 5 } });
    const a = sim.addStack("a", "10.0.0.1");
    const b = sim.addStack("b", "10.0.0.2");
    bindNet(b).createServer(() => {}).listen(80, "10.0.0.2");
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    await sim.sleep(50);
    for (const call of [() => sock.setNotsentLowat(UNSHOWABLE as number), () => sock.setUserTimeout(UNSHOWABLE as number), () => sock.setTypeOfService(UNSHOWABLE as number)]) {
      const e = thrown(call);
      expect(typeof e.code).toBe("string");
    }
    expect(thrown(() => sock.setNotsentLowat(UNSHOWABLE as number))).toEqual({ code: "ERR_OUT_OF_RANGE", message: expect.stringContaining("(an object that cannot be shown)") as unknown });
    sock.destroy();
  });

  it("the engine's connect and a Host's TCP settings", () => {
    const net = new SimNetwork({ seed: 1 });
    const addr = parseIpAddress("10.0.0.1")!;
    const host = net.addHost("h", addr, (transmit, ctx) => new Host({ name: "h", address: addr, rng: ctx.rng, transmit })).endpoint;
    expect(thrown(() => host.tcp.connect({ localAddr: addr, remoteAddr: parseIpAddress("10.0.0.2")!, remotePort: UNSHOWABLE as number }))).toEqual({
      code: "ERR_INVALID_ARG_VALUE",
      message: "remotePort must be an integer in 1-65535, got (an object that cannot be shown)",
    });
    expect(thrown(() => new Host({ name: "x", address: addr, rng: { next: () => 0.5 } as never, transmit: () => {}, tcp: { ecn: UNSHOWABLE as 0 } })).code).toBe("ERR_INVALID_ARG_VALUE");
  });
});
