/**
 * The segment ledger behind tcp_info's unacked, retrans and delivered (src/tcp/tcp-stats.ts):
 * what is in flight is counted in the segments that actually left, as Linux counts skbs.
 */
import { describe, expect, it } from "vitest";
import { ConnectionStats } from "../../src/tcp/tcp-stats.js";
import { seqAdd, type Seq } from "../../src/wire/seq.js";
import { ACK, SYN, type TcpSegment } from "../../src/wire/tcp.js";

const ISS = 1_000_000 as Seq;
const seg = (offset: number, len: number, flags = ACK): TcpSegment => ({
  srcPort: 1, dstPort: 2, seq: seqAdd(ISS, offset), ack: 0 as Seq, flags, window: 0, urgentPointer: 0, options: {}, payload: new Uint8Array(len),
});
const at = (offset: number) => seqAdd(ISS, offset);

describe("ConnectionStats' ledger", () => {
  it("SYN data the SYN-ACK only partly acknowledged, sent again in a smaller MSS, counts as two resent segments (Linux tcp_rcv_fastopen_synack)", () => {
    const st = new ConnectionStats();
    st.onSend(0, seg(0, 1420, SYN), false, at(0));
    // The SYN-ACK acknowledged 100 bytes and brought MSS 1000: the sender goes on from there.
    st.onSend(10, seg(101, 1000), false, at(101));
    st.onSend(10, seg(1101, 320), false, at(101));
    const flight = st.inFlight(at(101));
    expect(flight.map((s) => [s.start - ISS, s.end - ISS, s.retrans])).toEqual([
      [101, 1101, true],
      [1101, 1421, true],
    ]);
    expect(st.totalRetrans).toBe(2);
    expect(st.bytesRetrans).toBe(1320);
  });

  it("a resend of part of a segment cuts it at the resend's edges", () => {
    const st = new ConnectionStats();
    st.onSend(0, seg(1, 3000), false, at(1));
    st.onSend(5, seg(1001, 1000), true, at(1));
    expect(st.inFlight(at(1)).map((s) => [s.start - ISS, s.end - ISS, s.retrans])).toEqual([
      [1, 1001, false],
      [1001, 2001, true],
      [2001, 3001, false],
    ]);
    // New data after it is new: nothing resent there.
    st.onSend(6, seg(3001, 500), false, at(1));
    expect(st.inFlight(at(1001)).map((s) => s.retrans)).toEqual([true, false, false]);
    expect(st.totalRetrans).toBe(1);
  });
});

describe("ConnectionStats' counters (made by their first count)", () => {
  it("read zero before anything moved, and count from the first data and the first loss", () => {
    const st = new ConnectionStats();
    const counters = () => [st.dataSegsIn, st.dataSegsOut, st.bytesSent, st.largestPayloadIn, st.bytesRetrans, st.totalRetrans, st.rcvOoopack, st.lossUntil];
    expect(counters()).toEqual([0, 0, 0, 0, 0, 0, 0, undefined]);
    st.onSend(0, seg(0, 0, SYN), false, at(0));
    st.onReceive(1, seg(0, 0));
    expect(counters()).toEqual([0, 0, 0, 0, 0, 0, 0, undefined]);
    st.onSend(2, seg(1, 100), false, at(1));
    st.onReceive(3, seg(0, 40));
    expect(counters()).toEqual([1, 1, 100, 40, 0, 0, 0, undefined]);
    st.rcvOoopack++;
    st.onSend(4, seg(1, 100), true, at(1));
    st.onRto(at(101));
    expect(counters()).toEqual([1, 2, 200, 40, 100, 1, 1, at(101)]);
  });
});
