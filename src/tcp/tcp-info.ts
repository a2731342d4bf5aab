/**
 * TCP_INFO: Linux's `struct tcp_info` (include/uapi/linux/tcp.h), computed from a synack
 * connection's real state, for `socket.tcpInfo()`, `synack ss -i` and packetdrill's
 * `%{ assert tcpi_snd_cwnd == 10 }%` blocks.
 *
 * Read first: Linux net/ipv4/tcp.c tcp_get_info() (which field comes from which variable),
 * include/net/tcp.h (packets_out, sacked_out, lost_out, retrans_out are segment counts).
 *
 * Naming: each field is Linux's name without the `tcpi_` prefix, in camelCase
 * (`tcpi_snd_cwnd` -> `sndCwnd`, `tcpi_rcv_ooopack` -> `rcvOoopack`); `linuxTcpInfo()`
 * gives the same numbers under Linux's own names. Units are Linux's: times of the
 * connection (rto, ato, rtt, rttvar, minRtt, rcvRtt) in microseconds, the "last"
 * times in milliseconds, windows of the congestion controller in segments, sndWnd and
 * rcvWnd in bytes.
 *
 * Fields synack does not track are 0, as a Linux kernel without the feature reports them:
 * fackets, deliveryRate, deliveredCe; lastAckSent is 0 on Linux too (it never kept it).
 */
import type { Millis } from "../env.js";
import type { TcpState } from "../trace/events.js";
import { seqAdd, seqDiff, seqGe, seqLe, seqLt } from "../wire/seq.js";
import type { Connection } from "./connection.js";
import { SYNCHRONIZED } from "./states.js";

/** Linux's TCP states (include/net/tcp_states.h). */
export const TCP_STATES: Readonly<Record<TcpState, number>> = Object.freeze({
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RCVD: 3, // TCP_SYN_RECV
  FIN_WAIT_1: 4,
  FIN_WAIT_2: 5,
  TIME_WAIT: 6,
  CLOSED: 7, // TCP_CLOSE
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
});

/** Congestion-avoidance states (Linux enum tcp_ca_state). */
export const TCP_CA_Open = 0;
export const TCP_CA_Disorder = 1;
export const TCP_CA_CWR = 2;
export const TCP_CA_Recovery = 3;
export const TCP_CA_Loss = 4;

/** Bits of `options`. */
export const TCPI_OPT_TIMESTAMPS = 1;
export const TCPI_OPT_SACK = 2;
export const TCPI_OPT_WSCALE = 4;
export const TCPI_OPT_ECN = 8;
export const TCPI_OPT_ECN_SEEN = 16;
export const TCPI_OPT_SYN_DATA = 32;

/** What Linux reports as snd_ssthresh before the first loss (include/net/tcp.h). */
export const TCP_INFINITE_SSTHRESH = 0x7fffffff;
/** What Linux reports as min_rtt before the first RTT sample (~0U). */
export const NO_MIN_RTT = 0xffffffff;
/** RFC 6675 DupThresh: a hole with this many SACKed segments above it is lost. */
const DUP_THRESH = 3;
/** Bytes of IPv4 + TCP headers without options, and of the timestamp option. */
const HEADERS = 40;
const TIMESTAMP_BYTES = 12;
/** Linux TCP_MSS_DEFAULT and TCP_MIN_MSS: bounds of the first guess of the peer's MSS. */
const MSS_DEFAULT = 536;
const MIN_RCV_MSS = 88;

/** Linux `struct tcp_info`, field by field (see the module comment for names and units). */
export interface TcpInfo {
  /** Linux's number for the state (TCP_ESTABLISHED = 1 ... TCP_CLOSING = 11). */
  state: number;
  /** The same state as synack names it. Not in Linux's struct. */
  stateName: TcpState;
  /** TCP_CA_Open 0, Disorder 1, CWR 2, Recovery 3, Loss 4. */
  caState: number;
  /** Consecutive retransmission timeouts of the current segment (icsk_retransmits). */
  retransmits: number;
  /** Unanswered zero-window or keep-alive probes (icsk_probes_out). */
  probes: number;
  /** Exponential backoff of the retransmission timer: the RTO is doubled this many times. */
  backoff: number;
  /** TCPI_OPT_* bits: timestamps 1, SACK 2, window scaling 4, ECN 8 (agreed), ECN_SEEN 16 (ECT or CE arrived); SYN data never. */
  options: number;
  /** The peer's window-scale shift and ours (0 without window scaling). */
  sndWscale: number;
  rcvWscale: number;
  /** Retransmission timeout, backoff included (µs). */
  rto: number;
  /** Delayed-ACK timeout (µs); 0 before the connection is synchronized. */
  ato: number;
  /** Payload per segment we send (mss_cache: the peer's MSS less our per-segment options). */
  sndMss: number;
  /** The peer's MSS as we measure it: largest payload received (first guess min(advmss, sndMss, 536)). */
  rcvMss: number;
  /** Segments in flight, SYN and FIN included (packets_out). */
  unacked: number;
  /** Of those, segments the peer SACKed (sacked_out). */
  sacked: number;
  /** Of those, segments deemed lost (lost_out): all after a timeout, holes below DupThresh SACKed segments in recovery. */
  lost: number;
  /** Segments retransmitted and neither acknowledged nor SACKed since (retrans_out). */
  retrans: number;
  fackets: number;
  /** Milliseconds since data was last sent, an ACK last sent, data last received, an ACK last received. */
  lastDataSent: number;
  lastAckSent: number;
  lastDataRecv: number;
  lastAckRecv: number;
  /** Path MTU (the link's MTU: synack has no path-MTU discovery yet). */
  pmtu: number;
  /** Linux's receive-window clamp; synack offers its whole buffer at once, so the buffer size. */
  rcvSsthresh: number;
  /** Smoothed RTT and its variation (µs); rtt is 0 and rttvar 1/4 of the initial RTO before a sample, as Linux. */
  rtt: number;
  rttvar: number;
  /** Slow-start threshold in segments; TCP_INFINITE_SSTHRESH (0x7fffffff) until the first loss. */
  sndSsthresh: number;
  /** Congestion window in segments of sndMss. */
  sndCwnd: number;
  /** The MSS we announced, less per-segment options (what the peer's segments carry at most). */
  advmss: number;
  /** Duplicate ACKs that signal loss (3, fixed in synack). */
  reordering: number;
  rcvRtt: number;
  rcvSpace: number;
  /** Segments retransmitted over the connection's life, SYN and FIN included. */
  totalRetrans: number;
  /** Sequence space acknowledged by the peer (SYN and FIN count 1 each, as Linux counts). */
  bytesAcked: number;
  /** Sequence space received in order (the peer's FIN counts 1, its SYN does not, as Linux). */
  bytesReceived: number;
  /** Segments sent and received, of every kind. */
  segsOut: number;
  segsIn: number;
  /** Bytes queued by the application and not yet sent once. */
  notsentBytes: number;
  /** Smallest RTT sample (µs); 0xffffffff before the first, as Linux. */
  minRtt: number;
  /** Segments carrying data, received and sent (retransmissions included). */
  dataSegsIn: number;
  dataSegsOut: number;
  deliveryRate: number;
  /** Time (µs) the sender has been busy, and of that limited by the peer's window or the send buffer (chrono.ts). */
  busyTime: number;
  rwndLimited: number;
  sndbufLimited: number;
  /** Segments the peer acknowledged or SACKed, SYN included. */
  delivered: number;
  deliveredCe: number;
  /** Payload bytes sent (retransmissions included) and retransmitted. */
  bytesSent: number;
  bytesRetrans: number;
  dsackDups: number;
  reordSeen: number;
  /** Out-of-order segments received and queued. */
  rcvOoopack: number;
  /** The peer's window (bytes, scaled) and the window we last offered (bytes). */
  sndWnd: number;
  rcvWnd: number;
}


/**
 * TCP_INFO of `conn` at time `now` (ms, the driver's clock). Pure: reads the connection,
 * changes nothing, so it may be called at any moment, as often as wanted.
 */
export function tcpInfo(conn: Connection, now: Millis): TcpInfo {
  const i = conn.inspect();
  const st = conn.stats;
  const { config, mtu } = conn.settings;
  const neg = conn.negotiation;
  const cc = conn.congestion;
  const mss = conn.sendMss;
  const una = conn.sndUna;
  const chrono = conn.sender.chronoTotals(now);

  // The segments in flight, each classified as Linux tags its skbs.
  const sb = conn.sackScoreboard;
  const flight = st.inFlight(una);
  const isSacked = flight.map((s) => {
    const until = sb?.sackedUntil(s.start);
    return until !== undefined && seqGe(until, s.end);
  });
  const rack = neg.sack && conn.config.rack;
  const inLoss = st.lossUntil !== undefined && seqLt(una, st.lossUntil) && !conn.isClosed();
  let sacked = 0;
  let lost = 0;
  let retrans = 0;
  let sackedAbove = 0;
  for (let k = flight.length - 1; k >= 0; k--) {
    const s = flight[k]!;
    if (isSacked[k]) {
      sacked++;
      sackedAbove++;
      continue;
    }
    if (s.retrans) retrans++;
    if (inLoss ? seqLe(s.end, st.lossUntil!) : !rack && cc.inRecovery && (k === 0 || sackedAbove >= DUP_THRESH)) lost++;
  }
  // With RACK the sender marks lost segments itself (Linux lost_out counts them until
  // they are acknowledged, resent or not).
  if (rack && !inLoss) lost = conn.sender.log.markedLostSegments;

  let caState = TCP_CA_Open;
  if (inLoss) caState = TCP_CA_Loss;
  else if (cc.inRecovery) caState = TCP_CA_Recovery;
  else if (cc.state === "cwr") caState = TCP_CA_CWR;
  else if (cc.dupAcks > 0 || sacked > 0 || retrans > 0) caState = TCP_CA_Disorder;

  // TCP_MAXSEG (user_mss) clamps what we announce, as Linux's tcp_advertise_mss.
  const linkMss = conn.config.userMss > 0 ? Math.min(mtu - HEADERS, conn.config.userMss) : mtu - HEADERS;
  const advmss = linkMss - (neg.timestamps ? TIMESTAMP_BYTES : 0);
  const since = (t: Millis | undefined): number => Math.max(0, Math.floor(now - (t ?? st.createdAt ?? now)));
  const synchronized = SYNCHRONIZED.has(i.state);
  // SYN and FIN take sequence space that bytesAcked (payload only) leaves out: 0, 1 or 2.
  const controlAcked = una === conn.iss ? 0 : seqDiff(una, seqAdd(conn.iss, i.bytesAcked));
  const synInFlight = una === conn.iss && conn.sndMax !== conn.iss ? 1 : 0;
  const wscale = neg.windowScaling;

  return {
    state: TCP_STATES[i.state],
    stateName: i.state,
    caState,
    retransmits: conn.timers.persist !== Infinity ? 0 : i.retries,
    probes: conn.probesOut,
    backoff: conn.rtt.backoff,
    options: (neg.timestamps ? TCPI_OPT_TIMESTAMPS : 0) | (neg.sack ? TCPI_OPT_SACK : 0) | (wscale ? TCPI_OPT_WSCALE : 0) | (conn.ecn.ok ? TCPI_OPT_ECN : 0) | (conn.ecn.seen ? TCPI_OPT_ECN_SEEN : 0) | (conn.fastOpen?.synDataAcked === true ? TCPI_OPT_SYN_DATA : 0),
    sndWscale: wscale ? neg.sndShift : 0,
    rcvWscale: wscale ? neg.rcvShift : 0,
    rto: Math.round(i.rto * 1000),
    ato: synchronized ? Math.round(config.delayedAckTimeout * 1000) : 0,
    sndMss: mss,
    rcvMss: st.largestPayloadIn > 0 ? Math.min(st.largestPayloadIn, advmss) : Math.max(MIN_RCV_MSS, Math.min(advmss, mss, MSS_DEFAULT)),
    unacked: flight.length,
    sacked,
    lost,
    retrans,
    fackets: 0,
    lastDataSent: since(st.lastDataSentAt),
    lastAckSent: 0,
    lastDataRecv: since(st.lastDataRecvAt),
    lastAckRecv: since(st.lastAckRecvAt),
    pmtu: mtu,
    rcvSsthresh: Math.min(conn.receiver.window.ssthresh, conn.receiveBuffer.capacity), // Linux tcpi_rcv_ssthresh (receive-window.ts)
    rtt: i.srtt === undefined ? 0 : Math.round(i.srtt * 1000),
    rttvar: Math.round((i.srtt === undefined ? config.initialRto / 4 : conn.rtt.rttvar) * 1000),
    sndSsthresh: cc.ssthresh >= TCP_INFINITE_SSTHRESH ? TCP_INFINITE_SSTHRESH : Math.floor(cc.ssthresh / mss),
    sndCwnd: Math.max(1, Math.floor(cc.cwnd / mss)),
    advmss,
    reordering: conn.sender.rack.reordering,
    rcvRtt: Math.round((conn.receiver.spaceMeasured?.rtt ?? 0) * 1000),
    rcvSpace: conn.receiver.spaceMeasured?.bytesPerRound ?? 0,
    totalRetrans: st.totalRetrans,
    bytesAcked: i.bytesAcked + Math.max(0, controlAcked),
    bytesReceived: i.bytesReceived + (conn.peerFinished ? 1 : 0),
    segsOut: i.segmentsOut,
    // A passive connection's SYN was taken by its listener; Linux counts it (segs_in = 1 at birth).
    segsIn: i.segmentsIn + (conn.passive ? 1 : 0),
    notsentBytes: Math.max(0, i.sendQueued - (seqDiff(conn.sndMax, una) - synInFlight)),
    minRtt: conn.rtt.minRtt === Infinity ? NO_MIN_RTT : Math.round(conn.rtt.minRtt * 1000),
    dataSegsIn: st.dataSegsIn,
    dataSegsOut: st.dataSegsOut,
    deliveryRate: 0,
    busyTime: Math.round(chrono.busy * 1000),
    rwndLimited: Math.round(chrono.rwndLimited * 1000),
    sndbufLimited: Math.round(chrono.sndbufLimited * 1000),
    delivered: st.acked(una) + sacked,
    deliveredCe: 0,
    bytesSent: st.bytesSent,
    bytesRetrans: st.bytesRetrans,
    dsackDups: conn.sender.dsackDups,
    reordSeen: conn.sender.rack.reordSeen,
    rcvOoopack: st.rcvOoopack,
    sndWnd: i.sndWnd,
    rcvWnd: i.rcvWnd,
  };
}

/** `sndCwnd` -> `tcpi_snd_cwnd`. */
export function linuxFieldName(key: string): string {
  return "tcpi_" + key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** The same numbers under Linux's names (`tcpi_snd_cwnd`, ...), for packetdrill assertions. */
export function linuxTcpInfo(info: TcpInfo): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(info)) if (typeof v === "number") out[linuxFieldName(k)] = v;
  return out;
}

/**
 * The `ss -i` line for a connection: the fields iproute2 prints, in its order and
 * units (ms for rto/rtt, segments for cwnd), omitting what ss omits (ssthresh before a
 * loss, zero counters). `algorithm` is the congestion control's name.
 */
export function formatTcpInfo(info: TcpInfo, algorithm?: string): string {
  const p: string[] = [];
  const ms = (us: number): string => String(Math.round(us) / 1000);
  if ((info.options & TCPI_OPT_TIMESTAMPS) !== 0) p.push("ts");
  if ((info.options & TCPI_OPT_SACK) !== 0) p.push("sack");
  if ((info.options & TCPI_OPT_ECN) !== 0) p.push("ecn");
  if ((info.options & TCPI_OPT_ECN_SEEN) !== 0) p.push("ecnseen");
  if (algorithm !== undefined) p.push(algorithm);
  if ((info.options & TCPI_OPT_WSCALE) !== 0) p.push(`wscale:${info.sndWscale},${info.rcvWscale}`);
  p.push(`rto:${ms(info.rto)}`);
  if (info.backoff > 0) p.push(`backoff:${info.backoff}`);
  if (info.rtt > 0) p.push(`rtt:${ms(info.rtt)}/${ms(info.rttvar)}`);
  if (info.ato > 0) p.push(`ato:${ms(info.ato)}`);
  p.push(`mss:${info.sndMss}`, `pmtu:${info.pmtu}`, `rcvmss:${info.rcvMss}`, `advmss:${info.advmss}`, `cwnd:${info.sndCwnd}`);
  if (info.sndSsthresh < TCP_INFINITE_SSTHRESH) p.push(`ssthresh:${info.sndSsthresh}`);
  if (info.bytesSent > 0) p.push(`bytes_sent:${info.bytesSent}`);
  if (info.bytesRetrans > 0) p.push(`bytes_retrans:${info.bytesRetrans}`);
  if (info.bytesAcked > 0) p.push(`bytes_acked:${info.bytesAcked}`);
  if (info.bytesReceived > 0) p.push(`bytes_received:${info.bytesReceived}`);
  p.push(`segs_out:${info.segsOut}`, `segs_in:${info.segsIn}`);
  if (info.dataSegsOut > 0) p.push(`data_segs_out:${info.dataSegsOut}`);
  if (info.dataSegsIn > 0) p.push(`data_segs_in:${info.dataSegsIn}`);
  p.push(`lastsnd:${info.lastDataSent}`, `lastrcv:${info.lastDataRecv}`, `lastack:${info.lastAckRecv}`);
  if (info.delivered > 0) p.push(`delivered:${info.delivered}`);
  if (info.busyTime > 0) {
    const share = (us: number) => `${Math.floor(us / 1000)}ms(${((100 * us) / info.busyTime).toFixed(1)}%)`;
    p.push(`busy:${Math.floor(info.busyTime / 1000)}ms`);
    if (info.rwndLimited > 0) p.push(`rwnd_limited:${share(info.rwndLimited)}`);
    if (info.sndbufLimited > 0) p.push(`sndbuf_limited:${share(info.sndbufLimited)}`);
  }
  if (info.unacked > 0) p.push(`unacked:${info.unacked}`);
  if (info.retrans > 0 || info.totalRetrans > 0) p.push(`retrans:${info.retrans}/${info.totalRetrans}`);
  if (info.lost > 0) p.push(`lost:${info.lost}`);
  if (info.sacked > 0) p.push(`sacked:${info.sacked}`);
  if (info.rcvOoopack > 0) p.push(`rcv_ooopack:${info.rcvOoopack}`);
  if (info.notsentBytes > 0) p.push(`notsent:${info.notsentBytes}`);
  if (info.minRtt !== NO_MIN_RTT) p.push(`minrtt:${ms(info.minRtt)}`);
  p.push(`snd_wnd:${info.sndWnd}`, `rcv_wnd:${info.rcvWnd}`);
  return p.join(" ");
}
