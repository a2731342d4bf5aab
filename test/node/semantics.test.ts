/**
 * The Node-semantics suite: every case runs twice, once against node:net on 127.0.0.1 and
 * once against synack's Socket/Server (two real-time stacks on an in-process loopback
 * wire), and both runs must produce the same events in the same order per socket, and the
 * same error codes. The expected orders below were taken from node:net (Node 20, Linux).
 *
 * Each side's events are recorded separately: the order between the two sides depends on
 * scheduling, the order within one socket is what programs rely on. Cases are built so
 * that order is causal (each step waits for the one before), and no protocol timer is
 * waited on: everything completes in a few round trips of the loopback.
 */
import * as nodeNet from "node:net";
import type { Duplex } from "node:stream";
import type { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { bindNet } from "../../src/node/net.js";
import { loopbackPair, type NodeStack } from "../../src/node/stack.js";

interface SocketLike extends Duplex {
  setTimeout(ms: number): unknown;
  resetAndDestroy(): unknown;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localPort?: number | undefined;
  readonly bytesRead: number;
  readonly bytesWritten?: number | undefined;
}

interface ServerLike extends EventEmitter {
  listen(port: number, host: string, cb?: () => void): unknown;
  close(cb?: (err?: Error) => void): unknown;
  address(): { port: number; address: string } | string | null;
  getConnections(cb: (err: Error | null, n: number) => void): unknown;
  maxConnections?: number | undefined;
}

interface ServerOpts {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
}

interface Impl {
  host: string;
  createServer(opts: ServerOpts, onSocket: (s: SocketLike) => void): ServerLike;
  connect(opts: { port: number; allowHalfOpen?: boolean }): SocketLike;
  teardown(): Promise<void>;
}

function nodeImpl(): Impl {
  return {
    host: "127.0.0.1",
    createServer: (opts, onSocket) => nodeNet.createServer(opts, onSocket),
    connect: (opts) => nodeNet.connect({ ...opts, host: "127.0.0.1" }),
    teardown: async () => {},
  };
}

function synackImpl(): Impl {
  const [a, b]: [NodeStack, NodeStack] = loopbackPair();
  const client = bindNet(a);
  const server = bindNet(b);
  return {
    host: b.address,
    createServer: (opts, onSocket) => server.createServer(opts, onSocket),
    connect: (opts) => client.connect({ ...opts, host: b.address }),
    teardown: async () => {
      await a.close();
      await b.close();
    },
  };
}

const IMPLS: [string, () => Impl][] = [
  ["node:net", nodeImpl],
  ["synack", synackImpl],
];

const EVENTS = ["connect", "ready", "end", "finish", "close", "error", "timeout", "drain"];

/** Records one socket's events; consecutive 'data' chunks are merged (chunking differs). */
function record(s: Duplex, log: string[], opts: { data?: boolean } = {}): void {
  for (const ev of EVENTS) {
    s.on(ev, (arg: unknown) => {
      if (ev === "error") log.push(`error:${errorCode(arg)}:${errorSyscall(arg)}`);
      else if (ev === "close") log.push(`close:${String(arg)}`);
      else log.push(ev);
    });
  }
  if (opts.data !== false) {
    s.on("data", (d: Buffer) => {
      const last = log.length - 1;
      if (last >= 0 && log[last]!.startsWith("data:")) log[last] += d.toString();
      else log.push(`data:${d.toString()}`);
    });
  }
}

function errorCode(e: unknown): string {
  return e instanceof Error ? String(Reflect.get(e, "code")) : "?";
}

function errorSyscall(e: unknown): string {
  return e instanceof Error ? String(Reflect.get(e, "syscall")) : "?";
}

function portOf(server: ServerLike): number {
  const a = server.address();
  if (a === null || typeof a === "string") throw new Error("server is not listening on a port");
  return a.port;
}

function listening(server: ServerLike, host: string): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve(portOf(server))));
}

function closed(s: EventEmitter): Promise<void> {
  return new Promise((resolve) => s.once("close", () => resolve()));
}

function serverClosed(server: ServerLike): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Resolved from inside a server's connection handler. Created before the client starts, so
 * the test waits for the server side even when its connection arrives after the client
 * already finished (the handshake's last ACK can ride on the client's first data).
 */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets pending 'close' events (emitted a turn after destroy) arrive before comparing. */
function settle(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe.each(IMPLS)("node semantics: %s", (_name, makeImpl) => {
  let impl: Impl;
  afterEach(async () => {
    await impl.teardown();
  });

  it("normal exchange: connect, data both ways, client closes first", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    const serverSocketClosed = deferred();
    const server = impl.createServer({}, (sock) => {
      record(sock, s);
      sock.once("close", () => serverSocketClosed.resolve());
      sock.on("data", () => sock.write("pong"));
      sock.on("end", () => sock.end());
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    record(sock, c);
    sock.on("connect", () => sock.write("ping"));
    sock.on("data", () => sock.end());
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "ready", "data:pong", "finish", "end", "close:false"]);
    expect(s).toEqual(["data:ping", "end", "finish", "close:false"]);
  });

  it("end() before the handshake completes: the data and FIN wait for the connection", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    const serverSocketClosed = deferred();
    const server = impl.createServer({}, (sock) => {
      record(sock, s);
      sock.once("close", () => serverSocketClosed.resolve());
      sock.on("end", () => sock.end());
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    record(sock, c);
    sock.end("early");
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "ready", "finish", "end", "close:false"]);
    expect(s).toEqual(["data:early", "end", "finish", "close:false"]);
  });

  it("the server speaks and closes first; the client's allowHalfOpen false answers the FIN", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    const serverSocketClosed = deferred();
    const server = impl.createServer({}, (sock) => {
      record(sock, s);
      sock.once("close", () => serverSocketClosed.resolve());
      sock.end("hi");
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    record(sock, c);
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "ready", "data:hi", "end", "finish", "close:false"]);
    expect(s).toEqual(["finish", "end", "close:false"]);
  });

  it("half-close with allowHalfOpen true: the side that got FIN keeps sending", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    const serverSocketClosed = deferred();
    const server = impl.createServer({ allowHalfOpen: true }, (sock) => {
      record(sock, s);
      sock.once("close", () => serverSocketClosed.resolve());
      sock.on("end", () => {
        sock.write("late");
        sock.end();
      });
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port, allowHalfOpen: true });
    record(sock, c);
    sock.on("connect", () => sock.end("hello"));
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "ready", "finish", "data:late", "end", "close:false"]);
    expect(s).toEqual(["data:hello", "end", "finish", "close:false"]);
  });

  it("half-close with allowHalfOpen false: the peer's FIN ends our side, a later write is EPIPE", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    const serverSocketDone = deferred();
    const server = impl.createServer({ allowHalfOpen: false }, (sock) => {
      record(sock, s);
      sock.on("close", () => {
        const ok = sock.write("late", (err) => {
          s.push(`write-cb:${errorCode(err)}`);
          serverSocketDone.resolve();
        });
        s.push(`write-after-close:${String(ok)}`);
      });
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port, allowHalfOpen: true });
    record(sock, c);
    sock.on("connect", () => sock.end("hello"));
    await closed(sock);
    await serverSocketDone.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "ready", "finish", "end", "close:false"]);
    expect(s).toEqual(["data:hello", "end", "finish", "close:false", "write-after-close:false", "write-cb:EPIPE"]);
  });

  it("refused connect: ECONNREFUSED from connect, then close(true)", async () => {
    impl = makeImpl();
    // A port that was just free: listen, note it, close.
    const probe = impl.createServer({}, () => {});
    const port = await listening(probe, impl.host);
    await serverClosed(probe);
    const c: string[] = [];
    const sock = impl.connect({ port });
    record(sock, c);
    const err = await new Promise<unknown>((resolve) => sock.once("error", resolve));
    await closed(sock);
    expect(c).toEqual(["error:ECONNREFUSED:connect", "close:true"]);
    expect(err).toBeInstanceOf(Error);
    expect(Reflect.get(err as Error, "errno")).toBe(-111);
    expect(Reflect.get(err as Error, "address")).toBe(impl.host);
    expect(Reflect.get(err as Error, "port")).toBe(port);
    expect((err as Error).message).toBe(`connect ECONNREFUSED ${impl.host}:${port}`);
  });

  it("reset by peer: resetAndDestroy on one side is ECONNRESET (read) on the other", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    const serverSocketClosed = deferred();
    const server = impl.createServer({}, (sock) => {
      record(sock, s);
      sock.once("close", () => serverSocketClosed.resolve());
      sock.on("data", () => sock.resetAndDestroy());
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    record(sock, c);
    sock.on("connect", () => sock.write("x"));
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "ready", "error:ECONNRESET:read", "close:true"]);
    expect(s).toEqual(["data:x", "close:false"]);
  });

  it("write after end: ERR_STREAM_WRITE_AFTER_END, the FIN still goes out after the data", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    const serverSocketClosed = deferred();
    const server = impl.createServer({}, (sock) => {
      record(sock, s);
      sock.once("close", () => serverSocketClosed.resolve());
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    record(sock, c);
    sock.on("connect", () => {
      sock.end("a");
      const ok = sock.write("b", (err) => c.push(`write-cb:${errorCode(err)}`));
      c.push(`write:${String(ok)}`);
    });
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "write:false", "ready", "write-cb:ERR_STREAM_WRITE_AFTER_END", "error:ERR_STREAM_WRITE_AFTER_END:undefined", "close:true"]);
    expect(s).toEqual(["data:a", "end", "finish", "close:false"]);
  });

  it("destroy mid-transfer (local): close(false), the peer gets what was sent, then FIN", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    let got = 0;
    const serverSocketClosed = deferred();
    const server = impl.createServer({}, (sock) => {
      record(sock, s, { data: false });
      sock.once("close", () => serverSocketClosed.resolve());
      sock.on("data", (d: Buffer) => (got += d.length));
    });
    const port = await listening(server, impl.host);
    const total = 32 << 20; // more than loopback moves in the 5 ms before the destroy
    const sock = impl.connect({ port });
    record(sock, c);
    sock.on("connect", () => {
      sock.write(Buffer.alloc(total));
      setTimeout(() => sock.destroy(), 5);
    });
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    // Whether 'drain' came before the destroy depends on how fast the peer read: not compared.
    expect(c.filter((e) => e !== "drain")).toEqual(["connect", "ready", "close:false"]);
    expect(s).toEqual(["end", "finish", "close:false"]);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(total);
  });

  it("destroy mid-transfer (peer, with data unread): RST, ECONNRESET (read) on the sender", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    const serverSocketClosed = deferred();
    const server = impl.createServer({ pauseOnConnect: true }, (sock) => {
      record(sock, s, { data: false });
      sock.once("close", () => serverSocketClosed.resolve());
      setTimeout(() => sock.destroy(), 20);
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    record(sock, c);
    sock.on("connect", () => sock.write(Buffer.alloc(8 << 20)));
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "ready", "error:ECONNRESET:read", "close:true"]);
    expect(s).toEqual(["close:false"]);
  });

  it("backpressure: write() returns false when the socket buffer is full, then 'drain'", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    let received = 0;
    let serverSocket: SocketLike | undefined;
    const serverSocketClosed = deferred();
    const server = impl.createServer({ pauseOnConnect: true }, (sock) => {
      serverSocket = sock;
      record(sock, s, { data: false });
      sock.once("close", () => serverSocketClosed.resolve());
      sock.on("data", (d: Buffer) => (received += d.length));
      sock.on("end", () => sock.end());
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    record(sock, c);
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    sock.on("connect", () => {
      // Bounded: the kernel (or synack's send buffer plus the peer's window) fills long before.
      let ok = true;
      while (ok && written < 64 << 20) {
        ok = sock.write(chunk);
        written += chunk.length;
      }
      c.push(`write-false:${String(!ok)}`);
      sock.once("drain", () => sock.end());
      // Give the full buffers a moment to stay full, then let the reader catch up.
      setTimeout(() => serverSocket?.resume(), 20);
    });
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "write-false:true", "ready", "drain", "finish", "end", "close:false"]);
    expect(s).toEqual(["end", "finish", "close:false"]);
    expect(received).toBe(written);
    expect(written).toBeLessThan(64 << 20);
  });

  it("idle timeout: 'timeout' is only a notification; destroy() in it closes", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const s: string[] = [];
    const serverSocketClosed = deferred();
    const server = impl.createServer({}, (sock) => {
      record(sock, s);
      sock.once("close", () => serverSocketClosed.resolve());
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    record(sock, c);
    sock.setTimeout(30);
    sock.on("timeout", () => sock.destroy());
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "ready", "timeout", "close:false"]);
    expect(s).toEqual(["end", "finish", "close:false"]);
  });

  it("idle timeout: 'timeout' once per idle spell, again only after activity", async () => {
    impl = makeImpl();
    const c: string[] = [];
    const serverSocketClosed = deferred();
    const server = impl.createServer({}, (sock) => {
      sock.resume();
      sock.once("close", () => serverSocketClosed.resolve());
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    record(sock, c);
    sock.setTimeout(10);
    let timeouts = 0;
    sock.on("timeout", () => {
      // Idle for ten timeouts more after the first: node:net stays quiet until the write.
      if (++timeouts === 1) {
        setTimeout(() => {
          c.push("write");
          sock.write("x");
        }, 100);
      } else if (c.includes("write")) sock.destroy();
    });
    await closed(sock);
    await serverSocketClosed.promise;
    await serverClosed(server);
    expect(c).toEqual(["connect", "ready", "timeout", "write", "timeout", "close:false"]);
  });

  it("server: listening, EADDRINUSE, getConnections, connection, close callback", async () => {
    impl = makeImpl();
    const log: string[] = [];
    const server = impl.createServer({}, () => log.push("connection"));
    server.on("listening", () => log.push("listening"));
    server.on("close", () => log.push("close"));
    const port = await listening(server, impl.host);
    const second = impl.createServer({}, () => {});
    const err = await new Promise<unknown>((resolve) => {
      second.once("error", resolve);
      second.listen(port, impl.host);
    });
    log.push(`second:error:${errorCode(err)}:${errorSyscall(err)}`);
    expect((err as Error).message).toBe(`listen EADDRINUSE: address already in use ${impl.host}:${port}`);
    expect(Reflect.get(err as Error, "errno")).toBe(-98);
    const count = (): Promise<number> => new Promise((resolve) => server.getConnections((_e, n) => resolve(n)));
    log.push(`connections:${await count()}`);
    const sock = impl.connect({ port });
    await new Promise((resolve) => sock.once("connect", resolve));
    await settle(5);
    log.push(`connections:${await count()}`);
    sock.destroy();
    await serverClosed(server);
    log.push("closed-callback");
    expect(log).toEqual(["listening", "second:error:EADDRINUSE:listen", "connections:0", "connection", "connections:1", "close", "closed-callback"]);
  });

  it("server.close() with a callback that is not a function: passed over, 'close' as usual", async () => {
    impl = makeImpl();
    const log: string[] = [];
    const server = impl.createServer({}, () => {});
    server.on("close", () => log.push("close"));
    await listening(server, impl.host);
    // Found by the node:net fuzzer: synack called it at 'close' and threw from the event loop.
    server.close(42 as never);
    await new Promise<void>((resolve) => server.once("close", () => resolve()));
    await settle(5);
    expect(log).toEqual(["close"]);
  });

  it("maxConnections: a connection over the limit is closed at once and 'drop' is emitted", async () => {
    impl = makeImpl();
    const log: string[] = [];
    const kept: SocketLike[] = [];
    const server = impl.createServer({}, (sock) => {
      log.push("connection");
      kept.push(sock);
    });
    server.maxConnections = 1;
    server.on("drop", (d: Record<string, unknown>) => log.push(`drop:${Object.keys(d).join(",")}`));
    const port = await listening(server, impl.host);
    const first = impl.connect({ port });
    await new Promise((resolve) => first.once("connect", resolve));
    await settle(5);
    const c: string[] = [];
    const second = impl.connect({ port });
    record(second, c);
    await closed(second);
    first.destroy();
    for (const k of kept) k.destroy();
    await serverClosed(server);
    expect(log).toEqual(["connection", "drop:localAddress,localPort,localFamily,remoteAddress,remotePort,remoteFamily"]);
    expect(c).toEqual(["connect", "ready", "end", "finish", "close:false"]);
  });

  it("addresses and byte counters", async () => {
    impl = makeImpl();
    let serverSide: SocketLike | undefined;
    const server = impl.createServer({}, (sock) => {
      serverSide = sock;
      sock.pipe(sock);
    });
    const port = await listening(server, impl.host);
    const sock = impl.connect({ port });
    await new Promise((resolve) => sock.once("connect", resolve));
    expect(sock.remoteAddress).toBe(impl.host);
    expect(sock.remotePort).toBe(port);
    const echoed = await new Promise<string>((resolve) => {
      sock.once("data", (d: Buffer) => resolve(d.toString()));
      sock.write("12345");
    });
    expect(echoed).toBe("12345");
    expect(sock.bytesRead).toBe(5);
    expect(sock.bytesWritten).toBe(5);
    expect(serverSide?.remotePort).toBe(sock.localPort);
    sock.end();
    await closed(sock);
    await serverClosed(server);
  });
});
