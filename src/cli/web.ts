/**
 * `synack web [--port N] [--open]`: serves the playground (the static folder that
 * `npm run build:web` makes, shipped in the package as dist/web) from a local HTTP server.
 * Nothing is fetched from the network: the page bundles the engine.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultWebDir, serveWeb, type WebServer } from "../node/web-server.js";
import { EXIT_OK, UsageError } from "./errors.js";
import type { Io } from "./io.js";
import { parse } from "./options.js";

export { defaultWebDir, serveWeb, type WebServer } from "../node/web-server.js";

export async function web(argv: string[], io: Io, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parse(argv, { port: { type: "string", short: "p" }, open: { type: "boolean" }, host: { type: "string" }, dir: { type: "string" }, help: { type: "boolean", short: "h" } });
  if (values.help) {
    io.stdout(WEB_HELP + "\n");
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`web takes no arguments, got ${positionals.join(" ")}`);
  const port = values.port !== undefined && values.port.trim() !== "" ? Number(values.port) : values.port === undefined ? 8080 : NaN;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`--port must be a port number 0..65535, got "${values.port}"`);
  const dir = values.dir ?? defaultWebDir();
  if (!existsSync(join(dir, "index.html")) || !existsSync(join(dir, "main.js"))) {
    io.stderr(`synack: the playground is not built in ${dir}; run \`npm run build:web\` (npm install builds it too)\n`);
    return 2;
  }
  const s = await listen(dir, port, values.host);
  io.stdout(`synack playground: ${s.url}  (Ctrl-C to stop)\n`);
  if (values.open) openBrowser(s.url, io);
  await new Promise<void>((done) => {
    const stop = (): void => {
      signal?.removeEventListener("abort", stop);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    signal?.addEventListener("abort", stop);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await s.close();
  return EXIT_OK;
}

/**
 * The server, or a usage error when the address cannot be had (a port in use, a host that
 * is not this machine's): the command line chose it, so it is not an internal error.
 */
async function listen(dir: string, port: number, host: string | undefined): Promise<WebServer> {
  try {
    return await serveWeb({ dir, port, ...(host !== undefined ? { host } : {}) });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "EADDRINUSE") throw new UsageError(`port ${port} is in use; pick another with --port N (0 picks a free one)`);
    if (code === "EACCES") throw new UsageError(`not allowed to listen on port ${port}; pick another with --port N`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN") throw new UsageError(`cannot listen on ${JSON.stringify(host)}: not an address of this machine (${String(code)})`);
    throw e;
  }
}

function openBrowser(url: string, io: Io): void {
  const cmd = process.platform === "darwin" ? "open" : process.platform === "win32" ? "cmd" : "xdg-open";
  const args = process.platform === "win32" ? ["/c", "start", "", url] : [url];
  const child = spawn(cmd, args, { stdio: "ignore", detached: true });
  child.on("error", () => io.stderr(`synack: could not start ${cmd}; open ${url} yourself\n`));
  child.unref();
}

export const WEB_HELP = `Usage: synack web [--port N] [--open] [--host ADDR] [--dir DIR]

Serves the playground: the real synack stack running built-in or your own scenarios in
the browser, in virtual time, with a sequence diagram, state machines, queues, windows,
plots, what-ifs ("drop this packet") and pcapng export. No network access needed.

  --port N, -p N     port to listen on (default 8080; 0 picks a free one)
  --open             open the page in the default browser
  --host ADDR        address to listen on (default 127.0.0.1)
  --dir DIR          serve another build (default: the package's dist/web)
  -h, --help         this help

The same page builds to a static folder with \`npm run build:web -- --outdir DIR\`.`;
