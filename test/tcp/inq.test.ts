/**
 * What is left to read, as Linux tells it: SIOCINQ (tcp_inq, `conn.inq`) and TCP_INQ's
 * TCP_CM_INQ control message (tcp_inq_hint, `conn.inqHint`). One connection driven segment
 * by segment; the numbers are the ones a Linux reader sees at each step.
 */
import { describe, expect, it } from "vitest";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK, FIN, PSH, SYN, URG } from "../../src/wire/tcp.js";
import { established, Harness, LOCAL_PORT, REMOTE_SEQ, synSent, text } from "./harness.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);

describe("bytes waiting on an established connection", () => {
  it("both count the unread data, and shrink as it is read", () => {
    const { h, conn, iss } = established();
    expect([conn.inq, conn.inqHint]).toEqual([0, 0]);
    h.deliver({ flags: ACK | PSH, seq: R(1), ack: seqAdd(iss, 1), payload: new Uint8Array(3000) });
    expect([conn.inq, conn.inqHint]).toEqual([3000, 3000]);
    expect(conn.read(1200).length).toBe(1200);
    expect([conn.inq, conn.inqHint]).toEqual([1800, 1800]);
    expect(conn.read().length).toBe(1800);
    expect([conn.inq, conn.inqHint]).toEqual([0, 0]); // 0: another read would block
  });

  it("a received FIN counts 1 in the hint from its arrival on, never in SIOCINQ", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK | PSH | FIN, seq: R(1), ack: seqAdd(iss, 1), payload: new Uint8Array(500) });
    expect(conn.state).toBe("CLOSE_WAIT");
    expect([conn.inq, conn.inqHint]).toEqual([500, 501]);
    conn.read(200);
    expect([conn.inq, conn.inqHint]).toEqual([300, 301]);
    conn.read();
    // All data read: the hint stays 1 so the reader calls again and sees end of stream.
    expect([conn.inq, conn.inqHint]).toEqual([0, 1]);
    expect(conn.read().length).toBe(0);
    expect([conn.inq, conn.inqHint]).toEqual([0, 1]);
  });

  it("a FIN that arrives after the data was read still makes the hint 1", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK | PSH, seq: R(1), ack: seqAdd(iss, 1), payload: new Uint8Array(10) });
    conn.read();
    expect(conn.inqHint).toBe(0);
    h.deliver({ flags: ACK | FIN, seq: R(11), ack: seqAdd(iss, 1) });
    expect([conn.inq, conn.inqHint]).toEqual([0, 1]);
  });

  it("data held out of order is not waiting: neither counts it until the gap fills", () => {
    const { h, conn, iss } = established();
    h.deliver({ flags: ACK | PSH, seq: R(101), ack: seqAdd(iss, 1), payload: new Uint8Array(50) });
    expect([conn.inq, conn.inqHint]).toEqual([0, 0]);
    h.deliver({ flags: ACK | PSH, seq: R(1), ack: seqAdd(iss, 1), payload: new Uint8Array(100) });
    expect([conn.inq, conn.inqHint]).toEqual([150, 150]);
  });
});

describe("before the handshake completes", () => {
  it("SYN_SENT: nothing waits", () => {
    const { conn } = synSent();
    expect(conn.state).toBe("SYN_SENT");
    expect([conn.inq, conn.inqHint]).toEqual([0, 0]);
  });

  it("a Fast Open child in SYN_RCVD holds the SYN's data: SIOCINQ says 0 (tcp_inq), the hint counts it (tcp_inq_hint)", () => {
    const h = new Harness({ fastOpen: 0x202 }); // server, no cookie required
    const listener = h.host.tcp.listen(LOCAL_PORT);
    listener.fastOpenQueueLimit = 16;
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, payload: "hello" });
    const child = listener.accept()!;
    expect(child.state).toBe("SYN_RCVD");
    expect([child.inq, child.inqHint]).toEqual([0, 5]);
  });
});

describe("urgent data (Linux tcp_inq's urg_seq branch)", () => {
  const withMark = (inline: boolean) => {
    const { h, conn, iss } = established();
    conn.setOobInline(inline);
    h.deliver({ flags: ACK | PSH | URG, seq: R(1), ack: seqAdd(iss, 1), payload: "abcX", urg: 4 });
    h.deliver({ flags: ACK | PSH, seq: R(5), ack: seqAdd(iss, 1), payload: "def" });
    return conn;
  };

  it("SIOCINQ counts only the bytes before an urgent mark ahead; the hint counts everything", () => {
    const conn = withMark(false);
    expect([conn.inq, conn.inqHint]).toEqual([3, 7]);
    expect(text(conn.read())).toBe("abc");
    expect([conn.inq, conn.inqHint]).toEqual([0, 4]); // at the mark: urg_seq - copied_seq
    expect(conn.readOob()).toEqual({ byte: "X".charCodeAt(0) });
    expect(conn.inq).toBe(0); // the mark stays until a read passes it
    expect(text(conn.read())).toBe("def");
    expect([conn.inq, conn.inqHint]).toEqual([0, 0]);
  });

  it("with SO_OOBINLINE the urgent byte is ordinary data to SIOCINQ", () => {
    const conn = withMark(true);
    expect([conn.inq, conn.inqHint]).toEqual([7, 7]);
  });
});
