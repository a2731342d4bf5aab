/**
 * synack's node:net Socket in the simulator: behaviours that need protocol timers (SYN
 * retries, keep-alive, idle timeouts) run in virtual time, so they are exact and instant.
 */
import { describe, expect, it } from "vitest";
import { SimDriver, type Stack } from "../../src/api/index.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { TraceHub, type TraceEvent } from "../../src/trace/events.js";
import { bindNet, type Socket } from "../../src/node/net.js";

function pair(tcp: Partial<TcpConfig> = {}, trace?: TraceHub): { sim: SimDriver; a: Stack; b: Stack } {
  const sim = new SimDriver({ link: { delay: 10 }, ...(trace === undefined ? {} : { trace }) });
  const a = sim.addStack("a", "10.0.0.1", { tcp });
  const b = sim.addStack("b", "10.0.0.2", { tcp });
  return { sim, a, b };
}

function nextError(s: Socket): Promise<Error & { code?: string; syscall?: string }> {
  return new Promise((resolve) => s.once("error", resolve));
}

function event(s: Socket, name: string): Promise<void> {
  return new Promise((resolve) => s.once(name, () => resolve()));
}

describe("synack Socket in virtual time", () => {
  it("connect to a silent host fails with ETIMEDOUT after Linux's 127 s of SYN retries", async () => {
    const { sim, a } = pair();
    sim.network.setPath("a", "b", { loss: 1 });
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    expect(sock.readyState).toBe("opening");
    const err = await nextError(sock);
    expect(err.code).toBe("ETIMEDOUT");
    expect(err.syscall).toBe("connect");
    expect(err.message).toBe("connect ETIMEDOUT 10.0.0.2:80");
    expect(sim.now()).toBe(127_000);
    await event(sock, "close");
    expect(sock.readyState).toBe("closed");
  });

  it("keep-alive: a peer that vanished is detected after idle + probes and reported as ETIMEDOUT", async () => {
    const { sim, a, b } = pair({ keepAliveIdle: 10_000, keepAliveInterval: 1_000, keepAliveProbes: 3 });
    // Linux resets the connection when it gives up; the server side then sees ECONNRESET.
    bindNet(b).createServer((s) => s.on("error", () => {})).listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2", keepAlive: true });
    await event(sock, "connect");
    const connectedAt = sim.now();
    sim.network.setPath("b", "a", { loss: 1 }); // the peer's answers stop arriving
    const err = await nextError(sock);
    expect(err.code).toBe("ETIMEDOUT");
    expect(err.syscall).toBe("read");
    // Idle 10 s, then 3 probes 1 s apart, then the 4th expiry gives up.
    expect(sim.now() - connectedAt).toBe(13_000);
  });

  it("setKeepAlive(true, initialDelay) sets this socket's idle time before the first probe", async () => {
    const { sim, a, b } = pair({ keepAliveInterval: 1_000, keepAliveProbes: 3 });
    bindNet(b).createServer((s) => s.on("error", () => {})).listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    await event(sock, "connect");
    sock.setKeepAlive(true, 4_000);
    const armedAt = sim.now();
    sim.network.setPath("b", "a", { loss: 1 });
    const err = await nextError(sock);
    expect(err.code).toBe("ETIMEDOUT");
    // 4 s idle (not the stack's 7200 s), 3 probes 1 s apart, the 4th expiry gives up.
    expect(sim.now() - armedAt).toBe(7_000);
  });

  it("switches and delays are read as node:net reads them: truthy values, whole seconds of idle time", async () => {
    const { sim, a, b } = pair({ keepAliveInterval: 1_000, keepAliveProbes: 3 });
    bindNet(b).createServer((s) => s.on("error", () => {})).listen(80);
    // Set before connecting, these used to reach the engine as 1 and "yes" and fail the connect (EINVAL).
    const sock = bindNet(a).socket().setNoDelay(1 as unknown as boolean).setKeepAlive("yes", 4_999);
    sock.connect({ port: 80, host: "10.0.0.2" });
    const failed = nextError(sock);
    await Promise.race([event(sock, "connect"), failed.then((e) => Promise.reject(e))]);
    const armedAt = sim.now();
    sim.network.setPath("b", "a", { loss: 1 });
    const err = await failed;
    expect(err.code).toBe("ETIMEDOUT");
    // 4 s idle (4,999 ms is 4 whole seconds, as Node asks TCP_KEEPIDLE for), 3 probes, then the 4th expiry.
    expect(sim.now() - armedAt).toBe(7_000);
  });

  it("net.connect's keepAliveInitialDelay sets the idle time, and a non-number is ERR_INVALID_ARG_TYPE", async () => {
    const { sim, a, b } = pair({ keepAliveInterval: 1_000, keepAliveProbes: 3 });
    bindNet(b).createServer((s) => s.on("error", () => {})).listen(80);
    expect(() => bindNet(a).connect({ port: 80, host: "10.0.0.2", keepAlive: true, keepAliveInitialDelay: "2000" as unknown as number })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2", keepAlive: 1 as unknown as boolean, keepAliveInitialDelay: 2_000 });
    const failed = nextError(sock);
    await event(sock, "connect");
    const connectedAt = sim.now();
    sim.network.setPath("b", "a", { loss: 1 });
    expect((await failed).code).toBe("ETIMEDOUT");
    expect(sim.now() - connectedAt).toBe(5_000);
  });

  it("socket.connect() leaves keep-alive to the socket's constructor, as node:net's: its keepAlive options are not read", async () => {
    const { sim, a, b } = pair({ keepAliveInterval: 1_000, keepAliveProbes: 3 });
    bindNet(b).createServer((s) => s.on("error", () => {})).listen(80);
    // net.connect() refuses the bigint (the constructor reads it); socket.connect() does not look.
    expect(() => bindNet(a).connect({ port: 80, host: "10.0.0.2", keepAliveInitialDelay: 10n as unknown as number })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
    bindNet(a).socket().connect({ port: 80, host: "10.0.0.2", keepAliveInitialDelay: 10n as unknown as number }).destroy();
    const sock = bindNet(a).socket().connect({ port: 80, host: "10.0.0.2", keepAlive: true, keepAliveInitialDelay: 1_000 });
    const errors: Error[] = [];
    sock.on("error", (e) => errors.push(e));
    await event(sock, "connect");
    sim.network.setPath("b", "a", { loss: 1 });
    // With keep-alive on after 1 s idle, the probes would have given up at 4 s.
    await sim.sleep(60_000);
    expect(errors).toEqual([]);
    expect(sock.readyState).toBe("open");
    sock.destroy();
  });

  it("TCP keeps a copy of written bytes: a buffer refilled in write()'s callback does not change what is sent", async () => {
    const { a, b } = pair();
    const received = new Map<number, Buffer>();
    bindNet(b)
      .createServer((s) => {
        const parts: Buffer[] = [];
        s.on("data", (d: Buffer) => parts.push(d));
        s.on("end", () => {
          received.set(s.remotePort!, Buffer.concat(parts));
          s.end();
        });
      })
      .listen(80);
    // Sizes on both sides of the 4 KiB line between pooled and own copies, odd ones
    // included; two sockets write in turn, so their copies interleave.
    const writer = (size: number, rounds: number): { sock: Socket; sent: Buffer[] } => {
      const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
      const buf = Buffer.alloc(size);
      const sent: Buffer[] = [];
      const next = (): void => {
        if (sent.length === rounds) {
          sock.end();
          return;
        }
        buf.fill(0x41 + ((sent.length + size) % 26)); // the caller reuses its buffer once TCP took it
        sent.push(Buffer.from(buf));
        sock.write(buf, next);
      };
      sock.on("connect", next);
      return { sock, sent };
    };
    const writers = [writer(37, 300), writer(100, 200), writer(5000, 20)];
    await Promise.all(writers.map((w) => event(w.sock, "close")));
    for (const w of writers) expect(received.get(w.sock.localPort!)?.equals(Buffer.concat(w.sent))).toBe(true);
  });

  it("setTimeout: 'timeout' after exactly that much idleness; activity postpones it", async () => {
    const { sim, a, b } = pair();
    bindNet(b).createServer((s) => s.resume()).listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    await event(sock, "connect");
    const t0 = sim.now();
    sock.setTimeout(5_000);
    await sim.sleep(3_000);
    sock.write("still here"); // activity at t0 + 3 s
    await event(sock, "timeout");
    expect(sim.now() - t0).toBe(8_000);
    expect(sock.timeout).toBe(5_000);
    expect(sock.destroyed).toBe(false); // only a notification
    sock.setTimeout(0);
    sock.destroy();
  });

  it("setTimeout: 'timeout' once per idle spell, as node:net; under 1 ms counts as 1 ms", async () => {
    const { sim, a, b } = pair();
    bindNet(b).createServer((s) => s.resume()).listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    await event(sock, "connect");
    const at: number[] = [];
    sock.on("timeout", () => at.push(sim.now()));
    const t0 = sim.now();
    sock.setTimeout(1_000);
    await sim.sleep(10_000);
    expect(at.map((t) => t - t0)).toEqual([1_000]);
    sock.write("again"); // activity arms it once more
    await sim.sleep(10_000);
    expect(at.map((t) => t - t0)).toEqual([1_000, 11_000]);
    // A clock cannot add 1e-300 ms: kept as is, the timer fell due at the same instant forever.
    at.length = 0;
    const t1 = sim.now();
    sock.setTimeout(1e-300);
    expect(sock.timeout).toBe(1e-300);
    await sim.sleep(100);
    expect(at.map((t) => t - t1)).toEqual([1]);
    sock.destroy();
  });

  it("setNoDelay(true) sends a second small write at once; Nagle holds it for the ACK", async () => {
    const sendTimes = async (noDelay: boolean): Promise<number[]> => {
      const hub = new TraceHub();
      const times: number[] = [];
      hub.subscribe((e: TraceEvent) => {
        if (e.type === "segment-out" && e.host === "a" && e.segment.payload.length > 0) times.push(e.time);
      });
      const { sim, a, b } = pair({}, hub);
      bindNet(b).createServer((s) => s.resume()).listen(80);
      const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
      sock.setNoDelay(noDelay);
      await event(sock, "connect");
      const t0 = sim.now();
      sock.write("a");
      await sim.sleep(1);
      sock.write("b");
      await sim.sleep(100);
      sock.destroy();
      return times.map((t) => t - t0);
    };
    expect(await sendTimes(true)).toEqual([0, 1]);
    expect(await sendTimes(false)).toEqual([0, 20]); // one round trip later
  });

  it("setCork(true), synack's TCP_CORK, holds two small writes; setCork(false) sends them as one segment", async () => {
    const hub = new TraceHub();
    const sizes: number[] = [];
    hub.subscribe((e: TraceEvent) => {
      if (e.type === "segment-out" && e.host === "a" && e.segment.payload.length > 0) sizes.push(e.segment.payload.length);
    });
    const { sim, a, b } = pair({}, hub);
    bindNet(b).createServer((s) => s.resume()).listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    sock.setCork(true); // before the connection exists: applied when it does
    await event(sock, "connect");
    sock.write("hello, ");
    await sim.sleep(50);
    sock.write("world");
    await sim.sleep(100);
    expect(sizes).toEqual([]);
    sock.setCork(false);
    await sim.sleep(50);
    expect(sizes).toEqual([12]);
    sock.destroy();
  });

  it("setUserTimeout(ms), synack's TCP_USER_TIMEOUT, fails a socket whose data goes unacknowledged with ETIMEDOUT", async () => {
    const { sim, a, b } = pair();
    bindNet(b).createServer((s) => s.resume()).listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    await event(sock, "connect");
    expect(() => sock.setUserTimeout(-1)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
    expect(() => sock.setUserTimeout(1.5)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
    sock.setUserTimeout(3_000);
    sim.network.setPath("b", "a", { delay: 10, loss: 1 }); // the peer's ACKs are lost from now on
    const t0 = sim.now();
    sock.write("x");
    const err = await nextError(sock);
    expect(err.code).toBe("ETIMEDOUT");
    // Without it the retransmissions would go on for 15 minutes (tcp_retries2); with it, the
    // first RTO that finds the data older than 3 s gives up.
    expect(sim.now() - t0).toBeGreaterThanOrEqual(3_000);
    expect(sim.now() - t0).toBeLessThan(8_000);
  });

  it("setNotsentLowat(bytes), synack's TCP_NOTSENT_LOWAT, keeps the unsent bytes TCP holds near the limit; the rest waits in the stream", async () => {
    const { sim, a, b } = pair();
    let received = 0;
    bindNet(b).createServer((s) => s.on("data", (d: Buffer) => (received += d.length))).listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    expect(() => sock.setNotsentLowat(-1)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
    sock.setNotsentLowat(8_000);
    await event(sock, "connect");
    let unsentMax = 0;
    sock.write(Buffer.alloc(512 * 1024));
    while (received < 512 * 1024) {
      unsentMax = Math.max(unsentMax, sock.tcpInfo()?.notsentBytes ?? 0);
      await sim.sleep(1);
    }
    // A write stops once a new skb would start with the limit reached: one skb more at most
    // (without the limit the 256 KiB send buffer holds some 300 KB unsent here).
    expect(unsentMax).toBeGreaterThan(0);
    expect(unsentMax).toBeLessThan(8_000 + 65_536);
    sock.setNotsentLowat(0); // back to the stack's setting: no limit
    sock.write(Buffer.alloc(128 * 1024));
    await sim.sleep(1);
    expect(sock.writableLength).toBe(0); // the send buffer (256 KiB) took it all
    sock.destroy();
  });

  it("setTypeOfService(tos), as Node 24's: kept until there is a connection, then its IP_TOS; the ECN bits are TCP's", async () => {
    const { sim, a, b } = pair();
    let accepted: Socket | undefined;
    bindNet(b).createServer((s) => (accepted = s)).listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2", typeOfService: 0x20 });
    expect(sock.getTypeOfService()).toBe(0x20);
    expect(() => sock.setTypeOfService(256)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
    expect(() => sock.setTypeOfService(1.5)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
    expect(() => sock.setTypeOfService(-1)).toThrow(expect.objectContaining({ code: "ERR_OUT_OF_RANGE" }));
    expect(() => sock.setTypeOfService(Number.NaN)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
    expect(() => sock.setTypeOfService("16" as unknown as number)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
    expect(sock.getTypeOfService()).toBe(0x20); // a refused value changes nothing
    await event(sock, "connect");
    const [conn] = a.host.tcp.allConnections();
    expect(conn!.typeOfService).toBe(0x20);
    sock.setTypeOfService(0xbb);
    expect(conn!.typeOfService).toBe(0xb8);
    expect(sock.getTypeOfService()).toBe(0xb8);
    await sim.sleep(50);
    expect(accepted!.getTypeOfService()).toBe(0); // the server's side set nothing
    sock.destroy();
  });

  it("write() returns false once TCP's send buffer is full and 'drain' follows when the peer reads", async () => {
    const { sim, a, b } = pair({ sendBufferSize: 32 * 1024, sendBufferMax: 32 * 1024, receiveBufferSize: 32 * 1024 });
    let serverSide: Socket | undefined;
    bindNet(b).createServer({ pauseOnConnect: true }, (s) => (serverSide = s)).listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    await event(sock, "connect");
    const chunk = Buffer.alloc(8 * 1024);
    let writes = 0;
    while (sock.write(chunk)) writes++;
    // TCP's send buffer (32 KiB) took 46,336 bytes, as Linux's tcp_sendmsg: skbs filled to
    // 15,928 (half the peer's 32 KiB window in whole segments), the 10 segments cwnd allows
    // split off the first, and a new skb started while the charge (payload + 832 each) was
    // under 32 KiB (src/tcp/write-admission.ts). That is five chunks and part of the sixth,
    // whose rest waits in the stream below its own 16 KiB high-water mark (as in node:net);
    // the seventh returns false.
    expect(sock.inspectConnection()?.sendQueued).toBe(46_336);
    expect(writes).toBe(6);
    let drained = false;
    sock.once("drain", () => (drained = true));
    await sim.sleep(1_000);
    expect(drained).toBe(true); // the peer's 32 KiB window took the first 32 KiB
    while (sock.write(chunk)) writes++;
    drained = false;
    await sim.sleep(1_000);
    expect(drained).toBe(false); // both buffers full: nothing moves while nobody reads
    expect(sock.inspectConnection()?.sendQueued).toBeGreaterThan(30 * 1024);
    expect(sock.writableLength).toBe(16 * 1024);
    serverSide!.resume();
    await event(sock, "drain");
    sock.destroy();
  });

  it("readyState follows the half-closes", async () => {
    const { a, b } = pair();
    let serverSide: Socket | undefined;
    const accepted = new Promise<void>((resolve) =>
      bindNet(b)
        .createServer({ allowHalfOpen: true }, (s) => {
          serverSide = s;
          s.resume();
          resolve();
        })
        .listen(80),
    );
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2", allowHalfOpen: true });
    sock.resume();
    expect(sock.readyState).toBe("opening");
    expect(sock.pending).toBe(true);
    await event(sock, "connect");
    await accepted;
    expect(sock.readyState).toBe("open");
    sock.end();
    await event(sock, "finish");
    expect(sock.readyState).toBe("readOnly");
    await event(serverSide!, "end");
    expect(serverSide!.readyState).toBe("writeOnly");
    serverSide!.end();
    await event(sock, "close");
    expect(sock.readyState).toBe("closed");
  });

  it("resetAndDestroy() while connecting sends RST once connected: nothing is left on either side", async () => {
    const { sim, a, b } = pair();
    const seen: string[] = [];
    bindNet(b)
      .createServer((s) => {
        seen.push("connection");
        s.on("error", (e: Error & { code?: string }) => seen.push(`server-error:${e.code}`));
      })
      .listen(80);
    const sock = bindNet(a).connect({ port: 80, host: "10.0.0.2" });
    sock.resetAndDestroy();
    const hadError = await new Promise<boolean>((resolve) => sock.once("close", resolve));
    expect(hadError).toBe(false);
    await sim.sleep(100);
    // The RST reached the server while its side was still half-open (the final ACK had not
    // left yet): the entry is freed without ever becoming a connection.
    expect(a.count()).toBe(0);
    expect(b.count()).toBe(1); // the listener only
    expect(seen.filter((e) => e !== "connection" && !e.startsWith("server-error:ECONNRESET"))).toEqual([]);
  });

  it("argument errors: a bad port throws at once, a name that is not an address is ENOTFOUND", async () => {
    const { a } = pair();
    const net = bindNet(a);
    expect(() => net.connect({ port: 70_000, host: "10.0.0.2" })).toThrow(expect.objectContaining({ code: "ERR_SOCKET_BAD_PORT" }));
    const sock = net.connect({ port: 80, host: "db.internal" });
    const err = await nextError(sock);
    expect(err.code).toBe("ENOTFOUND");
    expect(err.syscall).toBe("getaddrinfo");
  });

  it("connect to 0.0.0.0 or :: reaches the stack's own loopback and reports 127.0.0.1 or ::1, as node:net on Linux", async () => {
    const { a } = pair();
    const net = bindNet(a);
    await new Promise<void>((resolve) => net.createServer((c) => c.end()).listen(80, resolve));
    for (const [host, remote] of [["0.0.0.0", "127.0.0.1"], ["::", "::1"]] as const) {
      const c = net.connect({ port: 80, host });
      await new Promise<void>((resolve) => c.once("connect", resolve));
      expect([c.remoteAddress, c.localAddress]).toEqual([remote, remote]);
      c.destroy();
    }
    expect(a.host.counters.packetsOut).toBe(0);
  });

  it("connect to a multicast or broadcast address fails at once with ENETUNREACH, sending nothing (Linux tcp_v4_connect)", async () => {
    const { sim, a } = pair();
    const net = bindNet(a);
    for (const host of ["224.0.0.1", "255.255.255.255"]) {
      const err = await nextError(net.connect({ port: 80, host }));
      expect(err).toMatchObject({ code: "ENETUNREACH", syscall: "connect" });
    }
    // The Web Streams API refuses an address literal at once too (it retried SYNs until ETIMEDOUT).
    expect(() => a.connect({ hostname: "ff02::1", port: 80 })).toThrow(expect.objectContaining({ code: "ENETUNREACH" }));
    expect(sim.now()).toBe(0);
    expect(a.host.counters.packetsOut).toBe(0);
  });

  it("a server without a host reports 0.0.0.0; EADDRINUSE names it", async () => {
    const { a } = pair();
    const net = bindNet(a);
    const s1 = net.createServer();
    await new Promise<void>((r) => s1.listen(8080, () => r()));
    expect(s1.address()).toEqual({ address: "0.0.0.0", family: "IPv4", port: 8080 });
    const s2 = net.createServer();
    const err = await new Promise<Error & { code?: string }>((resolve) => {
      s2.once("error", resolve);
      s2.listen(8080);
    });
    expect(err.message).toBe("listen EADDRINUSE: address already in use 0.0.0.0:8080");
    s1.close();
  });
});
