/**
 * The TUN offload path without a device: the virtio-net header codec, what the receive side
 * does with the kernel's flags, and the send-side coalescer, whose super-packets must split
 * back (the way Linux tcp_gso_segment does) into exactly the segments the engine emitted.
 */
import { describe, expect, it } from "vitest";
import { runLength, writeRun } from "../../src/node/tcp-coalesce.js";
import {
  decodeVnetHeader,
  encodeVnetHeader,
  receiveVnet,
  VNET_F_DATA_VALID,
  VNET_F_NEEDS_CSUM,
  VNET_GSO_ECN,
  VNET_GSO_NONE,
  VNET_GSO_TCPV4,
  VNET_GSO_TCPV6,
  VNET_GSO_UDP_L4,
  VNET_HDR_LEN,
  type VnetHeader,
} from "../../src/node/vnet.js";
import { parseIpAddress } from "../../src/wire/address.js";
import { finishChecksum, internetChecksum, pseudoHeaderSum, pseudoHeaderSumFor, sumBytes } from "../../src/wire/checksum.js";
import { emitIpv4Header } from "../../src/wire/ipv4.js";
import { emitIpv6Header } from "../../src/wire/ipv6.js";
import { emitTcp, headerLength, parseTcp, type TcpOptions } from "../../src/wire/tcp.js";
import { seq } from "../../src/wire/seq.js";

const SRC4 = 0x0a075102;
const DST4 = 0x0a075101;
const SRC6 = parseIpAddress("fd07:81::2")!;
const DST6 = parseIpAddress("fd07:81::1")!;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;
const SYN = 0x02;
const CWR = 0x80;
const ECE = 0x40;
const URG = 0x20;

interface Seg {
  seq: number;
  len: number;
  flags?: number;
  family?: 4 | 6;
  id?: number;
  options?: TcpOptions;
  window?: number;
  ack?: number;
  tos?: number;
  dstPort?: number;
}

/** An IP+TCP packet with correct checksums, payload bytes derived from the sequence number. */
function segment(s: Seg): Uint8Array {
  const options = s.options ?? { timestamp: { value: 1000, echo: 2000 } };
  const payload = new Uint8Array(s.len).map((_, i) => (s.seq + i) & 0xff);
  const tcpLen = headerLength(options) + s.len;
  const family = s.family ?? 4;
  const ih = family === 4 ? 20 : 40;
  const buf = new Uint8Array(ih + tcpLen);
  if (family === 4) emitIpv4Header({ src: SRC4, dst: DST4, protocol: 6, payloadLength: tcpLen, id: s.id ?? 100, dontFragment: true, tos: s.tos ?? 0 }, buf, 0);
  else emitIpv6Header({ src: SRC6, dst: DST6, nextHeader: 6, payloadLength: tcpLen, trafficClass: s.tos ?? 0 }, buf, 0);
  const tcp = { srcPort: 80, dstPort: s.dstPort ?? 40000, seq: seq(s.seq), ack: seq(s.ack ?? 5000), flags: s.flags ?? ACK, window: s.window ?? 512, urgentPointer: 0, options, payload };
  emitTcp(tcp, buf, ih, family === 4 ? { src: SRC4, dst: DST4 } : { src: SRC6, dst: DST6 });
  return buf;
}

/** A run of full segments of `mss` bytes from `seq`, IPv4 IDs counting up as the engine's do. */
function run(n: number, mss = 1448, last: Partial<Seg> = {}, family: 4 | 6 = 4): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(segment({ seq: 1_000_000 + i * mss, len: mss, id: 100 + i, family, ...(i === n - 1 ? last : {}) }));
  return out;
}

/**
 * Linux tcp_gso_segment / inet_gso_segment / ipv6_gso_segment as a model: cut the payload
 * into gso_size pieces, copy the headers, advance seq and the IPv4 ID, keep FIN and PSH only
 * on the last piece (CWR only on the first), and finish lengths and checksums.
 */
function kernelSplit(out: Uint8Array, len: number): Uint8Array[] {
  const h = decodeVnetHeader(out);
  const p = out.subarray(VNET_HDR_LEN, len);
  const ih = h.csumStart;
  const th = (p[ih + 12]! >>> 4) * 4;
  const headers = ih + th;
  const payload = p.subarray(headers);
  const pieces: Uint8Array[] = [];
  const v = new DataView(p.buffer, p.byteOffset);
  const seq0 = v.getUint32(ih + 4);
  for (let off = 0, i = 0; off < payload.length; off += h.gsoSize, i++) {
    const chunk = payload.subarray(off, Math.min(payload.length, off + h.gsoSize));
    const q = new Uint8Array(headers + chunk.length);
    q.set(p.subarray(0, headers));
    q.set(chunk, headers);
    const w = new DataView(q.buffer);
    w.setUint32(ih + 4, (seq0 + off) >>> 0);
    const isLast = off + h.gsoSize >= payload.length;
    let flags = p[ih + 13]!;
    if (!isLast) flags &= ~(FIN | PSH);
    if (i > 0) flags &= ~CWR;
    q[ih + 13] = flags;
    if (ih === 20) {
      w.setUint16(2, q.length);
      w.setUint16(4, (v.getUint16(4) + i) & 0xffff);
      w.setUint16(10, 0);
      w.setUint16(10, internetChecksum(q, 0, 20));
    } else {
      w.setUint16(4, q.length - 40);
    }
    w.setUint16(ih + 16, 0);
    const pseudo = ih === 20 ? pseudoHeaderSum(SRC4, DST4, 6, q.length - 20) : pseudoHeaderSumFor(SRC6, DST6, 6, q.length - 40);
    w.setUint16(ih + 16, finishChecksum(sumBytes(q, ih, q.length, pseudo)));
    pieces.push(q);
  }
  return pieces;
}

/** Coalesces `packets` as the TUN device does; returns each write's header and bytes. */
function coalesceAll(packets: Uint8Array[]): { header: VnetHeader; bytes: Uint8Array; count: number }[] {
  const writes = [];
  const out = new Uint8Array(VNET_HDR_LEN + 65535);
  for (let i = 0; i < packets.length; ) {
    const count = runLength(packets, i);
    const len = writeRun(packets, i, count, out);
    writes.push({ header: decodeVnetHeader(out), bytes: out.slice(0, len), count });
    i += count;
  }
  return writes;
}

describe("virtio-net header", () => {
  it("encodes and decodes the six fields little-endian in 10 bytes", () => {
    const h = { flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV4, hdrLen: 52, gsoSize: 1448, csumStart: 20, csumOffset: 16 };
    const buf = new Uint8Array(12).fill(0xa5);
    encodeVnetHeader(h, buf, 1);
    expect([...buf]).toEqual([0xa5, 1, 1, 52, 0, 0xa8, 0x05, 20, 0, 16, 0, 0xa5]);
    expect(decodeVnetHeader(buf, 1)).toEqual(h);
  });

  it("refuses a buffer shorter than the header", () => {
    expect(() => decodeVnetHeader(new Uint8Array(9))).toThrow(RangeError);
  });
});

describe("receiveVnet", () => {
  function read(h: Partial<VnetHeader>, packet: Uint8Array): Uint8Array {
    const buf = new Uint8Array(VNET_HDR_LEN + packet.length);
    encodeVnetHeader({ flags: 0, gsoType: VNET_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, ...h }, buf);
    buf.set(packet, VNET_HDR_LEN);
    return buf;
  }

  it("marks TCP with a partial checksum (F_NEEDS_CSUM) as valid instead of checking it", () => {
    const p = segment({ seq: 1, len: 100 });
    p[20 + 16] ^= 0xff; // what a partial checksum looks like to a software check: wrong
    const r = receiveVnet(read({ flags: VNET_F_NEEDS_CSUM, csumStart: 20, csumOffset: 16 }, p));
    expect(r).toMatchObject({ ok: true, checksumValid: true, gso: false });
    if (r.ok) expect([...r.packet]).toEqual([...p]);
  });

  it("marks TCP the kernel verified (F_DATA_VALID) as valid, and leaves flagless packets to the engine", () => {
    const p = segment({ seq: 1, len: 100 });
    expect(receiveVnet(read({ flags: VNET_F_DATA_VALID }, p))).toMatchObject({ ok: true, checksumValid: true });
    expect(receiveVnet(read({}, p))).toMatchObject({ ok: true, checksumValid: false, gso: false, gsoSize: 0 });
  });

  it("passes a TCP GSO packet on whole, larger than the MSS, ignoring hdr_len", () => {
    const big = segment({ seq: 1, len: 60000, options: {} });
    for (const gsoType of [VNET_GSO_TCPV4, VNET_GSO_TCPV4 | VNET_GSO_ECN]) {
      const r = receiveVnet(read({ flags: VNET_F_NEEDS_CSUM, gsoType, gsoSize: 1460, hdrLen: 9999, csumStart: 20, csumOffset: 16 }, big));
      expect(r).toMatchObject({ ok: true, checksumValid: true, gso: true, gsoSize: 1460 });
      if (r.ok) expect(r.packet.length).toBe(big.length);
    }
    const big6 = segment({ seq: 1, len: 60000, family: 6 });
    expect(receiveVnet(read({ flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV6, gsoSize: 1440, csumStart: 40, csumOffset: 16 }, big6))).toMatchObject({ ok: true, gso: true, gsoSize: 1440 });
  });

  it("finishes a UDP partial checksum itself, as a NIC would", () => {
    const payload = new TextEncoder().encode("hello over udp");
    const p = new Uint8Array(20 + 8 + payload.length);
    emitIpv4Header({ src: SRC4, dst: DST4, protocol: 17, payloadLength: 8 + payload.length }, p, 0);
    const v = new DataView(p.buffer);
    v.setUint16(20, 5353);
    v.setUint16(22, 53);
    v.setUint16(24, 8 + payload.length);
    p.set(payload, 28);
    // Partial: the pseudo-header sum, uncomplemented, in the checksum field.
    v.setUint16(26, ~finishChecksum(pseudoHeaderSum(SRC4, DST4, 17, 8 + payload.length)) & 0xffff);
    const r = receiveVnet(read({ flags: VNET_F_NEEDS_CSUM, csumStart: 20, csumOffset: 6 }, p));
    expect(r).toMatchObject({ ok: true, checksumValid: false });
    if (!r.ok) return;
    // Now a complete checksum: the sum over pseudo-header and datagram verifies to zero.
    expect(finishChecksum(sumBytes(r.packet, 20, r.packet.length, pseudoHeaderSum(SRC4, DST4, 17, 8 + payload.length)))).toBe(0);
    expect(new DataView(r.packet.buffer, r.packet.byteOffset).getUint16(26)).not.toBe(0);
  });

  it("refuses checksum offsets outside the packet, UDP GSO, GSO on non-TCP, and runts", () => {
    const udp = new Uint8Array(40);
    emitIpv4Header({ src: SRC4, dst: DST4, protocol: 17, payloadLength: 20 }, udp, 0);
    expect(receiveVnet(read({ flags: VNET_F_NEEDS_CSUM, csumStart: 20, csumOffset: 100 }, udp))).toEqual({ ok: false, reason: "bad-csum-offsets" });
    expect(receiveVnet(read({ gsoType: VNET_GSO_UDP_L4, gsoSize: 10 }, udp))).toEqual({ ok: false, reason: "unsupported-gso" });
    expect(receiveVnet(read({ gsoType: VNET_GSO_TCPV4, gsoSize: 10 }, udp))).toEqual({ ok: false, reason: "unsupported-gso" });
    expect(receiveVnet(new Uint8Array(VNET_HDR_LEN))).toEqual({ ok: false, reason: "short" });
  });
});

describe("TCP segment coalescing", () => {
  it("turns a run of MSS segments into one GSO write that splits back into exactly those segments", () => {
    for (const family of [4, 6] as const) {
      const packets = run(44, family === 4 ? 1448 : 1428, { flags: ACK | PSH }, family);
      const writes = coalesceAll(packets);
      expect(writes).toHaveLength(1);
      const w = writes[0]!;
      expect(w.count).toBe(44);
      const ih = family === 4 ? 20 : 40;
      expect(w.header).toEqual({ flags: VNET_F_NEEDS_CSUM, gsoType: family === 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6, hdrLen: ih + 32, gsoSize: family === 4 ? 1448 : 1428, csumStart: ih, csumOffset: 16 });
      if (family === 4) expect(internetChecksum(w.bytes, VNET_HDR_LEN, VNET_HDR_LEN + 20)).toBe(0);
      const split = kernelSplit(w.bytes, w.bytes.length);
      expect(split.map((p) => Buffer.from(p).toString("hex"))).toEqual(packets.map((p) => Buffer.from(p).toString("hex")));
      // The engine's parser accepts every piece with its checksum.
      for (const p of split) expect(parseTcp(p.subarray(ih), family === 4 ? { src: SRC4, dst: DST4 } : { src: SRC6, dst: DST6 }).ok).toBe(true);
    }
  });

  it("ends a run at PSH or FIN (kept on the last piece) and at a short segment", () => {
    const withFin = [...run(3), segment({ seq: 1_000_000 + 3 * 1448, len: 500, flags: ACK | FIN | PSH, id: 103 }), segment({ seq: 1_000_000 + 3 * 1448 + 500, len: 1448, id: 104 })];
    const writes = coalesceAll(withFin);
    expect(writes.map((w) => w.count)).toEqual([4, 1]);
    expect(kernelSplit(writes[0]!.bytes, writes[0]!.bytes.length).map((p) => Buffer.from(p).toString("hex"))).toEqual(withFin.slice(0, 4).map((p) => Buffer.from(p).toString("hex")));
    // PSH in the middle ends the run there; the next run starts after it.
    const pshMiddle = run(6).map((p, i) => (i === 2 ? segment({ seq: 1_000_000 + 2 * 1448, len: 1448, flags: ACK | PSH, id: 102 }) : p));
    expect(coalesceAll(pshMiddle).map((w) => w.count)).toEqual([3, 3]);
    // A short segment may only be last.
    const short = [segment({ seq: 0, len: 1448 }), segment({ seq: 1448, len: 700 }), segment({ seq: 2148, len: 1448 })];
    expect(coalesceAll(short).map((w) => w.count)).toEqual([2, 1]);
  });

  it("never coalesces SYN, RST, URG, CWR, empty segments, or segments that differ in what the split copies", () => {
    const base = (over: Partial<Seg>): Uint8Array[] => [segment({ seq: 0, len: 1000 }), segment({ seq: 1000, len: 1000, ...over })];
    const counts = (ps: Uint8Array[]): number[] => coalesceAll(ps).map((w) => w.count);
    expect(counts(base({}))).toEqual([2]);
    for (const flags of [ACK | SYN, ACK | URG, ACK | CWR, ACK | 0x04]) expect(counts(base({ flags }))).toEqual([1, 1]);
    expect(counts([segment({ seq: 0, len: 1000, flags: ACK | CWR }), segment({ seq: 1000, len: 1000 })])).toEqual([1, 1]);
    expect(counts(base({ flags: ACK | ECE }))).toEqual([1, 1]);
    expect(counts(base({ seq: 1001 }))).toEqual([1, 1]); // a gap
    expect(counts(base({ ack: 5001 }))).toEqual([1, 1]);
    expect(counts(base({ window: 513 }))).toEqual([1, 1]);
    expect(counts(base({ options: { timestamp: { value: 1001, echo: 2000 } } }))).toEqual([1, 1]);
    expect(counts(base({ tos: 2 }))).toEqual([1, 1]); // a different ECN codepoint
    expect(counts(base({ dstPort: 40001 }))).toEqual([1, 1]); // another flow
    expect(counts(base({ family: 6 }))).toEqual([1, 1]);
    expect(counts([segment({ seq: 0, len: 0 }), segment({ seq: 0, len: 1000 })])).toEqual([1, 1]);
  });

  it("keeps a super-packet within 65535 bytes and writes a lone packet behind a plain header", () => {
    const packets = run(60);
    const writes = coalesceAll(packets);
    expect(writes.reduce((n, w) => n + w.count, 0)).toBe(60);
    for (const w of writes) expect(w.bytes.length - VNET_HDR_LEN).toBeLessThanOrEqual(65535);
    expect(writes[0]!.count).toBe(Math.floor((65535 - 52) / 1448));
    const lone = coalesceAll([packets[0]!]);
    expect(lone[0]!.header).toEqual({ flags: 0, gsoType: VNET_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 });
    expect([...lone[0]!.bytes.subarray(VNET_HDR_LEN)]).toEqual([...packets[0]!]);
  });
});
