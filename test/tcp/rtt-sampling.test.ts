/**
 * Where RTT samples come from (Linux tcp_ack_update_rtt): every ACK that newly delivers a
 * never-retransmitted segment times it by our clock, from the oldest such segment; an ACK
 * covering retransmitted data gives none (Karn's rule).
 */
import { describe, expect, it } from "vitest";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK } from "../../src/wire/tcp.js";
import { established, REMOTE_SEQ } from "./harness.js";

const MSS = 1460;

describe("RTT samples", () => {
  it("come from every ACK, timed from the oldest segment it delivers, without timestamps", () => {
    const { h, conn, iss } = established();
    conn.send(new Uint8Array(4 * MSS));
    h.settle();
    expect(h.takeSent()).toHaveLength(4);
    h.advance(10);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1 + 2 * MSS) });
    const afterFirst = conn.inspect().srtt!;
    h.advance(20);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1 + 4 * MSS) });
    // The second ACK's segments left 30 ms ago: SRTT moves an eighth of the way to 30 ms.
    expect(conn.inspect().srtt).toBeCloseTo(afterFirst + (30 - afterFirst) / 8, 2);
  });

  it("are not taken from an ACK of retransmitted data", () => {
    const { h, conn, iss } = established();
    conn.send(new Uint8Array(MSS));
    h.settle();
    h.takeSent();
    const before = conn.inspect().srtt;
    h.advance(conn.inspect().rto);
    expect(h.takeSent()).toHaveLength(1); // the retransmission
    h.advance(5);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1 + MSS) });
    expect(conn.inspect().srtt).toBe(before);
  });
});
