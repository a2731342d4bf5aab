/**
 * TCP_INFO (src/tcp/tcp-info.ts): each field follows the engine's real state as Linux's
 * tcp_get_info() would report it. One connection is driven segment by segment in virtual
 * time; the numbers asserted are the ones a packetdrill script would assert on Linux.
 */
import { describe, expect, it } from "vitest";
import type { Connection } from "../../src/tcp/connection.js";
import {
  formatTcpInfo, linuxFieldName, linuxTcpInfo, NO_MIN_RTT, tcpInfo, TCP_CA_Disorder, TCP_CA_Loss, TCP_CA_Open, TCP_CA_Recovery,
  TCP_INFINITE_SSTHRESH, TCPI_OPT_SACK, TCPI_OPT_TIMESTAMPS, TCPI_OPT_WSCALE, type TcpInfo,
} from "../../src/tcp/tcp-info.js";
import { seqAdd, type Seq } from "../../src/wire/seq.js";
import { ACK, FIN, SYN, type TcpOptions } from "../../src/wire/tcp.js";
import { pair } from "./fixtures.js";
import { established, halfOpen, Harness, LOCAL_PORT, REMOTE_SEQ, synSent } from "./harness.js";

const MSS = 1460;
const info = (h: Harness, conn: Connection): TcpInfo => tcpInfo(conn, h.now);
const payload = (n: number): Uint8Array => new Uint8Array(n).fill(0x61);

/** Established passive connection with the peer's SYN carrying `options`, ACKed `rtt` ms after our SYN-ACK. */
function open(tcp: Parameters<typeof established>[0] = {}, options: TcpOptions = { mss: MSS }, rtt = 0) {
  const h = new Harness(tcp);
  const listener = h.host.tcp.listen(LOCAL_PORT);
  h.deliver({ flags: SYN, seq: REMOTE_SEQ, options });
  const iss = halfOpen(h)[0]!.iss;
  h.takeSent();
  h.now += rtt;
  const ts = options.timestamp !== undefined ? { timestamp: { value: 2, echo: 0 } } : {};
  h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1), options: ts });
  const conn = listener.accept()!;
  h.takeSent();
  return { h, conn, una: seqAdd(conn.iss, 1) };
}

/** ACK from the peer: cumulative `ack`, optional SACK blocks as [from, to) offsets of segments after `base`. */
function ackFromPeer(h: Harness, ack: Seq, sack?: Array<[Seq, Seq]>): void {
  const options: TcpOptions = sack !== undefined ? { sackBlocks: sack.map(([left, right]) => ({ left, right })) } : {};
  h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack, options });
}

describe("state", () => {
  it("numbers the states as Linux does and names them as synack does", () => {
    const s = synSent();
    expect(info(s.h, s.conn)).toMatchObject({ state: 2, stateName: "SYN_SENT", unacked: 1 });
    // A passive half-open entry is a request record with no TCP_INFO (as Linux's request
    // socket has none); a simultaneous open is a connection in SYN_RCVD.
    const r = synSent();
    r.h.deliver({ flags: SYN, seq: REMOTE_SEQ });
    expect(info(r.h, r.conn)).toMatchObject({ state: 3, stateName: "SYN_RCVD", unacked: 1 });
    const e = established();
    expect(info(e.h, e.conn)).toMatchObject({ state: 1, stateName: "ESTABLISHED", unacked: 0, delivered: 1, bytesAcked: 1, caState: TCP_CA_Open });
    e.conn.shutdown();
    e.h.settle();
    expect(info(e.h, e.conn)).toMatchObject({ state: 4, stateName: "FIN_WAIT_1", unacked: 1 });
    e.h.deliver({ flags: ACK | FIN, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(e.iss, 2) });
    // Our FIN counts in bytes_acked and the peer's in bytes_received, as Linux counts them.
    expect(info(e.h, e.conn)).toMatchObject({ state: 6, stateName: "TIME_WAIT", unacked: 0, bytesAcked: 2, bytesReceived: 1, delivered: 2 });
  });
});

describe("options and window scaling", () => {
  it("reports no option bits when the peer's SYN offered none", () => {
    const { h, conn } = open({ windowScaling: true, timestamps: true, sack: true });
    expect(info(h, conn)).toMatchObject({ options: 0, sndWscale: 0, rcvWscale: 0, sndMss: MSS, advmss: 1460 });
  });

  it("sets TIMESTAMPS, SACK and WSCALE, with the peer's shift and ours, and the MSS less the timestamp option", () => {
    const options: TcpOptions = { mss: MSS, windowScale: 9, sackPermitted: true, timestamp: { value: 1, echo: 0 } };
    const { h, conn } = open({ windowScaling: true, timestamps: true, sack: true, windowScaleShift: 6 }, options);
    const i = info(h, conn);
    expect(i.options).toBe(TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
    expect(i).toMatchObject({ sndWscale: 9, rcvWscale: 6, sndMss: 1448, advmss: 1448, pmtu: 1500 });
  });
});

describe("RTT and RTO", () => {
  it("before a sample: rtt 0, rttvar a quarter of the initial RTO, rto 1 s, min_rtt ~0U (as Linux)", () => {
    const s = synSent();
    expect(info(s.h, s.conn)).toMatchObject({ rtt: 0, rttvar: 250_000, rto: 1_000_000, minRtt: NO_MIN_RTT });
  });

  it("after the handshake's sample: rtt, rttvar = rtt / 2 and rto in microseconds", () => {
    const { h, conn } = open({}, { mss: MSS }, 50);
    // Linux: RTO = SRTT + max(4 * RTTVAR, 200 ms) = 50 + 200 ms
    expect(info(h, conn)).toMatchObject({ rtt: 50_000, rttvar: 25_000, rto: 250_000, minRtt: 50_000 });
  });

  it("smooths later samples (RFC 6298) and keeps the smallest as min_rtt", () => {
    const { h, conn, una } = open({}, { mss: MSS }, 80);
    conn.send(payload(100));
    h.settle();
    h.now += 40;
    ackFromPeer(h, seqAdd(una, 100));
    // srtt = 7/8 * 80 + 1/8 * 40 = 75; rttvar = 3/4 * 40 + 1/4 * 40 = 40
    expect(info(h, conn)).toMatchObject({ rtt: 75_000, rttvar: 40_000, minRtt: 40_000, rto: 275_000 }); // 75 + max(160, 200) ms, as Linux
  });
});

describe("congestion window", () => {
  it("starts at 10 segments with an infinite ssthresh and grows in slow start as data is acknowledged", () => {
    const { h, conn, una } = open();
    conn.send(payload(30 * MSS));
    h.settle();
    let i = info(h, conn);
    expect(i).toMatchObject({ sndCwnd: 10, sndSsthresh: TCP_INFINITE_SSTHRESH, unacked: 10, notsentBytes: 20 * MSS, dataSegsOut: 10, bytesSent: 10 * MSS });
    h.now += 10;
    ackFromPeer(h, seqAdd(una, 2 * MSS));
    i = info(h, conn);
    expect(i.sndCwnd).toBe(12);
    expect(i).toMatchObject({ unacked: 12, delivered: 3, bytesAcked: 1 + 2 * MSS, caState: TCP_CA_Open });
    // Ten more acknowledged at once: slow start adds all ten (Linux tcp_slow_start has no
    // RFC 3465 limit), and the 16 segments still queued all fit the window of 22.
    ackFromPeer(h, seqAdd(una, 12 * MSS));
    expect(info(h, conn)).toMatchObject({ sndCwnd: 22, unacked: 18, delivered: 13 });
  });
});

describe("loss", () => {
  it("a retransmission timeout: Loss state, every segment lost, one retransmitted, backoff, ssthresh from CUBIC", () => {
    const { h, conn, una } = open();
    conn.send(payload(3 * MSS));
    h.settle();
    h.takeSent();
    h.nextTimer(); // the RTO: 200.001 ms (the handshake's sample was 0, counted as 1 us as Linux does)
    const i = info(h, conn);
    expect(i).toMatchObject({
      caState: TCP_CA_Loss, retransmits: 1, backoff: 1, unacked: 3, lost: 3, retrans: 1, totalRetrans: 1,
      sndCwnd: 1, sndSsthresh: 7, bytesRetrans: MSS, bytesSent: 4 * MSS,
    });
    expect(i.rto).toBe(400_002); // doubled
    expect(formatTcpInfo(i)).toContain("retrans:1/1");
    // The first segment is acknowledged: cwnd 2, so the other two are resent (go-back-N).
    ackFromPeer(h, seqAdd(una, MSS));
    expect(info(h, conn)).toMatchObject({ caState: TCP_CA_Loss, unacked: 2, lost: 2, retrans: 2, retransmits: 0, backoff: 0, sndCwnd: 2 });
    ackFromPeer(h, seqAdd(una, 3 * MSS));
    expect(info(h, conn)).toMatchObject({ caState: TCP_CA_Open, unacked: 0, lost: 0, retrans: 0, totalRetrans: 3, delivered: 4 });
  });

  it("SACKed segments, duplicate-ACK detection (tcp_recovery=0): Disorder, then Recovery on DupThresh SACKed segments", () => {
    const { h, conn, una } = open({ sack: true, rack: false }, { mss: MSS, sackPermitted: true });
    const at = (k: number): Seq => seqAdd(una, k * MSS);
    conn.send(payload(10 * MSS));
    h.settle();
    h.takeSent();
    ackFromPeer(h, una, [[at(1), at(2)]]);
    expect(info(h, conn)).toMatchObject({ caState: TCP_CA_Disorder, sacked: 1, lost: 0, retrans: 0, unacked: 10 });
    ackFromPeer(h, una, [[at(1), at(3)]]);
    expect(info(h, conn)).toMatchObject({ caState: TCP_CA_Disorder, sacked: 2, lost: 0 });
    ackFromPeer(h, una, [[at(1), at(4)]]);
    const i = info(h, conn);
    expect(i).toMatchObject({ caState: TCP_CA_Recovery, sacked: 3, lost: 1, retrans: 1, totalRetrans: 1, sndSsthresh: 7, sndCwnd: 7 });
    expect(i.delivered).toBe(1 + 3); // the SYN-ACK and three SACKed segments
    ackFromPeer(h, at(10));
    expect(info(h, conn)).toMatchObject({ caState: TCP_CA_Open, sacked: 0, lost: 0, retrans: 0, unacked: 0, delivered: 11 });
  });

  it("SACKed segments with RACK: Disorder until the reordering window passes, then Recovery with the head lost", () => {
    const { h, conn, una } = open({ sack: true }, { mss: MSS, sackPermitted: true }, 10);
    const at = (k: number): Seq => seqAdd(una, k * MSS);
    conn.send(payload(10 * MSS));
    h.settle();
    h.takeSent();
    h.now += 10;
    ackFromPeer(h, una, [[at(1), at(2)]]);
    // min RTT 10 ms: the reordering window is 2.5 ms (RFC 8985 6.2), so nothing is lost yet.
    expect(info(h, conn)).toMatchObject({ caState: TCP_CA_Disorder, sacked: 1, lost: 0, retrans: 0 });
    expect(conn.timers.reorder).toBeCloseTo(h.now + 2.5 + 2, 6);
    h.nextTimer();
    const i = info(h, conn);
    expect(i).toMatchObject({ caState: TCP_CA_Recovery, sacked: 1, lost: 1, retrans: 1, totalRetrans: 1, sndSsthresh: 7 });
    expect(h.takeSent().map((s) => s.seq)).toEqual([una]);
  });

  it("without SACK, three duplicate ACKs enter Recovery with the head segment lost", () => {
    const { h, conn, una } = open();
    conn.send(payload(5 * MSS));
    h.settle();
    h.takeSent();
    ackFromPeer(h, una);
    expect(info(h, conn).caState).toBe(TCP_CA_Disorder);
    ackFromPeer(h, una);
    ackFromPeer(h, una);
    expect(info(h, conn)).toMatchObject({ caState: TCP_CA_Recovery, lost: 1, retrans: 1, sacked: 0, unacked: 5 });
  });

  it("a SYN retransmission counts in retransmits, backoff and total_retrans", () => {
    const s = synSent();
    s.h.nextTimer();
    expect(info(s.h, s.conn)).toMatchObject({ state: 2, retransmits: 1, backoff: 1, rto: 2_000_000, unacked: 1, retrans: 1, totalRetrans: 1 });
  });
});

describe("receiving", () => {
  it("counts data segments, bytes and out-of-order segments, measures the peer's MSS and when data last came", () => {
    const { h, conn } = open();
    expect(info(h, conn).rcvMss).toBe(536);
    const d = seqAdd(REMOTE_SEQ, 1);
    h.now += 100;
    h.deliver({ flags: ACK, seq: d, ack: conn.sndUna, payload: payload(1000) });
    h.deliver({ flags: ACK, seq: seqAdd(d, 2000), ack: conn.sndUna, payload: payload(500) });
    h.now += 30;
    const i = info(h, conn);
    expect(i).toMatchObject({ dataSegsIn: 2, bytesReceived: 1000, rcvOoopack: 1, rcvMss: 1000, lastDataRecv: 30, lastAckRecv: 30 });
    expect(i.lastDataSent).toBe(130); // nothing sent since the SYN-ACK at 0
    expect(i.segsIn).toBe(4); // SYN (taken by the listener, counted as Linux does), ACK, two data segments
  });

  it("reports unanswered zero-window probes in probes, not in retransmits", () => {
    const { h, conn, una } = open();
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: una, window: 0 });
    conn.send(payload(100));
    h.settle();
    h.nextTimer();
    h.nextTimer();
    expect(info(h, conn)).toMatchObject({ probes: 2, retransmits: 0, sndWnd: 0, notsentBytes: 100 });
  });
});

describe("Linux names", () => {
  const LINUX_FIELDS = [
    "state", "ca_state", "retransmits", "probes", "backoff", "options", "snd_wscale", "rcv_wscale", "rto", "ato", "snd_mss", "rcv_mss",
    "unacked", "sacked", "lost", "retrans", "fackets", "last_data_sent", "last_ack_sent", "last_data_recv", "last_ack_recv", "pmtu",
    "rcv_ssthresh", "rtt", "rttvar", "snd_ssthresh", "snd_cwnd", "advmss", "reordering", "rcv_rtt", "rcv_space", "total_retrans",
    "bytes_acked", "bytes_received", "segs_out", "segs_in", "notsent_bytes", "min_rtt", "data_segs_in", "data_segs_out", "delivery_rate",
    "busy_time", "rwnd_limited", "sndbuf_limited", "delivered", "delivered_ce", "bytes_sent", "bytes_retrans", "dsack_dups", "reord_seen",
    "rcv_ooopack", "snd_wnd", "rcv_wnd",
  ].map((f) => `tcpi_${f}`);

  it("every numeric field maps to a struct tcp_info member and back", () => {
    const { h, conn } = open();
    const byName = linuxTcpInfo(info(h, conn));
    expect(Object.keys(byName).sort()).toEqual([...LINUX_FIELDS].sort());
    expect(byName["tcpi_snd_cwnd"]).toBe(10);
    expect(byName["tcpi_state"]).toBe(1);
    expect(linuxFieldName("rcvOoopack")).toBe("tcpi_rcv_ooopack");
  });
});

describe("two hosts in the simulator", () => {
  it("the client's view after a transfer over a 10 ms link: rtt near 20 ms, cwnd grown, every byte acked", () => {
    const p = pair({ tcp: {} });
    p.server.tcp.listen(80);
    const c = p.client.tcp.connect({ localAddr: p.client.address, remoteAddr: p.server.address, remotePort: 80 });
    p.net.runUntil(() => c.state === "ESTABLISHED");
    c.send(payload(100_000));
    p.net.runFor(2000);
    const i = tcpInfo(c, p.net.now);
    expect(i.options).toBe(TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
    expect(i.rtt).toBeGreaterThanOrEqual(20_000);
    expect(i.rtt).toBeLessThanOrEqual(30_000);
    expect(i.minRtt).toBe(20_000);
    expect(i.sndCwnd).toBeGreaterThan(10);
    expect(i).toMatchObject({ bytesAcked: 100_001, unacked: 0, notsentBytes: 0, totalRetrans: 0, sndMss: 1448, caState: TCP_CA_Open });
  });
});
