/**
 * `synack tun | tunnel | relay` command lines are user input too: whatever the options, the
 * program ends with 0 (stopped), 1 (a request or a device failed) or 2 (usage, with a
 * message), and every link it opened is closed again. Before this property, a bad --pcap
 * path or a relay --loss of 5 left the opened socket or device behind, and the process
 * never exited.
 *
 * TUN devices are replaced by in-memory links (opening one needs root and a namespace);
 * UDP tunnels are real sockets on 127.0.0.1, on ports the kernel picks. The programs run
 * with a stop signal that has already fired, so a well-formed command line starts its
 * services and stops at once.
 */
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { runRelay, runTun, runTunnel, type CliIo } from "../../src/node/tun-cli.js";
import { newCounters, TunDevice, type PacketLink } from "../../src/node/tun.js";
import { UdpTunnel } from "../../src/node/udp-tunnel.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("ARGV_FUZZ_RUNS", 300);
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

/** The links a run opened, and which of them it closed. */
const opened: { name: string; closed: boolean }[] = [];

function fakeTun(mtu: number): PacketLink & TunDevice {
  const record = { name: `fake-tun${opened.length}`, closed: false };
  opened.push(record);
  const link: PacketLink = {
    name: record.name,
    mtu,
    counters: newCounters(),
    onPacket: undefined,
    send() {},
    async close() {
      record.closed = true;
    },
  };
  return link as PacketLink & TunDevice;
}

afterEach(() => {
  vi.restoreAllMocks();
});

function mockLinks(): void {
  vi.spyOn(TunDevice, "open").mockImplementation(async (opts = {}) => fakeTun(opts.mtu ?? 1500));
  const realOpen = UdpTunnel.open.bind(UdpTunnel);
  vi.spyOn(UdpTunnel, "open").mockImplementation(async (opts) => {
    const link = await realOpen(opts);
    const record = { name: link.name, closed: false };
    opened.push(record);
    const close = link.close.bind(link);
    link.close = async () => {
      record.closed = true;
      await close();
    };
    return link;
  });
}

/** Where --pcap and --out may write: a folder of the test's own, and one that does not exist. */
const dir = mkdtempSync(join(tmpdir(), "synack-argv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FILES = [join(dir, "a.pcap"), join(dir, "b.pcapng"), join(dir, "out.bin"), "/nonexistent/dir/x.pcap"];

/** Values an option might be given by mistake, as well as good ones. */
const odd = fc.oneof(fc.constantFrom("0", "-1", "1.5", "NaN", "1e9", "", " ", "x", "65536", "1e-9"), fc.string({ maxLength: 6 }).filter((t) => !t.startsWith("-")));
const good = (...values: string[]): fc.Arbitrary<string> => fc.oneof(fc.constantFrom(...values), odd);
/** Each option with values for it: the file-writing ones only ever get FILES, so the run writes nowhere else. */
const VALUES: Record<string, fc.Arbitrary<string> | undefined> = {
  "--echo": good("7", "70000"),
  "--discard": good("9"),
  "--http": good("80"),
  "--get": good("http://10.7.0.1/bytes/10", "http://example.com/", "ftp://10.7.0.1/", "http://10.7.0.1:0/", "not a url"),
  "--out": fc.constantFrom(...FILES, "-"),
  "--pcap": fc.constantFrom(...FILES),
  "--trace": undefined,
  "--table": good("0", "1", "-1"),
  "--web": good("0", "70000"),
  "--web-host": fc.constantFrom("127.0.0.1", "::1"),
  "--web-history": good("1", "100"),
  "--web-dir": fc.constantFrom(dir, "/nonexistent/web"),
  "--mtu": good("1400", "1500", "67", "65536"),
  "--addr": good("10.7.0.2/24", "fd00::2/64", "10.7.0.2/33", "300.1.1.1/24"),
  "--name": good("syn0", "a-name-far-too-long"),
  "--netns": good("syn-fuzz"),
  "--kernel-addr": good("10.7.0.1/24", "fd00::1/64"),
  "--attach": undefined,
  "--no-offload": undefined,
  "--listen": fc.constantFrom("127.0.0.1:0", "[::1]:0", "127.0.0.1:99999", "nohost", ""),
  "--peer": good("127.0.0.1:9", "[::1]:9", "127.0.0.1:99999"),
  "--no-batch": undefined,
  "--a": good("tun:ns:10.7.9.1/24", "tun::10.7.9.1/24", "tun:ns:bad", "udp:127.0.0.1:0", "udp:127.0.0.1:0:127.0.0.1:9", "udp:x", "tcp:1:2"),
  "--b": good("tun:ns:10.7.9.2/24", "udp:127.0.0.1:0"),
  "--loss": good("0.01", "5", "1"),
  "--loss-by": good("packet", "sequence", "bytes"),
  "--delay": good("20", "-3"),
  "--jitter": good("2"),
  "--reorder": good("0.1", "2"),
  "--reorder-delay": good("5"),
  "--duplicate": good("0.01"),
  "--corrupt": good("0.01"),
  "--rate": good("10M", "1.5G", "fast"),
  "--queue": good("100", "-5"),
  "--seed": good("1", "-1"),
  "--stats": good("0", "1", "-1"),
  "--help": undefined,
  "--bogus": undefined,
};
const SERVICES = ["--echo", "--discard", "--http", "--get", "--out", "--pcap", "--trace", "--table", "--web", "--web-host", "--web-history", "--web-dir", "--mtu", "--help", "--bogus"];
const OPTIONS = {
  tun: [...SERVICES, "--addr", "--name", "--netns", "--kernel-addr", "--attach", "--no-offload"],
  tunnel: [...SERVICES, "--addr", "--listen", "--peer", "--no-batch"],
  relay: ["--a", "--b", "--loss", "--loss-by", "--delay", "--jitter", "--reorder", "--reorder-delay", "--duplicate", "--corrupt", "--rate", "--queue", "--seed", "--stats", "--mtu", "--help", "--bogus"],
};
/** One option with a value if it takes one; now and then a stray word, or an option of another program. */
function optionArb(program: keyof typeof OPTIONS): fc.Arbitrary<string[]> {
  const own: fc.Arbitrary<string[]> = fc.constantFrom(...OPTIONS[program]).chain((flag): fc.Arbitrary<string[]> => {
    const values = VALUES[flag];
    return values === undefined ? fc.constant([flag]) : values.map((v) => [flag, v]);
  });
  const stray: fc.Arbitrary<string[]> = fc.oneof(
    odd.map((w) => [w]),
    fc
      .constantFrom(...Object.keys(VALUES))
      .filter((f) => f !== "--pcap" && f !== "--out")
      .map((f) => [f]),
  );
  return fc.oneof({ weight: 5, arbitrary: own }, { weight: 1, arbitrary: stray });
}
/** What each program needs to get past its first checks, given half the time. */
const USUAL = {
  tun: ["--addr", "10.7.0.2/24"],
  tunnel: ["--addr", "10.7.0.2/24", "--listen", "127.0.0.1:0"],
  relay: ["--a", "udp:127.0.0.1:0", "--b", "tun:ns:10.7.9.1/24"],
};
const PROGRAMS = { tun: runTun, tunnel: runTunnel, relay: runRelay };

function stoppedIo(): CliIo & { text(): string } {
  const chunks: string[] = [];
  return {
    stdout: { write: (t: string | Uint8Array) => chunks.push(typeof t === "string" ? t : `<${t.length} bytes>`) },
    stderr: { write: (t: string) => chunks.push(t) },
    signal: AbortSignal.abort(),
    onTableRequest: () => () => {},
    text: () => chunks.join(""),
  };
}

describe("synack tun, tunnel and relay command lines", () => {
  it("end with 0, 1 or 2 whatever the options, and close every link they opened", async () => {
    mockLinks();
    await fc.assert(
      fc.asyncProperty(
        (fc.constantFrom("tun", "tunnel", "relay") as fc.Arbitrary<keyof typeof PROGRAMS>).chain((program) => fc.tuple(fc.constant(program), fc.boolean(), fc.array(optionArb(program), { maxLength: 5 }))),
        async ([program, usual, options]) => {
          opened.length = 0;
          const argv = [...(usual ? USUAL[program] : []), ...options.flat()];
          const io = stoppedIo();
          const code = await PROGRAMS[program](argv, io);
          const what = `synack ${program} ${argv.map((a) => JSON.stringify(a)).join(" ")}\n${io.text()}`;
          expect([0, 1, 2], what).toContain(code);
          if (code !== 0) expect(io.text(), what).toMatch(/^synack: /m);
          expect(opened.filter((l) => !l.closed).map((l) => l.name), what).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("close the opened link when a service cannot start (a --pcap file that cannot be created)", async () => {
    mockLinks();
    opened.length = 0;
    const io = stoppedIo();
    const code = await runTunnel(["--addr", "10.7.0.2/24", "--listen", "127.0.0.1:0", "--pcap", "/nonexistent/dir/x.pcap"], io);
    expect(code).toBe(1);
    expect(io.text()).toContain("ENOENT");
    expect(opened).toHaveLength(1);
    expect(opened[0]!.closed).toBe(true);
  });

  it("reject relay impairments and seeds before opening either link", async () => {
    mockLinks();
    for (const bad of [["--loss", "5"], ["--seed", "1.5"], ["--delay", "-3"]]) {
      opened.length = 0;
      const io = stoppedIo();
      const code = await runRelay(["--a", "udp:127.0.0.1:0", "--b", "tun:ns:10.7.9.1/24", ...bad], io);
      expect(code, io.text()).toBe(2);
      expect(opened, io.text()).toEqual([]);
    }
  });

  it("stop a --get that gets no answer when told to stop", async () => {
    mockLinks();
    opened.length = 0;
    const io = stoppedIo();
    const code = await runTun(["--addr", "10.7.0.2/24", "--get", "http://10.7.0.1/bytes/10"], io);
    expect(code).toBe(1);
    expect(io.text()).toContain("the request was aborted");
    expect(opened.every((l) => l.closed)).toBe(true);
  });
});
