import { describe, expect, it } from "vitest";
import { ImpairedLink, resolveLinkConfig, type LinkConfig } from "../../src/sim/link.js";
import { SimRng } from "../../src/sim/rng.js";
import { NULL_SINK } from "../../src/trace/events.js";
import { ACK, SYN } from "../../src/wire/tcp.js";
import { A, B, ipPacket, tcpPacket } from "./helpers.js";

const MSS = 1000;
const payload = new Uint8Array(MSS);

/** Offers a SYN at `isn`, then `count` data segments, with `extra` inserted before segment i when extra(i); returns the lost offsets. */
function lostOffsets(config: LinkConfig, seed: number, isn: number, count: number, extra: (i: number) => Uint8Array | undefined = () => undefined, port = 40000): number[] {
  const link = new ImpairedLink("a->b", { delay: 0, ...config }, new SimRng(seed), NULL_SINK);
  link.send(0, tcpPacket(A, B, { flags: SYN, seq: isn, srcPort: port }));
  const lost: number[] = [];
  for (let i = 0; i < count; i++) {
    const x = extra(i);
    if (x !== undefined) link.send(0, x);
    const offset = 1 + i * MSS;
    if (link.send(0, tcpPacket(A, B, { flags: ACK, seq: (isn + offset) >>> 0, payload, srcPort: port })).length === 0) lost.push(offset);
  }
  return lost;
}

describe("lossBy: sequence", () => {
  // One stray packet early on (a router solicitation, a probe) shifts every later per-packet fate.
  const stray = (i: number): Uint8Array | undefined => (i === 3 ? ipPacket(A, B, 60) : undefined);

  it("loses the same bytes whatever other packets cross the link, where per-packet fates diverge", () => {
    const bySeq = { loss: 0.05, lossBy: "sequence" } as const;
    const plain = lostOffsets(bySeq, 7, 1000, 2000);
    expect(plain.length).toBeGreaterThan(50);
    expect(lostOffsets(bySeq, 7, 1000, 2000, stray)).toEqual(plain);
    // Another ISN, another port: the offsets from the SYN decide, not the raw numbers.
    expect(lostOffsets(bySeq, 7, 0xfffff000, 2000, stray, 50123)).toEqual(plain);

    const byPacket = { loss: 0.05 } as const;
    const a = lostOffsets(byPacket, 7, 1000, 2000);
    const b = lostOffsets(byPacket, 7, 1000, 2000, stray);
    expect(b).not.toEqual(a);
  });

  it("pairs segments by the block their first byte falls in, so one short segment early does not shift every later fate", () => {
    const bySeq = { loss: 0.05, lossBy: "sequence" } as const;
    const send = (firstLength: number): number[] => {
      const link = new ImpairedLink("a->b", { delay: 0, ...bySeq }, new SimRng(21), NULL_SINK);
      link.send(0, tcpPacket(A, B, { flags: SYN, seq: 0 }));
      const lostBlocks: number[] = [];
      let offset = 1;
      for (let i = 0; i < 2000; i++) {
        // Full segments first, so the link knows the segment size before the short one.
        const length = i === 5 ? firstLength : MSS;
        if (link.send(0, tcpPacket(A, B, { flags: ACK, seq: offset, payload: payload.subarray(0, length) })).length === 0 && i > 5) lostBlocks.push(Math.floor((offset - 1) / MSS));
        offset += length;
      }
      return lostBlocks;
    };
    const aligned = send(MSS);
    expect(aligned.length).toBeGreaterThan(50);
    // Shifted by 300 bytes, segment i starts in block i - 1: the one the aligned sender sends as segment i - 1.
    expect(send(300).filter((b) => b > 6)).toEqual(aligned.filter((b) => b > 6));
  });

  it("keeps the configured loss rate, and gives each retransmission its own fate", () => {
    const link = new ImpairedLink("a->b", { delay: 0, loss: 0.02, lossBy: "sequence" }, new SimRng(3), NULL_SINK);
    link.send(0, tcpPacket(A, B, { flags: SYN, seq: 0 }));
    const n = 50_000;
    let lost = 0;
    let lostAgain = 0;
    let retried = 0;
    for (let i = 0; i < n; i++) {
      const segment = (): Uint8Array => tcpPacket(A, B, { flags: ACK, seq: 1 + i * MSS, payload });
      if (link.send(0, segment()).length > 0) continue;
      lost++;
      // Resent until through: the k-th copy of the same bytes meets a fresh fate.
      for (let k = 0; k < 5; k++) {
        retried++;
        if (link.send(0, segment()).length > 0) break;
        lostAgain++;
      }
    }
    expect(lost / n).toBeGreaterThan(0.016);
    expect(lost / n).toBeLessThan(0.024);
    // Were the fate fixed per offset, every retransmission would be lost as well.
    expect(lostAgain / retried).toBeLessThan(0.1);
    expect(link.stats.losses).toBe(lost + lostAgain);
  });

  it("draws from the link's stream for packets that are not TCP", () => {
    const link = new ImpairedLink("a->b", { delay: 0, loss: 0.5, lossBy: "sequence" }, new SimRng(11), NULL_SINK);
    let lost = 0;
    for (let i = 0; i < 1000; i++) if (link.send(0, ipPacket(A, B, 60)).length === 0) lost++;
    expect(lost).toBeGreaterThan(400);
    expect(lost).toBeLessThan(600);
  });

  it("rejects an unknown lossBy by name", () => {
    expect(() => resolveLinkConfig({ lossBy: "byte" as never })).toThrow(/lossBy/);
    expect(resolveLinkConfig({}).lossBy).toBe("packet");
  });
});
