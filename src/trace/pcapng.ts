/**
 * pcapng encoding (the format Wireshark saves by default), as pure functions returning
 * byte chunks. Unlike classic pcap it can name interfaces and annotate packets, so a
 * capture of a simulation keeps one interface per host and a comment per packet
 * ("client -> server"), which Wireshark shows in its packet list.
 *
 * Format: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-01.html. Little-endian
 * section, microsecond timestamps (the default if_tsresol).
 */
import type { Millis } from "../env.js";
import { DEFAULT_SNAPLEN, LINKTYPE_RAW, splitMicros } from "./pcap.js";
import { showValue } from "../show-value.js";

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const EPB_FLAGS = 2;

/** epb_flags direction bits (inbound = 1, outbound = 2). */
export type PacketDirection = "inbound" | "outbound";

interface Option {
  code: number;
  value: Uint8Array;
}

const utf8 = new TextEncoder();
const pad4 = (n: number): number => (n + 3) & ~3;

function optionsLength(options: readonly Option[]): number {
  if (options.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const o of options) n += 4 + pad4(o.value.length);
  return n;
}

function writeOptions(v: DataView, bytes: Uint8Array, at: number, options: readonly Option[]): number {
  if (options.length === 0) return at;
  for (const o of options) {
    v.setUint16(at, o.code, true);
    v.setUint16(at + 2, o.value.length, true);
    bytes.set(o.value, at + 4);
    at += 4 + pad4(o.value.length);
  }
  v.setUint16(at, OPT_ENDOFOPT, true);
  v.setUint16(at + 2, 0, true);
  return at + 4;
}

/** Builds a block: type, total length, body (written by `fill`), options, total length again. */
function block(type: number, bodyLength: number, options: readonly Option[], fill: (v: DataView, bytes: Uint8Array) => void): Uint8Array {
  const total = 12 + pad4(bodyLength) + optionsLength(options);
  const bytes = new Uint8Array(total);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, total, true);
  fill(v, bytes);
  writeOptions(v, bytes, 8 + pad4(bodyLength), options);
  v.setUint32(total - 4, total, true);
  return bytes;
}

/** Section Header Block: starts the file. `application` lands in shb_userappl. */
export function pcapngSectionHeader(application = "synack"): Uint8Array {
  return block(BT_SHB, 16, [{ code: SHB_USERAPPL, value: utf8.encode(application) }], (v) => {
    v.setUint32(8, BYTE_ORDER_MAGIC, true);
    v.setUint16(12, 1, true); // major version
    v.setUint16(14, 0, true); // minor version
    // Section length unknown (-1): the writer streams.
    v.setUint32(16, 0xffffffff, true);
    v.setUint32(20, 0xffffffff, true);
  });
}

/** Interface Description Block. Interfaces are numbered from 0 in the order written. */
export function pcapngInterface(name: string, linkType: number = LINKTYPE_RAW, snapLen: number = DEFAULT_SNAPLEN): Uint8Array {
  return block(BT_IDB, 8, [{ code: IF_NAME, value: utf8.encode(name) }], (v) => {
    v.setUint16(8, linkType, true);
    v.setUint16(10, 0, true);
    v.setUint32(12, snapLen, true);
  });
}

export interface PcapngPacketOptions {
  comment?: string;
  direction?: PacketDirection;
  snapLen?: number;
}

/** Enhanced Packet Block: one packet on interface `interfaceId` at `time` ms. */
export function pcapngPacket(interfaceId: number, time: Millis, packet: Uint8Array, options: PcapngPacketOptions = {}): Uint8Array {
  if (!(time >= 0 && Number.isFinite(time))) throw new RangeError(`pcapng timestamps must be finite and >= 0 ms, got ${showValue(time)}`);
  const captured = Math.min(packet.length, options.snapLen ?? DEFAULT_SNAPLEN);
  const opts: Option[] = [];
  if (options.comment !== undefined) opts.push({ code: OPT_COMMENT, value: utf8.encode(options.comment) });
  if (options.direction !== undefined) {
    const flags = new Uint8Array(4);
    new DataView(flags.buffer).setUint32(0, options.direction === "inbound" ? 1 : 2, true);
    opts.push({ code: EPB_FLAGS, value: flags });
  }
  const { seconds, micros } = splitMicros(time);
  // 64-bit count of microseconds, split in two 32-bit halves (high first).
  const ticks = seconds * 1_000_000 + micros;
  const high = Math.floor(ticks / 2 ** 32);
  const low = ticks - high * 2 ** 32;
  return block(BT_EPB, 20 + captured, opts, (v, bytes) => {
    v.setUint32(8, interfaceId, true);
    v.setUint32(12, high, true);
    v.setUint32(16, low, true);
    v.setUint32(20, captured, true);
    v.setUint32(24, packet.length, true);
    bytes.set(packet.subarray(0, captured), 28);
  });
}
