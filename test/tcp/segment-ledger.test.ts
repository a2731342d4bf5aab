/** The TCP_INFO segment ledger against a plain array of entries, through pushes, splits and shifts. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SegmentLedger } from "../../src/tcp/segment-ledger.js";
import type { Seq } from "../../src/wire/seq.js";

interface Entry {
  start: number;
  end: number;
  retrans: boolean;
}

function contents(l: SegmentLedger): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < l.size; i++) out.push({ start: l.start(i), end: l.end(i), retrans: l.retransmitted(i) });
  return out;
}

describe("SegmentLedger", () => {
  it("keeps the same entries as a plain queue, whatever mix of operations (compaction and growth included)", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), len: fc.integer({ min: 1, max: 3000 }) }),
      fc.record({ kind: fc.constant("shift" as const) }),
      fc.record({ kind: fc.constant("split" as const), at: fc.nat(), cut: fc.double({ min: 0.01, max: 0.99, noNaN: true }) }),
      fc.record({ kind: fc.constant("mark" as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.nat({ max: 0xffffffff }), (ops, base) => {
        const l = new SegmentLedger();
        const model: Entry[] = [];
        let next = base;
        for (const o of ops) {
          if (o.kind === "push") {
            const end = (next + o.len) >>> 0;
            l.push(next as Seq, end as Seq);
            model.push({ start: next, end, retrans: false });
            next = end;
          } else if (o.kind === "shift") {
            if (model.length === 0) continue;
            l.shift();
            model.shift();
          } else if (o.kind === "split") {
            if (model.length === 0) continue;
            const i = o.at % model.length;
            const e = model[i]!;
            const len = (e.end - e.start) >>> 0;
            if (len < 2) continue;
            const at = (e.start + Math.max(1, Math.min(len - 1, Math.floor(len * o.cut)))) >>> 0;
            l.split(i, at as Seq);
            model.splice(i, 1, { start: e.start, end: at, retrans: e.retrans }, { start: at, end: e.end, retrans: e.retrans });
          } else {
            if (model.length === 0) continue;
            const i = o.at % model.length;
            l.markRetransmitted(i);
            model[i]!.retrans = true;
          }
          expect(l.size).toBe(model.length);
        }
        expect(contents(l)).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });
});
