/**
 * Narrations the documents show run as written: docs/cli.md's `$ synack run` sessions print
 * exactly what is shown, and the README's abridged `npx synack demo` shows real lines of it,
 * in order ("..." stands for lines left out).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIo } from "./fake-io.js";

const repo = new URL("../../", import.meta.url);
const read = (rel: string): string => readFileSync(new URL(rel, repo), "utf8");

async function run(args: string[]): Promise<string> {
  const f = fakeIo();
  f.io.readFile = (p) => readFileSync(new URL(p, repo), "utf8");
  expect(await main(args, f.io)).toBe(0);
  return f.out();
}

describe("docs/cli.md: synack run sessions", () => {
  const sessions = [...read("docs/cli.md").matchAll(/^```\n\$ (synack run [^\n|]*)\n([\s\S]*?)^```$/gm)].map((m) => [m[1]!, m[2]!] as const);
  it("has the slow-fin example", () => expect(sessions.map(([c]) => c)).toContain("synack run docs/examples/slow-fin.json"));
  it.each(sessions)("$ %s prints what the document shows", async (command, expected) => {
    expect((await run(command.split(" ").slice(1))).trimEnd()).toBe(expected.trimEnd());
  });
});

describe("README: the abridged demo", () => {
  it("shows lines `synack demo` prints, in order", async () => {
    const md = read("README.md");
    const from = md.indexOf("`npx synack demo` prints (abridged");
    const block = /```\n([\s\S]*?)^```$/m.exec(md.slice(from))![1]!;
    const lines = (await run(["demo"])).split("\n");
    let at = 0;
    for (const want of block.trimEnd().split("\n").filter((l) => l.trim() !== "...")) {
      const found = lines.indexOf(want, at);
      expect(found, `not found in order: ${want}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });
});
