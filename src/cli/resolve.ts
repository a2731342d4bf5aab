/** A scenario named on the command line: a built-in name or a JSON file. */
import { findBuiltin } from "../scenario/builtin/index.js";
import { loadScenarioText } from "../scenario/load.js";
import type { ScenarioSpec } from "../scenario/model.js";
import { UsageError } from "./errors.js";
import { errnoSuffix, type Io } from "./io.js";

export function isFileArgument(arg: string): boolean {
  return arg.endsWith(".json") || arg.includes("/") || arg.includes("\\");
}

export function loadScenarioFile(path: string, io: Io): ScenarioSpec {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (e) {
    throw new UsageError(`cannot read scenario file ${path}${errnoSuffix(e)}`);
  }
  const loaded = loadScenarioText(text, path);
  if (!loaded.ok) throw new UsageError(`${path} is not a valid scenario:`, loaded.errors);
  return loaded.spec;
}

export function builtinScenario(name: string): ScenarioSpec {
  const spec = findBuiltin(name);
  if (spec === undefined) throw new UsageError(`no built-in scenario named "${name}" (synack demo --list shows them)`);
  return spec;
}

export function resolveScenario(arg: string, io: Io): ScenarioSpec {
  return isFileArgument(arg) ? loadScenarioFile(arg, io) : builtinScenario(arg);
}
