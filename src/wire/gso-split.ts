/**
 * Cuts a TCP super-packet (GsoInfo in endpoint.ts: one IP + TCP header, a payload of
 * `size`-byte segments, the TCP checksum field holding the pseudo-header sum) into the
 * segments it stands for, in software, as Linux's GSO layer does for a device that cannot
 * (tcp_gso_segment + inet_gso_segment / ipv6_gso_segment):
 *   - every piece gets the first's IP and TCP header, seq advanced by the bytes before it;
 *   - PSH and FIN stay on the last piece only, CWR on the first only;
 *   - IPv4 IDs go up by one per piece, each with its own header checksum;
 *   - each piece's TCP checksum is computed in full (RFC 9293 3.1, RFC 8200 8.1).
 * For links that take only plain packets, and to check a super-packet against the
 * segments it replaces. Expects a packet built by this stack (IPv4 without options, or
 * IPv6 without extension headers); anything else is returned as it is.
 */
import { finishChecksum, sumBytes } from "./checksum.js";

const PSH_FIN = 0x09;
const CWR = 0x80;

export function splitGso(packet: Uint8Array, size: number): Uint8Array[] {
  const version = packet[0]! >>> 4;
  const ih = version === 4 ? (packet[0]! & 0x0f) * 4 : 40;
  if ((version !== 4 && version !== 6) || ih !== (version === 4 ? 20 : 40) || packet.length < ih + 20 || size <= 0) return [packet];
  const th = (packet[ih + 12]! >>> 4) * 4;
  const headers = ih + th;
  const payload = packet.length - headers;
  if (payload <= size) return [packet];
  const seq0 = ((packet[ih + 4]! << 24) | (packet[ih + 5]! << 16) | (packet[ih + 6]! << 8) | packet[ih + 7]!) >>> 0;
  const id0 = (packet[4]! << 8) | packet[5]!;
  const flags = packet[ih + 13]!;
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < payload; at += size, i++) {
    const len = Math.min(size, payload - at);
    const last = at + len === payload;
    const p = new Uint8Array(headers + len);
    p.set(packet.subarray(0, headers), 0);
    p.set(packet.subarray(headers + at, headers + at + len), headers);
    const seq = (seq0 + at) >>> 0;
    p[ih + 4] = seq >>> 24;
    p[ih + 5] = (seq >>> 16) & 0xff;
    p[ih + 6] = (seq >>> 8) & 0xff;
    p[ih + 7] = seq & 0xff;
    p[ih + 13] = flags & ~(last ? 0 : PSH_FIN) & ~(i === 0 ? 0 : CWR);
    let pseudo: number;
    if (version === 4) {
      const total = p.length;
      const id = (id0 + i) & 0xffff;
      p[2] = total >>> 8;
      p[3] = total & 0xff;
      p[4] = id >>> 8;
      p[5] = id & 0xff;
      p[10] = 0;
      p[11] = 0;
      const c = finishChecksum(sumBytes(p, 0, 20));
      p[10] = c >>> 8;
      p[11] = c & 0xff;
      // Pseudo-header: addresses, protocol, TCP length (RFC 9293 3.1).
      pseudo = sumBytes(p, 12, 20) + p[9]! + (total - 20);
    } else {
      const plen = p.length - 40;
      p[4] = plen >>> 8;
      p[5] = plen & 0xff;
      // RFC 8200 8.1: addresses, upper-layer length, next header.
      pseudo = sumBytes(p, 8, 40) + p[6]! + plen;
    }
    p[ih + 16] = 0;
    p[ih + 17] = 0;
    const c = finishChecksum(sumBytes(p, ih, p.length, pseudo));
    p[ih + 16] = c >>> 8;
    p[ih + 17] = c & 0xff;
    out.push(p);
  }
  return out;
}
