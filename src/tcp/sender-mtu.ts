/**
 * The sender's side of path MTU probing (RFC 4821 as Linux's tcp_mtu_probing; the search
 * itself is mtu-probe.ts): sending a probe, and what its ACK, its loss or a run of
 * timeouts (a suspected black hole) do to the segment size and the window.
 */
import type { Millis } from "../env.js";
import { formatMillis } from "../trace/format.js";
import { seqAdd, seqDiff, seqLt, seqMin } from "../wire/seq.js";
import { MtuProber } from "./mtu-probe.js";
import type { Sender } from "./sender.js";

/** Sends an MTU probe if the search wants one and the conditions allow (Linux tcp_mtu_probe). */
export function sendMtuProbe(s: Sender, now: Millis): boolean {
  const prober = s.host.path.prober;
  if (!prober.enabled || seqLt(s.sndNxt, s.sndMax)) return false;
  const mss = s.sendMss;
  const size = prober.probeSize(now, {
    cwnd: s.congestion.cwnd,
    pipe: s.pipe(),
    mss,
    unsent: s.sendBuffer.length - seqDiff(s.sndNxt, s.sndBufSeq),
    windowLeft: s.sndWnd - seqDiff(s.sndNxt, s.sndUna),
    sndWnd: s.sndWnd,
    reordering: s.rack.reordering,
    calm: s.congestion.state === "open" && !s.host.sendingSacks,
  });
  if (size === 0) return false;
  // Linux tcp_can_coalesce_send_queue_head: no probe joins bytes across a MSG_EOR record
  // end (one may end exactly on it); segments of the usual size go instead.
  if (s.recordLeft(s.sndNxt) < size) return false;
  const start = s.sndNxt;
  s.sndNxt = seqAdd(start, s.emitData(now, start, size, false));
  prober.onProbeSent(now, start, s.sndNxt, size);
  s.traceLoss(now, "mtu-probe", `path MTU probe: ${size} bytes (MTU ${prober.probeMtu}; known to work: ${prober.searchLow}, not known to fail: ${prober.searchHigh})`);
  return true;
}

/** The ACK covers the probe: the path carries it (Linux tcp_mtup_probe_success). */
export function mtuProbeAcked(s: Sender, now: Millis): void {
  const prober = s.host.path.prober;
  const oldMtu = prober.mssToMtu(s.sendMss);
  const mtu = prober.succeeded(now);
  s.congestion.afterLargerSegments(oldMtu, mtu);
  s.resize(s.host.path.syncMss(s.config.minMss));
  s.traceLoss(now, "mtu-probe", `path MTU probe of ${mtu} bytes acknowledged: segments grow to ${s.sendMss} bytes`);
  s.traceCwnd(now, "larger segments after an MTU probe");
}

/**
 * The probe is what is missing (Linux tcp_fastretrans_alert: SND.UNA at the probe): it did
 * not fit the path. The search narrows, the window grows by one segment for the probe's
 * lost share, and the probe's bytes go again in normal segments (Linux
 * tcp_simple_retransmit); no congestion response, as size is not congestion.
 */
export function mtuProbeLost(s: Sender, now: Millis): boolean {
  const prober = s.host.path.prober;
  if (prober.probeMtu === 0 || s.sndUna !== prober.probeStart) return false;
  const mtu = prober.probeMtu;
  const end = prober.probeEnd;
  prober.failed(now);
  s.congestion.cwnd += s.sendMss;
  s.traceLoss(now, "mtu-probe", `path MTU probe of ${mtu} bytes lost: the path MTU is below it`);
  for (let from = s.sndUna; seqLt(from, end); ) {
    const stop = seqMin(end, seqAdd(from, s.sendMss));
    s.retransmitRange(now, from, stop);
    from = stop;
  }
  return true;
}

/**
 * Timeouts have gone on long enough to suspect a black hole (Linux tcp_mtu_probing with
 * tcp_mtu_probing >= 1): the MTU search starts, or its low end halves.
 */
export function suspectBlackHole(s: Sender, now: Millis): void {
  const stamp = s.firstRetransmittedAt;
  if (stamp === undefined || !MtuProber.blackHoleSuspected(now - stamp)) return;
  const prober = s.host.path.prober;
  if (!prober.onBlackHole(now)) return;
  const before = s.sendMss;
  s.resize(s.host.path.syncMss(s.config.minMss));
  if (s.sendMss !== before) s.traceLoss(now, "mtu-probe", `black hole suspected after ${formatMillis(now - stamp)} ms of timeouts: segments shrink to ${s.sendMss} bytes`);
}

/**
 * The path MTU shrank (RFC 1191, RFC 8201; Linux tcp_simple_retransmit): smaller segments
 * from here on, and what is in flight is sent again in the new size, from SND.UNA and
 * skipping what was SACKed. This is not congestion: the window keeps its segment count.
 */
export function mtuReduced(s: Sender, now: Millis, mss: number, why: string): void {
  s.resize(mss);
  if (s.sndUna !== s.sndMax) {
    s.log.clearLost();
    s.sndNxt = s.sndUna;
  }
  s.traceLoss(now, "mtu", why);
}
