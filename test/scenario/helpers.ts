/**
 * Shared helpers for scenario tests: run a scenario to the end, and compare text with a
 * golden file (UPDATE_GOLDEN=1 rewrites the files instead of comparing).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { expect } from "vitest";
import { checkExpectations, type ExpectResult } from "../../src/scenario/expect.js";
import type { ScenarioSpec } from "../../src/scenario/model.js";
import { ScenarioRun, type RunOptions } from "../../src/scenario/runner.js";

export function runToEnd(spec: ScenarioSpec, opts: RunOptions = {}): { run: ScenarioRun; results: ExpectResult[] } {
  const run = new ScenarioRun(spec, opts);
  run.finish();
  return { run, results: checkExpectations(run) };
}

/** Failed checks as readable lines (empty when all hold), for an informative assertion diff. */
export function failures(results: readonly ExpectResult[]): string[] {
  return results.filter((r) => !r.ok).map((r) => `${r.what}: ${r.got ?? ""}`);
}

export function expectGolden(path: string, actual: string): void {
  if (process.env["UPDATE_GOLDEN"] === "1") {
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing: run the tests with UPDATE_GOLDEN=1 to create it, then review it`);
  expect(actual).toBe(readFileSync(path, "utf8"));
}
