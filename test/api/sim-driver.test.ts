/**
 * The simulator driver: virtual time moves only while the pump runs, the application gets a
 * turn after every hand-over, and failures inside the simulation are reported.
 */
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { SimDriver } from "../../src/api/index.js";
import { MAX_CLOCK_MS } from "../../src/env.js";
import { parseIpv4Address } from "../../src/wire/ipv4.js";
import { readAll, simPair, text, untext, writeAll } from "./helpers.js";

describe("SimDriver", () => {
  it("refuses options of the wrong shape with a coded error (found by test/api/sim-options-fuzz.test.ts)", () => {
    const coded = expect.objectContaining({ code: expect.any(String) as unknown });
    expect(() => new SimDriver(null as never)).toThrow(coded);
    expect(() => new SimDriver({ seed: { toString: false } as never })).toThrow(coded);
    expect(() => new SimDriver({ maxEvents: 0 })).toThrow(coded);
    expect(() => new SimDriver({ link: { loss: 2 } })).toThrow(coded);
    const sim = new SimDriver();
    expect(() => sim.addStack("a", -1 as never)).toThrow(coded);
    expect(() => sim.addStack("b", "10.0.0.2", null as never)).toThrow(coded);
    expect(() => sim.addStack("c", "10.0.0.3", { dns: { servers: [{} as never] } })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => sim.addStack("d", "10.0.0.4", { dns: { servers: ["10.0.0.53"], cache: "yes" as never } })).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("is idle until the application does something, and settles when nothing is left", async () => {
    const sim = new SimDriver();
    sim.addStack("a", "10.0.0.1");
    await sim.settled();
    expect(sim.now()).toBe(0);
  });

  it("sleep() waits in virtual time: an hour passes in no real time", async () => {
    const sim = new SimDriver();
    const started = performance.now();
    await sim.sleep(3_600_000);
    expect(sim.now()).toBe(3_600_000);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("runs a connection up to the clock's end, MAX_CLOCK_MS, and refuses to go past it", async () => {
    // A drill script whose clock jumped to 1e20 s hung poll(): there a timer re-armed a few
    // ms later lands on the same double and is due again at once.
    const { sim, client, server } = simPair({ link: { delay: 25, rate: 10_000_000 } });
    await sim.sleep(MAX_CLOCK_MS - 30_000);
    const listener = server.listen({ port: 80 });
    const got: Promise<number> = (async () => {
      let bytes = 0;
      for await (const s of listener) {
        bytes = (await readAll(s.readable)).length;
        await s.close();
        break;
      }
      return bytes;
    })();
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    await sock.opened;
    await writeAll(sock.writable, new Uint8Array(200_000));
    expect(await got).toBe(200_000);
    await sock.close();
    // The client's TIME_WAIT (60 s) ends past the clock's end: the simulation settles instead.
    await sim.settled();
    expect(sim.now()).toBeLessThanOrEqual(MAX_CLOCK_MS);
    await expect(sim.sleep(60_000)).rejects.toMatchObject({ code: expect.any(String) as unknown });
    expect(() => client.host.poll(MAX_CLOCK_MS + 1)).toThrow(expect.objectContaining({ code: expect.any(String) as unknown }));
    await listener.close();
  });

  it("the application answers at the virtual time it was told something (request/response timing)", async () => {
    const { sim, client, server } = simPair({ link: { delay: 25 } });
    const listener = server.listen({ port: 80 });
    const answeredAt: number[] = [];
    void (async () => {
      for await (const s of listener) {
        const q = untext(await readAll(s.readable));
        answeredAt.push(sim.now());
        await writeAll(s.writable, text(q.toUpperCase()));
      }
    })();
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    await sock.opened;
    expect(sim.now()).toBe(50); // SYN 25 ms, SYN-ACK 25 ms
    await writeAll(sock.writable, text("ping"));
    expect(untext(await readAll(sock.readable))).toBe("PING");
    // The request's data and FIN left at 50 ms and arrived at 75 ms (one segment each way,
    // Nagle does not delay the first segment): the server answered right then.
    expect(answeredAt).toEqual([75]);
    expect(sim.now()).toBe(100);
    await listener.close();
  });

  it("settles with the clock on the last event: TIME_WAIT's end, not later", async () => {
    const { sim, client, server } = simPair();
    const listener = server.listen({ port: 80 });
    void (async () => {
      for await (const s of listener) await s.close();
    })();
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    await sock.opened;
    await readAll(sock.readable); // the server closes at once
    await sock.close();
    await sim.sleep(100);
    // The server closed first, so the server holds TIME_WAIT (S25).
    const tw = server.table().find((r) => r.state === "TIME_WAIT");
    expect(tw?.timer?.name).toBe("timewait");
    const endsAt = sim.now() + tw!.timer!.remaining;
    await listener.close();
    await sim.settled();
    expect(server.count()).toBe(0);
    expect(sim.now()).toBe(endsAt);
  });

  it("an exception thrown by application code inside the simulation rejects settled()", async () => {
    const sim = new SimDriver();
    const a = sim.addStack("a", "10.0.0.1");
    sim.addStack("b", "10.0.0.2");
    const conn = a.openConnection({ remoteAddress: IpAddress.v4(parseIpv4Address("10.0.0.2")!), remotePort: 80 });
    conn.onWake = () => {
      throw new Error("application bug");
    };
    await expect(sim.settled()).rejects.toThrow("application bug");
  });

  it("the same seed gives the same run", async () => {
    const run = async (): Promise<number[]> => {
      const { sim, client, server } = simPair({ seed: 9, link: { delay: 5, jitter: 4, loss: 0.05 } });
      const listener = server.listen({ port: 80 });
      const times: number[] = [];
      void (async () => {
        for await (const s of listener) {
          await readAll(s.readable);
          times.push(sim.now());
          await s.close();
        }
      })();
      const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
      await writeAll(sock.writable, new Uint8Array(200_000));
      await readAll(sock.readable);
      times.push(sim.now(), sock.connection.inspect().retransmits);
      await listener.close();
      return times;
    };
    expect(await run()).toEqual(await run());
  });
});
