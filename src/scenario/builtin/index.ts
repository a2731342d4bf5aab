/** The built-in scenarios, in the order `synack demo --list` shows them. */
import type { ScenarioSpec } from "../model.js";
import { tour } from "./close.js";

export const BUILTIN_SCENARIOS: readonly ScenarioSpec[] = [tour];

export function findBuiltin(name: string): ScenarioSpec | undefined {
  return BUILTIN_SCENARIOS.find((s) => s.name === name);
}
