/**
 * ECN (RFC 3168 section 6.1) in the engine: negotiation for every tcp_ecn setting on both
 * ends, which segments carry ECT(0), the receiver's ECE echo until CWR, and the sender's
 * one reduction per window. Segment-level tests use the scripted-peer harness; the
 * negotiation matrix runs two hosts in the simulator, over IPv4 and IPv6.
 */
import { describe, expect, it } from "vitest";
import { CongestionControl } from "../../src/tcp/congestion/recovery.js";
import { Reno } from "../../src/tcp/congestion/algorithm.js";
import { resolveConfig } from "../../src/tcp/config.js";
import { CE, ECN_OFF, ECT0, NOT_ECT } from "../../src/tcp/ecn.js";
import { formatTcpInfo, tcpInfo, TCP_CA_CWR, TCPI_OPT_ECN, TCPI_OPT_ECN_SEEN } from "../../src/tcp/tcp-info.js";
import { parseIpv6 } from "../../src/wire/ipv6.js";
import { seq, seqAdd } from "../../src/wire/seq.js";
import { ACK, CWR, ECE, flagNames, PSH, SYN } from "../../src/wire/tcp.js";
import { PAIR_ADDRESSES, pair } from "./fixtures.js";
import { halfOpen, listening, REMOTE_SEQ, synSent, type Harness } from "./harness.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);

/** A passive connection whose peer asked for ECN (SYN with ECE|CWR), established with ECN agreed. */
function ecnServer(ecn: 0 | 1 | 2 = 2, synEcn = NOT_ECT) {
  const { h, listener } = listening({ ecn });
  h.deliver({ flags: SYN | ECE | CWR, seq: REMOTE_SEQ, options: { mss: 1000 }, ecn: synEcn });
  const synAck = h.takeSentWithEcn();
  const iss = halfOpen(h)[0]!.iss;
  h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
  const conn = listener.accept()!;
  h.takeSent();
  return { h, conn, synAck, L: (n: number) => seqAdd(conn.iss, n) };
}

function sentSummary(h: Harness): string[] {
  return h.takeSentWithEcn().map(({ seg, ecn }) => `${flagNames(seg.flags)} len=${seg.payload.length} ${["not-ECT", "ECT(1)", "ECT(0)", "CE"][ecn]}`);
}

describe("ECN negotiation (RFC 3168 6.1.1, Linux tcp_ecn 0/1/2)", () => {
  for (const family of [4, 6] as const) {
    for (const client of [0, 1, 2] as const) {
      for (const server of [0, 1, 2] as const) {
        const agreed = client === 1 && server !== 0;
        it(`IPv${family}: client tcp_ecn=${client}, server tcp_ecn=${server} -> ${agreed ? "ECN" : "no ECN"}`, () => {
          const p = pair({ family, clientTcp: { ecn: client }, serverTcp: { ecn: server } });
          const listener = p.server.tcp.listen(80);
          const a = PAIR_ADDRESSES[family];
          const conn = p.client.tcp.connect({ localAddr: a.client, remoteAddr: a.server, remotePort: 80 });
          p.net.runFor(100);
          const s = listener.accept()!;
          expect(conn.state).toBe("ESTABLISHED");
          expect(conn.ecn.ok).toBe(agreed);
          expect(s.ecn.ok).toBe(agreed);
          const handshake = p.events.flatMap((e) => (e.type === "segment-out" ? [`${e.host} ${flagNames(e.segment.flags)} ${e.ecn ?? 0}`] : []));
          expect(handshake).toEqual([
            `client SYN${client === 1 ? ",ECE,CWR" : ""} 0`, // RFC 3168 6.1.1: the SYN asks; never ECT itself
            `server SYN,ACK${client === 1 && server !== 0 ? ",ECE" : ""} 0`,
            "client ACK 0",
          ]);
        });
      }
    }
  }

  it("a SYN-ACK with ECE and CWR both set is not a yes (Linux tcp_ecn_rcv_synack)", () => {
    const { h, conn, iss, sent } = synSent({ ecn: 1 });
    expect(sent.flags).toBe(SYN | ECE | CWR);
    h.deliver({ flags: SYN | ACK | ECE | CWR, seq: REMOTE_SEQ, ack: seqAdd(iss, 1) });
    expect(conn.state).toBe("ESTABLISHED");
    expect(conn.ecn.ok).toBe(false);
  });

  it("a retransmitted SYN goes without ECE|CWR (RFC 3168 6.1.1.1 fallback), and a SYN-ACK with ECE to the first still agrees", () => {
    const { h, conn, iss } = synSent({ ecn: 1 });
    h.nextTimer();
    expect(h.takeSent().map((s) => flagNames(s.flags))).toEqual(["SYN"]);
    h.deliver({ flags: SYN | ACK | ECE, seq: REMOTE_SEQ, ack: seqAdd(iss, 1) });
    expect(conn.ecn.ok).toBe(true);
  });

  it("an ECT-marked SYN is refused (Linux tcp_ecn_create_request: a SYN is never ECT)", () => {
    const { synAck, conn } = ecnServer(2, ECT0);
    expect(flagNames(synAck[0]!.seg.flags)).toBe("SYN,ACK");
    expect(conn.ecn.ok).toBe(false);
  });

  it("a SYN cookie carries ECN in its timestamp (Linux TS_OPT_ECN): the cookie SYN-ACK agrees with ECE and the rebuilt connection has ECN", () => {
    const { h, listener } = listening({ ecn: 2, synCookies: "always", timestamps: true });
    h.deliver({ flags: SYN | ECE | CWR, seq: REMOTE_SEQ, options: { mss: 1000, timestamp: { value: 700, echo: 0 } } });
    const [synAck] = h.takeSentWithEcn();
    expect(listener.synQueue.size).toBe(0);
    expect(`${flagNames(synAck!.seg.flags)} ${synAck!.ecn}`).toBe("SYN,ACK,ECE 0");
    const tsval = synAck!.seg.options.timestamp!.value;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seg.seq, 1), options: { timestamp: { value: 701, echo: tsval } } });
    const conn = listener.accept()!;
    expect(conn.state).toBe("ESTABLISHED");
    expect(conn.ecn.ok).toBe(true);
    conn.send(new Uint8Array(100));
    h.settle();
    expect(sentSummary(h)).toEqual(["PSH,ACK len=100 ECT(0)"]);
  });

  it("without timestamps a cookie cannot carry ECN, so its SYN-ACK does not agree (Linux tcp_conn_request: ecn_ok = 0)", () => {
    const { h, listener } = listening({ ecn: 2, synCookies: "always", timestamps: true });
    h.deliver({ flags: SYN | ECE | CWR, seq: REMOTE_SEQ, options: { mss: 1000 } });
    const [synAck] = h.takeSent();
    expect(flagNames(synAck!.flags)).toBe("SYN,ACK");
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 1) });
    expect(listener.accept()!.ecn).toBe(ECN_OFF);
  });

  it("a listener with ECN off gives a cookie connection no ECN, even when the echo says it was agreed", () => {
    const { h, listener } = listening({ ecn: 0, synCookies: "always", timestamps: true });
    h.deliver({ flags: SYN | ECE | CWR, seq: REMOTE_SEQ, options: { mss: 1000, timestamp: { value: 700, echo: 0 } } });
    const [synAck] = h.takeSent();
    expect(flagNames(synAck!.flags)).toBe("SYN,ACK");
    // The low 6 bits (less the offset) carry window scale, SACK and ECN (0x20), which this
    // SYN-ACK left clear; an echo with the ECN bit set is what a tcp_ecn=2 listener sends.
    const echo = (synAck!.options.timestamp!.value + 0x20) >>> 0;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 1), options: { timestamp: { value: 701, echo } } });
    const conn = listener.accept()!;
    expect(conn.state).toBe("ESTABLISHED");
    expect(conn.ecn).toBe(ECN_OFF);
  });

  it("connections without ECN share one frozen not-in-use state; asking or agreeing makes a connection its own", () => {
    const refused = ecnServer(2, ECT0).conn; // asked with an ECT-marked SYN: refused, nothing to keep
    expect(refused.ecn).toBe(ECN_OFF);
    const { h, listener } = listening({ ecn: 2 });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000 } });
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(halfOpen(h)[0]!.iss, 1) });
    const never = listener.accept()!;
    expect(never.state).toBe("ESTABLISHED");
    expect(never.ecn).toBe(ECN_OFF);
    expect(Object.isFrozen(ECN_OFF) && ECN_OFF.ok === false && ECN_OFF.codepoint === NOT_ECT && ECN_OFF.arrived === NOT_ECT).toBe(true);
    const agreed = ecnServer(2).conn;
    expect(agreed.ecn).not.toBe(ECN_OFF);
    expect(agreed.ecn.ok).toBe(true);
    expect(synSent({ ecn: 1 }).conn.ecn).not.toBe(ECN_OFF);
    expect(synSent({ ecn: 2 }).conn.ecn).toBe(ECN_OFF);
  });

  it("rejects an ecn setting outside 0..2 with a typed error", () => {
    expect(() => resolveConfig({ ecn: 3 as 1 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
  });
});

describe("ECT(0) on new data only (RFC 3168 6.1.2, 6.1.5, 6.1.6; Linux tcp_ecn_send)", () => {
  it("SYN-ACK and pure ACKs are not-ECT, new data is ECT(0), a retransmission is not-ECT", () => {
    const { h, conn, synAck, L } = ecnServer();
    expect(synAck.map(({ seg, ecn }) => `${flagNames(seg.flags)} ${ecn}`)).toEqual(["SYN,ACK,ECE 0"]);
    conn.send(new Uint8Array(500));
    h.settle();
    expect(sentSummary(h)).toEqual(["PSH,ACK len=500 ECT(0)"]);
    h.nextTimer(); // RTO
    expect(sentSummary(h)).toEqual(["PSH,ACK len=500 not-ECT"]);
    h.deliver({ flags: ACK, seq: R(1), ack: L(501) });
    h.deliver({ flags: ACK | PSH, seq: R(1), ack: L(501), payload: "hello" });
    expect(sentSummary(h)).toEqual(["ACK len=0 not-ECT"]);
  });

  it("zero-window probes are not-ECT (RFC 3168 6.1.6)", () => {
    const { h, conn, L } = ecnServer();
    h.deliver({ flags: ACK, seq: R(1), ack: L(1), window: 0 });
    conn.send(new Uint8Array(100));
    h.settle();
    expect(h.takeSent()).toEqual([]);
    h.nextTimer(); // persist
    expect(sentSummary(h)).toEqual(["ACK len=0 not-ECT"]);
  });
});

describe("the receiver: CE -> ECE until CWR (RFC 3168 6.1.3; Linux tcp_ecn_check_ce, tcp_ecn_accept_cwr)", () => {
  it("ACKs CE-marked data at once with ECE, keeps ECE on every ACK, stops at the segment with CWR", () => {
    const { h, conn, L } = ecnServer();
    // Leave quick-ACK mode first so the immediate ACK is the CE mark's doing.
    for (let i = 0; i < 20; i++) {
      h.deliver({ flags: ACK, seq: R(1 + i * 100), ack: L(1), payload: new Uint8Array(100), ecn: ECT0 });
      h.advance(50);
    }
    h.takeSent();
    expect(conn.ecn.seen).toBe(true);
    const info = tcpInfo(conn, h.now);
    expect(info.options & (TCPI_OPT_ECN | TCPI_OPT_ECN_SEEN)).toBe(TCPI_OPT_ECN | TCPI_OPT_ECN_SEEN);
    expect(formatTcpInfo(info)).toMatch(/^ecn ecnseen /);
    h.deliver({ flags: ACK, seq: R(2001), ack: L(1), payload: new Uint8Array(100), ecn: CE });
    expect(sentSummary(h)).toEqual(["ACK,ECE len=0 not-ECT"]); // immediate, no delayed-ACK wait
    expect(conn.ecn.demandCwr).toBe(true);
    h.deliver({ flags: ACK, seq: R(2101), ack: L(1), payload: new Uint8Array(100), ecn: ECT0 });
    expect(sentSummary(h)).toEqual(["ACK,ECE len=0 not-ECT"]); // quick-ACK mode 2: the second at once too
    h.deliver({ flags: ACK, seq: R(2201), ack: L(1), payload: new Uint8Array(100), ecn: ECT0 });
    h.advance(50);
    expect(sentSummary(h)).toEqual(["ACK,ECE len=0 not-ECT"]); // delayed now, still echoing
    h.deliver({ flags: ACK | CWR, seq: R(2301), ack: L(1), payload: new Uint8Array(100), ecn: ECT0 });
    expect(sentSummary(h)).toEqual(["ACK len=0 not-ECT"]); // CWR on data: ACKed at once, no ECE
    expect(conn.ecn.demandCwr).toBe(false);
    expect(conn.ecn.ceReceived).toBe(1);
  });

  it("without ECN agreed a CE mark changes nothing", () => {
    const { h, listener } = listening({ ecn: 2 });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000 } });
    const iss = halfOpen(h)[0]!.iss;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    const conn = listener.accept()!;
    h.takeSent();
    for (let i = 0; i < 20; i++) h.deliver({ flags: ACK, seq: R(1 + i * 10), ack: seqAdd(conn.iss, 1), payload: new Uint8Array(10), ecn: CE });
    expect(h.takeSent().every((s) => (s.flags & ECE) === 0)).toBe(true);
  });
});

describe("the sender: one reduction per window, CWR on the next new data (RFC 3168 6.1.2; Linux tcp_enter_cwr)", () => {
  it("ECE enters CWR once, PRR lowers cwnd, CWR goes on the next new segment only, and CWR ends past the window", () => {
    const { h, conn, L } = ecnServer();
    conn.send(new Uint8Array(4000));
    h.settle();
    expect(sentSummary(h)).toEqual(["ACK len=1000 ECT(0)", "ACK len=1000 ECT(0)", "ACK len=1000 ECT(0)", "PSH,ACK len=1000 ECT(0)"]);
    expect(conn.congestion.cwnd).toBe(10_000);
    h.deliver({ flags: ACK | ECE, seq: R(1), ack: L(1001) });
    const cc = conn.congestion;
    expect(cc.state).toBe("cwr");
    expect(tcpInfo(conn, h.now).caState).toBe(TCP_CA_CWR);
    expect(cc.ssthresh).toBe(7000); // CUBIC's beta 0.7 of 10 segments
    // PRR-SSRB (RFC 9937; Linux tcp_cwnd_reduction): 3 in flight + min(7-3, max(1, 1) + 1) = 5 segments.
    expect(cc.cwnd).toBe(5000);
    expect(conn.ecn.reductions).toBe(1);
    h.deliver({ flags: ACK | ECE, seq: R(1), ack: L(2001) }); // the same window: no second cut
    expect(cc.ssthresh).toBe(7000);
    expect(conn.ecn.reductions).toBe(1);
    conn.send(new Uint8Array(2000));
    h.settle();
    const sent = sentSummary(h);
    expect(sent[0]).toBe("ACK,CWR len=1000 ECT(0)");
    expect(sent.slice(1).every((s) => !s.includes("CWR"))).toBe(true);
    h.deliver({ flags: ACK | ECE, seq: R(1), ack: L(4001) }); // up to high_seq exactly: CWR holds
    expect(cc.state).toBe("cwr");
    h.deliver({ flags: ACK, seq: R(1), ack: L(5001) }); // beyond it: CWR ends at ssthresh
    expect(cc.state).toBe("open");
    expect(cc.cwnd).toBe(7000);
  });

  it("a tail loss probe still goes out in CWR (it is not loss recovery, RFC 8985 7.2)", () => {
    const { h, listener } = listening({ ecn: 2, sack: true });
    h.deliver({ flags: SYN | ECE | CWR, seq: REMOTE_SEQ, options: { mss: 1000, sackPermitted: true } });
    const iss = halfOpen(h)[0]!.iss;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    const conn = listener.accept()!;
    h.advance(100);
    conn.send(new Uint8Array(3000));
    h.settle();
    h.takeSent();
    h.deliver({ flags: ACK | ECE, seq: R(1), ack: seqAdd(conn.iss, 1001) });
    expect(conn.congestion.state).toBe("cwr");
    expect(conn.timers.tlp).toBeLessThan(Infinity);
    h.nextTimer();
    expect(sentSummary(h)).toEqual(["PSH,ACK len=1000 not-ECT"]); // the last segment again, as a retransmission
  });

  it("a later window's ECE reduces again; ECE during recovery is not a second cut", () => {
    const cc = new CongestionControl(new Reno(), 1000, 10);
    expect(cc.enterCwr(0, seq(10_000), 10_000)).toBe(true);
    expect(cc.ssthresh).toBe(5000);
    expect(cc.enterCwr(0, seq(10_000), 10_000)).toBe(false);
    expect(cc.maybeEndEpisode(seq(10_001))).toBe(true);
    expect(cc.enterCwr(0, seq(20_000), 5000)).toBe(true);
    expect(cc.ssthresh).toBe(2000); // half of 5 segments, in whole segments: Linux tcp_reno_ssthresh, 5 >> 1
    // A loss found while in CWR: recovery continues PRR without cutting ssthresh again (Linux tcp_enter_recovery).
    cc.enterRecovery(0, seq(20_000), 5000);
    expect([cc.state, cc.ssthresh]).toEqual(["recovery", 2000]);
    expect(cc.enterCwr(0, seq(30_000), 5000)).toBe(false);
  });

  it("ignores ECE when ECN was not agreed", () => {
    const { h, listener } = listening({ ecn: 2 });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000 } });
    const iss = halfOpen(h)[0]!.iss;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    const conn = listener.accept()!;
    conn.send(new Uint8Array(3000));
    h.settle();
    h.deliver({ flags: ACK | ECE, seq: R(1), ack: seqAdd(conn.iss, 1001) });
    expect(conn.congestion.state).toBe("open");
    expect(conn.congestion.ssthresh).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("ECN over IPv6: the Traffic Class carries the codepoint (RFC 3168 section 5)", () => {
  it("data leaves with ECT(0) in the Traffic Class, pure ACKs with 0", () => {
    const seen: string[] = [];
    const p = pair({
      family: 6,
      tcp: { ecn: 1 },
      link: {
        delay: 5,
        filter: (packet) => {
          const ip = parseIpv6(packet);
          if (ip.ok) seen.push(`${ip.value.payload.length > 100 ? "data" : "ctl"} tc=${ip.value.header.trafficClass}`);
          return "pass";
        },
      },
    });
    const listener = p.server.tcp.listen(80);
    const a = PAIR_ADDRESSES[6];
    const conn = p.client.tcp.connect({ localAddr: a.client, remoteAddr: a.server, remotePort: 80 });
    p.net.runFor(50);
    conn.send(new Uint8Array(1000));
    p.net.runFor(100);
    expect(listener.accept()!.ecn.ok).toBe(true);
    expect(seen).toContain("data tc=2");
    expect(seen.filter((s) => s.startsWith("ctl")).every((s) => s.endsWith("tc=0"))).toBe(true);
  });
});
