/**
 * The real-time driver and the loopback wire: deadlines fire on Node's clock, application
 * calls are polled on the next turn, and ref/unref decide what keeps the process alive.
 */
import { describe, expect, it } from "vitest";
import { bindNet } from "../../src/node/net.js";
import { loopbackPair } from "../../src/node/stack.js";
import { LoopbackWire } from "../../src/node/wire.js";
import { NODE_TIMER_GRANULARITY, NODE_TIMER_SLACK, RealTimeDriver } from "../../src/node/driver.js";
import type { Endpoint } from "../../src/endpoint.js";

/** Ref'd timers and intervals Node reports as keeping the loop alive. */
function liveTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

/** An endpoint that records polls and wants one at a fixed time. */
class FakeEndpoint implements Endpoint {
  polls: number[] = [];
  received: Uint8Array[] = [];
  offloads: Array<[boolean | undefined, number | undefined]> = [];
  constructor(public deadline: number) {}
  receive(_now: number, packet: Uint8Array, checksumValid?: boolean, gsoSize?: number): void {
    this.received.push(packet);
    this.offloads.push([checksumValid, gsoSize]);
  }
  poll(now: number): void {
    this.polls.push(now);
    if (now >= this.deadline) this.deadline = Infinity;
  }
  nextDeadline(): number {
    return this.deadline;
  }
}

describe("RealTimeDriver", () => {
  it("polls when the endpoint's deadline comes due, on Node's clock", async () => {
    const driver = new RealTimeDriver();
    const ep = new FakeEndpoint(driver.now() + 30);
    const due = ep.deadline;
    driver.attach(ep);
    await new Promise((r) => setTimeout(r, 80));
    driver.stop();
    const late = ep.polls.filter((t) => t >= due);
    expect(late.length).toBe(1);
    expect(late[0]! - due).toBeLessThan(40);
  });

  it("hands the endpoint what the link's receive offload said: checksum checked, GRO segment size", () => {
    const driver = new RealTimeDriver();
    const ep = new FakeEndpoint(Infinity);
    driver.attach(ep);
    driver.receive(new Uint8Array(40));
    driver.receive(new Uint8Array(40), true, 1448);
    driver.stop();
    expect(ep.offloads).toEqual([[undefined, undefined], [true, 1448]]);
  });

  it("schedule() coalesces many calls in one tick into one poll", async () => {
    const driver = new RealTimeDriver();
    const ep = new FakeEndpoint(Infinity);
    driver.attach(ep);
    await new Promise((r) => setImmediate(r));
    const before = ep.polls.length;
    ep.deadline = driver.now();
    for (let i = 0; i < 100; i++) driver.schedule();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    driver.stop();
    expect(ep.polls.length - before).toBe(1);
  });

  it("holds keep the event loop alive until released or unref'd; engine timers never do", () => {
    const driver = new RealTimeDriver();
    driver.attach(new FakeEndpoint(driver.now() + 60_000)); // a far deadline: an unref'd timer
    const base = liveTimers();
    const h1 = driver.hold();
    const h2 = driver.hold();
    expect(liveTimers()).toBe(base + 1); // one keep-alive handle for any number of holds
    h1.unref();
    expect(liveTimers()).toBe(base + 1);
    h2.release();
    expect(liveTimers()).toBe(base);
    h1.ref();
    expect(liveTimers()).toBe(base + 1);
    h1.release();
    h1.ref(); // released for good
    expect(liveTimers()).toBe(base);
    driver.stop();
  });

  it("sockets and servers hold the loop while open; unref() lets go, close releases", async () => {
    const [a, b] = loopbackPair();
    const server = bindNet(b).createServer((s) => s.pipe(s));
    await new Promise<void>((r) => server.listen(7, () => r()));
    expect(b.driver.holding).toBe(1);
    server.unref();
    expect(b.driver.holding).toBe(0);
    const accepted = new Promise((r) => server.once("connection", r));
    const sock = bindNet(a).connect({ port: 7, host: "10.0.0.2" });
    expect(a.driver.holding).toBe(1); // a connecting socket holds the loop
    sock.unref();
    expect(a.driver.holding).toBe(0);
    await new Promise((r) => sock.once("connect", r));
    await accepted;
    expect(b.driver.holding).toBe(1); // the accepted socket is ref'd
    sock.ref();
    expect(a.driver.holding).toBe(1);
    sock.destroy();
    await new Promise((r) => sock.once("close", r));
    expect(a.driver.holding).toBe(0);
    server.close();
    await new Promise((r) => server.once("close", r));
    expect(b.driver.holding).toBe(0);
    await a.close();
    await b.close();
  });
});

describe("NodeStack", () => {
  it("tells TCP how late Node's timers come and the shortest wait they take, so a paced connection keeps its rate and its round trip (HostOptions.timerSlack, timerGranularity)", async () => {
    const [a, b] = loopbackPair({ tcp: { congestionControl: "bbr" } });
    expect(NODE_TIMER_SLACK).toBeGreaterThanOrEqual(1); // setTimeout's whole milliseconds at least
    expect(a.host.tcp.timerSlack).toBe(NODE_TIMER_SLACK);
    // Every connection sees it, over either family's context.
    const conn = a.host.tcp.connect({ localAddr: a.host.address, remoteAddr: b.host.address, remotePort: 9 });
    expect(conn.timerSlack).toBe(NODE_TIMER_SLACK);
    // And the shortest wait they can express: paced segments due within it leave at once.
    expect(NODE_TIMER_GRANULARITY).toBe(1);
    expect(a.host.tcp.timerGranularity).toBe(NODE_TIMER_GRANULARITY);
    expect(conn.timerGranularity).toBe(NODE_TIMER_GRANULARITY);
    conn.abort();
    await a.close();
    await b.close();
  });

  it("once closed, connect and listen fail at once with ENETDOWN (they waited forever, and listen said it listened)", async () => {
    const [a, b] = loopbackPair({ addresses: ["10.0.1.1", "10.0.1.2"] });
    await a.close();
    await b.close();
    const socket = bindNet(a).connect(7, "10.0.1.2");
    const connectError = await new Promise<NodeJS.ErrnoException>((resolve) => socket.on("error", resolve));
    expect(connectError).toMatchObject({ code: "ENETDOWN", syscall: "connect", message: "connect ENETDOWN 10.0.1.2:7" });
    const server = bindNet(b).createServer();
    const listenError = await new Promise<NodeJS.ErrnoException>((resolve) => server.on("error", resolve).listen(7));
    expect(listenError).toMatchObject({ code: "ENETDOWN", syscall: "listen" });
    expect(server.listening).toBe(false);
    expect(() => a.connect({ hostname: "10.0.1.2", port: 7 })).toThrow(expect.objectContaining({ name: "NetworkDownError", code: "ENETDOWN" }));
    expect(() => b.listen({ port: 7 })).toThrow(expect.objectContaining({ code: "ENETDOWN" }));
  });
});

describe("LoopbackWire", () => {
  it("routes by destination address, loops back packets to the sender's own address, counts the rest", async () => {
    const wire = new LoopbackWire();
    const x = wire.attach(0x0a000001, "x");
    const y = wire.attach(0x0a000002, "y");
    const got: string[] = [];
    x.onPacket = (p) => got.push(`x:${p[19]}`);
    y.onPacket = (p) => got.push(`y:${p[19]}`);
    const packet = (dst: number): Uint8Array => {
      const p = new Uint8Array(20);
      new DataView(p.buffer).setUint32(16, dst);
      return p;
    };
    x.send(packet(0x0a000002));
    x.send(packet(0x0a000001));
    x.send(packet(0x0a000009));
    expect(got).toEqual([]); // never synchronous
    await new Promise((r) => setImmediate(r));
    expect(got.sort()).toEqual(["x:1", "y:2"]);
    expect(wire.unroutable).toBe(1);
    expect(x.counters.packetsOut).toBe(3);
    expect(x.counters.dropsOut).toBe(1);
    await y.close();
    x.send(packet(0x0a000002));
    expect(wire.unroutable).toBe(2);
    expect(() => wire.attach(0x0a000001)).toThrow();
  });

  it("hands one turn's packets over as one burst, between onBatch(true) and onBatch(false)", async () => {
    const wire = new LoopbackWire();
    const x = wire.attach(0x0a000001, "x");
    const y = wire.attach(0x0a000002, "y");
    const calls: string[] = [];
    y.onPacket = (p) => calls.push(`packet ${p[10]}`);
    y.onBatch = (open) => calls.push(open ? "begin" : "end");
    const packet = (n: number): Uint8Array => {
      const p = new Uint8Array(20);
      new DataView(p.buffer).setUint32(16, 0x0a000002);
      p[10] = n; // the header checksum's place: the wire reads only the destination
      return p;
    };
    x.send(packet(1));
    x.send(packet(2));
    await new Promise((r) => setImmediate(r));
    x.send(packet(3));
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(["begin", "packet 1", "packet 2", "end", "begin", "packet 3", "end"]);
  });

  it.each([
    ["IPv4", "10.0.0.1", "10.0.0.2"],
    ["IPv6", "fd00::1", "fd00::2"],
  ] as const)("with offload, two stacks exchange TCP super-packets as over a veth (%s): 1 MiB intact in far fewer packets", async (_family, x, y) => {
    const [a, b] = loopbackPair({ offload: true, addresses: [x, y] });
    expect(a.link.gsoMaxSize).toBe(65536);
    const total = 1 << 20;
    const sent = Buffer.alloc(total);
    for (let i = 0; i < total; i++) sent[i] = (i * 7 + (i >>> 9)) & 0xff;
    const server = bindNet(b).createServer();
    const received = new Promise<Buffer>((resolve) => {
      server.on("connection", (s) => {
        const parts: Buffer[] = [];
        s.on("data", (d: Buffer) => parts.push(d));
        s.on("end", () => resolve(Buffer.concat(parts)));
      });
    });
    await new Promise<void>((r) => server.listen(5001, () => r()));
    const sock = bindNet(a).connect({ host: b.address, port: 5001 });
    sock.end(sent);
    const got = await received;
    expect(got.length).toBe(total);
    expect(got.equals(sent)).toBe(true);
    // Segments of at most 1,448 bytes (MSS 1460 less the timestamps; 1,428 over IPv6)
    // would be at least 725 packets.
    expect(a.link.counters.packetsOut * 4).toBeLessThan(total / 1448);
    server.close();
    await a.close();
    await b.close();
  });

  it("a stack can connect to its own address", async () => {
    const [a, b] = loopbackPair();
    const net = bindNet(a);
    const server = net.createServer((s) => s.end("to myself"));
    await new Promise<void>((r) => server.listen(5000, () => r()));
    const sock = net.connect({ port: 5000 }); // no host: the stack's own address
    const data = await new Promise<string>((resolve) => {
      let text = "";
      sock.on("data", (d: Buffer) => (text += d.toString()));
      sock.on("end", () => resolve(text));
    });
    expect(data).toBe("to myself");
    expect(sock.remoteAddress).toBe(a.address);
    server.close();
    await a.close();
    await b.close();
  });
});

/** Records the order of receive and batch calls; throws on a packet of length 0. */
class BatchEndpoint implements Endpoint {
  calls: string[] = [];
  receive(_now: number, packet: Uint8Array): void {
    this.calls.push(`packet ${packet.length}`);
    if (packet.length === 0) throw new Error("bad packet");
  }
  beginBatch(): void {
    this.calls.push("begin");
  }
  endBatch(): void {
    this.calls.push("end");
  }
  poll(): void {}
  nextDeadline(): number {
    return Infinity;
  }
}

describe("RealTimeDriver batches (PacketLink.onBatch)", () => {
  it("passes one link burst to the endpoint as one batch, nested calls and exceptions included", () => {
    const driver = new RealTimeDriver();
    const errors: unknown[] = [];
    driver.onError = (e) => errors.push(e);
    const ep = new BatchEndpoint();
    driver.attach(ep);
    driver.beginBatch();
    driver.beginBatch(); // a nested burst is part of the outer one
    driver.receive(new Uint8Array(3));
    driver.receive(new Uint8Array(0)); // an exception in one packet does not leave the batch open
    driver.endBatch();
    driver.receive(new Uint8Array(5));
    driver.endBatch();
    driver.endBatch(); // unbalanced: ignored
    driver.receive(new Uint8Array(7));
    driver.stop();
    expect(ep.calls).toEqual(["begin", "packet 3", "packet 0", "packet 5", "end", "packet 7"]);
    expect(errors.length).toBe(1);
  });

  it("ends a burst's batch only after the process.nextTick queue, where node:stream hands the application what the burst brought", async () => {
    const driver = new RealTimeDriver();
    const ep = new BatchEndpoint();
    driver.attach(ep);
    // From a callback of the event loop, as a link delivers (not from a promise's continuation,
    // where queued microtasks run before the tick queue).
    await new Promise<void>((done) =>
      setImmediate(() => {
        driver.beginBatch();
        driver.receive(new Uint8Array(3));
        // As a socket's 'data' after push(): the application answers on the next tick.
        process.nextTick(() => ep.calls.push("application answers"));
        driver.endBatch();
        expect(ep.calls).toEqual(["begin", "packet 3"]);
        done();
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(ep.calls).toEqual(["begin", "packet 3", "application answers", "end"]);
    driver.stop();
  });

  it("a node:net request and its answer take 7 packets: the answer, and the FIN of an end() on 'end', leave with the ACKs", async () => {
    const [a, b] = loopbackPair({ addresses: ["10.0.0.1", "10.0.0.2"] });
    const server = bindNet(b).createServer((sock) => {
      sock.on("data", () => sock.write("pong"));
    });
    await new Promise<void>((r) => server.listen(8000, "10.0.0.2", r));
    const closed = new Promise<void>((resolve, reject) => {
      const sock = bindNet(a).connect({ port: 8000, host: "10.0.0.2" });
      sock.on("connect", () => sock.write("ping"));
      sock.on("data", () => sock.end());
      sock.on("error", reject);
      sock.on("close", () => resolve());
    });
    await closed;
    await new Promise((r) => setImmediate(r)); // the last ACK's turn, if it were still to come
    // SYN, SYN-ACK, ACK, ping, pong (ACKs ping), FIN (ACKs pong), FIN (ACKs it), last ACK.
    expect(a.link.counters.packetsOut + b.link.counters.packetsOut).toBe(7);
    server.close();
    await Promise.all([a.close(), b.close()]);
  });
});
