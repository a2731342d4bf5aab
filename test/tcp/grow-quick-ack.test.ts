/**
 * Quick ACKs a receiver asks for itself, past the connection's first ones.
 *
 * A receive window that grows asks for a quick ACK, as Linux's tcp_grow_window does
 * (icsk_ack.quick |= 1): while rcv_ssthresh still rises toward the free buffer, every
 * in-order segment is ACKed at once; once it has reached it, every second full segment is,
 * as RFC 5681 4.2 asks. And in-order segments under 128 bytes do not grow the window at all
 * (Linux tcp_event_data_recv: skb->len >= 128). And data after a silence longer than the
 * RTO is quick-ACKed again (tcp_event_data_recv's "Too long gap": tcp_incr_quickack).
 */
import { describe, expect, it } from "vitest";
import type { Receiver } from "../../src/tcp/receiver.js";
import { deliver, MSS, receiverAfterHandshake, RTO } from "./receiver-fixture.js";

/** A receiver past the handshake: no initial quick ACKs left, so only the window's growth asks for them. */
const receiver = (receiveBufferSize = 256 * 1024) => receiverAfterHandshake({ quickAcks: 0, receiveBufferSize }, true);

describe("quick ACKs while the receive window grows (Linux tcp_grow_window)", () => {
  it("ACKs every full segment at once while rcv_ssthresh rises, then every second one", () => {
    // Nothing is read: each segment takes 1,460 bytes of the 256 KiB buffer and raises
    // rcv_ssthresh by 2,920 from 65,535, so the room between them (196,609 at first) is
    // gone after 45 segments.
    const r = receiver();
    const growing = Array.from({ length: 45 }, (_, i) => deliver(r, i, MSS));
    expect(growing.every((a) => a)).toBe(true);
    expect(r.ssthresh).toBe(r.buffer.free); // the last growth took all the room there was
    const reached = r.ssthresh;
    // From the 46th on: no growth, so the usual rule, every second full segment.
    const after = Array.from({ length: 15 }, (_, i) => deliver(r, 45 + i, MSS));
    expect(after).toEqual([false, true, false, true, false, true, false, true, false, true, false, true, false, true, false]);
    expect(r.ssthresh).toBe(reached);
  });

  it("a window that cannot grow (already at the buffer) keeps ACKing every second segment", () => {
    const r = receiver(64 * 1024); // the SYN's 65,535 is already more than the buffer holds
    const acks = Array.from({ length: 6 }, (_, i) => deliver(r, i, MSS));
    expect(acks).toEqual([false, true, false, true, false, true]);
  });

  it("segments under 128 bytes neither grow the window nor ask for a quick ACK", () => {
    const r = receiver();
    const before = r.ssthresh;
    expect(deliver(r, 0, 127)).toBe(false);
    expect(r.ssthresh).toBe(before);
    expect(deliver(r, 1, 128)).toBe(true);
    expect(r.ssthresh).toBe(before + 2 * MSS);
  });
});

describe("quick ACKs after a silence longer than the RTO (Linux tcp_event_data_recv, \"Too long gap\")", () => {
  /** A receiver whose window cannot grow (64 KiB buffer), so only the gap asks for quick ACKs. */
  const still = (): Receiver => receiver(64 * 1024);

  it("ACKs at once the lone segment that ends a silence longer than the RTO, not one after a shorter pause", () => {
    const r = still();
    expect(deliver(r, 0, MSS)).toBe(false);
    expect(deliver(r, 1, MSS)).toBe(true); // every second full segment
    expect(deliver(r, 500, MSS)).toBe(false); // a pause shorter than the RTO (1 s): the delayed ACK waits
    r.onAckSent(r.rcvNxt); // the delayed-ACK timer sent it
    expect(deliver(r, 500 + RTO + 1, MSS)).toBe(true); // longer than the RTO: quick ACKs again
    expect(deliver(r, 500 + RTO + 2, MSS)).toBe(true); // half the window's worth of them (here 16, the most)
  });

  it("leaves interactive mode as it was: an interactive connection still waits for its reply", () => {
    const r = still();
    deliver(r, 0, MSS);
    r.onDataSent(10); // a reply within the ACK estimator's interval: interactive
    expect(r.interactive).toBe(true);
    r.onAckSent(r.rcvNxt);
    expect(deliver(r, 10 + RTO + 1, MSS)).toBe(false);
    expect(r.interactive).toBe(true);
  });
});
