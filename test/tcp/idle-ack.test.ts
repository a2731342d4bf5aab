/**
 * ackChangesNothing (src/tcp/sender-loss.ts): the ACK field of a segment that finds nothing
 * of ours in flight or queued, with the window we already had, leaves the sender as it is,
 * and Sender.onAck then only records the window's SND.WL1/WL2 (Linux tcp_rcv_established's
 * receiver fast path). Anything that could change the sender takes the full ACK path.
 */
import { describe, expect, it } from "vitest";
import type { Sender } from "../../src/tcp/sender.js";
import { ackChangesNothing } from "../../src/tcp/sender-loss.js";
import { seqAdd, type Seq } from "../../src/wire/seq.js";
import { ACK, ECE, PSH, type TcpSegment } from "../../src/wire/tcp.js";
import { established, REMOTE_SEQ } from "./harness.js";

function segment(ack: Seq, over: Partial<TcpSegment> = {}): TcpSegment {
  return { srcPort: 49500, dstPort: 80, seq: seqAdd(REMOTE_SEQ, 1), ack, flags: ACK | PSH, window: 65535, urgentPointer: 0, options: {}, payload: new Uint8Array(100), ...over };
}

function sender(e: ReturnType<typeof established>): Sender {
  return e.conn.sender;
}

describe("an ACK that changes nothing on the sending side", () => {
  it("is the ACK of a receiver with nothing in flight, the same window, no SACK block and no ECE", () => {
    const e = established();
    const s = sender(e);
    expect(s.sndUna).toBe(s.sndMax);
    expect(ackChangesNothing(s, segment(s.sndUna), s.sndWnd)).toBe(true);
    expect(ackChangesNothing(s, segment(s.sndUna), s.sndWnd - 1)).toBe(false);
    expect(ackChangesNothing(s, segment(s.sndUna, { flags: ACK | ECE }), s.sndWnd)).toBe(false);
    expect(ackChangesNothing(s, segment(s.sndUna, { options: { sackBlocks: [{ left: seqAdd(REMOTE_SEQ, 1), right: seqAdd(REMOTE_SEQ, 2) }] } }), s.sndWnd)).toBe(false);
    expect(ackChangesNothing(s, segment(seqAdd(s.sndUna, -1)), s.sndWnd)).toBe(false);
  });

  it("is never an ACK while our data or FIN is out", () => {
    const e = established();
    const s = sender(e);
    e.conn.send(new Uint8Array(3000));
    e.h.settle();
    expect(s.sndMax).not.toBe(s.sndUna);
    expect(ackChangesNothing(s, segment(s.sndUna), s.sndWnd)).toBe(false);
    // All of it acknowledged: idle again.
    e.h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: s.sndMax });
    e.h.takeSent();
    expect(ackChangesNothing(s, segment(s.sndUna), s.sndWnd)).toBe(true);
    e.conn.close();
    e.h.settle();
    expect(ackChangesNothing(s, segment(s.sndUna), s.sndWnd)).toBe(false);
  });

  it("still records where the window was last taken (SND.WL1/WL2), as Linux tcp_update_wl", () => {
    const e = established();
    const s = sender(e);
    const window = s.sndWnd;
    // Out of order, then the hole filled by an older segment that offers less: the older one
    // may not set the window (RFC 9293 3.10.7.4), which only holds if the first one's
    // sequence number was recorded though its ACK changed nothing.
    e.h.deliver({ flags: ACK | PSH, seq: seqAdd(REMOTE_SEQ, 1001), ack: s.sndUna, window, payload: new Uint8Array(500) });
    e.h.deliver({ flags: ACK | PSH, seq: seqAdd(REMOTE_SEQ, 1), ack: s.sndUna, window: 1000, payload: new Uint8Array(1000) });
    expect(s.sndWnd).toBe(window);
    // A segment after both that offers less is taken (the full path).
    e.h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1501), ack: s.sndUna, window: 1000 });
    expect(s.sndWnd).toBe(1000);
  });
});
