#!/usr/bin/env node
// The synack command. It runs the compiled CLI in dist/, which `npm install` builds (the
// package's "prepare" script) and `npm run build` rebuilds.
import { existsSync } from "node:fs";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("synack: dist/src/cli/main.js is missing; run `npm run build` (npm install runs it too)\n");
  process.exitCode = 2;
} else {
  const { cli } = await import(entry.href);
  process.exitCode = await cli(process.argv.slice(2));
}
