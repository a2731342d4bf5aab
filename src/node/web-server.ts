/**
 * The HTTP side of the playground: serves the built page (dist/web, made by
 * `npm run build:web`) from 127.0.0.1, only files inside that folder, GET and HEAD.
 * `synack web` serves it alone; `synack tun --web` adds the live event stream
 * (live-web.ts) through `extra`, which sees each request first.
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** dist/web of the package this module belongs to (src/node or dist/src/node). */
export function defaultWebDir(): string {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "synack") return join(dir, "dist", "web");
      } catch {
        // not ours; keep looking
      }
    }
    dir = resolve(dir, "..");
  }
  return resolve(fileURLToPath(new URL("../../web", import.meta.url)));
}

export interface WebServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  dir: string;
  port?: number;
  host?: string;
  /** Sees each request first; returns true when it answered it. */
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Rewrites index.html as it is served (the live view marks the page live). */
  rewriteIndex?: (html: string) => string;
}

/** Serves `dir` on host:port (port 0: any free port). Only files inside `dir`, GET and HEAD. */
export async function serveWeb(opts: ServeOptions): Promise<WebServer> {
  const root = resolve(opts.dir);
  const server = createServer((req, res) => {
    void (async () => {
      if (opts.extra?.(req, res) === true) return;
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      let path: string;
      try {
        path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      } catch {
        res.writeHead(400, { "content-type": "text/plain" }).end("bad path\n");
        return;
      }
      const file = normalize(join(root, path === "/" ? "index.html" : path));
      if (file !== root && !file.startsWith(root + sep)) {
        res.writeHead(403).end();
        return;
      }
      try {
        let body: Buffer | string = await readFile(file);
        if (opts.rewriteIndex !== undefined && file === join(root, "index.html")) body = opts.rewriteIndex(body.toString("utf8"));
        res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
        res.end(req.method === "HEAD" ? undefined : body);
      } catch {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      }
    })();
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        // Open event streams would hold the server forever.
        server.closeAllConnections();
      }),
  };
}

