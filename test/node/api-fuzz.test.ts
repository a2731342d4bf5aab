/**
 * synack's node:net Socket under random calls with random arguments (any JSON-like value,
 * functions, buffers, huge and negative numbers), on a connected pair in virtual time: a
 * call either works or throws an error with a stable `code`; 'error' events carry a code
 * too; nothing else escapes, not even a rejected promise; and both stacks end with no
 * connection once both sides are destroyed.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { hasCode } from "../coded-error.js";
import { SimDriver } from "../../src/api/index.js";
import { bindNet, type Socket } from "../../src/node/net.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("API_FUZZ_RUNS", 60);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 60).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 60) });

const argument = fc.oneof(
  fc.anything({ maxDepth: 1 }),
  fc.constantFrom(-1, 0, 1, 2 ** 31, Number.NaN, Number.POSITIVE_INFINITY, "utf8", "hex", "latin1", "nonsense", () => {}, new Uint8Array(5000), new Uint8Array(0), { toString: false }),
);

const METHODS = ["write", "end", "setNoDelay", "setKeepAlive", "setTimeout", "setCork", "setUserTimeout", "setNotsentLowat", "setTypeOfService", "getTypeOfService", "setOobInline", "sendUrgent", "pause", "resume", "setEncoding", "address", "ref", "unref", "destroySoon", "tcpInfo"] as const;

const call = fc.record({ side: fc.constantFrom(0, 1), method: fc.constantFrom(...METHODS), args: fc.array(argument, { maxLength: 3 }), sleep: fc.integer({ min: 0, max: 300 }) });

/** A thrown value or 'error' event is fine only if it names a stable code. */
describe("synack Socket under random calls", () => {
  it("every call works or throws a coded error, and the pair can always be torn down", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 25, size: "medium" }), async (calls) => {
        const sim = new SimDriver({ link: { delay: 5 } });
        const a = sim.addStack("a", "10.0.0.1");
        const b = sim.addStack("b", "10.0.0.2");
        const untyped: unknown[] = [];
        const watch = (s: Socket) => s.on("error", (e: unknown) => void (hasCode(e) || untyped.push(e)));
        let accepted: Socket | undefined;
        const server = bindNet(b).createServer({}, (s) => {
          accepted = s;
          watch(s);
          s.on("data", () => {});
        });
        server.listen(80, "10.0.0.2");
        const client = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
        watch(client);
        client.on("data", () => {});
        await sim.sleep(50);
        for (const c of calls) {
          const s = c.side === 0 ? client : accepted;
          if (s === undefined) continue;
          try {
            (s[c.method] as (...args: unknown[]) => unknown).apply(s, c.args);
          } catch (e) {
            if (!hasCode(e)) untyped.push(e);
          }
          await sim.sleep(c.sleep);
        }
        expect(untyped.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e)))).toEqual([]);
        client.destroy();
        accepted?.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await sim.sleep(300_000);
        expect([a.count(), b.count()]).toEqual([0, 0]);
      }),
      { numRuns: RUNS },
    );
  });
});
