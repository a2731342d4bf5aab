/** The example scenario files in docs/ load, validate and pass their own checks. */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadScenarioText } from "../../src/scenario/load.js";
import { failures, runToEnd } from "./helpers.js";

const dir = fileURLToPath(new URL("../../docs/examples/", import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));

describe.each(files)("docs/examples/%s", (file) => {
  it("is a valid scenario whose checks hold", () => {
    const loaded = loadScenarioText(readFileSync(dir + file, "utf8"), file);
    if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
    expect(failures(runToEnd(loaded.spec).results)).toEqual([]);
  });
});
