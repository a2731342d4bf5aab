/**
 * The contract between a sans-IO network endpoint (a synack stack) and whatever drives it:
 * the simulator, a real-time Node driver, or a conformance runner.
 *
 * The driver owns time. It hands packets in with `receive`, fires timers with `poll`, and
 * asks `nextDeadline` when it must call `poll` again. The endpoint hands packets out through
 * the `Transmit` function given to it at construction, synchronously.
 */
import type { Millis } from "./env.js";

/** Sends one IP packet. The callee owns the buffer afterwards. */
export type Transmit = (packet: Uint8Array) => void;

export interface Endpoint {
  /**
   * One IP packet arrived at time `now`. `checksumValid`: the link (a NIC or TUN device
   * with checksum offload) vouches for this packet's TCP checksum, so it is not verified
   * in software (Linux CHECKSUM_UNNECESSARY / CHECKSUM_PARTIAL on receive).
   */
  receive(now: Millis, packet: Uint8Array, checksumValid?: boolean): void;
  /** Runs every timer due at or before `now`. */
  poll(now: Millis): void;
  /** The earliest time at which `poll` has work to do, or Infinity when there is none. */
  nextDeadline(): Millis;
}
