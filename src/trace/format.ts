/**
 * Small text formatters shared by every view of the trace (narration, tables, JSON lines),
 * so a time or an address reads the same everywhere.
 */
import type { Millis } from "../env.js";
import type { IpAddress } from "../wire/address.js";
import type { FourTuple } from "./events.js";

/** Virtual time as seconds with millisecond precision: 0.010s, 127.000s. */
export function formatTime(ms: Millis): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

/** A duration for prose: 200ms, 1s, 2.5s, 2min, 2h. */
export function formatDuration(ms: Millis): string {
  if (ms === Infinity) return "never";
  if (ms < 1000) return `${round(ms)}ms`;
  if (ms < 120_000) return `${round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${round(ms / 60_000)}min`;
  return `${round(ms / 3_600_000)}h`;
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

/** 10.0.0.2:80, or [fd00::2]:80 for IPv6 (RFC 5952 section 6). */
export function formatEndpoint(addr: IpAddress, port: number): string {
  return addr.family === 6 ? `[${addr.toString()}]:${port}` : `${addr.toString()}:${port}`;
}

export function formatLocal(t: FourTuple): string {
  return formatEndpoint(t.localAddr, t.localPort);
}

export function formatRemote(t: FourTuple): string {
  return formatEndpoint(t.remoteAddr, t.remotePort);
}

/** "10.0.0.1:40000 > 10.0.0.2:80": the direction a segment travels, seen from its sender. */
export function directionKey(srcAddr: IpAddress, srcPort: number, dstAddr: IpAddress, dstPort: number): string {
  return `${formatEndpoint(srcAddr, srcPort)}>${formatEndpoint(dstAddr, dstPort)}`;
}

/** A connection's identity seen from `host`: used to group events of one connection. */
export function connectionKey(host: string, t: FourTuple): string {
  return `${host}|${directionKey(t.localAddr, t.localPort, t.remoteAddr, t.remotePort)}`;
}

/** Milliseconds to one decimal, for narration ("20.5"). */
export function formatMillis(ms: Millis): string {
  return (Math.round(ms * 10) / 10).toString();
}
