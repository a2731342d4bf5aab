/** The layer's flush list: each item once, in marking order, re-marks to the next batch, removals left out. */
import { describe, expect, it } from "vitest";
import { FlushList } from "../../src/tcp/flush-list.js";

interface Item {
  name: string;
  dirtyQueued: boolean;
}
const item = (name: string): Item => ({ name, dirtyQueued: false });

function batchOf(list: FlushList<Item>): string[] {
  const n = list.take();
  return list.batch.slice(0, n).map((i) => i!.name);
}

describe("FlushList", () => {
  it("lists each item once, in the order first marked", () => {
    const list = new FlushList<Item>();
    const [a, b] = [item("a"), item("b")];
    list.add(a);
    list.add(b);
    list.add(a);
    expect(list.size).toBe(2);
    expect(batchOf(list)).toEqual(["a", "b"]);
    expect(list.size).toBe(0);
    expect(a.dirtyQueued).toBe(false);
  });

  it("an item marked again while its batch is flushed joins the next batch", () => {
    const list = new FlushList<Item>();
    const [a, b] = [item("a"), item("b")];
    list.add(a);
    list.add(b);
    const n = list.take();
    expect(n).toBe(2);
    list.add(b); // b's flush (or a's) dirtied b again
    expect(list.size).toBe(1);
    expect(batchOf(list)).toEqual(["b"]);
    expect(batchOf(list)).toEqual([]);
  });

  it("a removed item is left out, and can be listed again", () => {
    const list = new FlushList<Item>();
    const [a, b, c] = [item("a"), item("b"), item("c")];
    list.add(a);
    list.add(b);
    list.add(c);
    list.remove(b);
    list.remove(b);
    expect(list.size).toBe(2);
    expect(batchOf(list)).toEqual(["a", "c"]);
    list.add(b);
    expect(batchOf(list)).toEqual(["b"]);
  });

  it("keeps no reference to a flushed item once the next batch is taken", () => {
    const list = new FlushList<Item>();
    list.add(item("a"));
    list.take();
    list.add(item("b"));
    list.take();
    list.take();
    expect(list.batch.every((i) => i === undefined)).toBe(true);
  });
});
