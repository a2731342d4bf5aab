/**
 * Reading capture files made elsewhere (tcpdump, Wireshark, `synack demo --pcap`): classic
 * pcap in either byte order with microsecond or nanosecond timestamps, and pcapng (section
 * header, interface description with if_tsresol, enhanced and simple packet blocks, either
 * byte order). Each frame's link-layer header is taken off, so what comes out is the IPv4
 * packets, with their time in milliseconds since the first packet. Runtime-neutral.
 *
 * Formats: https://www.tcpdump.org/manpages/pcap-savefile.5.txt and the pcapng draft
 * (draft-ietf-opsawg-pcapng). Link types: https://www.tcpdump.org/linktypes.html.
 */
import type { Millis } from "../env.js";
import { LINKTYPE_IPV4, LINKTYPE_RAW } from "./pcap.js";

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;

export interface ReadFrame {
  /** Milliseconds since the first frame of the file. */
  time: Millis;
  /** The IPv4 packet, link-layer header removed. */
  bytes: Uint8Array;
  comment?: string;
}

export interface ReadCapture {
  format: "pcap" | "pcapng";
  frames: ReadFrame[];
  /** Frames that are not IPv4 (ARP, IPv6, unknown link types ...), left out. */
  skipped: number;
}

export class CaptureFormatError extends Error {
  override readonly name = "CaptureFormatError";
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_VLAN = 0x8100;

/** The IPv4 packet inside a frame of this link type, or undefined. */
export function ipv4OfFrame(linkType: number, frame: Uint8Array): Uint8Array | undefined {
  let ip: Uint8Array | undefined;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (linkType === LINKTYPE_RAW || linkType === LINKTYPE_IPV4) ip = frame;
  else if (linkType === LINKTYPE_ETHERNET && frame.length >= 14) {
    let at = 12;
    while (at + 2 <= frame.length && v.getUint16(at) === ETHERTYPE_VLAN) at += 4;
    if (at + 2 <= frame.length && v.getUint16(at) === ETHERTYPE_IPV4) ip = frame.subarray(at + 2);
  } else if (linkType === LINKTYPE_LINUX_SLL && frame.length >= 16 && v.getUint16(14) === ETHERTYPE_IPV4) ip = frame.subarray(16);
  else if ((linkType === LINKTYPE_NULL || linkType === LINKTYPE_LOOP) && frame.length >= 4) {
    // The address family, in the capturing host's byte order (NULL) or network order (LOOP); AF_INET is 2.
    if (v.getUint32(0, true) === 2 || v.getUint32(0, false) === 2) ip = frame.subarray(4);
  }
  return ip !== undefined && ip.length >= 20 && ip[0]! >> 4 === 4 ? ip : undefined;
}

/** Reads a pcap or pcapng file; throws CaptureFormatError for anything else or a damaged file. */
export function readCapture(file: Uint8Array): ReadCapture {
  if (file.length < 24) throw new CaptureFormatError("too short to be a capture file");
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (v.getUint32(0, true) === 0x0a0d0d0a) return readPcapng(file, v);
  return readPcap(file, v);
}

function readPcap(file: Uint8Array, v: DataView): ReadCapture {
  const magic = v.getUint32(0, true);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && v.getUint32(0, false) !== 0xa1b2c3d4 && v.getUint32(0, false) !== 0xa1b23c4d) throw new CaptureFormatError("not a pcap or pcapng file");
  const nanos = (little ? magic : v.getUint32(0, false)) === 0xa1b23c4d;
  const linkType = v.getUint32(20, little) & 0x0fffffff;
  const frames: ReadFrame[] = [];
  let skipped = 0;
  let first: number | undefined;
  for (let at = 24; at < file.length; ) {
    if (at + 16 > file.length) throw new CaptureFormatError(`truncated record header at byte ${at}`);
    const captured = v.getUint32(at + 8, little);
    if (at + 16 + captured > file.length) throw new CaptureFormatError(`truncated record at byte ${at}`);
    const ms = v.getUint32(at, little) * 1000 + v.getUint32(at + 4, little) / (nanos ? 1e6 : 1e3);
    first ??= ms;
    const ip = ipv4OfFrame(linkType, file.subarray(at + 16, at + 16 + captured));
    if (ip !== undefined) frames.push({ time: ms - first, bytes: ip.slice() });
    else skipped++;
    at += 16 + captured;
  }
  return { format: "pcap", frames, skipped };
}

interface Iface {
  linkType: number;
  /** Seconds per timestamp unit (if_tsresol; microseconds by default). */
  unit: number;
}

function readPcapng(file: Uint8Array, v: DataView): ReadCapture {
  const text = new TextDecoder();
  const frames: ReadFrame[] = [];
  let skipped = 0;
  let first: number | undefined;
  let little = true;
  let ifaces: Iface[] = [];
  const options = (from: number, to: number, each: (code: number, value: Uint8Array) => void): void => {
    for (let i = from; i + 4 <= to; ) {
      const code = v.getUint16(i, little);
      const len = v.getUint16(i + 2, little);
      if (code === 0 || i + 4 + len > to) break;
      each(code, file.subarray(i + 4, i + 4 + len));
      i += 4 + ((len + 3) & ~3);
    }
  };
  for (let at = 0; at < file.length; ) {
    if (at + 12 > file.length) throw new CaptureFormatError(`truncated block at byte ${at}`);
    const type = v.getUint32(at, true);
    if (type === 0x0a0d0d0a) {
      // A new section: its byte-order magic says how to read everything in it.
      const bom = v.getUint32(at + 8, true);
      if (bom === 0x1a2b3c4d) little = true;
      else if (bom === 0x4d3c2b1a) little = false;
      else throw new CaptureFormatError("bad pcapng byte-order magic");
      ifaces = [];
    }
    const blockType = v.getUint32(at, little);
    const total = v.getUint32(at + 4, little);
    if (total < 12 || total % 4 !== 0 || at + total > file.length) throw new CaptureFormatError(`bad block length at byte ${at}`);
    const end = at + total - 4;
    if (blockType === 1) {
      const iface: Iface = { linkType: v.getUint16(at + 8, little), unit: 1e-6 };
      options(at + 16, end, (code, value) => {
        // if_tsresol: 10^-n, or 2^-n with the top bit set.
        if (code === 9 && value.length >= 1) iface.unit = value[0]! & 0x80 ? 2 ** -(value[0]! & 0x7f) : 10 ** -value[0]!;
      });
      ifaces.push(iface);
    } else if (blockType === 6 || blockType === 3) {
      const enhanced = blockType === 6;
      const iface = ifaces[enhanced ? v.getUint32(at + 8, little) : 0];
      if (iface === undefined) throw new CaptureFormatError(`packet block at byte ${at} names no interface`);
      const captured = enhanced ? v.getUint32(at + 20, little) : Math.min(v.getUint32(at + 8, little), total - 16);
      const dataAt = at + (enhanced ? 28 : 12);
      if (dataAt + captured > end) throw new CaptureFormatError(`truncated packet block at byte ${at}`);
      let ms = 0;
      if (enhanced) {
        const ts = v.getUint32(at + 12, little) * 2 ** 32 + v.getUint32(at + 16, little);
        ms = ts * iface.unit * 1000;
      }
      first ??= ms;
      const ip = ipv4OfFrame(iface.linkType, file.subarray(dataAt, dataAt + captured));
      if (ip === undefined) skipped++;
      else {
        const frame: ReadFrame = { time: ms - first, bytes: ip.slice() };
        if (enhanced)
          options(dataAt + ((captured + 3) & ~3), end, (code, value) => {
            if (code === 1) frame.comment = text.decode(value);
          });
        frames.push(frame);
      }
    }
    at += total;
  }
  return { format: "pcapng", frames, skipped };
}
