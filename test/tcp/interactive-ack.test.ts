/**
 * Linux's interactive ("pingpong") delayed-ACK mode, as the receiver models it: data we send
 * within the ACK estimator's interval (ato, 40 ms to start) of the peer's data makes the
 * connection interactive, and from then on the peer's data is not quick-ACKed but waits for
 * the delayed-ACK timer or for our reply (Linux tcp_event_data_sent, tcp_in_quickack_mode,
 * tcp_delack_timer_handler).
 */
import { describe, expect, it } from "vitest";
import type { Receiver } from "../../src/tcp/receiver.js";
import { deliver, receiverAfterHandshake } from "./receiver-fixture.js";

const receiver = () => receiverAfterHandshake({});

describe("interactive (pingpong) delayed ACKs", () => {
  it("quick-ACKs a new connection's data while it is not interactive", () => {
    const r = receiver();
    expect(deliver(r, 0, 500)).toBe(true);
    expect(deliver(r, 100, 500)).toBe(true);
    expect(r.interactive).toBe(false);
  });

  it("a reply sent within 40 ms of the peer's data makes it interactive: the next data's ACK waits", () => {
    const r = receiver();
    expect(deliver(r, 0, 500)).toBe(true); // first data: ato starts at 40 ms
    r.onDataSent(10); // our reply, 10 ms later
    expect(r.interactive).toBe(true);
    expect(deliver(r, 30, 500)).toBe(false);
    expect(r.wantsDelayedAck).toBe(true);
  });

  it("a reply sent after the estimator's interval leaves it as it was", () => {
    const r = receiver();
    deliver(r, 0, 500);
    r.onDataSent(40); // not less than ato
    expect(r.interactive).toBe(false);
    expect(deliver(r, 60, 500)).toBe(true);
  });

  it("data sent before any data arrived does not make it interactive (ato is still 0)", () => {
    const r = receiver();
    r.onDataSent(0);
    expect(r.interactive).toBe(false);
  });

  it("the delayed-ACK timer firing in interactive mode leaves it, and quick ACKs return", () => {
    const r = receiver();
    deliver(r, 0, 500);
    r.onDataSent(5);
    expect(deliver(r, 20, 500)).toBe(false);
    r.onDelayedAckTimeout();
    r.onAckSent(r.rcvNxt);
    expect(r.interactive).toBe(false);
    expect(deliver(r, 300, 500)).toBe(true);
  });

  it("entering quick-ACK mode (ECN CE, a retransmission we already have) leaves interactive mode", () => {
    const r = receiver();
    deliver(r, 0, 500);
    r.onDataSent(5);
    expect(r.interactive).toBe(true);
    r.quickAck(2);
    expect(r.interactive).toBe(false);
    expect(deliver(r, 20, 500)).toBe(true);
  });

  it("two full segments are still ACKed at once in interactive mode (RFC 5681 4.2)", () => {
    const r = receiver();
    deliver(r, 0, 500);
    r.onDataSent(5);
    expect(deliver(r, 10, 1460)).toBe(false);
    expect(deliver(r, 11, 1460)).toBe(true);
  });
});

describe("ACK every second segment (Linux __tcp_ack_snd_check)", () => {
  /** A bulk receiver past its quick-ACK start: a lone full segment waits for the next. */
  function bulkReceiver(): Receiver {
    const r = receiver();
    for (let i = 0; i < 100 && deliver(r, 0, 1448); i++);
    expect(deliver(r, 0, 1448)).toBe(true); // the second of a pair
    expect(deliver(r, 0, 1448)).toBe(false); // quick ACKs are used up: one full segment waits
    return r;
  }

  it("ACKs at once when more than one full-sized segment's worth is unacknowledged, even if the second is short", () => {
    const r = bulkReceiver();
    // 1448 + 884 bytes: more than one full frame (RFC 5681 4.2 asks for at least every second
    // full-sized segment; Linux acknowledges as soon as more than rcv_mss is unacknowledged).
    expect(deliver(r, 0, 884)).toBe(true);
  });

  it("holds the ACK for a single full segment, and for short ones until they add up to more than one", () => {
    const r = bulkReceiver();
    expect(deliver(r, 0, 1448)).toBe(true); // the pair completes
    expect(deliver(r, 0, 700)).toBe(false);
    expect(deliver(r, 0, 700)).toBe(false); // 1400: not more than 1448
    expect(deliver(r, 0, 100)).toBe(true); // 1500
  });
});
