/**
 * How much of a write the send buffer takes (src/tcp/write-admission.ts): skbs filled to the
 * size goal, the buffer checked only when a new one starts, each skb's fixed cost counted,
 * as Linux's tcp_sendmsg_locked. The figures are the packetdrill corpus's, and the first one
 * was checked against the kernel of this machine too (6.18, a scripted peer on a TUN device).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NOTSENT_UNLIMITED } from "../../src/tcp/notsent-lowat.js";
import { SKB_FIXED_COST, queuedMemory, writeAdmits, type SendQueueState } from "../../src/tcp/write-admission.js";
import { established } from "./harness.js";

const queue = (q: Partial<SendQueueState>): SendQueueState => ({ sndbuf: 50_000, inFlight: 0, unsent: 0, sendable: 0, sizeGoal: 16_000, lowat: NOTSENT_UNLIMITED, ...q });

/** The rule one skb at a time, without the shortcut for the skbs that are never pushed: the reference. */
function naive(length: number, q: SendQueueState): number {
  const goal = Math.max(1, q.sizeGoal);
  const total = q.unsent + length;
  const base = queuedMemory(q.inFlight, 0, goal);
  let end = 0;
  let sent = 0;
  let tailStart = 0;
  let skbs = 0;
  while (end < total) {
    if (end === sent || end - tailStart >= goal) {
      if (end >= q.unsent && !(base + end + SKB_FIXED_COST * skbs < q.sndbuf && end - sent < q.lowat)) break;
      tailStart = end;
      skbs++;
    }
    end = Math.min(tailStart + goal, total);
    if (end - tailStart === goal && sent >= tailStart) {
      sent = Math.min(end, Math.max(sent, q.sendable));
      if (sent > tailStart && sent < end) {
        tailStart = sent;
        skbs++;
      }
    }
  }
  return Math.max(0, end - q.unsent);
}

const state = fc.record({
  sndbuf: fc.integer({ min: 0, max: 400_000 }),
  inFlight: fc.integer({ min: 0, max: 200_000 }),
  unsent: fc.integer({ min: 0, max: 200_000 }),
  sendable: fc.integer({ min: 0, max: 100_000 }),
  sizeGoal: fc.integer({ min: 1, max: 65 }).map((n) => n * 1000),
  lowat: fc.oneof(fc.constant(NOTSENT_UNLIMITED), fc.integer({ min: 1, max: 100_000 })),
});

describe("writeAdmits", () => {
  it("fills the skb it starts: 59,000 bytes into a 50,000-byte buffer take 58,000 (epoll_out_edge)", () => {
    // Skbs of 16,000 (half the peer's window of 32,896); 10 segments leave at once and the
    // rest of the first skb is split off and refilled. The fourth skb starts at 42,000 + 3
    // fixed costs < 50,000; a fifth would not. Linux 6.18 here took 58,000 too.
    expect(writeAdmits(59_000, queue({ sendable: 10_000 }))).toEqual({ bytes: 58_000, gridStart: 10_000 });
  });

  it("counts each skb's fixed cost: three skbs of 988 bytes fill SOCK_MIN_SNDBUF (timestamping/partial)", () => {
    expect(writeAdmits(10_000, queue({ sndbuf: 4608, sizeGoal: 988, sendable: 1976 })).bytes).toBe(2964);
  });

  it("stops at the not-sent limit, whichever limit comes first (epoll_out_edge_notsent_lowat)", () => {
    expect(writeAdmits(59_000, queue({ sendable: 10_000, lowat: 32_000 })).bytes).toBe(42_000);
  });

  it("lets a woken writer start an skb of the size goal however little room is left (tcp-info-sndbuf-limited)", () => {
    // SO_SNDBUF 10,000 (20,000): skbs of 5,000 while the peer's largest window is 10,000 ...
    expect(writeAdmits(150_000, queue({ sndbuf: 20_000, sizeGoal: 5000, sendable: 10_000 })).bytes).toBe(20_000);
    // ... and of 65,000 once it offered 2.56 MB: 10,000 in flight, 10,000 more may leave.
    expect(writeAdmits(130_000, queue({ sndbuf: 20_000, inFlight: 10_000, sizeGoal: 65_000, sendable: 10_000 })).bytes).toBe(75_000);
  });

  it("fills the last skb of earlier bytes whatever the limits, and starts none once full", () => {
    expect(writeAdmits(10_000, queue({ sndbuf: 0, unsent: 6000 })).bytes).toBe(10_000);
    expect(writeAdmits(20_000, queue({ sndbuf: 0, unsent: 6000 })).bytes).toBe(10_000);
    expect(writeAdmits(20_000, queue({ sndbuf: 0, unsent: 16_000 })).bytes).toBe(0);
  });

  it("holds less payload in small skbs than in large ones", () => {
    const small = writeAdmits(1_000_000, queue({ sndbuf: 100_000, sizeGoal: 536 })).bytes;
    const large = writeAdmits(1_000_000, queue({ sndbuf: 100_000, sizeGoal: 64_000 })).bytes;
    expect(small).toBe(74 * 536); // 73 x (536 + 832) < 100,000 starts the 74th
    expect(large).toBe(128_000); // two skbs: 64,832 < 100,000 starts the second
  });

  it("agrees with the rule applied one skb at a time", () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 0, max: 300_000 }), (q, length) => {
        expect(writeAdmits(length, q).bytes).toBe(naive(length, q));
      }),
      { numRuns: 2000 },
    );
  });

  it("gives the same total for a write taken in pieces as in one call", () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 1, max: 300_000 }), fc.integer({ min: 1, max: 70_000 }), (q, length, piece) => {
        const whole = writeAdmits(length, q).bytes;
        let taken = 0;
        while (taken < length) {
          const want = Math.min(piece, length - taken);
          const n = writeAdmits(want, { ...q, unsent: q.unsent + taken }).bytes;
          taken += n;
          if (n < want) break;
        }
        expect(taken).toBe(whole);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("a connection's send buffer", () => {
  it("takes what sendRoom says, past the buffer's size when an skb was started, and polls full after", () => {
    const { conn } = established({ sendBufferSize: 50_000, sendBufferMax: 50_000 });
    const room = conn.sendRoom(1_000_000);
    expect(room).toBeGreaterThan(50_000);
    expect(conn.send(new Uint8Array(1_000_000))).toBe(room);
    expect(conn.sendRoom(1000)).toBe(0);
    expect(conn.sendSpaceReady).toBe(false);
  });
});
