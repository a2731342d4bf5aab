/**
 * Which RTT congestion control sees. Linux hands CUBIC (and so HyStart) the RTT of the
 * newest segment an ACK delivers, timed by the sender's own clock (ca_rtt_us in
 * tcp_clean_rtx_queue), not the echoed timestamp: a receiver echoes the oldest timestamp it
 * acknowledges (RFC 7323 TS.Recent), so with delayed or coalesced ACKs the echo carries the
 * receiver's ACK delay and the flight's spread. Read as RTT, that looks like a queue, and
 * HyStart would end slow start on a path with no queue at all.
 */
import { describe, expect, it } from "vitest";
import { HYSTART_DELAY } from "../../src/tcp/congestion/hystart.js";
import { seqAdd, seqDiff, type Seq } from "../../src/wire/seq.js";
import { ACK, SYN, type TcpSegment } from "../../src/wire/tcp.js";
import { Harness, LOCAL_PORT, REMOTE_SEQ } from "./harness.js";

const RTT = 40;

interface Sent {
  end: Seq;
  tsVal: number;
  at: number;
}

/**
 * A CUBIC sender (HyStart's delay detector only) in slow start over a path of exactly 40 ms
 * with no queue, whose receiver acknowledges every segment on time but echoes the
 * timestamp of a segment sent `staleMs` earlier. Returns the window when slow start ended
 * (Infinity if it never did within `rounds` round trips) and the largest window reached.
 */
function slowStart(staleMs: number, rounds = 8, opts: { timestamps?: boolean; rttAfter?: (sentAt: number) => number; handshakeRtt?: number } = {}): { endedAt: number; cwndSegments: number } {
  const ts = opts.timestamps ?? true;
  const rttOf = opts.rttAfter ?? (() => RTT);
  const h = new Harness({ congestionControl: "cubic", hystartDetect: HYSTART_DELAY, timestamps: ts });
  h.host.tcp.listen(LOCAL_PORT);
  h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: ts ? { mss: 1460, timestamp: { value: 1, echo: 0 } } : { mss: 1460 } });
  const synAck = h.takeSent()[0]!;
  h.advance(opts.handshakeRtt ?? RTT);
  h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck.seq, 1), options: ts ? { timestamp: { value: 2, echo: synAck.options.timestamp!.value } } : {} });
  const conn = h.host.tcp.allConnections()[0]!;
  conn.send(new Uint8Array(4 << 20));
  h.settle();
  const sent: Sent[] = [];
  const record = (segs: TcpSegment[]): void => {
    for (const s of segs) if (s.payload.length > 0) sent.push({ end: seqAdd(s.seq, s.payload.length), tsVal: s.options.timestamp?.value ?? 0, at: h.now });
  };
  record(h.takeSent());
  let endedAt = Infinity;
  let next = 0;
  const end = h.now + rounds * RTT;
  while (next < sent.length && endedAt === Infinity) {
    const s = sent[next++]!;
    const due = s.at + rttOf(s.at);
    if (due > end) break;
    if (due > h.now) h.advance(due - h.now);
    // The newest segment sent at least `staleMs` before this one: its timestamp is echoed.
    let echo = sent[0]!;
    for (const e of sent) if (e.at <= s.at - staleMs) echo = e;
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: s.end, window: 65535, options: ts ? { timestamp: { value: 3, echo: (staleMs > 0 ? echo : s).tsVal } } : {} });
    record(h.takeSent());
    if (conn.congestion.ssthresh < Number.MAX_SAFE_INTEGER) endedAt = Math.round(conn.congestion.cwnd / conn.sendMss);
  }
  expect(seqDiff(sent[sent.length - 1]!.end, sent[0]!.end)).toBeGreaterThan(0);
  return { endedAt, cwndSegments: Math.round(conn.congestion.cwnd / conn.sendMss) };
}

describe("the RTT sample HyStart sees (Linux ca_rtt_us)", () => {
  it("echoes that lag a round behind do not end slow start on a path without a queue", () => {
    const fresh = slowStart(0);
    expect(fresh.endedAt).toBe(Infinity);
    const stale = slowStart(RTT);
    expect(stale.endedAt).toBe(Infinity);
    // Slow start went on doubling: well past HyStart's 16-segment floor.
    expect(stale.cwndSegments).toBeGreaterThan(64);
  });

  it("without timestamps every ACK still gives a sample, so a real rise in RTT ends slow start", () => {
    // Linux times every segment itself; the RTO estimator's one timed segment per round
    // would leave HyStart short of its 8 samples a round.
    const start = 3 * RTT;
    const rising = slowStart(0, 8, { timestamps: false, rttAfter: (at) => (at < start ? RTT : RTT + 10) });
    expect(rising.endedAt).toBeGreaterThanOrEqual(16);
    expect(rising.endedAt).toBeLessThan(Infinity);
    expect(slowStart(0, 8, { timestamps: false }).endedAt).toBe(Infinity);
  });

  it("the handshake's RTT is not HyStart's minimum: data segments that all take longer do not end slow start", () => {
    // Linux sets up CUBIC only once the handshake is done (tcp_init_transfer after tcp_ack;
    // cubictcp_init zeroes delay_min). A lone SYN-ACK crossed in 30 ms; every data segment
    // takes 40 ms, steadily: no queue builds, so slow start goes on.
    const run = slowStart(0, 8, { timestamps: false, handshakeRtt: 30 });
    expect(run.endedAt).toBe(Infinity);
    expect(run.cwndSegments).toBeGreaterThan(64);
    // A real rise above the data segments' own minimum still ends it.
    const start = 3 * RTT;
    expect(slowStart(0, 8, { timestamps: false, handshakeRtt: 30, rttAfter: (at) => (at < start ? RTT : RTT + 10) }).endedAt).toBeLessThan(Infinity);
  });
});
