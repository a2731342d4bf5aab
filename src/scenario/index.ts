/**
 * Scenarios: the model, the built-ins, file loading and validation, the runner and the
 * expectation checker. Runtime-neutral; the CLI adds files and a terminal.
 */
export type * from "./model.js";
export { BUILTIN_SCENARIOS, findBuiltin } from "./builtin/index.js";
export { checkExpectations, type ExpectResult } from "./expect.js";
export { loadScenarioText, type LoadResult } from "./load.js";
export { ScenarioRun, DEFAULT_DELAY, DEFAULT_LIMIT, type CallError, type RunOptions } from "./runner.js";
export { parseTime, toMillis } from "./time.js";
export { validateScenario, type Issue } from "./validate.js";
export { narrateRun, type NarrateRunOptions } from "./narrate.js";
