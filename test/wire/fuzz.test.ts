/**
 * Parsers face untrusted bytes: whatever arrives, they return a ParseResult and never throw,
 * and what they return on success stays inside the bytes they were given.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseIcmp, parseIcmpQuote } from "../../src/wire/icmp.js";
import { parseIpv4 } from "../../src/wire/ipv4.js";
import type { ParseError, ParseResult } from "../../src/wire/result.js";
import { parseTcp, TCP_MAX_HEADER, TCP_MIN_HEADER } from "../../src/wire/tcp.js";
import { parseUdp } from "../../src/wire/udp.js";
import { hex } from "./helpers.js";

const RUNS = 20_000;

const REASONS: readonly ParseError[] = [
  "truncated",
  "bad-version",
  "bad-header-length",
  "bad-total-length",
  "bad-checksum",
  "bad-data-offset",
  "bad-option",
  "bad-length",
];

function checkResult<T>(r: ParseResult<T>): T | undefined {
  expect(typeof r.ok).toBe("boolean");
  if (r.ok) return r.value;
  expect(REASONS).toContain(r.reason);
  return undefined;
}

/**
 * A payload view must lie inside the input buffer (no copy escapes the bounds). An empty
 * payload has no bytes to escape: parseTcp gives every bare segment one shared empty array.
 */
function expectWithin(view: Uint8Array, input: Uint8Array): void {
  if (view.length === 0) return;
  expect(view.buffer).toBe(input.buffer);
  expect(view.byteOffset).toBeGreaterThanOrEqual(input.byteOffset);
  expect(view.byteOffset + view.length).toBeLessThanOrEqual(input.byteOffset + input.length);
}

const anyBytes = fc.uint8Array({ maxLength: 120 });
const pseudoArb = fc.option(fc.record({ src: fc.nat({ max: 0xffffffff }), dst: fc.nat({ max: 0xffffffff }) }));

/** Valid packets to mutate, so that fuzzing reaches past the first length checks. */
const SEEDS = [
  // The golden Linux SYN (IPv4 + TCP with options).
  hex(`45 00 00 3c 1c 46 40 00 40 06 26 dc c0 a8 01 17 5d b8 d8 22 d4 31 00 50 4a 3b 2c 1d 00 00 00 00
       a0 02 fa f0 d4 42 00 00 02 04 05 b4 04 02 08 0a 0a 1b 2c 3d 00 00 00 00 01 03 03 07`),
  // TCP with SACK blocks (header only).
  hex(`04 d2 00 50 00 00 00 01 00 00 00 02 a0 10 03 e8 00 00 00 00
       01 01 08 0a 00 00 00 05 00 00 00 06 01 01 05 12 00 00 00 0a 00 00 00 14 00 00 00 1e 00 00 00 28`),
  // ICMP port unreachable quoting a UDP datagram.
  hex(`03 03 4a 3e 00 00 00 00 45 00 00 39 4d 2f 40 00 40 11 1b b6 c0 a8 01 17 08 08 08 08
       9c 40 00 35 00 25 16 24`),
];

/** A seed with a few bytes overwritten and possibly cut short. */
const mutated = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 4 }),
    fc.nat(),
    fc.nat({ max: 63 }),
  )
  .map(([seed, edits, cut, skip]) => {
    const b = seed.slice();
    for (const [at, v] of edits) b[at % b.length] = v;
    const start = skip % 3 === 0 ? 0 : skip % 29; // sometimes start inside the seed
    return b.subarray(start, Math.max(start, b.length - (cut % 8 === 0 ? cut % b.length : 0)));
  });

const inputs = fc.oneof(anyBytes, mutated);

describe("parsers never throw on arbitrary bytes", () => {
  it("parseIpv4 (with and without checksum verification)", () => {
    fc.assert(
      fc.property(inputs, fc.boolean(), fc.boolean(), (b, forceV4, verifyChecksum) => {
        const bytes = b.slice();
        if (forceV4 && bytes.length > 0) bytes[0] = 0x40 | (bytes[0]! & 0x0f);
        const v = checkResult(parseIpv4(bytes, { verifyChecksum }));
        if (v !== undefined) {
          expect(v.header.headerLength).toBeGreaterThanOrEqual(20);
          expect(v.payload.length).toBe(v.header.totalLength - v.header.headerLength);
          expectWithin(v.payload, bytes);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("parseTcp (with a pseudo-header and with null)", () => {
    fc.assert(
      fc.property(inputs, pseudoArb, (bytes, pseudo) => {
        const v = checkResult(parseTcp(bytes, pseudo));
        if (v !== undefined) {
          const header = bytes.length - v.payload.length;
          expect(header).toBeGreaterThanOrEqual(TCP_MIN_HEADER);
          expect(header).toBeLessThanOrEqual(TCP_MAX_HEADER);
          expectWithin(v.payload, bytes);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("parseTcp of a segment inside larger bytes (as IP input reads it) equals parseTcp of the segment alone", () => {
    const pad = fc.uint8Array({ maxLength: 24 });
    fc.assert(
      fc.property(inputs, pseudoArb, pad, pad, (bytes, pseudo, before, after) => {
        const whole = new Uint8Array(before.length + bytes.length + after.length);
        whole.set(before, 0);
        whole.set(bytes, before.length);
        whole.set(after, before.length + bytes.length);
        const inPlace = parseTcp(whole, pseudo, before.length, before.length + bytes.length);
        const alone = parseTcp(bytes, pseudo);
        expect(inPlace.ok).toBe(alone.ok);
        if (!inPlace.ok || !alone.ok) {
          expect(inPlace).toEqual(alone);
          return;
        }
        expect({ ...inPlace.value, payload: [...inPlace.value.payload] }).toEqual({ ...alone.value, payload: [...alone.value.payload] });
        expectWithin(inPlace.value.payload, whole.subarray(before.length, before.length + bytes.length));
      }),
      { numRuns: RUNS / 4 },
    );
  });

  it("parseUdp (with a pseudo-header and with null)", () => {
    fc.assert(
      fc.property(inputs, pseudoArb, (bytes, pseudo) => {
        const v = checkResult(parseUdp(bytes, pseudo));
        if (v !== undefined) {
          expect(v.payload.length).toBeLessThanOrEqual(bytes.length - 8);
          expectWithin(v.payload, bytes);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("parseIcmp (with and without checksum verification) and parseIcmpQuote", () => {
    fc.assert(
      fc.property(inputs, fc.boolean(), (bytes, verifyChecksum) => {
        const m = checkResult(parseIcmp(bytes, { verifyChecksum }));
        if (m !== undefined && (m.kind === "dest-unreachable" || m.kind === "time-exceeded")) {
          expectWithin(m.original, bytes);
          const q = checkResult(parseIcmpQuote(m.original));
          if (q !== undefined) {
            expect(q.transport.length).toBeGreaterThanOrEqual(8);
            expectWithin(q.transport, bytes);
          }
        }
        checkResult(parseIcmpQuote(bytes));
      }),
      { numRuns: RUNS },
    );
  });
});
