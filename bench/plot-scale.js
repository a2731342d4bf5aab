// Draws docs/scale.svg from scale.js results: CPU nanoseconds per packet (bulk and
// connection rate) against the number of open connections, log scale.
//
//   node bench/plot-scale.js bench/results.json [more.json ...] > docs/scale.svg
//
// Each file is either bench/results.json (its runs.scale) or one scale.js JSON line.
import { readFileSync } from "node:fs";

const points = [];
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8").trim();
  const json = JSON.parse(text.split("\n").find((l) => l.startsWith("{")) ?? text);
  const runs = json.runs?.scale ?? [json];
  for (const r of runs) if (r.outcome === "done") points.push(r);
}
points.sort((a, b) => a.count - b.count);
if (points.length === 0) throw new Error("no scale.js results in the files given");

const W = 640;
const H = 360;
const L = 70;
const R = 170;
const T = 40;
const B = 50;
const xs = points.map((p) => Math.log10(p.count));
const x0 = Math.floor(Math.min(...xs));
const x1 = Math.ceil(Math.max(...xs));
const yMax = Math.ceil(Math.max(...points.map((p) => Math.max(p.bulk.cpuNsPerPacket, p.rate.cpuNsPerPacket))) / 10_000) * 10_000;
const X = (v) => L + ((Math.log10(v) - x0) / Math.max(x1 - x0, 1)) * (W - L - R);
const Y = (v) => T + (1 - v / yMax) * (H - T - B);
const out = [];
out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
out.push(`<text x="${L}" y="22" font-size="14">CPU time per packet with N idle connections open (synack, bench/scale.js)</text>`);
for (let e = x0; e <= x1; e++) {
  const x = X(10 ** e);
  out.push(`<line x1="${x}" y1="${T}" x2="${x}" y2="${H - B}" stroke="#ddd"/>`);
  out.push(`<text x="${x}" y="${H - B + 18}" text-anchor="middle">${(10 ** e).toLocaleString("en-US")}</text>`);
}
for (let v = 0; v <= yMax; v += yMax / 4) {
  const y = Y(v);
  out.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#ddd"/>`);
  out.push(`<text x="${L - 6}" y="${y + 4}" text-anchor="end">${(v / 1000).toFixed(0)} µs</text>`);
}
out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">open connections (log scale)</text>`);
const series = [
  ["bulk, MTU 1500", "#1f77b4", (p) => p.bulk.cpuNsPerPacket],
  ["connection rate", "#d62728", (p) => p.rate.cpuNsPerPacket],
];
series.forEach(([name, color, f], i) => {
  const pts = points.map((p) => `${X(p.count).toFixed(1)},${Y(f(p)).toFixed(1)}`).join(" ");
  out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`);
  for (const p of points) out.push(`<circle cx="${X(p.count).toFixed(1)}" cy="${Y(f(p)).toFixed(1)}" r="3.5" fill="${color}"/>`);
  out.push(`<line x1="${W - R + 15}" y1="${T + 10 + i * 20}" x2="${W - R + 35}" y2="${T + 10 + i * 20}" stroke="${color}" stroke-width="2"/>`);
  out.push(`<text x="${W - R + 40}" y="${T + 14 + i * 20}">${name}</text>`);
});
out.push(`</svg>`);
process.stdout.write(out.join("\n") + "\n");
