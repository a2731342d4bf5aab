/**
 * The exact edges of rules that a one-character change moved without failing any other test
 * (a mutation sweep, twenty-seventh session): each case sits on the boundary the RFC or
 * Linux draws, with its neighbour on the other side where that is cheap to show.
 */
import { describe, expect, it } from "vitest";
import { Reno } from "../../src/tcp/congestion/algorithm.js";
import { ProportionalRateReduction } from "../../src/tcp/congestion/prr.js";
import { CongestionControl } from "../../src/tcp/congestion/recovery.js";
import { RttEstimator } from "../../src/tcp/rtt.js";
import { Scoreboard } from "../../src/tcp/sack.js";
import { SentLog } from "../../src/tcp/loss/sent-log.js";
import { ConnectionTable } from "../../src/tcp/connection-table.js";
import type { Connection } from "../../src/tcp/connection.js";
import { IpAddress, parseIpAddress } from "../../src/wire/address.js";
import type { Sender } from "../../src/tcp/sender.js";
import { TailLossProbe } from "../../src/tcp/loss/tlp.js";
import { UrgentSender } from "../../src/tcp/urgent.js";
import { onDsack } from "../../src/tcp/sender-dsack.js";
import { ACK, FIN, PSH, RST, SYN } from "../../src/wire/tcp.js";
import { seq, seqAdd } from "../../src/wire/seq.js";
import { established, listening, REMOTE_SEQ, stateOf, synSent, type Harness } from "./harness.js";

describe("SYN-SENT (RFC 9293 3.10.7.3)", () => {
  it("a SYN,ACK whose ACK is our ISS itself (SEG.ACK =< ISS) gets <SEQ=SEG.ACK><CTL=RST> and leaves us in SYN_SENT", () => {
    const { h, conn, iss } = synSent();
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: iss });
    h.expectSent([{ flags: RST, seq: iss }]);
    expect(conn.state).toBe("SYN_SENT");
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(iss, 1) });
    expect(conn.state).toBe("ESTABLISHED");
  });
});

describe("ACK acceptability in ESTABLISHED", () => {
  it("RFC 5961 5.2: an ACK exactly MAX.SND.WND below SND.UNA is an old duplicate, ignored; one more below gets a challenge ACK", () => {
    const { h, iss } = established();
    const una = seqAdd(iss, 1);
    const rcvNxt = seqAdd(REMOTE_SEQ, 1);
    // The peer offered 65,535 (no window scaling in the harness): the largest window it ever did.
    h.deliver({ flags: ACK, seq: rcvNxt, ack: seqAdd(una, -65_535) });
    h.expectNothingSent();
    h.deliver({ flags: ACK, seq: rcvNxt, ack: seqAdd(una, -65_536) });
    h.expectSent([{ flags: ACK, seq: una, ack: rcvNxt }]);
  });

  it("a segment refused for a closed receive window still has its ACK processed (RFC 9293 3.10.7.4)", () => {
    const { h, conn, iss } = established({ receiveBufferSize: 2000 });
    const rcvNxt = seqAdd(REMOTE_SEQ, 1);
    // Fill the receive buffer without reading: our window closes.
    let at = rcvNxt;
    for (let i = 0; i < 10 && conn.inspect().rcvWnd > 0; i++) {
      const n = Math.min(500, conn.inspect().rcvWnd);
      h.deliver({ flags: ACK | PSH, seq: at, ack: seqAdd(iss, 1), payload: new Uint8Array(n) });
      at = seqAdd(at, n);
    }
    h.advance(500); // the delayed ACK announces the closed window
    expect(conn.inspect().rcvWnd).toBe(0);
    conn.send(new TextEncoder().encode("hello"));
    h.settle();
    h.takeSent();
    expect(conn.inspect().sndUna).toBe(seqAdd(iss, 1));
    // Data at RCV.NXT with nowhere to go, acknowledging our five bytes.
    h.deliver({ flags: ACK | PSH, seq: at, ack: seqAdd(iss, 6), payload: "more" });
    expect(conn.inspect().sndUna).toBe(seqAdd(iss, 6));
  });
});

describe("SYN_RCVD request records", () => {
  it("a final ACK at the very edge of the window the SYN,ACK offered (RCV.NXT + RCV.WND) completes the handshake, as Linux's tcp_sequence; one past it does not", () => {
    for (const beyond of [0, 1]) {
      const { h } = listening();
      h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460 } });
      const [synAck] = h.takeSent();
      const edge = seqAdd(REMOTE_SEQ, 1 + synAck!.window + beyond);
      h.deliver({ flags: ACK, seq: edge, ack: seqAdd(synAck!.seq, 1) });
      expect(stateOf(h)).toBe(beyond === 0 ? "ESTABLISHED" : "SYN_RCVD");
    }
  });
});

describe("SACK scoreboard", () => {
  it("a block that straddles SND.UNA is clipped at it (RFC 2018: nothing below the cumulative ACK counts as SACKed)", () => {
    const board = new Scoreboard();
    const una = seq(10_000);
    board.update([{ left: seq(9_900), right: seq(10_100) }], una, seq(20_000));
    expect(board.blocks).toEqual([{ left: una, right: seq(10_100) }]);
  });
});

describe("recovery episodes", () => {
  it("RFC 6582 3.2: duplicate ACKs with SND.MAX still at `recover` start no second recovery; past it they do", () => {
    const cc = new CongestionControl(new Reno(), 1000, 10);
    for (let i = 0; i < 3; i++) cc.onDuplicateAck(0, seq(10_000), 10_000);
    expect(cc.state).toBe("recovery");
    expect(cc.maybeEndEpisode(seq(10_000))).toBe(true);
    const cwnd = cc.cwnd;
    for (let i = 0; i < 3; i++) expect(cc.onDuplicateAck(0, seq(10_000), 5_000)).toBe(false);
    expect(cc.state).not.toBe("recovery");
    expect(cc.cwnd).toBe(cwnd);
    cc.onNewAck();
    for (let i = 0; i < 2; i++) cc.onDuplicateAck(0, seq(10_001), 5_000);
    expect(cc.onDuplicateAck(0, seq(10_001), 5_000)).toBe(true);
  });

  it("PRR: with nothing sent yet in the reduction, one segment may go even when the pipe is at ssthresh (the fast retransmit; Linux tcp_cwnd_reduction)", () => {
    const prr = new ProportionalRateReduction();
    prr.start(10_000);
    expect(prr.cwndAfterAck(1000, 5000, 5000, 1000, false, true)).toBe(6000);
    prr.onSent(1000);
    expect(prr.cwndAfterAck(1000, 5000, 5000, 1000, false, true)).toBe(5000);
  });
});

describe("the RTO's variance term (Linux tcp_rtt_estimator)", () => {
  it("decays once per window of data, and a window ends only when SND.UNA is past its end (after(snd_una, rtt_seq))", () => {
    const r = new RttEstimator({ initialRto: 1000, minRto: 200, maxRto: 120_000 });
    r.sample(100, seq(0), seq(1000)); // the window ends at 1000
    r.sample(500, seq(500), seq(1000)); // a jump: the variance term grows at once
    expect(r.rto).toBe(700);
    r.sample(150, seq(1000), seq(5000)); // SND.UNA at the end, not past it: the same window
    r.sample(150, seq(1001), seq(5500)); // past it: the window closes (its largest deviation was the jump's), the next ends at 5500
    expect(r.rto).toBe(700);
    r.sample(150, seq(6000), seq(7000)); // past 5500: the term decays a quarter of the way to that window's largest deviation
    expect(r.rto).toBe(620.508);
  });
});

describe("D-SACK on the sender (Linux tcp_dsack_seen)", () => {
  it("a block as wide as the largest window the peer offered still counts; one byte wider is dubious and does not", () => {
    const sender = (): Sender =>
      ({ maxSndWnd: 10_000, sendMss: 1000, dsackDups: 0, host: { retransmits: 100 }, undoMarker: undefined, traceLoss: () => {}, model: undefined }) as unknown as Sender;
    const s = sender();
    expect(onDsack(s, 0, { left: seq(5000), right: seq(15_000) })).toBe(10_000);
    expect(s.dsackDups).toBe(10);
    const t = sender();
    expect(onDsack(t, 0, { left: seq(5000), right: seq(15_001) })).toBe(0);
    expect(t.dsackDups).toBe(0);
  });
});

describe("tail loss probe episodes (RFC 8985 7.4.2, Linux tcp_process_tlp_ack)", () => {
  const probe = () => {
    const tlp = new TailLossProbe();
    tlp.onProbeSent(seq(5000), true); // the probe resent the last segment
    return tlp;
  };
  it("a pure duplicate ACK at the probe's end ends the episode: both copies could have arrived, so no loss is counted later", () => {
    const tlp = probe();
    expect(tlp.onAck({ ack: seq(5000), notPureDuplicate: false, dsackForProbe: false })).toBe(false);
    expect(tlp.highSeq).toBeUndefined();
    expect(tlp.onAck({ ack: seq(6000), notPureDuplicate: true, dsackForProbe: false })).toBe(false);
  });
  it("an ACK at the probe's end that is not a pure duplicate keeps it: an ACK past it then shows the probe repaired a loss", () => {
    const tlp = probe();
    expect(tlp.onAck({ ack: seq(5000), notPureDuplicate: true, dsackForProbe: false })).toBe(false);
    expect(tlp.highSeq).toBe(seq(5000));
    expect(tlp.onAck({ ack: seq(6000), notPureDuplicate: true, dsackForProbe: false })).toBe(true);
  });
});

describe("the urgent pointer field (Linux tcp_transmit_skb)", () => {
  it("SND.UP exactly 65,535 bytes ahead is written as it is, even in a resent segment once the data past it has gone", () => {
    const urgent = new UrgentSender();
    const seg = seq(1000);
    urgent.mark(seq(1000 + 65_535));
    // A resend: SND.NXT is already past SND.UP, so 0xFFFF could not mean "further on" here.
    expect(urgent.field(seg, seq(1000), seq(1000 + 70_000))).toBe(65_535);
    // One byte further cannot be written, and "further on" would point into data already sent.
    urgent.mark(seq(1000 + 65_536));
    expect(urgent.field(seg, seq(1000), seq(1000 + 70_000))).toBeUndefined();
  });
});

describe("D-SACK for old segments (RFC 2883; Linux tcp_send_dupack, syn_challenge)", () => {
  /** An established connection that negotiated SACK, and the ISS the SYN-ACK carried. */
  function sackConnection(): { h: Harness; iss: ReturnType<typeof seq> } {
    const { h, listener } = listening({ sack: true });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, sackPermitted: true } });
    const [synAck] = h.takeSent();
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck!.seq, 1) });
    listener.accept();
    h.takeSent();
    return { h, iss: synAck!.seq };
  }

  it("data we already have is acknowledged with a D-SACK block naming it", () => {
    const { h, iss } = sackConnection();
    const start = seqAdd(REMOTE_SEQ, 1);
    h.deliver({ flags: ACK | PSH, seq: start, ack: seqAdd(iss, 1), payload: "hello" });
    h.advance(500);
    h.takeSent();
    h.deliver({ flags: ACK | PSH, seq: start, ack: seqAdd(iss, 1), payload: "hello" });
    const [dup] = h.takeSent();
    expect(dup!.options.sackBlocks).toEqual([{ left: start, right: seqAdd(start, 5) }]);
  });

  it("an old SYN gets a challenge ACK without one: a SYN is never data we hold twice", () => {
    const { h, iss } = sackConnection();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, sackPermitted: true } });
    const sent = h.takeSent();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ flags: ACK, seq: seqAdd(iss, 1), ack: seqAdd(REMOTE_SEQ, 1) });
    expect(sent[0]!.options.sackBlocks).toBeUndefined();
  });
});

describe("Karn's rule in the sent-segment log (RFC 6298 3; Linux FLAG_RETRANS_DATA_ACKED)", () => {
  it("a record once resent gives no RTT sample, for a cumulative ACK or a SACK, even after it was marked lost again", () => {
    const cumulative = new SentLog();
    cumulative.onSend(seq(0), seq(1000), 0);
    cumulative.onSend(seq(1000), seq(2000), 0);
    cumulative.onSend(seq(0), seq(1000), 50); // resent
    cumulative.markLost(0); // lost again: no longer in flight as a retransmission
    expect(cumulative.cumulativeRttStart(seq(1000))).toBeUndefined();
    const sacked = new SentLog();
    sacked.onSend(seq(0), seq(1000), 0);
    sacked.onSend(seq(1000), seq(2000), 0);
    sacked.onSend(seq(1000), seq(2000), 30);
    sacked.markLost(1);
    expect(sacked.sackRttStart(seq(1000), seq(2000))).toBeUndefined();
  });
});

describe("the connection table's families", () => {
  it("an IPv4 lookup does not find an IPv6 entry whose addresses fold to the same words", () => {
    const table = new ConnectionTable();
    const v6 = { localAddr: parseIpAddress("a:b::")!, localPort: 80, remoteAddr: parseIpAddress("c:d::")!, remotePort: 5000 };
    table.add({ tuple: v6 } as unknown as Connection);
    expect(table.lookup(v6.localAddr, 80, v6.remoteAddr, 5000)).toBeDefined();
    // a:b:: folds to the word 0x000a000b, as the IPv4 address 0.10.0.11 is.
    expect(table.lookup(IpAddress.v4(0x000a000b), 80, IpAddress.v4(0x000c000d), 5000)).toBeUndefined();
  });
});

describe("TIME_WAIT (RFC 9293 3.10.7.4)", () => {
  it("a data segment at RCV.NXT is answered with an ACK and restarts 2MSL; a bare ACK there is not", () => {
    const e = established({ msl: 1000 });
    e.conn.close();
    e.h.settle();
    e.h.takeSent();
    e.h.deliver({ flags: FIN | ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(e.iss, 2) });
    e.h.takeSent();
    const rcvNxt = seqAdd(REMOTE_SEQ, 2);
    e.h.advance(500);
    e.h.deliver({ flags: ACK, seq: rcvNxt, ack: seqAdd(e.iss, 2) });
    e.h.expectNothingSent();
    e.h.deliver({ flags: ACK | PSH, seq: rcvNxt, ack: seqAdd(e.iss, 2), payload: "x" });
    e.h.expectSent([{ flags: ACK, seq: seqAdd(e.iss, 2), ack: rcvNxt }]);
    expect(e.h.host.nextDeadline()).toBe(500 + 2000);
  });
});

describe("window scaling (RFC 7323 2.3)", () => {
  it("a shift above 14 is used as 14: the peer's window field of 256 means 256 << 14", () => {
    for (const shift of [15, 255]) {
      const { h, listener } = listening({ windowScaling: true });
      h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, windowScale: shift } });
      const [synAck] = h.takeSent();
      // Small enough that no cap on the send window hides a shift of 15.
      h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck!.seq, 1), window: 256 });
      const conn = listener.accept()!;
      expect(conn.inspect().sndWnd).toBe(256 * 2 ** 14);
    }
  });

  it("on an active open too: a SYN,ACK asking for 15 gets 14", () => {
    const { h, conn, iss } = synSent({ windowScaling: true });
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(iss, 1), window: 256, options: { mss: 1460, windowScale: 15 } });
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1), window: 256 });
    expect(conn.inspect().sndWnd).toBe(256 * 2 ** 14);
  });
});
