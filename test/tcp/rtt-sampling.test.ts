/**
 * Where RTT samples come from (Linux tcp_ack_update_rtt): every ACK that newly delivers a
 * never-retransmitted segment times it by our clock, from the oldest such segment; an ACK
 * covering retransmitted data gives none by our clock (Karn's rule), and with timestamps
 * is timed by the echo instead.
 */
import { describe, expect, it } from "vitest";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK, SYN } from "../../src/wire/tcp.js";
import { established, listening, REMOTE_SEQ } from "./harness.js";

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

  it("with timestamps, an ACK of retransmitted data is timed by its echo, which names the resend (RFC 7323 4.1, 4.3; Linux tcp_ack_update_rtt)", () => {
    const { h, listener } = listening({ timestamps: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: MSS, timestamp: { value: 1, echo: 0 } } });
    const synAck = h.takeSent()[0]!;
    h.advance(10);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck.seq, 1), options: { timestamp: { value: 2, echo: synAck.options.timestamp!.value } } });
    const conn = listener.accept()!;
    conn.send(new Uint8Array(100));
    h.settle();
    h.takeSent();
    h.advance(conn.inspect().rto + 1);
    const resend = h.takeSent().at(-1)!;
    const before = conn.inspect().srtt!;
    h.advance(400);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck.seq, 101), options: { timestamp: { value: 3, echo: resend.options.timestamp!.value } } });
    // 400 ms from the resend: SRTT moves an eighth of the way there.
    expect(conn.inspect().srtt).toBeCloseTo(before + (400 - before) / 8, 0);
  });

  it("are not taken from an echo more than INT_MAX / 1000 ms old (Linux tcp_ack_update_rtt)", () => {
    const { h, listener } = listening({ timestamps: true, sack: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: MSS, sackPermitted: true, timestamp: { value: 1, echo: 0 } } });
    const synAck = h.takeSent()[0]!;
    const iss = synAck.seq;
    h.advance(10);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1), options: { timestamp: { value: 2, echo: synAck.options.timestamp!.value } } });
    const conn = listener.accept()!;
    // Judged where ACKs and data are timed by the echo (Negotiation.rttFromEcho): a peer
    // echoing a value we sent 40 minutes ago (or never) gives no sample (taken as one, SRTT
    // would move an eighth of the way to 40 minutes); 35 minutes is still one, however odd.
    conn.send(new Uint8Array(100));
    h.settle();
    const tsval = h.takeSent()[0]!.options.timestamp!.value;
    const echoAged = (age: number) => ({ ...synAck, options: { timestamp: { value: 3, echo: (tsval - age) >>> 0 } } });
    expect(conn.negotiation.rttFromEcho(h.now, echoAged(40 * 60_000))).toBeUndefined();
    expect(conn.negotiation.rttFromEcho(h.now, echoAged(35 * 60_000))).toBe(35 * 60_000);
  });
});
