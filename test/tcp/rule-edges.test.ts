/**
 * The exact edges of rules that a one-character change moved without failing any other test
 * (a mutation sweep, twenty-seventh session): each case sits on the boundary the RFC or
 * Linux draws, with its neighbour on the other side where that is cheap to show.
 */
import { describe, expect, it } from "vitest";
import { Reno } from "../../src/tcp/congestion/algorithm.js";
import { Bbr } from "../../src/tcp/congestion/bbr.js";
import { Cubic } from "../../src/tcp/congestion/cubic.js";
import { DeliveryRate } from "../../src/tcp/congestion/delivery-rate.js";
import { ProportionalRateReduction } from "../../src/tcp/congestion/prr.js";
import { CongestionControl } from "../../src/tcp/congestion/recovery.js";
import { RttEstimator } from "../../src/tcp/rtt.js";
import { isValidSackBlock, Scoreboard } from "../../src/tcp/sack.js";
import { SentLog } from "../../src/tcp/loss/sent-log.js";
import { ConnectionTable } from "../../src/tcp/connection-table.js";
import { tcpInfo } from "../../src/tcp/tcp-info.js";
import type { Connection } from "../../src/tcp/connection.js";
import { IpAddress, parseIpAddress } from "../../src/wire/address.js";
import type { Sender } from "../../src/tcp/sender.js";
import { TailLossProbe } from "../../src/tcp/loss/tlp.js";
import { UrgentSender } from "../../src/tcp/urgent.js";
import { onDsack } from "../../src/tcp/sender-dsack.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { ACK, emitTcp, FIN, PSH, RST, SYN, type TcpOptions } from "../../src/wire/tcp.js";
import { emitIpv4Header, PROTO_TCP } from "../../src/wire/ipv4.js";
import { internetChecksum, pseudoSumOf } from "../../src/wire/checksum.js";
import { seq, seqAdd } from "../../src/wire/seq.js";
import { established, listening, LOCAL_ADDR, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ, stateOf, synSent, type Harness } from "./harness.js";

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

  it("an ACK of data never sent is dropped and answered with a challenge ACK, rate-limited (RFC 9293 3.10.7.4, RFC 5961 5.2; Linux tcp_ack since 6.18.38 / 7.1)", () => {
    const { h, conn, iss } = established();
    const una = seqAdd(iss, 1);
    const rcvNxt = seqAdd(REMOTE_SEQ, 1);
    h.deliver({ flags: ACK, seq: rcvNxt, ack: seqAdd(una, 100_000) });
    h.expectSent([{ flags: ACK, seq: una, ack: rcvNxt }]);
    // With data too: the data is not taken (the whole segment is dropped), and within the
    // rate limit (tcp_invalid_ratelimit, 500 ms) nothing more is sent.
    h.deliver({ flags: ACK | PSH, seq: rcvNxt, ack: seqAdd(una, 100_000), payload: new Uint8Array(3) });
    h.expectNothingSent();
    expect(conn.readable).toBe(0);
    h.advance(500);
    h.takeSent();
    h.deliver({ flags: ACK, seq: rcvNxt, ack: seqAdd(una, 100_000) });
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

describe("SACK blocks a sender takes (Linux tcp_is_sackblock_valid)", () => {
  it("only a block above the cumulative ACK, not past SND.MAX, and not empty or reversed; others are thrown out whole, not trimmed", () => {
    const ack = seq(10_000);
    const max = seq(20_000);
    expect(isValidSackBlock({ left: seq(11_000), right: seq(12_000) }, ack, max)).toBe(true);
    expect(isValidSackBlock({ left: seq(11_000), right: max }, ack, max)).toBe(true);
    expect(isValidSackBlock({ left: seq(11_000), right: seq(20_001) }, ack, max)).toBe(false); // data never sent
    expect(isValidSackBlock({ left: seq(11_000), right: seqAdd(max, 2 ** 31) }, ack, max)).toBe(false);
    expect(isValidSackBlock({ left: ack, right: seq(12_000) }, ack, max)).toBe(false); // at the ACK: it would be acknowledged
    expect(isValidSackBlock({ left: seq(12_000), right: seq(12_000) }, ack, max)).toBe(false);
    expect(isValidSackBlock({ left: seq(12_000), right: seq(11_000) }, ack, max)).toBe(false);
  });

  it("a block reaching past what was sent marks nothing, where it used to be trimmed and used", () => {
    const { h, conn, iss } = accepted({ sack: true }, { sackPermitted: true });
    conn.send(new Uint8Array(3000));
    h.settle();
    h.takeSent();
    const una = seqAdd(iss, 1);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: una, options: { sackBlocks: [{ left: seqAdd(una, 1460), right: seqAdd(una, 1_000_000) }] } });
    expect(conn.sender.scoreboard?.sackedBytes ?? 0).toBe(0);
    // The same block ending at SND.MAX marks the segment it covers.
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: una, options: { sackBlocks: [{ left: seqAdd(una, 1460), right: seqAdd(una, 3000) }] } });
    expect(conn.sender.scoreboard!.sackedBytes).toBe(1540);
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

  it("a timeout inside a recovery episode keeps the ssthresh that episode set; once the episode's recover point is acknowledged it cuts again (Linux tcp_enter_loss)", () => {
    for (const cc of [new CongestionControl(new Reno(), 1000, 10), new CongestionControl(new Cubic(), 1000, 10)]) {
      cc.cwnd = 20_000;
      for (let i = 0; i < 3; i++) cc.onDuplicateAck(0, seq(20_000), 20_000);
      expect(cc.state).toBe("recovery");
      const set = cc.ssthresh;
      cc.cwnd = 6000; // PRR has brought the window down meanwhile
      cc.onTimeout(100, seq(20_000), 20_000 - 1000); // SND.UNA 1000, short of recover (20,000)
      expect(cc.state).toBe("loss");
      expect(cc.ssthresh).toBe(set);
      expect(cc.cwnd).toBe(1000);
    }
    const cc = new CongestionControl(new Reno(), 1000, 10);
    cc.cwnd = 20_000;
    for (let i = 0; i < 3; i++) cc.onDuplicateAck(0, seq(20_000), 20_000);
    cc.cwnd = 6000;
    cc.onTimeout(100, seq(30_000), 10_000); // SND.UNA 20,000: the episode's data is acknowledged
    expect(cc.ssthresh).toBe(3000); // half the 6-segment window
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

/** A passive open the peer's SYN (MSS 1460 and `synOptions`) and final ACK completed, with the ISS its SYN-ACK carried. */
interface Accepted { h: Harness; conn: Connection; iss: ReturnType<typeof seq> }
function accepted(tcp: Partial<TcpConfig>, synOptions: TcpOptions): Accepted {
  const { h, listener } = listening(tcp);
  h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, ...synOptions } });
  const [synAck] = h.takeSent();
  h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck!.seq, 1) });
  const conn = listener.accept()!;
  h.takeSent();
  return { h, conn, iss: synAck!.seq };
}

describe("D-SACK for old segments (RFC 2883; Linux tcp_send_dupack, syn_challenge)", () => {
  /** An established connection that negotiated SACK, and the ISS the SYN-ACK carried. */
  const sackConnection = (): Accepted => accepted({ sack: true }, { sackPermitted: true });

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

  it("out-of-order data that overlaps data held out of order gets a D-SACK block for the overlap first (RFC 2883 4.1.2; Linux tcp_data_queue_ofo)", () => {
    const { h, iss } = sackConnection();
    const at = (n: number) => seqAdd(REMOTE_SEQ, 1 + n);
    h.deliver({ flags: ACK | PSH, seq: at(1000), ack: seqAdd(iss, 1), payload: new Uint8Array(1000) }); // a hole at 0-1000
    expect(h.takeSent()[0]!.options.sackBlocks).toEqual([{ left: at(1000), right: at(2000) }]);
    h.deliver({ flags: ACK | PSH, seq: at(1500), ack: seqAdd(iss, 1), payload: new Uint8Array(1000) }); // 1500-2000 held already
    expect(h.takeSent()[0]!.options.sackBlocks).toEqual([{ left: at(1500), right: at(2000) }, { left: at(1000), right: at(2500) }]);
    h.deliver({ flags: ACK | PSH, seq: at(3000), ack: seqAdd(iss, 1), payload: new Uint8Array(500) }); // no overlap: no D-SACK
    expect(h.takeSent()[0]!.options.sackBlocks).toEqual([{ left: at(3000), right: at(3500) }, { left: at(1000), right: at(2500) }]);
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

describe("the window offered with out-of-order data (Linux tcp_data_queue_ofo, tcp_grow_window)", () => {
  /** An established passive connection with window scaling (shift 7 both ways), SACK negotiated or not. */
  const scaled = (sack: boolean): Accepted => accepted({ windowScaling: true, sack }, { windowScale: 7, sackPermitted: sack });

  it("without SACK it does not grow rcv_ssthresh: every duplicate ACK offers the same window (RFC 5681 2); with SACK it grows", () => {
    for (const sack of [false, true]) {
      const { h, conn, iss } = scaled(sack);
      const windows: number[] = [];
      // Three segments past a hole of 1,000 bytes at RCV.NXT.
      for (let i = 1; i <= 3; i++) {
        h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1 + i * 1000), ack: seqAdd(iss, 1), payload: new Uint8Array(1000) });
        const [dup] = h.takeSent();
        expect(dup!.ack).toBe(seqAdd(REMOTE_SEQ, 1));
        windows.push(dup!.window);
      }
      if (sack) {
        expect(windows[1]).toBeGreaterThan(windows[0]!);
        expect(windows[2]).toBeGreaterThan(windows[1]!);
        expect(tcpInfo(conn, h.now).rcvSsthresh).toBe(65_535 + 3 * 2 * 1460);
      } else {
        // ALIGN(65,535, 128) in 128-byte units, as the handshake left it.
        expect(windows).toEqual([512, 512, 512]);
        expect(tcpInfo(conn, h.now).rcvSsthresh).toBe(65_535);
      }
    }
  });
});

describe("the peer's segment size for the delayed ACK after a read (Linux tcp_measure_rcv_mss)", () => {
  it("a pushed short segment of 536 bytes (556 with the TCP header, TCP_MSS_DEFAULT + 20) is a segment size: a second one is not 'pushed' and its ACK waits for the timer; 535 bytes is below the edge and is", () => {
    for (const len of [536, 535]) {
      // A buffer no larger than the SYN's window: the window cannot grow, so no quick ACK of its own (Linux tcp_grow_window).
      const { h, conn, iss } = established({ quickAcks: 0, receiveBufferSize: 64 * 1024 });
      let at = seqAdd(REMOTE_SEQ, 1);
      const data = (n: number, flags: number): void => {
        h.deliver({ flags, seq: at, ack: seqAdd(iss, 1), payload: new Uint8Array(n) });
        at = seqAdd(at, n);
      };
      data(1460, ACK);
      data(1460, ACK); // two full segments, ACKed at once: 1,460 is the full size
      conn.read();
      h.takeSent();
      data(len, ACK | PSH); // short, and not the size of the one before: pushed
      expect(h.takeSent()).toHaveLength(0);
      conn.read();
      h.settle();
      expect(h.takeSent()).toHaveLength(1); // the read that emptied the buffer sent the ACK
      data(len, ACK | PSH); // the same size again
      conn.read();
      h.settle();
      const afterRead = h.takeSent();
      if (len === 536) {
        expect(afterRead).toHaveLength(0); // taken for the peer's segment size: the ACK is delayed
        h.advance(40);
        expect(h.takeSent().map((s) => s.ack)).toEqual([at]);
      } else {
        expect(afterRead.map((s) => s.ack)).toEqual([at]); // too short to be a segment size: still pushed
      }
    }
  });
});

describe("CUBIC fast convergence (RFC 9438 4.7)", () => {
  it("applies only when cwnd is strictly below W_max: a second loss at exactly W_max keeps W_max = cwnd, and the curve climbs back to it", () => {
    const MSS = 1000;
    /** Losses at the given windows (segments), then 4 s of one window of ACKs per 100 ms RTT. */
    const after = (losses: number[]): number => {
      const cubic = new Cubic();
      cubic.onRttSample(0, 100);
      let cwnd = 0;
      for (const w of losses) cwnd = cubic.reduce(0, w * MSS, w * MSS, MSS);
      for (let t = 0; t <= 4000; t += 100) cwnd = cubic.grow(t, cwnd, cwnd, MSS);
      return cwnd;
    };
    const once = after([100]);
    expect(once / MSS).toBeGreaterThan(95); // near the plateau at W_max = 100 (K = 4.2 s)
    expect(after([100, 100])).toBe(once);
    // One segment below: W_max = 99 x 1.7 / 2 = 84.15, a lower plateau.
    expect(after([100, 99])).toBeLessThan(once - 5 * MSS);
  });
});

describe("BBR's bandwidth filter (Linux bbr_update_bw: !rs->is_app_limited || bw >= bbr_max_bw)", () => {
  /** A BBR fed one ACK per round; `rounds` lists each round's delivery rate (bytes/ms) and whether it was app-limited. Returns the max after. */
  function maxAfter(rounds: Array<[number, boolean]>): number {
    const rate = new DeliveryRate();
    const bbr = new Bbr(rate, () => 0.5);
    let now = 0;
    for (const [bw, appLimited] of rounds) {
      const prior = rate.delivered;
      rate.delivered += bw * 10;
      now += 10;
      rate.deliveredAt = now;
      const sample = { delivered: bw * 10, interval: 10, deliveryRate: bw, rtt: 10, isAppLimited: appLimited, priorDelivered: prior, newlyDelivered: bw * 10 };
      bbr.onAck({ now, sample, inflight: 5000, cwnd: 10_000, mss: 1000, losses: 0, caState: "open" });
    }
    expect(bbr.roundCount).toBe(rounds.length);
    return bbr.maxBw;
  }
  const nine = (bw: number): Array<[number, boolean]> => Array.from({ length: 9 }, () => [bw, false]);

  it("an app-limited sample below the max is left out: once the max's round leaves the window, it is not the estimate", () => {
    // Rounds 2..11 remain in the 10-round window: the app-limited 300 must not be among them.
    expect(maxAfter([[400, false], [300, true], ...nine(100)])).toBe(100);
  });

  it("an app-limited sample at or above the max counts", () => {
    expect(maxAfter([[400, false], [500, true]])).toBe(500);
    expect(maxAfter([[400, false], [400, true], ...nine(100)])).toBe(400); // equal: round 2 holds the max
  });
});

describe("options Linux's tcp_parse_options would not refuse a segment for", () => {
  /** A SYN from the harness's peer whose options area is exactly `options` (hex), checksummed. */
  function rawSyn(options: string): Uint8Array {
    const opts = Uint8Array.from(options.split(" ").map((b) => parseInt(b, 16)));
    const tcpLen = 20 + opts.length;
    const pkt = new Uint8Array(20 + tcpLen);
    emitIpv4Header({ src: REMOTE_ADDR, dst: LOCAL_ADDR, protocol: PROTO_TCP, payloadLength: tcpLen }, pkt, 0);
    emitTcp({ srcPort: REMOTE_PORT, dstPort: LOCAL_PORT, seq: REMOTE_SEQ, ack: seq(0), flags: SYN, window: 65535, urgentPointer: 0, options: {}, payload: opts }, pkt, 20, null);
    pkt[20 + 12] = (tcpLen / 4) << 4; // the "payload" is the options area
    pkt[20 + 16] = 0;
    pkt[20 + 17] = 0;
    const sum = internetChecksum(pkt, 20, pkt.length, pseudoSumOf(REMOTE_ADDR, LOCAL_ADDR, PROTO_TCP, tcpLen));
    pkt[20 + 16] = sum >> 8;
    pkt[20 + 17] = sum & 0xff;
    return pkt;
  }

  it.each([
    ["a silly option length after the MSS: parsing ends, the MSS is kept", "02 04 03 e8 1e 00 00 00", 1000],
    ["an option running past the header after the MSS", "02 04 03 e8 1e 09 00 00", 1000],
    ["an MSS of 0, which is ignored: the default 536 applies (RFC 9293 3.7.1)", "02 04 00 00", 536],
    ["an MSS option of length 5, skipped", "02 05 03 e8 00 01 01 01", 536],
  ])("a SYN with %s is answered and the connection uses the MSS read", (_what, options, mss) => {
    const { h, listener } = listening();
    h.deliverRaw(rawSyn(options));
    const [synAck] = h.takeSent();
    expect(synAck).toMatchObject({ flags: SYN | ACK, ack: seqAdd(REMOTE_SEQ, 1) });
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck!.seq, 1) });
    const conn = listener.accept()!;
    expect(conn.state).toBe("ESTABLISHED");
    expect(conn.inspect().sendMss).toBe(mss);
  });
});


describe("Reno's ssthresh (Linux tcp_reno_ssthresh: max(cwnd >> 1, 2))", () => {
  it("is half the window in whole segments, whatever is in flight (SACKed bytes included), and at least two segments", () => {
    const reno = new Reno();
    expect(reno.reduce(0, 20_000, 30_000, 1000)).toBe(10_000); // RFC 5681's FlightSize / 2 would give 15,000
    expect(reno.reduce(0, 7_500, 7_500, 1000)).toBe(3000); // 7 whole segments >> 1
    expect(reno.reduce(0, 3000, 3000, 1000)).toBe(2000);
  });
});
