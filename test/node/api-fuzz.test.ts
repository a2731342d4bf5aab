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

/** connect()'s arguments: anything, or the options form with the real port and host and random other options. */
const CONNECT_OPTIONS = ["localAddress", "localPort", "family", "timeout", "noDelay", "keepAlive", "keepAliveInitialDelay", "allowHalfOpen", "typeOfService", "autoSelectFamily", "hints", "lookup", "onread", "signal"];
const connectArgs = fc.oneof(
  fc.array(argument, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom(...CONNECT_OPTIONS), argument, { maxKeys: 3 }).map((o) => [{ port: 80, host: "10.0.0.2", ...o }]),
);
const SERVER_OPTIONS = ["allowHalfOpen", "pauseOnConnect", "noDelay", "keepAlive", "keepAliveInitialDelay", "highWaterMark"];
const serverArgs = fc.oneof(fc.array(argument, { maxLength: 2 }), fc.dictionary(fc.constantFrom(...SERVER_OPTIONS), argument, { maxKeys: 3 }).map((o) => [o]));

const SERVER_METHODS = ["listen", "close", "address", "getConnections", "ref", "unref"] as const;
const serverCall = fc.record({ method: fc.constantFrom(...SERVER_METHODS), args: fc.array(argument, { maxLength: 3 }), sleep: fc.integer({ min: 0, max: 300 }) });

/** A thrown value or 'error' event is fine only if it names a stable code. */
describe("synack Server and connect() under random arguments", () => {
  it("every call works or throws a coded error, and nothing is left once all is closed", async () => {
    await fc.assert(
      fc.asyncProperty(connectArgs, serverArgs, fc.array(serverCall, { maxLength: 10 }), async (connectWith, serveWith, calls) => {
        const sim = new SimDriver({ link: { delay: 5 } });
        const a = sim.addStack("a", "10.0.0.1");
        const b = sim.addStack("b", "10.0.0.2");
        const untyped: unknown[] = [];
        const coded = (f: () => unknown): unknown => {
          try {
            return f();
          } catch (e) {
            if (!hasCode(e)) untyped.push(e);
            return undefined;
          }
        };
        const watch = (x: { on(ev: "error", f: (e: unknown) => void): unknown }): void => void x.on("error", (e: unknown) => void (hasCode(e) || untyped.push(e)));
        const accepted: Socket[] = [];
        const server = coded(() => bindNet(b).createServer(...(serveWith as [])));
        if (server !== undefined) {
          const srv = server as ReturnType<ReturnType<typeof bindNet>["createServer"]>;
          watch(srv);
          srv.on("connection", (s: Socket) => {
            accepted.push(s);
            watch(s);
            s.resume();
          });
          coded(() => srv.listen(80, "10.0.0.2"));
          for (const c of calls) {
            coded(() => (srv[c.method] as (...args: unknown[]) => unknown).apply(srv, c.args));
            await sim.sleep(c.sleep);
          }
        }
        const client = coded(() => bindNet(a).connect(...(connectWith as unknown as [number])));
        if (client !== undefined) watch(client as Socket);
        await sim.sleep(1_000);
        expect(untyped.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e)))).toEqual([]);
        (client as Socket | undefined)?.destroy();
        for (const s of accepted) s.destroy();
        if (server !== undefined) (server as { close(): unknown }).close();
        await sim.sleep(300_000);
        expect([a.count(), b.count()]).toEqual([0, 0]);
      }),
      { numRuns: RUNS },
    );
  });
});

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
