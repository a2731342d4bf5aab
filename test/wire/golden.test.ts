/**
 * Golden bytes: a TCP SYN as Linux 6.x sends it (MSS 1460, SACK_PERM, TS, NOP, WSCALE 7;
 * 40-byte TCP header) inside a 20-byte IPv4 header with DF set and TTL 64.
 * 192.168.1.23:54321 -> 93.184.216.34:80. The checksums in the hex were computed outside
 * the project; the first test re-derives them with the naive reference sum from helpers.ts.
 */
import { describe, expect, it } from "vitest";
import { emitIpv4Header, parseIpv4, PROTO_TCP } from "../../src/wire/ipv4.js";
import { seq } from "../../src/wire/seq.js";
import { emitTcp, parseTcp, SYN, type TcpSegment } from "../../src/wire/tcp.js";
import { FILL, filled, hex, pseudoBytes, refChecksum, toHex, u16 } from "./helpers.js";

const SRC = 0xc0a80117; // 192.168.1.23
const DST = 0x5db8d822; // 93.184.216.34

const SYN_PACKET = hex(`
  45 00 00 3c  1c 46 40 00  40 06 26 dc  c0 a8 01 17  5d b8 d8 22
  d4 31 00 50  4a 3b 2c 1d  00 00 00 00  a0 02 fa f0  d4 42 00 00
  02 04 05 b4  04 02 08 0a  0a 1b 2c 3d  00 00 00 00  01 03 03 07
`);

const SYN_SEGMENT: TcpSegment = {
  srcPort: 54321,
  dstPort: 80,
  seq: seq(0x4a3b2c1d),
  ack: seq(0),
  flags: SYN,
  window: 64240,
  urgentPointer: 0,
  options: { mss: 1460, sackPermitted: true, timestamp: { value: 0x0a1b2c3d, echo: 0 }, windowScale: 7 },
  payload: new Uint8Array(0),
};

describe("golden Linux SYN in IPv4", () => {
  it("carries correct checksums (checked with the independent reference sum)", () => {
    const ip = SYN_PACKET.slice(0, 20);
    ip[10] = 0;
    ip[11] = 0;
    expect(refChecksum(ip)).toBe(u16(SYN_PACKET, 10));
    const tcp = SYN_PACKET.slice(20);
    tcp[16] = 0;
    tcp[17] = 0;
    expect(refChecksum(pseudoBytes(SRC, DST, PROTO_TCP, tcp.length), tcp)).toBe(u16(SYN_PACKET, 36));
  });

  it("parses every IPv4 field", () => {
    const r = parseIpv4(SYN_PACKET);
    expect(r).toEqual({
      ok: true,
      value: {
        header: {
          tos: 0,
          headerLength: 20,
          totalLength: 60,
          id: 0x1c46,
          dontFragment: true,
          moreFragments: false,
          fragmentOffset: 0,
          ttl: 64,
          protocol: PROTO_TCP,
          src: SRC,
          dst: DST,
        },
        payload: SYN_PACKET.subarray(20),
      },
    });
  });

  it("parses every TCP field and option, verifying the pseudo-header checksum", () => {
    const r = parseTcp(SYN_PACKET.subarray(20), { src: SRC, dst: DST });
    expect(r).toEqual({ ok: true, value: SYN_SEGMENT });
  });

  it("emits the same bytes from the repr into a 0xa5-filled buffer", () => {
    const buf = filled(3 + 60 + 3);
    const off = 3;
    const ipLen = emitIpv4Header(
      { src: SRC, dst: DST, protocol: PROTO_TCP, payloadLength: 40, id: 0x1c46, dontFragment: true, ttl: 64 },
      buf,
      off,
    );
    expect(ipLen).toBe(20);
    const tcpLen = emitTcp(SYN_SEGMENT, buf, off + ipLen, { src: SRC, dst: DST });
    expect(tcpLen).toBe(40);
    expect(toHex(buf.subarray(off, off + 60))).toBe(toHex(SYN_PACKET));
    // Nothing written outside the packet.
    expect([...buf.subarray(0, off), ...buf.subarray(off + 60)]).toEqual([FILL, FILL, FILL, FILL, FILL, FILL]);
  });

  it("rejects the golden SYN when one bit flips (IP header or TCP segment)", () => {
    for (const at of [1, 8, 15, 25, 41, 59]) {
      const bad = SYN_PACKET.slice();
      bad[at]! ^= 0x01;
      const ip = parseIpv4(bad);
      if (at < 20) {
        expect(ip).toEqual({ ok: false, reason: "bad-checksum" });
      } else {
        expect(ip.ok && parseTcp(ip.value.payload, { src: SRC, dst: DST })).toEqual({ ok: false, reason: "bad-checksum" });
      }
    }
  });
});
