/**
 * synack's node:net API against node:net itself, over the kernel's loopback: the same call
 * with the same arguments either works on both or throws on both, with the same `code`.
 * Where Node throws an error without a code (a symbol given as a keep-alive delay makes its
 * division throw a plain TypeError), synack must throw the same class, with a code.
 *
 * Only synchronous outcomes are compared: what a call returns or throws. Left out: connect()
 * and listen() (Node would resolve names and bind ports on the host), and number options to
 * the Socket constructor, which Node takes as file descriptors (synack refuses them).
 */
import { EventEmitter } from "node:events";
import net from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hasCode } from "../coded-error.js";
import { SimDriver } from "../../src/api/index.js";
import { bindNet, type Socket } from "../../src/node/net.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("NET_DIFF_RUNS", 100);
vi.setConfig({ testTimeout: timeoutFor(RUNS, 60) });

/** A function whose name is the same on both sides of a comparison. */
function listener(): void {}

const value = fc.oneof(
  fc.anything({ maxDepth: 1 }),
  fc.constantFrom<unknown>(undefined, null, true, false, 0, -0, -1, 1, 1.5, 999, 1000, 1500, 2 ** 31, 2 ** 53, Number.NaN, Infinity, -Infinity, "", "x", "1000", "utf8", "hex", "base64", [], [1], {}, listener, Symbol("s"), 10n, new Uint8Array(3), new Uint8Array(0), { toString: false }),
);
const args = fc.array(value, { maxLength: 3 });

/** The methods both classes have whose outcome does not depend on a connection's timing. */
const METHODS = ["write", "end", "setNoDelay", "setKeepAlive", "setTimeout", "setEncoding", "setDefaultEncoding", "pause", "resume", "address", "ref", "unref", "cork", "uncork", "read", "unshift", "destroySoon"] as const;
const call = fc.record({ method: fc.constantFrom(...METHODS), args });

type Outcome = { ok: true } | { ok: false; code: string | undefined; kind: string };

function outcome(f: () => unknown): Outcome {
  try {
    f();
    return { ok: true };
  } catch (e) {
    const code = hasCode(e) ? (e as { code: string }).code : undefined;
    return { ok: false, code, kind: e instanceof Error ? e.constructor.name : typeof e };
  }
}

/** Whether synack's outcome is node:net's, as the header says. */
function sameOutcome(node: Outcome, synack: Outcome): boolean {
  if (node.ok || synack.ok) return node.ok === synack.ok;
  if (node.code !== undefined) return synack.code === node.code;
  return synack.code !== undefined && synack.kind === node.kind;
}

function show(v: unknown): string {
  if (typeof v === "function") return "function";
  if (typeof v === "symbol" || typeof v === "bigint") return String(v);
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return typeof v;
  }
}

function invoke(target: object, method: string, callArgs: unknown[]): () => unknown {
  return () => (target as Record<string, (...a: unknown[]) => unknown>)[method]!(...callArgs);
}

/** Runs `calls` on both sockets and returns the ones whose outcomes differ. */
function compare(nodeSocket: net.Socket, synackSocket: Socket, calls: { method: string; args: unknown[] }[]): string[] {
  const differences: string[] = [];
  for (const c of calls) {
    const n = outcome(invoke(nodeSocket, c.method, c.args));
    const s = outcome(invoke(synackSocket, c.method, c.args));
    if (!sameOutcome(n, s)) differences.push(`${c.method}(${c.args.map(show).join(", ")}): node:net ${JSON.stringify(n)}, synack ${JSON.stringify(s)}`);
  }
  return differences;
}

describe("synack's node:net Socket and Server refuse and accept what node:net does", () => {
  const sim = new SimDriver({ link: { delay: 5 } });
  const stack = sim.addStack("a", "10.0.0.1");

  it("has every method and property of node:net's Socket and Server, symbols included", () => {
    const members = (proto: object): string[] => {
      const out = new Set<string>();
      for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
        for (const k of Reflect.ownKeys(p)) {
          const name = typeof k === "symbol" ? k.toString() : k;
          // Node's private fields (_handle, kCapture's internal symbols) are not API.
          if (!name.startsWith("_") && !/^Symbol\(k[A-Z]/.test(name)) out.add(name);
        }
      }
      return [...out].sort();
    };
    const missing = (theirs: object, ours: object): string[] => members(theirs).filter((m) => !members(ours).includes(m));
    expect(missing(net.Socket.prototype, bindNet(stack).socket())).toEqual([]);
    expect(missing(net.Server.prototype, bindNet(stack).createServer())).toEqual([]);
  });

  it("reads the same properties off a socket never connected, and off a destroyed one", async () => {
    const PROPS = ["readyState", "pending", "connecting", "destroyed", "bytesRead", "bytesWritten", "bufferSize", "remoteAddress", "remotePort", "remoteFamily", "localAddress", "localPort", "localFamily", "timeout", "allowHalfOpen", "readable", "writable", "writableLength", "readableLength"] as const;
    const read = (s: object): Record<string, unknown> => Object.fromEntries(PROPS.map((p) => [p, (s as Record<string, unknown>)[p]]));
    const n = new net.Socket();
    const s = bindNet(stack).socket();
    expect(read(s)).toEqual(read(n));
    n.destroy();
    s.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(read(s)).toEqual(read(n));
  });

  it("closes a server with `await using` (Symbol.asyncDispose), as node:net", async () => {
    const server = bindNet(stack).createServer();
    server.listen(80);
    expect(server.listening).toBe(true);
    await server[Symbol.asyncDispose]();
    expect(server.listening).toBe(false);
    await bindNet(stack).createServer()[Symbol.asyncDispose](); // never listening: nothing to do
  });

  it("with captureRejections, a rejected async 'connection' listener destroys that socket with the error, as node:net", async () => {
    const sim = new SimDriver({ link: { delay: 5 } });
    const a = sim.addStack("a", "10.0.0.1");
    const b = sim.addStack("b", "10.0.0.2");
    const before = EventEmitter.captureRejections;
    EventEmitter.captureRejections = true;
    let server: ReturnType<ReturnType<typeof bindNet>["createServer"]>;
    try {
      server = bindNet(b).createServer();
    } finally {
      EventEmitter.captureRejections = before;
    }
    const destroyedWith: unknown[] = [];
    server.on("connection", async (socket: Socket) => {
      socket.on("error", (e) => destroyedWith.push(e));
      await Promise.resolve();
      throw new Error("handler failed");
    });
    server.listen(80);
    const client = bindNet(a).connect(80, "10.0.0.2");
    client.on("error", () => {});
    await sim.sleep(100);
    expect(destroyedWith.map((e) => (e as Error).message)).toEqual(["handler failed"]);
    client.destroy();
    server.close();
  });

  it("on a socket never connected, and on a destroyed one", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(call, { maxLength: 8 }), (destroyed, calls) => {
        const n = new net.Socket();
        const s = bindNet(stack).socket();
        n.on("error", () => {});
        s.on("error", () => {});
        if (destroyed) {
          n.destroy();
          s.destroy();
        }
        const differences = compare(n, s, calls);
        n.destroy();
        s.destroy();
        expect(differences).toEqual([]);
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it("in the options of the Socket and Server constructors", () => {
    const socketOptions = fc.dictionary(fc.constantFrom("allowHalfOpen", "noDelay", "keepAlive", "keepAliveInitialDelay", "highWaterMark", "readableHighWaterMark", "writableHighWaterMark", "signal", "objectMode", "readableObjectMode", "writableObjectMode"), value, { maxKeys: 3 });
    const serverOptions = fc.oneof(value, fc.dictionary(fc.constantFrom("allowHalfOpen", "pauseOnConnect", "noDelay", "keepAlive", "keepAliveInitialDelay", "highWaterMark"), value, { maxKeys: 3 }));
    fc.assert(
      fc.property(socketOptions, serverOptions, value, (forSocket, forServer, second) => {
        const differences: string[] = [];
        const ns = outcome(() => new net.Socket(forSocket).destroy());
        const ss = outcome(() => bindNet(stack).socket(forSocket).destroy());
        if (!sameOutcome(ns, ss)) differences.push(`Socket(${show(forSocket)}): node:net ${JSON.stringify(ns)}, synack ${JSON.stringify(ss)}`);
        const nv = outcome(() => net.createServer(forServer as net.ServerOpts, second as () => void));
        const sv = outcome(() => bindNet(stack).createServer(forServer as object, second as () => void));
        if (!sameOutcome(nv, sv)) differences.push(`createServer(${show(forServer)}, ${show(second)}): node:net ${JSON.stringify(nv)}, synack ${JSON.stringify(sv)}`);
        expect(differences).toEqual([]);
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it("in connect()'s arguments", () => {
    // Hosts are address literals, blank or not strings: a name would send Node to the
    // system resolver. Strings that are not numbers, which Node takes for IPC paths
    // (refused by synack), are left out of the port's place and of `path`.
    const notAName = value.filter((v) => typeof v !== "string" || v.trim() === "" || Number(v) >= 0);
    const host = fc.oneof(notAName, fc.constantFrom("127.0.0.1", "::1", ""));
    const options = fc.record(
      { port: notAName, host, localAddress: fc.oneof(notAName, fc.constant("127.0.0.1")), localPort: notAName, autoSelectFamily: value, autoSelectFamilyAttemptTimeout: value, timeout: value, path: notAName.filter((v) => typeof v !== "string"), noDelay: value, keepAlive: value, keepAliveInitialDelay: value },
      { requiredKeys: [] },
    );
    const connectArgs = fc.oneof(
      fc.tuple(notAName),
      fc.tuple(notAName, host),
      fc.tuple(notAName, host, fc.constant(listener)),
      fc.tuple(options),
      fc.tuple(options, value),
    );
    fc.assert(
      fc.property(connectArgs, (callArgs) => {
        const n = new net.Socket();
        const s = bindNet(stack).socket();
        n.on("error", () => {});
        s.on("error", () => {});
        const differences = compare(n, s, [{ method: "connect", args: callArgs }]);
        n.destroy();
        s.destroy();
        expect(differences).toEqual([]);
      }),
      // Found by this property: socket.connect() read net.connect()'s keep-alive options.
      { numRuns: RUNS * 10, examples: [[[{ port: "1000", keepAliveInitialDelay: 10n }]]] },
    );
  });

  it("in listen()'s arguments", async () => {
    // Node binds what it is told to, so every form names the loopback address: the
    // positional forms without a host, which bind every address, are left out.
    const portValue = value.filter((v) => typeof v !== "string" || v.trim() === "" || Number(v) >= 0);
    const host = fc.oneof(fc.constant("127.0.0.1"), value.filter((v) => typeof v !== "string" && !!v));
    // A backlog that cannot become a number (a symbol) passes Node's listen() and then
    // throws from its lookup callback, killing the process; synack refuses it at once.
    const backlog = value.filter((v) => {
      try {
        void Number(v);
        return true;
      } catch {
        return false;
      }
    });
    expect(() => bindNet(stack).createServer().listen({ port: 0, host: "127.0.0.1", backlog: Symbol("s") as unknown as number })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
    const options = fc.record({ port: portValue, host, backlog, ipv6Only: value, exclusive: value, signal: fc.oneof(value, fc.constant(AbortSignal.abort())) }, { requiredKeys: ["host"] });
    const listenArgs = fc.oneof(
      fc.tuple(options),
      fc.tuple(options, fc.constant(listener)),
      fc.tuple(portValue, fc.constant("127.0.0.1")),
      fc.tuple(portValue, fc.constant("127.0.0.1"), value),
      fc.tuple(portValue, fc.constant("127.0.0.1"), value, fc.constant(listener)),
    );
    await fc.assert(
      fc.asyncProperty(listenArgs, async (callArgs) => {
        const n = net.createServer();
        const s = bindNet(stack).createServer();
        n.on("error", () => {});
        s.on("error", () => {});
        const no = outcome(() => n.listen(...(callArgs as unknown as [])));
        const so = outcome(() => s.listen(...(callArgs as unknown as [])));
        await new Promise<void>((resolve) => n.close(() => resolve()));
        s.close();
        expect(sameOutcome(no, so) ? [] : [`listen(${callArgs.map(show).join(", ")}): node:net ${JSON.stringify(no)}, synack ${JSON.stringify(so)}`]).toEqual([]);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  describe("on a connected socket", () => {
    let kernelServer: net.Server;
    const accepted = new Set<net.Socket>();
    beforeAll(async () => {
      kernelServer = net.createServer((socket) => {
        accepted.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => accepted.delete(socket));
        socket.resume();
      });
      await new Promise<void>((resolve) => kernelServer.listen(0, "127.0.0.1", resolve));
    });
    afterAll(async () => {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => kernelServer.close(() => resolve()));
    });

    it("each call works on both or fails on both with one code", async () => {
      const port = (kernelServer.address() as net.AddressInfo).port;
      await fc.assert(
        fc.asyncProperty(fc.array(call, { maxLength: 10 }), async (calls) => {
          const n = net.connect(port, "127.0.0.1");
          n.on("error", () => {});
          await new Promise<void>((resolve, reject) => {
            n.once("connect", resolve);
            n.once("error", reject);
          });
          const sim = new SimDriver({ link: { delay: 5 } });
          const a = sim.addStack("a", "10.0.0.1");
          const b = sim.addStack("b", "10.0.0.2");
          const server = bindNet(b).createServer((socket) => {
            socket.on("error", () => {});
            socket.resume();
          });
          server.listen(80);
          const s = bindNet(a).connect(80, "10.0.0.2");
          s.on("error", () => {});
          await sim.sleep(50);
          expect(s.readyState).toBe("open");
          const differences = compare(n, s, calls);
          n.destroy();
          s.destroy();
          server.close();
          await sim.sleep(300_000);
          expect(differences).toEqual([]);
          expect([a.count(), b.count()]).toEqual([0, 0]);
        }),
        { numRuns: RUNS },
      );
    });
  });
});
