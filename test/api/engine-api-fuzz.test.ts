/**
 * The engine's own API (a Connection's methods, the TCP layer's, a Stack's and its stub
 * resolver's, the simulator's scheduling and trace subscription) with arguments of any
 * type, in any order, on live connections: each call returns or throws an error with a
 * stable `code`, nothing it accepted throws later, when the simulation runs on, and once
 * every connection is aborted the network goes idle. The defects this found: switches
 * stored and read by truthiness, callbacks that failed only when called, TypeErrors from
 * parameter bags that were null or not tuples, and setKeepAlive(true, NaN), which armed a
 * timer at NaN and hung the simulation in one synchronous loop.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { SimDriver, type Stack } from "../../src/api/index.js";
import type { Connection } from "../../src/tcp/connection.js";
import { TraceHub } from "../../src/trace/events.js";
import { parseIpAddress } from "../../src/wire/address.js";
import { hasCode } from "../coded-error.js";
import { countFromEnv, timeoutFor } from "../env-count.js";
import { oddValue } from "../odd-values.js";

const RUNS = countFromEnv("API_FUZZ_RUNS", 200);
vi.setConfig({ testTimeout: timeoutFor(RUNS, 200) });

const arg = oddValue(-1, 0, 1, 1.5, 80, 2 ** 40, "", "x", "ESTABLISHED", "SYN_RECV", false, null, [], new Uint8Array(3), { idle: 1000 }, { more: true }, () => {});

/** The calls, each on a fresh target: name and how it is made from up to three arguments. */
type Target = { sim: SimDriver; hub: TraceHub; client: Stack; server: Stack; conn: Connection; peer: Connection };
const CALLS: Record<string, (t: Target, a: unknown, b: unknown, c: unknown) => unknown> = {
  send: (t, a, b) => t.conn.send(a as Uint8Array, b as never),
  read: (t, a) => t.peer.read(a as number),
  setKeepAlive: (t, a, b, c) => t.conn.setKeepAlive(a as boolean, (typeof b === "number" ? b : t.sim.now()) as number, c as never),
  setSendBufferSize: (t, a) => t.conn.setSendBufferSize(a as number),
  setUserTimeout: (t, a) => t.conn.setUserTimeout(a as number),
  setNotsentLowat: (t, a) => t.conn.setNotsentLowat(a as number),
  setTypeOfService: (t, a) => t.conn.setTypeOfService(a as number),
  sendRoom: (t, a) => t.conn.sendRoom(a as number),
  setNoDelay: (t, a) => t.conn.setNoDelay(a as boolean),
  setCork: (t, a) => t.conn.setCork(a as boolean),
  readOob: (t, a) => t.peer.readOob(a as boolean),
  setOobInline: (t, a) => t.peer.setOobInline(a as boolean),
  setZerocopy: (t, a) => t.conn.setZerocopy(a as boolean),
  setTimestamping: (t, a) => t.conn.setTimestamping(a as number),
  readErrorQueue: (t) => t.conn.readErrorQueue(),
  shutdown: (t) => t.conn.shutdown(),
  close: (t) => t.peer.close(),
  inspect: (t) => t.conn.inspect(),
  connect: (t, a, b) => t.client.host.tcp.connect({ localAddr: t.client.host.address, remoteAddr: a as never, remotePort: b as number }),
  connectBag: (t, a) => t.client.host.tcp.connect(a as never),
  listen: (t, a, b) => t.client.host.tcp.listen(a as number, b as number),
  closeListener: (t, a) => t.client.host.tcp.closeListener(a as never),
  inUse: (t, a) => t.client.host.tcp.inUse(a as never),
  count: (t, a) => t.client.count(a as never),
  openListener: (t, a, b) => t.client.openListener(a as number, b as number),
  resolve: (t, a) => t.client.resolve(a as string),
  query: (t, a, b, c) => t.client.dns!.query(a as string, b as 4, c as never),
  subscribe: (t, a) => t.hub.subscribe(a as never),
  at: (t, a, b) => t.sim.network.at(a as number, b as never),
};

async function target(): Promise<Target> {
  const hub = new TraceHub();
  const sim = new SimDriver({ seed: 3, link: { delay: 2 }, trace: hub });
  const client = sim.addStack("client", "10.0.0.1", { dns: { servers: ["10.0.0.2"] } });
  const server = sim.addStack("server", "10.0.0.2");
  const listener = server.host.tcp.listen(80);
  const conn = client.host.tcp.connect({ localAddr: client.host.address, remoteAddr: parseIpAddress("10.0.0.2")!, remotePort: 80 });
  await sim.sleep(20);
  const peer = listener.accept()!;
  return { sim, hub, client, server, conn, peer };
}

describe("the engine's API with arguments of any type", () => {
  it("each call returns or throws a coded error, and nothing accepted throws later", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...Object.keys(CALLS)), arg, arg, arg), { minLength: 1, maxLength: 6 }), async (calls) => {
        const t = await target();
        for (const [name, a, b, c] of calls) {
          try {
            CALLS[name]!(t, a, b, c);
          } catch (e) {
            if (!hasCode(e)) throw new Error(`${name}: threw without a code: ${String(e)}`, { cause: e });
          }
          await t.sim.sleep(5);
        }
        // Whatever was accepted must run: a stored callback or switch that fails later fails here.
        await t.sim.sleep(200_000);
        expect(t.sim.now()).toBeGreaterThan(200_000);
        // Keep-alive probes go on for ever on a live connection: end everything, and the
        // network must go idle (a timer left behind would keep this simulation pumping).
        for (const stack of [t.client, t.server]) {
          for (const c of stack.host.tcp.allConnections()) c.abort("run over");
          for (const l of stack.host.tcp.allListeners()) stack.host.tcp.closeListener(l);
        }
        await t.sim.settled();
      }),
      { numRuns: RUNS },
    );
  });
});
