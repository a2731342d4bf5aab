/**
 * A hostile peer: random segments (flags, sequence and acknowledgement numbers near and
 * far from the window, payloads) and random application calls against one connection.
 * Nothing may throw, the send sequence variables stay ordered, every segment we send after
 * the handshake carries ACK (S1) unless it is a RST, whatever the application reads is a
 * prefix of what the peer sent in order, and once the peer falls silent the connection ends.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { seqAdd, seqLe } from "../../src/wire/seq.js";
import { ACK, FIN, PSH, RST, SYN, URG } from "../../src/wire/tcp.js";
import { established, REMOTE_SEQ } from "./harness.js";
import { CheckedApp, streamByte } from "./hostile-app.js";
import { countFromEnv, shareOf, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("HOSTILE_RUNS", 300);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 300).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

const flagSets = [ACK, ACK | PSH, FIN | ACK, RST, RST | ACK, SYN, SYN | ACK, ACK | URG, 0, FIN, PSH];

const segment = fc.record({
  flags: fc.constantFrom(...flagSets),
  seqOffset: fc.oneof(fc.integer({ min: -3000, max: 70000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  ackOffset: fc.oneof(fc.integer({ min: -100, max: 5000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  len: fc.integer({ min: 0, max: 1500 }),
  window: fc.integer({ min: 0, max: 65535 }),
});

const action = fc.oneof(
  segment.map((s) => ({ kind: "segment" as const, ...s })),
  fc.record({ kind: fc.constant("send" as const), len: fc.integer({ min: 0, max: 20000 }) }),
  fc.constant({ kind: "read" as const }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 130_000 }) }),
  fc.constant({ kind: "shutdown" as const }),
  fc.constant({ kind: "close" as const }),
);

describe("hostile peer", () => {
  it("random segments and calls never break the connection's invariants", () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 60, size: "medium" }), (actions) => {
        const { h, conn, iss } = established();
        const app = new CheckedApp(h, conn);
        for (const a of actions) {
          switch (a.kind) {
            case "segment": {
              const seqNo = seqAdd(REMOTE_SEQ, 1 + a.seqOffset);
              const payload = new Uint8Array(a.len).map((_, i) => streamByte(a.seqOffset + i));
              h.deliver({ flags: a.flags, seq: seqNo, ack: seqAdd(iss, 1 + a.ackOffset), window: a.window, payload });
              break;
            }
            default:
              app.perform(a);
          }
          const i = conn.inspect();
          expect(seqLe(i.sndUna, i.sndNxt) && seqLe(i.sndNxt, i.sndMax)).toBe(true);
          expect(i.receiveQueued + i.outOfOrderBytes).toBeLessThanOrEqual(256 * 1024);
          for (const s of h.takeSent()) {
            if ((s.flags & RST) === 0) expect(s.flags & ACK).toBe(ACK);
            // A SYN,ACK can only come from a new incarnation the listener opened after
            // this connection was gone.
            if ((s.flags & SYN) !== 0) expect([s.flags, conn.state]).toEqual([SYN | ACK, "CLOSED"]);
          }
        }
        // Once the peer falls silent and the application closes, the connection ends.
        conn.close();
        h.advance(2 * 3600_000);
        expect(["CLOSED", "TIME_WAIT"]).toContain(conn.state);
      }),
      { numRuns: RUNS },
    );
  });

  it("cannot hold a connection the application closed: answering every segment without acknowledging it, the peer is given up within hours", () => {
    fc.assert(
      fc.property(
        fc.array(action, { maxLength: 30, size: "medium" }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.array(fc.constantFrom(0, 0, 0, 1, 100, 65535), { minLength: 1, maxLength: 8 }),
        (actions, unsent, windows) => {
          const { h, conn, iss } = established();
          const app = new CheckedApp(h, conn);
          for (const a of actions) {
            if (a.kind !== "segment") app.perform(a);
            else h.deliver({ flags: a.flags, seq: seqAdd(REMOTE_SEQ, 1 + a.seqOffset), ack: seqAdd(iss, 1 + a.ackOffset), window: a.window, payload: new Uint8Array(a.len).map((_, i) => streamByte(a.seqOffset + i)) });
          }
          if (conn.canSend) conn.send(new Uint8Array(unsent));
          conn.close();
          h.settle();
          // The peer answers whatever we send with an ACK of SND.UNA as it stands (no
          // progress), its window as the list says: mostly closed (a zero-window pin).
          let k = 0;
          while (!conn.isClosed() && conn.state !== "TIME_WAIT" && h.now < 10 * 3600_000) {
            h.nextTimer();
            for (const _s of h.takeSent()) {
              if (conn.isClosed()) break;
              const i = conn.inspect();
              h.deliver({ flags: ACK, seq: i.rcvNxt, ack: i.sndUna, window: windows[k++ % windows.length]! });
            }
          }
          expect(["CLOSED", "TIME_WAIT"]).toContain(conn.state);
        },
      ),
      { numRuns: shareOf(RUNS, 3) },
    );
  });

  it("ends a connection whose data the peer never acknowledges no sooner than TCP_USER_TIMEOUT, and not much later, however it answers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 1, max: 200_000 }),
        fc.array(fc.constantFrom(0, 0, 0, 1, 100, 65535), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        (userTimeout, unsent, windows, idle) => {
          const { h, conn, iss } = established({ userTimeout });
          const una = seqAdd(iss, 1);
          h.advance(idle);
          h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: una, window: windows[0]! });
          const start = h.now;
          conn.send(new Uint8Array(unsent));
          h.settle();
          let k = 1;
          while (!conn.isClosed() && h.now < start + 6 * 3600_000) {
            for (const _s of h.takeSent()) h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: una, window: windows[k++ % windows.length]! });
            h.nextTimer();
          }
          expect(conn.error?.code).toBe("ETIMEDOUT");
          const lasted = h.now - start;
          expect(lasted, `lasted ${lasted} ms, user timeout ${userTimeout}`).toBeGreaterThanOrEqual(userTimeout);
          expect(lasted, `lasted ${lasted} ms, user timeout ${userTimeout}`).toBeLessThanOrEqual(userTimeout + 600_000);
        },
      ),
      { numRuns: shareOf(RUNS, 3) },
    );
  });
});
