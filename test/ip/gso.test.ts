/**
 * TCP segmentation offload on output (src/ip/gso-batch.ts): a host whose link segments
 * TCP super-packets itself (HostOptions.gsoMaxSize) sends a transmission pass's segments
 * as one packet, and what the link cuts from it is byte for byte what a host without the
 * offload sends - same segments, PSH placement, IPv4 IDs and checksums - while loss
 * recovery still resends one MSS at a time.
 */
import { describe, expect, it } from "vitest";
import { Harness, halfOpen, LOCAL_ADDR, LOCAL_PORT, REMOTE_ADDR, REMOTE_SEQ } from "../tcp/harness.js";
import { ACK, parseTcp, PSH, SYN, type TcpOptions } from "../../src/wire/tcp.js";
import { finishChecksum, sumBytes } from "../../src/wire/checksum.js";
import { seqAdd, type Seq } from "../../src/wire/seq.js";
import { splitGso } from "../../src/wire/gso-split.js";
import type { Connection } from "../../src/tcp/connection.js";
import type { TcpConfig } from "../../src/tcp/config.js";

const MSS = 1460;

function establishedOn(gsoMaxSize: number, tcp: Partial<TcpConfig> = {}): { h: Harness; conn: Connection; iss: Seq } {
  const h = new Harness({ sack: true, ...tcp }, 1500, undefined, gsoMaxSize);
  const listener = h.host.tcp.listen(LOCAL_PORT);
  const synOptions: TcpOptions = { mss: MSS, sackPermitted: true, ...(tcp.timestamps === true ? { timestamp: { value: 1, echo: 0 } } : {}) };
  h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: synOptions });
  const iss = halfOpen(h)[0]!.iss;
  h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1), ...(tcp.timestamps === true ? { options: { timestamp: { value: 2, echo: 0 } } } : {}) });
  const conn = listener.accept()!;
  h.takeSent();
  h.packets.length = 0;
  return { h, conn, iss };
}

function data(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >>> 8)) & 0xff;
  return b;
}

/** Bulk data, then a loss the peer reports with SACK, its repair, and the rest acknowledged. */
function scenario(gsoMaxSize: number, tcp: Partial<TcpConfig> = {}): { h: Harness; iss: Seq; steps: Array<Harness["packets"]> } {
  const { h, conn, iss } = establishedOn(gsoMaxSize, tcp);
  const steps: Array<Harness["packets"]> = [];
  const step = (): void => {
    steps.push(h.packets.splice(0));
    h.takeSent();
  };
  const ts = (): { options: TcpOptions } | Record<string, never> => (tcp.timestamps === true ? { options: { timestamp: { value: 3 + steps.length, echo: 0 } } } : {});
  // Timestamps take 12 bytes of every segment (RFC 7323).
  const MSS = payloadPerSegment(tcp);
  conn.send(data(40 * MSS));
  h.settle();
  step(); // the initial window
  const una = seqAdd(iss, 1);
  // The first segment is lost: three ACKs SACK the second, third and fourth.
  for (let k = 2; k <= 4; k++) {
    const sack = { sackBlocks: [{ left: seqAdd(una, MSS), right: seqAdd(una, k * MSS) }] };
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: una, window: 65535, options: { ...ts().options, ...sack } });
  }
  step(); // the fast retransmit (and what recovery lets out)
  h.advance(50);
  h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(una, 10 * MSS), window: 65535, ...ts() });
  h.advance(5);
  step(); // new data after recovery
  return { h, iss, steps };
}

function payloadPerSegment(tcp: Partial<TcpConfig>): number {
  return tcp.timestamps === true ? MSS - 12 : MSS;
}

/** The packets a step put on the wire once the link cut every super-packet. */
function wire(packets: Harness["packets"]): Uint8Array[] {
  return packets.flatMap((p) => (p.gso !== undefined ? splitGso(p.packet, p.gso.size) : [p.packet]));
}

describe("TCP segmentation offload on output", () => {
  it("sends a pass's full segments as super-packets of MSS-sized pieces, the chunk's last piece with PSH", () => {
    const { h, conn } = establishedOn(65536);
    conn.send(data(10 * MSS));
    h.settle();
    // Initial window 10 segments; Linux's chunking (tso-chunks.ts) cuts the pass in two
    // packets of 5 (tcp_cwnd_test: half the window), each ending with PSH.
    expect(h.packets.map((p) => p.gso)).toEqual([
      { size: MSS, segments: 5 },
      { size: MSS, segments: 5 },
    ]);
    const segs = h.takeSent();
    expect(segs.map((s) => s.payload.length)).toEqual(Array(10).fill(MSS));
    expect(segs.map((s) => (s.flags & PSH) !== 0)).toEqual([false, false, false, false, true, false, false, false, false, true]);
    // One IP packet each, larger than the MTU, numbered as 5 segments.
    expect(h.packets.map((p) => p.packet.length)).toEqual([20 + 20 + 5 * MSS, 20 + 20 + 5 * MSS]);
    const id = (p: Uint8Array): number => (p[4]! << 8) | p[5]!;
    expect(id(h.packets[1]!.packet)).toBe((id(h.packets[0]!.packet) + 5) & 0xffff);
    expect(h.host.counters.packetsOut).toBe(1 + 10); // the SYN-ACK and the 10 segments
    // The checksum field holds the pseudo-header sum: finishing it as a device does (the
    // complement of the sum from the TCP header on, field included) gives a valid checksum.
    for (const { packet } of h.packets) {
      const done = packet.slice();
      const c = finishChecksum(sumBytes(done, 20, done.length));
      done[36] = c >>> 8;
      done[37] = c & 0xff;
      expect(parseTcp(done.subarray(20), { src: LOCAL_ADDR, dst: REMOTE_ADDR }).ok).toBe(true);
      expect(parseTcp(packet.subarray(20), { src: LOCAL_ADDR, dst: REMOTE_ADDR }).ok).toBe(false);
    }
  });

  for (const timestamps of [false, true]) {
    it(`puts on the wire exactly what a host without it sends, through SACK loss recovery (timestamps ${timestamps})`, () => {
      const plain = scenario(0, { timestamps });
      const gso = scenario(65536, { timestamps });
      expect(plain.steps.flat().every((p) => p.gso === undefined)).toBe(true);
      expect(gso.steps.map(wire)).toEqual(plain.steps.map(wire));
      // The offload was used for new data...
      expect(gso.steps[0]!.every((p) => p.gso !== undefined)).toBe(true);
      expect(gso.steps[0]!.length).toBeLessThan(plain.steps[0]!.length);
      // ...and the repair is one MSS from SND.UNA, as a plain packet.
      const repair = gso.steps[1]![0]!;
      expect(repair.gso).toBeUndefined();
      const tcp = repair.packet.subarray(20);
      const seq = ((tcp[4]! << 24) | (tcp[5]! << 16) | (tcp[6]! << 8) | tcp[7]!) >>> 0;
      expect(seq).toBe(seqAdd(gso.iss, 1));
      expect(repair.packet.length - 20 - (tcp[12]! >>> 4) * 4).toBe(payloadPerSegment({ timestamps }));
    });
  }

  it("never holds a segment outside a transmission pass (a bare ACK leaves at once)", () => {
    const { h, iss } = establishedOn(65536);
    h.deliver({ flags: ACK | PSH, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1), payload: "x".repeat(100) });
    h.advance(200);
    h.expectSent([{ flags: ACK, seq: seqAdd(iss, 1), ack: seqAdd(REMOTE_SEQ, 101) }]);
    expect(h.packets.map((p) => p.gso)).toEqual([undefined]);
  });
});

describe("splitGso", () => {
  it("returns a packet that holds one segment as it is", () => {
    const { h, conn } = establishedOn(65536);
    conn.send(data(100));
    h.settle();
    const p = h.packets[0]!.packet;
    expect(splitGso(p, MSS)).toEqual([p]);
  });
});
