/**
 * What the application can ask of the sender beyond Nagle: TCP_CORK, MSG_MORE (Linux's
 * tcp_nagle_check with TCP_NAGLE_CORK), TCP_NODELAY's one-shot push, and the congestion
 * window restart after idle (RFC 5681 4.1, Linux tcp_slow_start_after_idle).
 */
import { describe, expect, it } from "vitest";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK, PSH } from "../../src/wire/tcp.js";
import { established, REMOTE_SEQ } from "./harness.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);

describe("TCP_CORK and MSG_MORE", () => {
  it("a corked socket holds partial segments; uncorking sends them as one", () => {
    const { h, conn, iss } = established();
    conn.setCork(true);
    conn.send(new Uint8Array(40));
    h.settle();
    h.now += 50;
    conn.send(new Uint8Array(40));
    h.settle();
    h.expectNothingSent();
    conn.setCork(false);
    h.settle();
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(1), payload: new Uint8Array(80) }]);
  });

  it("TCP_NODELAY pushes what a cork holds, once (Linux TCP_NAGLE_PUSH)", () => {
    const { h, conn, iss } = established();
    conn.setCork(true);
    conn.send(new Uint8Array(40));
    h.settle();
    h.expectNothingSent();
    conn.setNoDelay(true);
    h.settle();
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(1), payload: new Uint8Array(40) }]);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 41) });
    conn.send(new Uint8Array(40));
    h.settle();
    h.expectNothingSent(); // still corked
  });

  it("MSG_MORE holds the tail without PSH until a write without it", () => {
    const { h, conn, iss } = established();
    conn.send(new Uint8Array(40), { more: true });
    h.settle();
    h.expectNothingSent();
    conn.send(new Uint8Array(40));
    h.settle();
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(1), payload: new Uint8Array(80) }]);
  });

  it("a cork holds data for about one RTO at most: the persist timer sends it (Linux's probe timer)", () => {
    const { h, conn, iss } = established();
    conn.setCork(true);
    conn.send(new Uint8Array(40));
    h.settle();
    h.expectNothingSent();
    const start = h.now;
    const fired = h.nextTimer();
    expect(fired - start).toBeGreaterThanOrEqual(200);
    h.expectSent([{ flags: ACK | PSH, seq: seqAdd(iss, 1), ack: R(1), payload: new Uint8Array(40) }]);
  });

  it("MSG_MORE corks only its own write: an ACK then sends the tail as TCP_NODELAY says", () => {
    const { h, conn, iss } = established();
    conn.setNoDelay(true);
    h.settle();
    conn.send(new Uint8Array(3000), { more: true });
    h.settle();
    expect(h.takeSent().map((s) => s.payload.length)).toEqual([1460, 1460]);
    h.now += 10;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1461) });
    expect(h.takeSent().map((s) => [s.seq, s.payload.length])).toEqual([[seqAdd(iss, 2921), 80]]);
  });

  it("full segments leave a corked socket at once", () => {
    const { h, conn } = established();
    conn.setCork(true);
    conn.send(new Uint8Array(1460 * 2 + 100));
    h.settle();
    expect(h.takeSent().map((s) => s.payload.length)).toEqual([1460, 1460]);
  });
});

describe("congestion window restart after idle", () => {
  function grown(tcp: { slowStartAfterIdle?: boolean }) {
    const e = established({ initialCwndSegments: 2, ...tcp });
    const { h, conn, iss } = e;
    conn.send(new Uint8Array(1460 * 2));
    h.settle();
    h.takeSent();
    h.now += 10;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1 + 2920) });
    h.takeSent();
    expect(conn.congestion.cwnd).toBe(4 * 1460);
    return e;
  }

  it("is off by default: the window survives a long pause", () => {
    const { h, conn } = grown({});
    h.now += 10_000;
    conn.send(new Uint8Array(1460 * 6));
    h.settle();
    expect(h.takeSent()).toHaveLength(4);
  });

  it("when on, halves the window per RTO idle, down to the initial window, keeping 3/4 as ssthresh", () => {
    const { h, conn } = grown({ slowStartAfterIdle: true });
    h.now += 10_000;
    conn.send(new Uint8Array(1460 * 6));
    h.settle();
    expect(h.takeSent()).toHaveLength(2);
    expect(conn.congestion.ssthresh).toBeGreaterThanOrEqual(3 * 1460); // max(ssthresh, 3/4 cwnd): Linux tcp_current_ssthresh
  });
});
