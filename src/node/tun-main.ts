#!/usr/bin/env node
/**
 * Runs the TUN / tunnel / relay programs until the `synack` CLI wires them in:
 *
 *   node dist/src/node/tun-main.js tun --addr 10.7.0.2/24 --netns syn-k --http 80
 *   node dist/src/node/tun-main.js tunnel --listen 127.0.0.1:7001 --addr 10.7.0.2/24 --echo 7
 *   node dist/src/node/tun-main.js relay --a tun:syn-a:10.7.2.1/24 --b tun:syn-b:10.7.2.2/24 --loss 0.01 --delay 20
 */
import { runRelay, runTun, runTunnel } from "./tun-cli.js";

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (argv: string[]) => Promise<number>> = { tun: runTun, tunnel: runTunnel, relay: runRelay };
const run = command !== undefined ? commands[command] : undefined;
if (run === undefined) {
  process.stderr.write("usage: tun-main.js tun|tunnel|relay [options]   (--help for each)\n");
  process.exitCode = 2;
} else {
  process.exitCode = await run(rest);
}
