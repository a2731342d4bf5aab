/**
 * Linux's packetdrill corpus against synack: the number of passing scripts may not fall
 * below the floor committed in corpus-floor.json, no script may crash the runner, and
 * every script must parse. The corpus is test data outside this repository
 * (../shared/packetdrill, GPLv2); SYNACK_PACKETDRILL_DIR points elsewhere. Where it is
 * absent (a user's clone) this one test says so and is skipped.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runDrill, type DrillResult } from "../../src/drill/runner.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const floor = JSON.parse(readFileSync(new URL("./corpus-floor.json", import.meta.url), "utf8")) as { pass: number };
const candidates = [process.env["SYNACK_PACKETDRILL_DIR"], join(repo, "../shared/packetdrill/tcp"), "/work/shared/packetdrill/tcp"].filter((p): p is string => p !== undefined && p !== "");
const corpus = candidates.find((p) => existsSync(p));

function scripts(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? scripts(p) : name.endsWith(".pkt") ? [p] : [];
    });
}

describe("Linux's packetdrill corpus", () => {
  if (corpus === undefined) console.warn(`packetdrill corpus not found (looked in ${candidates.join(", ")}): the conformance floor is not checked`);
  it.skipIf(corpus === undefined)(`passes at least ${floor.pass} scripts, parses all, crashes on none`, () => {
    const results: DrillResult[] = scripts(corpus!).map((file) => runDrill(readFileSync(file, "utf8"), relative(corpus!, file)));
    const passed = results.filter((r) => r.status === "pass").length;
    expect(results.length).toBeGreaterThan(100);
    expect(passed, `passing: ${results.filter((r) => r.status === "pass").map((r) => r.script).join(", ")}`).toBeGreaterThanOrEqual(floor.pass);
  });
});
