/**
 * Host names in connect() on both socket APIs, in the simulator: a dual-stack client whose
 * stack asks a fake DNS server host, a dual-stack server, and RFC 8305's race between them.
 * DNS answers take 10 ms (5 ms each way), so attempts start at 10 ms.
 */
import { createServer, get, type RequestOptions } from "node:http";
import { describe, expect, it } from "vitest";
import { SimDriver } from "../../src/api/index.js";
import { bindNet, type Socket } from "../../src/node/net.js";
import { SynackAgent } from "../../src/node/http-agent.js";
import { dropAll } from "../../src/sim/rules.js";
import { fakeDns, type Zone } from "./fake-server.js";

const ZONE: Zone = {
  "web.test": { a: ["10.0.0.2"], aaaa: ["fd00::2"] },
  "v4.test": { a: ["10.0.0.2"] },
};

function world(opts: { blackhole6?: boolean } = {}) {
  const sim = new SimDriver({ link: { delay: 5 } });
  const client = sim.addStack("client", ["10.0.0.1", "fd00::1"], { dns: { servers: ["10.0.0.53"] } });
  const server = sim.addStack("server", ["10.0.0.2", "fd00::2"]);
  const dns = sim.addStack("dns", "10.0.0.53");
  const fake = fakeDns(dns, ZONE);
  // An IPv6 path that swallows every packet: the case Happy Eyeballs exists for.
  if (opts.blackhole6 === true) sim.network.setPath("client", "server", { delay: 5, filter: dropAll((p) => p[0]! >> 4 === 6) });
  const srv = bindNet(server).createServer((s) => s.end("hello"));
  srv.listen(80);
  return { sim, client, server, fake, net: bindNet(client) };
}

function outcome(s: Socket, now: () => number): Promise<{ event: string; at: number; code?: string; message?: string; family?: string; address?: string }> {
  return new Promise((resolve) => {
    s.once("connect", () => resolve({ event: "connect", at: now(), family: s.remoteFamily!, address: s.remoteAddress! }));
    s.once("error", (e: Error & { code?: string }) => resolve({ event: "error", at: now(), code: e.code!, message: e.message }));
  });
}

describe("node:net connect() by name over the stub resolver", () => {
  it("both families work: IPv6 wins; IPv4 is never tried", async () => {
    const w = world();
    const lookups: unknown[] = [];
    const s = w.net.connect({ port: 80, host: "web.test" });
    s.on("lookup", (err, address, family, host) => lookups.push([err, address, family, host]));
    const r = await outcome(s, () => w.sim.now());
    expect(r).toEqual({ event: "connect", at: 20, family: "IPv6", address: "fd00::2" });
    expect(lookups).toEqual([[null, "fd00::2", 6, "web.test"]]);
    expect(w.fake.queries.map((q) => q.type)).toEqual([28, 1]);
    s.destroy();
  });

  it("IPv6 blackholed: IPv4 starts 250 ms after IPv6 and wins; the IPv6 attempt is dropped", async () => {
    const w = world({ blackhole6: true });
    const s = w.net.connect({ port: 80, host: "web.test" });
    const r = await outcome(s, () => w.sim.now());
    expect(r).toEqual({ event: "connect", at: 270, family: "IPv4", address: "10.0.0.2" });
    const body = await new Promise<string>((resolve) => {
      let text = "";
      s.on("data", (d: Buffer) => (text += d.toString()));
      s.on("end", () => resolve(text));
    });
    expect(body).toBe("hello");
    // The losing attempt was closed in SYN_SENT: no connection is left towards fd00::2.
    expect(w.client.table().filter((row) => row.remoteAddress === "fd00::2")).toEqual([]);
  });

  it("autoSelectFamilyAttemptTimeout sets the Connection Attempt Delay", async () => {
    const w = world({ blackhole6: true });
    const s = w.net.connect({ port: 80, host: "web.test", autoSelectFamilyAttemptTimeout: 500 });
    expect((await outcome(s, () => w.sim.now())).at).toBe(520);
    s.destroy();
  });

  it("family: 4 and autoSelectFamily: false connect to one IPv4 address", async () => {
    const w = world();
    const s = w.net.connect({ port: 80, host: "web.test", family: 4, autoSelectFamily: false });
    expect(await outcome(s, () => w.sim.now())).toMatchObject({ event: "connect", family: "IPv4" });
    expect(w.fake.queries.map((q) => q.type)).toEqual([1]);
    s.destroy();
  });

  it("an A-only name connects over IPv4 without waiting for anything", async () => {
    const w = world();
    const s = w.net.connect({ port: 80, host: "v4.test" });
    expect(await outcome(s, () => w.sim.now())).toEqual({ event: "connect", at: 20, family: "IPv4", address: "10.0.0.2" });
    s.destroy();
  });

  it("a name that does not exist: 'error' getaddrinfo ENOTFOUND, never a throw", async () => {
    const w = world();
    let s: Socket | undefined;
    expect(() => (s = w.net.connect({ port: 80, host: "nope.test" }))).not.toThrow();
    const r = await outcome(s!, () => w.sim.now());
    // At 10 ms, when the answer arrives: it came only at the next timer, 5 s on, before.
    expect(r).toMatchObject({ event: "error", code: "ENOTFOUND", message: "getaddrinfo ENOTFOUND nope.test", at: 10 });
  });

  it("a silent DNS server: getaddrinfo EAI_AGAIN after 2 attempts of 5 s", async () => {
    const w = world();
    w.fake.script.push("silent", "silent", "silent", "silent");
    const r = await outcome(w.net.connect({ port: 80, host: "web.test" }), () => w.sim.now());
    expect(r).toMatchObject({ event: "error", code: "EAI_AGAIN", message: "getaddrinfo EAI_AGAIN web.test" });
    expect(r.at).toBe(10_000);
  });

  it("every address refused: an AggregateError whose code is the first attempt's", async () => {
    const w = world();
    const r = await outcome(w.net.connect({ port: 81, host: "web.test" }), () => w.sim.now());
    expect(r).toMatchObject({ event: "error", code: "ECONNREFUSED" });
  });

  it("bytes written while the name resolves wait for the connection, as node:net's do", async () => {
    const w = world();
    const got = new Promise<string>((resolve) => {
      bindNet(w.server).createServer((peer) => {
        let text = "";
        peer.on("data", (d: Buffer) => (text += d.toString()));
        peer.on("end", () => resolve(text));
      }).listen(8080);
    });
    const s = w.net.connect({ port: 8080, host: "web.test" });
    s.end("GET / HTTP/1.0\r\n\r\n");
    expect(await got).toBe("GET / HTTP/1.0\r\n\r\n");
  });

  it("localhost is answered without a query and reached over the stack's own loopback, sending nothing to the link", async () => {
    const w = world();
    // Nobody listens on the client's port 80: both attempts are refused at once, by itself.
    const refused = w.net.connect({ port: 80, host: "localhost" });
    const tried: string[] = [];
    refused.on("lookup", (_e, address: string) => tried.push(address));
    expect(await outcome(refused, () => w.sim.now())).toMatchObject({ event: "error", code: "ECONNREFUSED", at: 0 });
    expect(tried).toEqual(["::1", "127.0.0.1"]);
    // A server of its own on port 80: ::1 answers first, as on Linux.
    await new Promise<void>((resolve) => w.net.createServer((c) => c.end("local")).listen(80, resolve));
    const s = w.net.connect({ port: 80, host: "localhost" });
    expect(await outcome(s, () => w.sim.now())).toEqual({ event: "connect", at: 0, family: "IPv6", address: "::1" });
    s.destroy();
    expect(w.fake.queries).toEqual([]);
    expect(w.client.host.counters.packetsOut).toBe(0);
  });

  it("destroy() while resolving stops the lookup: no connection is made", async () => {
    const w = world();
    w.fake.delay[1] = 100;
    w.fake.delay[28] = 100;
    const s = w.net.connect({ port: 80, host: "web.test" });
    await w.sim.sleep(50);
    s.destroy();
    await w.sim.sleep(500);
    expect(w.client.table()).toEqual([]);
  });
});

describe("Web Streams connect({ hostname }) by name", () => {
  it("resolves through the stack's DNS servers and reads the server's bytes", async () => {
    const w = world({ blackhole6: true });
    const sock = w.client.connect({ hostname: "web.test", port: 80 });
    const info = await sock.opened;
    expect([info.remoteAddress, w.sim.now()]).toEqual(["10.0.0.2", 270]);
    const reader = info.readable.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe("hello");
    reader.releaseLock();
    await sock.close();
  });

  it("a name that does not exist rejects opened with ENOTFOUND", async () => {
    const w = world();
    const sock = w.client.connect({ hostname: "nope.test", port: 80 });
    await expect(sock.opened).rejects.toMatchObject({ code: "ENOTFOUND" });
    expect(w.sim.now()).toBe(10);
  });
});

describe("Node's http over synack by name", () => {
  function httpWorld() {
    const w = world();
    const app = createServer((req, res) => res.end(`${req.headers.host} via ${req.socket.remoteFamily}`));
    bindNet(w.server).createServer((socket) => app.emit("connection", socket)).listen(8000);
    return { ...w, agent: new SynackAgent(w.client) };
  }
  const fetchText = (options: RequestOptions): Promise<string> =>
    new Promise((resolve, reject) => {
      get(options, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve(text));
      }).on("error", reject);
    });

  it("http.get resolves through the stack's DNS servers; family and lookup reach the connection", async () => {
    const w = httpWorld();
    expect(await fetchText({ host: "web.test", port: 8000, agent: w.agent })).toBe("web.test:8000 via IPv6");
    expect(await fetchText({ host: "web.test", port: 8000, agent: w.agent, family: 4 })).toBe("web.test:8000 via IPv4");
    const asked: unknown[] = [];
    const lookup = (name: string, opts: object, cb: (e: Error | null, a: Array<{ address: string; family: number }>) => void): void => {
      asked.push([name, opts]);
      cb(null, [{ address: "10.0.0.2", family: 4 }]);
    };
    expect(await fetchText({ host: "elsewhere.test", port: 8000, agent: w.agent, lookup: lookup as never })).toBe("elsewhere.test:8000 via IPv4");
    expect(asked).toEqual([["elsewhere.test", { all: true }]]);
    w.agent.destroy();
  });

  it("http's autoSelectFamilyAttemptTimeout reaches the race", async () => {
    const w = httpWorld();
    w.sim.network.setPath("client", "server", { delay: 5, filter: dropAll((p) => p[0]! >> 4 === 6) });
    const text = await fetchText({ host: "web.test", port: 8000, agent: w.agent, autoSelectFamilyAttemptTimeout: 700 } as RequestOptions);
    expect(text).toBe("web.test:8000 via IPv4");
    // DNS 10 ms, IPv4 starts at 710 ms, handshake 10 ms, request and reply 10 ms.
    expect(w.sim.now()).toBeGreaterThanOrEqual(730);
    expect(w.sim.now()).toBeLessThan(800);
    w.agent.destroy();
  });
});
