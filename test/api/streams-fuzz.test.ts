/**
 * The Web Streams sockets under random options and calls (any value where a host name,
 * port, option, chunk or setting goes), in virtual time: connect() and listen() either
 * return or throw an error with a stable `code`; a socket's `opened` and `closed` settle
 * with a coded error if they reject; writes of anything but bytes are refused with a code;
 * and after everything is closed neither stack holds a connection.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { hasCode } from "../coded-error.js";
import type { StreamSocket } from "../../src/api/index.js";
import { simPair } from "./helpers.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("API_FUZZ_RUNS", 60);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 60).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 60) });

const value = fc.oneof(
  fc.anything({ maxDepth: 1 }),
  fc.constantFrom(-1, 0, 80, 65536, 1.5, Number.NaN, "10.0.0.2", "fd00::2", "no.such.name", "", true, new Uint8Array(3000), new Uint8Array(0), { toString: false }),
);
const options = fc.dictionary(fc.constantFrom("hostname", "port", "localPort", "noDelay", "keepAlive", "userTimeout", "typeOfService", "fastOpen", "readableHighWaterMark", "writableHighWaterMark"), value, { maxKeys: 4 });
const call = fc.record({ method: fc.constantFrom("write" as const, "setCork" as const, "setUserTimeout" as const, "setNotsentLowat" as const, "setTypeOfService" as const, "tcpInfo" as const, "close" as const), arg: value, sleep: fc.integer({ min: 0, max: 200 }) });

describe("Web Streams sockets under random options and calls", () => {
  it("return or throw coded errors, settle with coded errors, and leave nothing behind", async () => {
    await fc.assert(
      fc.asyncProperty(options, fc.array(call, { maxLength: 12 }), async (opts, calls) => {
        const { sim, client, server } = simPair();
        const untyped: unknown[] = [];
        const note = (e: unknown) => void (hasCode(e) || untyped.push(e));
        const listener = server.listen({ port: 80 });
        const accepting = (async () => {
          // The server reads to the end, then closes its side too.
          for await (const s of listener) void s.readable.pipeTo(new WritableStream()).then(() => s.close(), note).catch(note);
        })().catch(note);
        let sock: StreamSocket | undefined;
        try {
          sock = client.connect({ hostname: "10.0.0.2", port: 80, ...(opts as object) } as never);
        } catch (e) {
          note(e);
        }
        if (sock !== undefined) {
          sock.opened.catch(note);
          sock.closed.catch(note);
          void sock.readable.pipeTo(new WritableStream()).catch(note);
          const writer = sock.writable.getWriter();
          await sim.sleep(30);
          for (const c of calls) {
            try {
              if (c.method === "write") writer.write(c.arg as never).catch(note);
              else if (c.method === "close") await sock.close().catch(note);
              else (sock[c.method] as (a: unknown) => unknown).call(sock, c.arg);
            } catch (e) {
              note(e);
            }
            await sim.sleep(c.sleep);
          }
          writer.releaseLock();
          await sock.close().catch(note);
        }
        await listener.close();
        await accepting;
        await sim.sleep(300_000);
        expect(untyped.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e)))).toEqual([]);
        expect([client.count(), server.count()]).toEqual([0, 0]);
      }),
      { numRuns: RUNS },
    );
  });
});
