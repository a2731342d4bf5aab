/**
 * SlotArrays (slot-arrays.ts): the struct-of-arrays storage of TIME_WAIT and request
 * records. Besides the heap order, its field object must stay an ordinary (fast) object in
 * V8: a dictionary made every field read of the per-connection paths a generic lookup.
 */
import { setFlagsFromString } from "node:v8";
import { describe, expect, it } from "vitest";
import { SlotArrays } from "../../src/tcp/slot-arrays.js";

/** V8's own answer (natives syntax, enabled for this one function). */
function hasFastProperties(o: object): boolean {
  setFlagsFromString("--allow-natives-syntax");
  return (new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean)(o);
}

/** As many fields as the request table (request-table.ts) has, and a few more. */
function manyFields(n: number): Record<string, Uint32ArrayConstructor> & { deadline: Float64ArrayConstructor } {
  const spec: Record<string, Uint32ArrayConstructor | Float64ArrayConstructor> = { deadline: Float64Array };
  for (let i = 0; i < n; i++) spec[`field${i}`] = Uint32Array;
  return spec as Record<string, Uint32ArrayConstructor> & { deadline: Float64ArrayConstructor };
}

describe("SlotArrays", () => {
  it("keeps its field object fast with many fields, before and after growing", () => {
    const a = new SlotArrays(manyFields(30));
    expect(hasFastProperties(a.f)).toBe(true);
    for (let i = 0; i < 200; i++) a.alloc(i);
    expect(a.capacity).toBeGreaterThan(64);
    expect(hasFastProperties(a.f)).toBe(true);
  });

  it("hands out the slot with the earliest deadline first", () => {
    const a = new SlotArrays(manyFields(2));
    const late = a.alloc(30);
    const early = a.alloc(10);
    const mid = a.alloc(20);
    expect(a.peek()).toBe(early);
    a.release(early);
    expect(a.peek()).toBe(mid);
    a.f.deadline[late] = 5;
    a.moved(late);
    expect(a.peek()).toBe(late);
    expect(a.peekTime()).toBe(5);
  });
});
