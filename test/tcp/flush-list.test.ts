/** The layer's flush list: each item once, in marking order, re-marks to the next batch, removals left out. */
import { describe, expect, it } from "vitest";
import { FlushList } from "../../src/tcp/flush-list.js";
import { pair, PAIR_ADDRESSES } from "./fixtures.js";

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

describe("FlushList keeps nothing alive", () => {
  const entries = (list: FlushList<Item>): unknown[] => {
    const l = list as unknown as { pending: unknown[]; batch: unknown[] };
    return [...l.pending, ...l.batch].filter((x) => x !== undefined);
  };

  it("removing every listed item drops their entries at once, not at the next take", () => {
    const list = new FlushList<Item>();
    const [a, b] = [item("a"), item("b")];
    list.add(a);
    list.add(b);
    list.remove(a);
    expect(entries(list)).toHaveLength(2); // b is still listed; a's entry waits for the take
    list.remove(b);
    expect(entries(list)).toEqual([]);
  });

  it("the TCP layer clears each batch entry as it flushes it: closed connections are not held (TIME_WAIT heap)", () => {
    const { net, client, server } = pair();
    const listener = server.tcp.listen(80);
    listener.onConnection = () => listener.accept()?.close();
    for (let i = 0; i < 20; i++) client.tcp.connect({ localAddr: PAIR_ADDRESSES[4].client, remoteAddr: PAIR_ADDRESSES[4].server, remotePort: 80 });
    net.run({ until: 100 });
    for (const c of client.tcp.allConnections()) c.close();
    net.run({ until: 1000 });
    expect(client.tcp.allConnections().filter((c) => c.state !== "TIME_WAIT")).toEqual([]);
    for (const host of [client, server]) {
      const list = (host.tcp as unknown as { dirty: FlushList<Item> }).dirty;
      expect(entries(list)).toEqual([]);
    }
  });
});
