/**
 * ICMP and ICMPv6 errors about segments we sent (RFC 5927; RFC 1122 4.2.3.9; Linux
 * tcp_v4_err / tcp_v6_err): what a connection does with one once the layer has found it by
 * the quoted 4-tuple. Like input.ts, these functions act on the connection through its
 * internal members.
 */
import { mtuReduced } from "./sender-mtu.js";
import { IPV6_MIN_MTU } from "../wire/ipv6.js";
import type { Millis } from "../env.js";
import { seqGt, seqLt, type Seq } from "../wire/seq.js";
import type { Connection } from "./connection.js";
import type { TcpErrorCode } from "./errors.js";

/**
 * The quoted sequence number must be in flight, or the error is ignored (a blind attacker
 * would have to guess it). During connect it fails the connection at once; afterwards it is
 * a soft error, reported only if the retries run out (Linux sk_err_soft). `revertsBackoff`:
 * a net or host unreachable, which may take back RTO backoff (RFC 6069). Returns whether
 * the error was acted on.
 */
export function icmpError(c: Connection, now: Millis, seq: Seq, code: TcpErrorCode, why: string, revertsBackoff: boolean): boolean {
  if (seqLt(seq, c.sndUna) || seqGt(seq, c.sndMax)) return false;
  if (revertsBackoff && c.state !== "SYN_SENT" && c.state !== "SYN_RCVD") revertBackoff(c, now, seq);
  switch (c.state) {
    case "SYN_SENT":
      c.terminate(code, why);
      return true;
    case "SYN_RCVD":
      // A passive half-open entry is forgotten (Linux tcp_req_err); an active one fails,
      // and so does a Fast Open child, which the application may already hold (tcp_v4_err).
      c.terminate(c.passive && c.fastOpen?.child !== true ? undefined : code, why);
      return true;
    case "CLOSED":
    case "LISTEN":
    case "TIME_WAIT":
      return false;
    default:
      c.softError = code;
      return true;
  }
}

/**
 * A router could not forward a segment of ours whole ("fragmentation needed", RFC 1191;
 * "packet too big", RFC 8201; Linux tcp_v4_mtu_reduced / tcp_v6_mtu_reduced). The host
 * remembers the smaller path MTU for the destination (never below Linux's floor:
 * ip_rt_min_pmtu 552 for IPv4, the IPv6 minimum 1280; not at all on a route with a locked
 * MTU); if that is below what the connection sized its segments for, the MSS shrinks and
 * what is in flight is resent in the new size. Returns whether it acted.
 */
export function pathMtuReduced(c: Connection, now: Millis, seq: Seq, mtu: number, why: string): boolean {
  // Linux tcp_v6_err: a packet too big below IPv6's minimum MTU is ignored, not taken as
  // 1,280 (RFC 8201 4: no node goes below it; RFC 8021 retired the atomic fragments that
  // such a report once asked for).
  if (c.tuple.localAddr.family === 6 && mtu < IPV6_MIN_MTU) return false;
  if (c.state === "SYN_SENT") return synDataTooBig(c, now, seq, mtu);
  const synchronized = c.state !== "CLOSED" && c.state !== "LISTEN" && c.state !== "SYN_RCVD" && c.state !== "TIME_WAIT";
  if (seqLt(seq, c.sndUna) || seqGt(seq, c.sndMax) || !synchronized) return false;
  const path = c.path;
  const sizedFor = path.sizedFor;
  const pmtu = path.learn(mtu, now);
  if (pmtu >= sizedFor) return false;
  const mss = path.syncMss(c.config.minMss);
  if (mss >= c.sender.sendMss) return false;
  const shown = pmtu + (c.tuple.localAddr.family === 6 ? 20 : 0);
  mtuReduced(c.sender, now, mss, `${why}: path MTU ${shown}, MSS ${mss}`);
  c.ctx.touched(c, true);
  return true;
}

/**
 * RFC 6069 (Linux tcp_ld_RTO_revert): a net or host unreachable about the segment at SND.UNA
 * while the retransmission timer is backed off says the path is broken, not congested: one
 * doubling is taken back and the timer runs from that segment's last transmission, so the
 * connection resumes sooner once the path is back.
 */
function revertBackoff(c: Connection, now: Millis, seq: Seq): void {
  const s = c.sender;
  if (seq !== c.sndUna || s.retries === 0 || s.rtt.backoff === 0 || c.timers.rto === Infinity || s.log.size === 0) return;
  s.rtt.undoBackoff();
  const remaining = s.log.sentAt(0) + s.rtt.rto - now;
  c.armTimer(now, "rto", now + Math.max(remaining, 0));
}

/**
 * A Fast Open SYN with data did not fit the path (Linux tcp_v4_mtu_reduced in SYN-SENT, then
 * tcp_simple_retransmit, which since commit c31b70c9968f takes a SYN with data as lost): the
 * SYN goes again at once, plain (no data, no cookie: Linux's SYN retries never carry them)
 * and announcing the MSS of the narrower path; the data follows the handshake. A plain SYN
 * is never too big, so it is not resent.
 */
function synDataTooBig(c: Connection, now: Millis, seq: Seq, mtu: number): boolean {
  if (seq !== c.iss || c.fastOpen === undefined || c.fastOpen.synData === 0 || c.sndNxt === c.iss) return false;
  const before = c.path.mtu;
  if (c.path.learn(mtu, now) >= before) return false;
  c.sender.sndNxt = c.iss;
  c.ctx.touched(c, true);
  return true;
}
