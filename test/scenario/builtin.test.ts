/**
 * Every built-in scenario: its own checks hold (so an engine regression fails the scenario,
 * not just a golden file), it survives the JSON file format, its narration matches the
 * golden file, and its facts do not depend on the seed.
 */
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUILTIN_SCENARIOS } from "../../src/scenario/builtin/index.js";
import { loadScenarioText } from "../../src/scenario/load.js";
import { narrateRun } from "../../src/scenario/narrate.js";
import { validateScenario } from "../../src/scenario/validate.js";
import { checkLines } from "../../src/cli/play.js";
import { plainStyle } from "../../src/trace/style.js";
import { expectGolden, failures, runToEnd } from "./helpers.js";

const golden = (name: string) => fileURLToPath(new URL(`./golden/${name}.txt`, import.meta.url));
/** Scenarios whose --explain narration is also pinned (the rest share its code paths). */
const EXPLAINED = new Set(["tour", "lost-syn-ack", "old-duplicate-syn", "reordering", "syn-flood-cookies", "udp-overflow", "udp-fragments"]);

describe.each(BUILTIN_SCENARIOS.map((s) => [s.name, s] as const))("built-in scenario %s", (name, spec) => {
  it("passes its own checks", () => {
    const { results } = runToEnd(spec);
    expect(results.length).toBeGreaterThan(2);
    expect(failures(results)).toEqual([]);
  });

  it("is a valid scenario file once written as JSON", () => {
    expect(validateScenario(spec)).toEqual({ ok: true, spec });
    const loaded = loadScenarioText(JSON.stringify(spec, null, 2), `${name}.json`);
    expect(loaded.ok ? [] : loaded.errors).toEqual([]);
  });

  it("narrates as the golden file says", () => {
    const { run, results } = runToEnd(spec);
    const text = [...narrateRun(run, { style: plainStyle }), "", ...checkLines(results, plainStyle, false)].join("\n") + "\n";
    expectGolden(golden(name), text);
    if (EXPLAINED.has(name)) expectGolden(golden(`${name}.explain`), narrateRun(run, { explain: true }).join("\n") + "\n");
  });

  it("shows the same facts with any seed", () => {
    // Seeds change ISNs, ports and random draws; the checks name numbers relative to the ISNs.
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 1_000_000 }), (seed) => {
        expect(failures(runToEnd(spec, { seed }).results)).toEqual([]);
      }),
      { numRuns: spec.name.startsWith("syn-flood") ? 2 : 5 },
    );
  });
});

describe("the built-ins together", () => {
  it("have unique names and cover every seed behaviour that can be shown", () => {
    const names = BUILTIN_SCENARIOS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    const shown = new Set(BUILTIN_SCENARIOS.flatMap((s) => s.behaviours ?? []));
    // S35 is the narration itself (--explain); S33 (UDP) is shown by udp-overflow and udp-fragments.
    const showable = Array.from({ length: 34 }, (_, i) => `S${i + 1}`);
    expect(showable.filter((id) => !shown.has(id))).toEqual([]);
  });
});
