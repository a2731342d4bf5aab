/**
 * The UDP tunnel's automatic fallback: when the batched socket cannot be had (no koffi,
 * not Linux, system calls missing; simulated here by a module whose open() fails that way)
 * the tunnel still opens, on node:dgram, says why, and carries packets.
 */
import { describe, expect, it, vi } from "vitest";

vi.mock("../../src/node/udp-batch.js", () => {
  class UdpBatchError extends Error {
    constructor(
      readonly code: string,
      message: string,
    ) {
      super(message);
    }
  }
  return {
    UdpBatchError,
    BatchedUdpSocket: {
      open: () => {
        throw new UdpBatchError("ERR_UDP_BATCH_UNAVAILABLE", "koffi cannot load libc: simulated");
      },
    },
  };
});

const { UdpTunnel } = await import("../../src/node/udp-tunnel.js");

describe("the UDP tunnel without the batched socket", () => {
  it("falls back to node:dgram, records why, and carries a packet", async () => {
    const a = await UdpTunnel.open({ listen: { host: "127.0.0.1", port: 0 } });
    const b = await UdpTunnel.open({ listen: { host: "127.0.0.1", port: 0 }, peer: { host: "127.0.0.1", port: a.local.port } });
    try {
      expect(a.batched).toBe(false);
      expect(a.batchFallback).toMatch(/koffi cannot load libc: simulated/);
      expect(a.batchCounters).toBeUndefined();
      const got = new Promise<Uint8Array>((resolve) => (a.onPacket = resolve));
      b.send(new Uint8Array([0x45, 1, 2, 3]));
      expect([...(await got)]).toEqual([0x45, 1, 2, 3]);
      expect(a.remote).toEqual({ host: "127.0.0.1", port: b.local.port });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
