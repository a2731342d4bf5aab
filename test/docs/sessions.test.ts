/**
 * Every `$ synack demo` and `$ synack ss` session in README.md and docs/*.md shows what the
 * command prints: its lines appear in the real output (stdout, then stderr), in order. A
 * line "..." stands for lines left out, and a line that ends in "..." for the rest of that
 * line; `| head -N` and `| grep -c WORD` are applied as the shell would, and `echo $?` shows
 * the exit code of the command before it. `synack run` and
 * `synack drill` sessions, and docs/urgent-data.md, are compared whole by their own tests
 * (test/cli/run-docs.test.ts, test/drill/docs.test.ts, test/docs/urgent-data.test.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIo } from "../cli/fake-io.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const documents = ["README.md", ...readdirSync(join(repo, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

interface Session {
  where: string;
  command: string;
  shown: string[];
}

const sessions: Session[] = [];
for (const doc of documents) {
  const text = readFileSync(join(repo, doc), "utf8");
  for (const m of text.matchAll(/^```\n(\$ (?:npx )?synack (?:demo|ss)\b[\s\S]*?)^```$/gm)) {
    // A block may hold several commands, each on a "$ " line followed by what it printed.
    let line = text.slice(0, m.index).split("\n").length + 1;
    for (const part of m[1]!.trimEnd().split(/\n(?=\$ )/)) {
      const [first, ...shown] = part.split("\n");
      sessions.push({ where: `${doc}:${line}`, command: first!.slice(2).replace(/^npx /, ""), shown });
      line += shown.length + 1;
    }
  }
}

let lastExitCode = 0;

/** Runs `synack ...` in-process, with the pipe stages the documents use; `echo $?` gives the last one's exit code. */
async function run(command: string): Promise<string[]> {
  if (command === "echo $?") return [String(lastExitCode)];
  const [synack, ...pipes] = command.split(" | ");
  const f = fakeIo();
  f.io.readFile = (p) => readFileSync(join(repo, p), "utf8");
  lastExitCode = await main(synack!.split(" ").slice(1), f.io);
  let lines = (f.out() + f.err()).trimEnd().split("\n");
  for (const pipe of pipes) {
    const head = /^head -(\d+)$/.exec(pipe);
    const count = /^grep -c (\S+)$/.exec(pipe);
    if (head !== null) lines = lines.slice(0, Number(head[1]));
    else if (count !== null) lines = [String(lines.filter((l) => l.includes(count[1]!)).length)];
    else throw new Error(`a pipe this test cannot apply: ${pipe}`);
  }
  return lines;
}

describe("synack demo and ss sessions in the documents", () => {
  it("finds the sessions of docs/cli.md, bbr.md, loss-recovery.md and path-mtu.md", () => {
    const docs = new Set(sessions.map((s) => s.where.split(":")[0]));
    for (const d of ["docs/cli.md", "docs/bbr.md", "docs/loss-recovery.md", "docs/path-mtu.md"]) expect(docs).toContain(d);
  });

  // Other programs in a session (tshark reading the capture) are left to their own tests.
  const ours = sessions.filter((s) => s.command.startsWith("synack ") || s.command === "echo $?");
  it.each(ours.map((s) => [`${s.where} $ ${s.command}`, s] as const))("%s", async (_, s) => {
    const lines = (await run(s.command)).map((l) => l.trimEnd());
    let at = 0;
    for (const raw of s.shown) {
      const want = raw.trimEnd();
      if (want === "..." || want === "") continue;
      const prefix = want.endsWith("...") ? want.slice(0, -3).trimEnd() : undefined;
      const found = lines.findIndex((l, i) => i >= at && (prefix !== undefined ? l.startsWith(prefix) : l === want));
      expect(found, `$ ${s.command}: not printed (in this order): ${want}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });
});
