import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventQueue, VirtualClock } from "../../src/sim/clock.js";

describe("EventQueue", () => {
  it("is empty at first: size 0, peekTime Infinity, pop undefined", () => {
    const q = new EventQueue<string>();
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Infinity);
    expect(q.pop()).toBeUndefined();
  });

  it("pops by time, and first-in first-out among equal times", () => {
    const q = new EventQueue<string>();
    q.push(5, "e");
    q.push(1, "a");
    q.push(3, "c1");
    q.push(3, "c2");
    q.push(1, "b");
    q.push(3, "c3");
    const out: string[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e.item);
    expect(out).toEqual(["a", "b", "c1", "c2", "c3", "e"]);
  });

  it("agrees with a stable sort for any interleaving of pushes and pops", () => {
    const op = fc.oneof(fc.integer({ min: 0, max: 20 }).map((t) => ({ push: t })), fc.constant({ push: undefined }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new EventQueue<number>();
        let model: Array<{ time: number; id: number }> = [];
        let id = 0;
        for (const o of ops) {
          if (o.push !== undefined) {
            q.push(o.push, id);
            model.push({ time: o.push, id: id++ });
          } else {
            // Array.prototype.sort is stable, so this is the FIFO-among-ties reference.
            model = model.sort((x, y) => x.time - y.time);
            const expected = model.shift();
            const got = q.pop();
            expect(got === undefined ? undefined : { time: got.time, id: got.item }).toEqual(expected);
          }
          expect(q.size).toBe(model.length);
        }
      }),
    );
  });

  it("refuses NaN times, which would corrupt the heap order", () => {
    expect(() => new EventQueue<number>().push(Number.NaN, 1)).toThrow(RangeError);
  });
});

describe("VirtualClock", () => {
  it("moves forward and refuses to go backwards", () => {
    const c = new VirtualClock();
    expect(c.now).toBe(0);
    c.advanceTo(10);
    c.advanceTo(10);
    expect(c.now).toBe(10);
    expect(() => c.advanceTo(9)).toThrow(/backwards/);
  });
});
