/**
 * synack against the Linux kernel's TCP over a real TUN device, in both roles.
 *
 * Topology: a namespace holding the kernel side of a TUN device (10.7.21.1/24) where
 * curl and python peers run; synack (10.7.21.2) runs in this test process and reads the
 * device's other end. Transfers are 64 MiB unless SYNACK_INTEROP_MIB says otherwise.
 */
import { createHash, randomFillSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discardService } from "../../src/node/services/discard.js";
import { echoService } from "../../src/node/services/echo.js";
import { HttpClientError, httpRequest, httpService } from "../../src/node/services/http.js";
import type { LiveSocket } from "../../src/node/services/live.js";
import { parseIpv4Address } from "../../src/wire/ipv4.js";
import { envMib, interopGate, MIB, patternSha, peer, PEER_PY, runIn, startIn, synackOnTun, until, type SynackOnTun } from "./harness.js";

const gate = interopGate();
const BULK = Math.round(envMib("SYNACK_INTEROP_MIB", 64) * MIB);

describe.skipIf(gate.skip)("synack and the Linux kernel over TUN", () => {
  let s: SynackOnTun;
  let tmp: string;

  beforeAll(async () => {
    if (gate.reason !== undefined) throw new Error(`SYNACK_REQUIRE_TUN=1 but the interop suite cannot run: ${gate.reason}`);
    tmp = mkdtempSync(join(tmpdir(), "synack-interop-"));
    s = await synackOnTun({ subnet: 21, trace: true, label: "kern" });
    httpService(s.stack, 80);
    echoService(s.stack, 7);
    discardService(s.stack, 9);
  }, 30_000);

  afterAll(async () => {
    await s?.close();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  const url = (path: string): string => `http://${s.synackIp}${path}`;
  const kernel = (): number => parseIpv4Address(s.kernelIp)!;

  describe("the kernel as client (curl)", () => {
    it("fetches GET /", async () => {
      const r = await runIn(s.netns, ["curl", "-sS", "--fail", "-m", "10", url("/")]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("synack HTTP server");
    });

    it(`fetches ${BULK / MIB} MiB with an equal SHA-256`, async () => {
      const r = await runIn(s.netns, ["sh", "-c", `curl -sS --fail -m 120 ${url(`/bytes/${BULK}`)} | sha256sum`], 130_000);
      expect(r.stderr).toBe("");
      expect(r.stdout.split(" ")[0]).toBe(patternSha(BULK));
    }, 140_000);

    it(`POSTs ${BULK / MIB} MiB and synack hashes the same bytes`, async () => {
      const file = join(tmp, "post.bin");
      const body = new Uint8Array(BULK);
      for (let off = 0; off < BULK; off += 65536) randomFillSync(body, off, Math.min(65536, BULK - off));
      writeFileSync(file, body);
      const sha = createHash("sha256").update(body).digest("hex");
      const r = await runIn(s.netns, ["curl", "-sS", "--fail", "-m", "120", "-H", "Content-Type: application/octet-stream", "--data-binary", `@${file}`, url("/upload")], 130_000);
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({ length: BULK, sha256: sha });
    }, 140_000);
  });

  describe("synack as client", () => {
    it(`fetches ${BULK / MIB} MiB from python3 -m http.server with an equal SHA-256`, async () => {
      const dir = join(tmp, "www");
      const body = new Uint8Array(BULK);
      for (let off = 0; off < BULK; off += 65536) randomFillSync(body, off, Math.min(65536, BULK - off));
      rmSync(dir, { recursive: true, force: true });
      (await import("node:fs")).mkdirSync(dir);
      writeFileSync(join(dir, "big.bin"), body);
      const server = await startIn(s.netns, ["python3", "-u", "-m", "http.server", "--bind", "0.0.0.0", "--directory", dir, "8000"], /Serving HTTP/);
      try {
        const res = await httpRequest(s.stack, `http://${s.kernelIp}:8000/big.bin`, { timeoutMs: 120_000 });
        expect(res.status).toBe(200);
        expect(res.length).toBe(BULK);
        expect(res.sha256).toBe(createHash("sha256").update(body).digest("hex"));
      } finally {
        server.stop();
      }
    }, 140_000);
  });

  describe("closing", () => {
    it("the kernel half-closes first and keeps reading: the echo comes back whole, then EOF", async () => {
      const r = await peer<{ sent: number; sentSha: string; received: number; receivedSha: string }>(s.netns, ["echo-halfclose", s.synackIp, 7, 4 * MIB]);
      expect(r.received).toBe(r.sent);
      expect(r.receivedSha).toBe(r.sentSha);
    }, 60_000);

    it("synack half-closes first and keeps reading: the kernel's answer arrives after synack's FIN", async () => {
      const sink = await startIn(s.netns, ["python3", "-u", PEER_PY, "sink", "7001", "--reply"], /ready/);
      try {
        const data = new Uint8Array(2 * MIB);
        randomFillSync(data);
        const answer = await new Promise<string>((resolve, reject) => {
          const sock = s.stack.connect(kernel(), 7001);
          let text = "";
          sock.onData = (c) => (text += new TextDecoder().decode(c));
          sock.onEnd = () => {
            resolve(text);
            sock.close();
          };
          sock.onClose = (e) => e !== undefined && reject(e);
          sock.write(data);
          sock.end();
        });
        expect(answer.trim()).toBe(`${data.length} ${createHash("sha256").update(data).digest("hex")}`);
      } finally {
        sink.stop();
      }
    }, 60_000);

    it("the kernel closes first: synack goes CLOSE_WAIT -> LAST_ACK -> CLOSED and the kernel holds TIME_WAIT", async () => {
      let sock: LiveSocket | undefined;
      const states: string[] = [];
      const listener = s.stack.listen(7002, (x) => {
        sock = x;
        x.onData = () => {};
        x.onEnd = () => {
          states.push(x.state);
          x.end();
        };
        x.onClose = (e) => states.push(e === undefined ? "CLOSED" : `CLOSED ${e.code}`);
      });
      try {
        const r = await peer<{ closed: boolean }>(s.netns, ["close-first", s.synackIp, 7002]);
        expect(r.closed).toBe(true);
        await until(() => states.includes("CLOSED"), 5000, "synack's side to close");
        expect(states).toEqual(["CLOSE_WAIT", "CLOSED"]);
        expect(sock!.conn.error).toBeUndefined();
        const ss = await runIn(s.netns, ["ss", "-tan", "state", "time-wait"]);
        expect(ss.stdout).toContain(`${s.synackIp}:7002`);
      } finally {
        s.stack.host.tcp.closeListener(listener);
      }
    }, 30_000);

    it("synack closes first: the kernel reads EOF, synack passes FIN_WAIT_2 and holds TIME_WAIT", async () => {
      // The kernel closes 0.5 s after the EOF, so its ACK of our FIN leaves alone (no FIN_WAIT_1 -> TIME_WAIT shortcut).
      const sink = await startIn(s.netns, ["python3", "-u", PEER_PY, "sink", "7003", "--close-delay", "0.5"], /ready/);
      try {
        const sock = s.stack.connect(kernel(), 7003);
        await new Promise<void>((resolve) => (sock.onConnect = resolve));
        sock.write(new TextEncoder().encode("hello kernel\n"));
        sock.close();
        const line = await sink.waitFor(/received/);
        expect(JSON.parse(line)).toMatchObject({ received: 13 });
        await until(() => sock.conn.state === "TIME_WAIT", 5000, "TIME_WAIT");
        const states = s.events.filter((e) => e.type === "state" && e.tuple.localPort === sock.conn.tuple.localPort && e.tuple.remotePort === 7003).map((e) => (e.type === "state" ? e.to : ""));
        expect(states).toEqual(["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]);
        expect(sock.conn.error).toBeUndefined();
      } finally {
        sink.stop();
      }
    }, 30_000);
  });

  describe("refused connections", () => {
    it("synack connecting to a closed kernel port gets ECONNREFUSED", async () => {
      const err = await httpRequest(s.stack, `http://${s.kernelIp}:7999/`, { timeoutMs: 10_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HttpClientError);
      expect((err as HttpClientError).code).toBe("ECONNREFUSED");
    });

    it("synack connecting to an address the kernel has no route for fails with EHOSTUNREACH (ICMP host unreachable), not after the SYN retries", async () => {
      // In the test's own namespace: forward, and answer 10.9.9.0/24 with "host unreachable" (ip-route(8) type unreachable).
      const setup = await runIn(s.netns, ["sh", "-c", "sysctl -qw net.ipv4.ip_forward=1 && ip route replace unreachable 10.9.9.0/24"]);
      expect(setup.code).toBe(0);
      // Without ICMP handling the connect would wait out its SYN retries (over two minutes): the timeout here would say ETIMEDOUT.
      const err = await httpRequest(s.stack, "http://10.9.9.9/", { timeoutMs: 10_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HttpClientError);
      expect((err as HttpClientError).code).toBe("EHOSTUNREACH");
    });

    it("the kernel connecting to a closed synack port is refused", async () => {
      const r = await peer<{ result: string }>(s.netns, ["connect", s.synackIp, 7998]);
      expect(r.result).toBe("refused");
    });
  });

  describe("many connections", () => {
    it("200 concurrent kernel clients each get their echo", async () => {
      const r = await peer<{ ok: number; count: number; errors: string[] }>(s.netns, ["many", s.synackIp, 7, 200, 20_000], 90_000);
      expect(r.errors).toEqual([]);
      expect(r.ok).toBe(200);
    }, 90_000);

    it("200 concurrent synack clients each get their echo from the kernel", async () => {
      const server = await startIn(s.netns, ["python3", "-u", PEER_PY, "echo-server", "7004"], /ready/);
      try {
        const data = new Uint8Array(20_000);
        randomFillSync(data);
        const one = (): Promise<boolean> =>
          new Promise((resolve, reject) => {
            const sock = s.stack.connect(kernel(), 7004);
            const parts: Uint8Array[] = [];
            sock.onData = (c) => parts.push(c);
            sock.onEnd = () => {
              sock.close();
              resolve(Buffer.concat(parts).equals(data));
            };
            sock.onClose = (e) => e !== undefined && reject(e);
            sock.write(data);
            sock.end();
          });
        const results = await Promise.all(Array.from({ length: 200 }, one));
        expect(results.filter((x) => x).length).toBe(200);
      } finally {
        server.stop();
      }
    }, 90_000);
  });

  describe("flow control", () => {
    it("a slow kernel reader closes the window; synack probes it and every byte arrives intact", async () => {
      const n = 2 * MIB;
      const before = s.events.filter((e) => e.type === "timer-fired" && e.timer === "persist").length;
      const r = await peer<{ received: number; sha: string }>(s.netns, ["slow-reader", s.synackIp, 80, n, 4096], 60_000);
      expect(r.received).toBe(n);
      expect(r.sha).toBe(patternSha(n));
      const probes = s.events.filter((e) => e.type === "timer-fired" && e.timer === "persist").length - before;
      expect(probes).toBeGreaterThan(0);
    }, 60_000);
  });
});

