/**
 * Test helpers for the wire codecs. The reference checksum here is deliberately naive and
 * shares no code with src/wire/checksum.ts, so golden bytes are checked independently.
 */

/** "45 00 00 3c" (whitespace and newlines ignored) -> bytes. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The fill byte for emit buffers: a field the codec forgets to write shows up as a5. */
export const FILL = 0xa5;

export function filled(length: number): Uint8Array {
  return new Uint8Array(length).fill(FILL);
}

/** Naive RFC 1071 one's-complement sum of big-endian 16-bit words (odd byte padded), folded. */
export function refSum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) {
    // Each part is summed on its own 16-bit alignment, as the pseudo-header and segment are.
    for (let i = 0; i < p.length; i += 2) sum += p[i]! * 256 + (i + 1 < p.length ? p[i + 1]! : 0);
  }
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** Naive Internet checksum: one's complement of refSum. */
export function refChecksum(...parts: Uint8Array[]): number {
  return 0xffff - refSum(...parts);
}

/** The 12-byte IPv4 pseudo-header (RFC 9293 3.1, RFC 768). */
export function pseudoBytes(src: number, dst: number, protocol: number, length: number): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, src);
  v.setUint32(4, dst);
  v.setUint8(9, protocol);
  v.setUint16(10, length);
  return b;
}

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Narrows a ParseResult in a test, failing with the reason if it did not parse. */
export function expectOk<T>(r: { ok: true; value: T } | { ok: false; reason: string }): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}`);
  return r.value;
}

/** The 40-byte IPv6 pseudo-header (RFC 8200 8.1): addresses, 32-bit length, 3 zeros, next header. */
export function pseudoBytes6(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): Uint8Array {
  const b = new Uint8Array(40);
  b.set(src, 0);
  b.set(dst, 16);
  new DataView(b.buffer).setUint32(32, length);
  b[39] = nextHeader;
  return b;
}
