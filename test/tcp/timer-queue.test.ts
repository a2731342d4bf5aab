/** The indexed timer heap: always yields the earliest deadline; moves and removals are exact. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TimerQueue } from "../../src/tcp/timer-queue.js";

interface Owner {
  id: number;
  timerIndex: number;
}

describe("TimerQueue", () => {
  it("behaves like a map of deadlines under any sequence of schedule/remove/pop", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("schedule" as const), id: fc.nat(20), at: fc.oneof(fc.nat(1000), fc.constant(Infinity)) }),
      fc.record({ kind: fc.constant("remove" as const), id: fc.nat(20) }),
      fc.record({ kind: fc.constant("pop" as const), now: fc.nat(1000) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new TimerQueue<Owner>();
        const owners = Array.from({ length: 21 }, (_, id) => ({ id, timerIndex: -1 }));
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === "schedule") {
            q.schedule(owners[o.id]!, o.at);
            if (o.at === Infinity) model.delete(o.id);
            else model.set(o.id, o.at);
          } else if (o.kind === "remove") {
            q.remove(owners[o.id]!);
            model.delete(o.id);
          } else {
            const popped = q.popDue(o.now);
            const earliest = Math.min(...model.values());
            if (earliest <= o.now) {
              expect(popped).toBeDefined();
              expect(model.get(popped!.id)).toBe(earliest);
              model.delete(popped!.id);
            } else {
              expect(popped).toBeUndefined();
            }
          }
          expect(q.size).toBe(model.size);
          for (const w of owners) expect(q.deadlineOf(w)).toBe(model.get(w.id) ?? Infinity);
          expect(q.peekTime()).toBe(model.size === 0 ? Infinity : Math.min(...model.values()));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("keeps its arrays at their longest as the queue empties, holding no owner past the end", () => {
    // V8 gives back the storage of an array that pop() shortens well below its capacity, and
    // allocates it again as pushes refill it: the queue's size swings with every RTO armed
    // and cancelled, so it keeps its own count instead (timer-queue.ts).
    const q = new TimerQueue<Owner>();
    const owners = Array.from({ length: 200 }, (_, id) => ({ id, timerIndex: -1 }));
    owners.forEach((o, i) => q.schedule(o, 1000 - i));
    const arrays = q as unknown as { heap: (Owner | undefined)[]; times: number[] };
    for (const o of owners.slice(0, 190)) q.remove(o);
    expect(q.size).toBe(10);
    expect(arrays.heap.length).toBe(200);
    expect(arrays.times.length).toBe(200);
    expect(arrays.heap.slice(10).every((e) => e === undefined)).toBe(true);
    expect(q.peekTime()).toBe(1000 - 199);
    while (q.popDue(Infinity) !== undefined);
    expect(q.size).toBe(0);
    expect(q.peekTime()).toBe(Infinity);
    expect(arrays.heap.every((e) => e === undefined)).toBe(true);
  });
});
