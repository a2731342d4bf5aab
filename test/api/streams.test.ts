/**
 * The Web Streams API (stack.connect / stack.listen) in the simulator, with virtual time.
 */
import { describe, expect, it } from "vitest";
import {
  ConnectionRefusedError,
  ConnectionResetError,
  SocketError,
  TimedOutError,
  type StreamSocket,
} from "../../src/api/index.js";
import { codeOf, outcome, pattern, readAll, sameBytes, simPair, text, untext, writeAll } from "./helpers.js";

/** Accepts one connection from `server.listen()` (through the async iterator). */
async function acceptOne(server: AsyncIterable<StreamSocket>): Promise<StreamSocket> {
  for await (const s of server) return s;
  throw new Error("listener closed before a connection arrived");
}

/** A simulated pair with one connection open: the client's socket, the server's, and its listener. */
async function connectedPair(): Promise<{ sock: StreamSocket; peer: StreamSocket; listener: AsyncIterable<StreamSocket> & { close(): Promise<void> } }> {
  const { client, server } = simPair();
  const listener = server.listen({ port: 80 });
  const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
  const peer = await acceptOne(listener);
  await sock.opened;
  return { sock, peer, listener };
}

describe("Web Streams sockets", () => {
  it("connect/listen: opened carries the addresses, bytes flow both ways, closed resolves", async () => {
    const { sim, client, server } = simPair();
    const listener = server.listen({ port: 7 });
    const accepted = acceptOne(listener);
    const sock = client.connect({ hostname: "10.0.0.2", port: 7 });
    const info = await sock.opened;
    expect(info.remoteAddress).toBe("10.0.0.2");
    expect(info.remotePort).toBe(7);
    expect(info.localAddress).toBe("10.0.0.1");
    expect(info.localPort).toBeGreaterThanOrEqual(32768);
    expect(info.readable).toBe(sock.readable);
    // One round trip of a 5 ms link: the handshake completes after 10 ms of virtual time.
    expect(sim.now()).toBe(10);

    const peer = await accepted;
    const peerInfo = await peer.opened;
    expect(peerInfo.remotePort).toBe(info.localPort);

    const echo = peer.readable.pipeTo(peer.writable);
    await writeAll(sock.writable, text("hello, synack"));
    expect(untext(await readAll(sock.readable))).toBe("hello, synack");
    await echo;
    await sock.closed;
    await peer.closed;
    await listener.close();
    await sim.settled();
    expect(client.count()).toBe(0);
  });

  it("half-close (S24): after the client's FIN the server still sends, then closes", async () => {
    const { client, server } = simPair();
    const listener = server.listen({ port: 80 });
    const serverDone = (async () => {
      const s = await acceptOne(listener);
      const request = untext(await readAll(s.readable)); // ends at the client's FIN
      await writeAll(s.writable, text(`got ${request.length} bytes: ${request}`));
    })();
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    await writeAll(sock.writable, text("question")); // close() = FIN, reading goes on
    expect(untext(await readAll(sock.readable))).toBe("got 8 bytes: question");
    await serverDone;
    await sock.closed;
    await listener.close();
  });

  it("a 1 MB transfer over a lossy, reordering path arrives intact", async () => {
    const { client, server } = simPair({ seed: 3, link: { delay: 10, jitter: 3, loss: 0.02, reorder: 0.02 } });
    const data = pattern(1 << 20);
    const listener = server.listen({ port: 9 });
    const received = (async () => readAll((await acceptOne(listener)).readable))();
    const sock = client.connect({ hostname: "10.0.0.2", port: 9 });
    await writeAll(sock.writable, data, 50_000);
    const got = await received;
    expect(got.length).toBe(data.length);
    expect(sameBytes(got, data)).toBe(true);
    expect(sock.connection.inspect().retransmits).toBeGreaterThan(0);
    await listener.close();
  });

  it("refused: opened, closed and both streams reject with ECONNREFUSED", async () => {
    const { client } = simPair();
    const sock = client.connect({ hostname: "10.0.0.2", port: 81 });
    const opened = await outcome(sock.opened);
    expect(opened.ok).toBe(false);
    if (opened.ok) return;
    expect(opened.error).toBeInstanceOf(ConnectionRefusedError);
    expect(opened.error).toBeInstanceOf(SocketError);
    expect(codeOf(opened.error)).toBe("ECONNREFUSED");
    const closed = await outcome(sock.closed);
    expect(closed.ok ? undefined : codeOf(closed.error)).toBe("ECONNREFUSED");
    const read = await outcome(sock.readable.getReader().read());
    expect(read.ok).toBe(false);
    const write = await outcome(sock.writable.getWriter().write(text("x")));
    expect(write.ok).toBe(false);
  });

  it("connect timeout: SYNs unanswered for 127 s of virtual time reject with ETIMEDOUT (S8)", async () => {
    const { sim, client } = simPair({ link: { delay: 5, loss: 1 } });
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    const opened = await outcome(sock.opened);
    expect(opened.ok).toBe(false);
    if (opened.ok) return;
    expect(opened.error).toBeInstanceOf(TimedOutError);
    // Linux: 6 retries, 1+2+4+8+16+32 s, then 64 s more before giving up.
    expect(sim.now()).toBeGreaterThanOrEqual(127_000);
    expect(sim.now()).toBeLessThan(128_000);
  });

  it("reset: the peer's writable.abort() sends RST; reads fail with ECONNRESET", async () => {
    const { sock, peer, listener } = await connectedPair();
    await peer.writable.abort(new Error("go away"));
    const read = await outcome(sock.readable.getReader().read());
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.error).toBeInstanceOf(ConnectionResetError);
    const closed = await outcome(sock.closed);
    expect(closed.ok ? undefined : codeOf(closed.error)).toBe("ECONNRESET");
    // The side that aborted closed on purpose: its `closed` resolves.
    expect((await outcome(peer.closed)).ok).toBe(true);
    await listener.close();
  });

  it("close() ends both directions; the peer reads EOF", async () => {
    const { sock, peer, listener } = await connectedPair();
    await sock.close();
    expect((await readAll(peer.readable)).length).toBe(0);
    const w = await outcome(sock.writable.getWriter().write(text("late")));
    expect(w.ok).toBe(false);
    await peer.close();
    await listener.close();
  });

  it("a write after writer.close() rejects with ERR_INVALID_STATE, as the standard says (Node 20 threw its own assertion, synchronously)", async () => {
    const { sock, peer, listener } = await connectedPair();
    const writer = sock.writable.getWriter();
    await writer.write(text("hi"));
    const closing = writer.close();
    let late: Promise<void> | undefined;
    expect(() => (late = writer.write(text("late")))).not.toThrow();
    await expect(late).rejects.toMatchObject({ name: "TypeError", code: "ERR_INVALID_STATE" });
    await closing;
    await expect(writer.write(text("later"))).rejects.toMatchObject({ code: "ERR_INVALID_STATE" });
    expect(untext(await readAll(peer.readable))).toBe("hi");
    await peer.close();
    await listener.close();
  });

  it("backpressure: a reader that stops leaves data in TCP; the writer waits; nothing is lost", async () => {
    const { sim, client, server } = simPair({}, { tcp: { sendBufferSize: 64 * 1024, sendBufferMax: 64 * 1024, receiveBufferSize: 64 * 1024, receiveBufferMax: 64 * 1024 } });
    const listener = server.listen({ port: 80 });
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    const peer = await acceptOne(listener);
    const writer = sock.writable.getWriter();
    const data = pattern(4 << 20);
    let offered = 0;
    // Write without awaiting the writes, only writer.ready (the backpressure signal).
    const writing = (async () => {
      for (let off = 0; off < data.length; off += 8192) {
        await writer.ready;
        void writer.write(data.subarray(off, off + 8192));
        offered += 8192;
      }
      await writer.close();
    })();
    await sim.sleep(2_000); // windows fill up: nobody reads
    const row = client.table().find((r) => r.state === "ESTABLISHED");
    const peerRow = server.table().find((r) => r.state === "ESTABLISHED");
    // TCP holds about a send buffer on one side and a receive buffer on the other; the
    // streams add their high-water marks. Far less than what the writer had to offer.
    expect(offered).toBeLessThan(400 * 1024);
    // The writer filled the send buffer when it was last woken (skbs of the size goal, each
    // counted with its fixed cost: src/tcp/write-admission.ts); the ACKs since then (the last
    // of them closing the window) freed less than half of what stays queued, so it was not
    // woken to top the buffer up again (Linux sk_stream_write_space: free space at least half
    // of what is queued; src/tcp/write-space.ts).
    const sendQ = row?.sendQ ?? 0;
    // Full, skb costs counted, yet not topped up: a writer woken again would have started
    // another skb and filled it past the buffer's size.
    expect(sendQ).toBeGreaterThan(60 * 1024);
    expect(sendQ).toBeLessThan(64 * 1024);
    expect(64 * 1024 - sendQ).toBeLessThan(sendQ / 2);
    expect(sock.connection.sendSpaceReady).toBe(false);
    expect(peerRow?.recvQ).toBeGreaterThan(32 * 1024);
    expect(peer.connection.inspect().rcvWnd).toBe(0);
    const got = await readAll(peer.readable);
    await writing;
    expect(sameBytes(got, data)).toBe(true);
    await listener.close();
  });

  it("writes are copied: reusing a chunk after write() resolves does not change what is sent", async () => {
    const { client, server } = simPair();
    const listener = server.listen({ port: 80 });
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    const peer = await acceptOne(listener);
    const writer = sock.writable.getWriter();
    const buf = text("AAAA");
    await writer.write(buf);
    buf.set(text("BBBB"));
    await writer.write(buf);
    await writer.close();
    expect(untext(await readAll(peer.readable))).toBe("AAAABBBB");
    await listener.close();
  });

  it("writing something that is not a Uint8Array errors the writable", async () => {
    const { client, server } = simPair();
    const listener = server.listen({ port: 80 });
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    await sock.opened;
    const writer = sock.writable.getWriter() as WritableStreamDefaultWriter<unknown>;
    const w = await outcome(writer.write("not bytes"));
    expect(w.ok ? undefined : codeOf(w.error)).toBe("EINVAL");
    await sock.close();
    await listener.close();
  });

  it("bad arguments and ports in use throw typed errors at once; a name without DNS servers rejects opened with ENOTFOUND", async () => {
    const { client, server } = simPair();
    const named = client.connect({ hostname: "example.com", port: 80 });
    await expect(named.opened).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(named.closed).rejects.toMatchObject({ code: "ENOTFOUND" });
    expect(() => client.connect({ hostname: "", port: 80 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => client.connect({ hostname: "10.0.0.2", port: 70000 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const l = server.listen({ port: 80 });
    expect(() => server.listen({ port: 80 })).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
    void l.close();
  });

  it("socket options are checked before anything opens: bad values throw EINVAL and leave no connection or listener", () => {
    const { client, server } = simPair();
    const bad: Array<Record<string, unknown>> = [{ readableHighWaterMark: -1 }, { writableHighWaterMark: Number.NaN }, { readableHighWaterMark: { toString: false } }, { noDelay: "yes" }, { keepAlive: 1 }, { fastOpen: {} }, { typeOfService: 256 }];
    for (const options of bad) {
      expect(() => client.connect({ hostname: "10.0.0.2", port: 80, ...options })).toThrow(expect.objectContaining({ code: "EINVAL" }));
      // The accepted sockets' options fail at listen(), not later inside the stack when a connection arrives.
      expect(() => server.listen({ port: 80, socket: options })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
    expect(() => server.listen({ port: 80, socket: 5 as never })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect([client.count(), server.count()]).toEqual([0, 0]);
    const l = server.listen({ port: 80, socket: { readableHighWaterMark: Infinity, noDelay: true } });
    void l.close();
  });

  it("setCork (TCP_CORK) holds a header and a body written apart, and sends them as one segment when uncorked", async () => {
    const { sim, client, server } = simPair();
    const listener = server.listen({ port: 80 });
    const accepted = acceptOne(listener);
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    sock.setCork(true);
    await sock.opened;
    const peer = await accepted;
    const writer = sock.writable.getWriter();
    await writer.write(text("HEAD "));
    await sim.sleep(50);
    await writer.write(text("body"));
    await sim.sleep(200);
    expect(sock.connection.inspect().sndNxt).toBe(sock.connection.inspect().sndUna); // nothing sent
    sock.setCork(false);
    const reader = peer.readable.getReader();
    const { value } = await reader.read();
    expect(untext(value!)).toBe("HEAD body"); // one segment, one read
    await listener.close();
  });

  it("userTimeout (TCP_USER_TIMEOUT) fails a socket whose data goes unacknowledged with ETIMEDOUT; bad values are EINVAL", async () => {
    const { sim, client, server } = simPair();
    expect(() => client.connect({ hostname: "10.0.0.2", port: 80, userTimeout: -5 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const listener = server.listen({ port: 80 });
    const accepted = acceptOne(listener);
    const sock = client.connect({ hostname: "10.0.0.2", port: 80, userTimeout: 2_000 });
    await sock.opened;
    await accepted;
    expect(() => sock.setUserTimeout(Number.NaN)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    sim.network.setPath("server", "client", { delay: 5, loss: 1 }); // ACKs lost from here on
    const t0 = sim.now();
    void sock.writable.getWriter().write(text("x")).catch(() => {});
    const closed = await outcome(sock.closed);
    expect(closed.ok ? undefined : codeOf(closed.error)).toBe("ETIMEDOUT");
    expect(sim.now() - t0).toBeGreaterThanOrEqual(2_000);
    expect(sim.now() - t0).toBeLessThan(7_000);
    await listener.close();
  });

  it("typeOfService (IP_TOS) reaches the connection, as an option and by setTypeOfService(); bad values are EINVAL", async () => {
    const { client, server } = simPair();
    expect(() => client.connect({ hostname: "10.0.0.2", port: 80, typeOfService: 256 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const listener = server.listen({ port: 80 });
    const accepted = acceptOne(listener);
    const sock = client.connect({ hostname: "10.0.0.2", port: 80, typeOfService: 0x48 });
    await sock.opened;
    await accepted;
    expect(sock.connection.typeOfService).toBe(0x48);
    expect(() => sock.setTypeOfService(1.5)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    sock.setTypeOfService(0xb9); // the ECN bits are TCP's
    expect(sock.connection.typeOfService).toBe(0xb8);
    await listener.close();
  });

  it("setNotsentLowat (TCP_NOTSENT_LOWAT) keeps TCP's unsent bytes near the limit; bad values are EINVAL", async () => {
    const { sim, client, server } = simPair();
    const listener = server.listen({ port: 80 });
    const accepted = acceptOne(listener);
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    expect(() => sock.setNotsentLowat(-1)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    sock.setNotsentLowat(8_000);
    await sock.opened;
    const peer = await accepted;
    const draining = readAll(peer.readable);
    const writer = sock.writable.getWriter();
    const writing = writer.write(new Uint8Array(512 * 1024));
    let unsentMax = 0;
    let done = false;
    void writing.then(() => (done = true));
    while (!done) {
      const i = sock.connection.inspect();
      unsentMax = Math.max(unsentMax, i.sendQueued - ((i.sndMax - i.sndUna) >>> 0));
      await sim.sleep(1);
    }
    // One skb more than the limit at most (without it the send buffer holds some 300 KB unsent).
    expect(unsentMax).toBeGreaterThan(0);
    expect(unsentMax).toBeLessThan(8_000 + 65_536);
    await writer.close();
    expect((await draining).length).toBe(512 * 1024);
    await listener.close();
  });
});

describe("Web Streams listeners", () => {
  it("yields one socket per connection, in arrival order; port 0 picks a free port", async () => {
    const { client, server } = simPair();
    const listener = server.listen({ port: 0 });
    expect(listener.localPort).toBeGreaterThanOrEqual(32768);
    const names: string[] = [];
    const serving = (async () => {
      for await (const s of listener) {
        names.push(untext(await readAll(s.readable)));
        await s.close();
        if (names.length === 3) break;
      }
    })();
    for (const name of ["one", "two", "three"]) {
      const c = client.connect({ hostname: "10.0.0.2", port: listener.localPort });
      await writeAll(c.writable, text(name));
      await c.closed;
    }
    await serving;
    expect(names).toEqual(["one", "two", "three"]);
    await listener.close();
  });

  it("connections the application has not accepted wait in TCP's accept queue (S7)", async () => {
    const { sim, client, server } = simPair();
    const listener = server.listen({ port: 80, backlog: 2 });
    const socks = [1, 2, 3].map(() => client.connect({ hostname: "10.0.0.2", port: 80 }));
    // All three clients see ESTABLISHED: for them the final ACK is sent...
    await Promise.all(socks.map((s) => s.opened));
    await sim.sleep(20);
    const row = server.table().find((r) => r.state === "LISTEN");
    // ...but the server's accept queue is full at the backlog, so it dropped the third one's
    // final ACK and keeps that connection half-open (Linux behaviour): S34 shows it.
    expect(row?.recvQ).toBe(2);
    expect(row?.synQueue?.acceptDrops).toBeGreaterThan(0);
    expect(server.count("SYN_RCVD")).toBe(1);
    expect(server.count("ESTABLISHED")).toBe(2);
    expect(server.count(["SYN_RCVD", "ESTABLISHED"])).toBe(3);
    const first = await acceptOne(listener);
    expect(first.info.remotePort).toBe(socks[0]!.info.localPort);
    for (const s of socks) void s.close();
    await listener.close();
  });

  it("count() refuses a misspelt state rather than counting none; engine calls refuse what is not theirs", () => {
    const { server } = simPair();
    for (const bad of ["SYN_RECV", null, ["ESTABLISHED", "nope"], 42]) {
      expect(() => server.count(bad as "ESTABLISHED")).toThrow(expect.objectContaining({ code: "EINVAL" }));
    }
    expect(() => server.closeListener({} as never)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => server.openConnection(null as never)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("closing the listener ends the iteration", async () => {
    const { server } = simPair();
    const listener = server.listen({ port: 80 });
    const seen: StreamSocket[] = [];
    const loop = (async () => {
      for await (const s of listener) seen.push(s);
    })();
    await listener.close();
    await loop;
    expect(seen).toEqual([]);
    expect(server.count("LISTEN")).toBe(0);
  });
});
