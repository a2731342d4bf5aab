/**
 * `synack web`: the static server behind the playground. It serves the build's files and
 * nothing outside its folder, and the command prints where it listens until stopped.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { serveWeb, web } from "../../src/cli/web.js";
import { fakeIo } from "./fake-io.js";

const dir = mkdtempSync(join(tmpdir(), "synack-webdir-"));
writeFileSync(join(dir, "index.html"), "<!doctype html><title>t</title>");
writeFileSync(join(dir, "main.js"), "console.log(1)");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("synack web", () => {
  it("serves index.html at / and main.js as JavaScript; nothing outside the folder", async () => {
    const s = await serveWeb({ dir, port: 0 });
    try {
      const index = await fetch(s.url);
      expect(index.status).toBe(200);
      expect(index.headers.get("content-type")).toContain("text/html");
      const js = await fetch(`${s.url}main.js`);
      expect(js.headers.get("content-type")).toContain("text/javascript");
      expect(await js.text()).toBe("console.log(1)");
      expect((await fetch(`${s.url}missing.js`)).status).toBe(404);
      expect((await fetch(`${s.url}..%2f..%2fetc%2fpasswd`)).status).toBe(403);
      expect((await fetch(s.url, { method: "POST" })).status).toBe(405);
    } finally {
      await s.close();
    }
  });

  it("prints its URL and stops when told to", async () => {
    const { io, out } = fakeIo();
    const stop = new AbortController();
    const done = web(["--port", "0", "--dir", dir], io, stop.signal);
    for (let i = 0; i < 100 && !out().includes("http://"); i++) await new Promise((r) => setImmediate(r));
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out())?.[0];
    expect(url).toBeDefined();
    expect((await fetch(url!)).status).toBe(200);
    stop.abort();
    expect(await done).toBe(0);
  });

  it("says so when it cannot listen where asked, as a usage error rather than an internal one", async () => {
    const taken = await serveWeb({ dir, port: 0 });
    try {
      const port = new URL(taken.url).port;
      const a = fakeIo();
      expect(await main(["web", "--port", port, "--dir", dir], a.io)).toBe(2);
      expect(a.err()).toContain(`port ${port} is in use`);
      expect(a.err()).not.toContain("internal error");
      const b = fakeIo();
      // An address literal (no resolver is asked) from TEST-NET-1, which no interface here has.
      expect(await main(["web", "--port", "0", "--host", "192.0.2.1", "--dir", dir], b.io)).toBe(2);
      expect(b.err()).toContain('cannot listen on "192.0.2.1"');
    } finally {
      await taken.close();
    }
  });

  it("explains a missing build and bad options", async () => {
    const empty = mkdtempSync(join(tmpdir(), "synack-webempty-"));
    try {
      const a = fakeIo();
      expect(await main(["web", "--dir", empty], a.io)).toBe(2);
      expect(a.err()).toContain("npm run build:web");
      const b = fakeIo();
      expect(await main(["web", "--port", "99999"], b.io)).toBe(2);
      expect(b.err()).toContain("--port must be a port number");
      const blank = fakeIo();
      expect(await main(["web", "--port", "", "--dir", dir], blank.io)).toBe(2);
      expect(blank.err()).toContain("--port must be a port number");
      const c = fakeIo();
      expect(await main(["web", "--help"], c.io)).toBe(0);
      expect(c.out()).toContain("synack web [--port N] [--open]");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
