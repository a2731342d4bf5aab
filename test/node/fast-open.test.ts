/**
 * TCP Fast Open through the socket APIs (node:net and Web Streams) in virtual time: the
 * first connection fetches a cookie; on the second, a write made right after connect()
 * rides in the SYN and the server reads it before the handshake completes.
 */
import { describe, expect, it } from "vitest";
import { SimDriver } from "../../src/api/index.js";
import { TraceHub, type TraceEvent } from "../../src/trace/events.js";
import { bindNet, type Socket } from "../../src/node/net.js";
import { SYN } from "../../src/wire/tcp.js";

function setup() {
  const trace = new TraceHub();
  const events: TraceEvent[] = [];
  trace.subscribe((e) => events.push(e));
  const sim = new SimDriver({ link: { delay: 10 }, trace });
  const tcp = { fastOpen: 0x3 };
  const a = sim.addStack("a", "10.0.0.1", { tcp });
  const b = sim.addStack("b", "10.0.0.2", { tcp });
  return { sim, a, b, events };
}

const synsWithData = (events: TraceEvent[]) => events.filter((e) => e.type === "segment-out" && e.host === "a" && (e.segment.flags & SYN) !== 0 && e.segment.payload.length > 0);

describe("Fast Open through node:net", () => {
  it("the second connection's first write is in its SYN; the server's socket reads it", async () => {
    const { a, b, events } = setup();
    const received: string[] = [];
    bindNet(b).createServer({ fastOpen: 16 }, (s: Socket) => s.on("data", (d: Buffer) => { received.push(d.toString()); s.end(); })).listen(80);
    const net = bindNet(a);
    const talk = (msg: string) =>
      new Promise<void>((resolve, reject) => {
        const s = net.connect({ port: 80, host: "10.0.0.2", fastOpen: true });
        s.write(msg);
        s.on("error", reject);
        s.on("data", () => {});
        s.on("close", () => resolve());
      });
    await talk("first");
    expect(synsWithData(events)).toHaveLength(0); // the first SYN only asked for a cookie
    await talk("second");
    expect(received).toEqual(["first", "second"]);
    const syns = synsWithData(events);
    expect(syns).toHaveLength(1);
    expect(new TextDecoder().decode(syns[0]!.type === "segment-out" ? syns[0]!.segment.payload : undefined)).toBe("second");
  });

  it("without the server bit a listener's fastOpen has no effect: the data waits for the handshake", async () => {
    const trace = new TraceHub();
    const events: TraceEvent[] = [];
    trace.subscribe((e) => events.push(e));
    const sim = new SimDriver({ link: { delay: 10 }, trace });
    const a = sim.addStack("a", "10.0.0.1", { tcp: { fastOpen: 0x1 } });
    const b = sim.addStack("b", "10.0.0.2", { tcp: { fastOpen: 0x1 } });
    bindNet(b).createServer({ fastOpen: 16 }, (s: Socket) => s.on("data", () => s.end())).listen(80);
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve) => {
        const s = bindNet(a).connect({ port: 80, host: "10.0.0.2", fastOpen: true });
        s.write("x");
        s.on("data", () => {});
        s.on("close", () => resolve());
      });
    }
    expect(synsWithData(events)).toHaveLength(0);
    expect(events.some((e) => e.type === "segment-out" && e.host === "b" && e.segment.options.fastOpen !== undefined)).toBe(false);
  });
});

describe("Fast Open through Web Streams", () => {
  it("connect({ fastOpen: true }) then a write: the SYN carries it on the second connection", async () => {
    const { a, b, events } = setup();
    const server = b.listen({ port: 80, fastOpen: 16 });
    const got: string[] = [];
    void (async () => {
      for await (const s of server) {
        const reader = s.readable.getReader();
        const { value } = await reader.read();
        got.push(new TextDecoder().decode(value));
        reader.releaseLock();
        await s.close();
      }
    })();
    for (const msg of ["one", "two"]) {
      const s = a.connect({ hostname: "10.0.0.2", port: 80, fastOpen: true });
      const writer = s.writable.getWriter();
      await writer.write(new TextEncoder().encode(msg));
      await writer.close();
      await s.opened;
      const reader = s.readable.getReader();
      while (!(await reader.read()).done);
      await s.closed;
    }
    expect(got).toEqual(["one", "two"]);
    expect(synsWithData(events)).toHaveLength(1);
  });
});
