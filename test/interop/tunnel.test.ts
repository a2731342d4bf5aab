/**
 * Two synack stacks joined by the UDP tunnel on loopback (no root needed), and the pieces
 * the services rely on: the /bytes/N pattern and HTTP body framing.
 */
import { createHash, randomFillSync } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoService } from "../../src/node/services/echo.js";
import { BodyReader, httpRequest, httpService } from "../../src/node/services/http.js";
import { LiveStack } from "../../src/node/services/live.js";
import { fillPattern, patternByte, patternBytes } from "../../src/node/services/pattern.js";
import { runTunnel, type CliIo } from "../../src/node/tun-cli.js";
import { parseHostPort, UdpTunnel } from "../../src/node/udp-tunnel.js";
import { parseIpv4Address } from "../../src/wire/ipv4.js";
import { parseIpAddress } from "../../src/wire/address.js";
import { MIB, patternSha } from "./harness.js";

const A = parseIpv4Address("10.7.40.1")!;
const B = parseIpv4Address("10.7.40.2")!;

describe("the /bytes/N pattern", () => {
  it("is the same bytes whatever the chunking and alignment", () => {
    const whole = patternBytes(0, 4096);
    for (const [off, len] of [[0, 1], [1, 7], [3, 100], [1000, 1001], [4093, 3]] as const) {
      expect(patternBytes(off, len)).toEqual(whole.subarray(off, off + len));
      expect(fillPattern(new Uint8Array(len), off)).toEqual(whole.subarray(off, off + len));
    }
    expect(patternByte(4095)).toBe(whole[4095]);
  });

  it("does not repeat with a short period", () => {
    expect(patternBytes(0, 65536)).not.toEqual(patternBytes(65536, 65536));
    expect(patternBytes(0, 64)).not.toEqual(patternBytes(1 << 20, 64));
  });
});

describe("HTTP body framing", () => {
  const read = (framing: "length" | "chunked", length: number, parts: string[]): { body: string; used: number[]; done: boolean } => {
    let body = "";
    const r = new BodyReader(framing, length, (c) => (body += new TextDecoder().decode(c)));
    const used = parts.map((p) => r.feed(new TextEncoder().encode(p)));
    return { body, used, done: r.done };
  };

  it("reads chunked bodies split anywhere, and stops at their end", () => {
    const wire = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (let cut = 1; cut < wire.length; cut += 3) {
      const { body, used, done } = read("chunked", 0, [wire.slice(0, cut), wire.slice(cut)]);
      expect(body).toBe("Wikipedia in\r\n\r\nchunks.");
      expect(done).toBe(true);
      expect(used[0]! + used[1]!).toBe(wire.length - "NEXT".length);
    }
  });

  it("rejects a bad chunk size", () => {
    expect(() => read("chunked", 0, ["zz\r\n"])).toThrow(/chunk size/);
  });

  it("reads exactly Content-Length bytes", () => {
    const { body, used, done } = read("length", 5, ["hel", "loEXTRA"]);
    expect(body).toBe("hello");
    expect(used).toEqual([3, 2]);
    expect(done).toBe(true);
  });
});

describe("two synack stacks over the UDP tunnel (loopback)", () => {
  let ta: UdpTunnel;
  let tb: UdpTunnel;
  let a: LiveStack;
  let b: LiveStack;

  beforeAll(async () => {
    // A learns its peer from B's first datagram; B is told A's port.
    ta = await UdpTunnel.open({ listen: { host: "127.0.0.1", port: 0 } });
    tb = await UdpTunnel.open({ listen: { host: "127.0.0.1", port: 0 }, peer: { host: "127.0.0.1", port: ta.local.port } });
    // Dual-stack: 10.7.40.x and fd07:40::x on the one tunnel, which carries IP of either family.
    const ifs = (v4: number, v6: string) => [{ name: "t0", address: v4, prefixLength: 24 }, { name: "t1", address: parseIpAddress(v6)!, prefixLength: 64 }];
    a = new LiveStack({ link: ta, address: A, interfaces: ifs(A, "fd07:40::1"), name: "a" });
    b = new LiveStack({ link: tb, address: B, interfaces: ifs(B, "fd07:40::2"), name: "b" });
    httpService(a, 80);
    echoService(a, 7);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("fetches 16 MiB with an equal SHA-256", async () => {
    const res = await httpRequest(b, `http://10.7.40.1/bytes/${16 * MIB}`, { timeoutMs: 30_000 });
    expect(res.status).toBe(200);
    expect(res.length).toBe(16 * MIB);
    expect(res.sha256).toBe(patternSha(16 * MIB));
    expect(ta.remote).toEqual({ host: "127.0.0.1", port: tb.local.port });
  }, 40_000);

  it("fetches 4 MiB over IPv6 through the same tunnel", async () => {
    const res = await httpRequest(b, `http://[fd07:40::1]/bytes/${4 * MIB}`, { timeoutMs: 30_000 });
    expect(res.status).toBe(200);
    expect(res.sha256).toBe(patternSha(4 * MIB));
    expect(b.host.tcp.allConnections().some((c) => c.tuple.remoteAddr.toString() === "fd07:40::1")).toBe(true);
  }, 40_000);

  it("POSTs 4 MiB and gets its length and SHA-256 back", async () => {
    const body = new Uint8Array(4 * MIB);
    randomFillSync(body);
    const chunks: Uint8Array[] = [];
    const res = await httpRequest(b, "http://10.7.40.1/upload", { body, onBody: (c) => chunks.push(c), timeoutMs: 30_000 });
    expect(res.status).toBe(200);
    expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({ length: body.length, sha256: createHash("sha256").update(body).digest("hex") });
  }, 40_000);

  it("echoes 1 MiB with a half-close from the client", async () => {
    const data = new Uint8Array(MIB);
    randomFillSync(data);
    const back = await new Promise<Buffer>((resolve, reject) => {
      const sock = b.connect(A, 7);
      const parts: Uint8Array[] = [];
      sock.onData = (c) => parts.push(c);
      sock.onEnd = () => {
        sock.close();
        resolve(Buffer.concat(parts));
      };
      sock.onClose = (e) => e !== undefined && reject(e);
      sock.write(data);
      sock.end();
    });
    expect(back.equals(data)).toBe(true);
  }, 20_000);

  it("drops datagrams that do not come from the peer", async () => {
    const before = ta.foreignDrops;
    const stranger = createSocket("udp4");
    await new Promise<void>((resolve) => stranger.send(new Uint8Array(40), ta.local.port, "127.0.0.1", () => resolve()));
    const deadline = Date.now() + 2000;
    while (ta.foreignDrops === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    stranger.close();
    expect(ta.foreignDrops).toBe(before + 1);
  });

  it("parses host:port, IPv6 in brackets, and rejects the rest", () => {
    expect(parseHostPort("127.0.0.1:7001")).toEqual({ host: "127.0.0.1", port: 7001 });
    expect(parseHostPort("[::1]:9")).toEqual({ host: "::1", port: 9 });
    expect(() => parseHostPort("127.0.0.1")).toThrow();
    expect(() => parseHostPort("h:70000")).toThrow();
  });
});

describe("synack tunnel (the program)", () => {
  it("serves HTTP in one instance and fetches it with --get in another", async () => {
    const probe = await UdpTunnel.open({ listen: { host: "127.0.0.1", port: 0 } });
    const port = probe.local.port;
    await probe.close();
    const serverOut: string[] = [];
    const stop = new AbortController();
    const serverIo: CliIo = { stdout: { write: (s) => serverOut.push(String(s)) }, stderr: { write: (s) => serverOut.push(s) }, signal: stop.signal, onTableRequest: () => () => {} };
    const server = runTunnel(["--listen", `127.0.0.1:${port}`, "--addr", "10.7.41.1/24", "--http", "80"], serverIo);
    await new Promise((r) => setTimeout(r, 200));
    const clientOut: string[] = [];
    const clientIo: CliIo = { stdout: { write: (s) => clientOut.push(String(s)) }, stderr: { write: (s) => clientOut.push(s) }, onTableRequest: () => () => {} };
    const code = await runTunnel(["--listen", "127.0.0.1:0", "--peer", `127.0.0.1:${port}`, "--addr", "10.7.41.2/24", "--no-batch", "--get", "http://10.7.41.1/bytes/1000000"], clientIo);
    stop.abort();
    expect(await server).toBe(0);
    expect(code).toBe(0);
    expect(clientOut.join("")).toContain(`200 OK, 1000000 bytes`);
    expect(clientOut.join("")).toContain(`sha256 ${patternSha(1_000_000)}`);
    expect(serverOut.join("")).toContain("http on 10.7.41.1:80");
    // The server batches (Linux), the client was told not to: the two interoperate.
    if (process.platform === "linux") expect(serverOut.join("")).toMatch(/mtu 1400, batched\)/);
    expect(clientOut.join("")).toMatch(/mtu 1400, node:dgram\)/);
  }, 20_000);

  it("--web streams the stack's trace to the live view: hello, the newest messages within the history cap, snapshots", async () => {
    const dir = mkdtempSync(join(tmpdir(), "synack-tunnel-web-"));
    writeFileSync(join(dir, "index.html"), "<html><head></head><body></body></html>");
    const probe = await UdpTunnel.open({ listen: { host: "127.0.0.1", port: 0 } });
    const port = probe.local.port;
    await probe.close();
    const out: string[] = [];
    const stop = new AbortController();
    const io: CliIo = { stdout: { write: (s) => out.push(String(s)) }, stderr: { write: (s) => out.push(s) }, signal: stop.signal, onTableRequest: () => () => {} };
    const server = runTunnel(["--listen", `127.0.0.1:${port}`, "--addr", "10.7.42.1/24", "--http", "80", "--web", "0", "--web-dir", dir, "--web-history", "500"], io);
    try {
      for (let i = 0; i < 50 && !/live view on http:\/\/127\.0\.0\.1:\d+\//.test(out.join("")); i++) await new Promise((r) => setTimeout(r, 100));
      const url = /live view on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out.join(""))![1]!;
      const quiet: CliIo = { stdout: { write: () => {} }, stderr: { write: () => {} }, onTableRequest: () => () => {} };
      expect(await runTunnel(["--listen", "127.0.0.1:0", "--peer", `127.0.0.1:${port}`, "--addr", "10.7.42.2/24", "--get", "http://10.7.42.1/bytes/300000"], quiet)).toBe(0);
      // Read the history as a page that opens now would.
      const ctrl = new AbortController();
      const res = await fetch(`${url}live/events`, { signal: ctrl.signal });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      // Until the last message kept when the page connected (the hello says which).
      const lastId = (): number | undefined => {
        const m = /"last":(\d+)/.exec(text);
        return m === null ? undefined : Number(m[1]);
      };
      while (lastId() === undefined || !text.includes(`id: ${lastId()}\n`)) text += (await reader.read()).value ?? "";
      ctrl.abort();
      const messages = text.split("\n\n").flatMap((f) => f.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)) as { kind: string; [k: string]: unknown }));
      expect(messages[0]).toMatchObject({ kind: "hello", host: "synack", peerName: "peer", addresses: ["10.7.42.1"], history: { maxMessages: 500 } });
      // 300 kB is more than 500 messages: the oldest were dropped, the newest kept.
      expect((messages[0]!["history"] as { dropped: number }).dropped).toBeGreaterThan(0);
      expect(messages.filter((m) => m.kind !== "hello").length).toBeLessThanOrEqual(500);
      expect(messages.some((m) => m.kind === "packet")).toBe(true);
      expect(messages.some((m) => m.kind === "snapshot")).toBe(true);
      // The connection's end is among the newest: the server's state machine reached CLOSED or TIME_WAIT.
      const states = messages.filter((m) => m.kind === "event" && (m["event"] as { type: string }).type === "state").map((m) => (m["event"] as { to: string }).to);
      expect(["CLOSED", "TIME_WAIT"]).toContain(states[states.length - 1]);
    } finally {
      stop.abort();
      expect(await server).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it("--web without a built page says how to build it and exits with 2", async () => {
    const err: string[] = [];
    const code = await runTunnel(["--listen", "127.0.0.1:0", "--addr", "10.7.43.1/24", "--web", "0", "--web-dir", join(tmpdir(), "no-such-synack-build")], { stdout: { write: () => {} }, stderr: { write: (s) => err.push(s) } });
    expect(code).toBe(2);
    expect(err.join("")).toContain("run `npm run build:web`");
  });

  it("explains a missing option, points to --help rather than printing the whole usage, and exits with 2", async () => {
    const err: string[] = [];
    const code = await runTunnel(["--listen", "127.0.0.1:0"], { stdout: { write: () => {} }, stderr: { write: (s) => err.push(s) } });
    expect(code).toBe(2);
    expect(err.join("")).toBe(`synack: --addr is required (synack's address inside the tunnel, e.g. 10.7.0.2/24)\nRun "synack tunnel --help" for usage.\n`);
  });
});
