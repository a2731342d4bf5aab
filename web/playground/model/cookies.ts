/**
 * SYN cookies on the wire, taken apart with the listener's own logic (src/tcp/syn-cookies.ts,
 * RFC 4987 3.6 in Linux's layout): the SYN,ACK a listener sent instead of queueing the SYN
 * carries a cookie as its ISN; the client's final ACK echoes it as ack - 1. For each, the
 * page shows the minute counter, the age, the MSS index and whether the hash check holds.
 */
import type { Millis } from "../../../src/env.js";
import type { CookieDecoding } from "../../../src/tcp/syn-cookies.js";
import type { FourTuple, TraceEvent } from "../../../src/trace/events.js";
import { seqAdd, type Seq } from "../../../src/wire/seq.js";
import { ACK, SYN, type TcpSegment } from "../../../src/wire/tcp.js";

/** What cookie finding reads of a segment record (session.ts SegmentRecord has it): no import of the session, which uses this module. */
export interface CookieSegment {
  id: number;
  /** Event indexes of the segment-out and of its arrival. */
  out: number;
  in?: number;
  from: string;
  to: string;
  time: Millis;
  arrive?: Millis;
  seg: TcpSegment;
}

export interface CookieView {
  /** "made": a SYN,ACK whose ISN is a cookie; "echoed": a final ACK that brings it back. */
  role: "made" | "echoed";
  /** The listener's verdict on an echoed cookie (its trace event); "sent" for a SYN,ACK. */
  action: "sent" | "accepted" | "rejected";
  cookie: number;
  clientIsn: number;
  decoding: CookieDecoding;
}

export type DecodeCookie = (host: string, now: Millis, tuple: FourTuple, cookie: Seq, clientIsn: Seq) => CookieDecoding | undefined;

/** Finds the cookie SYN,ACKs and the ACKs that echo a cookie, and decodes each with the listener's secret. */
export function findCookies(events: readonly TraceEvent[], segments: readonly CookieSegment[], decode: DecodeCookie): Map<number, CookieView> {
  const out = new Map<number, CookieView>();
  for (const r of segments) {
    const seg = r.seg;
    if ((seg.flags & (SYN | ACK)) === (SYN | ACK)) {
      // The listener emits "cookie sent" just before the stateless SYN,ACK.
      const prev = events[r.out - 1];
      if (prev?.type !== "cookie" || prev.action !== "sent" || prev.host !== r.from) continue;
      const clientIsn = seqAdd(seg.ack, -1);
      const d = decode(r.from, r.time, prev.tuple, seg.seq, clientIsn);
      if (d !== undefined) out.set(r.id, { role: "made", action: "sent", cookie: seg.seq >>> 0, clientIsn: clientIsn >>> 0, decoding: d });
    } else if ((seg.flags & (SYN | ACK)) === ACK && r.in !== undefined && r.arrive !== undefined) {
      // The listener's verdict follows the arrival at once, in the same instant.
      for (let j = r.in + 1; j < events.length && events[j]!.time === r.arrive; j++) {
        const c = events[j]!;
        if (c.type !== "cookie" || c.host !== r.to || c.action === "sent" || c.tuple.remotePort !== seg.srcPort) continue;
        const cookie = seqAdd(seg.ack, -1);
        const clientIsn = seqAdd(seg.seq, -1);
        const d = decode(r.to, r.arrive, c.tuple, cookie, clientIsn);
        if (d !== undefined) out.set(r.id, { role: "echoed", action: c.action, cookie: cookie >>> 0, clientIsn: clientIsn >>> 0, decoding: d });
        break;
      }
    }
  }
  return out;
}
