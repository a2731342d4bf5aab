/**
 * The writer wakeup (src/tcp/write-space.ts): a writer the send buffer cut short hears of
 * new room only once the free space is at least half of what is queued, as Linux's
 * sk_stream_write_space, not for every segment an ACK frees.
 */
import { describe, expect, it } from "vitest";
import { NOTSENT_UNLIMITED } from "../../src/tcp/notsent-lowat.js";
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

  function blocked() {
    const env = established({ sendBufferSize: SNDBUF, sendBufferMax: SNDBUF });
    const { h, conn } = env;
    let wakes = 0;
    conn.onWake = () => wakes++;
    expect(conn.send(new Uint8Array(40_000))).toBe(SNDBUF); // cut short: the writer waits
    h.settle();
    h.takeSent();
    return { ...env, wakes: () => wakes, ack: (bytes: number) => h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(env.iss, 1 + bytes) }) };
  }

  it("is not woken while ACKs free less than half of what stays queued, then once", () => {
    const { h, conn, wakes, ack } = blocked();
    const before = wakes();
    ack(2920); // 27080 queued, 2920 free
    ack(8760); // 21240 queued, 8760 free < 10620
    expect(wakes()).toBe(before);
    expect(conn.sendSpaceReady).toBe(false);
    h.advance(1);
    ack(10_220); // 19780 queued, 10220 free >= 9890
    expect(wakes()).toBe(before + 1);
    expect(conn.sendSpaceReady).toBe(true);
    // Woken once: the writer did not write, so later ACKs do not wake it again.
    ack(11_680);
    expect(wakes()).toBe(before + 1);
  });

  it("is woken again after it wrote and was cut short once more", () => {
    const { conn, wakes, ack } = blocked();
    ack(14_600);
    const woken = wakes();
    expect(conn.send(new Uint8Array(40_000))).toBe(14_600); // fills the buffer again
    ack(17_520); // frees 2920: not enough
    expect(wakes()).toBe(woken);
    ack(24_820); // 19780 queued, 10220 free
    expect(wakes()).toBe(woken + 1);
  });

  it("an application that says it waits (waitForSpace) is woken too, though its last send was not short", () => {
    const { h, conn, iss } = established({ sendBufferSize: SNDBUF, sendBufferMax: SNDBUF });
    let wakes = 0;
    conn.onWake = () => wakes++;
    expect(conn.send(new Uint8Array(SNDBUF))).toBe(SNDBUF); // exactly full: not short
    conn.waitForSpace();
    h.settle();
    h.takeSent();
    const before = wakes;
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1 + 10_220) });
    expect(wakes).toBe(before + 1);
  });
});
