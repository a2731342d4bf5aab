/** `synack demo --ipv6`: the same scenarios, the same checks, over IPv6 (and a capture of it). */
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { ScenarioRun, ipv6For } from "../../src/scenario/runner.js";
import { checkExpectations } from "../../src/scenario/expect.js";
import { builtinScenario } from "../../src/cli/resolve.js";
import { parseIpv6 } from "../../src/wire/ipv6.js";
import { fakeIo } from "../cli/fake-io.js";

describe("synack demo --ipv6", () => {
  it("runs the handshake over IPv6 with every check holding, MSS 1440", async () => {
    const f = fakeIo();
    const code = await main(["demo", "handshake", "--ipv6"], f.io);
    expect(f.err()).toBe("");
    expect(code).toBe(0);
    const out = f.out();
    expect(out).toContain("hosts: client fd00::a00:1, server fd00::a00:2");
    expect(out).toContain("connect() to [fd00::a00:2]:80");
    expect(out).toContain("SYN seq=x win=65535 mss=1440");
    expect(out).not.toContain("FAIL");
  });

  it.each(["tour", "handshake", "simultaneous-open", "simultaneous-close", "connection-refused", "time-wait-reuse", "zero-window", "keepalive"])("%s: the same checks hold in both families", (name) => {
    for (const ipv6 of [false, true]) {
      const run = new ScenarioRun(builtinScenario(name), { ipv6 });
      run.finish();
      const failed = checkExpectations(run).filter((r) => !r.ok);
      expect(failed, `${name} ipv6=${ipv6}`).toEqual([]);
    }
  });

  it("data-transfer: only the checks that state IPv4's segment sizes differ (MSS 1428 with timestamps, not 1448)", () => {
    const run = new ScenarioRun(builtinScenario("data-transfer"), { ipv6: true });
    run.finish();
    const failed = checkExpectations(run).filter((r) => !r.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(JSON.stringify(f)).toMatch(/len=|sent/);
    expect(JSON.stringify(failed)).toContain("len=1428");
  });

  it("captures IPv6 packets (pcap, raw IP)", async () => {
    const f = fakeIo();
    expect(await main(["demo", "handshake", "--ipv6", "--pcap", "h6.pcap"], f.io)).toBe(0);
    const pcap = f.written.get("h6.pcap")!;
    // Global header 24 bytes, record header 16, then the first packet: an IPv6 SYN.
    const first = parseIpv6(pcap.subarray(40));
    expect(first.ok && first.value.header.src.toString()).toBe("fd00::a00:1");
    expect(ipv6For(0x0a000002).toString()).toBe("fd00::a00:2");
  });

  it("refuses a scenario that still needs IPv4 (fault rules), exit 2", async () => {
    const f = fakeIo();
    expect(await main(["demo", "lost-syn", "--ipv6"], f.io)).toBe(2);
    expect(f.err()).toContain("fault rules");
  });

  it("refuses a scenario whose link is narrower than IPv6's 1,280 bytes, exit 2 (it ran 945 s of timeouts and moved no byte)", async () => {
    const f = fakeIo();
    expect(await main(["demo", "path-mtu", "--ipv6"], f.io)).toBe(2);
    expect(f.err().split("\n")[0]).toBe(`synack: scenario "path-mtu" has an MTU of 1000 bytes, below IPv6's minimum of 1280 (RFC 8200 5); --ipv6 needs a scenario whose links and hosts carry 1280 bytes or more`);
    expect(f.out()).toBe("");
  });
});
