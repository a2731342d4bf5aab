/**
 * The event stream as JSON lines (`--json`): one object per event, with segments as plain
 * objects (flag names, numbers, options) and payloads as a length plus, on request, hex.
 * Addresses are dotted strings so the output reads without a decoder.
 */
import { IpAddress } from "../wire/address.js";
import { flagNames, type TcpSegment } from "../wire/tcp.js";
import type { FourTuple, TraceEvent } from "./events.js";

export interface JsonOptions {
  /** Include payload bytes as hex (default false: only their length). */
  payloadHex?: boolean;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export function tupleJson(t: FourTuple): { [key: string]: JsonValue } {
  return { localAddr: t.localAddr.toString(), localPort: t.localPort, remoteAddr: t.remoteAddr.toString(), remotePort: t.remotePort };
}

export function segmentJson(s: TcpSegment, opts: JsonOptions = {}): { [key: string]: JsonValue } {
  const options: { [key: string]: JsonValue } = {};
  if (s.options.mss !== undefined) options["mss"] = s.options.mss;
  if (s.options.windowScale !== undefined) options["windowScale"] = s.options.windowScale;
  if (s.options.sackPermitted) options["sackPermitted"] = true;
  if (s.options.timestamp !== undefined) options["timestamp"] = { value: s.options.timestamp.value, echo: s.options.timestamp.echo };
  if (s.options.sackBlocks !== undefined) options["sackBlocks"] = s.options.sackBlocks.map((b) => [b.left >>> 0, b.right >>> 0]);
  if (s.options.fastOpen !== undefined) options["fastOpen"] = { cookie: [...s.options.fastOpen.cookie].map((b) => b.toString(16).padStart(2, "0")).join(""), exp: s.options.fastOpen.exp };
  const out: { [key: string]: JsonValue } = {
    srcPort: s.srcPort,
    dstPort: s.dstPort,
    seq: s.seq >>> 0,
    ack: s.ack >>> 0,
    flags: flagNames(s.flags),
    window: s.window,
    urgentPointer: s.urgentPointer,
    options,
    payloadLength: s.payload.length,
  };
  if (opts.payloadHex) out["payloadHex"] = hex(s.payload);
  return out;
}

/** A JSON-safe copy of an event: tuples and segments expanded, non-finite numbers as null. */
export function eventJson(e: TraceEvent, opts: JsonOptions = {}): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(e) as Array<[string, unknown]>) {
    if (value === undefined) continue;
    if (key === "tuple") out[key] = tupleJson(value as FourTuple);
    // Addresses of fragment-out and icmp-out events, dotted like the tuples'.
    else if ((key === "src" || key === "dst") && value instanceof IpAddress) out[key] = value.toString();
    else if (key === "segment") out[key] = segmentJson(value as TcpSegment, opts);
    else if (typeof value === "number") out[key] = Number.isFinite(value) ? value : null;
    else if (typeof value === "string" || typeof value === "boolean") out[key] = value;
  }
  return out;
}

export function eventJsonLine(e: TraceEvent, opts: JsonOptions = {}): string {
  return JSON.stringify(eventJson(e, opts));
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
