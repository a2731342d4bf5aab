/**
 * The contract between a sans-IO network endpoint (a synack stack) and whatever drives it:
 * the simulator, a real-time Node driver, or a conformance runner.
 *
 * The driver owns time. It hands packets in with `receive`, fires timers with `poll`, and
 * asks `nextDeadline` when it must call `poll` again. The endpoint hands packets out through
 * the `Transmit` function given to it at construction, synchronously.
 */
import type { Millis } from "./env.js";

/**
 * A TCP packet handed to a link that segments it itself (TSO/GSO, as a Linux driver gets
 * an skb with gso_size set): the payload is `segments` segments of `size` bytes each, the
 * last possibly shorter, behind one IP and TCP header; the TCP checksum field holds the
 * pseudo-header sum, uncomplemented, for the link to finish per segment (Linux
 * CHECKSUM_PARTIAL, virtio-net VIRTIO_NET_HDR_F_NEEDS_CSUM). Only links that advertised
 * GSO (HostOptions.gsoMaxSize) are given such packets.
 */
export interface GsoInfo {
  size: number;
  segments: number;
}

/** Sends one IP packet (with `gso`, a TCP super-packet; see GsoInfo). The callee owns the buffer afterwards. */
export type Transmit = (packet: Uint8Array, gso?: GsoInfo) => void;

/**
 * `now` is the driver's clock in ms: never decreasing, from 0 up to MAX_CLOCK_MS (2^42 ms,
 * about 139 years; env.ts says why it ends there). A reading outside that range is refused
 * with an InvalidSettingError.
 */
export interface Endpoint {
  /**
   * One IP packet arrived at time `now`. `checksumValid`: the link (a NIC or TUN device
   * with checksum offload) vouches for this packet's TCP checksum, so it is not verified
   * in software (Linux CHECKSUM_UNNECESSARY / CHECKSUM_PARTIAL on receive). `gsoSize`: the
   * link's receive offload (GRO, a TUN device's virtio-net header) merged this TCP packet
   * from segments of this many payload bytes; TCP then measures the peer's segment size by
   * it, not by the merged length (Linux tcp_measure_rcv_mss reads skb_shinfo()->gso_size).
   */
  receive(now: Millis, packet: Uint8Array, checksumValid?: boolean, gsoSize?: number): void;
  /**
   * Optional receive batching (src/tcp/batch.ts): the packets passed to `receive` between
   * `beginBatch` and `endBatch` are processed one by one, but what they make the endpoint
   * send leaves in one transmission pass at `endBatch`. Without a batch every `receive`
   * ends with its own pass.
   */
  beginBatch?(): void;
  endBatch?(now: Millis): void;
  /** Runs every timer due at or before `now`. */
  poll(now: Millis): void;
  /** The earliest time at which `poll` has work to do, or Infinity when there is none. */
  nextDeadline(): Millis;
}
