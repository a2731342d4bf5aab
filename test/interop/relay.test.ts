/**
 * The same transfers as kernel.test.ts, across the impairment relay: the kernel's side of
 * a TUN device (10.7.N.1) <-> relay (loss, 20 ms each way) <-> synack (10.7.N.2).
 *
 * Sizes: a lossy 40 ms path is slow for any TCP (Mathis: about MSS/RTT * 1.22/sqrt(p),
 * 3.5 Mbit/s at 1% and 1.6 Mbit/s at 5% for Reno), so these default to 4 MiB at 1% and
 * 2 MiB at 5%; SYNACK_INTEROP_RELAY_MIB sets both (e.g. 64 for the full size).
 */
import { createHash, randomFillSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRequest, httpService } from "../../src/node/services/http.js";
import { envMib, interopGate, MIB, patternSha, runIn, startIn, synackOnTun, type SynackOnTun } from "./harness.js";
import type { Relay } from "../../src/node/relay.js";

const gate = interopGate();

const CASES = [
  { loss: 0.01, mib: envMib("SYNACK_INTEROP_RELAY_MIB", 4), subnet: 31 },
  { loss: 0.05, mib: envMib("SYNACK_INTEROP_RELAY_MIB", 2), subnet: 32 },
];

for (const { loss, mib, subnet } of CASES) {
  const size = Math.round(mib * MIB);
  // Generous: a lossy 40 ms path is slow for any TCP (about 3.5 Mbit/s at 1% and 1.6 at 5%
  // for Reno, 10 s for these sizes) and one unlucky run of losses costs timeouts.
  const limitMs = Math.max(60_000, mib * (loss >= 0.05 ? 40_000 : 12_000));

  describe.skipIf(gate.skip)(`through the relay at ${loss * 100}% loss, 20 ms each way (${mib} MiB)`, () => {
    let s: SynackOnTun & { relay: Relay | undefined };
    let tmp: string;

    beforeAll(async () => {
      if (gate.reason !== undefined) throw new Error(`SYNACK_REQUIRE_TUN=1 but the interop suite cannot run: ${gate.reason}`);
      tmp = mkdtempSync(join(tmpdir(), "synack-relay-"));
      s = await synackOnTun({ subnet, label: `r${subnet}`, relay: { impair: { loss, delay: 20 }, seed: subnet } });
      httpService(s.stack, 80);
    }, 30_000);

    afterAll(async () => {
      if (s !== undefined) {
        const st = s.relay!.stats;
        process.stdout.write(
          `relay ${loss * 100}%: kernel->synack offered ${st.aToB.offered} lost ${st.aToB.losses}; synack->kernel offered ${st.bToA.offered} lost ${st.bToA.losses}\n`,
        );
        await s.close();
      }
      if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
    }, 30_000);

    it("synack to kernel: curl fetches /bytes/N with an equal SHA-256", async () => {
      const start = performance.now();
      const r = await runIn(s.netns, ["sh", "-c", `curl -sS --fail -m ${Math.ceil(limitMs / 1000)} http://${s.synackIp}/bytes/${size} | sha256sum`], limitMs + 5000);
      const secs = (performance.now() - start) / 1000;
      process.stdout.write(`relay ${loss * 100}% synack->kernel ${mib} MiB: ${secs.toFixed(1)} s, ${((size * 8) / secs / 1e6).toFixed(2)} Mbit/s\n`);
      expect(r.stderr).toBe("");
      expect(r.stdout.split(" ")[0]).toBe(patternSha(size));
    }, limitMs + 10_000);

    it("kernel to synack: curl POSTs N bytes and synack hashes the same", async () => {
      const body = new Uint8Array(size);
      randomFillSync(body);
      const file = join(tmp, "post.bin");
      writeFileSync(file, body);
      const start = performance.now();
      const r = await runIn(s.netns, ["curl", "-sS", "--fail", "-m", String(Math.ceil(limitMs / 1000)), "--data-binary", `@${file}`, `http://${s.synackIp}/upload`], limitMs + 5000);
      const secs = (performance.now() - start) / 1000;
      process.stdout.write(`relay ${loss * 100}% kernel->synack (POST) ${mib} MiB: ${secs.toFixed(1)} s, ${((size * 8) / secs / 1e6).toFixed(2)} Mbit/s\n`);
      expect(r.stderr).toBe("");
      expect(JSON.parse(r.stdout)).toEqual({ length: size, sha256: createHash("sha256").update(body).digest("hex") });
    }, limitMs + 10_000);

    it("kernel to synack: synack fetches a file from python3 -m http.server with an equal SHA-256", async () => {
      const dir = join(tmp, "www");
      mkdirSync(dir, { recursive: true });
      const body = new Uint8Array(size);
      randomFillSync(body);
      writeFileSync(join(dir, "file.bin"), body);
      const server = await startIn(s.netns, ["python3", "-u", "-m", "http.server", "--bind", "0.0.0.0", "--directory", dir, "8000"], /Serving HTTP/);
      try {
        const res = await httpRequest(s.stack, `http://${s.kernelIp}:8000/file.bin`, { timeoutMs: limitMs });
        process.stdout.write(`relay ${loss * 100}% kernel->synack (GET) ${mib} MiB: ${(res.elapsedMs / 1000).toFixed(1)} s\n`);
        expect(res.status).toBe(200);
        expect(res.length).toBe(size);
        expect(res.sha256).toBe(createHash("sha256").update(body).digest("hex"));
      } finally {
        server.stop();
      }
    }, limitMs + 10_000);
  });
}
