import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  seq,
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqInWindow,
  seqLe,
  seqLt,
  seqMax,
  seqMin,
  type Seq,
} from "../../src/wire/seq.js";

const MAX = seq(0xffffffff);
const ZERO = seq(0);
const anySeq = fc.nat({ max: 0xffffffff }).map(seq);
/** Distances strictly inside the half of the space where comparison is defined. */
const distance = fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 });

describe("sequence arithmetic (RFC 1982 / RFC 9293 3.4)", () => {
  it("wraps seq() and seqAdd() into [0, 2^32)", () => {
    expect(seq(-1)).toBe(0xffffffff);
    expect(seq(2 ** 32)).toBe(0);
    expect(seqAdd(MAX, 1)).toBe(0);
    expect(seqAdd(MAX, 2)).toBe(1);
    expect(seqAdd(ZERO, -1)).toBe(0xffffffff);
    expect(seqAdd(seq(5), -10)).toBe(0xfffffffb);
  });

  it("compares across the wrap", () => {
    expect(seqLt(MAX, ZERO)).toBe(true);
    expect(seqGt(ZERO, MAX)).toBe(true);
    expect(seqLe(MAX, ZERO)).toBe(true);
    expect(seqGe(ZERO, MAX)).toBe(true);
    expect(seqLt(seq(0xfffffff0), seq(0x10))).toBe(true);
    expect(seqLt(seq(0x10), seq(0xfffffff0))).toBe(false);
    expect(seqLt(ZERO, ZERO)).toBe(false);
    expect(seqLe(ZERO, ZERO)).toBe(true);
    expect(seqMax(MAX, ZERO)).toBe(0);
    expect(seqMin(MAX, ZERO)).toBe(0xffffffff);
  });

  it("measures signed distance across the wrap", () => {
    expect(seqDiff(ZERO, MAX)).toBe(1);
    expect(seqDiff(MAX, ZERO)).toBe(-1);
    expect(seqDiff(seq(3), seq(0xfffffffe))).toBe(5);
    expect(seqDiff(seq(0x80000000), ZERO)).toBe(-(2 ** 31));
  });

  it("seqInWindow across the wrap, and a zero window holds nothing", () => {
    expect(seqInWindow(seq(2), seq(0xfffffff0), 0x20)).toBe(true);
    expect(seqInWindow(seq(0x10), seq(0xfffffff0), 0x20)).toBe(false);
    expect(seqInWindow(seq(0xfffffff0), seq(0xfffffff0), 1)).toBe(true);
    expect(seqInWindow(seq(0xffffffef), seq(0xfffffff0), 0x20)).toBe(false);
    expect(seqInWindow(ZERO, ZERO, 0)).toBe(false);
  });

  it("seqAdd and seqDiff are inverses", () => {
    fc.assert(
      fc.property(anySeq, distance, (a, n) => {
        const b = seqAdd(a, n);
        expect(seqDiff(b, a)).toBe(n);
        expect(seqAdd(a, seqDiff(b, a))).toBe(b);
      }),
    );
    fc.assert(
      fc.property(anySeq, anySeq, (a, b) => {
        expect(seqAdd(b, seqDiff(a, b))).toBe(a);
      }),
    );
  });

  it("orders a before a + n for every positive distance, whatever a is", () => {
    fc.assert(
      fc.property(anySeq, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (a, n) => {
        const b: Seq = seqAdd(a, n);
        expect(seqLt(a, b)).toBe(true);
        expect(seqGt(b, a)).toBe(true);
        expect(seqLe(b, a)).toBe(false);
        expect(seqMax(a, b)).toBe(b);
        expect(seqMin(a, b)).toBe(a);
        expect(seqInWindow(seqAdd(a, n - 1), a, n)).toBe(true);
        expect(seqInWindow(b, a, n)).toBe(false);
      }),
    );
  });
});
