/**
 * `synack drill FOLDER` walks the folder for scripts. A folder it cannot read stops the
 * command with a usage error naming it (exit 2), never an internal error: `synack drill /`
 * met /proc/1/fdinfo, which even root may not list (found by ARGV_FUZZ_RUNS=3000). A folder
 * that vanishes during the walk, as a process's folder in /proc does, holds no scripts.
 * Root reads any folder whatever its mode, so the refusals are made by the file system mock.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type * as Fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIo } from "./fake-io.js";

/** Folder names whose listing fails, and how. */
const refusals = new Map<string, string>();

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof Fs>();
  const readdirSync = (path: Fs.PathLike, options?: unknown): unknown => {
    for (const [name, code] of refusals) {
      if (String(path).endsWith(`/${name}`)) throw Object.assign(new Error(`${code}: scandir '${String(path)}'`), { code });
    }
    return (fs.readdirSync as (p: Fs.PathLike, o?: unknown) => unknown)(path, options);
  };
  return { ...fs, default: { ...fs, readdirSync }, readdirSync };
});

const SCRIPT = fileURLToPath(new URL("../drill/scripts/features.pkt", import.meta.url));
let dir: string | undefined;

/** A folder with one script in it and the named subfolders (each with a script too). */
function tree(subfolders: string[]): { root: string; files: Record<string, string> } {
  dir = mkdtempSync(join(tmpdir(), "synack-drill-walk-"));
  const files: Record<string, string> = {};
  const text = readFileSync(SCRIPT, "utf8");
  for (const folder of ["", ...subfolders]) {
    mkdirSync(join(dir, folder), { recursive: true });
    const file = join(dir, folder, "features.pkt");
    copyFileSync(SCRIPT, file);
    files[file] = text;
  }
  return { root: dir, files };
}

afterEach(() => {
  refusals.clear();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("synack drill FOLDER", () => {
  it("stops with a usage error naming a folder it may not read", async () => {
    const { root, files } = tree(["locked"]);
    refusals.set("locked", "EACCES");
    const f = fakeIo({ files });
    expect(await main(["drill", root], f.io)).toBe(2);
    expect(f.err()).toMatch(new RegExp(`^synack: cannot read folder ${join(root, "locked")}: EACCES\n`));
    expect(f.out()).toBe("");
  });

  it("passes over a folder gone before the walk reached it", async () => {
    const { root, files } = tree(["gone", "kept"]);
    refusals.set("gone", "ENOENT");
    const f = fakeIo({ files });
    expect(await main(["drill", root], f.io)).toBe(0);
    expect(f.out()).toMatch(/^PASS +features\.pkt$/m);
    expect(f.out()).toMatch(/^PASS +kept\/features\.pkt$/m);
    expect(f.out()).not.toMatch(/gone/);
  });
});
