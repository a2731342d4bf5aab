/**
 * Handshake options beyond the MSS (S5): window scaling and timestamps (RFC 7323), SACK
 * (RFC 2018), negotiated only when both SYNs carry them.
 */
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK, SYN } from "../../src/wire/tcp.js";
import { CLIENT_ADDR, pair, SERVER_ADDR } from "./fixtures.js";
import { Harness, LOCAL_ADDR, LOCAL_PORT, listening, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ, text } from "./harness.js";

const ALL = { windowScaling: true, timestamps: true, sack: true };
const R = (n: number) => seqAdd(REMOTE_SEQ, n);

describe("negotiation between two synack hosts", () => {
  it("agrees on window scale 7, timestamps and SACK, like two Linux hosts", () => {
    const { net, client, server } = pair();
    const l = server.tcp.listen(80);
    const c = client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 80 });
    net.runFor(100);
    for (const conn of [c, l.accept()!]) {
      const i = conn.inspect();
      expect([i.sndShift, i.rcvShift, i.timestamps, i.sack]).toEqual([7, 7, true, true]);
      expect(i.sendMss).toBe(1448); // 1460 less 12 bytes of timestamp option
    }
  });

  it("an option only one side offers is off for both", () => {
    const { net, client, server } = pair({ clientTcp: { sack: false, timestamps: false } });
    const l = server.tcp.listen(80);
    const c = client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 80 });
    net.runFor(100);
    for (const conn of [c, l.accept()!]) {
      const i = conn.inspect();
      expect([i.timestamps, i.sack, i.sndShift]).toEqual([false, false, 7]);
      expect(i.sendMss).toBe(1460);
    }
  });
});

describe("SYN options on the wire", () => {
  it("our SYN offers MSS, SACK permitted, timestamps (echo 0) and window scale", () => {
    const h = new Harness(ALL);
    h.host.tcp.connect({ localAddr: IpAddress.v4(LOCAL_ADDR), localPort: LOCAL_PORT, remoteAddr: IpAddress.v4(REMOTE_ADDR), remotePort: REMOTE_PORT });
    h.settle();
    const [syn] = h.takeSent();
    expect(syn!.options.mss).toBe(1460);
    expect(syn!.options.sackPermitted).toBe(true);
    expect(syn!.options.windowScale).toBe(7);
    expect(syn!.options.timestamp!.echo).toBe(0);
  });

  it("the SYN,ACK repeats only what the SYN offered, and echoes its timestamp", () => {
    const { h } = listening(ALL);
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, timestamp: { value: 12345, echo: 0 } } });
    const [synAck] = h.takeSent();
    expect(synAck!.options.timestamp!.echo).toBe(12345);
    expect(synAck!.options.sackPermitted).toBeUndefined();
    expect(synAck!.options.windowScale).toBeUndefined();
  });
});

describe("timestamps (RFC 7323)", () => {
  function withTimestamps(first = 1000) {
    const { h, listener } = listening(ALL);
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, timestamp: { value: first, echo: 0 }, sackPermitted: true } });
    const [synAck] = h.takeSent();
    const iss = synAck!.seq;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), options: { timestamp: { value: (first + 1) >>> 0, echo: synAck!.options.timestamp!.value } } });
    h.takeSent();
    return { h, conn: listener.accept()!, iss };
  }

  it("every segment carries TSval and echoes the peer's latest TSval", () => {
    const { h, conn, iss } = withTimestamps();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), payload: "a", options: { timestamp: { value: 1050, echo: 0 } } });
    const [ack] = h.takeSent();
    expect(ack!.options.timestamp!.echo).toBe(1050);
    expect(text(conn.read())).toBe("a");
  });

  it("TSvals at and past 2^31 are echoed whole and compared mod 2^32 across the wrap (TS.Recent kept as an int32)", () => {
    const { h, conn, iss } = withTimestamps(0xfffffff0);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), payload: "a", options: { timestamp: { value: 0xfffffff8, echo: 0 } } });
    expect(h.takeSent()[0]!.options.timestamp!.echo).toBe(0xfffffff8);
    h.deliver({ flags: ACK, seq: R(2), ack: seqAdd(iss, 1), payload: "b", options: { timestamp: { value: 0x10, echo: 0 } } });
    expect(h.takeSent()[0]!.options.timestamp!.echo).toBe(0x10);
    h.deliver({ flags: ACK, seq: R(3), ack: seqAdd(iss, 1), payload: "c", options: { timestamp: { value: 0xfffffffc, echo: 0 } } });
    expect(h.takeSent()[0]!.options.timestamp!.echo).toBe(0x10); // older than TS.Recent: PAWS drops it
    expect(text(conn.read())).toBe("ab");
  });

  it("PAWS drops a segment whose timestamp is older than TS.Recent, and ACKs", () => {
    const { h, conn, iss } = withTimestamps();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), payload: "old", options: { timestamp: { value: 900, echo: 0 } } });
    expect(conn.readable).toBe(0);
    const [ack] = h.takeSent();
    expect(ack!.ack).toBe(R(1));
    expect(ack!.options.timestamp!.echo).toBe(1001);
  });
});

describe("SACK (RFC 2018)", () => {
  function withSack(tcp: { rack?: boolean } = {}) {
    const { h, listener } = listening({ ...ALL, ...tcp });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000, sackPermitted: true } });
    const [synAck] = h.takeSent();
    const iss = synAck!.seq;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    h.takeSent();
    return { h, conn: listener.accept()!, iss };
  }

  it("the receiver reports out-of-order ranges, newest first", () => {
    const { h, iss } = withSack();
    h.deliver({ flags: ACK, seq: R(101), ack: seqAdd(iss, 1), payload: new Uint8Array(100) });
    h.deliver({ flags: ACK, seq: R(301), ack: seqAdd(iss, 1), payload: new Uint8Array(100) });
    const acks = h.takeSent();
    expect(acks.map((a) => a.ack)).toEqual([R(1), R(1)]);
    expect(acks[1]!.options.sackBlocks).toEqual([
      { left: R(301), right: R(401) },
      { left: R(101), right: R(201) },
    ]);
  });

  it("duplicate ACKs whose window grows (as Linux's do) still trigger fast retransmit when they SACK new data", () => {
    const { h, conn, iss } = withSack();
    conn.send(new Uint8Array(6000));
    h.settle();
    h.takeSent();
    const S = (k: number) => seqAdd(iss, 1 + k * 1000);
    for (let k = 2; k <= 4; k++) {
      // Segment 0 lost; each later arrival: same cumulative ACK, a bigger window, a longer SACK block.
      h.deliver({ flags: ACK, seq: R(1), ack: S(0), window: 60000 + k * 1000, options: { sackBlocks: [{ left: S(1), right: S(k) }] } });
    }
    expect(h.takeSent().map((s) => s.seq)).toContain(S(0));
    expect(conn.congestion.inRecovery).toBe(true);
  });

  it("the sender repairs every hole the scoreboard shows, skipping SACKed data (duplicate-ACK detection)", () => {
    const { h, conn, iss } = withSack({ rack: false });
    conn.send(new Uint8Array(10_000));
    h.settle();
    const sent = h.takeSent();
    expect(sent.map((s) => s.payload.length)).toEqual(Array(10).fill(1000));
    const S = (k: number) => seqAdd(iss, 1 + k * 1000); // start of segment k
    // Segments 0 and 4 are lost; the receiver SACKs what follows each arrival.
    const sack = (blocks: Array<[number, number]>) => ({ sackBlocks: blocks.map(([l, r]) => ({ left: S(l), right: S(r) })) });
    h.deliver({ flags: ACK, seq: R(1), ack: S(0), options: sack([[1, 2]]) });
    h.deliver({ flags: ACK, seq: R(1), ack: S(0), options: sack([[1, 3]]) });
    h.deliver({ flags: ACK, seq: R(1), ack: S(0), options: sack([[1, 4]]) });
    // Third duplicate ACK: fast retransmit of segment 0.
    expect(h.takeSent().map((s) => s.seq)).toEqual([S(0)]);
    h.deliver({ flags: ACK, seq: R(1), ack: S(0), options: sack([[5, 6], [1, 4]]) });
    // The next hole is segment 4, not segments 1-3 which the receiver holds.
    const next = h.takeSent().filter((s) => s.payload.length > 0 && s.seq !== S(10));
    expect(next.map((s) => s.seq)).toContain(S(4));
    expect(next.map((s) => s.seq)).not.toContain(S(1));
  });
});
