import { describe, expect, it } from "vitest";
import { runRelay, runTun, runTunnel } from "../../src/node/tun-cli.js";

/** Runs `synack relay` with its output captured; only argument checks, which come before any device is opened. */
async function relay(args: string[], program = runRelay): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await program(args, { stdout: { write: (t: string | Uint8Array) => out.push(String(t)) }, stderr: { write: (t: string) => err.push(t) } });
  return { code, out: out.join(""), err: err.join("") };
}

describe("synack relay arguments", () => {
  it("rejects an unknown --loss-by by name, before opening anything", async () => {
    const r = await relay(["--a", "tun:x:10.7.0.1/24", "--b", "tun:y:10.7.0.2/24", "--loss-by", "bytes"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--loss-by must be packet or sequence, got bytes");
  });

  it("reads an IPv6 UDP spec in brackets, and refuses a peer on port 0 (it took \"[:\" for a host)", async () => {
    const r = await relay(["--a", "udp:[::1]:7401:[::1]:0", "--b", "udp:127.0.0.1:7402"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`expected host:port with a port of 1-65535, got "[::1]:0"`);
  });

  it("synack tunnel refuses a peer on port 0 before opening anything, as docs/tun.md says", async () => {
    const r = await relay(["--addr", "10.7.0.2/24", "--listen", "127.0.0.1:0", "--peer", "127.0.0.1:0"], runTunnel);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`expected host:port with a port of 1-65535, got "127.0.0.1:0"`);
  });

  it("refuses an --mtu too small for TCP's smallest segment before opening anything (from 68 to 99 a tunnel started and its connections stalled)", async () => {
    const r = await relay(["--addr", "10.7.0.2/24", "--listen", "127.0.0.1:0", "--mtu", "99"], runTunnel);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--mtu 99 leaves TCP no room: it needs 128 bytes");
  });

  it("explains a negative value after a space in its own words, as the other commands do", async () => {
    const r = await relay(["--a", "tun:x:10.7.0.1/24", "--b", "tun:y:10.7.0.2/24", "--loss", "-0.1"]);
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe(`synack: --loss -0.1: a value that starts with "-" goes after "=", as in --loss=-0.1`);
  });

  it("documents --loss-by in its usage", async () => {
    const r = await relay(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out + r.err).toContain("--loss-by sequence keys each TCP segment's loss on its place in its byte stream");
  });
});

describe("synack tun arguments (all refused before a device is opened, so no root is needed)", () => {
  const tun = (args: string[]) => relay(args, runTun);

  it.each([
    [["--addr", "10.7.0.2/24", "--kernel-addr", "10.7.0.2/24"], "--kernel-addr 10.7.0.2 is synack's --addr too"],
    [["--addr", "10.7.0.255/24"], "--addr 10.7.0.255/24 is the subnet's broadcast address"],
    [["--addr", "10.7.0.0/24"], "--addr 10.7.0.0/24 is the subnet's network address"],
    [["--addr", "10.7.0.2/24", "--echo", "7", "--http", "7"], "--http 7: port 7 is already --echo's"],
    [["--addr", "10.7.0.2/24", "--netns", ""], "--netns needs a namespace name"],
    [["--addr", "10.7.0.2/24", "--web", "0", "--web-dir", "/nonexistent-synack-web"], `--web needs the playground page built in "/nonexistent-synack-web"`],
  ])("%j is a usage error: %s", async (args, message) => {
    const r = await tun(args);
    expect(r.code).toBe(2);
    // One line that says what is wrong, one that points to the usage (the whole usage text buried the first).
    const [first, second, ...rest] = r.err.split("\n");
    expect(first).toContain(`synack: ${message}`);
    expect(second).toBe(`Run "synack tun --help" for usage.`);
    expect(rest).toEqual([""]);
  });

  it("takes a host address at the edge of its subnet (10.7.0.254/24 is neither network nor broadcast)", async () => {
    // Refused later for another reason (the kernel address is synack's too), so nothing is opened.
    const r = await tun(["--addr", "10.7.0.254/24", "--kernel-addr", "10.7.0.254/24"]);
    expect(r.err).not.toContain("broadcast");
    expect(r.err).toContain("is synack's --addr too");
  });
});
