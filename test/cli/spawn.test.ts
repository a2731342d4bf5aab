/**
 * The CLI as a user really runs it: compiled with the build config, started through
 * bin/synack.js in a child process, output piped (so never coloured).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../../", import.meta.url));
let root = "";

beforeAll(() => {
  // A private copy of the package layout (bin/ next to dist/), so the test never races
  // another build of the shared dist/ directory.
  root = mkdtempSync(join(tmpdir(), "synack-cli-"));
  try {
    execFileSync(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", join(repo, "tsconfig.build.json"), "--outDir", join(root, "dist")], { stdio: "pipe" });
  } catch {
    // Type errors are the typecheck's business; the JavaScript is emitted regardless.
  }
  if (!existsSync(join(root, "dist/src/cli/main.js"))) throw new Error("the build did not produce dist/src/cli/main.js");
  mkdirSync(join(root, "bin"));
  copyFileSync(join(repo, "bin/synack.js"), join(root, "bin/synack.js"));
  writeFileSync(join(root, "package.json"), readFileSync(join(repo, "package.json")));
}, 180_000);

function synack(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, "bin/synack.js"), ...args], { encoding: "utf8", cwd: root, env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("bin/synack.js", () => {
  it("is an executable node script", () => {
    const text = readFileSync(join(repo, "bin/synack.js"), "utf8");
    expect(text.startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(spawnSync("test", ["-x", join(repo, "bin/synack.js")]).status).toBe(0);
  });

  it("synack demo tells the tour and exits 0, without colour when piped", () => {
    const r = synack("demo");
    expect(r.code).toBe(0);
    expect(r.out).toContain("-- SYN seq=x");
    expect(r.out).toContain("[TIME_WAIT]");
    expect(r.out).not.toContain("\x1b[");
  });

  it("synack demo lost-syn shows the backoff and exits 0", () => {
    const r = synack("demo", "lost-syn");
    expect(r.code).toBe(0);
    for (const t of ["1.000s", "3.000s", "7.000s", "15.000s", "31.000s", "63.000s", "127.000s"]) expect(r.out).toContain(t);
    expect(r.out).toContain("error ETIMEDOUT");
  });

  it("synack run with a bad file exits 2 and names the field", () => {
    const file = join(root, "bad.json");
    writeFileSync(file, JSON.stringify({ name: "b", hosts: [{ name: "a", address: "10.0.0.1" }], script: [{ at: 0, do: "listen", host: "a", port: 0 }] }, null, 2));
    const r = synack("run", file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.json:\d+:\d+: script\[0\]\.port: expected an integer from 1 to 65535, got 0/);
  });

  it("synack ss syn-flood --at 3s lists the half-open connections", () => {
    const r = synack("ss", "syn-flood", "--at", "3s");
    expect(r.code).toBe(0);
    expect(r.out.split("\n").filter((l) => l.startsWith("SYN_RCVD"))).toHaveLength(128);
  });

  it("synack demo --pcap writes a file tshark can read", () => {
    const file = join(root, "tour.pcap");
    const r = synack("demo", "tour", "--pcap", file);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`wrote 11 packets to ${file}`);
    expect(readFileSync(file).readUInt32LE(0)).toBe(0xa1b2c3d4);
  });

  it("stops quietly when its reader goes away (synack demo --json | head)", () => {
    const r = spawnSync("sh", ["-c", `"${process.execPath}" "${join(root, "bin/synack.js")}" demo syn-flood --json | head -1`], { encoding: "utf8" });
    expect(JSON.parse(r.stdout)).toMatchObject({ type: "app" });
    expect(r.stderr).toBe("");
  });

  it("exits 2 on an unknown command", () => {
    expect(synack("frobnicate").code).toBe(2);
  });
});

describe("bench/recovery.js (npm run bench:recovery, not part of npm run bench)", () => {
  it("runs its sweep against the built engine and prints a row per cell", () => {
    mkdirSync(join(root, "bench"), { recursive: true });
    for (const f of ["recovery.js", "lib.js"]) copyFileSync(join(repo, "bench", f), join(root, "bench", f));
    const r = spawnSync(process.execPath, [join(root, "bench/recovery.js"), "--seeds", "1", "--kib", "32", "--json"], { encoding: "utf8", cwd: root });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { rows: Array<{ loss: number; reorder: number; rackMbps: number }> };
    expect(json.rows).toHaveLength(20);
    expect(json.rows.every((row) => row.rackMbps > 0)).toBe(true);
  }, 120_000);
});

describe("bench/bulk.js --batch (a row of npm run bench)", () => {
  it("hands each host its queued packets as one receive batch: an ACK per batch or 64 KiB, every byte intact", () => {
    mkdirSync(join(root, "bench"), { recursive: true });
    for (const f of ["bulk.js", "lib.js"]) copyFileSync(join(repo, "bench", f), join(root, "bench", f));
    const run = (...extra: string[]) => {
      const r = spawnSync(process.execPath, [join(root, "bench/bulk.js"), "--mtu", "1500", "--mib", "8", ...extra], { encoding: "utf8", cwd: root });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout.trim()) as { outcome: string; corrupt: number; retransmits: number; clientSegmentsOut: number; serverSegmentsOut: number };
    };
    const plain = run();
    const batched = run("--batch");
    for (const r of [plain, batched]) {
      expect(r.outcome).toBe("done");
      expect(r.corrupt).toBe(0);
      expect(r.retransmits).toBe(0);
    }
    // Every second segment gets its ACK without batches (RFC 5681 4.2); with them about one per 64 KiB (src/tcp/batch.ts).
    expect(plain.serverSegmentsOut).toBeGreaterThan(plain.clientSegmentsOut / 3);
    expect(batched.serverSegmentsOut).toBeLessThan(batched.clientSegmentsOut / 20);
    expect(batched.serverSegmentsOut).toBeGreaterThanOrEqual((8 * 1024 * 1024) / 65536);
  }, 120_000);
});
