/**
 * The live view's server side (issue 11, item 7): `synack tun --web PORT` streams its trace
 * events, packets and connection snapshots to the playground page as server-sent events
 * (EventSource in the page: one-way, text, reconnects by itself with Last-Event-ID, so no
 * WebSocket framing is needed).
 *
 * LiveEventStream keeps a bounded history: the newest messages up to a count and a byte
 * cap (the oldest go first), so a page opened later, or one that reconnects, gets the
 * recent past and memory stays bounded however long the stack runs. `serveLive` serves the
 * built page (web-server.ts) with the stream at /live/events and marks the page live.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TraceEvent, TraceSink } from "../trace/events.js";
import { eventJson, tupleJson, type JsonValue } from "../trace/jsonl.js";
import { LIVE_EVENTS_PATH, LIVE_META, type JsonObject, type LiveHello, type LiveMessage } from "../trace/live-protocol.js";
import type { ConnectionInfo } from "../tcp/connection-info.js";
import type { Listener } from "../tcp/listener.js";
import { defaultWebDir, serveWeb, type WebServer } from "./web-server.js";
import { InvalidSettingError } from "../invalid-setting.js";

export interface LiveHistoryLimits {
  /** Most messages kept (default 20,000). */
  maxMessages?: number;
  /** Most bytes of SSE text kept (default 16 MiB). */
  maxBytes?: number;
}

interface Stored {
  id: number;
  /** The message as one SSE frame ("id: ..\ndata: ..\n\n"). */
  frame: string;
}

export const DEFAULT_LIVE_HISTORY = { maxMessages: 20_000, maxBytes: 16 * 1024 * 1024 } as const;

/** Messages in order, each with an id, the newest kept within the limits, fanned out to subscribers. */
export class LiveEventStream {
  readonly maxMessages: number;
  readonly maxBytes: number;
  private readonly stored: Stored[] = [];
  /** Index in `stored` of the oldest kept message (a queue without shifting the array each time). */
  private head = 0;
  private bytes = 0;
  private nextId = 1;
  /** How many messages fell out of the history. */
  dropped = 0;
  private readonly subscribers = new Set<(frame: string) => void>();

  constructor(limits: LiveHistoryLimits = {}) {
    this.maxMessages = limits.maxMessages ?? DEFAULT_LIVE_HISTORY.maxMessages;
    this.maxBytes = limits.maxBytes ?? DEFAULT_LIVE_HISTORY.maxBytes;
    if (!(this.maxMessages >= 1) || !(this.maxBytes >= 1)) throw new InvalidSettingError("live history limits must be at least 1");
  }

  push(message: LiveMessage): number {
    const id = this.nextId++;
    const frame = `id: ${id}\ndata: ${JSON.stringify(message)}\n\n`;
    this.stored.push({ id, frame });
    this.bytes += frame.length;
    while (this.size > this.maxMessages || (this.bytes > this.maxBytes && this.size > 1)) {
      this.bytes -= this.stored[this.head]!.frame.length;
      this.head++;
      this.dropped++;
    }
    // Compact once the dead prefix is as long as what is kept.
    if (this.head > 1024 && this.head * 2 > this.stored.length) {
      this.stored.splice(0, this.head);
      this.head = 0;
    }
    for (const s of this.subscribers) s(frame);
    return id;
  }

  get size(): number {
    return this.stored.length - this.head;
  }
  get byteSize(): number {
    return this.bytes;
  }
  get firstId(): number {
    return this.size > 0 ? this.stored[this.head]!.id : this.nextId;
  }
  get lastId(): number {
    return this.nextId - 1;
  }

  /** The kept frames with ids above `afterId` (all of them without it), oldest first. */
  framesAfter(afterId = 0): string[] {
    const out: string[] = [];
    for (let i = this.head; i < this.stored.length; i++) if (this.stored[i]!.id > afterId) out.push(this.stored[i]!.frame);
    return out;
  }

  subscribe(fn: (frame: string) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}

/** What a stack offers the live feed: its clock, its connections and listeners. */
export interface LiveSource {
  now(): number;
  host: { tcp: { allSockets(): Iterable<{ info: ConnectionInfo }>; allListeners(): Iterable<Listener> } };
}

/**
 * Feeds a stream from a stack: a trace sink for its events, a packet tap, and after each
 * batch of events (one synchronous run of the engine: the events of one arrival, one poll)
 * a snapshot of the connections it touched.
 */
export class LiveFeed {
  private source: LiveSource | undefined;
  private readonly dirty = new Set<string>();
  private batchTime = 0;
  private scheduled = false;

  constructor(
    readonly stream: LiveEventStream,
    private readonly hostName: string,
  ) {}

  /** The stack, once it exists (it takes the sink and tap when it is built). */
  attach(source: LiveSource): void {
    this.source = source;
  }

  readonly sink: TraceSink = {
    enabled: true,
    emit: (e: TraceEvent) => {
      // Events of one engine run share a time: a new time means the last run is over.
      if (this.scheduled && e.time !== this.batchTime) this.flush();
      // Payload bytes travel in the packet messages; the event keeps their length.
      this.stream.push({ kind: "event", event: eventJson(e) });
      if ("tuple" in e && e.tuple !== undefined) {
        this.dirty.add(tupleKey(tupleJson(e.tuple)));
        this.batchTime = e.time;
        this.schedule();
      } else if (e.type === "queue") {
        this.batchTime = e.time;
        this.schedule();
      }
    },
  };

  packet(direction: "in" | "out", packet: Uint8Array): void {
    this.stream.push({ kind: "packet", time: this.source?.now() ?? 0, dir: direction, base64: Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength).toString("base64") });
  }

  /**
   * The snapshot is taken when the run is over: at the next event of another time, in a
   * microtask, or after 10 ms, whichever comes first. (On a TUN device neither microtasks
   * nor setImmediate were seen to run between arrivals for tens of milliseconds: its reads
   * complete on a libuv worker.)
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
    setTimeout(() => this.flush(), 10).unref();
  }

  /** The snapshot of the last run: what the stack holds now that its events are out. */
  flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    const src = this.source;
    if (src === undefined) return;
    const conns: JsonObject[] = [];
    for (const { info } of src.host.tcp.allSockets()) {
      const j = infoJson(info);
      if (this.dirty.has(tupleKey(j["tuple"] as JsonObject))) conns.push(j);
    }
    const listeners: JsonObject[] = [];
    for (const l of src.host.tcp.allListeners())
      listeners.push({ port: l.port, syn: l.synQueue.size, synLimit: l.synQueueLimit, accept: l.acceptQueue.length, backlog: l.backlog, synDrops: l.synQueueDrops, acceptDrops: l.acceptQueueDrops, cookiesSent: l.cookiesSent });
    this.dirty.clear();
    this.stream.push({ kind: "snapshot", time: this.batchTime, host: this.hostName, listeners, conns });
  }
}

export function tupleKey(t: JsonObject): string {
  return `${String(t["localAddr"])}:${String(t["localPort"])}>${String(t["remoteAddr"])}:${String(t["remotePort"])}`;
}

/** ConnectionInfo as JSON: the tuple as jsonl.ts writes it, non-finite and missing numbers as null. */
export function infoJson(info: ConnectionInfo): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(info) as Array<[string, unknown]>) {
    if (k === "tuple") out[k] = tupleJson(info.tuple);
    else if (typeof v === "number") out[k] = Number.isFinite(v) ? v : null;
    else if (v === undefined) out[k] = null;
    else if (typeof v === "string" || typeof v === "boolean") out[k] = v;
    else if (typeof v === "object" && v !== null) out[k] = JSON.parse(JSON.stringify(v)) as JsonValue;
  }
  return out;
}

export interface LiveServerOptions {
  /** The page's files (default: the package's built playground, dist/web). */
  dir?: string;
  port: number;
  host?: string;
  stream: LiveEventStream;
  hello: Omit<LiveHello, "kind" | "history">;
  /** A comment line keeps idle streams open through proxies (default every 15 s). */
  keepAliveMs?: number;
}

const EVENT_STREAM_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" };

/** Serves the page marked live, and the stream at /live/events (history after Last-Event-ID, then what comes). */
export async function serveLive(opts: LiveServerOptions): Promise<WebServer> {
  const { stream } = opts;
  const open = new Set<() => void>();
  const web = await serveWeb({
    dir: opts.dir ?? defaultWebDir(),
    port: opts.port,
    ...(opts.host !== undefined ? { host: opts.host } : {}),
    rewriteIndex: (html) => html.replace("</head>", `  <meta name="${LIVE_META}" content=".${LIVE_EVENTS_PATH}">\n</head>`),
    extra: (req, res) => {
      if (new URL(req.url ?? "/", "http://x").pathname !== LIVE_EVENTS_PATH) return false;
      // As the page's files: GET and HEAD only. A HEAD is answered with the stream's headers
      // and ended (kept open as a stream, `curl -I` waited for ever for its status line).
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return true;
      }
      if (req.method === "HEAD") {
        res.writeHead(200, EVENT_STREAM_HEADERS).end();
        return true;
      }
      const stop = eventStream(req, res, stream, opts);
      open.add(stop);
      res.on("close", () => {
        stop();
        open.delete(stop);
      });
      return true;
    },
  });
  return {
    ...web,
    close: async () => {
      for (const stop of open) stop();
      await web.close();
    },
  };
}

function eventStream(req: IncomingMessage, res: ServerResponse, stream: LiveEventStream, opts: LiveServerOptions): () => void {
  const header = req.headers["last-event-id"];
  const lastId = typeof header === "string" && /^\d+$/.test(header) ? Number(header) : 0;
  res.writeHead(200, EVENT_STREAM_HEADERS);
  const hello: LiveHello = {
    kind: "hello",
    ...opts.hello,
    history: { first: stream.firstId, last: stream.lastId, maxMessages: stream.maxMessages, maxBytes: stream.maxBytes, dropped: stream.dropped },
  };
  // Reconnect after 1 s if the connection drops; the browser sends Last-Event-ID then.
  res.write(`retry: 1000\ndata: ${JSON.stringify(hello)}\n\n`);
  for (const f of stream.framesAfter(lastId)) res.write(f);
  const unsubscribe = stream.subscribe((f) => res.write(f));
  const ping = setInterval(() => res.write(": keep-alive\n\n"), opts.keepAliveMs ?? 15_000);
  ping.unref();
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(ping);
    unsubscribe();
    res.end();
  };
}
