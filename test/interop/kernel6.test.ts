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
import { HttpClientError, httpRequest, httpService } from "../../src/node/services/http.js";
import { parseIpAddress } from "../../src/wire/address.js";
import { closingAndManyTests } from "./closing.js";
import { envMib, interopGate, MIB, patternSha, runIn, startIn, synackOnTun, type SynackOnTun } from "./harness.js";

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

  it("synack connecting to a closed kernel port over IPv6 gets ECONNREFUSED", async () => {
    const err = await httpRequest(s.stack, `http://[${s.kernelIp6!}]:7999/`, { timeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpClientError);
    expect((err as HttpClientError).code).toBe("ECONNREFUSED");
  });

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

  closingAndManyTests(
    () => ({ family: 6, s: () => s, synack: s.synackIp6!, synackInSs: `[${s.synackIp6!}]`, kernel: parseIpAddress(s.kernelIp6!)!, bind: "::", port: 7100 }),
    6,
  );
});
