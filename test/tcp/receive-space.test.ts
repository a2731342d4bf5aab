/** Receive buffer autotuning (Linux tcp_rcv_space_adjust): the buffer follows what the application reads per round trip. */
import { describe, expect, it } from "vitest";
import { ReceiveSpace } from "../../src/tcp/receive-space.js";
import { tcpInfo } from "../../src/tcp/tcp-info.js";
import type { Seq } from "../../src/wire/seq.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { longPathBulk } from "./long-path.js";

/** The server's receive buffer as configured, the client's send buffer large. */
const bulk = (serverTcp: Partial<TcpConfig>) => longPathBulk({ sendBufferSize: 8 << 20 }, serverTcp);

const MSS = 1448;
const at = (n: number): Seq => n as Seq;

describe("ReceiveSpace", () => {
  it("smooths the receiver RTT 7/8 old + 1/8 new and ignores missing samples", () => {
    const s = new ReceiveSpace();
    s.sample(undefined);
    expect(s.rtt).toBe(0);
    s.sample(80);
    expect(s.rtt).toBe(80);
    s.sample(40);
    expect(s.rtt).toBe(75);
  });

  it("once per round trip, grows to 2 x read + 16 segments + twice the round's growth, capped, never shrinking", () => {
    const s = new ReceiveSpace();
    s.sample(100);
    expect(s.afterRead(0, at(0), 262_144, 6 << 20, MSS)).toBe(262_144); // starts the first round: 10 segments expected
    expect(s.afterRead(50, at(100_000), 262_144, 6 << 20, MSS)).toBe(262_144); // within the round trip: nothing yet
    // Round 1: 200,000 bytes read against 14,480 expected.
    const copied = 200_000;
    const base = 2 * copied + 16 * MSS;
    const grown = base + 2 * Math.floor((base * (copied - 10 * MSS)) / (10 * MSS));
    expect(s.afterRead(100, at(copied), 262_144, 64 << 20, MSS)).toBe(grown);
    expect(s.bytesPerRound).toBe(copied);
    // Round 2 reads 400,000 (twice round 1): 2 x 400,000 + 16 segments, plus twice that again; then the cap.
    const second = 3 * (2 * 400_000 + 16 * MSS);
    expect(s.afterRead(200, at(copied + 400_000), 1 << 20, 6 << 20, MSS)).toBe(second);
    expect(s.afterRead(300, at(copied + 1_400_000), second, 3 << 20, MSS)).toBe(3 << 20);
    // A round that reads less leaves the size as it is.
    expect(s.afterRead(400, at(copied + 1_400_100), 3 << 20, 6 << 20, MSS)).toBe(3 << 20);
  });

  it("without timestamps: one sample per window, the time the peer took to fill the window we offered; the minimum is kept", () => {
    const s = new ReceiveSpace();
    s.measureWindow(0, at(0), 64_000); // the measure starts: done when rcvNxt reaches 64,000
    s.measureWindow(30, at(40_000), 64_000); // not yet
    expect(s.rtt).toBe(0);
    s.measureWindow(100, at(64_000), 128_000); // filled after 100 ms; the next measure ends at 192,000
    expect(s.rtt).toBe(100);
    s.measureWindow(250, at(192_000), 128_000); // 150 ms: higher, not taken (Linux win_dep keeps the minimum)
    expect(s.rtt).toBe(100);
    s.measureWindow(330, at(320_000), 128_000); // 80 ms: lower, taken
    expect(s.rtt).toBe(80);
  });

  it("without an RTT measure the size stays", () => {
    const s = new ReceiveSpace();
    s.afterRead(0, at(0), 100_000, 6 << 20, MSS);
    expect(s.afterRead(1000, at(5_000_000), 100_000, 6 << 20, MSS)).toBe(100_000);
  });
});


describe("receive buffer autotuning on a long path", () => {
  it("offers a window beyond the initial buffer as the application keeps up, and the transfer ends sooner than with the buffer fixed", () => {
    const tuned = bulk({ receiveBufferSize: 64 * 1024 });
    const fixed = bulk({ receiveBufferSize: 64 * 1024, receiveBufferMax: 64 * 1024 });
    expect(tuned.doneAt).toBeGreaterThan(0);
    expect(fixed.doneAt).toBeGreaterThan(0);
    expect(fixed.maxWindow).toBeLessThanOrEqual(64 * 1024);
    expect(tuned.maxWindow).toBeGreaterThan(4 * 64 * 1024);
    expect(tuned.doneAt).toBeLessThan(fixed.doneAt / 2);
    expect(tcpInfo(tuned.server!, tuned.now).rcvSpace).toBeGreaterThan(64 * 1024);
    expect(tcpInfo(tuned.server!, tuned.now).rcvRtt).toBeGreaterThan(90_000); // µs, about the 100 ms round trip
  });

  it("grows the buffer for a peer without timestamps too, from the time to receive a window (issue 12)", () => {
    const noTs = { timestamps: false };
    const tuned = longPathBulk({ sendBufferSize: 8 << 20, ...noTs }, { receiveBufferSize: 64 * 1024, ...noTs });
    const fixed = longPathBulk({ sendBufferSize: 8 << 20, ...noTs }, { receiveBufferSize: 64 * 1024, receiveBufferMax: 64 * 1024, ...noTs });
    expect(tuned.server!.negotiation.timestamps).toBe(false);
    expect(tuned.doneAt).toBeGreaterThan(0);
    expect(tuned.maxWindow).toBeGreaterThan(4 * 64 * 1024);
    expect(tuned.doneAt).toBeLessThan(fixed.doneAt / 2);
    const rcvRtt = tcpInfo(tuned.server!, tuned.now).rcvRtt;
    expect(rcvRtt).toBeGreaterThanOrEqual(100_000); // µs: a window takes at least the 100 ms round trip
    expect(rcvRtt).toBeLessThan(300_000);
  });
});
