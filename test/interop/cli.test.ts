/**
 * The programs as a user runs them: `synack tun` in a namespace it creates, curl from
 * that namespace, the connection table, --pcap and --trace; and `synack relay` carrying
 * curl's traffic from a namespace to a `synack tunnel` process across 1% loss.
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ip, netnsExists } from "../../src/node/tun.js";
import { runRelay, runTun, runTunnel, type CliIo } from "../../src/node/tun-cli.js";
import { UdpTunnel } from "../../src/node/udp-tunnel.js";
import { interopGate, newNamespace, patternSha, removeNamespace, runIn, until } from "./harness.js";

const gate = interopGate();

interface Program {
  out: string[];
  io: CliIo;
  stop: AbortController;
  printTable: () => void;
  text(): string;
}

function program(): Program {
  const out: string[] = [];
  const stop = new AbortController();
  const p: Program = {
    out,
    stop,
    printTable: () => {},
    io: {
      stdout: { write: (s) => out.push(String(s)) },
      stderr: { write: (s) => out.push(s) },
      signal: stop.signal,
      onTableRequest: (print) => {
        p.printTable = print;
        return () => {};
      },
    },
    text: () => out.join(""),
  };
  return p;
}

describe.skipIf(gate.skip)("synack tun and synack relay (the programs)", () => {
  let tmp: string;
  const namespaces: string[] = [];

  beforeAll(() => {
    if (gate.reason !== undefined) throw new Error(`SYNACK_REQUIRE_TUN=1 but the interop suite cannot run: ${gate.reason}`);
    tmp = mkdtempSync(join(tmpdir(), "synack-cli-"));
  });

  afterAll(async () => {
    for (const ns of namespaces) await removeNamespace(ns);
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  it("synack tun serves curl in the namespace it creates, prints its table, writes a pcap, traces, and removes the namespace on exit", async () => {
    const ns = `synt${process.pid}-cli`;
    namespaces.push(ns);
    const pcap = join(tmp, "tun.pcap");
    const p = program();
    let exited = false;
    const running = runTun(["--addr", "10.7.51.2/24", "--name", "syn0", "--netns", ns, "--http", "80", "--echo", "7", "--pcap", pcap, "--trace"], p.io).finally(() => (exited = true));
    try {
      await until(() => p.text().includes("http on 10.7.51.2:80") || exited, 10_000, "synack tun to start");
      expect(p.text()).toContain("10.7.51.2 on TUN syn0 in netns");
      expect(p.text()).toContain("kernel side 10.7.51.1/24");
      const r = await runIn(ns, ["sh", "-c", "curl -sS --fail -m 20 http://10.7.51.2/bytes/300000 | sha256sum"]);
      expect(r.stdout.split(" ")[0]).toBe(patternSha(300_000));
      p.printTable();
      expect(p.text()).toMatch(/State\s+Recv-Q\s+Send-Q\s+Local\s+Peer/);
      expect(p.text()).toMatch(/LISTEN\s+0\s+511\s+\*:80/);
      expect(p.text()).toMatch(/\[S\.\] seq \d+ ack \d+ win \d+ len 0/);
      expect(p.text()).toMatch(/state 10\.7\.51\.2:80<->10\.7\.51\.1:\d+ SYN_RCVD -> ESTABLISHED/);
    } finally {
      p.stop.abort();
      expect(await running).toBe(0);
    }
    expect(netnsExists(ns)).toBe(false);
    // The capture: classic pcap, raw IPv4, SYN first.
    const file = readFileSync(pcap);
    expect(file.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(file.readUInt32LE(20)).toBe(101);
    const firstPacket = file.subarray(24 + 16);
    expect(firstPacket[0]! >> 4).toBe(4);
    expect(firstPacket[9]).toBe(6);
    expect(firstPacket[20 + 13]! & 0x02).toBe(0x02);
  }, 60_000);

  it("synack relay carries a kernel's curl to a synack tunnel process across 1% loss, 20 ms each way", async () => {
    const ns = `synt${process.pid}-rly`;
    namespaces.push(ns);
    const relay = program();
    const tunnel = program();
    // A free loopback port for the tunnel process, so the relay can be told its peer.
    const probe = await UdpTunnel.open({ listen: { host: "127.0.0.1", port: 0 } });
    const tunnelPort = probe.local.port;
    await probe.close();
    let exited = false;
    const relayArgs = ["--a", `tun:${ns}:10.7.52.1/24`, "--b", `udp:127.0.0.1:0:127.0.0.1:${tunnelPort}`, "--loss", "0.01", "--loss-by", "sequence", "--delay", "20", "--seed", "5"];
    const relayRun = runRelay(relayArgs, relay.io).finally(() => (exited = true));
    try {
      await until(() => relay.text().includes("synack relay:") || exited, 10_000, "relay to start");
      const m = /udp 127\.0\.0\.1:(\d+)/.exec(relay.text());
      expect(m, relay.text()).not.toBeNull();
      const tunnelRun = runTunnel(["--listen", `127.0.0.1:${tunnelPort}`, "--peer", `127.0.0.1:${m![1]}`, "--addr", "10.7.52.2/24", "--http", "80"], tunnel.io);
      try {
        await until(() => tunnel.text().includes("http on"), 10_000, "synack tunnel to start");
        const r = await runIn(ns, ["sh", "-c", "curl -sS --fail -m 60 http://10.7.52.2/bytes/1000000 | sha256sum"], 70_000);
        expect(r.stderr).toBe("");
        expect(r.stdout.split(" ")[0]).toBe(patternSha(1_000_000));
        relay.printTable();
        expect(relay.text()).toMatch(/a->b: offered \d+ delivered \d+ lost \d+/);
        expect(relay.text()).toMatch(/held back \d+: late [\d.]+ ms mean, [\d.]+ ms max, \d+ more than 2 ms/);
      } finally {
        tunnel.stop.abort();
        expect(await tunnelRun).toBe(0);
      }
    } finally {
      relay.stop.abort();
      expect(await relayRun).toBe(0);
    }
    expect(netnsExists(ns)).toBe(false);
  }, 90_000);
  it("leaves an existing device alone unless --attach is given, and --attach does not create a device it cannot find", async () => {
    const ns = await newNamespace("own");
    namespaces.push(ns);
    await ip(["tuntap", "add", "dev", "theirs0", "mode", "tun"], ns);
    await ip(["addr", "add", "10.7.59.1/24", "dev", "theirs0"], ns);
    const before = await ip(["-br", "addr", "show", "dev", "theirs0"], ns);
    const p = program();
    // Without --attach, TUNSETIFF used to take the persistent device over and re-address it.
    expect(await runTun(["--addr", "10.7.58.2/24", "--name", "theirs0", "--netns", ns], p.io)).toBe(1);
    expect(p.text()).toContain("a device named theirs0 exists already (or is busy): attach to it as it is with --attach");
    expect(await ip(["-br", "addr", "show", "dev", "theirs0"], ns)).toBe(before);
    // With --attach and a misspelt name, it used to create (and run on) a new, unaddressed device.
    const q = program();
    expect(await runTun(["--addr", "10.7.59.2/24", "--name", "theirs1", "--netns", ns, "--attach"], q.io)).toBe(1);
    expect(q.text()).toContain(`no device named theirs1 in netns ${ns} to attach to (create it with: ip tuntap add dev theirs1 mode tun)`);
    await expect(ip(["link", "show", "dev", "theirs1"], ns)).rejects.toThrow(/does not exist/);
    expect(netnsExists(ns)).toBe(true);
  }, 30_000);
});
