/**
 * BBR (congestion/bbr.ts) and pacing (pacing.ts) wired into the sender. Linux runs BBR
 * through the `cong_control` hook, which replaces both PRR and cwnd growth
 * (tcp_cong_control): on every ACK the delivery-rate sample (congestion/delivery-rate.ts)
 * goes to BBR, which sets cwnd and the pacing rate. Reno and CUBIC leave the pacer off,
 * as Linux does without the fq qdisc, unless TcpConfig.pacing asks for fq's behaviour. A companion of sender.ts, acting on its members.
 */
import type { Millis } from "../env.js";
import type { TcpConfig } from "./config.js";
import type { WindowAlgorithm } from "./congestion/algorithm.js";
import { Reno } from "./congestion/algorithm.js";
import { Bbr } from "./congestion/bbr.js";
import { FRESH_CUBIC } from "./congestion/cubic.js";
import { DeliveryRate } from "./congestion/delivery-rate.js";
import { windowPacingRate } from "./pacing.js";
import { seqDiff, type Seq } from "../wire/seq.js";
import type { Sender } from "./sender.js";

/** BBR's model and the delivery-rate estimator feeding it. */
export interface BbrModel {
  readonly bbr: Bbr;
  readonly rate: DeliveryRate;
}

/**
 * BBR as a WindowAlgorithm for the shared loss-recovery controller: it never grows the
 * window there and its "ssthresh" is infinite (Linux bbr_ssthresh returns
 * TCP_INFINITE_SSTHRESH after saving cwnd), so recovery does not cut the window; BBR's
 * own packet conservation and restore apply instead.
 */
export class BbrWindow implements WindowAlgorithm {
  readonly name = "bbr";
  constructor(private readonly bbr: Bbr) {}
  grow(_now: Millis, cwnd: number): number {
    return cwnd;
  }
  reduce(_now: Millis, cwnd: number): number {
    this.bbr.saveCwnd(cwnd);
    return Number.MAX_SAFE_INTEGER;
  }
  enterLoss(flight: number): void {
    this.bbr.onEnterLoss(flight);
  }
}

/** The window algorithm the settings ask for, with BBR's model when it is BBR. */
export function windowAlgorithm(config: TcpConfig, iss: Seq): { algorithm: WindowAlgorithm; model: BbrModel | undefined } {
  if (config.congestionControl === "reno") return { algorithm: new Reno(), model: undefined };
  if (config.congestionControl === "cubic") return { algorithm: FRESH_CUBIC, model: undefined }; // its own once it acts (recovery.ts)
  const rate = new DeliveryRate();
  // The PROBE_BW starting phase needs one random draw per entry: a xorshift seeded from the
  // (random) ISS, since the core has no random source of its own.
  let x = (iss >>> 0) | 1;
  const random = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const bbr = new Bbr(rate, random);
  return { algorithm: new BbrWindow(bbr), model: { bbr, rate } };
}

/** A segment [.., end) of `used` sequence space left; `idle` = nothing was in flight. */
export function bbrOnSend(s: Sender, model: BbrModel, now: Millis, end: Seq, used: number, idle: boolean): void {
  if (model.bbr.pacingRate === 0) {
    model.bbr.start(now, s.congestion.cwnd, s.rtt.srtt);
    s.pacer.rate = model.bbr.pacingRate;
  }
  if (idle && model.rate.appLimitedUntil !== 0) {
    model.bbr.onRestartFromIdle();
    s.pacer.rate = model.bbr.pacingRate;
  }
  model.rate.onSend(now, end, idle);
  s.pacer.onSent(now, used, s.sendMss, s.host.timerSlack);
}

/** The end of an ACK's processing: rate sample to BBR, which sets cwnd and the pacing rate. */
export function bbrOnAck(s: Sender, model: BbrModel, now: Millis, losses: number): void {
  const minRtt = Number.isFinite(s.rtt.minRtt) ? s.rtt.minRtt : 0;
  const sample = model.rate.finishAck(now, minRtt, s.sndUna);
  const bbr = model.bbr;
  const before = s.congestion.cwnd;
  const cwnd = bbr.onAck({ now, sample, inflight: s.pipe(), cwnd: before, mss: s.sendMss, losses, caState: s.congestion.state });
  s.congestion.cwnd = cwnd;
  s.pacer.rate = bbr.pacingRate;
  const trace = s.host.trace;
  if (bbr.changed !== undefined) {
    if (trace.enabled) {
      trace.emit({
        type: "bbr", time: now, host: s.host.hostName, tuple: s.host.tuple, mode: bbr.mode, bw: bbr.maxBw,
        minRtt: Number.isFinite(bbr.minRtt.value) ? bbr.minRtt.value : 0, pacingRate: bbr.pacingRate, cwnd, detail: bbr.changed,
      });
    }
    bbr.changed = undefined;
  }
}

/** After a transmission pass: the application, not the network, may be what limits the rate. */
export function bbrAfterTransmit(s: Sender, model: BbrModel): void {
  const unsent = s.sendBuffer.length - seqDiff(s.sndNxt, s.sndBufSeq);
  model.rate.checkAppLimited(unsent, s.sendMss, s.pipe(), s.congestion.cwnd, s.log.lostBytes);
}

/**
 * Reno or CUBIC with TcpConfig.pacing: a segment of `used` sequence space left at `now`, paced
 * at the window's rate (Linux tcp_update_pacing_rate, which fq enforces). No rate before the
 * first RTT sample, as Linux's (it divides by srtt only once there is one).
 */
export function windowPacingOnSend(s: Sender, now: Millis, used: number): void {
  const srtt = s.rtt.srtt;
  if (srtt === undefined) return;
  const c = s.congestion;
  s.pacer.rate = windowPacingRate(c.cwnd, c.ssthresh, s.flightSize(), srtt);
  s.pacer.onSent(now, used, s.sendMss, s.host.timerSlack);
}

/** Whether pacing holds the next segment; if so the connection's pacing deadline is set to its release time, less the driver's timer granularity. */
export function pacingHolds(s: Sender, now: Millis): boolean {
  // Only a rate makes a pacer hold anything (pacing.ts ready), and a rate is set in the pacer
  // it makes (windowPacingOnSend, BBR): without one, a connection that is not paced makes none.
  const pacer = s.pacerPart;
  const early = s.host.timerGranularity;
  if (pacer === undefined || pacer.ready(now, s.sendMss, early)) return false;
  const at = pacer.nextAt - early; // when ready() will say yes (pacing.ts)
  if (s.host.timers.pacing !== at) s.host.armTimer(now, "pacing", at);
  return true;
}
