/** The `$ synack demo urgent-data` session in docs/urgent-data.md prints what the document shows. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIo } from "../cli/fake-io.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const md = readFileSync(`${repo}docs/urgent-data.md`, "utf8");
const sessions = [...md.matchAll(/^```\n\$ (synack demo [^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => [`$ ${m[1]!}`, m[2]!] as const);

describe("docs/urgent-data.md sessions", () => {
  it("has the demo session", () => expect(sessions.length).toBe(1));
  it.each(sessions)("%s", async (command, expected) => {
    const f = fakeIo();
    const code = await main(command.slice("$ synack ".length).split(" "), f.io);
    expect(code).toBe(0);
    expect(f.out().trimEnd()).toBe(expected.trimEnd());
  });
});
