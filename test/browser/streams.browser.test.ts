/**
 * The Web Streams API in a real browser: esbuild bundles the page script (web/streams-test,
 * which imports the runtime-neutral core), a local HTTP server on 127.0.0.1 serves it, and
 * Debian's chromium, driven by playwright-core, runs it. The page builds two simulated
 * hosts and exchanges data through connect() and listen(); this test asserts its report.
 *
 * Bundling for the browser platform also proves the core is runtime-neutral: a `node:`
 * import anywhere under src/api would fail the build.
 *
 * Chromium comes from apt (`apt-get install chromium`, done by .ci/run); playwright's own
 * browser download is never used. In CI a missing chromium fails this test.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PageResult } from "../../web/streams-test/main.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PAGE_DIR = fileURLToPath(new URL("../../web/streams-test/", import.meta.url));
const inCi = process.env["CI"] === "true";
const haveChromium = existsSync(CHROMIUM);

if (!haveChromium && !inCi) {
  console.warn(`${CHROMIUM} not found: the browser test is skipped outside CI (apt-get install chromium).`);
}

describe.skipIf(!haveChromium && !inCi)("Web Streams sockets in chromium", () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let origin = "";

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: CI must install it (apt-get install chromium)`);
    const bundle = await build({
      entryPoints: [`${PAGE_DIR}main.ts`],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "chrome120",
      write: false,
      sourcemap: "inline",
      logLevel: "silent",
    });
    const js = bundle.outputFiles[0]!.contents;
    const html = await readFile(`${PAGE_DIR}index.html`);
    server = createServer((req, res) => {
      if (req.url === "/" || req.url === "/index.html") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
      } else if (req.url === "/main.js") {
        res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(js);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", () => resolve()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  });

  it("two simulated hosts exchange data through connect() and listen()", async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // Nothing but the local server: the page must not reach out anywhere.
    await page.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.synackResult !== undefined, undefined, { timeout: 30_000 });
    const result: PageResult = await page.evaluate(() => window.synackResult!);
    const status = await page.textContent("#status");
    await page.close();

    expect(errors).toEqual([]);
    expect(result.error).toBeUndefined();
    expect(result.userAgent).toContain("Chrome");
    expect(result.echoed).toBe("hello from the browser");
    expect(result.openedRemote).toBe("10.0.0.2");
    expect(result.tableStates).toContain("ESTABLISHED");
    expect(result.bigBytes).toBe(256 * 1024);
    expect(result.bigIntact).toBe(true);
    expect(result.retransmits).toBeGreaterThan(0);
    expect(result.refusedCode).toBe("ECONNREFUSED");
    expect(result.virtualMs).toBeGreaterThan(0);
    expect(result.ok).toBe(true);
    expect(status).toBe("passed");
  });
});
