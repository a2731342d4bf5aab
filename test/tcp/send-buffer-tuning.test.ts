/** Send buffer autotuning (Linux tcp_sndbuf_expand): the buffer grows with cwnd, up to tcp_wmem[2], unless SO_SNDBUF set it. */
import { describe, expect, it } from "vitest";
import { perSegmentMemory, tunedSendBuffer } from "../../src/tcp/send-buffer-tuning.js";
import type { Connection } from "../../src/tcp/connection.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { pair, PAIR_ADDRESSES } from "./fixtures.js";
import { StreamApp, pattern } from "./app.js";

const MSS = 1448;

describe("tunedSendBuffer", () => {
  it("one segment costs a power-of-two head with header room plus the sk_buff, as Linux's per_mss", () => {
    expect(perSegmentMemory(1448)).toBe(4096 + 256);
    expect(perSegmentMemory(9000)).toBe(16384 + 256);
  });

  it("grows to factor x max(cwnd, 10 segments) x per-segment memory, capped by the maximum, never shrinking", () => {
    const per = perSegmentMemory(MSS);
    expect(tunedSendBuffer(16_384, 4 << 20, 10 * MSS, 0, MSS, 2)).toBe(2 * 10 * per);
    expect(tunedSendBuffer(16_384, 4 << 20, 40 * MSS, 0, MSS, 2)).toBe(2 * 40 * per);
    expect(tunedSendBuffer(16_384, 4 << 20, 40 * MSS, 0, MSS, 3)).toBe(3 * 40 * per); // BBR
    expect(tunedSendBuffer(16_384, 4 << 20, 2000 * MSS, 0, MSS, 2)).toBe(4 << 20);
    expect(tunedSendBuffer(1 << 20, 4 << 20, 10 * MSS, 0, MSS, 2)).toBe(1 << 20); // never smaller
  });

  it("does not grow while the window is full: more buffer would not let more leave", () => {
    expect(tunedSendBuffer(16_384, 4 << 20, 40 * MSS, 40 * MSS, MSS, 2)).toBe(16_384);
  });
});

/** Bulk over a 100 ms round trip; returns the sender's connection and when the last byte arrived. */
function bulk(clientTcp: Partial<TcpConfig>, lockAt?: number): { conn: Connection; doneAt: number; maxFlight: number } {
  const bytes = 6_000_000;
  const { net, client, server } = pair({ link: { delay: 50 }, clientTcp, serverTcp: { receiveBufferSize: 8 << 20 } });
  const listener = server.tcp.listen(80);
  let sink: StreamApp | undefined;
  listener.onConnection = () => {
    const c = listener.accept();
    if (c !== undefined) sink = new StreamApp(c, new Uint8Array(0));
  };
  const conn = client.tcp.connect({ localAddr: PAIR_ADDRESSES[4].client, remoteAddr: PAIR_ADDRESSES[4].server, remotePort: 80 });
  if (lockAt !== undefined) conn.setSendBufferSize(lockAt);
  new StreamApp(conn, pattern(bytes, 1));
  let maxFlight = 0;
  let doneAt = -1;
  for (let t = 0; t < 20_000 && doneAt < 0; t += 5) {
    net.run({ until: t });
    const i = conn.inspect();
    maxFlight = Math.max(maxFlight, (i.sndNxt - i.sndUna) >>> 0);
    if (sink !== undefined && sink.receivedBytes === bytes) doneAt = t;
  }
  return { conn, doneAt, maxFlight };
}

describe("send buffer autotuning on a long path", () => {
  it("lets more than the initial buffer be in flight, and the transfer ends sooner than with the buffer capped", () => {
    const tuned = bulk({ sendBufferSize: 64 * 1024 });
    const capped = bulk({ sendBufferSize: 64 * 1024, sendBufferMax: 64 * 1024 });
    expect(tuned.doneAt).toBeGreaterThan(0);
    expect(capped.doneAt).toBeGreaterThan(0);
    expect(capped.maxFlight).toBeLessThanOrEqual(64 * 1024);
    expect(tuned.maxFlight).toBeGreaterThan(4 * 64 * 1024);
    expect(tuned.doneAt).toBeLessThan(capped.doneAt / 2);
  });

  it("leaves a buffer the application sized (SO_SNDBUF) as it is", () => {
    const locked = bulk({ sendBufferSize: 64 * 1024 }, 64 * 1024);
    expect(locked.doneAt).toBeGreaterThan(0);
    expect(locked.maxFlight).toBeLessThanOrEqual(64 * 1024);
  });
});
