/**
 * The 4-tuple table (open addressing, backward-shift deletion, growth and shrinking):
 * under any sequence of adds, deletes, TIME_WAIT replacements and lookups it answers as
 * a Map keyed by the 4-tuple would, and lists entries in insertion order.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Connection } from "../../src/tcp/connection.js";
import { ConnectionTable } from "../../src/tcp/connection-table.js";
import type { FourTuple } from "../../src/trace/events.js";
import { IpAddress } from "../../src/wire/address.js";

// Few distinct values per field, so that tuples repeat and buckets collide; both families,
// including IPv6 addresses whose folded words are equal (the exact comparison must tell them apart).
const v4 = (n: number) => IpAddress.v4(n);
const v6 = (a: number, b: number) => IpAddress.v6(0xfd000000, 0, a, b);
const tupleArb = fc.oneof(
  fc.record({
    localAddr: fc.constantFrom(v4(0x0a000001), v4(0xc0a80101), v4(0xffffffff)),
    localPort: fc.constantFrom(80, 443, 40000, 65535),
    remoteAddr: fc.constantFrom(v4(0x0a000002), v4(0x0b000000), v4(0x80000000)),
    // Remote port 0 too: only a tuple with both ports 0 has the empty bucket's ports word.
    remotePort: fc.integer({ min: 0, max: 40 }),
  }),
  fc.record({
    localAddr: fc.constantFrom(v6(0, 1), v6(1, 0)),
    localPort: fc.constantFrom(80, 443),
    remoteAddr: fc.constantFrom(v6(0, 2), v6(2, 0), v6(0x0a000002, 0)),
    remotePort: fc.integer({ min: 1, max: 40 }),
  }),
);
const key = (t: FourTuple): string => `${t.localAddr.toString()}:${t.localPort}>${t.remoteAddr.toString()}:${t.remotePort}`;

describe("ConnectionTable", () => {
  it("behaves like an insertion-ordered map of 4-tuples", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), t: tupleArb }),
      fc.record({ kind: fc.constant("delete" as const), t: tupleArb }),
      fc.record({ kind: fc.constant("replace" as const), t: tupleArb, slot: fc.nat(1000) }),
      fc.record({ kind: fc.constant("burst" as const), n: fc.integer({ min: 1, max: 300 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
        const table = new ConnectionTable();
        const model = new Map<string, { t: FourTuple; v: Connection | number }>();
        let burstPort = 1000;
        for (const o of ops) {
          if (o.kind === "add") {
            const conn = { tuple: o.t } as unknown as Connection;
            table.add(conn);
            const prev = model.get(key(o.t));
            if (prev !== undefined) prev.v = conn;
            else model.set(key(o.t), { t: o.t, v: conn });
          } else if (o.kind === "delete") {
            const e = model.get(key(o.t));
            if (e !== undefined) {
              if (typeof e.v === "number") table.deleteEntry(o.t.localAddr, o.t.localPort, o.t.remoteAddr, o.t.remotePort, e.v);
              else table.delete(e.v);
              model.delete(key(o.t));
            }
          } else if (o.kind === "replace") {
            const e = model.get(key(o.t));
            const conn = typeof e?.v === "object" ? e.v : ({ tuple: o.t } as unknown as Connection);
            const replaced = table.replace(conn, o.slot);
            expect(replaced).toBe(typeof e?.v === "object");
            if (replaced) e!.v = o.slot;
          } else {
            // Grow past a resize, then remove them all again (shrinking).
            const added: Connection[] = [];
            for (let i = 0; i < o.n; i++) {
              const conn = { tuple: { localAddr: v4(1), localPort: 1, remoteAddr: v4(2), remotePort: burstPort++ } } as unknown as Connection;
              table.add(conn);
              added.push(conn);
            }
            expect(table.size).toBe(model.size + o.n);
            for (const c of added) table.delete(c);
          }
          expect(table.size).toBe(model.size);
        }
        for (const { t, v } of model.values()) {
          expect(table.lookup(t.localAddr, t.localPort, t.remoteAddr, t.remotePort)).toBe(v);
          expect(table.has(t)).toBe(true);
        }
        expect(table.entries()).toEqual([...model.values()].map((e) => e.v));
        expect([...table.connections()]).toEqual([...model.values()].map((e) => e.v).filter((v) => typeof v === "object"));
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a tuple with both ports 0, the ports word of an empty bucket, and finds none", () => {
    const table = new ConnectionTable();
    const t = { localAddr: v4(0x0a000001), localPort: 0, remoteAddr: v4(0x0a000002), remotePort: 0 };
    expect(() => table.addEntry(t, 1)).toThrow(RangeError);
    table.addEntry({ ...t, localPort: 80, remotePort: 1 }, 2);
    expect(table.lookup(t.localAddr, 0, t.remoteAddr, 0)).toBeUndefined();
    expect(table.size).toBe(1);
  });
});
