/**
 * Arrow labels in the documents' notation: `SYN seq=x`, `SYN,ACK seq=y ack=x+1`, then the
 * payload length, the window in bytes (scaled, as Wireshark's "Win=" shows it) and the
 * handshake options.
 */
import type { IpAddress } from "../../wire/address.js";
import { ACK, RST, SYN, URG, flagNames, type TcpSegment } from "../../wire/tcp.js";
import type { SeqNames } from "../seqnames.js";

export interface Direction {
  src: IpAddress;
  srcPort: number;
  dst: IpAddress;
  dstPort: number;
}

/**
 * Remembers the window-scale option of each direction's SYN, so later window fields can
 * be shown in bytes. Scaling applies only when both SYNs carried the option (RFC 7323 2.2).
 */
export class WindowScales {
  private readonly shifts = new Map<string, number | null>();

  observe(d: Direction, seg: TcpSegment): void {
    if ((seg.flags & SYN) !== 0) this.shifts.set(key(d), seg.options.windowScale ?? null);
  }

  /** The window the receiver of `seg` may use, in bytes. */
  bytes(d: Direction, seg: TcpSegment): number {
    if ((seg.flags & SYN) !== 0) return seg.window;
    const mine = this.shifts.get(key(d));
    const theirs = this.shifts.get(key({ src: d.dst, srcPort: d.dstPort, dst: d.src, dstPort: d.srcPort }));
    if (mine === undefined || mine === null || theirs === undefined || theirs === null) return seg.window;
    return seg.window * 2 ** Math.min(mine, 14);
  }
}

function key(d: Direction): string {
  return `${d.src}:${d.srcPort}>${d.dst}:${d.dstPort}`;
}

export function seqName(names: SeqNames, d: Direction, seg: TcpSegment): string {
  return names.name(seg.seq, d.src, d.srcPort, d.dst, d.dstPort);
}

export function ackName(names: SeqNames, d: Direction, seg: TcpSegment): string {
  return names.name(seg.ack, d.dst, d.dstPort, d.src, d.srcPort);
}

export function segmentLabel(seg: TcpSegment, d: Direction, names: SeqNames, windows: WindowScales): string {
  const parts = [flagNames(seg.flags) || "(no flags)", `seq=${seqName(names, d, seg)}`];
  if ((seg.flags & ACK) !== 0) parts.push(`ack=${ackName(names, d, seg)}`);
  if (seg.payload.length > 0) parts.push(`len=${seg.payload.length}`);
  if ((seg.flags & URG) !== 0) parts.push(`urg=${seg.urgentPointer}`); // RFC 9293 3.8.5: one past the urgent byte
  if ((seg.flags & RST) === 0) parts.push(`win=${windows.bytes(d, seg)}`);
  if (seg.options.mss !== undefined) parts.push(`mss=${seg.options.mss}`);
  if (seg.options.windowScale !== undefined) parts.push(`ws=${seg.options.windowScale}`);
  // Timestamps ride on every segment once agreed; naming them on the SYNs says they were.
  if ((seg.flags & SYN) !== 0 && seg.options.sackPermitted) parts.push("sackOK");
  if ((seg.flags & SYN) !== 0 && seg.options.timestamp !== undefined) parts.push("TS");
  // TCP Fast Open (RFC 7413): an empty option asks for a cookie; "exp" marks kind 254.
  const fo = seg.options.fastOpen;
  if (fo !== undefined) parts.push(fo.cookie.length === 0 ? `FO${fo.exp ? "exp" : ""}-request` : `FO${fo.exp ? "exp" : ""}=${[...fo.cookie].map((b) => b.toString(16).padStart(2, "0")).join("")}`);
  for (const b of seg.options.sackBlocks ?? []) {
    const rev = { src: d.dst, srcPort: d.dstPort, dst: d.src, dstPort: d.srcPort };
    parts.push(`sack=${names.name(b.left, rev.src, rev.srcPort, rev.dst, rev.dstPort)}..${names.name(b.right, rev.src, rev.srcPort, rev.dst, rev.dstPort)}`);
  }
  return parts.join(" ");
}
