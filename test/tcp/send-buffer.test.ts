/** The send buffer returns exactly the bytes queued, whatever the chunking and access order. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptySendBuffer, isSharedSendBuffer, SendBuffer } from "../../src/tcp/send-buffer.js";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK, SYN } from "../../src/wire/tcp.js";
import { Harness, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ } from "./harness.js";

describe("SendBuffer", () => {
  it("peek and consume agree with a flat copy of the stream", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("append" as const), len: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ kind: fc.constant("consume" as const), len: fc.integer({ min: 0, max: 4000 }) }),
      fc.record({ kind: fc.constant("peek" as const), at: fc.nat(20000), len: fc.integer({ min: 0, max: 2000 }) }),
      fc.record({ kind: fc.constant("walk" as const), len: fc.integer({ min: 1, max: 1500 }) }),
      // A stream writing one large array piece by piece (what it retries after a partial
      // write): consecutive pieces are adjacent views of the same memory.
      fc.record({ kind: fc.constant("stream" as const), len: fc.integer({ min: 0, max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const buf = new SendBuffer(16_000);
        // The sender decides how much of a write the buffer takes; here, what fits its size.
        const take = (data: Uint8Array): number => {
          const n = Math.min(data.length, Math.max(0, buf.capacity - buf.length));
          buf.append(data.subarray(0, n));
          return n;
        };
        let model: number[] = [];
        let next = 0;
        const source = Uint8Array.from({ length: 400_000 }, (_, i) => (i * 7 + 1) & 0xff);
        let sourceAt = 0;
        for (const o of ops) {
          if (o.kind === "stream") {
            const took = take(source.subarray(sourceAt, sourceAt + o.len));
            model.push(...Array.from(source.subarray(sourceAt, sourceAt + took)));
            sourceAt += took;
          } else if (o.kind === "append") {
            const data = Uint8Array.from({ length: o.len }, () => next++ & 0xff);
            const took = take(data);
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

  it("joins the remainder of a partly taken write to the tail, so a segment across the seam is a view", () => {
    const data = Uint8Array.from({ length: 10_000 }, (_, i) => i & 0xff);
    const buf = new SendBuffer(4000);
    buf.append(data.subarray(0, 4000)); // a write partly taken
    buf.consume(2896); // two segments acknowledged: room for more
    buf.append(data.subarray(4000, 6896));
    expect(buf.length).toBe(4000);
    // [2896, 6896) of the stream now; a 1448-byte segment from 1000 crosses the old seam at 4000.
    const seg = buf.peek(1000, 1448);
    expect(seg.buffer).toBe(data.buffer);
    expect(Array.from(seg)).toEqual(Array.from(data.subarray(3896, 3896 + 1448)));
    // Separate arrays are not joined: the same cut is a copy there.
    const other = new SendBuffer(4000);
    other.append(data.slice(0, 4000));
    other.consume(2896);
    other.append(data.slice(4000));
    const copy = other.peek(1000, 1448);
    expect(copy.buffer).not.toBe(data.buffer);
    expect(Array.from(copy)).toEqual(Array.from(seg));
  });
});

describe("the shared empty send buffer (emptySendBuffer)", () => {
  const open = (h: Harness, port: number) => {
    const from = { addr: REMOTE_ADDR, port, toPort: LOCAL_PORT };
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000 } }, from);
    const [synAck] = h.takeSent();
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck!.seq, 1) }, from);
  };

  it("connections that wrote nothing share one; a write or SO_SNDBUF gives a connection its own and leaves the shared one as it was", () => {
    const h = new Harness();
    const listener = h.host.tcp.listen(LOCAL_PORT);
    for (const port of [REMOTE_PORT, REMOTE_PORT + 1, REMOTE_PORT + 2]) open(h, port);
    const [a, b, c] = [listener.accept()!, listener.accept()!, listener.accept()!];
    const shared = a.sendBuffer;
    const size = shared.capacity;
    expect(b.sendBuffer).toBe(shared);
    expect(isSharedSendBuffer(shared)).toBe(true);
    expect(a.send(new Uint8Array(100))).toBe(100);
    expect(a.sendBuffer).not.toBe(shared);
    b.setSendBufferSize(5000);
    expect(b.sendBuffer).not.toBe(shared);
    expect(b.sendBuffer.locked).toBe(true);
    expect(c.sendBuffer).toBe(shared);
    expect([shared.length, shared.capacity, shared.locked]).toEqual([0, size, false]);
    expect(emptySendBuffer(size)).toBe(shared);
    expect(isSharedSendBuffer(new SendBuffer(size))).toBe(false);
  });
});
