/**
 * Command lines are user input: `synack demo|run|ss|drill` with random options (known
 * ones with odd values, unknown ones, stray positionals) exits 0, 1 (checks or a script
 * failed) or 2 (usage, with a message), never 3, the internal error.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIo } from "./fake-io.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("ARGV_FUZZ_RUNS", 300);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 300).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

const SCENARIO = JSON.stringify({
  name: "tiny",
  hosts: [
    { name: "a", address: "10.0.0.1" },
    { name: "b", address: "10.0.0.2" },
  ],
  script: [
    { at: 0, do: "listen", host: "b", port: 80 },
    { at: 0, do: "connect", host: "a", to: "b", port: 80 },
    { at: "100ms", do: "send", host: "a", text: "hi" },
    { at: "200ms", do: "close", host: "a" },
  ],
});
/** `drill` reads scripts from the file system: one of this repository's. */
const SCRIPT = fileURLToPath(new URL("../drill/scripts/features.pkt", import.meta.url));

const value = fc.oneof(
  fc.constantFrom("0", "-1", "1.5", "NaN", "1e9", "100%", "0.5", "2", "10ms", "3s", "-5ms", "", "x", "all", "ipv6", "ipv4", "tiny.json", SCRIPT, "/nonexistent", "out.pcap", "syn,fin", "handshake"),
  fc.string({ maxLength: 6 }),
);
const OPTIONS = ["--seed", "--loss", "--delay", "--explain", "--json", "--payload-hex", "--pcap", "--pcapng", "--capture", "--absolute", "--color", "--no-color", "--ipv6", "--at", "--host", "--max", "-i", "--info", "--ip-version", "--verbose", "-v", "--list", "--help", "--bogus", "-"];
const token = fc.oneof(fc.constantFrom(...OPTIONS), value, fc.constantFrom("handshake", "syn-flood", "tiny.json", SCRIPT, "three-way", "nope"));

describe("command lines", () => {
  it("exit 0, 1 or 2 whatever the options, never with an internal error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("demo", "run", "ss", "drill"), fc.boolean(), fc.array(token, { maxLength: 6 }), async (command, usual, options) => {
        // Half the time the positional the command expects comes first.
        const rest = usual ? [{ demo: "handshake", run: "tiny.json", ss: "tiny.json", drill: SCRIPT }[command], ...options] : options;
        const f = fakeIo({ files: { "tiny.json": SCENARIO, [SCRIPT]: readFileSync(SCRIPT, "utf8") } });
        const code = await main([command, ...rest], f.io);
        expect([0, 1, 2], `synack ${[command, ...rest].join(" ")}\n${f.err()}`).toContain(code);
        // A usage error says so on stderr; a drill script that does not parse, on its ERROR line.
        if (code === 2) expect(f.err() + f.out()).toMatch(/^synack: |^ERROR /m);
      }),
      { numRuns: RUNS },
    );
  });
});
