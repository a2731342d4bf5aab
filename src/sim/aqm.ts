/**
 * Active queue management for a simulated bottleneck: the simplest marking rule, a step
 * at a queue threshold (as DCTCP's routers mark above K packets, and as RED does with
 * both thresholds equal). A packet that arrives while more than `markAbove` packets wait
 * is CE-marked if it is ECN-capable and dropped if not (RFC 3168 section 5: a router sets
 * CE only where it would otherwise drop, and only in ECT packets). Below the threshold
 * packets pass untouched; past `queueLimit` the link still tail-drops everything.
 */
import { ipEcn, setIpEcn } from "../wire/ip-ecn.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";

export interface AqmConfig {
  /** Mark (or drop, when not ECT) packets arriving while more than this many packets wait for the bottleneck. */
  markAbove: number;
}

/** Rejects settings that could never act: a threshold needs a queue, and a queue needs a finite `rate`. */
export function checkAqm(aqm: AqmConfig | undefined, rate: number): AqmConfig | undefined {
  if (aqm === undefined) return undefined;
  if (typeof aqm !== "object" || aqm === null) throw new InvalidSettingError(`link aqm must be an object like { markAbove: 5 }, got ${showValue(aqm)}`);
  const k = aqm.markAbove;
  if (!(typeof k === "number" && Number.isInteger(k) && k >= 0)) throw new InvalidSettingError(`link aqm.markAbove must be an integer >= 0 packets, got ${showValue(k)}`);
  if (rate === Infinity) throw new InvalidSettingError("link aqm needs a finite rate: without a bottleneck no queue ever forms");
  return { markAbove: k };
}

/** What the AQM does to one packet arriving while `waiting` packets are queued. */
export type AqmVerdict = "pass" | "mark" | "drop";

/**
 * Decides for `packet` and, for "mark", rewrites its ECN field to CE in place (the caller
 * hands in a copy it owns). A packet already CE passes as it is.
 */
export function applyAqm(aqm: AqmConfig, waiting: number, packet: Uint8Array): AqmVerdict {
  if (waiting <= aqm.markAbove) return "pass";
  const codepoint = ipEcn(packet);
  if (codepoint === undefined || codepoint === 0) return "drop";
  if (codepoint === 3) return "pass";
  return "mark";
}

/** Sets CE in `packet` (an IPv4 or IPv6 packet the caller owns). */
export function markCe(packet: Uint8Array): void {
  setIpEcn(packet, 3);
}
