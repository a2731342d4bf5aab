/**
 * Node's own http module over synack, in the simulator: an http.Server fed synack sockets
 * answers http.request calls whose connections are synack sockets. A 10 MB body must
 * arrive intact, across a lossy path, and keep-alive requests must reuse one connection.
 */
import { createHash } from "node:crypto";
import * as http from "node:http";
import * as nodeNet from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SimDriver, type Stack } from "../../src/api/index.js";
import type { LinkConfig } from "../../src/sim/index.js";
import type { Connection } from "../../src/tcp/connection.js";
import { SynackAgent } from "../../src/node/http-agent.js";
import { bindNet, type Server, type Socket } from "../../src/node/net.js";

const BODY_SIZE = 10 * 1024 * 1024;

/** A deterministic 10 MB body (not all zeros, so a misplaced segment changes the hash). */
function bigBody(): Buffer {
  const b = Buffer.alloc(BODY_SIZE);
  let x = 0x12345678;
  for (let i = 0; i < b.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

interface Bench {
  sim: SimDriver;
  client: Stack;
  server: Stack;
  listener: Server;
  httpServer: http.Server;
  accepted: Socket[];
}

function bench(handler: http.RequestListener, link: LinkConfig = { delay: 5 }): Bench {
  const sim = new SimDriver({ seed: 11, link });
  const client = sim.addStack("client", "10.0.0.1");
  const server = sim.addStack("server", "10.0.0.2");
  const httpServer = http.createServer(handler);
  const accepted: Socket[] = [];
  const listener = bindNet(server).createServer((socket) => {
    accepted.push(socket);
    httpServer.emit("connection", socket);
  });
  listener.listen(80);
  return { sim, client, server, listener, httpServer, accepted };
}

function request(options: http.RequestOptions, body?: Buffer): Promise<{ res: http.IncomingMessage; data: Buffer; localPort: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      const parts: Buffer[] = [];
      // Read now: a keep-alive socket is detached from the response once it ends.
      const localPort = res.socket.localPort;
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => resolve({ res, data: Buffer.concat(parts), localPort }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("node:http over synack (simulator)", () => {
  // Safety net: the simulated hosts have 10.x addresses; a request that silently fell back
  // to node:net would leave this machine. Any real connect() in this file fails instead.
  beforeAll(() => {
    vi.spyOn(nodeNet.Socket.prototype, "connect").mockImplementation(() => {
      throw new Error("a real node:net connection was attempted: the request did not go over synack");
    });
  });
  afterAll(() => {
    vi.restoreAllMocks();
  });

  it("a 10 MB response body arrives intact over a path with 1% loss", async () => {
    const body = bigBody();
    const b = bench((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) });
      res.end(body);
    }, { delay: 5, loss: 0.01 });
    const clientNet = bindNet(b.client);
    const { res, data } = await request({
      host: "10.0.0.2",
      port: 80,
      path: "/big",
      // No agent (not agent: false, which makes a default Agent that ignores createConnection).
      createConnection: () => clientNet.connect({ port: 80, host: "10.0.0.2" }),
    });
    expect(res.statusCode).toBe(200);
    expect(data.length).toBe(body.length);
    expect(sha256(data)).toBe(sha256(body));
    const retransmits = b.accepted[0]?.inspectConnection()?.retransmits ?? 0;
    expect(retransmits).toBeGreaterThan(0); // the loss really happened and TCP recovered
    b.listener.close();
    b.httpServer.close();
  });

  it("a 10 MB request body is uploaded intact (server hashes what it read)", async () => {
    const body = bigBody();
    const b = bench((req, res) => {
      const hash = createHash("sha256");
      let n = 0;
      req.on("data", (d: Buffer) => {
        hash.update(d);
        n += d.length;
      });
      req.on("end", () => res.end(JSON.stringify({ n, sha: hash.digest("hex") })));
    });
    const agent = new SynackAgent(b.client);
    const { res, data } = await request({ host: "10.0.0.2", port: 80, method: "POST", path: "/upload", agent }, body);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(data.toString())).toEqual({ n: body.length, sha: sha256(body) });
    agent.destroy();
    b.listener.close();
    b.httpServer.close();
  });

  it("the agent's connections get the options Node's http.Agent gives net.connect: TCP_NODELAY on, keep-alive with keepAliveMsecs", async () => {
    const b = bench((_req, res) => res.end("ok"));
    const opened: Connection[] = [];
    const open = b.client.openConnection.bind(b.client);
    vi.spyOn(b.client, "openConnection").mockImplementation((p) => {
      const conn = open(p);
      opened.push(conn);
      return conn;
    });
    const seen: { noDelay: boolean; keepAlive: boolean }[] = [];
    const check = async (agent: SynackAgent): Promise<void> => {
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ host: "10.0.0.2", port: 80, path: "/", agent }, (res) => {
          const conn = opened[opened.length - 1]!;
          seen.push({ noDelay: conn.noDelay, keepAlive: conn.keepAlive });
          res.resume();
          res.on("end", resolve);
        });
        req.on("error", reject);
        req.end();
      });
      agent.destroy();
    };
    await check(new SynackAgent(b.client));
    await check(new SynackAgent(b.client, { noDelay: false }));
    await check(new SynackAgent(b.client, { keepAlive: true, keepAliveMsecs: 3000 }));
    // Node 18+ turns Nagle off for http (Agent's noDelay default); Nagle held a request
    // body written after its headers until the server's ACK.
    expect(seen).toEqual([
      { noDelay: true, keepAlive: false },
      { noDelay: false, keepAlive: false },
      { noDelay: true, keepAlive: true },
    ]);
    b.listener.close();
    b.httpServer.close();
  });

  it("keep-alive requests reuse one synack connection", async () => {
    const b = bench((req, res) => res.end(`you asked for ${req.url}`));
    const agent = new SynackAgent(b.client, { keepAlive: true, maxSockets: 1 });
    const localPorts = new Set<number | undefined>();
    for (let i = 0; i < 5; i++) {
      const { data, localPort } = await request({ host: "10.0.0.2", port: 80, path: `/r${i}`, agent });
      expect(data.toString()).toBe(`you asked for /r${i}`);
      localPorts.add(localPort);
    }
    expect(localPorts.size).toBe(1);
    expect(b.accepted.length).toBe(1);
    expect(b.server.count("ESTABLISHED")).toBe(1);
    agent.destroy();
    b.listener.close();
    b.httpServer.close();
  });
});
