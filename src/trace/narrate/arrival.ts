/**
 * What an arriving segment means to its receiver, for --explain: a SYN (or the same SYN
 * again), data in order, out of order or duplicated, an ACK that advances, repeats or opens
 * the window. A StreamView rebuilt from the segments supplies what the engine does not say.
 */
import { flagNames, FIN, RST, SYN, type TcpSegment } from "../../wire/tcp.js";
import type { SeqNames } from "../seqnames.js";
import { ackName, seqName, type Direction, type WindowScales } from "./label.js";
import { StreamView } from "./stream.js";
import type { IpAddress } from "../../wire/address.js";

export class ArrivalExplainer {
  private readonly view = new StreamView();
  /** SYNs already seen arriving (direction and ISN), to recognise retransmissions. */
  private readonly synsSeen = new Set<string>();

  constructor(
    private readonly names: SeqNames,
    private readonly windows: WindowScales,
    private readonly nameOf: (address: IpAddress) => string,
  ) {}

  /** Records a segment as sent, so a later ACK can tell whether data is still missing. */
  sent(dir: Direction, seg: TcpSegment): void {
    this.view.sent(dir, seg);
  }

  /** What an arrival means; duplicates and reordering outrank the drop reason the engine gives. */
  explain(host: string, dir: Direction, seg: TcpSegment): { text: string; priority: number } {
    this.reordered = false;
    const text = this.text(host, dir, seg);
    return { text, priority: this.reordered ? 4.5 : 1 };
  }

  /** Set by text() when the data was out of order, filled a gap or was a duplicate. */
  private reordered = false;

  private text(host: string, dir: Direction, seg: TcpSegment): string {
    const peer = this.nameOf(dir.src);
    const data = this.view.data(dir, seg);
    const ack = this.view.ack(dir, seg, this.windows.bytes(dir, seg));
    if ((seg.flags & RST) !== 0) return `${host} got a RST from ${peer}.`;
    if ((seg.flags & SYN) !== 0) {
      const key = `${dir.src}:${dir.srcPort}>${dir.dst}:${dir.dstPort}:${seg.seq}`;
      const again = this.synsSeen.has(key);
      this.synsSeen.add(key);
      if (again) return `The same ${flagNames(seg.flags)} again (seq=${seqName(this.names, dir, seg)}): ${peer} is retrying because it heard nothing back (S8, S9).`;
      return `${host} got a ${flagNames(seg.flags)} from ${peer} (its initial sequence number is ${seqName(this.names, dir, seg)}).`;
    }
    if (seg.payload.length > 0) {
      const where = `${seg.payload.length} bytes at seq=${seqName(this.names, dir, seg)}`;
      this.reordered = data === "out-of-order" || data === "fills-gap" || data === "duplicate";
      switch (data) {
        case "out-of-order":
          return `${where} arrive before earlier bytes: ${host} holds them and sends a duplicate ACK for the gap (S18).`;
        case "fills-gap":
          return `${where} fill the gap: ${host} delivers them and the held bytes in order and ACKs all of it (S18).`;
        case "duplicate":
          return `${where} are already here: a duplicate. ${host} discards it and ACKs again; the stream never repeats a byte (S19).`;
        default:
          return `${host} got ${where} in order; the cumulative ACK will cover them (S14, S15).`;
      }
    }
    if ((seg.flags & FIN) !== 0) return `${host} got ${peer}'s FIN.`;
    const ackText = `ack=${ackName(this.names, dir, seg)}`;
    switch (ack) {
      case "advances":
        return seg.window === 0
          ? `${peer} acknowledges everything before ${ackText} but its window is 0: ${host} must stop sending (S17).`
          : `${host} learns ${peer} received everything before ${ackText} (cumulative ACK, S15).`;
      case "duplicate":
        return `A duplicate ACK (${ackText}): ${peer} is still missing the bytes at that point (S15, S18).`;
      case "window-update":
        return seg.window === 0 ? `${peer}'s window is still 0 (S17).` : `A window update: ${peer} has room again, ${host} may resume sending (S17).`;
      default:
        return `${host} got an ACK (${ackText}).`;
    }
  }
}
