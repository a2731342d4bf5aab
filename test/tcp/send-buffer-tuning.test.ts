/** Send buffer autotuning (Linux tcp_sndbuf_expand): the buffer grows with cwnd, up to tcp_wmem[2], unless SO_SNDBUF set it. */
import { describe, expect, it } from "vitest";
import { perSegmentMemory, tunedSendBuffer } from "../../src/tcp/send-buffer-tuning.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { longPathBulk } from "./long-path.js";

/** The client's send buffer as configured, the server's receive buffer large. */
const bulk = (clientTcp: Partial<TcpConfig>, lockAt?: number) => longPathBulk(clientTcp, { receiveBufferSize: 8 << 20 }, lockAt);

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


describe("send buffer autotuning on a long path", () => {
  it("lets more than the initial buffer be in flight, and the transfer ends sooner than with the buffer capped", () => {
    const tuned = bulk({ sendBufferSize: 64 * 1024 });
    const capped = bulk({ sendBufferSize: 64 * 1024, sendBufferMax: 64 * 1024 });
    expect(tuned.doneAt).toBeGreaterThan(0);
    expect(capped.doneAt).toBeGreaterThan(0);
    // A write may fill the skb it starts past the buffer's size (write-admission.ts): at most one skb of 64 KiB more.
    expect(capped.maxFlight).toBeLessThanOrEqual(2 * 64 * 1024);
    expect(tuned.maxFlight).toBeGreaterThan(4 * 64 * 1024);
    expect(tuned.doneAt).toBeLessThan(capped.doneAt / 2);
  });

  it("leaves a buffer the application sized (SO_SNDBUF) as it is", () => {
    const locked = bulk({ sendBufferSize: 64 * 1024 }, 64 * 1024);
    expect(locked.doneAt).toBeGreaterThan(0);
    expect(locked.maxFlight).toBeLessThanOrEqual(2 * 64 * 1024);
  });
});
