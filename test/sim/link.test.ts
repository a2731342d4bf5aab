import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ImpairedLink, LINK_DEFAULTS, resolveLinkConfig, type LinkConfig } from "../../src/sim/link.js";
import { SimRng } from "../../src/sim/rng.js";
import { NULL_SINK, type TraceSink } from "../../src/trace/events.js";
import { A, B, bitDifference, ipPacket, TraceLog } from "./helpers.js";

function link(config: LinkConfig, seed = 1, trace: TraceSink = NULL_SINK): ImpairedLink {
  return new ImpairedLink("a->b", config, new SimRng(seed), trace);
}

/** Offers `n` packets at time `now` (or at now, now+spacing, ...) and returns all delivery times. */
function offer(l: ImpairedLink, n: number, now = 0, spacing = 0, size = 100): number[] {
  const times: number[] = [];
  for (let i = 0; i < n; i++) for (const d of l.send(now + i * spacing, ipPacket(A, B, size))) times.push(d.time);
  return times;
}

describe("ImpairedLink: delay and jitter", () => {
  it("delivers after the default 1 ms, the same buffer, untouched", () => {
    const p = ipPacket(A, B);
    const [d, ...rest] = link({}).send(5, p);
    expect(rest).toEqual([]);
    expect(d!.time).toBe(6);
    expect(d!.packet).toBe(p);
  });

  it("adds the configured delay", () => {
    expect(offer(link({ delay: 25 }), 3, 10)).toEqual([35, 35, 35]);
  });

  it("keeps jittered delays within [delay - jitter, delay + jitter] and uses the whole range", () => {
    const times = offer(link({ delay: 10, jitter: 3 }), 5000);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(7);
    expect(Math.max(...times)).toBeLessThanOrEqual(13);
    expect(Math.min(...times)).toBeLessThan(7.1);
    expect(Math.max(...times)).toBeGreaterThan(12.9);
  });

  it("never delivers before the packet was sent, even when jitter exceeds the delay", () => {
    const times = offer(link({ delay: 1, jitter: 5 }), 1000, 100);
    expect(Math.min(...times)).toBe(100);
    expect(times.every((t) => t >= 100 && t <= 106)).toBe(true);
  });
});

describe("ImpairedLink: loss", () => {
  it("loses about `loss` of the packets, each traced as a drop with reason loss", () => {
    const trace = new TraceLog();
    const l = link({ loss: 0.1 }, 1, trace);
    const delivered = offer(l, 10_000).length;
    expect(l.stats.losses).toBe(10_000 - delivered);
    expect(l.stats.losses).toBeGreaterThan(900);
    expect(l.stats.losses).toBeLessThan(1100);
    const drops = trace.links();
    expect(drops.length).toBe(l.stats.losses);
    expect(drops[0]).toEqual({ type: "link", time: 0, link: "a->b", action: "drop", reason: "loss", bytes: 100 });
  });

  it("is exact for a given seed", () => {
    const count = (seed: number) => offer(link({ loss: 0.5 }, seed), 200).length;
    expect(count(3)).toBe(count(3));
    expect([count(1), count(2), count(3), count(4)].some((n) => n !== count(1))).toBe(true);
  });

  it("loses everything at loss 1 and nothing at loss 0", () => {
    expect(offer(link({ loss: 1 }), 50)).toEqual([]);
    expect(offer(link({ loss: 0 }), 50).length).toBe(50);
  });
});

describe("ImpairedLink: duplication", () => {
  it("at probability 1 delivers two equal copies in separate buffers", () => {
    const trace = new TraceLog();
    const p = ipPacket(A, B);
    const l = link({ duplicate: 1 }, 1, trace);
    const ds = l.send(0, p);
    expect(ds.length).toBe(2);
    expect(ds[0]!.packet).toEqual(ds[1]!.packet);
    expect(ds[0]!.packet).not.toBe(ds[1]!.packet);
    expect(l.stats.duplicated).toBe(1);
    expect(l.stats.delivered).toBe(2);
    expect(trace.links().map((e) => e.action)).toEqual(["duplicate"]);
  });

  it("duplicates about `duplicate` of the packets", () => {
    const l = link({ duplicate: 0.25 });
    const n = offer(l, 4000).length - 4000;
    expect(n).toBe(l.stats.duplicated);
    expect(n).toBeGreaterThan(900);
    expect(n).toBeLessThan(1100);
  });
});

describe("ImpairedLink: reordering", () => {
  it("holds a reordered copy back by reorderDelay and traces it", () => {
    const trace = new TraceLog();
    expect(offer(link({ delay: 2, reorder: 1, reorderDelay: 30 }, 1, trace), 1)).toEqual([32]);
    expect(trace.links()).toEqual([{ type: "link", time: 0, link: "a->b", action: "delay", reason: "reorder", bytes: 100 }]);
  });

  it("lets later packets overtake the held ones", () => {
    const l = link({ delay: 5, reorder: 0.2, reorderDelay: 10 });
    const times = offer(l, 200, 0, 1);
    const inversions = times.filter((t, i) => i > 0 && t < times[i - 1]!).length;
    expect(l.stats.reordered).toBeGreaterThan(20);
    expect(inversions).toBeGreaterThan(10);
    expect(times.every((t, i) => t === i + 5 || t === i + 15)).toBe(true);
  });

  it("defaults reorderDelay to 10 ms", () => {
    expect(LINK_DEFAULTS.reorderDelay).toBe(10);
    expect(offer(link({ delay: 1, reorder: 1 }), 1)).toEqual([11]);
  });
});

describe("ImpairedLink: corruption", () => {
  it("flips exactly one bit of a copy and leaves the sender's buffer alone", () => {
    fc.assert(
      fc.property(fc.integer(), fc.uint8Array({ minLength: 1, maxLength: 300 }), (seed, bytes) => {
        const original = bytes.slice();
        const [d] = link({ corrupt: 1 }, seed).send(0, bytes);
        expect(bytes).toEqual(original);
        expect(d!.packet.length).toBe(bytes.length);
        expect(bitDifference(d!.packet, bytes)).toBe(1);
      }),
    );
  });

  it("can hit any bit of the packet, headers included", () => {
    const l = link({ corrupt: 1 }, 5);
    const p = ipPacket(A, B, 20, 0);
    const hit = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const q = l.send(0, p)[0]!.packet;
      for (let bit = 0; bit < 160; bit++) if (((q[bit >> 3]! ^ p[bit >> 3]!) & (0x80 >> (bit & 7))) !== 0) hit.add(bit);
    }
    expect(hit.size).toBe(160);
  });

  it("corrupts each duplicate independently and traces each corruption", () => {
    const trace = new TraceLog();
    const p = ipPacket(A, B);
    const ds = link({ corrupt: 1, duplicate: 1 }, 2, trace).send(0, p);
    expect(ds.map((d) => bitDifference(d.packet, p))).toEqual([1, 1]);
    expect(trace.links().map((e) => `${e.action}:${e.reason}`)).toEqual(["duplicate:duplicate", "corrupt:bit-flip", "corrupt:bit-flip"]);
  });

  it("corrupts about `corrupt` of the packets", () => {
    const l = link({ corrupt: 0.05 });
    offer(l, 10_000);
    expect(l.stats.corrupted).toBeGreaterThan(400);
    expect(l.stats.corrupted).toBeLessThan(600);
  });
});

describe("ImpairedLink: rate and queue", () => {
  it("serializes 1500-byte packets at 12 Mbit/s in 1 ms each, one after another", () => {
    expect(offer(link({ delay: 0, rate: 12_000_000 }), 5, 0, 0, 1500)).toEqual([1, 2, 3, 4, 5]);
    expect(offer(link({ delay: 5, rate: 12_000_000 }), 3, 0, 0, 1500)).toEqual([6, 7, 8]);
  });

  it("scales serialization with packet size, and an idle link starts at once", () => {
    const l = link({ delay: 0, rate: 12_000_000 });
    expect(offer(l, 1, 0, 0, 750)).toEqual([0.5]);
    expect(offer(l, 1, 10, 0, 1500)).toEqual([11]);
  });

  it("tail-drops packets beyond queueLimit waiting packets, tracing queue-full", () => {
    const trace = new TraceLog();
    const l = link({ delay: 0, rate: 12_000_000, queueLimit: 2 }, 1, trace);
    // One on the wire, two waiting, two dropped.
    expect(offer(l, 5, 0, 0, 1500)).toEqual([1, 2, 3]);
    expect(l.stats.queueDrops).toBe(2);
    expect(trace.links().map((e) => e.reason)).toEqual(["queue-full", "queue-full"]);
    // At 1.5 ms one packet is on the wire and one waits: room for one more, which ends at 4.
    expect(l.queued(1.5)).toBe(1);
    expect(offer(l, 2, 1.5, 0, 1500)).toEqual([4]);
  });

  it("with queueLimit 0 accepts a packet only when the bottleneck is idle", () => {
    const l = link({ delay: 0, rate: 12_000_000, queueLimit: 0 });
    expect(offer(l, 3, 0, 0, 1500)).toEqual([1]);
    expect(offer(l, 1, 1, 0, 1500)).toEqual([2]);
  });

  it("does not queue at all without a rate", () => {
    const l = link({ queueLimit: 0 });
    expect(offer(l, 100).length).toBe(100);
  });
});

describe("ImpairedLink: MTU", () => {
  it("drops packets larger than the MTU with reason mtu, and passes one of exactly the MTU", () => {
    const trace = new TraceLog();
    const l = link({ mtu: 576 }, 1, trace);
    expect(l.send(0, ipPacket(A, B, 577))).toEqual([]);
    expect(l.send(0, ipPacket(A, B, 576)).length).toBe(1);
    expect(l.stats.mtuDrops).toBe(1);
    expect(trace.links()).toEqual([{ type: "link", time: 0, link: "a->b", action: "drop", reason: "mtu", bytes: 577 }]);
  });
});

describe("ImpairedLink: fault rule", () => {
  it("is asked first, with the packet and its 0-based index on this link", () => {
    const seen: number[] = [];
    const l = link({
      loss: 1, // never reached for dropped packets, and a rule drop is not counted as loss
      filter: (_p, index) => {
        seen.push(index);
        return "drop";
      },
    });
    offer(l, 3);
    expect(seen).toEqual([0, 1, 2]);
    expect(l.stats.ruleDrops).toBe(3);
    expect(l.stats.losses).toBe(0);
  });

  it("can hold a packet for extra time, traced as a delay by rule", () => {
    const trace = new TraceLog();
    const l = link({ delay: 3, filter: (_p, i) => (i === 1 ? { delay: 100 } : "pass") }, 1, trace);
    expect(offer(l, 3)).toEqual([3, 103, 3]);
    expect(trace.links()).toEqual([{ type: "link", time: 0, link: "a->b", action: "delay", reason: "rule", bytes: 100 }]);
  });

  it("rejects a negative rule delay", () => {
    expect(() => link({ filter: () => ({ delay: -1 }) }).send(0, ipPacket(A, B))).toThrow(RangeError);
  });
});

describe("ImpairedLink: configuration and tracing", () => {
  it("fills defaults, treats explicit undefined as default, and rejects nonsense naming the field", () => {
    expect(resolveLinkConfig({ delay: undefined, loss: 0.5 })).toMatchObject({ delay: 1, loss: 0.5, rate: Infinity, mtu: Infinity });
    expect(() => resolveLinkConfig({ loss: 1.5 })).toThrow(/loss/);
    expect(() => resolveLinkConfig({ delay: -1 })).toThrow(/delay/);
    expect(() => resolveLinkConfig({ jitter: Number.NaN })).toThrow(/jitter/);
    expect(() => resolveLinkConfig({ rate: 0 })).toThrow(/rate/);
    expect(() => resolveLinkConfig({ queueLimit: 1.5 })).toThrow(/queueLimit/);
    expect(() => resolveLinkConfig({ mtu: 0 })).toThrow(/mtu/);
    expect(() => resolveLinkConfig({ mtu: 67 })).toThrow("link mtu must be at least 68 bytes (IPv4's minimum), got 67");
    expect(resolveLinkConfig({ mtu: 68 }).mtu).toBe(68);
  });

  it("configure() changes impairments for later packets", () => {
    const l = link({});
    expect(offer(l, 1)).toEqual([1]);
    l.configure({ loss: 1 });
    expect(offer(l, 1)).toEqual([]);
    expect(l.settings.loss).toBe(1);
  });

  it("builds no trace events when the sink is disabled", () => {
    let emitted = 0;
    const off: TraceSink = { enabled: false, emit: () => void emitted++ };
    offer(link({ loss: 0.5, duplicate: 0.5, corrupt: 0.5, reorder: 0.5 }, 1, off), 100);
    expect(emitted).toBe(0);
  });
});
