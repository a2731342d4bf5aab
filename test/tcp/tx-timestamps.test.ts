/**
 * SO_TIMESTAMPING's TX timestamps on a TCP socket (tx-timestamps.ts; Linux
 * Documentation/networking/timestamping.rst, tcp_tx_timestamp, __skb_tstamp_tx,
 * tcp_ack_tstamp): each write stamps its last byte only; SCHED then SND when a segment
 * carrying it leaves, ACK when the cumulative ACK passes it; OPT_ID keys count from
 * SND.UNA when the option was turned on; stamps share the error queue with MSG_ZEROCOPY.
 */
import { describe, expect, it } from "vitest";
import { ErrorQueue, isTxTimestamp, SCM_TSTAMP_ACK, SCM_TSTAMP_SCHED, SCM_TSTAMP_SND, type ErrorQueueEntry } from "../../src/tcp/error-queue.js";
import { InvalidArgumentError } from "../../src/tcp/errors.js";
import { SOF_TIMESTAMPING as F, TxTimestamps } from "../../src/tcp/tx-timestamps.js";
import { Zerocopy } from "../../src/tcp/zerocopy.js";
import { seq, seqAdd } from "../../src/wire/seq.js";
import { ACK, RST, SYN } from "../../src/wire/tcp.js";
import { established, listening, REMOTE_SEQ } from "./harness.js";

const ALL = F.TX_SCHED | F.TX_SOFTWARE | F.TX_ACK | F.SOFTWARE | F.OPT_ID;
const R = (n: number) => seqAdd(REMOTE_SEQ, n);
const NAME = { [SCM_TSTAMP_SND]: "snd", [SCM_TSTAMP_SCHED]: "sched", [SCM_TSTAMP_ACK]: "ack" } as const;

/** Every entry waiting, oldest first: TX stamps as "type key @time", zerocopy ranges as "zc lo-hi". */
function drain(read: () => ErrorQueueEntry | undefined): string[] {
  const out: string[] = [];
  for (let e = read(); e !== undefined; e = read()) out.push(isTxTimestamp(e) ? `${NAME[e.type]} ${e.key} @${e.at}` : `zc ${e.lo}-${e.hi}`);
  return out;
}

describe("TxTimestamps: marks, keys and stamps", () => {
  it("keys count from the OPT_ID base; SCHED precedes SND; ACK once SND.UNA passes the byte", () => {
    const t = new TxTimestamps();
    t.set(ALL, seq(1001), seq(1001)); // base: byte 1001 is key 0
    t.wrote(seq(1001 + 1999)); // a 2000-byte write: its last byte is key 1999
    t.transmitted(seq(1001), seq(2001), 5); // the first half: no marked byte
    expect(t.errors.ready).toBe(false);
    t.transmitted(seq(2001), seq(3001), 6);
    t.acked(seq(3000), 7); // the marked byte (3000) is not yet below SND.UNA
    t.acked(seq(3001), 8);
    expect(drain(() => t.errors.read())).toEqual(["sched 1999 @6", "snd 1999 @6", "ack 1999 @8"]);
    expect(t.pending).toBe(0);
  });

  it("without OPT_ID every key is 0; only the stamps the flags asked for at write time come", () => {
    const t = new TxTimestamps();
    t.set(F.TX_ACK | F.SOFTWARE, seq(1), seq(1));
    t.wrote(seq(100));
    t.set(F.TX_SOFTWARE | F.SOFTWARE, seq(1), seq(1));
    t.wrote(seq(200));
    t.transmitted(seq(1), seq(201), 1);
    t.acked(seq(201), 2);
    expect(drain(() => t.errors.read())).toEqual(["snd 0 @1", "ack 0 @2"]);
  });

  it("a write made with no recording flag is not marked; reporting flags alone record nothing", () => {
    const t = new TxTimestamps();
    t.set(F.SOFTWARE | F.OPT_ID, seq(1), seq(1));
    t.wrote(seq(100));
    expect(t.pending).toBe(0);
  });

  it("OPT_ID's base is SND.UNA when turned on (OPT_ID_TCP: the next byte written) and stays while it stays on", () => {
    const t = new TxTimestamps();
    t.set(F.OPT_ID | F.TX_SOFTWARE, seq(500), seq(900));
    t.set(F.OPT_ID | F.TX_SOFTWARE | F.TX_ACK, seq(800), seq(900)); // still on: the base stays 500
    t.wrote(seq(999));
    t.transmitted(seq(900), seq(1000), 1);
    const u = new TxTimestamps();
    u.set(F.OPT_ID | F.OPT_ID_TCP | F.TX_SOFTWARE, seq(500), seq(900));
    u.wrote(seq(999));
    u.transmitted(seq(900), seq(1000), 1);
    expect(drain(() => t.errors.read())).toEqual(["snd 499 @1"]);
    expect(drain(() => u.errors.read())).toEqual(["snd 99 @1"]);
  });

  it("keys wrap at 2^32 with the sequence space", () => {
    const t = new TxTimestamps();
    t.set(F.OPT_ID | F.TX_SOFTWARE, seq(0xffff_ff00), seq(0xffff_ff00));
    t.wrote(seq(0x100)); // 0x200 bytes past the base, across the wrap
    t.transmitted(seq(0xffff_ff00), seq(0x101), 1);
    expect(drain(() => t.errors.read())).toEqual(["snd 512 @1"]);
  });

  it("a segment carrying several marked bytes stamps each, in sequence order", () => {
    const t = new TxTimestamps();
    t.set(F.TX_SCHED | F.TX_SOFTWARE | F.OPT_ID, seq(1), seq(1));
    for (let i = 1; i <= 3; i++) t.wrote(seq(i * 100));
    t.transmitted(seq(1), seq(301), 4);
    expect(drain(() => t.errors.read())).toEqual(["sched 99 @4", "snd 99 @4", "sched 199 @4", "snd 199 @4", "sched 299 @4", "snd 299 @4"]);
  });

  it("bad flags are refused (EINVAL) and change nothing", () => {
    const t = new TxTimestamps();
    expect(t.set(1 << 20, seq(1), seq(1))).toBe("EINVAL");
    expect(t.set(F.OPT_ID_TCP, seq(1), seq(1))).toBe("EINVAL");
    expect(t.set(F.BIND_PHC, seq(1), seq(1))).toBe("EINVAL");
    expect(t.flags).toBe(0);
  });

  it("shares one queue with zerocopy in arrival order; a stamp between completions keeps them from merging", () => {
    const q = new ErrorQueue();
    const z = new Zerocopy(q);
    const t = new TxTimestamps(q);
    z.enabled = true;
    t.set(F.TX_ACK | F.OPT_ID, seq(1), seq(1));
    z.wrote(seq(101));
    t.wrote(seq(100));
    z.wrote(seq(201));
    z.acked(seq(101));
    t.acked(seq(101), 3);
    z.acked(seq(201));
    expect(q.reports).toBe(3);
    expect(drain(() => q.read())).toEqual(["zc 0-0", "ack 99 @3", "zc 1-1"]);
  });
});

/** An established connection (SND.UNA = iss + 1) with SO_TIMESTAMPING set to `flags`. */
function stamped(flags = ALL, tcp = {}) {
  const { h, conn, iss } = established({ noDelay: true, ...tcp });
  conn.setTimestamping(flags);
  const ackTo = (n: number) => h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1 + n) });
  const read = () => drain(() => conn.readErrorQueue());
  return { h, conn, iss, ackTo, read };
}

describe("SO_TIMESTAMPING on a connection", () => {
  it("stamps each write's last byte: SCHED and SND as it leaves, ACK when acknowledged", () => {
    const { h, conn, ackTo, read } = stamped();
    h.now = 10;
    conn.send(new Uint8Array(2000));
    conn.send(new Uint8Array(2000));
    h.settle();
    h.now = 20;
    ackTo(2000);
    h.now = 30;
    ackTo(4000);
    expect(read()).toEqual(["sched 1999 @10", "snd 1999 @10", "sched 3999 @10", "snd 3999 @10", "ack 1999 @20", "ack 3999 @30"]);
    expect(conn.errorQueueReady).toBe(false);
  });

  it("the last byte's stamps wait for the segment carrying it, not the write", () => {
    // A 4000-byte window: the write's tail leaves only after the first ACK.
    const { h, conn, iss, read } = stamped(ALL);
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), window: 2920 });
    conn.send(new Uint8Array(4000));
    h.settle();
    expect(read()).toEqual([]);
    h.now = 15;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 2921), window: 2920 });
    expect(read()).toEqual(["sched 3999 @15", "snd 3999 @15"]);
  });

  it("a retransmission of the marked byte is stamped again, with the same key (the skb keeps its flags)", () => {
    const { h, conn, ackTo, read } = stamped();
    conn.send(new Uint8Array(500));
    h.settle();
    expect(read()).toEqual(["sched 499 @0", "snd 499 @0"]);
    let again: string[] = [];
    for (let i = 0; i < 300 && again.length === 0; i++) {
      h.advance(10); // until the probe or the RTO sends the segment again
      again = read();
    }
    expect(again.length).toBe(2);
    expect(again[0]).toMatch(/^sched 499 @/);
    expect(again[1]).toMatch(/^snd 499 @/);
    ackTo(500);
    expect(read()).toEqual([`ack 499 @${h.now}`]);
  });

  it("a write made of several sends marks only its end: timestamp: false, then markWriteEnd()", () => {
    const { h, conn, ackTo, read } = stamped(F.TX_ACK | F.OPT_ID);
    conn.send(new Uint8Array(300), { timestamp: false });
    conn.send(new Uint8Array(200), { timestamp: false });
    conn.markWriteEnd(); // as the drill does when a blocking write() returns
    conn.send(new Uint8Array(100));
    h.settle();
    ackTo(600);
    expect(read()).toEqual(["ack 499 @0", "ack 599 @0"]);
  });

  it("a SACK is no ACK stamp: only the cumulative ACK passing the byte is (tcp_ack_tstamp)", () => {
    const { h, listener } = listening({ sack: true, noDelay: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, sackPermitted: true } });
    const iss = h.takeSent()[0]!.seq;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    const conn = listener.accept()!;
    conn.setTimestamping(F.TX_ACK | F.OPT_ID);
    conn.send(new Uint8Array(1000));
    conn.send(new Uint8Array(1000));
    h.settle();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1), options: { sackBlocks: [{ left: seqAdd(iss, 1001), right: seqAdd(iss, 2001) }] } });
    expect(conn.readErrorQueue()).toBeUndefined();
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 2001) });
    expect(drain(() => conn.readErrorQueue())).toEqual(["ack 999 @0", "ack 1999 @0"]);
  });

  it("zerocopy completions and stamps come off the one queue in the order they happened", () => {
    const { h, conn, ackTo, read } = stamped(F.TX_SOFTWARE | F.TX_ACK | F.OPT_ID);
    conn.setZerocopy(true);
    conn.send(new Uint8Array(100), { zerocopy: true });
    h.settle();
    ackTo(100);
    expect(read()).toEqual(["snd 99 @0", "ack 99 @0", "zc 0-0"]); // tcp_clean_rtx_queue: the skb's ACK stamp, then freeing it completes the id
  });

  it("one ACK for several writes gives each write's ACK stamp then its completion, write by write", () => {
    const { h, conn, ackTo, read } = stamped(F.TX_ACK | F.OPT_ID);
    conn.setZerocopy(true);
    conn.send(new Uint8Array(100), { zerocopy: true });
    conn.send(new Uint8Array(100), { zerocopy: true });
    conn.send(new Uint8Array(100)); // no zerocopy id
    conn.send(new Uint8Array(100), { zerocopy: true });
    h.settle();
    ackTo(400);
    expect(read()).toEqual(["ack 99 @0", "zc 0-0", "ack 199 @0", "zc 1-1", "ack 299 @0", "ack 399 @0", "zc 2-2"]);
  });

  it("OPT_ID counts from SND.UNA when set: bytes sent before and unacknowledged count", () => {
    const { h, conn, ackTo, read } = stamped(0);
    conn.send(new Uint8Array(300));
    h.settle();
    conn.setTimestamping(F.TX_ACK | F.OPT_ID); // SND.UNA is still the first byte
    conn.send(new Uint8Array(200));
    h.settle();
    ackTo(500);
    expect(read()).toEqual(["ack 499 @0"]);
  });

  it("a reset drops the marks: no stamps for bytes never acknowledged", () => {
    const { h, conn, read } = stamped(F.TX_ACK | F.OPT_ID);
    conn.send(new Uint8Array(100));
    h.settle();
    h.deliver({ flags: RST, seq: R(1) });
    expect(conn.state).toBe("CLOSED");
    expect(read()).toEqual([]);
    expect(conn.sender.txTimestamps()?.pending).toBe(0);
  });

  it("after close() nothing more is queued (Linux SOCK_DEAD)", () => {
    const { conn, ackTo, read } = stamped(F.TX_ACK | F.OPT_ID);
    conn.send(new Uint8Array(100));
    conn.close();
    ackTo(101);
    expect(read()).toEqual([]);
  });

  it("bad flags, and OPT_ID on a closed connection, are InvalidArgumentError", () => {
    const { h, conn } = stamped(0);
    expect(() => conn.setTimestamping(1 << 24)).toThrow(InvalidArgumentError);
    expect(conn.timestamping).toBe(0);
    h.deliver({ flags: RST, seq: R(1) });
    expect(() => conn.setTimestamping(F.OPT_ID)).toThrow(InvalidArgumentError);
    conn.setTimestamping(F.TX_SOFTWARE);
    expect(conn.timestamping).toBe(F.TX_SOFTWARE);
  });

  it("an idle connection holds no timestamping state or error queue until the option is set", () => {
    const { conn } = established();
    conn.setTimestamping(0);
    expect(conn.sender.txTimestamps()).toBeUndefined();
    expect(conn.sender.errorQueue()).toBeUndefined();
    expect(conn.readErrorQueue()).toBeUndefined();
    conn.setTimestamping(F.TX_SOFTWARE);
    expect(conn.sender.errorQueue()).toBeDefined();
  });
});
