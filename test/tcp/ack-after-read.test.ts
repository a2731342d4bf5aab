/**
 * Linux tcp_cleanup_rbuf / tcp_measure_rcv_mss: after a short segment (the end of the
 * peer's write, the remainder Nagle would otherwise hold back) the application's read that
 * empties the buffer sends the delayed ACK at once, outside interactive mode. Without it a
 * bulk transfer ending in a full segment and a short one stalls for the delayed-ACK time.
 */
import { describe, expect, it } from "vitest";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK, PSH } from "../../src/wire/tcp.js";
import { established, REMOTE_SEQ } from "./harness.js";

const FULL = 1460;

/**
 * A connection that got the first data and quick-ACKed it, so later data is ACKed by delayed
 * ACKs. Its 64 KiB buffer is no more than the SYN's window, so the window offered cannot grow
 * and ask for quick ACKs of its own (Linux tcp_grow_window; grow-quick-ack.test.ts).
 */
function receiving(): ReturnType<typeof established> & { at: number } {
  const e = established({ quickAcks: 0, receiveBufferSize: 64 * 1024 });
  return { ...e, at: 1 };
}

function deliverData(e: ReturnType<typeof receiving>, len: number, push: boolean): void {
  e.h.deliver({ flags: ACK | (push ? PSH : 0), seq: seqAdd(REMOTE_SEQ, e.at), ack: seqAdd(e.iss, 1), payload: new Uint8Array(len) });
  e.at += len;
}

describe("the delayed ACK after a read (Linux tcp_cleanup_rbuf)", () => {
  it("leaves at once when the read empties the buffer after a short segment", () => {
    const e = receiving();
    deliverData(e, FULL, false);
    deliverData(e, FULL, false);
    expect(e.h.takeSent().length).toBe(1); // two full segments: ACKed at once (RFC 5681 4.2)
    e.conn.read();
    deliverData(e, 700, true); // the end of the write, alone: its ACK is delayed
    expect(e.h.takeSent().length).toBe(0);
    e.conn.read();
    e.h.settle();
    const acks = e.h.takeSent();
    expect(acks.length).toBe(1);
    expect(acks[0]!.ack).toBe(seqAdd(REMOTE_SEQ, e.at));
  });

  it("waits for the timer when only full segments came, or the buffer still holds data", () => {
    const e = receiving();
    deliverData(e, FULL, false);
    e.h.takeSent();
    e.conn.read();
    e.h.settle();
    expect(e.h.takeSent().length).toBe(0); // a full segment: the delayed ACK waits
    const f = receiving();
    deliverData(f, 700, true);
    f.h.takeSent();
    f.conn.read(100); // the buffer is not empty yet
    f.h.settle();
    expect(f.h.takeSent().length).toBe(0);
  });
});
