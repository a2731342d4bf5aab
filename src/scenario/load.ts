/**
 * Scenario files: JSON text in, a checked scenario or a list of errors out. Each error
 * names the field's path and, for files, its line and column, e.g.
 *   my.json:14:15: script[2].port: expected an integer from 1 to 65535, got "eighty"
 */
import { parseJsonLocated } from "./json-locate.js";
import type { ScenarioSpec } from "./model.js";
import { validateScenario } from "./validate.js";

export type LoadResult = { ok: true; spec: ScenarioSpec } | { ok: false; errors: string[] };

export function loadScenarioText(text: string, fileName = "scenario"): LoadResult {
  const parsed = parseJsonLocated(text);
  if (!parsed.ok) return { ok: false, errors: [`${fileName}:${parsed.position.line}:${parsed.position.column}: invalid JSON: ${parsed.message}`] };
  const checked = validateScenario(parsed.value);
  if (checked.ok) return { ok: true, spec: checked.spec };
  return {
    ok: false,
    errors: checked.issues.map((issue) => {
      const pos = nearestPosition(parsed.positions, issue.path);
      return `${fileName}${pos !== undefined ? `:${pos.line}:${pos.column}` : ""}: ${issue.path}: ${issue.message}`;
    }),
  };
}

/** The position of a path, or of its closest ancestor present in the file (a missing field's object). */
function nearestPosition(positions: Map<string, { line: number; column: number }>, path: string): { line: number; column: number } | undefined {
  let p = path === "(top level)" ? "" : path;
  for (;;) {
    const pos = positions.get(p);
    if (pos !== undefined) return pos;
    if (p === "") return undefined;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    p = cut < 0 ? "" : p.slice(0, cut);
  }
}
