/** The receive buffer's bound on out-of-order data: separate ranges (holes), not segments. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSharedReceiveBuffer, ReceiveBuffer } from "../../src/tcp/receive-buffer.js";
import { seqAdd, type Seq } from "../../src/wire/seq.js";
import { ACK, SYN } from "../../src/wire/tcp.js";
import { Harness, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ } from "./harness.js";

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

describe("ReceiveBuffer against a byte map", () => {
  it("any arrival order, overlap and duplication: the bytes read, the out-of-order bytes and the SACK blocks are the model's", () => {
    // Segments of a 64-byte stream, each byte i holding i: arrivals in any order, overlapping
    // and repeated, with reads in between. The model marks which bytes arrived.
    const segment = fc.record({ start: fc.integer({ min: 0, max: 60 }), length: fc.integer({ min: 1, max: 12 }), readAfter: fc.boolean() });
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 40 }), (segments) => {
        const b = new ReceiveBuffer(1 << 20, 1_000);
        const have = new Array<boolean>(80).fill(false);
        let rcvNxt = 0;
        const read: number[] = [];
        for (const { start, length, readAfter } of segments) {
          const data = Uint8Array.from({ length }, (_, k) => start + k);
          const result = b.insert(at(rcvNxt), at(start), data);
          // In order exactly when the segment covers RCV.NXT.
          expect(result === "in-order").toBe(start <= rcvNxt && start + length > rcvNxt);
          for (let k = start; k < start + length; k++) have[k] = true;
          while (have[rcvNxt]) rcvNxt++;
          if (readAfter) read.push(...b.read());
          // Out-of-order bytes and blocks past RCV.NXT, as the model counts them.
          let bytes = 0;
          const blocks: Array<{ left: number; right: number }> = [];
          for (let k = rcvNxt; k < have.length; k++) {
            if (!have[k]) continue;
            bytes++;
            const last = blocks[blocks.length - 1];
            if (last !== undefined && last.right === k) last.right = k + 1;
            else blocks.push({ left: k, right: k + 1 });
          }
          expect(b.outOfOrderBytes).toBe(bytes);
          expect(b.outOfOrderBlockCount).toBe(blocks.length);
          expect(b.outOfOrderBlocks()).toEqual(blocks);
        }
        read.push(...b.read());
        expect(read).toEqual(Array.from({ length: rcvNxt }, (_, k) => k));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("the shared empty receive buffer (emptyReceiveBuffer)", () => {
  it("connections that received no data share one; data gives a connection its own and leaves the shared one empty", () => {
    const h = new Harness();
    const listener = h.host.tcp.listen(LOCAL_PORT);
    for (const port of [REMOTE_PORT, REMOTE_PORT + 1]) {
      const from = { addr: REMOTE_ADDR, port, toPort: LOCAL_PORT };
      h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000 } }, from);
      const [synAck] = h.takeSent();
      h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck!.seq, 1) }, from);
    }
    const [a, b] = [listener.accept()!, listener.accept()!];
    const shared = a.receiveBuffer;
    expect(b.receiveBuffer).toBe(shared);
    expect(isSharedReceiveBuffer(shared)).toBe(true);
    const from = { addr: REMOTE_ADDR, port: REMOTE_PORT, toPort: LOCAL_PORT };
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(a.iss, 1), payload: new Uint8Array(300) }, from);
    expect(a.readable).toBe(300);
    expect(a.receiveBuffer).not.toBe(shared);
    expect(b.receiveBuffer).toBe(shared);
    expect([shared.readable, shared.empty, isSharedReceiveBuffer(new ReceiveBuffer(shared.capacity, shared.maxRanges))]).toEqual([0, true, false]);
  });
});
