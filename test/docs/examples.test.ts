/**
 * Every JavaScript example in README.md and docs/*.md runs as a user would run it: the
 * package built with the build config into a private copy, each example written as a
 * module inside that copy (so `import ... from "synack"` resolves through the package's
 * exports, as it does for a user), run by node in a child process. An example followed by
 * "prints" and a code block must print exactly that block.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const documents = ["README.md", ...readdirSync(join(repo, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

interface Example {
  name: string;
  code: string;
  prints: string | undefined;
}

const examples: Example[] = [];
for (const doc of documents) {
  const text = readFileSync(join(repo, doc), "utf8");
  // Every js/ts/javascript/typescript fence counts: an example that cannot run fails here.
  const fence = /^```(js|ts|javascript|typescript)\n([\s\S]*?)^```\n(?:\nprints\n\n```\n([\s\S]*?)^```)?/gm;
  for (const m of text.matchAll(fence)) {
    const line = text.slice(0, m.index).split("\n").length;
    examples.push({ name: `${doc}:${line}`, code: m[2]!, prints: m[3] });
  }
}

let root = "";

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "synack-examples-"));
  try {
    execFileSync(process.execPath, [join(repo, "node_modules/typescript/bin/tsc"), "-p", join(repo, "tsconfig.build.json"), "--outDir", join(root, "dist")], { stdio: "pipe" });
  } catch {
    // Type errors are the typecheck's business; the JavaScript is emitted regardless.
  }
  writeFileSync(join(root, "package.json"), readFileSync(join(repo, "package.json")));
  symlinkSync(join(repo, "node_modules"), join(root, "node_modules"));
}, 180_000);

describe("examples in README.md and docs/", () => {
  it("finds the README's examples (Web Streams, TCP_INFO, node:net, http, the engine) and the docs'", () => {
    expect(examples.filter((e) => e.name.startsWith("README.md")).length).toBeGreaterThanOrEqual(5);
    expect(examples.length).toBeGreaterThanOrEqual(6);
  });

  it.each(examples)("$name runs and prints what the document says", (ex) => {
    const file = join(root, `example-${ex.name.replace(/[^a-z0-9]+/gi, "-")}.mjs`);
    writeFileSync(file, ex.code);
    // A bound so that a hanging example fails instead of hanging the suite.
    const r = spawnSync(process.execPath, [file], { cwd: root, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr, `${ex.name} wrote to stderr`).toBe("");
    expect(r.status).toBe(0);
    if (ex.prints !== undefined) expect(r.stdout.trimEnd()).toBe(ex.prints.trimEnd());
  }, 90_000);
});
