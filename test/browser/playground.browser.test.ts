/**
 * The web playground in Debian's chromium (issue 11): `npm run build:web` builds the page
 * into a temporary folder, `synack web`'s server (serveWeb) serves it on 127.0.0.1, and
 * playwright-core drives the page. The tests assert what the views show — states lit,
 * queue gauges, lost packets, the cwnd drop, the window bar at zero — use the timeline,
 * the keyboard and a what-if drop, replay the shared URL in Node and compare the event
 * log hash, and read the exported pcapng back with tshark. Any console error fails.
 *
 * Chromium comes from apt (`apt-get install chromium`); playwright's own browser download
 * is never used. Outside CI a missing chromium skips this file; in CI it fails.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync, inflateSync } from "node:zlib";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { serveWeb, type WebServer } from "../../src/cli/web.js";
import { fakeIo } from "../cli/fake-io.js";
import { applyChanges, decodeState, scenarioOf } from "../../web/playground/model/knobs.js";
import { runSession } from "../../web/playground/model/session.js";
import { questionAt, type Question } from "../../web/playground/model/textbook.js";
import { BUILTIN_SCENARIOS } from "../../src/scenario/builtin/index.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const inCi = process.env["CI"] === "true";
const haveChromium = existsSync(CHROMIUM);
const haveTshark = (() => {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

if (!haveChromium && !inCi) console.warn(`${CHROMIUM} not found: the playground browser test is skipped outside CI (apt-get install chromium).`);

describe.skipIf(!haveChromium && !inCi)("web playground in chromium", () => {
  let dir = "";
  let server: WebServer | undefined;
  let browser: Browser | undefined;
  /** Console errors and uncaught exceptions of the page under test. */
  let errors: string[] = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: CI must install it (apt-get install chromium)`);
    dir = mkdtempSync(join(tmpdir(), "synack-web-"));
    execFileSync(process.execPath, [join(ROOT, "web", "build.js"), "--outdir", dir], { stdio: "pipe" });
    server = await serveWeb({ dir, port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  async function open(fragment: string): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    errors = [];
    page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    // Nothing but the local server: the page must not reach out anywhere.
    await page.route("**/*", (route) => (route.request().url().startsWith(server!.url) ? route.continue() : route.abort()));
    await page.goto(`${server!.url}#${fragment}`);
    await page.waitForFunction(() => window.playground?.ready === true, undefined, { timeout: 60_000 });
    return page;
  }

  async function close(page: Page): Promise<void> {
    await page.close();
    expect(errors).toEqual([]);
  }

  /** The footer's event-log hash, filled in once the views are drawn. */
  const hashOf = async (page: Page): Promise<string> => {
    await page.waitForFunction(() => /^[0-9a-f]{16}$/.test(document.getElementById("hash")?.textContent ?? ""));
    return (await page.textContent("#hash"))!;
  };
  const stateOf = (page: Page, host: string): Promise<string | null> => page.getAttribute(`svg.fsm[data-host="${host}"] g.state.current`, "data-state");
  const cursor = (page: Page): Promise<number> => page.evaluate(() => window.playground!.cursor);

  it("the README's bundle size is the build's (within 5%), minified and gzipped", () => {
    const bytes = readFileSync(join(dir, "main.js"));
    const m = /`main\.js`\s+(\d+) KiB minified, (\d+) KiB gzipped/.exec(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(m, "README states the bundle size").not.toBeNull();
    expect(Math.abs(Number(m![1]) * 1024 - bytes.length) / bytes.length).toBeLessThan(0.05);
    expect(Math.abs(Number(m![2]) * 1024 - gzipSync(bytes, { level: 9 }).length) / gzipSync(bytes, { level: 9 }).length).toBeLessThan(0.05);
  });

  it("handshake: stepping lights each end's state; the diagram grows packet by packet", async () => {
    const page = await open("s=handshake");
    expect(await stateOf(page, "client")).toBe("CLOSED");
    expect(await stateOf(page, "server")).toBe("LISTEN");
    expect(await page.locator("g.segment").count()).toBe(0);
    // Step until the client's SYN is on the wire.
    while ((await page.locator("g.segment").count()) === 0) await page.click("#next");
    expect(await stateOf(page, "client")).toBe("SYN_SENT");
    expect(await page.getAttribute("g.segment[data-id='0']", "data-label")).toMatch(/^SYN seq=x win=65535 mss=1460/);
    // Keyboard: n steps, p steps back.
    const k = await cursor(page);
    await page.keyboard.press("n");
    expect(await cursor(page)).toBe(k + 1);
    await page.keyboard.press("p");
    expect(await cursor(page)).toBe(k);
    await page.click("#last");
    expect(await page.locator("g.segment[data-fate='delivered']").count()).toBe(3);
    expect(await stateOf(page, "client")).toBe("ESTABLISHED");
    expect(await stateOf(page, "server")).toBe("ESTABLISHED");
    expect(await page.getAttribute(`svg.fsm[data-host="server"] g.edge.taken`, "data-from")).toBe("SYN_RCVD");
    // Scrub back to the start.
    await page.$eval("#scrub", (el) => {
      (el as HTMLInputElement).value = "0";
      el.dispatchEvent(new Event("input"));
    });
    expect(await cursor(page)).toBe(0);
    // + zooms the diagram, 0 resets it.
    const h0 = Number(await page.getAttribute("#ladder", "height"));
    await page.keyboard.press("+");
    expect(Number(await page.getAttribute("#ladder", "height"))).toBeGreaterThan(h0);
    await page.keyboard.press("0");
    expect(Number(await page.getAttribute("#ladder", "height"))).toBe(h0);
    await close(page);
  });

  it("SYN flood without cookies: the SYN queue fills, the client never gets in", async () => {
    const page = await open("s=syn-flood");
    const syn = "div.gauge[data-host='server'][data-queue='syn']";
    expect(await page.getAttribute(syn, "data-value")).toBe("0");
    await page.click("#last");
    expect(await page.getAttribute(syn, "data-value")).toBe("128");
    expect(await page.getAttribute(syn, "data-limit")).toBe("128");
    expect(await page.getAttribute(".cookies", "data-cookies")).toBe("0");
    expect(await stateOf(page, "client")).toBe("CLOSED");
    // Each of the client's 7 SYNs reaches the server and is dropped there: the queue is full.
    expect(await page.locator("g.segment.dropped").count()).toBe(7);
    expect(await page.locator("text.drop-note", { hasText: "syn-queue-full" }).count()).toBe(7);
    await close(page);
  });

  it("SYN flood with cookies: the queue is full, cookies take over and the client gets in", async () => {
    const page = await open("s=syn-flood-cookies");
    await page.click("#last");
    expect(await page.getAttribute("div.gauge[data-host='server'][data-queue='syn']", "data-value")).toBe("128");
    expect(Number(await page.getAttribute(".cookies", "data-cookies"))).toBeGreaterThan(0);
    expect(await stateOf(page, "client")).toBe("ESTABLISHED");
    expect(await page.locator("text.cookie-note").count()).toBeGreaterThan(0);
    // Click the SYN,ACK: its ISN is a cookie, taken apart with the listener's secret.
    await page.locator("g.segment[data-label^='SYN,ACK']").first().click();
    expect(await page.getAttribute(".cookie-decode", "data-valid")).toBe("true");
    expect(await page.textContent(".cookie-decode td[data-cookie='mss-index']")).toMatch(/^3 → MSS 1460/);
    expect(await page.textContent(".cookie-decode td[data-cookie='check']")).toMatch(/^holds/);
    // And the ACK that echoes it: accepted.
    await page.locator("g.segment[data-label^='ACK seq=x+1 ack=y']").first().click();
    expect(await page.textContent(".cookie-decode")).toContain("accepted it");
    await close(page);
  });

  it("lost data: a packet ends mid-air, the retransmission follows, cwnd drops after the loss", async () => {
    const page = await open("s=lost-data");
    await page.click("#flagged");
    const lost = page.locator("g.segment[data-fate='lost']");
    expect(await lost.count()).toBe(1);
    expect(await lost.locator("path.lost-x").count()).toBe(1);
    await page.click("#last");
    expect(await page.locator("g.segment.retransmit").count()).toBeGreaterThan(0);
    const values = (await page.getAttribute("#cwnd-client path[data-series='cwnd']", "data-values"))!.split(" ").map(Number);
    const peak = Math.max(...values);
    expect(values[values.length - 1]!).toBeLessThan(peak);
    expect(values.indexOf(peak)).toBeLessThan(values.length - 1);
    await close(page);
  });

  it("zero window: the client's window bar reaches zero, then the window reopens", async () => {
    const page = await open("s=zero-window");
    const bar = "div.wbar[data-host='client']";
    const steps = await page.evaluate(() => window.playground!.steps);
    let sawZero = false;
    for (let i = 0; i < steps && !sawZero; i++) {
      await page.click("#next");
      sawZero = (await page.getAttribute(bar, "data-wnd")) === "0";
    }
    expect(sawZero).toBe(true);
    expect(await page.getAttribute(bar, "data-usable")).toBe("0");
    await page.click("#last");
    expect(Number(await page.getAttribute(bar, "data-wnd"))).toBeGreaterThan(0);
    await close(page);
  });

  it("Wireshark's analysis flags: on the packets, in the detail pane, and marked where synack knows otherwise", async () => {
    const page = await open("s=zero-window");
    await page.click("#last");
    const probes = page.locator("g.segment[data-analysis='keep_alive']");
    expect(await probes.count()).toBeGreaterThan(1);
    expect(await probes.first().locator("tspan.ws-flags").textContent()).toBe(" [TCP Keep-Alive]");
    expect(await page.locator("g.segment.disagree").count()).toBe(await probes.count());
    expect(await page.locator("g.segment[data-analysis~='zero_window'] tspan.ws-flags").first().textContent()).toBe(" [TCP ZeroWindow]");
    await probes.first().click();
    expect(await page.textContent(".detail td[data-field=\"Wireshark's analysis (from the wire)\"]")).toContain("tcp.analysis.keep_alive");
    expect(await page.textContent(".detail .disagreement")).toContain("synack sent it as a zero-window probe");
    await close(page);
  });

  it("what-if: dropping the SYN,ACK re-runs the scenario; the shared URL replays to the same hash in Node", async () => {
    const page = await open("s=handshake");
    const before = await hashOf(page);
    await page.click("#last");
    await page.click("g.segment[data-id='1']");
    expect(await page.textContent(".detail")).toContain("SYN,ACK answering the SYN");
    await page.click("button[data-whatif='drop']");
    await page.waitForSelector("#ladder-base");
    const after = await hashOf(page);
    expect(after).not.toBe(before);
    const fragment = new URL(page.url()).hash;
    expect(decodeURIComponent(fragment)).toContain("w=drop.server.client.SYN,ACK.0.1");
    await page.click("#last");
    expect(await page.locator("#ladder g.segment[data-fate='lost']").count()).toBe(1);
    expect(await page.locator("#ladder g.segment.retransmit").count()).toBeGreaterThan(0);
    expect(await page.locator("#ladder-base g.segment[data-fate='lost']").count()).toBe(0);
    // Determinism: the URL alone, replayed in Node, gives the same event log.
    const state = decodeState(fragment);
    const node = runSession(applyChanges(scenarioOf(state)!, state.knobs, state.whatIfs));
    expect(node.hash).toBe(after);
    await close(page);
  });

  it("opens a pcap written by `synack demo --pcap` as an inferred ladder, with Wireshark's flags and no engine state", async () => {
    const { io, written } = fakeIo();
    expect(await main(["demo", "lost-data", "--pcap", "lost.pcap"], io)).toBe(0);
    const page = await open("s=handshake");
    await page.setInputFiles("#open-file", { name: "lost.pcap", mimeType: "application/vnd.tcpdump.pcap", buffer: Buffer.from(written.get("lost.pcap")!) });
    await page.waitForSelector("svg.ladder.inferred");
    expect(await page.textContent("#title")).toBe("lost.pcap — inferred from the capture");
    expect(await page.locator("g.inferred-packet").count()).toBe(10);
    expect(await page.getAttribute("g.inferred-packet[data-frame='1']", "data-label")).toMatch(/^SYN seq=x win=65535/);
    expect(await page.locator("g.inferred-packet[data-analysis~='retransmission']").count()).toBe(1);
    // The ACK after the hole carries a grown window (rcv_ssthresh, as Linux): a window update, not a duplicate ACK.
    expect(await page.locator("g.inferred-packet[data-analysis~='duplicate_ack']").count()).toBe(0);
    expect(await page.locator("g.inferred-packet[data-analysis~='window_update']").count()).toBe(1);
    expect(await page.locator("svg.fsm").count()).toBe(0);
    // Nothing to step through in a capture: no timeline.
    expect(await page.isVisible(".timeline")).toBe(false);
    await page.click("g.inferred-packet[data-frame='9']");
    expect(await page.textContent(".detail.inferred td[data-field=\"Wireshark's analysis (from the wire)\"]")).toContain("tcp.analysis.retransmission");
    expect(await page.textContent(".detail.inferred")).toContain("no engine ran");
    // Something that is not a capture: refused with a message, nothing breaks.
    await page.setInputFiles("#open-file", { name: "notes.pcap", mimeType: "application/octet-stream", buffer: Buffer.from("no capture here, just some text") });
    await page.waitForSelector("#status.error");
    expect(await page.textContent("#status")).toContain("not a pcap or pcapng file");
    // Choosing a scenario again runs the engine.
    await page.selectOption("#scenario", "handshake");
    await page.waitForSelector("svg.fsm");
    expect(await page.isVisible(".timeline")).toBe(true);
    await close(page);
  });

  it("exports the diagram as a PNG of the SVG's size, with something drawn on it", async () => {
    const page = await open("s=lost-data");
    await page.click("#last");
    const width = Number(await page.getAttribute("#ladder", "width"));
    const height = Number(await page.getAttribute("#ladder", "height"));
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-png")]);
    expect(download.suggestedFilename()).toBe("lost-data.png");
    const file = join(dir, "diagram.png");
    await download.saveAs(file);
    await close(page);
    const png = readFileSync(file);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.toString("latin1", 12, 16)).toBe("IHDR");
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([Math.round(width), Math.round(height)]);
    // The pixels: inflate the IDAT chunks; a blank canvas would have a single colour.
    const idat: Buffer[] = [];
    for (let at = 8; at < png.length; ) {
      const len = png.readUInt32BE(at);
      if (png.toString("latin1", at + 4, at + 8) === "IDAT") idat.push(png.subarray(at + 8, at + 8 + len));
      at += 12 + len;
    }
    const pixels = inflateSync(Buffer.concat(idat));
    expect(new Set(pixels).size).toBeGreaterThan(16);
  });

  it.skipIf(!haveTshark && !inCi)("exports a pcapng that tshark reads, with the stack's reason as each packet's comment and the page's retransmission count", async () => {
    const page = await open("s=lost-syn");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-pcapng")]);
    const file = join(dir, "export.pcapng");
    await download.saveAs(file);
    // The page's analyser and tshark -Y tcp.analysis.retransmission count the same packets.
    await page.click("#last");
    const pageCount = await page.locator("g.segment[data-analysis~='retransmission']").count();
    await close(page);
    const tsharkCount = execFileSync("tshark", ["-r", file, "-Y", "tcp.analysis.retransmission"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n").length;
    expect(pageCount).toBe(6);
    expect(tsharkCount).toBe(pageCount);
    const out = execFileSync("tshark", ["-r", file, "-T", "fields", "-e", "tcp.flags.syn", "-e", "frame.comment"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(7);
    expect(lines[0]).toContain("SYN because the application called connect()");
    expect(lines[1]).toMatch(/retransmission of SYN: the retransmission timer expired \(expiry 1\) \[lost/);
  });

  it("textbook mode: asks for the next state and the next cwnd, checks against the run, keeps the score (keys for the handshake, clicks for the cwnd)", async () => {
    const page = await open("s=handshake");
    const score = async (): Promise<string | null> => page.textContent("#score");
    // t turns it on (the page has focus, nothing else does).
    await page.keyboard.press("t");
    expect(await page.isChecked("#textbook")).toBe(true);
    expect(await score()).toBe("score 0 / 0");
    // Step: the first question comes before the client's first state change.
    let start = await cursor(page);
    while (!(await page.isVisible("#quiz"))) {
      start = await cursor(page);
      await page.keyboard.press("n");
    }
    expect(await page.getAttribute("#quiz", "data-kind")).toBe("state");
    expect(await page.textContent("#quiz .quiz-prompt")).toBe("client is in CLOSED. Which state does it enter next?");
    expect(await page.locator("#quiz button[data-choice]").evaluateAll((b) => b.map((x) => x.getAttribute("data-choice")))).toEqual(["LISTEN", "SYN_SENT"]);
    // The cursor waits for the answer; the first choice has the focus.
    expect(await cursor(page)).toBe(start);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-choice"))).toBe("LISTEN");
    await page.keyboard.press("2");
    expect(await page.getAttribute("#quiz", "data-result")).toBe("right");
    expect(await score()).toBe("score 1 / 1");
    expect(await stateOf(page, "client")).toBe("SYN_SENT");
    // On to the server's question; a wrong answer is corrected with what really happened.
    while ((await page.locator("#quiz .quiz-prompt").count()) === 0) await page.keyboard.press("n");
    expect(await page.textContent("#quiz .quiz-prompt")).toBe("server is in LISTEN. Which state does it enter next?");
    await page.keyboard.press("2");
    expect(await page.getAttribute("#quiz", "data-result")).toBe("wrong");
    expect(await page.textContent("#quiz .quiz-reveal")).toBe("You said SYN_SENT. What happened: server: LISTEN → SYN_RCVD (SYN received).");
    expect(await score()).toBe("score 1 / 2");
    expect(await stateOf(page, "server")).toBe("SYN_RCVD");
    await close(page);

    // cwnd: in lost-data, the question after the retransmission timer fires; the page's answer key is the run's next cwnd event.
    const s = runSession(BUILTIN_SCENARIOS.find((x) => x.name === "lost-data")!);
    const asked: Question[] = [];
    for (let k = 0; k < s.steps.length - 1; ) {
      const q = questionAt(s, k);
      if (q !== undefined) asked.push(q);
      k = q !== undefined ? q.step : k + 1;
    }
    const rto = asked.find((q) => q.kind === "cwnd" && q.reveal.includes("retransmission timeout"))!;
    expect(rto).toBeDefined();
    const lost = await open("s=lost-data");
    await lost.click("#textbook");
    let answered = 0;
    for (const q of asked) {
      // Step until the page asks (bounded by the run's length).
      for (let i = 0; i < s.steps.length && (await lost.locator("#quiz .quiz-prompt").count()) === 0; i++) await lost.click("#next");
      expect(await lost.textContent("#quiz .quiz-prompt")).toBe(q.prompt);
      if (q === rto) break;
      await lost.click(`#quiz button[data-choice="${q.answer}"]`);
      answered++;
    }
    expect(await lost.getAttribute("#quiz", "data-kind")).toBe("cwnd");
    // A new question is not marked with the last answer's result.
    expect(await lost.getAttribute("#quiz", "data-result")).toBeNull();
    await lost.click(`#quiz button[data-choice="${rto.answer}"]`);
    expect(await lost.getAttribute("#quiz", "data-result")).toBe("right");
    expect(await lost.textContent("#quiz .quiz-reveal")).toContain("(retransmission timeout)");
    expect(await lost.textContent("#score")).toBe(`score ${answered + 1} / ${answered + 1}`);
    // Turning it off steps without asking.
    await lost.click("#textbook");
    expect(await lost.isHidden("#quiz")).toBe(true);
    const k = await cursor(lost);
    await lost.click("#next");
    expect(await cursor(lost)).toBe(k + 1);
    await close(lost);
  });
});
