/**
 * The TCP_INFO examples in the documents run as written and print what the documents say:
 * the `synack ss ... -i` sessions in docs/cli.md, and the README's `socket.tcpInfo()` code.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as synack from "../../src/index.js";
import { main } from "../../src/cli/main.js";
import { fakeIo } from "./fake-io.js";

const read = (rel: string): string => readFileSync(new URL(`../../${rel}`, import.meta.url), "utf8");

/** Fenced blocks of a markdown file, with the language tag. */
function blocks(md: string): Array<{ lang: string; body: string }> {
  return [...md.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

describe("docs/cli.md: synack ss -i sessions", () => {
  const sessions = blocks(read("docs/cli.md"))
    .map((b) => b.body)
    .filter((b) => /^\$ synack ss .* -i\b/.test(b) && !b.split("\n")[0]!.includes("|"));

  it("has at least one", () => expect(sessions.length).toBeGreaterThan(0));

  it.each(sessions.map((s) => [s.split("\n")[0]!, s]))("%s prints what the document shows", async (command, session) => {
    const f = fakeIo();
    const code = await main(command.slice("$ synack ".length).split(" "), f.io);
    expect(code).toBe(0);
    const expected = session.slice(command.length + 1);
    expect(f.out().trimEnd()).toBe(expected.trimEnd());
  });
});

describe("README: the TCP_INFO example", () => {
  it("runs and prints the line the README shows", async () => {
    const md = read("README.md");
    const section = md.slice(md.indexOf("### TCP_INFO"));
    const [code, printed] = blocks(section);
    expect(code?.lang).toBe("js");
    const importLine = /^import \{ ([^}]+) \} from "synack";\n/m;
    const names = importLine.exec(code!.body)![1]!.split(",").map((n) => n.trim());
    const body = code!.body.replace(importLine, "");
    const lines: string[] = [];
    const fakeConsole = { log: (...args: unknown[]) => lines.push(args.map(String).join(" ")) };
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    const exports = synack as unknown as Record<string, unknown>;
    await new AsyncFunction(...names, "console", body)(...names.map((n) => exports[n]), fakeConsole);
    expect(lines.join("\n")).toBe(printed!.body.trimEnd());
  });
});
