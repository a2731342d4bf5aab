/** A Receiver on its own, past the handshake, fed in-order data by hand (the ACK-policy tests). */
import { expect } from "vitest";
import { Receiver } from "../../src/tcp/receiver.js";
import { resolveConfig, type TcpConfig } from "../../src/tcp/config.js";
import type { Seq } from "../../src/wire/seq.js";

/** The RTO the tests pass with each segment, in ms. */
export const RTO = 1000;
/** Our MSS, and the full segment the peer sends. */
export const MSS = 1460;

/** A receiver whose SYN arrived at 0 and that reached ESTABLISHED then; `offered`: our SYN-ACK's window set rcv_ssthresh. */
export function receiverAfterHandshake(config: Partial<TcpConfig>, offered = false): Receiver {
  const r = new Receiver(resolveConfig(config), MSS);
  r.onSyn(0 as Seq);
  if (offered) r.offerUnscaled(r.rcvNxt);
  r.established(0);
  return r;
}

/** Delivers `n` in-order bytes at `now`; whether the ACK is due at once (then it is sent). */
export function deliver(r: Receiver, now: number, n: number): boolean {
  expect(r.insert(r.rcvNxt, new Uint8Array(n), MSS, now, RTO)).toBe("in-order");
  const due = r.ackNow;
  if (due) r.onAckSent(r.rcvNxt);
  return due;
}
