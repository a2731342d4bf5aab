/** Every `$ synack drill ...` session in docs/drill.md and the README runs as written and prints what the document shows. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIo } from "../cli/fake-io.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const md = readFileSync(`${repo}docs/drill.md`, "utf8");
const readme = readFileSync(`${repo}README.md`, "utf8");
const pattern = /^```\n\$ (?:npx )?(synack drill [^\n]*)\n([\s\S]*?)^```$/gm;
const sessions = [...md.matchAll(pattern), ...readme.matchAll(pattern)].map((m) => [`$ ${m[1]!}`, m[2]!] as const);

describe("docs/drill.md sessions", () => {
  it("has the five failure examples and more", () => expect(sessions.length).toBeGreaterThanOrEqual(9));
  it.each(sessions)("%s", async (command, expected) => {
    const f = fakeIo();
    f.io.readFile = (p) => readFileSync(p.startsWith("/") ? p : repo + p, "utf8");
    const args = command.slice("$ synack ".length).split(" ").map((a) => (a.startsWith("test/") ? repo + a : a));
    const code = await main(args, f.io);
    expect(code).toBe(command.includes("failing") ? 1 : 0);
    expect(f.out().replaceAll(repo, "").trimEnd()).toBe(expected.trimEnd());
  });
});
