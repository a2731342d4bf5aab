/**
 * pipePair's ends hand a turn's packets over as one read burst (PacketLink.onBatch), as a TUN
 * device and the loopback wire do, so a stack behind the relay batches its receive (one
 * transmission pass, one ACK for the burst: src/tcp/batch.ts) as it does on a real device.
 */
import { describe, expect, it } from "vitest";
import { pipePair } from "../../src/node/relay.js";

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("pipePair", () => {
  it("hands one turn's packets over as one burst, between onBatch(true) and onBatch(false)", async () => {
    const [x, y] = pipePair(1500);
    const calls: string[] = [];
    y.onPacket = (p) => calls.push(`packet ${p[0]}`);
    y.onBatch = (open) => calls.push(open ? "begin" : "end");
    x.send(Uint8Array.of(1));
    x.send(Uint8Array.of(2));
    await turn();
    x.send(Uint8Array.of(3));
    await turn();
    expect(calls).toEqual(["begin", "packet 1", "packet 2", "end", "begin", "packet 3", "end"]);
    expect(y.counters.packetsIn).toBe(3);
  });

  it("a closed end takes nothing more: no batch, the sender counts a drop", async () => {
    const [x, y] = pipePair(1500);
    const calls: string[] = [];
    y.onBatch = (open) => calls.push(open ? "begin" : "end");
    y.onPacket = (p) => calls.push(`packet ${p[0]}`);
    await y.close();
    x.send(Uint8Array.of(2));
    await turn();
    expect(calls).toEqual([]);
    expect(x.counters.dropsOut).toBe(1);
  });
});
