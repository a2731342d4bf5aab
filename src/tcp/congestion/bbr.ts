/**
 * BBR version 1 as Linux ships it under the name `bbr` (net/ipv4/tcp_bbr.c;
 * draft-cardwell-iccrg-bbr-congestion-control-00 describes this version). Why v1: it is
 * the `bbr` of every Linux kernel since 4.9; BBRv2 and BBRv3 live outside the upstream
 * kernel, so v1 is what a peer running Linux with tcp_congestion_control=bbr does.
 *
 * BBR is model-based: instead of reacting to loss it estimates the bottleneck bandwidth
 * (maximum delivery rate over 10 rounds) and the propagation delay (minimum RTT over 10 s),
 * paces at gain x bandwidth and caps what is in flight at gain x bandwidth x min RTT:
 *
 * - STARTUP: pacing gain 2/ln 2 (about 2.885) and cwnd gain 2 double the rate each round
 *   until three rounds in a row raise the bandwidth estimate by less than 25%.
 * - DRAIN: the inverse gain empties the queue STARTUP built, until in flight <= 1 BDP.
 * - PROBE_BW: one round each at gains 1.25 (probe for more), 0.75 (drain what probing
 *   queued), then six at 1; the cycle starts at a random phase other than 0.75.
 * - PROBE_RTT: when the min RTT is 10 s old, cwnd 4 segments for at least 200 ms and one
 *   round, so queues drain and the propagation delay can be measured again.
 *
 * Loss is not a congestion signal here; in recovery the window follows packet
 * conservation for a round, and is restored when recovery ends (Linux
 * bbr_set_cwnd_to_recover_or_restore).
 *
 * Two refinements Linux ships on by default are here too: the cwnd allowance for ACK
 * aggregation (extra_acked, bbr-ack-aggregation.ts) and the long-term bandwidth that
 * detects token-bucket policers (lt_bw, bbr-lt-bw.ts). Units: bytes, milliseconds, bytes
 * per millisecond.
 */
import type { Millis } from "../../env.js";
import { AckAggregation } from "./bbr-ack-aggregation.js";
import { MinRttFilter, WindowedMaxFilter } from "./bbr-filters.js";
import { LongTermBw, type LtSampleInput } from "./bbr-lt-bw.js";
import type { DeliveryRate, RateSample } from "./delivery-rate.js";
import type { CaState } from "./recovery.js";

export type BbrMode = "startup" | "drain" | "probe_bw" | "probe_rtt";

/** Linux bbr_high_gain: 2/ln(2), the smallest gain that doubles the sending rate each round. */
export const BBR_HIGH_GAIN = 2885 / 1000;
/** Linux bbr_drain_gain: the inverse, to drain the queue STARTUP made in one round. */
export const BBR_DRAIN_GAIN = 1000 / 2885;
/** Linux bbr_cwnd_gain: in PROBE_BW cwnd is twice the BDP, room for delayed and stretched ACKs. */
export const BBR_CWND_GAIN = 2;
/** Linux bbr_pacing_gain[]: probe, drain, cruise for six rounds. */
export const BBR_PACING_GAIN_CYCLE = [5 / 4, 3 / 4, 1, 1, 1, 1, 1, 1] as const;
/** Rounds the bandwidth filter spans (Linux bbr_bw_rtts = CYCLE_LEN + 2). */
export const BBR_BW_WINDOW_ROUNDS = 10;
/** Linux bbr_probe_rtt_mode_ms. */
export const BBR_PROBE_RTT_DURATION: Millis = 200;
/** Linux bbr_cwnd_min_target: the window in PROBE_RTT and the floor elsewhere, in segments. */
export const BBR_MIN_CWND_SEGMENTS = 4;
/** Linux bbr_full_bw_thresh / bbr_full_bw_cnt: growth under 25% for 3 rounds ends STARTUP. */
export const BBR_FULL_BW_THRESHOLD = 5 / 4;
export const BBR_FULL_BW_ROUNDS = 3;
/** Linux bbr_pacing_margin_percent: pace 1% below the estimate so queues do not build at the bottleneck. */
const PACING_MARGIN = 0.99;
/** Linux TCP_INIT_CWND, the window assumed before any RTT is known. */
const INIT_CWND_SEGMENTS = 10;

/** Linux's icsk_ca_state order: recovery and loss compare above open, disorder and CWR. */
const CA_ORDER: Record<CaState, number> = { open: 0, disorder: 1, cwr: 2, recovery: 3, loss: 4 };

/** What BBR needs from one ACK (Linux bbr_main's inputs). */
export interface BbrAck {
  now: Millis;
  sample: RateSample | undefined;
  /** Bytes in flight after the ACK (Linux tcp_packets_in_flight). */
  inflight: number;
  cwnd: number;
  mss: number;
  /** Bytes newly marked lost by this ACK (rs->losses). */
  losses: number;
  caState: CaState;
}

export class Bbr {
  mode: BbrMode = "startup";
  /** The pacing rate, bytes per ms (Linux sk_pacing_rate). */
  pacingRate = 0;
  pacingGain = BBR_HIGH_GAIN;
  cwndGain = BBR_HIGH_GAIN;
  readonly bw = new WindowedMaxFilter(BBR_BW_WINDOW_ROUNDS);
  readonly minRtt = new MinRttFilter();
  roundCount = 0;
  roundStart = false;
  fullBwReached = false;
  private fullBw = 0;
  private fullBwCount = 0;
  private nextRoundDelivered = 0;
  cycleIndex = 0;
  private cycleStamp: Millis = 0;
  private probeRttDoneAt: Millis = 0;
  private probeRttRoundDone = false;
  private packetConservation = false;
  private priorCwnd = 0;
  private prevCaState: CaState = "open";
  /** Sending restarted after idle: PROBE_RTT is not entered for a stale min RTT then. */
  private idleRestart = false;
  /** Cwnd headroom for ACKs that arrive in bursts (Linux extra_acked). */
  readonly aggregation = new AckAggregation();
  /** The policer detector and its long-term rate (Linux lt_bw). */
  readonly lt = new LongTermBw();
  /** Bytes marked lost over the connection's life (Linux tp->lost, counted in packets there). */
  private lost = 0;
  /** Why the mode or the PROBE_BW gain last changed, for the trace (taken by whoever reports it). */
  changed: string | undefined;

  /**
   * `random` gives the PROBE_BW starting phase (Linux prandom_u32_max); the sender passes
   * a value derived from its random ISS, so the core needs no random source of its own.
   */
  constructor(
    private readonly rate: DeliveryRate,
    private readonly random: () => number,
  ) {}

  /** The estimated bottleneck bandwidth, bytes per ms (Linux bbr_max_bw). */
  get maxBw(): number {
    return this.bw.max(this.roundCount);
  }

  /** The bandwidth BBR paces and sizes cwnd by (Linux bbr_bw): the policed rate while one is detected. */
  get bwEstimate(): number {
    return this.lt.useBw ? this.lt.bw : this.maxBw;
  }

  /**
   * Linux bbr_init, at the connection's first transmission: the min RTT window starts
   * now (min_rtt_stamp = tcp_jiffies32), and before any sample the pacing rate is high
   * gain x cwnd / RTT, 1 ms when no RTT is known yet (bbr_init_pacing_rate_from_rtt).
   * Without the stamp a clock that did not start at zero (a real stack's monotonic time)
   * made the first sample look 10 s stale and sent STARTUP straight into PROBE_RTT.
   */
  start(now: Millis, cwnd: number, srtt: Millis | undefined): void {
    this.minRtt.stamp = now;
    this.aggregation.start(now);
    this.lt.reset(this.ltInput(false, 0, false));
    const rtt = srtt !== undefined && srtt > 0 ? srtt : 1;
    this.pacingRate = (BBR_HIGH_GAIN * cwnd) / rtt;
  }

  /** The window a loss reduction would start from (Linux bbr_save_cwnd, called from bbr_ssthresh). */
  saveCwnd(cwnd: number): void {
    if (CA_ORDER[this.prevCaState] < CA_ORDER.recovery && this.mode !== "probe_rtt") this.priorCwnd = cwnd;
    else this.priorCwnd = Math.max(this.priorCwnd, cwnd);
  }

  /**
   * Sending starts with nothing in flight while application-limited (Linux bbr_cwnd_event
   * CA_EVENT_TX_START): in PROBE_BW pace at the estimate, not above it.
   */
  onRestartFromIdle(): void {
    this.idleRestart = true;
    if (this.mode === "probe_bw") this.setPacingRate(this.bwEstimate, 1);
  }

  /**
   * A retransmission timeout put the connection in the Loss state (Linux bbr_set_state
   * with TCP_CA_Loss): count it as a round with a loss for the policer detector, and let
   * the full-pipe check start over. `flight`: the bytes the timeout marked lost.
   */
  onEnterLoss(flight: number): void {
    this.prevCaState = "loss";
    this.fullBw = 0;
    this.roundStart = true;
    // tcp_enter_loss marked the flight lost before the state change (tp->lost grew by it).
    this.lost += flight;
    this.ltSample(this.ltInput(true, 1, false));
  }

  /** One ACK (Linux bbr_main): update the model, then the pacing rate and the window. Returns the new cwnd. */
  onAck(a: BbrAck): number {
    this.lost += a.losses;
    this.updateBw(a);
    this.updateAckAggregation(a);
    this.updateCyclePhase(a);
    this.checkFullBwReached(a.sample);
    this.checkDrain(a);
    this.updateMinRtt(a);
    this.updateGains();
    this.setPacingRate(this.bwEstimate, this.pacingGain);
    return this.setCwnd(a);
  }

  /** The BDP scaled by `gain`, in bytes rounded up to whole segments (Linux bbr_bdp). */
  bdp(bw: number, gain: number, mss: number): number {
    if (!Number.isFinite(this.minRtt.value)) return INIT_CWND_SEGMENTS * mss;
    return Math.ceil((bw * this.minRtt.value * gain) / mss) * mss;
  }

  private updateBw(a: BbrAck): void {
    this.roundStart = false;
    const rs = a.sample;
    if (rs === undefined || rs.delivered < 0 || rs.interval <= 0) return;
    // A round ends when a segment sent after the last round began is delivered.
    if (rs.priorDelivered >= this.nextRoundDelivered) {
      this.nextRoundDelivered = this.rate.delivered;
      this.roundCount++;
      this.roundStart = true;
      this.packetConservation = false;
    }
    this.ltSample(this.ltInput(this.roundStart, a.losses, rs.isAppLimited));
    // App-limited samples underestimate the path; they count only when they beat the max.
    if (!rs.isAppLimited || rs.deliveryRate >= this.maxBw) this.bw.update(this.roundCount, rs.deliveryRate);
  }

  private ltInput(roundStart: boolean, losses: number, isAppLimited: boolean): LtSampleInput {
    return {
      roundStart, probeBw: this.mode === "probe_bw", losses, isAppLimited,
      delivered: this.rate.delivered, lost: this.lost, deliveredAt: this.rate.deliveredAt,
    };
  }

  /** Linux bbr_lt_bw_sampling, with bbr_reset_probe_bw_mode when the policed rate expires. */
  private ltSample(i: LtSampleInput): void {
    const event = this.lt.sample(i);
    if (event === "engaged") {
      this.pacingGain = 1; // Linux sets it at once, to avoid drops on this very round
      this.changed = `policer suspected: two intervals lost over 20% at ${this.lt.bw.toFixed(1)} B/ms; pace at that rate for 48 rounds`;
    } else if (event === "expired") {
      this.enterProbeBw(i.deliveredAt, "48 rounds at the policed rate: probe for bandwidth again");
    }
  }

  /** Linux bbr_update_ack_aggregation, on valid samples that delivered data. */
  private updateAckAggregation(a: BbrAck): void {
    const rs = a.sample;
    if (rs === undefined || rs.newlyDelivered <= 0 || rs.delivered < 0 || rs.interval <= 0) return;
    this.aggregation.update(this.roundStart, this.rate.deliveredAt, rs.newlyDelivered, this.bwEstimate, a.cwnd, a.mss);
  }

  /** Linux bbr_is_next_cycle_phase + bbr_advance_cycle_phase. */
  private updateCyclePhase(a: BbrAck): void {
    if (this.mode !== "probe_bw") return;
    const fullLength = a.now - this.cycleStamp > this.minRtt.value;
    const gain = this.pacingGain;
    let next: boolean;
    if (gain === 1) next = fullLength;
    // Probing: at least a min RTT, and until loss or the extra data is in flight.
    else if (gain > 1) next = fullLength && (a.losses > 0 || a.inflight >= this.bdp(this.maxBw, gain, a.mss));
    // Draining: done after a min RTT or as soon as in flight is down to one BDP.
    else next = fullLength || a.inflight <= this.bdp(this.maxBw, 1, a.mss);
    if (!next) return;
    this.advanceCycle(a.now);
    const now = BBR_PACING_GAIN_CYCLE[this.cycleIndex]!;
    if (now !== gain) this.changed = `pacing gain ${now}: ${now > 1 ? "probe for more bandwidth" : now < 1 ? "drain what probing queued" : "cruise at the estimate"}`;
  }

  private advanceCycle(now: Millis): void {
    this.cycleIndex = (this.cycleIndex + 1) % BBR_PACING_GAIN_CYCLE.length;
    this.cycleStamp = now;
  }

  /** Linux bbr_check_full_bw_reached: STARTUP ends when the estimate stops growing by 25% a round. */
  private checkFullBwReached(rs: RateSample | undefined): void {
    if (this.fullBwReached || !this.roundStart || rs === undefined || rs.isAppLimited) return;
    const bw = this.maxBw;
    if (bw >= this.fullBw * BBR_FULL_BW_THRESHOLD) {
      this.fullBw = bw;
      this.fullBwCount = 0;
      return;
    }
    if (++this.fullBwCount >= BBR_FULL_BW_ROUNDS) this.fullBwReached = true;
  }

  private checkDrain(a: BbrAck): void {
    if (this.mode === "startup" && this.fullBwReached) {
      this.setMode("drain", `the bandwidth estimate grew less than 25% for ${BBR_FULL_BW_ROUNDS} rounds: the pipe is full, drain the queue`);
    }
    if (this.mode === "drain" && a.inflight <= this.bdp(this.maxBw, 1, a.mss)) {
      this.enterProbeBw(a.now, "in flight is down to one BDP: the queue is drained");
    }
  }

  private enterProbeBw(now: Millis, why: string): void {
    // Linux bbr_reset_probe_bw_mode: a random phase, never the 0.75 drain phase first.
    const r = Math.min(6, Math.floor(this.random() * 7));
    this.cycleIndex = BBR_PACING_GAIN_CYCLE.length - 1 - r;
    this.advanceCycle(now);
    this.setMode("probe_bw", why);
  }

  /** Linux bbr_update_min_rtt: the min RTT filter, and PROBE_RTT's entry and exit. */
  private updateMinRtt(a: BbrAck): void {
    const rs = a.sample;
    const expired = this.minRtt.update(a.now, rs?.rtt ?? -1);
    if (expired && !this.idleRestart && this.mode !== "probe_rtt" && Number.isFinite(this.minRtt.value)) {
      this.setMode("probe_rtt", `the minimum RTT estimate is over 10 s old: cwnd ${BBR_MIN_CWND_SEGMENTS} segments to measure it again`);
      this.saveCwnd(a.cwnd);
      this.probeRttDoneAt = 0;
    }
    if (this.mode === "probe_rtt") {
      // Ignore samples taken while the window is deliberately small (Linux sets app_limited).
      this.rate.appLimitedUntil = Math.max(this.rate.delivered + a.inflight, 1);
      if (this.probeRttDoneAt === 0 && a.inflight <= BBR_MIN_CWND_SEGMENTS * a.mss) {
        this.probeRttDoneAt = a.now + BBR_PROBE_RTT_DURATION;
        this.probeRttRoundDone = false;
        this.nextRoundDelivered = this.rate.delivered;
      } else if (this.probeRttDoneAt !== 0) {
        if (this.roundStart) this.probeRttRoundDone = true;
        if (this.probeRttRoundDone && a.now > this.probeRttDoneAt) this.exitProbeRtt(a);
      }
    }
    if (rs !== undefined && rs.newlyDelivered > 0) this.idleRestart = false;
  }

  /** Linux bbr_check_probe_rtt_done: the min RTT is fresh again; the window comes back. */
  private exitProbeRtt(a: BbrAck): void {
    this.minRtt.stamp = a.now;
    this.restoreCwnd = true;
    if (this.fullBwReached) this.enterProbeBw(a.now, `${BBR_PROBE_RTT_DURATION} ms and a round at the small window: min RTT ${this.minRtt.value.toFixed(1)} ms`);
    else this.setMode("startup", "PROBE_RTT done before the pipe was found full: back to STARTUP");
  }

  /** The window goes back to what it was before PROBE_RTT on the next window update. */
  private restoreCwnd = false;

  private updateGains(): void {
    switch (this.mode) {
      case "startup":
        this.pacingGain = BBR_HIGH_GAIN;
        this.cwndGain = BBR_HIGH_GAIN;
        break;
      case "drain":
        this.pacingGain = BBR_DRAIN_GAIN;
        this.cwndGain = BBR_HIGH_GAIN; // keep the window while draining
        break;
      case "probe_bw":
        // A policer was detected: send at its rate, no probing (Linux lt_use_bw).
        this.pacingGain = this.lt.useBw ? 1 : BBR_PACING_GAIN_CYCLE[this.cycleIndex]!;
        this.cwndGain = BBR_CWND_GAIN;
        break;
      case "probe_rtt":
        this.pacingGain = 1;
        this.cwndGain = 1;
        break;
    }
  }

  /** Linux bbr_set_pacing_rate: below the estimate by 1%; in STARTUP never lowered. */
  private setPacingRate(bw: number, gain: number): void {
    const rate = bw * gain * PACING_MARGIN;
    if (rate > 0 && (this.fullBwReached || rate > this.pacingRate)) this.pacingRate = rate;
  }

  /** Linux bbr_set_cwnd with bbr_set_cwnd_to_recover_or_restore and bbr_quantization_budget. */
  private setCwnd(a: BbrAck): number {
    const acked = a.sample?.newlyDelivered ?? 0;
    const floor = BBR_MIN_CWND_SEGMENTS * a.mss;
    let cwnd = a.cwnd;
    if (this.restoreCwnd) {
      cwnd = Math.max(cwnd, this.priorCwnd);
      this.restoreCwnd = false;
    }
    if (acked > 0) {
      if (a.losses > 0) cwnd = Math.max(cwnd - a.losses, a.mss);
      const prev = CA_ORDER[this.prevCaState];
      const state = CA_ORDER[a.caState];
      if (state === CA_ORDER.recovery && prev !== CA_ORDER.recovery) {
        // Recovery begins: packet conservation for one round (send one for each delivered).
        this.packetConservation = true;
        this.nextRoundDelivered = this.rate.delivered;
        cwnd = a.inflight + acked;
      } else if (prev >= CA_ORDER.recovery && state < CA_ORDER.recovery) {
        cwnd = Math.max(cwnd, this.priorCwnd);
        this.packetConservation = false;
      }
      this.prevCaState = a.caState;
      if (this.packetConservation) {
        cwnd = Math.max(cwnd, a.inflight + acked);
      } else {
        const bw = this.bwEstimate;
        // Linux bbr_set_cwnd: the BDP plus headroom for aggregated ACKs.
        let target = this.bdp(bw, this.cwndGain, a.mss) + this.aggregation.allowance(bw, this.fullBwReached);
        // Linux bbr_quantization_budget: room for 3 send quanta (one segment each here: synack
        // has no TSO), an even segment count, and 2 more while probing at gain 1.25.
        target += 3 * a.mss;
        target = Math.ceil(target / (2 * a.mss)) * 2 * a.mss;
        if (this.mode === "probe_bw" && this.cycleIndex === 0) target += 2 * a.mss;
        if (this.fullBwReached) cwnd = Math.min(cwnd + acked, target);
        else if (cwnd < target || this.rate.delivered < INIT_CWND_SEGMENTS * a.mss) cwnd += acked;
        cwnd = Math.max(cwnd, floor);
      }
    }
    if (this.mode === "probe_rtt") cwnd = Math.min(cwnd, floor);
    return cwnd;
  }

  private setMode(mode: BbrMode, why: string): void {
    this.mode = mode;
    this.changed = why;
  }
}
