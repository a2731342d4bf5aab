/** The send buffer returns exactly the bytes queued, whatever the chunking and access order. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SendBuffer } from "../../src/tcp/send-buffer.js";

describe("SendBuffer", () => {
  it("peek and consume agree with a flat copy of the stream", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("append" as const), len: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ kind: fc.constant("consume" as const), len: fc.integer({ min: 0, max: 4000 }) }),
      fc.record({ kind: fc.constant("peek" as const), at: fc.nat(20000), len: fc.integer({ min: 0, max: 2000 }) }),
      fc.record({ kind: fc.constant("walk" as const), len: fc.integer({ min: 1, max: 1500 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const buf = new SendBuffer(16_000);
        let model: number[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.kind === "append") {
            const data = Uint8Array.from({ length: o.len }, () => next++ & 0xff);
            const took = buf.append(data);
            model.push(...Array.from(data.subarray(0, took)));
          } else if (o.kind === "consume") {
            buf.consume(o.len);
            model = model.slice(Math.min(o.len, model.length));
          } else if (o.kind === "peek") {
            const at = model.length === 0 ? 0 : o.at % (model.length + 1);
            expect(Array.from(buf.peek(at, o.len))).toEqual(model.slice(at, at + o.len));
          } else {
            // Sequential segments, as the sender cuts them.
            for (let at = 0; at < model.length; at += o.len) {
              expect(Array.from(buf.peek(at, o.len))).toEqual(model.slice(at, at + o.len));
            }
          }
          expect(buf.length).toBe(model.length);
        }
      }),
      { numRuns: 400 },
    );
  });
});
