/** The delivery-rate estimator's send-time snapshots (congestion/rate-snapshots.ts), alone and against a Map. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RateSnapshots } from "../../src/tcp/congestion/rate-snapshots.js";
import { seq, seqAdd, seqLe, type Seq } from "../../src/wire/seq.js";

interface Snap {
  delivered: number;
  deliveredAt: number;
  firstSentAt: number;
  appLimited: boolean;
}

function read(s: RateSnapshots, end: Seq): Snap | undefined {
  const o = s.take(end);
  return o < 0 ? undefined : { delivered: s.delivered(o), deliveredAt: s.deliveredAt(o), firstSentAt: s.firstSentAt(o), appLimited: s.appLimited(o) };
}

describe("rate snapshots", () => {
  it("finds each segment's snapshot by its end, once", () => {
    const s = new RateSnapshots();
    s.set(seq(1000), 0, 0, 0, false);
    s.set(seq(2000), 1000, 5, 0, true);
    expect(read(s, seq(2000))).toEqual({ delivered: 1000, deliveredAt: 5, firstSentAt: 0, appLimited: true });
    expect(read(s, seq(2000))).toBeUndefined(); // delivered already
    expect(read(s, seq(1500))).toBeUndefined(); // never recorded
    expect(read(s, seq(1000))).toEqual({ delivered: 0, deliveredAt: 0, firstSentAt: 0, appLimited: false });
    expect(s.size).toBe(0); // taken entries left from the front
  });

  it("a retransmission as sent replaces its entry; one cut differently goes in its place in the order", () => {
    const s = new RateSnapshots();
    for (let i = 1; i <= 4; i++) s.set(seq(i * 1000), i, i, 0, false);
    s.set(seq(2000), 20, 300, 300, false); // segment 2 resent whole
    s.set(seq(1500), 15, 301, 300, false); // segment 2's first half resent in a smaller MSS
    s.set(seq(500), 5, 302, 300, false); // and segment 1's
    expect(s.size).toBe(6);
    expect(read(s, seq(2000))!.delivered).toBe(20);
    expect(read(s, seq(1500))!.delivered).toBe(15);
    expect(read(s, seq(500))!.delivered).toBe(5);
    expect(read(s, seq(4000))!.delivered).toBe(4);
    s.set(seq(5000), 5, 5, 5, false); // new data still joins at the back
    expect(read(s, seq(5000))!.delivered).toBe(5);
  });

  it("SND.UNA drops what it covers, and ordering holds across the 2^32 wrap", () => {
    const s = new RateSnapshots();
    const base = seq(2 ** 32 - 2500);
    for (let i = 1; i <= 40; i++) s.set(seqAdd(base, i * 1000), i, i, 0, false); // grows past the first capacity
    expect(s.size).toBe(40);
    expect(read(s, seqAdd(base, 3000))!.delivered).toBe(3); // after the wrap point
    s.dropThrough(seqAdd(base, 10_000));
    expect(s.size).toBe(30);
    expect(read(s, seqAdd(base, 10_000))).toBeUndefined();
    expect(read(s, seqAdd(base, 11_000))!.delivered).toBe(11);
    s.dropThrough(seqAdd(base, 40_000));
    expect(s.size).toBe(0);
  });

  it("keeps every entry in order when the ring grows while wrapped around", () => {
    const s = new RateSnapshots();
    for (let i = 1; i <= 16; i++) s.set(seq(i * 100), i, 0, 0, false); // the first capacity, full
    for (let i = 1; i <= 8; i++) expect(read(s, seq(i * 100))!.delivered).toBe(i); // the front moves to the middle
    for (let i = 17; i <= 25; i++) s.set(seq(i * 100), i, 0, 0, false); // wraps, then grows
    expect(s.size).toBe(17);
    for (let i = 9; i <= 25; i++) expect(read(s, seq(i * 100))!.delivered).toBe(i);
  });

  it("behaves as a Map from end to snapshot, pruned at SND.UNA", () => {
    // Ends within a window of 64 KiB above SND.UNA, often across the 2^32 wrap; sends in any
    // order; ACKs move SND.UNA up.
    const op = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), at: fc.integer({ min: 1, max: 65_535 }), v: fc.integer({ min: 0, max: 1e9 }), app: fc.boolean() }),
      fc.record({ kind: fc.constant("take" as const), at: fc.integer({ min: 1, max: 65_535 }) }),
      fc.record({ kind: fc.constant("ack" as const), by: fc.integer({ min: 0, max: 4096 }) }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 2 ** 32 - 70_000, max: 2 ** 32 - 1 })), fc.array(op, { maxLength: 300 }), (start, ops) => {
        const s = new RateSnapshots();
        const model = new Map<number, Snap>();
        let una = seq(start);
        for (const o of ops) {
          if (o.kind === "set") {
            const end = seqAdd(una, o.at);
            const snap = { delivered: o.v, deliveredAt: o.v / 2, firstSentAt: o.v / 4, appLimited: o.app };
            s.set(end, snap.delivered, snap.deliveredAt, snap.firstSentAt, snap.appLimited);
            model.set(end, snap);
          } else if (o.kind === "take") {
            const end = seqAdd(una, o.at);
            expect(read(s, end)).toEqual(model.get(end));
            model.delete(end);
          } else {
            una = seqAdd(una, o.by);
            s.dropThrough(una);
            for (const end of [...model.keys()]) if (seqLe(end as Seq, una)) model.delete(end);
          }
        }
        // Everything the model still holds is found, and nothing else.
        for (const [end, snap] of model) expect(read(s, end as Seq)).toEqual(snap);
        s.dropThrough(seqAdd(una, 65_535));
        expect(s.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
