// Profiles one benchmark with V8's sampling profiler and prints where the time goes.
//
//   npm run build && node bench/profile.js bulk.js --mtu 1500 --mib 128
//   node bench/profile.js connrate.js --count 60000
//   node bench/profile.js --top 40 bulk.js --mtu 65535
//
// Writes the raw profile to bench/profiles/ (open it in Chrome DevTools or speedscope)
// and prints the top functions by self time and by total (inclusive) time, with their
// compiled file (dist/src/x.js is src/x.ts).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
let top = 25;
if (argv[0] === "--top") {
  top = Number(argv[1]);
  argv.splice(0, 2);
}
const [file, ...rest] = argv;
if (file === undefined) {
  console.error("usage: node bench/profile.js [--top N] <bench file> [args...]");
  process.exit(2);
}
const dir = path.join(here, "profiles");
mkdirSync(dir, { recursive: true });
const before = new Set(readdirSync(dir));
const r = spawnSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval=200", path.join(here, file), ...rest], { encoding: "utf8" });
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
const fresh = readdirSync(dir).filter((f) => !before.has(f) && f.endsWith(".cpuprofile"));
if (fresh.length === 0) {
  console.error("no profile written");
  process.exit(1);
}
fresh.sort((x, y) => statSync(path.join(dir, y)).mtimeMs - statSync(path.join(dir, x)).mtimeMs);
const profPath = path.join(dir, fresh[0]);
const prof = JSON.parse(readFileSync(profPath, "utf8"));

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const totalUs = [...selfUs.values()].reduce((x, y) => x + y, 0);

// Source maps (tsc writes dist/src/x.js.map): generated line -> src/x.ts line.
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const maps = new Map();
function lineMap(url) {
  if (!url || !url.includes("/dist/src/")) return undefined;
  if (maps.has(url)) return maps.get(url);
  let table;
  try {
    const file = fileURLToPath(url);
    const sm = JSON.parse(readFileSync(file + ".map", "utf8"));
    table = [];
    let srcLine = 0;
    sm.mappings.split(";").forEach((line, genLine) => {
      let first;
      for (const seg of line.split(",")) {
        if (seg === "") continue;
        const fields = [];
        let value = 0;
        let shift = 0;
        for (const ch of seg) {
          const digit = B64.indexOf(ch);
          value += (digit & 31) << shift;
          if (digit & 32) shift += 5;
          else {
            fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
            value = 0;
            shift = 0;
          }
        }
        if (fields.length >= 4) {
          srcLine += fields[2];
          first ??= srcLine;
        }
      }
      table[genLine] = first;
    });
  } catch {
    table = undefined;
  }
  maps.set(url, table);
  return table;
}
/** 0-based generated line -> 1-based source line (or the generated one). */
const srcLine = (url, genLine0) => {
  const t = lineMap(url);
  if (t === undefined) return genLine0 + 1;
  for (let l = genLine0; l >= 0; l--) if (t[l] !== undefined) return t[l] + 1;
  return genLine0 + 1;
};

const shortUrl = (url) => {
  if (!url) return "";
  const m = url.match(/dist\/(src\/.*)\.js$/);
  if (m) return m[1] + ".ts";
  const b = url.match(/bench\/.*$/);
  if (b) return b[0];
  return url.replace(/^.*\/node_modules\//, "node_modules/").replace(/^node:/, "node:");
};
const keyOf = (n) => {
  const f = n.callFrame;
  return `${f.functionName || "(anonymous)"}  ${shortUrl(f.url)}${f.url ? ":" + srcLine(f.url, f.lineNumber) : ""}`;
};

const self = new Map();
const incl = new Map();
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  const k = keyOf(n);
  self.set(k, (self.get(k) ?? 0) + us);
  // Inclusive: count each function once per sample even if it recurses.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const kk = keyOf(byId.get(cur));
    if (seen.has(kk)) continue;
    seen.add(kk);
    incl.set(kk, (incl.get(kk) ?? 0) + us);
  }
}

// Self time per source file.
const perFile = new Map();
for (const [k, us] of self) {
  const fileKey = k.split("  ")[1]?.replace(/:\d+$/, "") || "(native/runtime)";
  perFile.set(fileKey, (perFile.get(fileKey) ?? 0) + us);
}

// Hot lines (positionTicks: 1-based generated lines, counted in samples, not time). A
// tick on a line before the function's own first line belongs to an inlined callee (its
// line number is in the callee's file, which the profile does not name).
const srcText = new Map();
function sourceLineText(url, line1) {
  const m = url.match(/dist\/(src\/.*)\.js$/);
  if (!m) return "";
  if (!srcText.has(m[1])) {
    try {
      srcText.set(m[1], readFileSync(path.join(here, "..", m[1] + ".ts"), "utf8").split("\n"));
    } catch {
      srcText.set(m[1], []);
    }
  }
  return (srcText.get(m[1])[line1 - 1] ?? "").trim().slice(0, 70);
}
const lineTicks = new Map();
let allTicks = 0;
for (const n of prof.nodes) {
  allTicks += n.hitCount ?? 0;
  const f = n.callFrame;
  for (const pt of n.positionTicks ?? []) {
    let k;
    if (pt.line - 1 < f.lineNumber) k = `${f.functionName || "anonymous"} (${shortUrl(f.url)}): inlined callee, generated line ${pt.line}`;
    else {
      const l = srcLine(f.url, pt.line - 1);
      k = `${shortUrl(f.url)}:${l} (${f.functionName || "anonymous"})  ${sourceLineText(f.url, l)}`;
    }
    lineTicks.set(k, (lineTicks.get(k) ?? 0) + pt.ticks);
  }
}

const fmt = (us) => `${((us / totalUs) * 100).toFixed(1).padStart(5)}%`;
const print = (title, m, n) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((x, y) => y[1] - x[1]).slice(0, n)) console.log(`  ${fmt(us)}  ${k}`);
};
console.log(`\nprofile: ${path.relative(process.cwd(), profPath)} (${(totalUs / 1e6).toFixed(2)} s sampled)`);
print("self time by file", perFile, 15);
print("self time by function", self, top);
print("total (inclusive) time by function", incl, top);
console.log("\nhottest source lines (share of all samples)");
for (const [k, t] of [...lineTicks].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`  ${((t / allTicks) * 100).toFixed(1).padStart(5)}%  ${k}`);
