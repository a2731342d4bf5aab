/**
 * TCP_NOTSENT_LOWAT (src/tcp/notsent-lowat.ts, src/tcp/write-admission.ts): a write stops once the bytes not yet sent
 * reach the limit, checked where Linux checks it (a new skb), and the socket is writable
 * again below half of it.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NOTSENT_UNLIMITED, notsentWritable } from "../../src/tcp/notsent-lowat.js";
import { writeAdmits } from "../../src/tcp/write-admission.js";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK } from "../../src/wire/tcp.js";
import { established, REMOTE_SEQ } from "./harness.js";

/** What a write takes under the not-sent limit alone (a send buffer without bound). */
const notsentAdmits = (unsent: number, length: number, sendable: number, sizeGoal: number, lowat: number): number =>
  writeAdmits(length, { sndbuf: Infinity, inFlight: 0, unsent, sendable, sizeGoal, lowat }).bytes;

describe("a write under TCP_NOTSENT_LOWAT (writeAdmits)", () => {
  it("takes everything without a limit", () => {
    expect(notsentAdmits(0, 1_000_000, 0, 16_000, NOTSENT_UNLIMITED)).toBe(1_000_000);
  });

  it("fills skbs to the size goal and stops at the first new skb with the limit reached", () => {
    // Nothing can be sent: the first skb (8000) fills, the limit of 5000 is then reached.
    expect(notsentAdmits(0, 50_000, 0, 8000, 5000)).toBe(8000);
    // A limit above one skb lets a second one start.
    expect(notsentAdmits(0, 50_000, 0, 8000, 9000)).toBe(16_000);
  });

  it("does not count what the window lets out during the write, and refills a split skb to the goal", () => {
    // 8000 fill, 6000 leave, the 2000 left fill up to 8000 again (14000), then 8000 unsent >= 5000.
    expect(notsentAdmits(0, 50_000, 6000, 8000, 5000)).toBe(14_000);
    // Everything of the first skb leaves: a second skb starts with nothing unsent.
    expect(notsentAdmits(0, 50_000, 8000, 8000, 5000)).toBe(16_000);
  });

  it("counts bytes queued earlier and not sent", () => {
    expect(notsentAdmits(8000, 10_000, 0, 8000, 5000)).toBe(0);
    expect(notsentAdmits(3000, 10_000, 0, 8000, 5000)).toBe(5000); // fills the skb the earlier bytes began
  });

  it("gives the same total for a write taken in pieces as in one call", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 1, max: 70_000 }), fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 100_000 }),
        (length, piece, sendable, goalSegments, lowat) => {
          const goal = goalSegments * 1000;
          const whole = notsentAdmits(0, length, sendable, goal, lowat);
          let taken = 0;
          while (taken < length) {
            const n = notsentAdmits(taken, Math.min(piece, length - taken), sendable, goal, lowat);
            taken += n;
            if (n < Math.min(piece, length - taken + n)) break;
          }
          expect(taken).toBe(whole);
        },
      ),
    );
  });

  it("polls writable only with the unsent bytes under half the limit", () => {
    expect(notsentWritable(1999, 4000)).toBe(true);
    expect(notsentWritable(2000, 4000)).toBe(false);
    expect(notsentWritable(10_000_000, NOTSENT_UNLIMITED)).toBe(true);
  });
});

describe("a connection with TCP_NOTSENT_LOWAT", () => {
  it("takes a write only up to the limit and becomes writable as the unsent bytes leave", () => {
    const { h, conn, iss } = established();
    conn.setNotsentLowat(4000);
    expect(conn.notsentLowat).toBe(4000);
    const n = conn.send(new Uint8Array(100_000));
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(100_000);
    h.settle();
    const sent = h.takeSent().reduce((sum, s) => sum + s.payload.length, 0);
    expect(n - sent).toBeGreaterThanOrEqual(4000); // the write stopped at the limit
    expect(conn.belowNotsentLowat).toBe(false);
    expect(conn.send(new Uint8Array(1000))).toBe(0); // the last skb is full and the limit is reached
    // ACKs open the window until what was held is sent.
    let acked = 0;
    while (acked < n) {
      h.advance(10);
      acked = Math.min(n, acked + 8 * 1460);
      h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1 + acked) });
      h.takeSent();
    }
    expect(conn.belowNotsentLowat).toBe(true);
    expect(conn.send(new Uint8Array(1000))).toBe(1000);
  });

  it("takes what the send buffer takes without a limit, and rejects a bad value with a typed error", () => {
    const { conn } = established();
    expect(conn.send(new Uint8Array(100_000))).toBe(100_000);
    expect(conn.belowNotsentLowat).toBe(true);
    expect(() => conn.setNotsentLowat(-1)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
  });
});
