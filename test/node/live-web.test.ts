/**
 * The live view's event stream on the Node side (src/node/live-web.ts): the history keeps
 * the newest messages within its count and byte caps, a page that connects late gets the
 * kept history, and one that reconnects with Last-Event-ID gets only what it missed.
 * The server is real (127.0.0.1, a free port); the stack is the simulator's.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiveEventStream, LiveFeed, serveLive } from "../../src/node/live-web.js";
import { serveWeb, type WebServer } from "../../src/node/web-server.js";
import { eventFromJson } from "../../src/trace/jsonl-read.js";
import type { LiveHello, LiveMessage } from "../../src/trace/live-protocol.js";
import { ScenarioRun } from "../../src/scenario/runner.js";
import { BUILTIN_SCENARIOS } from "../../src/scenario/builtin/index.js";
import { eventJsonLine } from "../../src/trace/jsonl.js";
import type { TraceEvent } from "../../src/trace/events.js";

const note = (n: number): LiveMessage => ({ kind: "event", event: { type: "app", time: n, host: "synack", call: `call ${n}` } });

interface Frame {
  id?: number;
  data: LiveHello | LiveMessage;
}

/** Opens the stream, collects frames until `count` data frames (hello included) arrived, then closes. */
function readStream(url: string, count: number, lastEventId?: number): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const frames: Frame[] = [];
    let text = "";
    const req = request(url, { headers: lastEventId !== undefined ? { "last-event-id": String(lastEventId) } : {} }, (res) => {
      expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
        let end: number;
        while ((end = text.indexOf("\n\n")) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const f: Partial<Frame> = {};
          for (const line of block.split("\n")) {
            if (line.startsWith("id: ")) f.id = Number(line.slice(4));
            if (line.startsWith("data: ")) f.data = JSON.parse(line.slice(6)) as LiveHello | LiveMessage;
          }
          if (f.data !== undefined) frames.push(f as Frame);
        }
        if (frames.length >= count) {
          req.destroy();
          resolve(frames);
        }
      });
    });
    req.on("error", (e) => (frames.length >= count ? undefined : reject(e)));
    req.setTimeout(10_000, () => reject(new Error(`only ${frames.length} of ${count} frames arrived`)));
    req.end();
  });
}

describe("LiveEventStream: bounded history", () => {
  it("keeps the newest messages up to the count cap", () => {
    const s = new LiveEventStream({ maxMessages: 5 });
    for (let i = 1; i <= 12; i++) s.push(note(i));
    expect(s.size).toBe(5);
    expect(s.firstId).toBe(8);
    expect(s.lastId).toBe(12);
    expect(s.dropped).toBe(7);
    expect(s.framesAfter().map((f) => Number(/^id: (\d+)/.exec(f)![1]))).toEqual([8, 9, 10, 11, 12]);
    expect(s.framesAfter(10)).toHaveLength(2);
  });

  it("keeps the bytes under the byte cap (but always the newest message)", () => {
    const s = new LiveEventStream({ maxBytes: 1000 });
    for (let i = 1; i <= 5000; i++) s.push(note(i));
    expect(s.byteSize).toBeLessThanOrEqual(1000);
    expect(s.size).toBeGreaterThan(5);
    expect(s.lastId).toBe(5000);
    expect(s.framesAfter().join("").length).toBe(s.byteSize);
    const big = new LiveEventStream({ maxBytes: 10 });
    big.push(note(1));
    big.push(note(2));
    expect(big.size).toBe(1);
    expect(big.firstId).toBe(2);
  });

  it("refuses limits below one", () => {
    expect(() => new LiveEventStream({ maxMessages: 0 })).toThrow(RangeError);
  });
});

describe("LiveFeed: a stack's events as messages the page reads back", () => {
  it("every trace event of the handshake scenario survives the round trip through JSON", () => {
    const stream = new LiveEventStream({ maxMessages: 100_000 });
    const feed = new LiveFeed(stream, "client");
    const seen: TraceEvent[] = [];
    const spec = BUILTIN_SCENARIOS.find((s) => s.name === "handshake")!;
    const run = new ScenarioRun(spec, {
      onEvent: (e) => {
        seen.push(e);
        feed.sink.emit(e);
      },
    });
    run.finish();
    const back = stream.framesAfter().map((f) => (JSON.parse(f.slice(f.indexOf("data: ") + 6)) as LiveMessage));
    const events = back.filter((m) => m.kind === "event").map((m) => eventFromJson(m.event));
    expect(events).toHaveLength(seen.length);
    expect(events.map((e) => (e === undefined ? "?" : eventJsonLine(e)))).toEqual(seen.map((e) => eventJsonLine(e)));
  });

  it("a snapshot of the touched connections follows each engine run, before the next run's events", async () => {
    const stream = new LiveEventStream({ maxMessages: 100_000 });
    const feed = new LiveFeed(stream, "server");
    const spec = BUILTIN_SCENARIOS.find((s) => s.name === "handshake")!;
    const run = new ScenarioRun(spec, { onEvent: (e) => ("host" in e && e.host === "server" ? feed.sink.emit(e) : undefined) });
    feed.attach({ now: () => 0, host: run.tcpHost("server")! });
    run.finish();
    // The last run's snapshot waits for a microtask (no later event ends it).
    await Promise.resolve();
    const msgs = stream.framesAfter().map((f) => JSON.parse(f.slice(f.indexOf("data: ") + 6)) as LiveMessage);
    const snaps = msgs.filter((m): m is Extract<LiveMessage, { kind: "snapshot" }> => m.kind === "snapshot");
    // The server ran twice: at 10 ms (the SYN) and at 30 ms (the ACK).
    expect(snaps.map((x) => x.time)).toEqual([10, 30]);
    // Each snapshot comes right after the run it ends: the last event before it has its time.
    msgs.forEach((m, i) => {
      if (m.kind !== "snapshot") return;
      const times = msgs.slice(0, i).flatMap((x) => (x.kind === "event" ? [x.event["time"]] : []));
      expect(times[times.length - 1]).toBe(m.time);
    });
    // What the stack held after each: SYN_RCVD, then ESTABLISHED with the peer's window.
    expect(snaps.map((x) => x.conns.map((c) => c["state"]))).toEqual([["SYN_RCVD"], ["ESTABLISHED"]]);
    expect(snaps[1]!.conns[0]!["sndWnd"]).toBeGreaterThan(0);
  });

  it("rejects what is not an event", () => {
    expect(eventFromJson({ type: "segment-in", time: 1, host: "a" })).toBeUndefined();
    expect(eventFromJson({ type: "nonsense", time: 1, host: "a" })).toBeUndefined();
    expect(eventFromJson("SYN")).toBeUndefined();
    expect(eventFromJson({ type: "state", time: 1, host: "a", tuple: { localAddr: "10.0.0.300", localPort: 1, remoteAddr: "10.0.0.1", remotePort: 2 }, from: "CLOSED", to: "LISTEN", cause: "x" })).toBeUndefined();
  });
});

describe("serveLive: the stream over HTTP", () => {
  let dir = "";
  let server: WebServer | undefined;
  const stream = new LiveEventStream({ maxMessages: 50 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "synack-live-"));
    writeFileSync(join(dir, "index.html"), "<html><head><title>t</title></head><body></body></html>");
    server = await serveLive({ dir, port: 0, stream, hello: { host: "synack", addresses: ["10.7.0.2"], peerName: "kernel", link: "syn0" } });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("listens on 127.0.0.1 and marks the page live", async () => {
    expect(server!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const html = await (await fetch(server!.url)).text();
    expect(html).toContain('<meta name="synack-live" content="./live/events">');
  });

  it("the stream answers HEAD with its headers and ends, and other methods with 405, as the page's files do", async () => {
    const url = `${server!.url}live/events`;
    const head = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(5000) });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const post = await fetch(url, { method: "POST", body: "x", signal: AbortSignal.timeout(5000) });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("an IPv6 listening address is bracketed in the URL it prints", async () => {
    const v6 = await serveWeb({ dir, port: 0, host: "::1" });
    try {
      expect(v6.url).toMatch(/^http:\/\/\[::1\]:\d+\/$/);
      expect((await fetch(v6.url)).status).toBe(200);
    } finally {
      await v6.close();
    }
  });

  it("a page that connects late gets the kept history, then what comes; a reconnect gets only what it missed", async () => {
    for (let i = 1; i <= 80; i++) stream.push(note(i));
    // hello + the 50 kept + 2 pushed after it connected
    const reading = readStream(`${server!.url}live/events`, 53);
    await new Promise((r) => setTimeout(r, 100));
    stream.push(note(81));
    stream.push(note(82));
    const frames = await reading;
    const hello = frames[0]!.data as LiveHello;
    expect(hello.kind).toBe("hello");
    expect(hello.history).toMatchObject({ first: 31, last: 80, maxMessages: 50, dropped: 30 });
    expect(frames.slice(1).map((f) => f.id)).toEqual([...Array.from({ length: 50 }, (_, i) => 31 + i), 81, 82]);

    // The browser's EventSource reconnects with the last id it saw.
    stream.push(note(83));
    const again = await readStream(`${server!.url}live/events`, 2, 82);
    expect(again.map((f) => f.id)).toEqual([undefined, 83]);
    expect(stream.subscriberCount).toBeLessThanOrEqual(1);
  });
});
