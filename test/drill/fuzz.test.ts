/**
 * Drill scripts are user input (`synack drill my.pkt`): one of this repository's scripts
 * with lines deleted, repeated or swapped, or a token replaced, either fails to parse with
 * a located DrillSyntaxError, or runs to a verdict (pass, fail or unsupported). Any other
 * exception is what the CLI reports as a crash of the runner.
 */
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { DrillSyntaxError } from "../../src/drill/errors.js";
import { runDrill } from "../../src/drill/runner.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("DRILL_FUZZ_RUNS", 200);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 200).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 200) });

const dir = new URL("./scripts/", import.meta.url);
const sources = readdirSync(dir)
  .filter((f) => f.endsWith(".pkt"))
  .sort()
  .map((f) => ({ name: f, lines: readFileSync(new URL(f, dir), "utf8").split("\n") }));

/** What a token may become: other numbers, flags, keywords and punctuation of the grammar. */
const TOKENS = ["0", "1", "-1", "+0", "+.1", "*", "4294967295", "65536", "S", "S.", "F.", "R", ".", "P.", "<", ">", "...", "[]", "[0]", "=", "ack", "win", "mss", "sack", "TS", "val", "ecr", "nop", "wscale", "%{", "}%", "(", ")", ",", "~", "1:1(0)", "0:0(0)", "1:1001(1000)", "EAGAIN", "NULL", ""];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), line: fc.nat() }),
  fc.record({ kind: fc.constant("repeat" as const), line: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), line: fc.nat(), other: fc.nat() }),
  fc.record({
    kind: fc.constant("token" as const),
    line: fc.nat(),
    token: fc.nat(),
    by: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TOKENS) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }, { weight: 1, arbitrary: fc.double().map(String) }),
  }),
);

type Mutation = { kind: "delete"; line: number } | { kind: "repeat"; line: number } | { kind: "swap"; line: number; other: number } | { kind: "token"; line: number; token: number; by: string };

function mutate(lines: string[], m: Mutation): void {
  if (lines.length === 0) return;
  const i = m.line % lines.length;
  if (m.kind === "delete") lines.splice(i, 1);
  else if (m.kind === "repeat") lines.splice(i, 0, lines[i]!);
  else if (m.kind === "swap") {
    const j = m.other % lines.length;
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  } else {
    const tokens = lines[i]!.split(/(\s+)/);
    const words = tokens.map((t, k) => (/\S/.test(t) ? k : -1)).filter((k) => k >= 0);
    if (words.length > 0) tokens[words[m.token % words.length]!] = m.by;
    lines[i] = tokens.join("");
  }
}

describe("a system call missing an argument it reads", () => {
  it.each([
    ["write(4, 3952) = 3952", "write() takes 3 arguments here, got 2"],
    ["fcntl(3, F_SETFL) = 0", "fcntl(F_SETFL) takes 3 arguments"],
  ])("%s is a syntax error at its line, as packetdrill's check_arg_count makes it", (call, message) => {
    const script = ["0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3", "+0 bind(3, ..., ...) = 0", "+0 listen(3, 1) = 0", `+0 ${call}`].join("\n");
    const thrown = (() => {
      try {
        runDrill(script, "arity.pkt");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(DrillSyntaxError);
    expect((thrown as DrillSyntaxError).pos.line).toBe(4);
    expect((thrown as DrillSyntaxError).message).toContain(message);
  });
});

describe("a time past the engine's clock (MAX_CLOCK_MS, 2^42 ms)", () => {
  // Found by the property below: a token replaced by 455299714274254900000 made the runner
  // poll the engine at 4.6e23 ms, where a re-armed timer is due again at once: it never ended.
  it.each([
    ["an absolute time", "455299714274254900000 accept(3, ..., ...) = 4"],
    ["a relative one", "+4398046512 accept(3, ..., ...) = 4"],
  ])("fails the script at its line, as %s", (_what, line) => {
    const script = ["0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3", "+0 bind(3, ..., ...) = 0", "+0 listen(3, 1) = 0", line].join("\n");
    const result = runDrill(script, "far.pkt");
    expect(result.status).toBe("fail");
    expect(result.line).toBe(4);
    expect(result.reason).toContain("past the 4398046511.104 s (2^42 ms) the engine's clock counts to");
  });
});

describe("drill scripts with lines or tokens changed", () => {
  it("fail to parse with a located syntax error, or run to a verdict", () => {
    fc.assert(
      fc.property(fc.nat(sources.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const lines = [...sources[which]!.lines];
        for (const m of mutations) mutate(lines, m);
        let result;
        try {
          result = runDrill(lines.join("\n"), sources[which]!.name);
        } catch (e) {
          expect(e, String(e instanceof Error ? e.stack : e)).toBeInstanceOf(DrillSyntaxError);
          expect((e as DrillSyntaxError).pos.line).toBeGreaterThan(0);
          return;
        }
        expect(["pass", "fail", "unsupported"]).toContain(result.status);
      }),
      { numRuns: RUNS },
    );
  });
});
