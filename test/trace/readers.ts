/**
 * Minimal pcap and pcapng readers for tests: an independent check of the writers that
 * needs no external tool (tshark does the authoritative check when installed).
 */
export interface ReadPacket {
  /** Microseconds since the epoch. */
  micros: number;
  bytes: Uint8Array;
  iface?: string;
  comment?: string;
  direction?: number;
}

export function readPcap(file: Uint8Array): { linkType: number; snapLen: number; packets: ReadPacket[] } {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (v.getUint32(0, true) !== 0xa1b2c3d4) throw new Error("not a little-endian microsecond pcap");
  const packets: ReadPacket[] = [];
  let at = 24;
  while (at < file.length) {
    const captured = v.getUint32(at + 8, true);
    packets.push({ micros: v.getUint32(at, true) * 1_000_000 + v.getUint32(at + 4, true), bytes: file.slice(at + 16, at + 16 + captured) });
    at += 16 + captured;
  }
  if (at !== file.length) throw new Error("trailing bytes");
  return { linkType: v.getUint32(20, true), snapLen: v.getUint32(16, true), packets };
}

export function readPcapng(file: Uint8Array): { interfaces: Array<{ name: string; linkType: number }>; packets: ReadPacket[]; application?: string } {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const text = new TextDecoder();
  const interfaces: Array<{ name: string; linkType: number }> = [];
  const packets: ReadPacket[] = [];
  let application: string | undefined;
  let at = 0;
  const options = (from: number, to: number): Map<number, Uint8Array> => {
    const m = new Map<number, Uint8Array>();
    let i = from;
    while (i + 4 <= to) {
      const code = v.getUint16(i, true);
      const len = v.getUint16(i + 2, true);
      if (code === 0) break;
      m.set(code, file.slice(i + 4, i + 4 + len));
      i += 4 + ((len + 3) & ~3);
    }
    return m;
  };
  while (at < file.length) {
    const type = v.getUint32(at, true);
    const total = v.getUint32(at + 4, true);
    if (total % 4 !== 0 || v.getUint32(at + total - 4, true) !== total) throw new Error(`bad block length at ${at}`);
    if (type === 0x0a0d0d0a) {
      if (v.getUint32(at + 8, true) !== 0x1a2b3c4d) throw new Error("bad byte-order magic");
      const o = options(at + 24, at + total - 4);
      const app = o.get(4);
      if (app !== undefined) application = text.decode(app);
    } else if (type === 1) {
      const o = options(at + 16, at + total - 4);
      interfaces.push({ name: text.decode(o.get(2) ?? new Uint8Array()), linkType: v.getUint16(at + 8, true) });
    } else if (type === 6) {
      const id = v.getUint32(at + 8, true);
      const micros = v.getUint32(at + 12, true) * 2 ** 32 + v.getUint32(at + 16, true);
      const captured = v.getUint32(at + 20, true);
      const o = options(at + 28 + ((captured + 3) & ~3), at + total - 4);
      const flags = o.get(2);
      const p: ReadPacket = { micros, bytes: file.slice(at + 28, at + 28 + captured), iface: interfaces[id]?.name ?? "?" };
      const comment = o.get(1);
      if (comment !== undefined) p.comment = text.decode(comment);
      if (flags !== undefined) p.direction = new DataView(flags.buffer).getUint32(0, true) & 3;
      packets.push(p);
    }
    at += total;
  }
  return { interfaces, packets, ...(application !== undefined ? { application } : {}) };
}
