/**
 * Every `$ synack demo ...` session in docs/loss-recovery.md runs as written and prints what
 * the document shows; in docs/path-mtu.md a line "..." stands for lines left out, and the
 * lines shown must appear in that order.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIo } from "../cli/fake-io.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const md = readFileSync(`${repo}docs/loss-recovery.md`, "utf8");
const sessions = [...md.matchAll(/^```\n\$ (synack demo [^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => [`$ ${m[1]!}`, m[2]!] as const);

describe("docs/loss-recovery.md sessions", () => {
  it("shows the tail loss probe, the D-SACK undo and ECN", () => expect(sessions.map(([c]) => c)).toEqual(["$ synack demo tail-loss-probe", "$ synack demo spurious-retransmission", "$ synack demo ecn"]));
  it.each(sessions)("%s", async (command, expected) => {
    const f = fakeIo();
    const code = await main(command.slice("$ synack ".length).split(" "), f.io);
    expect(code).toBe(0);
    expect(f.out().trimEnd()).toBe(expected.trimEnd());
  });
});

describe("docs/path-mtu.md sessions (excerpts)", () => {
  const doc = readFileSync(`${repo}docs/path-mtu.md`, "utf8");
  const excerpts = [...doc.matchAll(/^```\n\$ (synack demo [^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => [`$ ${m[1]!}`, m[2]!] as const);
  it("shows the black hole", () => expect(excerpts.map(([c]) => c)).toEqual(["$ synack demo mtu-black-hole"]));
  it.each(excerpts)("%s", async (command, expected) => {
    const f = fakeIo();
    expect(await main(command.slice("$ synack ".length).split(" "), f.io)).toBe(0);
    const lines = f.out().split("\n").map((l) => l.trimEnd());
    let at = 0;
    for (const want of expected.trimEnd().split("\n").filter((l) => l !== "...")) {
      const found = lines.indexOf(want.trimEnd(), at);
      expect(found, `not found in order: ${want}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });
});
