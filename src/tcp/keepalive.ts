/**
 * SO_KEEPALIVE's per-connection state (RFC 1122 4.2.3.6; Linux TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT). Made by the first setKeepAlive: until then keep-alive is off and the
 * stack's settings apply, so a connection that never asks keeps no copy of them (40 B of
 * fields on every connection before; bench/heap.js).
 */
import type { Millis } from "../env.js";

export class KeepAlive {
  enabled = false;
  /** Probes sent and unanswered since the peer was last heard from. */
  probes = 0;

  constructor(
    /** Idle time before the first probe. */
    public idle: Millis,
    /** Time between unanswered probes. */
    public interval: Millis,
    /** Unanswered probes before the connection is dropped. */
    public count: number,
  ) {}
}
