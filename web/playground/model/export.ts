/**
 * Exports of a run: pcapng with the stack's reason as each packet's comment (Wireshark
 * shows it as pkt_comment / frame.comment), and the event stream as JSON lines.
 */
import { MemorySink, PcapngWriter } from "../../../src/trace/capture.js";
import { eventJsonLine } from "../../../src/trace/jsonl.js";
import { describeSend, type Session } from "./session.js";

export function pcapngOf(session: Session): Uint8Array {
  const sink = new MemorySink();
  const writer = new PcapngWriter(sink.write, { application: "synack web playground" });
  for (const p of session.packets) {
    // Segments to undrawn peers (a flood's spoofed addresses) have no record: described here.
    const seg = p.segment === undefined ? undefined : (session.segments[session.segmentAt.get(p.segment) ?? -1] ?? describeSend(session.events, p.segment));
    const comment = seg !== undefined ? `${p.from} -> ${p.to}: ${seg.reason}${seg.link.length > 0 ? ` [${seg.link.join(", ")}]` : ""}` : `${p.from} -> ${p.to}`;
    writer.packet(p.time, p.from, p.bytes, "outbound", comment);
  }
  return sink.bytes();
}

export function jsonLinesOf(session: Session): string {
  return session.events.map((e) => eventJsonLine(e)).join("\n") + "\n";
}
