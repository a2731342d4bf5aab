/**
 * Two Hosts joined as Linux's veth joins two namespaces, with segmentation and receive
 * offload both ways (bench/bulk.js --gso): each Host hands the link a transmission pass's
 * segments as one super-packet (HostOptions.gsoMaxSize), and the other takes it whole,
 * told its GSO size (Endpoint.receive's gsoSize) and, as veth does for a packet whose
 * checksum was left partial, that the checksum needs no check.
 */
import { describe, expect, it } from "vitest";
import { Host } from "../../src/host/host.js";
import { SimRng } from "../../src/sim/rng.js";
import { tcpInfo } from "../../src/tcp/tcp-info.js";
import { parseIpAddress } from "../../src/wire/address.js";
import type { GsoInfo } from "../../src/endpoint.js";

const A = parseIpAddress("10.0.0.1")!;
const B = parseIpAddress("10.0.0.2")!;

interface Queued {
  packet: Uint8Array;
  gso: GsoInfo | undefined;
}

/** Packets and the segments in them, per direction. */
interface LinkCount {
  packets: number;
  superPackets: number;
  segments: number;
}

function vethPair(): { a: Host; b: Host; run: () => void; aToB: LinkCount } {
  const toA: Queued[] = [];
  const toB: Queued[] = [];
  let now = 0;
  const aToB: LinkCount = { packets: 0, superPackets: 0, segments: 0 };
  const bToA: LinkCount = { packets: 0, superPackets: 0, segments: 0 };
  const rng = new SimRng(7);
  const link = (q: Queued[], count: LinkCount) => (packet: Uint8Array, gso?: GsoInfo) => {
    q.push({ packet, gso });
    count.packets++;
    if (gso !== undefined) count.superPackets++;
    count.segments += gso?.segments ?? 1;
  };
  const a = new Host({ name: "a", address: A, rng: rng.fork("a"), gsoMaxSize: 65536, transmit: link(toB, aToB) });
  const b = new Host({ name: "b", address: B, rng: rng.fork("b"), gsoMaxSize: 65536, transmit: link(toA, bToA) });
  const deliver = (q: Queued[], to: Host): boolean => {
    const batch = q.splice(0);
    for (const p of batch) to.receive(now, p.packet, p.gso !== undefined, p.gso?.size ?? 0);
    return batch.length > 0;
  };
  const run = (): void => {
    for (let round = 0; round < 100_000; round++) {
      if (deliver(toB, b) || deliver(toA, a)) continue;
      const next = Math.min(a.nextDeadline(), b.nextDeadline());
      if (next === Infinity || next > now + 1000) return;
      now = Math.max(now, next);
      a.poll(now);
      b.poll(now);
    }
    throw new Error("the pair did not settle");
  };
  return { a, b, run, aToB };
}

describe("a veth-like link with GSO and GRO", () => {
  it("carries a bulk transfer in super-packets, intact, and the receiver measures the sender's MSS by their GSO size", () => {
    const pair = vethPair();
    const listener = pair.b.tcp.listen(5001);
    const client = pair.a.tcp.connect({ localAddr: A, remoteAddr: B, remotePort: 5001 });
    pair.run();
    const server = listener.accept()!;
    expect(client.state).toBe("ESTABLISHED");

    const total = 1 << 20;
    const sent = new Uint8Array(total);
    for (let i = 0; i < total; i++) sent[i] = (i * 7 + (i >>> 9)) & 0xff;
    const got = new Uint8Array(total);
    let written = 0;
    let received = 0;
    for (let round = 0; round < 1000 && received < total; round++) {
      if (written < total) written += client.send(sent.subarray(written));
      pair.run();
      for (let d = server.read(); d.length > 0; d = server.read()) {
        got.set(d, received);
        received += d.length;
      }
    }
    expect(received).toBe(total);
    let differing = 0;
    for (let i = 0; i < total; i++) if (got[i] !== sent[i]) differing++;
    expect(differing).toBe(0);
    // The data crossed in MSS-sized segments, most of them inside super-packets: a few
    // packets carry them all.
    expect(pair.aToB.segments).toBeGreaterThanOrEqual(Math.ceil(total / client.sendMss));
    expect(pair.aToB.superPackets).toBeGreaterThan(0);
    expect(pair.aToB.packets * 4).toBeLessThan(pair.aToB.segments);
    expect(client.inspect().retransmits).toBe(0);
    // tcp_measure_rcv_mss: the GSO size, not the super-packet's length.
    expect(tcpInfo(server, 0).rcvMss).toBe(client.sendMss);
  });
});
