/**
 * Packets a TUN device with offloads hands over are trusted: with F_NEEDS_CSUM or
 * F_DATA_VALID their checksum is not checked, and a GRO'd super-packet arrives whole with
 * the gso_size the device claims (node/vnet.ts). A kernel, or whatever writes to the
 * device, may still hand over anything. TCP headers with random fields and options behind
 * a valid IPv4 header, and in-window super-packets of up to 64 KiB with any gso_size
 * (0 included), never make the host throw; the stream the application reads stays exact.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { emitIpv4Header, IPV4_MIN_HEADER, PROTO_TCP } from "../../src/wire/ipv4.js";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK, emitTcp, PSH } from "../../src/wire/tcp.js";
import { established, LOCAL_ADDR, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ } from "./harness.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("OFFLOAD_FUZZ_RUNS", 300);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 300).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

function ipv4(tcpBytes: Uint8Array): Uint8Array {
  const pkt = new Uint8Array(IPV4_MIN_HEADER + tcpBytes.length);
  emitIpv4Header({ src: REMOTE_ADDR, dst: LOCAL_ADDR, protocol: PROTO_TCP, payloadLength: tcpBytes.length }, pkt, 0);
  pkt.set(tcpBytes, IPV4_MIN_HEADER);
  return pkt;
}

/** The peer's stream: byte i is STREAM[i]. */
const STREAM = new Uint8Array(300_000).map((_, i) => (i * 31 + 7) & 0xff);

/** Bytes [offset, offset + len) of the stream; those before its start (the SYN's sequence space and earlier) are zeros, never read. */
function streamAt(offset: number, len: number): Uint8Array {
  if (offset >= 0) return STREAM.subarray(offset, offset + len);
  const out = new Uint8Array(len);
  if (len > -offset) out.set(STREAM.subarray(0, len + offset), -offset);
  return out;
}

const gsoSize = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1460 }), fc.integer({ min: 0, max: 70_000 }));

describe("trusted input (checksum offload, GRO)", () => {
  it("random TCP headers and bytes, taken as checksummed, with any gso_size, never throw", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ bytes: fc.uint8Array({ minLength: 0, maxLength: 200 }), gso: gsoSize, keepPorts: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        (packets) => {
          const { h, conn } = established({ timestamps: true, sack: true });
          for (const p of packets) {
            const tcp = p.bytes.slice();
            if (p.keepPorts && tcp.length >= 4) {
              // Aimed at the connection, so the random rest reaches its state machine.
              new DataView(tcp.buffer).setUint16(0, REMOTE_PORT);
              new DataView(tcp.buffer).setUint16(2, LOCAL_PORT);
            }
            expect(() => h.host.receive(h.now, ipv4(tcp), true, p.gso)).not.toThrow();
            h.settle();
          }
          const i = conn.inspect();
          expect(i.receiveQueued + i.outOfOrderBytes).toBeLessThanOrEqual(6 * 1024 * 1024);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("in-window super-packets of any length and claimed gso_size deliver the stream exactly", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ offset: fc.integer({ min: -2000, max: 200_000 }), len: fc.integer({ min: 1, max: 65_000 }), gso: gsoSize, read: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        (packets) => {
          const { h, conn, iss } = established();
          let readSoFar = 0;
          for (const p of packets) {
            const payload = streamAt(p.offset, p.len);
            const seg = { srcPort: REMOTE_PORT, dstPort: LOCAL_PORT, seq: seqAdd(REMOTE_SEQ, 1 + p.offset), ack: seqAdd(iss, 1), flags: ACK | PSH, window: 65535, urgentPointer: 0, options: {}, payload };
            const tcp = new Uint8Array(20 + p.len);
            emitTcp(seg, tcp, 0, null);
            h.host.receive(h.now, ipv4(tcp), true, p.gso);
            h.settle();
            if (p.read) {
              const d = conn.read();
              expect(d.every((b, k) => b === STREAM[readSoFar + k])).toBe(true);
              readSoFar += d.length;
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
