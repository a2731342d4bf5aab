/**
 * A small HTTP/1.1 server and client over synack connections, enough to exchange bulk
 * data with curl, python's http.server and browsers and check it end to end:
 *
 *   GET  /          a short text page naming the endpoints
 *   GET  /bytes/N   N deterministic bytes (see pattern.ts), streamed with back-pressure
 *   POST or PUT     any path, any body size (Content-Length or chunked, Expect: 100-continue
 *                   honoured): answers {"length": N, "sha256": "..."} for the body received
 *
 * Persistent connections and pipelined requests are handled one request at a time.
 * Not an HTTP implementation to put on the internet: no TLS, no absolute-form targets,
 * headers limited to 64 KiB.
 */
import { createHash, type Hash } from "node:crypto";
import { parseIpAddress, type IpAddress } from "../../wire/address.js";
import type { Listener } from "../../tcp/listener.js";
import type { LiveSocket, LiveStack } from "./live.js";
import { fillPattern } from "./pattern.js";

const CRLF2 = [13, 10, 13, 10];
const MAX_HEAD = 64 * 1024;
const CHUNK = 64 * 1024;
/** Largest N for /bytes/N (1 TiB): far beyond any test, small enough for exact arithmetic. */
const MAX_BYTES = 2 ** 40;
/**
 * How long a connection the server ended keeps reading (and dropping) what the client
 * still sends before it is closed: nginx's lingering_timeout. Closing at once with input
 * unread would send RST, which can destroy the response before the client reads it.
 */
const LINGER_MS = 5000;
const utf8 = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** Index just past the first "\r\n\r\n" in `buf`, or -1. */
function headEnd(buf: Uint8Array, from: number): number {
  for (let i = Math.max(0, from - 3); i + 3 < buf.length; i++) {
    if (buf[i] === CRLF2[0] && buf[i + 1] === CRLF2[1] && buf[i + 2] === CRLF2[2] && buf[i + 3] === CRLF2[3]) return i + 4;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

interface Head {
  /** Request: [method, target, version]; response: [version, status, reason]. */
  first: [string, string, string];
  headers: Map<string, string>;
}

function parseHead(bytes: Uint8Array): Head | undefined {
  const lines = latin1.decode(bytes).split("\r\n");
  const startLine = lines.shift() ?? "";
  const m = /^(\S+) (\S+)(?: (.*))?$/.exec(startLine);
  if (m === null) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return { first: [m[1]!, m[2]!, m[3] ?? ""], headers };
}

/** A body whose chunked framing is broken (RFC 9112 7.1). */
class BodyFramingError extends Error {}

/** Reads a message body framed by Content-Length, chunked encoding, or the end of the stream. */
export class BodyReader {
  private remaining: number;
  private chunkState: "size" | "data" | "data-crlf" | "trailer" | "done" = "size";
  private line = "";
  private chunkLeft = 0;
  /** Body bytes delivered so far. */
  received = 0;

  constructor(
    readonly framing: "length" | "chunked" | "eof",
    length: number,
    private readonly onBody: (chunk: Uint8Array) => void,
  ) {
    this.remaining = length;
  }

  get done(): boolean {
    return this.framing === "length" ? this.remaining === 0 : this.chunkState === "done";
  }

  /** Consumes body bytes from `data`; returns how many belonged to the body. Throws on bad chunked syntax. */
  feed(data: Uint8Array): number {
    if (this.framing === "eof") {
      this.deliver(data);
      return data.length;
    }
    if (this.framing === "length") {
      const n = Math.min(this.remaining, data.length);
      if (n > 0) this.deliver(data.subarray(0, n));
      this.remaining -= n;
      return n;
    }
    let i = 0;
    while (i < data.length && this.chunkState !== "done") {
      if (this.chunkState === "data") {
        const n = Math.min(this.chunkLeft, data.length - i);
        this.deliver(data.subarray(i, i + n));
        i += n;
        this.chunkLeft -= n;
        if (this.chunkLeft === 0) this.chunkState = "data-crlf";
        continue;
      }
      // size line, CRLF after data, or trailer lines: byte by byte up to LF.
      const b = data[i++]!;
      if (b !== 10) {
        if (b !== 13) this.line += String.fromCharCode(b);
        if (this.line.length > 4096) throw new BodyFramingError("chunked body: line too long");
        continue;
      }
      const line = this.line;
      this.line = "";
      if (this.chunkState === "data-crlf") {
        if (line !== "") throw new BodyFramingError("chunked body: missing CRLF after chunk data");
        this.chunkState = "size";
      } else if (this.chunkState === "size") {
        const size = parseInt(line.split(";")[0]!.trim(), 16);
        if (!Number.isSafeInteger(size) || size < 0) throw new BodyFramingError(`chunked body: bad chunk size ${JSON.stringify(line)}`);
        if (size === 0) this.chunkState = "trailer";
        else {
          this.chunkLeft = size;
          this.chunkState = "data";
        }
      } else if (line === "") {
        this.chunkState = "done";
      }
    }
    return i;
  }

  private deliver(chunk: Uint8Array): void {
    this.received += chunk.length;
    this.onBody(chunk);
  }
}

/** Decides how a message body is framed (RFC 9112 6.3), or an error text. */
function bodyFraming(headers: Map<string, string>, eofAllowed: boolean): { framing: "length" | "chunked" | "eof"; length: number } | string {
  const te = headers.get("transfer-encoding");
  if (te !== undefined) {
    if (te.toLowerCase().split(",").map((s) => s.trim()).at(-1) !== "chunked") return `unsupported transfer-encoding ${te}`;
    return { framing: "chunked", length: 0 };
  }
  const cl = headers.get("content-length");
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) return `bad content-length ${cl}`;
    return { framing: "length", length: Number(cl) };
  }
  return eofAllowed ? { framing: "eof", length: 0 } : { framing: "length", length: 0 };
}

// ------------------------------------------------------------------------------------------
// Server

export interface HttpServerStats {
  requests: number;
  /** Bytes of request bodies received and hashed. */
  bodyBytes: number;
  /** Bytes of response bodies sent. */
  sentBytes: number;
}

export function httpService(stack: LiveStack, port: number, stats?: HttpServerStats): Listener {
  return stack.listen(port, (socket) => {
    new HttpServerConnection(socket, stats ?? { requests: 0, bodyBytes: 0, sentBytes: 0 });
  });
}

class HttpServerConnection {
  private phase: "head" | "body" | "respond" | "closed" = "head";
  private head: Uint8Array = new Uint8Array(0);
  private body: BodyReader | undefined;
  private hash: Hash | undefined;
  private request: Head | undefined;
  /** Input that arrived while a response was being produced (pipelining). */
  private stash: Uint8Array = new Uint8Array(0);
  private keepAlive = true;
  private peerEnded = false;

  constructor(
    private readonly socket: LiveSocket,
    private readonly stats: HttpServerStats,
  ) {
    socket.onData = (chunk) => this.input(chunk);
    socket.onEnd = () => {
      this.peerEnded = true;
      if (this.phase === "head" || this.phase === "body") this.finish();
      else if (this.phase === "closed") this.socket.close();
    };
  }

  private input(chunk: Uint8Array): void {
    let data = chunk;
    while (data.length > 0) {
      if (this.phase === "respond") {
        this.stash = concat(this.stash, data);
        this.socket.pause();
        return;
      }
      if (this.phase === "closed") return;
      if (this.phase === "head") {
        const searchFrom = this.head.length;
        this.head = concat(this.head, data);
        const end = headEnd(this.head, searchFrom);
        if (end < 0) {
          if (this.head.length > MAX_HEAD) this.fail(431, "Request Header Fields Too Large");
          return;
        }
        data = this.head.subarray(end);
        const headBytes = this.head.subarray(0, end - 4);
        this.head = new Uint8Array(0);
        if (!this.startRequest(headBytes)) return;
        continue;
      }
      // body
      let used: number;
      try {
        used = this.body!.feed(data);
      } catch (e) {
        this.fail(400, (e as Error).message);
        return;
      }
      data = data.subarray(used);
      if (this.body!.done) this.respond();
    }
  }

  /** Parses a request head; false when the connection is being failed. */
  private startRequest(headBytes: Uint8Array): boolean {
    const head = parseHead(headBytes);
    if (head === undefined || !head.first[2].startsWith("HTTP/1.")) {
      this.fail(400, "Bad Request");
      return false;
    }
    this.request = head;
    this.stats.requests++;
    const conn = head.headers.get("connection")?.toLowerCase() ?? "";
    this.keepAlive = head.first[2] === "HTTP/1.0" ? conn.includes("keep-alive") : !conn.includes("close");
    const framing = bodyFraming(head.headers, false);
    if (typeof framing === "string") {
      this.fail(400, framing);
      return false;
    }
    const method = head.first[0];
    this.hash = method === "POST" || method === "PUT" ? createHash("sha256") : undefined;
    this.body = new BodyReader(framing.framing, framing.length, (chunk) => {
      this.hash?.update(chunk);
      this.stats.bodyBytes += chunk.length;
    });
    this.phase = "body";
    if (head.headers.get("expect")?.toLowerCase() === "100-continue" && !this.body.done) {
      this.socket.write(utf8.encode("HTTP/1.1 100 Continue\r\n\r\n"));
    }
    if (this.body.done) this.respond();
    return true;
  }

  private respond(): void {
    this.phase = "respond";
    const [method, target] = this.request!.first;
    const path = target.split("?")[0]!;
    const bytes = /^\/bytes\/(\d+)$/.exec(path);
    if (method === "POST" || method === "PUT") {
      const body = `{"length":${this.body!.received},"sha256":"${this.hash!.digest("hex")}"}\n`;
      this.sendSimple(200, "OK", "application/json", body, false);
    } else if (method !== "GET" && method !== "HEAD") {
      this.sendSimple(405, "Method Not Allowed", "text/plain", "method not allowed\n", false, "Allow: GET, HEAD, POST, PUT\r\n");
    } else if (path === "/") {
      const page = "synack HTTP server\n\nGET /bytes/N   N deterministic bytes\nPOST /any      answers the body's length and SHA-256\n";
      this.sendSimple(200, "OK", "text/plain; charset=utf-8", page, method === "HEAD");
    } else if (bytes !== null && Number(bytes[1]) <= MAX_BYTES) {
      this.sendBytes(Number(bytes[1]), method === "HEAD");
    } else {
      this.sendSimple(404, "Not Found", "text/plain", "not found\n", method === "HEAD");
    }
  }

  private headers(status: number, reason: string, type: string, length: number, extra = ""): Uint8Array {
    const connection = this.keepAlive ? "keep-alive" : "close";
    return utf8.encode(
      `HTTP/1.1 ${status} ${reason}\r\nServer: synack\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\nConnection: ${connection}\r\n${extra}\r\n`,
    );
  }

  private sendSimple(status: number, reason: string, type: string, text: string, headOnly: boolean, extra = ""): void {
    const body = utf8.encode(text);
    this.socket.write(this.headers(status, reason, type, body.length, extra));
    if (!headOnly) {
      this.socket.write(body);
      this.stats.sentBytes += body.length;
    }
    this.finish();
  }

  private sendBytes(total: number, headOnly: boolean): void {
    this.socket.write(this.headers(200, "OK", "application/octet-stream", total));
    if (headOnly) return this.finish();
    let offset = 0;
    const pump = (): void => {
      while (offset < total) {
        const n = Math.min(CHUNK, total - offset);
        const chunk = fillPattern(new Uint8Array(n), offset);
        offset += n;
        this.stats.sentBytes += n;
        if (!this.socket.write(chunk)) {
          this.socket.onDrain = pump;
          return;
        }
      }
      this.socket.onDrain = undefined;
      this.finish();
    };
    pump();
  }

  /** The current request is answered: close, or go on with the next one. */
  private finish(): void {
    if (this.phase === "closed") return;
    const complete = this.phase === "respond";
    if (!complete || !this.keepAlive || this.peerEnded) {
      this.phase = "closed";
      this.closeWhenDone();
      return;
    }
    this.phase = "head";
    this.request = undefined;
    this.body = undefined;
    this.hash = undefined;
    const stash = this.stash;
    this.stash = new Uint8Array(0);
    this.socket.resume();
    if (stash.length > 0) this.input(stash);
  }

  /**
   * Ends the connection as a server must so that it does not sit in FIN_WAIT_2 for ever
   * when the client never closes: close() (orphaned, so tcp_fin_timeout applies) once the
   * client has ended too, or after LINGER_MS of reading and dropping its input.
   */
  private closeWhenDone(): void {
    if (this.peerEnded) {
      this.socket.close();
      return;
    }
    this.socket.end();
    this.socket.resume(); // input is read and dropped from now on (phase "closed")
    const linger = setTimeout(() => this.socket.close(), LINGER_MS);
    linger.unref();
    const onClose = this.socket.onClose;
    this.socket.onClose = (error) => {
      clearTimeout(linger);
      onClose?.(error);
    };
  }

  private fail(status: number, reason: string): void {
    this.keepAlive = false;
    this.phase = "respond";
    this.sendSimple(status, reason.replace(/[\r\n]/g, " "), "text/plain", `${reason}\n`, false);
  }
}

// ------------------------------------------------------------------------------------------
// Client

export interface HttpResponse {
  status: number;
  reason: string;
  headers: Map<string, string>;
  /** Body bytes received. */
  length: number;
  sha256: string;
  /** Milliseconds from connect() to the last body byte. */
  elapsedMs: number;
}

export interface HttpRequestOptions {
  method?: string;
  /** Called with each body chunk as it arrives (e.g. to save it). */
  onBody?: (chunk: Uint8Array) => void;
  /** Gives up (resetting the connection) after this many ms. Default: no limit. */
  timeoutMs?: number;
  /** Request body, sent with a Content-Length. */
  body?: Uint8Array;
  /** Aborting it resets the connection and rejects with code ABORT_ERR. */
  signal?: AbortSignal;
}

/**
 * An error of the HTTP client. `code`: the TCP error's when the connection failed
 * (ECONNREFUSED, ETIMEDOUT...), ERR_INVALID_URL, ABORT_ERR, ETIMEDOUT for `timeoutMs`,
 * ERR_HTTP_RESPONSE for a response that is not HTTP/1.x as RFC 9112 frames it, and
 * ERR_HTTP_INCOMPLETE for a connection that ended before the response did.
 */
export class HttpClientError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "HttpClientError";
  }
}

/** Where an http:// URL points: what the client connects to and asks for. */
export interface HttpTarget {
  address: IpAddress;
  port: number;
  /** The Host header's value. */
  host: string;
  /** Path and query, the request target (origin form, RFC 9112 3.2.1). */
  path: string;
}

/**
 * The target of `url` (http://IPv4[:port]/path or http://[IPv6][:port]/path); throws an
 * HttpClientError with code ERR_INVALID_URL for anything else, so a caller can check a
 * URL before opening anything.
 */
export function httpTarget(url: string): HttpTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HttpClientError(`not a URL: ${JSON.stringify(url)}`, "ERR_INVALID_URL");
  }
  if (u.protocol !== "http:") throw new HttpClientError(`only http:// URLs are supported, got ${u.protocol}`, "ERR_INVALID_URL");
  // URL keeps an IPv6 literal in brackets (RFC 3986 3.2.2).
  const address = parseIpAddress(u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname);
  if (address === undefined) throw new HttpClientError(`the host must be an IP address literal (synack has no resolver here), got ${u.hostname}`, "ERR_INVALID_URL");
  const port = u.port === "" ? 80 : Number(u.port);
  if (port === 0) throw new HttpClientError(`port 0 cannot be connected to: ${JSON.stringify(url)}`, "ERR_INVALID_URL");
  return { address, port, host: u.host, path: `${u.pathname}${u.search}` };
}

function aborted(): HttpClientError {
  return new HttpClientError("the request was aborted", "ABORT_ERR");
}

/** Fetches `url` (see httpTarget) through synack and hashes the body. */
export function httpRequest(stack: LiveStack, url: string, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
  let target: HttpTarget;
  try {
    target = httpTarget(url);
  } catch (e) {
    return Promise.reject(e);
  }
  if (opts.signal?.aborted === true) return Promise.reject(aborted());
  const method = opts.method ?? (opts.body !== undefined ? "POST" : "GET");
  const start = performance.now();
  return new Promise<HttpResponse>((resolve, reject) => {
    const socket = stack.connect(target.address, target.port);
    const hash = createHash("sha256");
    let head: Uint8Array = new Uint8Array(0);
    let response: Head | undefined;
    let body: BodyReader | undefined;
    let settled = false;
    const timer = opts.timeoutMs !== undefined ? setTimeout(() => fail(new HttpClientError(`timed out after ${opts.timeoutMs} ms`, "ETIMEDOUT")), opts.timeoutMs) : undefined;
    const onAbort = (): void => fail(aborted());
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    const done = (): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      socket.close();
      resolve({
        status: Number(response!.first[1]),
        reason: response!.first[2],
        headers: response!.headers,
        length: body?.received ?? 0,
        sha256: hash.digest("hex"),
        elapsedMs: performance.now() - start,
      });
    };
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(e);
    };

    const extra = opts.body !== undefined ? `Content-Length: ${opts.body.length}\r\n` : "";
    socket.write(utf8.encode(`${method} ${target.path} HTTP/1.1\r\nHost: ${target.host}\r\nUser-Agent: synack\r\nAccept: */*\r\nConnection: close\r\n${extra}\r\n`));
    if (opts.body !== undefined) socket.write(opts.body);

    socket.onData = (chunk) => {
      if (settled) return;
      let data = chunk;
      // Heads until the final one: interim responses (1xx, RFC 9110 15.2) are passed over,
      // in a loop, since a server may send any number of them in one chunk.
      while (response === undefined) {
        const from = head.length;
        head = concat(head, data);
        const end = headEnd(head, from);
        if (end < 0) {
          if (head.length > MAX_HEAD) fail(new HttpClientError("response head too large", "ERR_HTTP_RESPONSE"));
          return;
        }
        const parsed = parseHead(head.subarray(0, end - 4));
        if (parsed === undefined || !parsed.first[0].startsWith("HTTP/1.") || !/^\d{3}$/.test(parsed.first[1])) {
          return fail(new HttpClientError("malformed response head", "ERR_HTTP_RESPONSE"));
        }
        data = head.subarray(end);
        head = new Uint8Array(0);
        const status = Number(parsed.first[1]);
        if (status >= 100 && status < 200) {
          if (data.length === 0) return;
          continue;
        }
        response = parsed;
        const noBody = method === "HEAD" || status === 204 || status === 304;
        const framing = noBody ? { framing: "length" as const, length: 0 } : bodyFraming(parsed.headers, true);
        if (typeof framing === "string") return fail(new HttpClientError(framing, "ERR_HTTP_RESPONSE"));
        body = new BodyReader(framing.framing, framing.length, (c) => {
          hash.update(c);
          opts.onBody?.(c);
        });
      }
      try {
        body!.feed(data);
      } catch (e) {
        // Bad chunked syntax; or the caller's onBody threw, which is theirs to see as it was.
        return fail(e instanceof BodyFramingError ? new HttpClientError(e.message, "ERR_HTTP_RESPONSE") : (e as Error));
      }
      if (body!.done) done();
    };
    socket.onEnd = () => {
      if (response !== undefined && body !== undefined && (body.framing === "eof" || body.done)) return done();
      fail(new HttpClientError(response === undefined ? "connection closed before a response" : `connection closed after ${body?.received ?? 0} body bytes`, "ERR_HTTP_INCOMPLETE"));
    };
    socket.onClose = (error) => {
      if (error !== undefined) fail(new HttpClientError(error.message, error.code));
      else if (!settled) fail(new HttpClientError("connection closed", "ERR_HTTP_INCOMPLETE"));
    };
  });
}
