/**
 * The "try this" experiments (web/playground/try-this.ts): every built-in scenario has
 * some, and each one that offers a "try it" button really changes the run: its what-if
 * finds the packet it names, its knob changes what happens (the event log hash differs).
 */
import { describe, expect, it } from "vitest";
import { BUILTIN_SCENARIOS } from "../../src/scenario/builtin/index.js";
import { applyChanges } from "../../web/playground/model/knobs.js";
import { runSession } from "../../web/playground/model/session.js";
import { TRY_THIS } from "../../web/playground/try-this.js";

describe("try this", () => {
  it("every built-in scenario has at least one experiment the page can apply", () => {
    for (const spec of BUILTIN_SCENARIOS) expect(TRY_THIS[spec.name]?.some((t) => t.state !== undefined), spec.name).toBe(true);
  });

  for (const spec of BUILTIN_SCENARIOS) {
    it(`${spec.name}: each experiment changes the run`, () => {
      const baseRun = runSession(spec);
      const base = baseRun.hash;
      const lost = (segments: ReadonlyArray<{ fate: string }>): number => segments.filter((r) => r.fate === "lost").length;
      for (const t of TRY_THIS[spec.name] ?? []) {
        if (t.state === undefined) continue;
        const changed = runSession(applyChanges(spec, t.state.knobs ?? {}, t.state.whatIfs ?? []));
        expect(changed.hash, t.text).not.toBe(base);
        // A dropping what-if must hit its packet: the run loses more segments than before.
        if ((t.state.whatIfs ?? []).some((w) => w.action === "drop")) expect(lost(changed.segments), t.text).toBeGreaterThan(lost(baseRun.segments));
      }
    }, 60_000);
  }
});
