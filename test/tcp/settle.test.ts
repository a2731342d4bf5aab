/**
 * Connection.settle: an idle connection gives back its own timer set (connection-timers.ts),
 * but not right after an event that brought data, when more is likely on its way.
 */
import { describe, expect, it } from "vitest";
import { NO_TIMERS } from "../../src/tcp/timers.js";
import { ACK, SYN } from "../../src/wire/tcp.js";
import { seqAdd } from "../../src/wire/seq.js";
import { Harness, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ } from "./harness.js";

describe("settling after an event", () => {
  it("a receiver keeps its timer set while data arrives; an event without data lets it go", () => {
    // Past the quick ACKs, and a buffer no larger than the SYN's window, which so cannot grow
    // and ask for quick ACKs of its own (Linux tcp_grow_window): the first segment of each pair arms the delayed ACK.
    const h = new Harness({ quickAcks: 0, receiveBufferSize: 64 * 1024 });
    const listener = h.host.tcp.listen(LOCAL_PORT);
    const from = { addr: REMOTE_ADDR, port: REMOTE_PORT, toPort: LOCAL_PORT };
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000 } }, from);
    const [synAck] = h.takeSent();
    const ack = seqAdd(synAck!.seq, 1);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack }, from);
    const conn = listener.accept()!;
    conn.onWake = (c) => void c.read(); // the application reads as it is told, as a bulk receiver does
    expect(conn.timers).toBe(NO_TIMERS); // established and idle: the shared, empty set
    // Two full segments: the second is ACKed at once, nothing is armed and nothing is left
    // unread, yet the set stays for the segments to come.
    let seq = seqAdd(REMOTE_SEQ, 1);
    for (let i = 0; i < 2; i++) {
      h.deliver({ flags: ACK, seq, ack, payload: new Uint8Array(1000) }, from);
      seq = seqAdd(seq, 1000);
    }
    expect(conn.readable).toBe(0);
    expect(conn.deadline).toBe(Infinity);
    const own = conn.timers;
    expect(own).not.toBe(NO_TIMERS);
    h.deliver({ flags: ACK, seq, ack, payload: new Uint8Array(1000) }, from);
    expect(conn.timers).toBe(own); // the same set, not a new one per segment
    // A pure ACK (a window probe answer, a keep-alive...) is an event without data: it settles.
    h.advance(200); // the delayed ACK for the third segment goes
    h.deliver({ flags: ACK, seq, ack, window: 1000 }, from);
    expect(conn.timers).toBe(NO_TIMERS);
  });
});
