/**
 * The CLI as a user runs it, in-process: commands, options, output, colour rules, files
 * and exit codes (0 ok, 1 a check failed, 2 usage or bad scenario file).
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { BUILTIN_SCENARIOS } from "../../src/scenario/builtin/index.js";
import { fakeIo } from "./fake-io.js";

const ANSI = /\x1b\[[0-9;]*m/;

async function run(args: string[], opts: Parameters<typeof fakeIo>[0] = {}) {
  const f = fakeIo(opts);
  const code = await main(args, f.io);
  return { code, out: f.out(), err: f.err(), written: f.written };
}

const GOOD = JSON.stringify({
  name: "mine",
  hosts: [
    { name: "client", address: "10.0.0.1" },
    { name: "server", address: "10.0.0.2" },
  ],
  script: [
    { at: 0, host: "server", do: "listen", port: 80 },
    { at: "100ms", host: "client", do: "connect", to: "server", port: 80 },
  ],
  expect: [{ expect: "state", conn: "client", state: "ESTABLISHED", at: "120ms" }],
});

describe("synack demo", () => {
  it("with no name narrates the handshake-to-close tour, checks it, and exits 0", async () => {
    const r = await run(["demo"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("synack: tour - The tour");
    expect(r.out).toContain("-- SYN seq=x win=65535");
    expect(r.out).toMatch(/<-+ SYN,ACK seq=y ack=x\+1/);
    expect(r.out).toContain("[TIME_WAIT]");
    expect(r.out).toMatch(/checks: (\d+) of \1 hold/);
    expect(r.err).toBe("");
  });

  it("lists every built-in scenario", async () => {
    const r = await run(["demo", "--list"]);
    expect(r.code).toBe(0);
    for (const s of BUILTIN_SCENARIOS) expect(r.out).toContain(`  ${s.name} `);
  });

  it("explains each step with --explain", async () => {
    const r = await run(["demo", "handshake", "--explain"]);
    expect(r.out).toContain("why: The ACK shows client got the SYN,ACK: now both sides know both can send and receive");
  });

  it("prints raw sequence numbers with --absolute", async () => {
    const r = await run(["demo", "handshake", "--absolute"]);
    const diagram = r.out.slice(0, r.out.indexOf("checks:"));
    expect(diagram).toMatch(/SYN seq=\d+ win=/);
    expect(diagram).not.toContain("seq=x");
  });

  it("colours on a terminal only, and never with NO_COLOR or --no-color", async () => {
    expect((await run(["demo", "handshake"], { tty: true })).out).toMatch(ANSI);
    expect((await run(["demo", "handshake"], { tty: false })).out).not.toMatch(ANSI);
    expect((await run(["demo", "handshake"], { tty: true, env: { NO_COLOR: "1" } })).out).not.toMatch(ANSI);
    expect((await run(["demo", "handshake", "--no-color"], { tty: true })).out).not.toMatch(ANSI);
    expect((await run(["demo", "handshake", "--color"], { tty: false })).out).toMatch(ANSI);
  });

  it("emits the event stream as JSON lines with --json, ending with the result", async () => {
    const r = await run(["demo", "handshake", "--json", "--payload-hex"], { tty: true });
    const lines = r.out.trimEnd().split("\n").map((l) => JSON.parse(l) as { type: string; ok?: boolean });
    expect(lines[0]).toMatchObject({ type: "app", host: "server", call: "listen(80)" });
    expect(lines.some((l) => l.type === "segment-out")).toBe(true);
    expect(lines.at(-1)).toMatchObject({ type: "result", scenario: "handshake", ok: true });
    expect(r.out).not.toMatch(ANSI);
  });

  it("writes a capture with --pcap (pcapng by flag or extension) and says so on stderr", async () => {
    const r = await run(["demo", "tour", "--pcap", "out.pcap"]);
    expect(r.code).toBe(0);
    const file = r.written.get("out.pcap")!;
    expect(new DataView(file.buffer).getUint32(0, true)).toBe(0xa1b2c3d4);
    expect(r.err).toBe("synack: wrote 11 packets to out.pcap (pcap)\n");
    const ng = await run(["demo", "tour", "--pcap", "out.pcapng"]);
    expect(new DataView(ng.written.get("out.pcapng")!.buffer).getUint32(0, true)).toBe(0x0a0d0d0a);
    const both = await run(["demo", "tour", "--pcap", "x", "--pcapng", "--capture", "both"]);
    expect(both.err).toBe("synack: wrote 22 packets to x (pcapng)\n");
  });

  it("prints a scenario as JSON with --dump, which runs as a file", async () => {
    const dumped = await run(["demo", "lost-syn-ack", "--dump"]);
    expect(JSON.parse(dumped.out)).toMatchObject({ name: "lost-syn-ack" });
    const r = await run(["run", "lost.json"], { files: { "lost.json": dumped.out } });
    expect(r.code).toBe(0);
    expect(r.out).toContain("lost (fault rule)");
  });

  it("exits 1 when a check fails, and says that --loss changed the scenario", async () => {
    const r = await run(["demo", "handshake", "--loss", "1"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("every path changed: loss 1");
    expect(r.out).toContain("FAIL  client went SYN_SENT > ESTABLISHED: it went SYN_SENT > CLOSED");
    expect(r.out).toContain("--loss and --delay change what happens");
  });

  it("refuses a capture file it cannot write before the run, with exit 2 and the reason", async () => {
    for (const [path, code] of [["/no/x.pcap", "ENOENT"], ["somedir", "EISDIR"]] as const) {
      const r = await run(["demo", "tour", "--pcap", path], { unwritable: { [path]: code } });
      expect(r.code).toBe(2);
      expect(r.err.split("\n")[0]).toBe(`synack: cannot write capture file ${path} (${code})`);
      expect(r.out).toBe(""); // nothing ran
    }
  });

  it.each([
    [["demo", "nope"], `synack: no built-in scenario named "nope" (synack demo --list shows them)`],
    [["demo", "--bogus"], "synack: unknown option --bogus"],
    // node:util's own words were "Option '--seed' argument is ambiguous."
    [["demo", "tour", "--seed", "-5"], `synack: --seed -5: a value that starts with "-" goes after "=", as in --seed=-5`],
    [["demo", "tour", "handshake"], "synack: demo takes one scenario name, got 2"],
    [["demo", "tour", "--seed", "abc"], `synack: --seed must be an integer, got "abc"`],
    [["demo", "tour", "--loss", "2"], `synack: --loss must be a probability from 0 to 1, got "2"`],
    [["demo", "tour", "--delay", "soon"], `synack: --delay must be a time such as 10, 50ms, 2.5s or 2min (at most 2^42 ms), got "soon"`],
    [["demo", "tour", "--delay", "2000000h"], `synack: --delay must be a time such as 10, 50ms, 2.5s or 2min (at most 2^42 ms), got "2000000h"`],
    [["demo", "tour", "--pcap", "f", "--capture", "all"], `synack: --capture must be send, deliver or both, got "all"`],
    [["frobnicate"], `synack: unknown command "frobnicate"`],
    // Options that would be dropped without a word where they meet.
    [["demo", "--list", "--dump"], "synack: --list takes nothing else, got --dump"],
    [["demo", "tour", "--dump", "--seed", "3"], "synack: --dump prints the scenario as written and runs nothing: --seed would change nothing"],
    [["demo", "tour", "--json", "--explain"], "synack: --json prints events, not the diagram that --explain changes"],
    [["demo", "tour", "--payload-hex"], "synack: --payload-hex changes --json's events: give --json too"],
    [["demo", "tour", "--capture", "both"], "synack: --capture describes the capture: give --pcap FILE too"],
  ])("exits 2 with a clear message for bad usage: %j", async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toContain(message);
    expect(r.err).toContain("--help");
  });
});

describe("synack run", () => {
  it("runs a scenario file and exits 0 when its checks hold", async () => {
    const r = await run(["run", "mine.json"], { files: { "mine.json": GOOD } });
    expect(r.code).toBe(0);
    expect(r.out).toContain("synack: mine");
    expect(r.out).toContain("checks: 1 of 1 hold");
  });

  it("runs a step a day or more into the run: a run without until lasts until a day after its last step", async () => {
    const late = GOOD.replace('"at":"100ms"', '"at":"25h"').replace('"at":"120ms"', '"at":"90000.02s"');
    const r = await run(["run", "late.json"], { files: { "late.json": late } });
    expect(r.out).toContain("checks: 1 of 1 hold");
    expect(r.code).toBe(0);
  });

  it("exits 1 when a check of the file fails", async () => {
    const failing = GOOD.replace('"at":"120ms"', '"at":"110ms"');
    const r = await run(["run", "f.json"], { files: { "f.json": failing } });
    expect(r.code).toBe(1);
    expect(r.out).toContain("FAIL  client is ESTABLISHED at 0.110s: it is SYN_SENT");
  });

  it("rejects a bad file with exit 2, naming the line, column and field", async () => {
    const bad = GOOD.replace('"port":80}', '"port":"http"}');
    const r = await run(["run", "bad.json"], { files: { "bad.json": bad } });
    expect(r.code).toBe(2);
    expect(r.err).toContain("synack: bad.json is not a valid scenario:");
    expect(r.err).toMatch(/bad\.json:1:\d+: script\[0\]\.port: expected an integer from 1 to 65535, got "http"/);
    expect(r.out).toBe("");
  });

  it("exits 2 for a file that cannot be read or is not JSON", async () => {
    expect((await run(["run", "missing.json"])).err).toContain("cannot read scenario file missing.json (ENOENT)");
    const r = await run(["run", "x.json"], { files: { "x.json": "{ name: 1 }" } });
    expect(r.code).toBe(2);
    expect(r.err).toContain("x.json:1:3: invalid JSON: expected a property name in double quotes");
    expect((await run(["run"])).code).toBe(2);
  });
});

describe("synack ss", () => {
  it("shows the connection table at any moment: a SYN flood as a wall of SYN_RCVD (S34)", async () => {
    const r = await run(["ss", "syn-flood", "--at", "2.5s"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("server (10.0.0.2) at 2.500s: 129 sockets (listen 1, synrecv 128)");
    expect(r.out.split("\n").filter((l) => l.startsWith("SYN_RCVD"))).toHaveLength(128);
    expect(r.out).toContain("synq:128/128");
    expect(r.out).toMatch(/client \(10\.0\.0\.1\) at 2\.500s: 1 socket \(synsent 1\)/);
  });

  it("refuses --at past the run's end rather than show another moment (exit 2)", async () => {
    const r = await run(["ss", "tour", "--at", "25h"]);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe(`synack: --at 25h is past the end of tour: it stops at 86400.400s (a day after its last step, as a scenario without "until" does)`);
    const until = GOOD.replace('"name":"mine",', '"name":"mine","until":"2s",');
    const u = await run(["ss", "mine.json", "--at", "3s"], { files: { "mine.json": until } });
    expect(u.err.split("\n")[0]).toBe(`synack: --at 3s is past the end of mine: it stops at 2.000s (its "until")`);
  });

  it("can pick a host, limit rows, and read a scenario file", async () => {
    const r = await run(["ss", "syn-flood", "--at", "2500", "--host", "server", "--max", "2"]);
    expect(r.out.split("\n").filter((l) => l.startsWith("SYN_RCVD"))).toHaveLength(2);
    expect(r.out).toContain("... and 126 more in synrecv");
    expect(r.out).not.toContain("client (");
    const f = await run(["ss", "mine.json", "--at", "1s"], { files: { "mine.json": GOOD } });
    expect(f.out).toContain("ESTABLISHED");
  });

  it("-i adds each connection's TCP_INFO line as ss -i does: after a timeout, backoff, cwnd 1, one lost, one SACKed", async () => {
    const r = await run(["ss", "lost-data", "-i", "--at", "340ms", "--host", "client"]);
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    const row = lines.findIndex((l) => l.startsWith("ESTABLISHED"));
    const info = lines[row + 1]!;
    expect(info.startsWith("\t ts sack cubic wscale:7,7 rto:440 backoff:1 rtt:20/5.625 ")).toBe(true);
    for (const field of ["mss:1448", "cwnd:1", "ssthresh:7", "unacked:2", "retrans:1/1", "lost:1", "sacked:1", "bytes_retrans:1448"]) {
      expect(info.split(" ")).toContain(field);
    }
    // Listeners get no info line, and without -i nobody does.
    const server = await run(["ss", "lost-data", "--info", "--at", "340ms", "--host", "server"]);
    expect(server.out.split("\n").filter((l) => l.startsWith("\t"))).toHaveLength(1);
    expect((await run(["ss", "lost-data", "--at", "340ms"])).out).not.toContain("\t");
  });

  it("shows the end of the run without --at, and rejects unknown hosts and times", async () => {
    expect((await run(["ss", "tour"])).out).toContain("at 60.410s");
    expect((await run(["ss", "tour", "--host", "router"])).code).toBe(2);
    expect((await run(["ss", "tour", "--at", "later"])).code).toBe(2);
    expect((await run(["ss"])).code).toBe(2);
  });
});

describe("help", () => {
  it.each([
    [["--help"], "synack - a userspace TCP/IP stack you can watch"],
    [[], "synack demo [NAME]"],
    [["help", "ss"], "Usage: synack ss SCENARIO"],
    [["demo", "--help"], "Usage: synack demo [NAME] [options]"],
    [["run", "-h"], "Usage: synack run FILE.json [options]"],
    [["ss", "--help"], "--at TIME"],
    [["ss", "--help"], "-i, --info"],
  ])("%j prints help and exits 0", async (args, text) => {
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(r.out).toContain(text);
  });

  it("help NAME is NAME --help; a name that is no command, or more than one, is bad usage", async () => {
    expect((await run(["help", "drill"])).out).toContain("Usage: synack drill FILE.pkt|DIR... [options]");
    expect((await run(["help", "web"])).out).toContain("Usage: synack web [--port N] [--open] [--host ADDR] [--dir DIR]");
    const r = await run(["help", "nosuch"]);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe(`synack: no command named "nosuch"; the commands are demo, run, ss, drill, web, tun, tunnel, relay`);
    expect((await run(["help", "drill", "extra"])).code).toBe(2);
  });

  it("the help texts' examples name files that exist", async () => {
    for (const command of ["drill", "demo", "run", "ss"]) {
      const text = (await run([command, "--help"])).out;
      for (const m of text.matchAll(/\b((?:test|docs)\/[\w./-]+\.(?:pkt|json))\b/g)) expect(existsSync(new URL(`../../${m[1]!}`, import.meta.url)), m[1]).toBe(true);
    }
  });

  it("prints the version", async () => {
    expect((await run(["--version"])).out).toMatch(/^synack \d+\.\d+\.\d+\n$/);
  });
});
