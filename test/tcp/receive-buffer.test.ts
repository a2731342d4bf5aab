/** The receive buffer's bound on out-of-order data: separate ranges (holes), not segments. */
import { describe, expect, it } from "vitest";
import { ReceiveBuffer } from "../../src/tcp/receive-buffer.js";
import type { Seq } from "../../src/wire/seq.js";

const MSS = 1448;
const at = (n: number): Seq => n as Seq;

describe("ReceiveBuffer out-of-order bound", () => {
  it("one hole followed by 800 segments holds them all: the bound counts ranges, not segments", () => {
    const b = new ReceiveBuffer(8 << 20, 256);
    // Segment 0 is lost; 1..800 arrive in order after it (a large window meeting one loss).
    for (let k = 1; k <= 800; k++) expect(b.insert(at(0), at(k * MSS), new Uint8Array(MSS))).toBe("out-of-order");
    expect(b.outOfOrderBytes).toBe(800 * MSS);
    expect(b.outOfOrderBlockCount).toBe(1);
    // The retransmission fills the hole: everything becomes readable at once.
    expect(b.insert(at(0), at(0), new Uint8Array(MSS))).toBe("in-order");
    expect(b.readable).toBe(801 * MSS);
  });

  it("a segment that would open one range more than allowed is dropped; one that extends a range is not", () => {
    const b = new ReceiveBuffer(1 << 20, 3);
    for (const k of [2, 4, 6]) expect(b.insert(at(0), at(k * MSS), new Uint8Array(MSS))).toBe("out-of-order");
    expect(b.insert(at(0), at(8 * MSS), new Uint8Array(MSS))).toBe("ooo-limit"); // a fourth range
    expect(b.insert(at(0), at(7 * MSS), new Uint8Array(MSS))).toBe("out-of-order"); // extends the third
    expect(b.insert(at(0), at(5 * MSS), new Uint8Array(MSS))).toBe("out-of-order"); // joins two: 2 ranges left
    expect(b.outOfOrderBlockCount).toBe(2);
    expect(b.insert(at(0), at(10 * MSS), new Uint8Array(MSS))).toBe("out-of-order"); // room again
  });
});
