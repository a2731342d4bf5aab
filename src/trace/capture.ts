/**
 * Packet captures: a writer turns packets into pcap or pcapng chunks, and taps feed it from
 * anything that moves packets (a Transmit function, an Endpoint, the simulator's packet
 * recorder). Chunks go to a caller-supplied sink, so the same code writes to a file in
 * Node, to a Blob in a browser, or to memory in a test.
 */
import type { Endpoint, Transmit } from "../endpoint.js";
import type { Millis } from "../env.js";
import { InvalidSettingError } from "../invalid-setting.js";
import { showValue } from "../show-value.js";
import type { PacketLogEntry } from "./packet-log.js";
import { DEFAULT_SNAPLEN, LINKTYPE_RAW, pcapHeader, pcapRecord } from "./pcap.js";
import { pcapngInterface, pcapngPacket, pcapngSectionHeader, type PacketDirection } from "./pcapng.js";

/** Receives encoded bytes in order; the concatenation of all chunks is the file. */
export type ChunkSink = (chunk: Uint8Array) => void;

/** Something that records raw IP packets. `iface` names where it was seen (a host, a link). */
export interface PacketCapture {
  packet(time: Millis, iface: string, packet: Uint8Array, direction: PacketDirection, comment?: string): void;
}

export type CaptureFormat = "pcap" | "pcapng";

export interface CaptureOptions {
  linkType?: number;
  snapLen?: number;
}

/** Classic pcap: one stream without interface names or comments (they are dropped). */
export class PcapWriter implements PacketCapture {
  private readonly snapLen: number;
  constructor(
    private readonly sink: ChunkSink,
    options: CaptureOptions = {},
  ) {
    checkWriterArguments("PcapWriter", sink, options);
    this.snapLen = options.snapLen ?? DEFAULT_SNAPLEN;
    sink(pcapHeader(options.linkType ?? LINKTYPE_RAW, this.snapLen));
  }
  packet(time: Millis, _iface: string, packet: Uint8Array): void {
    this.sink(pcapRecord(time, packet, this.snapLen));
  }
}

/** pcapng: one interface per distinct `iface` name (declared on first use), comments kept. */
export class PcapngWriter implements PacketCapture {
  private readonly interfaces = new Map<string, number>();
  private readonly linkType: number;
  private readonly snapLen: number;
  constructor(
    private readonly sink: ChunkSink,
    options: CaptureOptions & { application?: string } = {},
  ) {
    checkWriterArguments("PcapngWriter", sink, options);
    this.linkType = options.linkType ?? LINKTYPE_RAW;
    this.snapLen = options.snapLen ?? DEFAULT_SNAPLEN;
    sink(pcapngSectionHeader(options.application));
  }
  packet(time: Millis, iface: string, packet: Uint8Array, direction: PacketDirection, comment?: string): void {
    let id = this.interfaces.get(iface);
    if (id === undefined) {
      id = this.interfaces.size;
      this.interfaces.set(iface, id);
      this.sink(pcapngInterface(iface, this.linkType, this.snapLen));
    }
    const opts: { direction: PacketDirection; snapLen: number; comment?: string } = { direction, snapLen: this.snapLen };
    if (comment !== undefined) opts.comment = comment;
    this.sink(pcapngPacket(id, time, packet, opts));
  }
}

function checkWriterArguments(writer: string, sink: unknown, options: unknown): void {
  if (typeof sink !== "function") throw new InvalidSettingError(`new ${writer}(sink): sink must be a function that takes byte chunks (MemorySink's write), got ${showValue(sink)}`);
  if (typeof options !== "object" || options === null) throw new InvalidSettingError(`new ${writer}(sink, options): options must be an object, got ${showValue(options)}`);
}

export function createCapture(format: CaptureFormat, sink: ChunkSink, options: CaptureOptions = {}): PacketCapture {
  return format === "pcapng" ? new PcapngWriter(sink, options) : new PcapWriter(sink, options);
}

/** Collects chunks in memory; `bytes()` joins them into one file image. */
export class MemorySink {
  private readonly chunks: Uint8Array[] = [];
  readonly write: ChunkSink = (chunk) => {
    this.chunks.push(chunk);
  };
  bytes(): Uint8Array {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** Wraps a Transmit: every packet sent is captured (outbound on `iface`) before it leaves. */
export function tapTransmit(transmit: Transmit, capture: PacketCapture, now: () => Millis, iface: string): Transmit {
  return (packet, gso) => {
    capture.packet(now(), iface, packet, "outbound");
    transmit(packet, gso);
  };
}

/** Wraps an Endpoint: every packet it receives is captured (inbound on `iface`) first. */
export function tapEndpoint(endpoint: Endpoint, capture: PacketCapture, iface: string): Endpoint {
  return {
    receive(now, packet) {
      capture.packet(now, iface, packet, "inbound");
      endpoint.receive(now, packet);
    },
    poll: (now) => endpoint.poll(now),
    nextDeadline: () => endpoint.nextDeadline(),
  };
}

/** Which packets a simulator capture keeps: as sent (like tcpdump on the sender), as delivered, or both. */
export type CapturePoint = "send" | "deliver" | "both";

/**
 * A simulator packet recorder that captures. Sent packets go on the sender's interface,
 * delivered ones on the receiver's; the comment says who sent them to whom.
 */
export function captureRecorder(capture: PacketCapture, point: CapturePoint = "send"): (entry: PacketLogEntry) => void {
  return (e) => {
    if (point !== "both" && e.event !== point) return;
    const comment = `${e.from} -> ${e.to}${e.event === "deliver" ? " (delivered)" : ""}`;
    if (e.event === "send") capture.packet(e.time, e.from, e.bytes, "outbound", comment);
    else capture.packet(e.time, e.to, e.bytes, "inbound", comment);
  };
}
