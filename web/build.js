#!/usr/bin/env node
// Builds the web playground into a static folder (default dist/web): one esbuild bundle of
// web/playground/main.ts (the runtime-neutral core included), index.html and style.css.
// `npm run build:web [-- --outdir DIR]`; `npm run build` runs it too, so `synack web`
// serves it from the installed package with no network access.
import { copyFile, mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const at = args.indexOf("--outdir");
const outdir = resolve(at >= 0 && args[at + 1] !== undefined ? args[at + 1] : join(root, "dist", "web"));
const src = join(root, "web", "playground");

await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: [join(src, "main.ts")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "chrome115",
  minify: !args.includes("--no-minify"),
  sourcemap: "linked",
  outfile: join(outdir, "main.js"),
  metafile: true,
  logLevel: "warning",
  legalComments: "none",
});
await copyFile(join(src, "index.html"), join(outdir, "index.html"));
await copyFile(join(src, "style.css"), join(outdir, "style.css"));
const bytes = (await stat(join(outdir, "main.js"))).size;
await writeFile(join(outdir, "build.json"), JSON.stringify({ mainJsBytes: bytes, inputs: Object.keys(result.metafile.inputs).length }, null, 2) + "\n");
process.stdout.write(`web playground: ${outdir} (main.js ${(bytes / 1024).toFixed(1)} KiB)\n`);
