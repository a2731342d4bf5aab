/**
 * The synack command line. `main(argv, io)` returns an exit code and does all its I/O
 * through `io`, so tests run it in-process; `cli()` binds it to the real process and is
 * what bin/synack.js calls.
 */
import { readFileSync } from "node:fs";
import { demo, help, run, ss } from "./commands.js";
import { drill } from "./drill.js";
import { EXIT_INTERNAL, EXIT_USAGE, UsageError } from "./errors.js";
import { processIo, type Io } from "./io.js";

const COMMANDS: readonly string[] = ["demo", "run", "ss", "drill", "web", "tun", "tunnel", "relay"];

export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "-h":
      case "--help":
        return help(io);
      case "help": {
        // `synack help X` is `synack X --help`; a name that is no command is a mistake, not a request for the overview.
        const [topic, ...extra] = rest;
        if (topic === undefined) return help(io);
        if (!COMMANDS.includes(topic)) throw new UsageError(`no command named "${topic}"; the commands are ${COMMANDS.join(", ")}`);
        if (extra.length > 0) throw new UsageError(`help takes one command name, got ${rest.join(" ")}`);
        return await main([topic, "--help"], io);
      }
      case "-V":
      case "--version":
        io.stdout(`synack ${version()}\n`);
        return 0;
      case "demo":
        return demo(rest, io);
      case "run":
        return run(rest, io);
      case "ss":
        return ss(rest, io);
      case "drill":
        return drill(rest, io);
      case "web": {
        const { web } = await import("./web.js");
        return await web(rest, io);
      }
      case "tun":
      case "tunnel":
      case "relay": {
        // Real-network programs live in src/node and load native code: only when asked.
        const node = await import("../node/tun-cli.js");
        const program = command === "tun" ? node.runTun : command === "tunnel" ? node.runTunnel : node.runRelay;
        return await program(rest);
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr([`synack: ${e.message}`, ...e.lines.map((l) => `  ${l}`), `Run "synack ${command !== undefined && ["demo", "run", "ss", "drill", "web"].includes(command) ? `${command} ` : ""}--help" for usage.`].join("\n") + "\n");
      return EXIT_USAGE;
    }
    io.stderr(`synack: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_INTERNAL;
  }
}

/** Entry point for bin/synack.js. */
export async function cli(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  return main(argv, processIo());
}

/** The package version, read from package.json next to src/ or dist/. */
function version(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8"));
      if (typeof pkg === "object" && pkg !== null && "name" in pkg && pkg.name === "synack" && "version" in pkg) return String(pkg.version);
    } catch {
      // try the next location
    }
  }
  return "(unknown version)";
}
