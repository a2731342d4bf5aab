/**
 * What the CLI needs from its surroundings, passed in so tests can run main() in-process
 * with captured output and files, and the real program binds it to the process.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { UsageError } from "./errors.js";

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stdout is a terminal (colour is only used there). */
  isTTY: boolean;
  env: Record<string, string | undefined>;
  readFile(path: string): string;
  writeFile(path: string, bytes: Uint8Array): void;
}

export function processIo(): Io {
  // `synack demo --json | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
    readFile: (p) => readFileSync(p, "utf8"),
    writeFile: (p, b) => writeFileSync(p, b),
  };
}

/**
 * Writes a file the user named (a capture, a conformance table), or refuses with a usage
 * error naming it and the reason (ENOENT, EISDIR, EACCES): a path that cannot be written
 * is a mistake in the command line, not a crash. Called once with no bytes before the run,
 * as a shell's `>` opens its file first, so that the mistake shows before a long run.
 */
export function writeNamedFile(io: Io, what: string, path: string, bytes: Uint8Array = new Uint8Array(0)): void {
  try {
    io.writeFile(path, bytes);
  } catch (e) {
    throw new UsageError(`cannot write ${what} ${path}${errnoSuffix(e)}`);
  }
}

/** " (ENOENT)" for a file system error with a code, else nothing: how a usage error names the cause. */
export function errnoSuffix(e: unknown): string {
  return typeof e === "object" && e !== null && "code" in e ? ` (${String(e.code)})` : "";
}

/** Colour on a terminal only, never with NO_COLOR (https://no-color.org) or when piped; --color/--no-color override. */
export function wantColor(io: Io, flag: boolean | undefined): boolean {
  if (flag !== undefined) return flag;
  const noColor = io.env["NO_COLOR"];
  if (noColor !== undefined && noColor !== "") return false;
  return io.isTTY && io.env["TERM"] !== "dumb";
}
