/**
 * The built-in HTTP server (`synack tun --http PORT`) and client (`--get URL`) read whatever
 * a peer sends. Server: requests
 * well formed or not, pipelined, cut anywhere, damaged byte by byte. Whatever arrives, no
 * exception escapes its socket callbacks, every response it writes is well formed, and once
 * the peer has finished and read everything, the server closes the connection: none is left
 * open. Client: whatever a server answers, the request settles (a response or an
 * HttpClientError) once the server has finished, and nothing throws. The sockets here are
 * stand-ins that record writes and apply back-pressure.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import type { Listener } from "../../src/tcp/listener.js";
import { HttpClientError, httpRequest, httpService, type HttpServerStats } from "../../src/node/services/http.js";
import type { LiveSocket, LiveStack } from "../../src/node/services/live.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("HTTP_FUZZ_RUNS", 300);
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

/** How much the stand-in socket takes before write() says "wait for drain". */
const WINDOW = 64 * 1024;

class FakeSocket {
  onData: ((chunk: Uint8Array) => void) | undefined;
  onEnd: (() => void) | undefined;
  onDrain: (() => void) | undefined;
  onClose: (() => void) | undefined;
  readonly out: Uint8Array[] = [];
  unread = 0;
  ended = false;
  paused = false;
  write(data: Uint8Array): boolean {
    if (this.ended) throw new Error("write after end()");
    this.out.push(data.slice());
    this.unread += data.length;
    return this.unread < WINDOW;
  }
  end(): void {
    this.ended = true;
  }
  /** close(2): ended, and the connection left to the stack, which bounds FIN_WAIT_2 and LAST_ACK. */
  closed = false;
  close(): void {
    this.ended = true;
    this.closed = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  /** The peer reads everything written so far; the server may write again. */
  drain(): void {
    this.unread = 0;
    this.onDrain?.();
  }
  text(): string {
    return Buffer.concat(this.out).toString("latin1");
  }
}

function serve(): { accept: (s: FakeSocket) => void; stats: HttpServerStats } {
  let accept: ((s: LiveSocket) => void) | undefined;
  const stack = { listen: (_port: number, cb: (s: LiveSocket) => void) => ((accept = cb), {} as Listener) } as unknown as LiveStack;
  const stats: HttpServerStats = { requests: 0, bodyBytes: 0, sentBytes: 0 };
  httpService(stack, 80, stats);
  return { accept: (s) => accept!(s as unknown as LiveSocket), stats };
}

const enc = (t: string): Uint8Array => new TextEncoder().encode(t);

/** A chunked body, sometimes damaged: sizes in hex, extensions, trailers. */
const chunked = fc.tuple(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 4 }), fc.constantFrom("", ";ext=1", " "), fc.constantFrom("", "X-Trailer: 1\r\n")).map(([sizes, ext, trailer]) => sizes.map((n) => `${n.toString(16)}${ext}\r\n${"c".repeat(n)}\r\n`).join("") + `0\r\n${trailer}\r\n`);

/** A request as a client would send it: framing consistent with its body. */
const wellFormed = fc
  .record({
    method: fc.constantFrom("GET", "HEAD", "POST", "PUT"),
    target: fc.constantFrom("/", "/bytes/0", "/bytes/100", "/bytes/70000", "/bytes/200000", "/nowhere"),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
    connection: fc.constantFrom("", "Connection: close\r\n", "Connection: keep-alive\r\n"),
    expect: fc.constantFrom("", "Expect: 100-continue\r\n"),
    body: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 20 }), chunked.map((c) => ({ chunked: c }))),
  })
  .map(({ method, target, version, connection, expect, body }) => {
    const framing = body === undefined ? "" : typeof body === "string" ? `Content-Length: ${body.length}\r\n` : "Transfer-Encoding: chunked\r\n";
    const payload = body === undefined ? "" : typeof body === "string" ? body : body.chunked;
    return `${method} ${target} ${version}\r\nHost: a\r\n${connection}${expect}${framing}\r\n${payload}`;
  });

/** Anything shaped like a request: odd methods, targets, versions, headers and bodies. */
const wild = fc
  .record({
    method: fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "get", ""),
    target: fc.oneof(fc.constantFrom("/", "/bytes/0", "/bytes/100", "/bytes/70000", "/bytes/99999999999999999999", "/bytes/-1", "/x?y=1", "*", "http://a/"), fc.string({ maxLength: 8 })),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2", "", "HTTP/1.1 extra"),
    headers: fc.array(
      fc.oneof(
        fc.constantFrom("Host: a", "Connection: close", "Connection: keep-alive", "Expect: 100-continue", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip", "Content-Length: 5", "Content-Length: -1", "Content-Length: 5, 6", "Content-Length: 99999999999999999999", "no colon", ": empty name"),
        fc.string({ maxLength: 12 }).map((s) => `X-${s}: ${s}`),
      ),
      { maxLength: 4 },
    ),
    body: fc.oneof(fc.constant(""), fc.string({ maxLength: 20 }), chunked),
  })
  .map(({ method, target, version, headers, body }) => `${method} ${target} ${version}\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n${body}`);

const request = fc.oneof({ weight: 3, arbitrary: wellFormed }, { weight: 1, arbitrary: wild });

/** Requests back to back, then byte damage (flips, cuts, insertions), then cut into chunks. */
const input = fc
  .tuple(
    fc.array(request, { minLength: 1, maxLength: 4 }),
    fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("flip", "cut", "insert")), { minLength: 1, maxLength: 3 })),
    fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }),
    fc.boolean(),
  )
  .map(([requests, damage, cuts, peerEnds]) => {
    const bytes = Array.from(enc(requests.join("")));
    for (const [at, value, kind] of damage) {
      if (bytes.length === 0) break;
      const i = at % bytes.length;
      if (kind === "flip") bytes[i] = value;
      else if (kind === "cut") bytes.splice(i, 1 + (value % 8));
      else bytes.splice(i, 0, value);
    }
    const chunks: Uint8Array[] = [];
    for (let i = 0, k = 0; i < bytes.length; k++) {
      const n = cuts[k % cuts.length]!;
      chunks.push(Uint8Array.from(bytes.slice(i, i + n)));
      i += n;
    }
    return { chunks, peerEnds };
  });

/** Each response head in `text`: "HTTP/1.1 NNN reason" and headers; bodies are skipped by Content-Length. */
function checkResponses(text: string, what: string): void {
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf("\r\n\r\n", at);
    expect(end, `${what}\nunterminated response head at ${at}: ${JSON.stringify(text.slice(at, at + 80))}`).toBeGreaterThan(at);
    const head = text.slice(at, end);
    expect(head, what).toMatch(/^HTTP\/1\.1 (100|200|400|404|405|431) [^\r\n]+/);
    at = end + 4;
    if (head.startsWith("HTTP/1.1 100 ")) continue;
    const length = /\r\nContent-Length: (\d+)\r\n|\r\nContent-Length: (\d+)$/i.exec(head);
    expect(length, `${what}\n${head}`).not.toBeNull();
    const n = Number(length![1] ?? length![2]);
    // A HEAD answer has no body, and the last answer may be cut short by back-pressure;
    // either way the next head must start where a body of n bytes, or none, ends.
    const next = text.slice(at + n, at + n + 9) === "HTTP/1.1 " || at + n >= text.length ? at + n : at;
    at = Math.min(next, text.length);
  }
}

describe("the built-in HTTP server under any input", () => {
  it("throws nothing, answers in well-formed responses, and ends every connection the peer has finished", () => {
    fc.assert(
      fc.property(input, ({ chunks, peerEnds }) => {
        const { accept, stats } = serve();
        const socket = new FakeSocket();
        accept(socket);
        const what = `input ${JSON.stringify(Buffer.concat(chunks).toString("latin1"))}, peer ends: ${peerEnds}`;
        for (const c of chunks) {
          // A paused socket keeps its input in the stack's buffer: hand it over once the server resumes.
          let rounds = 0;
          while (socket.paused && rounds++ < 64) socket.drain();
          socket.onData?.(c);
        }
        if (peerEnds) socket.onEnd?.();
        // The peer reads whatever is written, as long as the server has more (a /bytes/N stream).
        for (let rounds = 0; rounds < 64 && socket.unread >= WINDOW && !socket.ended; rounds++) socket.drain();
        checkResponses(socket.text(), what);
        expect(Number.isSafeInteger(stats.requests) && Number.isSafeInteger(stats.bodyBytes) && Number.isSafeInteger(stats.sentBytes), what).toBe(true);
        // Finished and fully read, with nothing unbounded left to send: the server has closed the
        // connection, not only ended it (a client that ACKs the FIN and sends nothing more
        // used to keep it in FIN_WAIT_2 for ever).
        const streaming = socket.unread >= WINDOW;
        if (peerEnds && !streaming) expect(socket.closed, `${what}\n${socket.text().slice(0, 400)}`).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("the built-in HTTP server's close", () => {
  it("a client that reads the response and its FIN but never ends gets the connection closed after 5 s of lingering (nginx's lingering_timeout), input read and dropped meanwhile", () => {
    vi.useFakeTimers();
    try {
      const { accept } = serve();
      const socket = new FakeSocket();
      accept(socket);
      socket.onData?.(enc("GET /bytes/10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
      expect(socket.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n.{10}$/);
      expect([socket.ended, socket.closed, socket.paused]).toEqual([true, false, false]); // FIN sent, still reading
      socket.onData?.(enc("more bytes the client sends after the response"));
      vi.advanceTimersByTime(4999);
      expect(socket.closed).toBe(false);
      vi.advanceTimersByTime(1);
      expect(socket.closed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

/** A response as a server might send it, or not: interim heads, framings, damage. */
const response = fc
  .record({
    interim: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.constant(20_000)),
    status: fc.constantFrom("200 OK", "204 No Content", "404 Not Found", "999 X", "20 short", "abc"),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2", "ICY"),
    framing: fc.constantFrom("length", "chunked", "eof", "bad-length", "gzip"),
    body: fc.string({ maxLength: 40 }),
    damage: fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 })),
    cut: fc.integer({ min: 1, max: 300_000 }),
    serverEnds: fc.boolean(),
  })
  .map(({ interim, status, version, framing, body, damage, cut, serverEnds }) => {
    const header = { length: `Content-Length: ${body.length}`, chunked: "Transfer-Encoding: chunked", eof: "", "bad-length": "Content-Length: 1x", gzip: "Transfer-Encoding: gzip" }[framing];
    const payload = framing === "chunked" ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : body;
    const text = "HTTP/1.1 100 Continue\r\n\r\n".repeat(interim) + `${version} ${status}\r\n${header === "" ? "" : `${header}\r\n`}\r\n${payload}`;
    const bytes = enc(text);
    for (const [at, value] of damage) bytes[at % bytes.length] = value;
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += cut) chunks.push(bytes.subarray(i, i + cut));
    return { chunks, serverEnds, interim };
  });

class FakeClientSocket extends FakeSocket {
  destroyed = false;
  destroy(): void {
    this.destroyed = true;
  }
}

describe("the built-in HTTP client under any response", () => {
  it("settles once the server has finished, with a response or an HttpClientError, and throws nothing", async () => {
    await fc.assert(
      fc.asyncProperty(response, fc.constantFrom("GET", "HEAD"), async ({ chunks, serverEnds }, method) => {
        const socket = new FakeClientSocket();
        const stack = { connect: () => socket } as unknown as LiveStack;
        const result: { outcome: "pending" | "resolved" | "rejected"; error?: unknown } = { outcome: "pending" };
        const pending = httpRequest(stack, "http://10.7.0.1/x", { method }).then(
          () => (result.outcome = "resolved"),
          (e: unknown) => Object.assign(result, { outcome: "rejected", error: e }),
        );
        for (const c of chunks) socket.onData?.(c);
        if (serverEnds) socket.onEnd?.();
        await Promise.resolve();
        await Promise.resolve();
        if (serverEnds) expect(result.outcome).not.toBe("pending");
        // The server has not finished: the connection closing ends the request.
        if (result.outcome === "pending") socket.onClose?.();
        await pending;
        expect(result.outcome).not.toBe("pending");
        if (result.outcome === "rejected") {
          expect(result.error).toBeInstanceOf(HttpClientError);
          expect(["ERR_HTTP_RESPONSE", "ERR_HTTP_INCOMPLETE"]).toContain((result.error as HttpClientError).code);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
