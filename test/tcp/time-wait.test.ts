/**
 * Compact TIME_WAIT records (src/tcp/time-wait.ts): once the last ACK has left, the full
 * connection gives its place in the table to a small record, which answers for the 4-tuple
 * by the same rules (RFC 9293 3.10.7.4 TIME-WAIT, RFC 7323 timestamps, RFC 5961 challenge
 * ACKs, Linux's tcp_rfc1337=0). states.test.ts checks the behaviour through the connection
 * object; these tests check that a record, not the connection, is what answers.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK, FIN, RST, SYN } from "../../src/wire/tcp.js";
import { established, Harness, listening, REMOTE_SEQ } from "./harness.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);

/** Our side closes first; the peer's FIN,ACK takes us to TIME_WAIT. */
function timeWait(tcp = {}) {
  const e = established(tcp);
  e.conn.close();
  e.h.settle();
  e.h.takeSent();
  e.h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(e.iss, 2) });
  e.h.expectSent([{ flags: ACK, seq: seqAdd(e.iss, 2), ack: R(2) }]);
  return e;
}

describe("compact TIME_WAIT record", () => {
  it("replaces the connection in the table once the last ACK has left", () => {
    const { h, conn } = timeWait();
    const tcp = h.host.tcp;
    expect(tcp.timeWaitRecords).toBe(1);
    expect(tcp.timeWaitCount).toBe(1);
    expect(tcp.allConnections()).not.toContain(conn);
    const sockets = tcp.allSockets();
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.connection).toBeUndefined();
    expect(sockets[0]!.info.state).toBe("TIME_WAIT");
    expect(sockets[0]!.info.tuple).toEqual(conn.tuple);
    expect(sockets[0]!.info.timers.linger).toBe(h.now + 60_000);
    expect(conn.state).toBe("TIME_WAIT"); // what an application holding the object sees
    h.advance(60_000);
    expect(conn.state).toBe("CLOSED");
    expect(tcp.timeWaitRecords).toBe(0);
    expect(tcp.timeWaitCount).toBe(0);
    expect(tcp.allSockets()).toHaveLength(0);
  });

  it("an exact RST ends it early; a RST elsewhere is ignored (tcp_rfc1337=0)", () => {
    const { h, conn } = timeWait();
    h.deliver({ flags: RST, seq: R(5) });
    h.expectNothingSent();
    expect(h.host.tcp.timeWaitRecords).toBe(1);
    h.deliver({ flags: RST, seq: R(2) });
    h.expectNothingSent();
    expect(h.host.tcp.timeWaitRecords).toBe(0);
    expect(conn.state).toBe("CLOSED");
  });

  it("a bare in-window ACK is absorbed silently and does not restart 2MSL", () => {
    const { h, conn, iss } = timeWait();
    h.advance(10_000);
    h.deliver({ flags: ACK, seq: R(2), ack: seqAdd(iss, 2) });
    h.expectNothingSent();
    h.advance(50_000);
    expect(conn.state).toBe("CLOSED");
  });

  it("SYNs get a challenge ACK at most once per challengeAckInterval (RFC 5961 4, S28)", () => {
    const { h, iss } = timeWait({ challengeAckInterval: 500 });
    h.deliver({ flags: SYN, seq: R(100_000) });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 2), ack: R(2) }]);
    h.advance(100);
    h.deliver({ flags: SYN, seq: R(100_001) });
    h.expectNothingSent();
    h.advance(400);
    h.deliver({ flags: SYN, seq: R(100_002) });
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 2), ack: R(2) }]);
  });

  it("re-ACKs a retransmitted FIN with our timestamp and TS.Recent (RFC 7323 4.3), window as before", () => {
    const { h, listener } = listening({ timestamps: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, timestamp: { value: 1000, echo: 0 } } });
    const [synAck] = h.takeSent();
    const ours = synAck!.options.timestamp!.value;
    h.advance(10);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 1), options: { timestamp: { value: 1010, echo: ours } } });
    const conn = listener.accept()!;
    conn.close();
    h.settle();
    const [fin] = h.takeSent();
    h.advance(10);
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(fin!.seq, 1), options: { timestamp: { value: 1020, echo: fin!.options.timestamp!.value } } });
    const [lastAck] = h.takeSent();
    expect(lastAck!.options.timestamp!.echo).toBe(1020);
    expect(h.host.tcp.timeWaitRecords).toBe(1);
    h.advance(30_000);
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(fin!.seq, 1), options: { timestamp: { value: 1020, echo: fin!.options.timestamp!.value } } });
    const [reAck] = h.takeSent();
    expect(reAck).toMatchObject({ flags: ACK, seq: lastAck!.seq, ack: lastAck!.ack, window: lastAck!.window });
    // Our clock moved 30 s; TS.Recent is still the FIN's timestamp.
    expect(reAck!.options.timestamp).toEqual({ value: (lastAck!.options.timestamp!.value + 30_000) >>> 0, echo: 1020 });
    // The 2MSL timer restarted from the retransmitted FIN.
    h.advance(59_999);
    expect(conn.state).toBe("TIME_WAIT");
    h.advance(1);
    expect(conn.state).toBe("CLOSED");
  });

  it("many records expire in deadline order however their timers were restarted", () => {
    const h = new Harness({ ephemeralPorts: [40000, 40099] });
    const conns: { c: ReturnType<typeof h.host.tcp.connect>; peer: { addr: number; port: number; toPort: number }; enteredAt: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const c = h.host.tcp.connect({ localAddr: IpAddress.v4(0xc0a80101), remoteAddr: IpAddress.v4(0xc0a80102), remotePort: 443 });
      h.settle();
      const peer = { addr: 0xc0a80102, port: 443, toPort: c.tuple.localPort };
      h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(c.iss, 1) }, peer);
      c.close();
      h.settle();
      h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(c.iss, 2) }, peer);
      h.takeSent();
      conns.push({ c, peer, enteredAt: h.now });
      h.advance(100);
    }
    expect(h.host.tcp.timeWaitRecords).toBe(20);
    // Retransmitted FINs restart every other record's timer a second later.
    h.advance(1_000);
    const restartAt = h.now;
    for (let i = 0; i < 20; i += 2) h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(conns[i]!.c.iss, 2) }, conns[i]!.peer);
    expect(h.takeSent()).toHaveLength(10);
    const closedAt = new Map<number, number>();
    while (closedAt.size < 20) {
      h.advance(h.nextTimer() - h.now);
      for (let i = 0; i < 20; i++) if (conns[i]!.c.state === "CLOSED" && !closedAt.has(i)) closedAt.set(i, h.now);
    }
    for (let i = 0; i < 20; i++) {
      expect(closedAt.get(i)).toBe((i % 2 === 0 ? restartAt : conns[i]!.enteredAt) + 60_000);
    }
    expect(h.host.tcp.timeWaitRecords).toBe(0);
    h.expectNothingSent();
  });

  it("counts the segments of TIME_WAIT in the record and shows them through a connection object still held", () => {
    const { h, conn, iss } = timeWait();
    const before = conn.inspect();
    h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(iss, 2) }); // our last ACK was lost
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 2), ack: R(2) }]);
    const record = h.host.tcp.allSockets()[0]!.info;
    expect([record.segmentsIn, record.segmentsOut]).toEqual([1, 1]);
    const after = conn.inspect();
    expect([after.segmentsIn, after.segmentsOut]).toEqual([before.segmentsIn + 1, before.segmentsOut + 1]);
  });

  it("a connection object reads CLOSED when its own record ends, not when a later record reuses the slot", () => {
    const h = new Harness({ ephemeralPorts: [40000, 40099] });
    const peerOf = (c: ReturnType<typeof h.host.tcp.connect>) => ({ addr: 0xc0a80102, port: 443, toPort: c.tuple.localPort });
    const closeToTimeWait = () => {
      const c = h.host.tcp.connect({ localAddr: IpAddress.v4(0xc0a80101), remoteAddr: IpAddress.v4(0xc0a80102), remotePort: 443 });
      h.settle();
      h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(c.iss, 1) }, peerOf(c));
      c.close();
      h.settle();
      h.deliver({ flags: FIN | ACK, seq: R(1), ack: seqAdd(c.iss, 2) }, peerOf(c));
      h.takeSent();
      return c;
    };
    const first = closeToTimeWait();
    h.deliver({ flags: RST, seq: R(2) }, peerOf(first)); // an exact RST ends the record at once
    expect(h.host.tcp.timeWaitRecords).toBe(0);
    const second = closeToTimeWait(); // its record takes the freed slot
    expect(h.host.tcp.timeWaitRecords).toBe(1);
    expect(first.state).toBe("CLOSED");
    expect(second.state).toBe("TIME_WAIT");
    h.advance(60_000);
    expect(second.state).toBe("CLOSED");
  });

  it("holds no reference to the connection object: one the application dropped is collected during TIME_WAIT", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const made = (() => {
      const { h, conn } = timeWait();
      return { h, ref: new WeakRef(conn) };
    })();
    // A WeakRef keeps its target until the current job ends: let it end, then collect.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(made.h.host.tcp.timeWaitRecords).toBe(1);
    expect(made.ref.deref()).toBeUndefined();
  });
});
