// Page load of the web playground (issue 11: "loads in under a second on this machine from the
// local server"): the built page (dist/web) served by `synack web`'s server, opened in Debian's
// chromium for every built-in scenario, timed from navigation start to the moment every view is
// drawn (the page's own performance.now() when its first views were on screen). A long run is
// drawn in two goes (web/playground/model/slices.ts): its first screen, with every view at the
// cursor, while the rest of the run goes on; the "all drawn" column is when the whole run was
// (the same as "drawn" for a run that fits one slice). Beside them, as the reference measured
// in the same run, the handshake scenario's time: the bundle's load and a trivial run, so the
// difference is what a scenario's run and drawing cost.
//
// Usage: node bench/page-load.js [--runs N] [--only NAME] [--json] [--dir DIR]
// --dir: a page built elsewhere (`npm run build:web -- --outdir DIR`), to compare two builds.
// --json: the table goes to stderr and one JSON line (what bench/run.js reads) to stdout.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { serveWeb, defaultWebDir } from "../dist/src/node/web-server.js";
import { BUILTIN_SCENARIOS } from "../dist/src/scenario/builtin/index.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const runs = Number(opt("--runs", "3"));
const only = opt("--only", undefined);
const json = argv.includes("--json");
const print = json ? (s) => process.stderr.write(s + "\n") : (s) => console.log(s);

if (!existsSync(CHROMIUM)) {
  print(`page-load: ${CHROMIUM} not found (apt-get install chromium)`);
  if (json) console.log(JSON.stringify({ outcome: "no-chromium" }));
  process.exit(0);
}
const server = await serveWeb({ dir: opt("--dir", undefined) ?? defaultWebDir(), port: 0 });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function load(fragment) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${server.url}#${fragment}`);
  await page.waitForFunction(() => window.playground?.completeAt !== undefined, undefined, { timeout: 60_000 });
  const t = await page.evaluate(() => ({ drawn: window.playground.drawnAt, complete: window.playground.completeAt }));
  await page.close();
  return t;
}

const names = BUILTIN_SCENARIOS.map((s) => s.name).filter((n) => only === undefined || n === only);
await load("s=handshake"); // warm the browser and the server's cache
const timeOf = async (name) => {
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await load(`s=${name}`));
  return { drawn: median(samples.map((x) => x.drawn)), complete: median(samples.map((x) => x.complete)) };
};
const reference = (await timeOf("handshake")).drawn;
print(`page load, median of ${runs}: ms from opening the page to every view drawn; reference: handshake ${reference.toFixed(0)} ms`);
print("scenario".padEnd(28) + "drawn ms".padStart(10) + "  vs handshake   vs 1 s budget" + "all drawn ms".padStart(14));
let worst = { name: "", ms: 0 };
const scenarios = {};
const complete = {};
for (const name of names) {
  const { drawn: ms, complete: all } = await timeOf(name);
  scenarios[name] = Math.round(ms);
  complete[name] = Math.round(all);
  if (ms > worst.ms) worst = { name, ms };
  print(name.padEnd(28) + ms.toFixed(0).padStart(10) + `${(ms / reference).toFixed(2)}x`.padStart(15) + `${(ms / 1000).toFixed(2)}x`.padStart(16) + (all > ms ? all.toFixed(0) : "same").padStart(14));
}
print(`slowest: ${worst.name} ${worst.ms.toFixed(0)} ms (${worst.ms < 1000 ? "under" : "over"} the 1 s budget)`);
await browser.close();
await server.close();
if (json) console.log(JSON.stringify({ outcome: "done", runs, handshakeMs: Math.round(reference), slowest: worst.name, slowestMs: Math.round(worst.ms), scenarios, complete }));
