/**
 * Scenario files are user input (`synack run my.json`): a built-in scenario with one field
 * changed, removed or repeated either fails to load with errors naming the field, or runs
 * to the end without an exception, and its checks and narration are computed. Nothing in
 * between: a run that throws is "the simulation failed", an internal error.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { checkExpectations } from "../../src/scenario/expect.js";
import { BUILTIN_SCENARIOS } from "../../src/scenario/index.js";
import { loadScenarioText } from "../../src/scenario/load.js";
import { narrateRun } from "../../src/scenario/narrate.js";
import { ScenarioRun } from "../../src/scenario/runner.js";
import { styleFor } from "../../src/trace/style.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("SCENARIO_FUZZ_RUNS", 150);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 150).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 150) });

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value inside `v` (keys and indices), the root excluded. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

const replacement: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(0, -1, 1, 0.5, 1e9, 65535, 65536, 2 ** 31, "", "x", "10.0.0.1", "1s", "-5ms", true, false, null, [], {}),
  fc.integer({ min: -10, max: 100_000 }),
);

const mutation = fc.record({ which: fc.nat(), kind: fc.constantFrom("replace" as const, "delete" as const, "repeat" as const), value: replacement });

describe("scenario files with one field changed", () => {
  it("load with errors naming the field, or run to the end and are checked and narrated", () => {
    const sources = BUILTIN_SCENARIOS.filter((s) => JSON.stringify(s).length < 20_000).map((s) => JSON.parse(JSON.stringify(s)) as Json);
    fc.assert(
      fc.property(fc.nat(sources.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const spec = structuredClone(sources[which]!);
        for (const m of mutations) {
          const all = paths(spec);
          if (all.length === 0) break;
          const path = all[m.which % all.length]!;
          const parent = path.slice(0, -1).reduce<Json>((o, k) => (o as Record<string | number, Json>)[k]!, spec) as Record<string | number, Json> | Json[];
          const key = path[path.length - 1]!;
          if (m.kind === "replace") (parent as Record<string | number, Json>)[key] = m.value;
          else if (Array.isArray(parent)) {
            if (m.kind === "delete") parent.splice(key as number, 1);
            else parent.splice(key as number, 0, structuredClone(parent[key as number]!));
          } else if (m.kind === "delete") delete (parent as Record<string, Json>)[key];
        }
        const loaded = loadScenarioText(JSON.stringify(spec), "fuzz.json");
        if (!loaded.ok) {
          expect(loaded.errors.length).toBeGreaterThan(0);
          for (const e of loaded.errors) expect(e).toMatch(/^fuzz\.json(:\d+:\d+)?: /);
          return;
        }
        const run = new ScenarioRun(loaded.spec);
        run.finish();
        const results = checkExpectations(run);
        expect(Array.isArray(results)).toBe(true);
        expect(narrateRun(run, { explain: true, seq: "relative", style: styleFor(false) }).length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
  });
});
