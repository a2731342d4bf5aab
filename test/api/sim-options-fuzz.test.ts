/**
 * The simulator's socket-level entry points take configuration from the people testing
 * with synack: `new SimDriver(options)`, `sim.addStack(name, address, options)` with its
 * MTU, TCP settings and name servers. Whatever they pass, each either throws an error with
 * a stable `code` or makes stacks whose connects, by address and by name, open or fail
 * with a coded error.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { SimDriver, type Stack } from "../../src/api/index.js";
import { hasCode } from "../coded-error.js";
import { countFromEnv, timeoutFor } from "../env-count.js";
import { oddValue } from "../odd-values.js";

const RUNS = countFromEnv("SETTINGS_RUNS", 300);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 300).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

const odd = oddValue(-1, 0, 1, 1.5, 576, 1280, 1500, 65536, "", "10.0.0.1", "10.0.0.53", "fd00::53", "[fd00::53]:5353", "10.0.0.53:99999", "nope", null);
const servers = fc.oneof(odd, fc.array(fc.oneof(odd, fc.record({ address: odd, port: odd }, { requiredKeys: [] })), { maxLength: 3 }));
// Name servers with one other setting at most: the resolver stops at the first bad one.
const dns = fc.oneof(
  odd,
  fc.tuple(servers, fc.oneof(fc.constant({}), fc.record({ timeout: odd }), fc.record({ attempts: odd }), fc.record({ cache: odd }))).map(([list, other]) => ({ servers: list, ...other })),
);
const stackOptions = fc.oneof(odd, fc.record({ mtu: odd, dns, tcp: fc.oneof(odd, fc.dictionary(fc.constantFrom("noDelay", "mss", "ecn", "sendBufferSize"), odd, { maxKeys: 2 })) }, { requiredKeys: [] }));
// A small valid maxEvents makes any busy instant a livelock, which the driver reports (coded,
// by design) to whoever waits next or as an uncaught exception: the bad values are fuzzed here.
const maxEvents = fc.oneof(
  odd.filter((v) => !(Number.isInteger(v) && (v as number) >= 1)),
  fc.constant(10_000),
);
const driverOptions = fc.oneof(odd, fc.record({ seed: odd, link: odd, maxEvents }, { requiredKeys: [] }));

/** Runs `f`; an error must carry a code. Returns undefined when it threw. */
function coded<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (!hasCode(e)) throw e;
    return undefined;
  }
}

describe("simulator options", () => {
  it("throw a coded error, or make stacks that connect by address, and by name with a coded failure at worst", async () => {
    await fc.assert(
      fc.asyncProperty(driverOptions, odd, stackOptions, async (driverOpts, address, stackOpts) => {
        const sim = coded(() => new SimDriver(driverOpts as never));
        if (sim === undefined) return;
        const server = coded(() => sim.addStack("server", "10.0.0.2"));
        if (server === undefined) return; // the driver's link settings were refused
        coded(() => sim.addStack("odd", address as never));
        const client: Stack | undefined = coded(() => sim.addStack("client", "10.0.0.1", stackOpts as never));
        if (client === undefined) return;
        const listener = server.listen({ port: 80 });
        const byAddress = client.connect({ hostname: "10.0.0.2", port: 80 });
        const byName = client.connect({ hostname: "server.example", port: 80 });
        // Settled or still pending after two minutes (a lossy link's SYN retries, a name
        // server timeout of hours): never rejected without a code.
        const outcomes: string[] = [];
        for (const p of [byAddress.opened, byName.opened]) {
          p.then(
            () => outcomes.push("open"),
            (e: unknown) => outcomes.push(hasCode(e) ? "coded" : `uncoded: ${e instanceof Error ? (e.stack ?? e.message) : typeof e}`),
          );
        }
        await sim.sleep(120_000);
        expect(outcomes.filter((o) => o.startsWith("uncoded"))).toEqual([]);
        byAddress.close().catch(() => {});
        byName.close().catch(() => {});
        void listener.close();
      }),
      { numRuns: RUNS },
    );
  });
});
