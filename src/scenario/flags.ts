/** TCP flags written the way the narration prints them: "SYN,ACK", "PSH,ACK", "RST". */
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, type TcpSegment } from "../wire/tcp.js";
import type { MatchSpec } from "./model.js";

const BITS: Record<string, number> = { FIN, SYN, RST, PSH, ACK, URG, ECE, CWR };

/** "SYN,ACK" (any order, any case, "," "+" or space between) -> bits; undefined if a name is unknown. */
export function parseFlags(text: string): number | undefined {
  let bits = 0;
  for (const name of text.split(/[,+\s|]+/).filter((s) => s.length > 0)) {
    const b = BITS[name.toUpperCase()];
    if (b === undefined) return undefined;
    bits |= b;
  }
  return bits;
}

/** Does a segment satisfy every criterion of `m`? (Validated specs only.) */
export function segmentMatches(seg: TcpSegment, m: MatchSpec): boolean {
  if (m.flags !== undefined && seg.flags !== parseFlags(m.flags)) return false;
  if (m.hasFlags !== undefined) {
    const want = parseFlags(m.hasFlags) ?? 0;
    if ((seg.flags & want) !== want) return false;
  }
  if (m.lacksFlags !== undefined && (seg.flags & (parseFlags(m.lacksFlags) ?? 0)) !== 0) return false;
  if (m.data !== undefined && seg.payload.length > 0 !== m.data) return false;
  return true;
}

/** "SYN,ACK with data" style description of a match, for messages. */
export function describeMatch(m: MatchSpec): string {
  // "SYN,ACK" when the flags are exact; otherwise "segment with FIN", "segment carrying data".
  const parts: string[] = [m.flags ?? "segment"];
  if (m.hasFlags !== undefined) parts.push(`with ${m.hasFlags}`);
  if (m.lacksFlags !== undefined) parts.push(`without ${m.lacksFlags}`);
  if (m.data === true) parts.push("carrying data");
  if (m.data === false) parts.push("without data");
  return parts.join(" ");
}
