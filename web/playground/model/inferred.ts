/**
 * A capture made elsewhere, drawn as a ladder "inferred" from the packets alone: no engine
 * ran, so there is no TCB, no state, no timers and no reasons, only what the wire shows.
 * Each TCP conversation (Wireshark's tcp.stream) can be drawn; packets are labelled in the
 * documents' notation (ISNs named x and y) and carry Wireshark's tcp.analysis flags.
 * Runtime-neutral: the page and Node tests build the same model.
 */
import type { Millis } from "../../../src/env.js";
import { analyseCapture, type AnalysisFlag } from "../../../src/trace/analysis.js";
import { readCapture } from "../../../src/trace/capture-read.js";
import { segmentLabel, WindowScales, type Direction } from "../../../src/trace/narrate/label.js";
import { SeqNames } from "../../../src/trace/seqnames.js";
import { IpAddress } from "../../../src/wire/address.js";
import { formatIpv4Address, parseIpv4, PROTO_TCP } from "../../../src/wire/ipv4.js";
import { SYN, parseTcp, type TcpSegment } from "../../../src/wire/tcp.js";
import { summaryOf } from "./verdict.js";

export interface InferredPacket {
  /** Frame number in the file's IPv4 frames, from 1 (as Wireshark counts when nothing is skipped). */
  frame: number;
  time: Millis;
  /** Column of the sender and of the receiver (0 or 1). */
  from: number;
  to: number;
  seg: TcpSegment;
  label: string;
  flags: AnalysisFlag[];
  summary: string;
  bytes: Uint8Array;
  comment?: string;
}

export interface InferredStream {
  id: number;
  /** "10.0.0.1:46274" for each end: the one that sent the first packet (usually the SYN) first. */
  ends: [string, string];
  packets: InferredPacket[];
}

export interface InferredCapture {
  name: string;
  format: "pcap" | "pcapng";
  streams: InferredStream[];
  /** IPv4 frames that are not TCP (UDP, ICMP, fragments), and frames that are not IPv4. */
  otherFrames: number;
  notIpv4: number;
}

const endOf = (addr: number, port: number): string => `${formatIpv4Address(addr)}:${port}`;

/** Reads a pcap or pcapng file and groups its TCP packets into conversations (throws CaptureFormatError). */
export function inferCapture(file: Uint8Array, name: string): InferredCapture {
  const cap = readCapture(file);
  const analysis = analyseCapture(cap.frames);
  const streams = new Map<number, InferredStream & { names: SeqNames; windows: WindowScales }>();
  let otherFrames = 0;
  cap.frames.forEach((f, i) => {
    const a = analysis[i]!;
    const ip = parseIpv4(f.bytes, { verifyChecksum: false });
    const tcp = ip.ok && ip.value.header.protocol === PROTO_TCP && a.stream !== undefined ? parseTcp(ip.value.payload, null) : undefined;
    if (!ip.ok || tcp === undefined || !tcp.ok || a.stream === undefined) {
      otherFrames++;
      return;
    }
    const seg = tcp.value;
    const h = ip.value.header;
    const src = endOf(h.src, seg.srcPort);
    let st = streams.get(a.stream);
    if (st === undefined) {
      const ends: [string, string] = [src, endOf(h.dst, seg.dstPort)];
      st = { id: a.stream, ends, packets: [], names: new SeqNames("relative", ends), windows: new WindowScales() };
      streams.set(a.stream, st);
    }
    const from = st.ends[0] === src ? 0 : 1;
    const d: Direction = { src: IpAddress.v4(h.src), srcPort: seg.srcPort, dst: IpAddress.v4(h.dst), dstPort: seg.dstPort };
    if ((seg.flags & SYN) !== 0) st.names.addIsn(src, d.src, seg.srcPort, d.dst, seg.dstPort, seg.seq);
    st.windows.observe(d, seg);
    const p: InferredPacket = { frame: i + 1, time: f.time, from, to: 1 - from, seg, label: segmentLabel(seg, d, st.names, st.windows), flags: a.flags, summary: summaryOf(a.flags, a.dupAckNum), bytes: f.bytes };
    if (f.comment !== undefined) p.comment = f.comment;
    st.packets.push(p);
  });
  return { name, format: cap.format, streams: [...streams.values()].map(({ id, ends, packets }) => ({ id, ends, packets })), otherFrames, notIpv4: cap.skipped };
}

/** The stream to show first: the one with the most packets (the first of those). */
export function mainStream(c: InferredCapture): InferredStream | undefined {
  let best: InferredStream | undefined;
  for (const s of c.streams) if (best === undefined || s.packets.length > best.packets.length) best = s;
  return best;
}
