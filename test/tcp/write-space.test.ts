/**
 * The writer wakeup (src/tcp/write-space.ts): a writer the send buffer cut short hears of
 * new room only once the free space is at least half of what is queued (charged as Linux
 * charges it, src/tcp/write-admission.ts), as Linux's sk_stream_write_space, not for every
 * segment an ACK frees.
 */
import { describe, expect, it } from "vitest";
import { NOTSENT_UNLIMITED } from "../../src/tcp/notsent-lowat.js";
import type { Connection } from "../../src/tcp/connection.js";
import { queuedMemory, sendQueueState } from "../../src/tcp/write-admission.js";
import { streamWritable } from "../../src/tcp/write-space.js";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK } from "../../src/wire/tcp.js";
import { established, REMOTE_SEQ } from "./harness.js";

describe("streamWritable", () => {
  it("needs free space of at least half what is queued (sk_stream_wspace >= sk_stream_min_wspace)", () => {
    expect(streamWritable(30_000, 20_000, 0, NOTSENT_UNLIMITED)).toBe(true); // 10000 free >= 10000
    expect(streamWritable(30_000, 20_001, 0, NOTSENT_UNLIMITED)).toBe(false); // 9999 free < 10000
    expect(streamWritable(30_000, 0, 0, NOTSENT_UNLIMITED)).toBe(true);
    expect(streamWritable(0, 0, 0, NOTSENT_UNLIMITED)).toBe(false); // nothing may be queued at all
  });

  it("needs the unsent bytes under half of TCP_NOTSENT_LOWAT too", () => {
    expect(streamWritable(30_000, 1000, 1999, 4000)).toBe(true);
    expect(streamWritable(30_000, 1000, 2000, 4000)).toBe(false);
  });
});

describe("a writer blocked on a full send buffer", () => {
  const SNDBUF = 30_000;
  const MSS = 1460;

  /** What the send queue is charged against the buffer now: payload and each skb's fixed cost (write-admission.ts). */
  function charged(conn: Connection): number {
    const q = sendQueueState(conn.sender);
    return queuedMemory(q.inFlight, q.unsent, q.sizeGoal);
  }

  function blocked() {
    const env = established({ sendBufferSize: SNDBUF, sendBufferMax: SNDBUF });
    const { h, conn, iss } = env;
    let wakes = 0;
    conn.onWake = () => wakes++;
    expect(conn.send(new Uint8Array(100_000))).toBeLessThan(100_000); // cut short: the writer waits
    h.settle();
    h.takeSent();
    let acked = 0;
    /** The peer acknowledges one more segment, a millisecond later. */
    const ackOne = () => {
      acked += MSS;
      h.advance(1);
      h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1 + acked) });
    };
    /** ACKs one segment at a time while less than half of what is charged is free, checking no wake comes meanwhile. */
    const ackUntilRoom = () => {
      const before = wakes;
      while (SNDBUF - charged(conn) < charged(conn) / 2) {
        expect(wakes).toBe(before);
        expect(conn.sendSpaceReady).toBe(false);
        ackOne();
      }
    };
    return { ...env, wakes: () => wakes, ackOne, ackUntilRoom };
  }

  it("is not woken while ACKs free less than half of what stays queued, then once", () => {
    const { conn, wakes, ackOne, ackUntilRoom } = blocked();
    const before = wakes();
    ackOne();
    expect(wakes()).toBe(before); // one segment frees far too little
    ackUntilRoom();
    expect(wakes()).toBe(before + 1);
    expect(conn.sendSpaceReady).toBe(true);
    // Woken once: the writer did not write, so later ACKs do not wake it again.
    ackOne();
    expect(wakes()).toBe(before + 1);
  });

  it("is woken again after it wrote and was cut short once more", () => {
    const { conn, wakes, ackOne, ackUntilRoom } = blocked();
    ackUntilRoom();
    const woken = wakes();
    expect(conn.send(new Uint8Array(100_000))).toBeLessThan(100_000); // fills the buffer again
    ackOne();
    expect(wakes()).toBe(woken);
    ackUntilRoom();
    expect(wakes()).toBe(woken + 1);
  });

  it("an application that says it waits (waitForSpace) is woken too, though its last send was not short", () => {
    const { h, conn, iss } = established({ sendBufferSize: SNDBUF, sendBufferMax: SNDBUF });
    let wakes = 0;
    conn.onWake = () => wakes++;
    const room = conn.sendRoom(100_000);
    expect(conn.send(new Uint8Array(room))).toBe(room); // exactly what fits: not short
    expect(conn.sendSpaceReady).toBe(false);
    conn.waitForSpace();
    h.settle();
    h.takeSent();
    const before = wakes;
    for (let acked = MSS; wakes === before && acked <= room; acked += MSS) h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1 + acked) });
    expect(wakes).toBe(before + 1);
  });
});
