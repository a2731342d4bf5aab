/**
 * The relay reports how late it delivered what it held back (Relay.stats.lateness): the
 * figure that tells whether a measurement through it got the path it asked for. The relay
 * runs on real time by design (it is the live stand-in for netem), so this test does too:
 * it holds the event loop past the packets' due time and checks the relay saw that.
 */
import { describe, expect, it } from "vitest";
import { pipePair, Relay } from "../../src/node/relay.js";

describe("Relay lateness", () => {
  it("counts the packets it held back and how late the event loop let them go", async () => {
    const [a, toA] = pipePair(1500, ["a", "relay-a"]);
    const [toB, b] = pipePair(1500, ["relay-b", "b"]);
    const relay = new Relay({ a: toA, b: toB, impair: { delay: 5 }, seed: 1 });
    const got: number[] = [];
    b.onPacket = (p) => got.push(p[0]!);
    try {
      for (let i = 0; i < 3; i++) a.send(Uint8Array.of(i));
      // Let the pipe hand the packets to the relay, then hold the loop for 40 ms: they were due 5 ms in.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(relay.stats.inFlight).toBe(3);
      const until = performance.now() + 40;
      while (performance.now() < until) {
        /* the busy stack this figure exists to reveal */
      }
      const deadline = performance.now() + 2000;
      while (got.length < 3 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(got).toEqual([0, 1, 2]);
      const late = relay.stats.lateness;
      expect(late.held).toBe(3);
      expect(late.over2Ms).toBe(3);
      expect(late.maxMs).toBeGreaterThanOrEqual(30);
      expect(late.meanMs).toBeGreaterThanOrEqual(30);
      expect(late.meanMs).toBeLessThanOrEqual(late.maxMs);
    } finally {
      await relay.close();
      await a.close();
      await b.close();
    }
  });

  it("reports nothing held when packets pass without delay", async () => {
    const [a, toA] = pipePair(1500);
    const [toB, b] = pipePair(1500);
    const relay = new Relay({ a: toA, b: toB, seed: 1 });
    let n = 0;
    b.onPacket = () => n++;
    try {
      a.send(Uint8Array.of(1));
      const deadline = performance.now() + 2000;
      while (n === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      expect(n).toBe(1);
      expect(relay.stats.lateness).toEqual({ held: 0, meanMs: 0, maxMs: 0, over2Ms: 0 });
    } finally {
      await relay.close();
    }
  });
});
