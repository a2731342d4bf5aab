/**
 * A capture file opened on the page is user input: whatever its bytes (damaged, truncated,
 * made by another tool, or not a capture at all), reading and inferring it either works or
 * throws CaptureFormatError, which the page shows; nothing else escapes. The damaged files
 * start from real ones, both formats, so the fuzzer gets past the headers.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { CaptureFormatError } from "../../src/trace/capture-read.js";
import { inferCapture } from "../../web/playground/model/inferred.js";
import { fakeIo } from "../cli/fake-io.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("CAPTURE_FUZZ_RUNS", 300);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 300).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

/** Each built-in run whose capture is a base for damage, in both formats. */
const BASES: [string, string][] = [
  ["lost-data", "a.pcap"],
  ["reordering", "b.pcapng"],
  ["fast-open", "c.pcap"],
];
const captures: Uint8Array[] = [];

beforeAll(async () => {
  for (const [name, file] of BASES) {
    const { io, written } = fakeIo();
    // The file name decides the format (pcapng for *.pcapng), as with `synack demo --pcap`.
    expect(await main(["demo", name, "--pcap", file], io)).toBe(0);
    captures.push(written.get(file)!);
  }
});

/** Reads the file as the page does: any error but CaptureFormatError is a defect. */
function readsOrRefuses(bytes: Uint8Array): void {
  try {
    inferCapture(bytes, "fuzz");
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
  }
}

/** One change to a file: a byte overwritten, a run of bytes dropped or the file cut short. */
const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("drop" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
);

type Damage = { kind: "set"; at: number; value: number } | { kind: "drop"; at: number; length: number } | { kind: "cut"; at: number };

function damaged(file: Uint8Array, changes: Damage[]): Uint8Array {
  let out = file.slice();
  for (const c of changes) {
    if (out.length === 0) break;
    const at = c.at % out.length;
    if (c.kind === "set") out[at] = c.value;
    else if (c.kind === "drop") out = new Uint8Array([...out.subarray(0, at), ...out.subarray(at + c.length)]);
    else out = out.subarray(0, at);
  }
  return out;
}

describe("capture files on the page", () => {
  it("random bytes are read or refused with CaptureFormatError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => readsOrRefuses(bytes)),
      { numRuns: RUNS },
    );
  });

  it("damaged real captures (pcap and pcapng) are read or refused with CaptureFormatError", () => {
    fc.assert(
      fc.property(fc.nat({ max: BASES.length - 1 }), fc.array(damage, { minLength: 1, maxLength: 8 }), (which, changes) => readsOrRefuses(damaged(captures[which]!, changes))),
      { numRuns: RUNS },
    );
  });
});
