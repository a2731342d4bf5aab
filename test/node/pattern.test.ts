/**
 * GET /bytes/N's pattern: fillPattern's word-at-a-time path (aligned offsets on a
 * little-endian machine) must give the same bytes as the byte-by-byte definition.
 */
import { describe, expect, it } from "vitest";
import { fillPattern, patternByte } from "../../src/node/services/pattern.js";

function expected(offset: number, length: number): number[] {
  return Array.from({ length }, (_, i) => patternByte(offset + i));
}

describe("fillPattern", () => {
  for (const [offset, length] of [
    [0, 4099],
    [4, 10],
    [3, 100],
    [65536 * 7, 13],
    [2 ** 33, 1000],
    [2 ** 33 + 2, 7],
  ] as const) {
    it(`matches patternByte at offset ${offset}, ${length} bytes`, () => {
      expect(Array.from(fillPattern(new Uint8Array(length), offset))).toEqual(expected(offset, length));
    });
  }

  it("fills a view that does not start on a word boundary of its buffer", () => {
    const buf = new Uint8Array(64);
    fillPattern(buf.subarray(1, 41), 8);
    expect(Array.from(buf.subarray(1, 41))).toEqual(expected(8, 40));
    expect(buf[0]).toBe(0);
    expect(buf[41]).toBe(0);
  });
});
