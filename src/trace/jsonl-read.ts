/**
 * Reads back what jsonl.ts writes: one JSON event (as `eventJson` makes it) into a
 * TraceEvent again, so a program that received the stream as text (the live view's page,
 * fed by `synack tun --web`) can hand the events to the same views and narration a
 * simulated run feeds.
 *
 * Untrusted input: anything that is not an event of a known type with the fields its
 * views read gives `undefined`, never a throw. A payload sent without its hex comes back
 * as zero bytes of the recorded length (the views use only its length).
 */
import { parseIpAddress, type IpAddress } from "../wire/address.js";
import type { Seq } from "../wire/seq.js";
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, type TcpOptions, type TcpSegment } from "../wire/tcp.js";
import type { FourTuple, TraceEvent, TraceEventType } from "./events.js";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
/** A whole number in [0, max]: a header field of that many bits. */
const field = (v: unknown, max: number): number | undefined => (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max ? v : undefined);

const FLAG_BITS: Record<string, number> = { SYN, FIN, RST, PSH, ACK, URG, ECE, CWR };

/**
 * The event types this reader accepts: every member of TraceEvent. A Record, so that a new
 * member of the union fails the typecheck here until it is added.
 */
const KNOWN: Record<TraceEventType, true> = {
  "segment-out": true, "segment-in": true, state: true, "timer-armed": true, "timer-fired": true, "timer-cancelled": true, drop: true, rtt: true, cwnd: true,
  bbr: true,
  loss: true,
  ecn: true,
  "fast-open": true, urgent: true, error: true, queue: true, cookie: true, link: true, app: true, "udp-out": true, "udp-in": true, "fragment-out": true, "icmp-out": true,
};
const isKnown = (t: string): t is TraceEventType => Object.prototype.hasOwnProperty.call(KNOWN, t);

export function tupleFromJson(v: unknown): FourTuple | undefined {
  if (!isObj(v)) return undefined;
  const localAddr = typeof v["localAddr"] === "string" ? parseIpAddress(v["localAddr"]) : undefined;
  const remoteAddr = typeof v["remoteAddr"] === "string" ? parseIpAddress(v["remoteAddr"]) : undefined;
  const localPort = num(v["localPort"]);
  const remotePort = num(v["remotePort"]);
  if (localAddr === undefined || remoteAddr === undefined || localPort === undefined || remotePort === undefined) return undefined;
  return { localAddr, localPort, remoteAddr, remotePort };
}

function flagsFromNames(v: unknown): number | undefined {
  if (typeof v !== "string") return undefined;
  let flags = 0;
  for (const name of v.split(",")) {
    if (name === "") continue;
    const bit = FLAG_BITS[name];
    if (bit === undefined) return undefined;
    flags |= bit;
  }
  return flags;
}

function bytesFromHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function optionsFromJson(v: unknown): TcpOptions | undefined {
  if (!isObj(v)) return undefined;
  const o: TcpOptions = {};
  const mss = field(v["mss"], 0xffff);
  if (mss !== undefined) o.mss = mss;
  const ws = field(v["windowScale"], 0xff);
  if (ws !== undefined) o.windowScale = ws;
  if (v["sackPermitted"] === true) o.sackPermitted = true;
  const ts = v["timestamp"];
  if (isObj(ts)) {
    const value = field(ts["value"], 0xffffffff);
    const echo = field(ts["echo"], 0xffffffff);
    if (value !== undefined && echo !== undefined) o.timestamp = { value, echo };
  }
  const sack = v["sackBlocks"];
  if (Array.isArray(sack)) {
    o.sackBlocks = [];
    for (const b of sack) {
      if (!Array.isArray(b) || field(b[0], 0xffffffff) === undefined || field(b[1], 0xffffffff) === undefined) return undefined;
      o.sackBlocks.push({ left: (b[0] as number) as Seq, right: (b[1] as number) as Seq });
    }
  }
  return o;
}

export function segmentFromJson(v: unknown): TcpSegment | undefined {
  if (!isObj(v)) return undefined;
  const flags = flagsFromNames(v["flags"]);
  const options = optionsFromJson(v["options"]);
  // Each within its header field (a TCP segment's payload within an IP datagram's), so that
  // no text can ask for an array of 2^32 bytes or of a fraction of one.
  const fields = (
    [
      ["srcPort", 0xffff],
      ["dstPort", 0xffff],
      ["seq", 0xffffffff],
      ["ack", 0xffffffff],
      ["window", 0xffff],
      ["urgentPointer", 0xffff],
      ["payloadLength", 0xffff],
    ] as const
  ).map(([k, max]) => field(v[k], max));
  if (flags === undefined || options === undefined || fields.some((f) => f === undefined)) return undefined;
  const [srcPort, dstPort, seq, ack, window, urgentPointer, length] = fields as number[];
  let payload: Uint8Array | undefined = new Uint8Array(length!);
  if (typeof v["payloadHex"] === "string") payload = bytesFromHex(v["payloadHex"]);
  if (payload === undefined || payload.length !== length) return undefined;
  return { srcPort: srcPort!, dstPort: dstPort!, seq: seq! as Seq, ack: ack! as Seq, flags, window: window!, urgentPointer: urgentPointer!, options, payload };
}

/** One event as eventJson wrote it (or its JSON text parsed), or undefined when it is not one. */
export function eventFromJson(v: unknown): TraceEvent | undefined {
  if (!isObj(v) || typeof v["type"] !== "string" || !isKnown(v["type"]) || num(v["time"]) === undefined) return undefined;
  const out: Obj = {};
  for (const [key, value] of Object.entries(v)) {
    if (key === "tuple") {
      const t = tupleFromJson(value);
      if (t === undefined) return undefined;
      out[key] = t;
    } else if (key === "segment") {
      const s = segmentFromJson(value);
      if (s === undefined) return undefined;
      out[key] = s;
    } else if (key === "src" || key === "dst") {
      const a: IpAddress | undefined = typeof value === "string" ? parseIpAddress(value) : undefined;
      if (a === undefined) return undefined;
      out[key] = a;
      // eventJson writes non-finite numbers (ssthresh before the first loss) as null.
    } else out[key] = value === null ? Infinity : value;
  }
  // Fields every tuple-carrying event needs before the views may read it.
  const needsTuple = !["drop", "queue", "link", "app", "fragment-out", "icmp-out"].includes(v["type"]);
  if (needsTuple && out["tuple"] === undefined) return undefined;
  if ((v["type"] === "segment-in" || v["type"] === "segment-out") && out["segment"] === undefined) return undefined;
  if (v["type"] !== "link" && typeof out["host"] !== "string") return undefined;
  return out as unknown as TraceEvent;
}
