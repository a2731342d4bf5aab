/**
 * synack and the Linux kernel over TUN in IPv6, with an IPv4 address on the same device
 * at once (issue 9's acceptance). Topology as kernel.test.ts: a namespace this test
 * creates holds the kernel side of the device, fd07:22::1/64 and 10.7.22.1/24; synack
 * is fd07:22::2 and 10.7.22.2 in this process. Transfers are 64 MiB unless
 * SYNACK_INTEROP_MIB says otherwise. No neighbour discovery: TUN carries IP directly.
 */
import { createHash, randomFillSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echoService } from "../../src/node/services/echo.js";
import { httpRequest, httpService } from "../../src/node/services/http.js";
import type { LiveSocket } from "../../src/node/services/live.js";
import { parseIpAddress, type IpAddress } from "../../src/wire/address.js";
import { envMib, interopGate, MIB, patternSha, peer, PEER_PY, runIn, startIn, synackOnTun, until, type SynackOnTun } from "./harness.js";

const gate = interopGate();
const BULK = Math.round(envMib("SYNACK_INTEROP_MIB", 64) * MIB);

describe.skipIf(gate.skip)("synack and the Linux kernel over TUN, IPv6", () => {
  let s: SynackOnTun;
  let tmp: string;

  beforeAll(async () => {
    if (gate.reason !== undefined) throw new Error(`SYNACK_REQUIRE_TUN=1 but the interop suite cannot run: ${gate.reason}`);
    tmp = mkdtempSync(join(tmpdir(), "synack-interop6-"));
    s = await synackOnTun({ subnet: 22, ipv6: true, label: "k6", trace: true });
    httpService(s.stack, 80);
    echoService(s.stack, 7);
  }, 30_000);

  afterAll(async () => {
    await s?.close();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  const url6 = (path: string): string => `http://[${s.synackIp6!}]${path}`;

  it("answers ping -6 (ICMPv6 echo, RFC 4443 4.2)", async () => {
    const r = await runIn(s.netns, ["ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", s.synackIp6!], 20_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
  }, 30_000);

  it("curl -6 fetches GET /", async () => {
    const r = await runIn(s.netns, ["curl", "-6", "-sS", "--fail", "-m", "10", url6("/")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("synack HTTP server");
  }, 20_000);

  it(`curl -6 fetches ${BULK / MIB} MiB with an equal SHA-256`, async () => {
    const r = await runIn(s.netns, ["sh", "-c", `curl -6 -sS --fail -m 120 '${url6(`/bytes/${BULK}`)}' | sha256sum`], 130_000);
    expect(r.stderr).toBe("");
    expect(r.stdout.split(" ")[0]).toBe(patternSha(BULK));
  }, 140_000);

  it(`curl -6 POSTs ${BULK / MIB} MiB and synack hashes the same bytes`, async () => {
    const file = join(tmp, "post.bin");
    const body = new Uint8Array(BULK);
    for (let off = 0; off < BULK; off += 65536) randomFillSync(body, off, Math.min(65536, BULK - off));
    writeFileSync(file, body);
    const sha = createHash("sha256").update(body).digest("hex");
    const r = await runIn(s.netns, ["curl", "-6", "-sS", "--fail", "-m", "120", "-H", "Content-Type: application/octet-stream", "--data-binary", `@${file}`, url6("/upload")], 130_000);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ length: BULK, sha256: sha });
  }, 140_000);

  it("serves IPv4 on the same device at the same time (curl -4)", async () => {
    const [v4, v6] = await Promise.all([
      runIn(s.netns, ["sh", "-c", `curl -4 -sS --fail -m 30 http://${s.synackIp}/bytes/${4 * MIB} | sha256sum`], 40_000),
      runIn(s.netns, ["sh", "-c", `curl -6 -sS --fail -m 30 '${url6(`/bytes/${4 * MIB}`)}' | sha256sum`], 40_000),
    ]);
    expect(v4.stdout.split(" ")[0]).toBe(patternSha(4 * MIB));
    expect(v6.stdout.split(" ")[0]).toBe(patternSha(4 * MIB));
    const ping4 = await runIn(s.netns, ["ping", "-4", "-c", "1", "-W", "2", s.synackIp], 10_000);
    expect(ping4.code).toBe(0);
  }, 60_000);

  it("a closed port is refused over IPv6 (RST)", async () => {
    const before = s.stack.host.tcp.rstsSent;
    const r = await runIn(s.netns, ["curl", "-6", "-sS", "-m", "5", `http://[${s.synackIp6!}]:81/`]);
    expect(r.code).toBe(7); // curl: failed to connect ("Connection refused" or "Couldn't connect", by version)
    expect(r.stderr).toMatch(/refused|couldn't connect/i);
    expect(s.stack.host.tcp.rstsSent).toBe(before + 1);
  }, 20_000);

  it(`synack fetches ${BULK / MIB} MiB from python3 -m http.server --bind :: over IPv6`, async () => {
    const dir = join(tmp, "www");
    const body = new Uint8Array(BULK);
    for (let off = 0; off < BULK; off += 65536) randomFillSync(body, off, Math.min(65536, BULK - off));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "big.bin"), body);
    const server = await startIn(s.netns, ["python3", "-u", "-m", "http.server", "--bind", "::", "--directory", dir, "8000"], /Serving HTTP/);
    try {
      const res = await httpRequest(s.stack, `http://[${s.kernelIp6!}]:8000/big.bin`, { timeoutMs: 120_000 });
      expect(res.status).toBe(200);
      expect(res.length).toBe(BULK);
      expect(res.sha256).toBe(createHash("sha256").update(body).digest("hex"));
    } finally {
      server.stop();
    }
  }, 140_000);

  const kernel6 = (): IpAddress => parseIpAddress(s.kernelIp6!)!;

  describe("closing over IPv6", () => {
    it("the kernel half-closes first and keeps reading: the echo comes back whole, then EOF", async () => {
      const r = await peer<{ sent: number; sentSha: string; received: number; receivedSha: string }>(s.netns, ["echo-halfclose", s.synackIp6!, 7, 4 * MIB]);
      expect(r.received).toBe(r.sent);
      expect(r.receivedSha).toBe(r.sentSha);
    }, 60_000);

    it("synack half-closes first and keeps reading: the kernel's answer arrives after synack's FIN", async () => {
      const sink = await startIn(s.netns, ["python3", "-u", PEER_PY, "sink", "7101", "--reply", "--bind", "::"], /ready/);
      try {
        const data = new Uint8Array(2 * MIB);
        randomFillSync(data);
        const answer = await new Promise<string>((resolve, reject) => {
          const sock = s.stack.connect(kernel6(), 7101);
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

    it("the kernel closes first: synack goes CLOSE_WAIT -> CLOSED and the kernel holds TIME_WAIT", async () => {
      let sock: LiveSocket | undefined;
      const states: string[] = [];
      const listener = s.stack.listen(7102, (x) => {
        sock = x;
        x.onData = () => {};
        x.onEnd = () => {
          states.push(x.state);
          x.end();
        };
        x.onClose = (e) => states.push(e === undefined ? "CLOSED" : `CLOSED ${e.code}`);
      });
      try {
        const r = await peer<{ closed: boolean }>(s.netns, ["close-first", s.synackIp6!, 7102]);
        expect(r.closed).toBe(true);
        await until(() => states.includes("CLOSED"), 5000, "synack's side to close");
        expect(states).toEqual(["CLOSE_WAIT", "CLOSED"]);
        expect(sock!.conn.error).toBeUndefined();
        const ss = await runIn(s.netns, ["ss", "-tan", "-6", "state", "time-wait"]);
        expect(ss.stdout).toContain(`[${s.synackIp6!}]:7102`);
      } finally {
        s.stack.host.tcp.closeListener(listener);
      }
    }, 30_000);

    it("synack closes first: the kernel reads EOF, synack passes FIN_WAIT_2 and holds TIME_WAIT", async () => {
      const sink = await startIn(s.netns, ["python3", "-u", PEER_PY, "sink", "7103", "--close-delay", "0.5", "--bind", "::"], /ready/);
      try {
        const sock = s.stack.connect(kernel6(), 7103);
        await new Promise<void>((resolve) => (sock.onConnect = resolve));
        sock.write(new TextEncoder().encode("hello kernel\n"));
        sock.close();
        const line = await sink.waitFor(/received/);
        expect(JSON.parse(line)).toMatchObject({ received: 13 });
        await until(() => sock.conn.state === "TIME_WAIT", 5000, "TIME_WAIT");
        const states = s.events.filter((e) => e.type === "state" && e.tuple.localPort === sock.conn.tuple.localPort && e.tuple.remotePort === 7103).map((e) => (e.type === "state" ? e.to : ""));
        expect(states).toEqual(["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]);
        expect(sock.conn.error).toBeUndefined();
      } finally {
        sink.stop();
      }
    }, 30_000);
  });

  describe("many connections over IPv6", () => {
    it("200 concurrent kernel clients each get their echo", async () => {
      const r = await peer<{ ok: number; count: number; errors: string[] }>(s.netns, ["many", s.synackIp6!, 7, 200, 20_000], 90_000);
      expect(r.errors).toEqual([]);
      expect(r.ok).toBe(200);
    }, 90_000);

    it("200 concurrent synack clients each get their echo from the kernel", async () => {
      const server = await startIn(s.netns, ["python3", "-u", PEER_PY, "echo-server", "7104", "--bind", "::"], /ready/);
      try {
        const data = new Uint8Array(20_000);
        randomFillSync(data);
        const one = (): Promise<boolean> =>
          new Promise((resolve, reject) => {
            const sock = s.stack.connect(kernel6(), 7104);
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
});
