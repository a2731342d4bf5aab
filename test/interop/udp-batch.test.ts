/**
 * The UDP tunnel's batched transport (sendmmsg/recvmmsg with UDP_SEGMENT and UDP_GRO) on
 * loopback: a TCP transfer between two synack stacks arrives intact with batching on, off,
 * and on at one end only; the offloads are really used; and the batched socket survives
 * the errors a send can meet. 127.0.0.1 only, every socket closed at the end.
 */
import { createSocket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { httpRequest, httpService } from "../../src/node/services/http.js";
import { LiveStack } from "../../src/node/services/live.js";
import { BatchedUdpSocket, UdpBatchError } from "../../src/node/udp-batch.js";
import { UdpTunnel } from "../../src/node/udp-tunnel.js";
import { parseIpv4Address } from "../../src/wire/ipv4.js";
import { MIB, patternSha, until } from "./harness.js";

const A = parseIpv4Address("10.7.41.1")!;
const B = parseIpv4Address("10.7.41.2")!;
const LOOP = { host: "127.0.0.1", port: 0 };
const linux = process.platform === "linux";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => {});
});

async function pair(batchA: boolean, batchB: boolean): Promise<{ ta: UdpTunnel; tb: UdpTunnel; a: LiveStack; b: LiveStack }> {
  const ta = await UdpTunnel.open({ listen: LOOP, batch: batchA });
  cleanup.push(() => ta.close());
  const tb = await UdpTunnel.open({ listen: LOOP, peer: { host: "127.0.0.1", port: ta.local.port }, batch: batchB });
  cleanup.push(() => tb.close());
  const a = new LiveStack({ link: ta, address: A, interfaces: [{ name: "t0", address: A, prefixLength: 24 }], name: "a" });
  cleanup.push(() => a.close());
  const b = new LiveStack({ link: tb, address: B, interfaces: [{ name: "t0", address: B, prefixLength: 24 }], name: "b" });
  cleanup.push(() => b.close());
  httpService(a, 80);
  return { ta, tb, a, b };
}

describe.runIf(linux)("a TCP transfer through two UDP tunnel endpoints", () => {
  for (const [batchA, batchB] of [[true, true], [false, false], [true, false]] as const) {
    it(`arrives intact with batching ${batchA ? "on" : "off"} / ${batchB ? "on" : "off"}`, async () => {
      const { ta, tb, b } = await pair(batchA, batchB);
      expect(ta.batched).toBe(batchA);
      expect(tb.batched).toBe(batchB);
      const res = await httpRequest(b, `http://10.7.41.1/bytes/${8 * MIB}`, { timeoutMs: 30_000 });
      expect(res.status).toBe(200);
      expect(res.length).toBe(8 * MIB);
      expect(res.sha256).toBe(patternSha(8 * MIB));
      if (batchA) {
        const c = ta.batchCounters!;
        // The server's bulk data left in batches: far fewer system calls than datagrams,
        // and runs of full-sized segments as UDP_SEGMENT sends.
        expect(c.sendCalls).toBeLessThan(ta.counters.packetsOut / 2);
        expect(c.gsoSends).toBeGreaterThan(0);
        expect(c.gsoSegments).toBeGreaterThan(c.gsoSends);
      } else {
        expect(ta.batchCounters).toBeUndefined();
      }
      if (batchB) {
        // The kernel coalesced the segments on the way in (UDP_GRO) and they were split again.
        const c = tb.batchCounters!;
        expect(c.recvCalls).toBeLessThan(tb.counters.packetsIn);
        if (batchA) expect(c.groReads).toBeGreaterThan(0);
      }
    }, 40_000);
  }

  it("uses node:dgram without a fallback note when batching is off", async () => {
    const t = await UdpTunnel.open({ listen: LOOP, batch: false });
    cleanup.push(() => t.close());
    expect(t.batched).toBe(false);
    expect(t.batchFallback).toBeUndefined();
  });
});

describe.runIf(linux)("the batched socket", () => {
  async function open(): Promise<BatchedUdpSocket> {
    const s = BatchedUdpSocket.open(LOOP);
    cleanup.push(() => s.close());
    return s;
  }

  async function receiver(): Promise<{ port: number; got: number[] }> {
    const r = createSocket("udp4");
    const got: number[] = [];
    r.on("message", (m) => got.push(m.length));
    await new Promise<void>((resolve) => r.bind(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise<void>((resolve) => r.close(() => resolve())));
    return { port: r.address().port, got };
  }

  it("sends a mixed batch that a plain socket receives datagram by datagram", async () => {
    const s = await open();
    const r = await receiver();
    const sizes = [1200, 1200, 1200, 700, 60, 1500, 1500, 9000, 40];
    expect(s.sendBatch(sizes.map((n) => new Uint8Array(n).fill(n & 0xff)), { host: "127.0.0.1", port: r.port })).toBe(0);
    await until(() => r.got.length === sizes.length, 5_000, "all datagrams");
    expect(r.got).toEqual(sizes);
    expect(s.counters.sendCalls).toBe(1);
    // [1200 x3, 700] [60] [1500, 1500] [9000, 40]: three UDP_SEGMENT sends and one plain.
    expect(s.counters.gsoSends).toBe(3);
    expect(s.counters.gsoSegments).toBe(8);
  });

  it("speaks IPv6 (sockaddr_in6 both ways), a GSO group included", async () => {
    const tx = BatchedUdpSocket.open({ host: "::1", port: 0 });
    cleanup.push(() => tx.close());
    const rx = BatchedUdpSocket.open({ host: "::1", port: 0 });
    cleanup.push(() => rx.close());
    const got: Array<[number, string, number]> = [];
    rx.onDatagram = (d, from) => got.push([d.length, from.host, from.port]);
    expect(tx.sendBatch([new Uint8Array(1000), new Uint8Array(1000), new Uint8Array(10)], rx.local)).toBe(0);
    await until(() => got.length === 3, 5_000, "three datagrams over ::1");
    expect(got).toEqual([1000, 1000, 10].map((n) => [n, "::1", tx.local.port]));
    expect(tx.counters.gsoSends).toBe(1);
  });

  it("drops an oversized datagram with EMSGSIZE, keeps the rest and goes on", async () => {
    const s = await open();
    const r = await receiver();
    const to = { host: "127.0.0.1", port: r.port };
    expect(s.sendBatch([new Uint8Array(100), new Uint8Array(70_000), new Uint8Array(200)], to)).toBe(1);
    expect(s.counters.errors.EMSGSIZE).toBe(1);
    expect(s.sendBatch([new Uint8Array(300)], to)).toBe(0);
    await until(() => r.got.length === 3, 5_000, "the three good datagrams");
    expect(r.got).toEqual([100, 200, 300]);
  });

  it("does not fail on a peer whose port is closed", async () => {
    const s = await open();
    const r = await receiver();
    const port = r.port;
    await cleanup.pop()!(); // close the receiver: the port now answers with ICMP port unreachable
    for (let i = 0; i < 3; i++) expect(s.sendBatch([new Uint8Array(64)], { host: "127.0.0.1", port })).toBeLessThanOrEqual(1);
    // An unconnected socket is not told (udp(7) without IP_RECVERR); either way, sending and reading go on.
    const back = await receiver();
    expect(s.sendBatch([new Uint8Array(64)], { host: "127.0.0.1", port: back.port })).toBe(0);
    await until(() => back.got.length === 1, 5_000, "the datagram to a live port");
  });

  it("reports a taken port as a typed error with a stable code", async () => {
    const s = await open();
    let err: unknown;
    try {
      BatchedUdpSocket.open({ host: "127.0.0.1", port: s.local.port });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UdpBatchError);
    expect((err as UdpBatchError).code).toBe("EADDRINUSE");
    expect((err as UdpBatchError).syscall).toBe("bind");
    expect(() => BatchedUdpSocket.open({ host: "localhost", port: 0 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ADDRESS" }));
  });

  it("gives the tunnel's bind error, not a silent fallback, for a taken port", async () => {
    const s = await open();
    await expect(UdpTunnel.open({ listen: { host: "127.0.0.1", port: s.local.port } })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });
});
