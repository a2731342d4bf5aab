/** An in-memory Io for running the CLI's main() inside a test. */
import type { Io } from "../../src/cli/io.js";

export interface FakeIo {
  io: Io;
  out(): string;
  err(): string;
  written: Map<string, Uint8Array>;
}

/** `unwritable`: paths whose write fails with that error code (a missing folder, a directory). */
export function fakeIo(opts: { tty?: boolean; env?: Record<string, string>; files?: Record<string, string>; unwritable?: Record<string, string> } = {}): FakeIo {
  const out: string[] = [];
  const err: string[] = [];
  const written = new Map<string, Uint8Array>();
  const files = opts.files ?? {};
  return {
    io: {
      stdout: (t) => void out.push(t),
      stderr: (t) => void err.push(t),
      isTTY: opts.tty ?? false,
      env: opts.env ?? {},
      readFile: (p) => {
        const text = files[p];
        if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
        return text;
      },
      writeFile: (p, b) => {
        const code = opts.unwritable?.[p];
        if (code !== undefined) throw Object.assign(new Error(`${code}: ${p}`), { code });
        written.set(p, b);
      },
    },
    out: () => out.join(""),
    err: () => err.join(""),
    written,
  };
}
