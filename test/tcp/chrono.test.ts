/**
 * The send chronograph (src/tcp/chrono.ts): tcp_info's busy time and how much of it the
 * peer's window or our send buffer was the limit, as Linux's tcp_chrono_start/stop.
 */
import { describe, expect, it } from "vitest";
import { CHRONO_BUSY, CHRONO_RWND_LIMITED, CHRONO_SNDBUF_LIMITED, Chronograph } from "../../src/tcp/chrono.js";
import { tcpInfo } from "../../src/tcp/tcp-info.js";
import { seqAdd, seqDiff } from "../../src/wire/seq.js";
import { ACK } from "../../src/wire/tcp.js";
import { established, REMOTE_SEQ } from "./harness.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);

describe("Chronograph (Linux tcp_chrono_start / tcp_chrono_stop)", () => {
  it("a higher state takes over; stopping it falls back to busy, or to idle with nothing queued", () => {
    const c = new Chronograph();
    c.start(0, CHRONO_BUSY);
    c.start(10, CHRONO_RWND_LIMITED);
    c.start(15, CHRONO_BUSY); // lower: ignored
    c.stop(30, CHRONO_SNDBUF_LIMITED, false); // not the running one: ignored
    expect(c.totals(30)).toEqual({ busy: 30, rwndLimited: 20, sndbufLimited: 0 });
    c.stop(30, CHRONO_RWND_LIMITED, false);
    c.start(40, CHRONO_SNDBUF_LIMITED);
    c.stop(45, CHRONO_SNDBUF_LIMITED, true);
    expect(c.totals(100)).toEqual({ busy: 45, rwndLimited: 20, sndbufLimited: 5 });
  });
});

describe("tcp_info busy_time, rwnd_limited, sndbuf_limited", () => {
  it("busy runs from the write until everything is acknowledged, then stops", () => {
    const { h, conn, iss } = established();
    conn.send(new Uint8Array(1000));
    h.settle();
    expect(h.takeSent()).toHaveLength(1);
    h.advance(30);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1001) });
    h.advance(50);
    const info = tcpInfo(conn, h.now);
    expect(info.busyTime).toBe(30_000);
    expect(info.rwndLimited).toBe(0);
    expect(info.sndbufLimited).toBe(0);
  });

  it("a closed window counts as receive-window limited until it opens", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 0 });
    conn.send(new Uint8Array(1000));
    h.settle();
    h.expectNothingSent();
    h.advance(100);
    expect(tcpInfo(conn, h.now).rwndLimited).toBe(100_000);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 2000 });
    expect(h.takeSent()).toHaveLength(1);
    h.advance(20);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1001), window: 2000 });
    const info = tcpInfo(conn, h.now);
    expect(info.rwndLimited).toBe(100_000);
    expect(info.busyTime).toBe(120_000);
  });

  it("a writer the send buffer stops, with everything sent and cwnd open, is send-buffer limited", () => {
    const { h, conn, iss } = established({ sendBufferSize: 4000, sendBufferMax: 4000 });
    // The first skb (half the peer's window) is taken whatever the buffer's size, and the
    // next one refused: the writer is cut short. ACKs let it all out without delay.
    const taken = conn.send(new Uint8Array(100_000));
    expect(taken).toBeLessThan(100_000);
    h.settle();
    while (seqDiff(conn.sender.sndMax, seqAdd(iss, 1)) < taken) h.deliver({ flags: ACK, seq: R(1), ack: conn.sender.sndMax });
    expect(tcpInfo(conn, h.now).sndbufLimited).toBe(0); // cwnd-limited until now
    h.advance(40);
    expect(tcpInfo(conn, h.now).sndbufLimited).toBe(40_000);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1 + taken) });
    h.advance(10);
    const info = tcpInfo(conn, h.now);
    expect(info.sndbufLimited).toBe(40_000);
    expect(info.busyTime).toBe(40_000);
  });

  it("an aborted connection stops the clock", () => {
    const { h, conn } = established();
    conn.send(new Uint8Array(1000));
    h.settle();
    h.advance(10);
    conn.abort();
    h.advance(100);
    expect(tcpInfo(conn, h.now).busyTime).toBe(10_000);
  });
});
