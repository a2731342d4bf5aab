/**
 * The TUN device's two paths against the Linux kernel: with virtio-net offloads (the
 * kernel's 64 KiB GSO segments read whole, synack's segment runs written as GSO
 * super-packets, which the engine builds itself for a link that advertises GSO,
 * src/ip/gso-batch.ts) and without (one packet per read and write). Each moves 16 MiB both ways
 * over IPv4 and IPv6 and compares SHA-256s, and the device's counters show which path
 * carried it, so a silent fallback to the plain path fails the offload test.
 */
import { createHash, randomFillSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpService } from "../../src/node/services/http.js";
import type { TunDevice } from "../../src/node/tun.js";
import { interopGate, MIB, patternSha, runIn, synackOnTun, type SynackOnTun } from "./harness.js";

const gate = interopGate();
const SIZE = 16 * MIB;

for (const offload of [true, false]) {
  describe.skipIf(gate.skip)(`TUN ${offload ? "with" : "without"} virtio-net offloads`, () => {
    let s: SynackOnTun;
    let tmp: string;
    const tun = (): TunDevice => s.link as TunDevice;

    beforeAll(async () => {
      if (gate.reason !== undefined) throw new Error(`SYNACK_REQUIRE_TUN=1 but the interop suite cannot run: ${gate.reason}`);
      tmp = mkdtempSync(join(tmpdir(), "synack-offload-"));
      s = await synackOnTun({ subnet: offload ? 51 : 52, label: offload ? "off1" : "off0", ipv6: true, offload });
      httpService(s.stack, 80);
    }, 30_000);

    afterAll(async () => {
      await s?.close();
      if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
    }, 30_000);

    it("opens the path asked for", () => {
      expect(tun().offloading).toBe(offload);
    });

    for (const family of [4, 6] as const) {
      it(`IPv${family}: curl fetches 16 MiB from synack (synack sends) with an equal SHA-256`, async () => {
        const before = { ...tun().offloadCounters };
        const host = family === 4 ? s.synackIp : `[${s.synackIp6!}]`;
        const r = await runIn(s.netns, ["sh", "-c", `curl -sS --fail -m 60 http://${host}/bytes/${SIZE} | sha256sum`], 70_000);
        expect(r.stderr).toBe("");
        expect(r.stdout.split(" ")[0]).toBe(patternSha(SIZE));
        const gsoOut = tun().offloadCounters.gsoPacketsOut - before.gsoPacketsOut;
        const coalesced = tun().offloadCounters.segmentsCoalesced - before.segmentsCoalesced;
        const tsoOut = tun().offloadCounters.tsoPacketsOut - before.tsoPacketsOut;
        if (offload) {
          expect(gsoOut).toBeGreaterThan(0);
          // The engine handed whole super-packets (one IP packet per TSO chunk), not only
          // segments for the device to coalesce.
          expect(tsoOut).toBeGreaterThan(0);
          expect(tsoOut * 2).toBeGreaterThan(gsoOut);
          // Most of the data left in super-packets, several segments each.
          expect(coalesced * 1200).toBeGreaterThan(SIZE / 2);
          expect(coalesced / gsoOut).toBeGreaterThan(2);
        } else {
          expect(gsoOut).toBe(0);
          expect(tsoOut).toBe(0);
        }
      }, 80_000);

      it(`IPv${family}: curl POSTs 16 MiB to synack (the kernel sends) and synack hashes the same bytes`, async () => {
        const before = { ...tun().offloadCounters };
        const file = join(tmp, `post${family}.bin`);
        const body = new Uint8Array(SIZE);
        for (let off = 0; off < SIZE; off += 65536) randomFillSync(body, off, Math.min(65536, SIZE - off));
        writeFileSync(file, body);
        const sha = createHash("sha256").update(body).digest("hex");
        const host = family === 4 ? s.synackIp : `[${s.synackIp6!}]`;
        const r = await runIn(s.netns, ["curl", "-sS", "--fail", "-m", "60", "-H", "Content-Type: application/octet-stream", "--data-binary", `@${file}`, `http://${host}/upload`], 70_000);
        expect(r.stderr).toBe("");
        expect(JSON.parse(r.stdout)).toEqual({ length: SIZE, sha256: sha });
        const gsoIn = tun().offloadCounters.gsoPacketsIn - before.gsoPacketsIn;
        if (offload) expect(gsoIn).toBeGreaterThan(0);
        else expect(gsoIn).toBe(0);
        expect(tun().offloadCounters.badPacketsIn).toBe(0);
      }, 80_000);
    }
  });
}
