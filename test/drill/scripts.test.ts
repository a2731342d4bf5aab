/**
 * The drill runner against scripts this project wrote (test/drill/scripts pass,
 * test/drill/failing fail in the way each one's comment says), so the runner is tested
 * without Linux's corpus.
 */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DrillSyntaxError } from "../../src/drill/errors.js";
import { runDrill } from "../../src/drill/runner.js";
import { IP_VERSIONS, runsAs } from "../../src/drill/family.js";

const dir = (name: string) => fileURLToPath(new URL(`./${name}/`, import.meta.url));
const run = (folder: string, file: string) => runDrill(readFileSync(dir(folder) + file, "utf8"), file);

describe("scripts that pass", () => {
  const files = readdirSync(dir("scripts")).filter((f) => f.endsWith(".pkt"));
  it("there are scripts to run", () => expect(files.length).toBeGreaterThanOrEqual(5));
  // Each in every IP flavour it runs in, as Linux runs its corpus (a *v6.pkt only as ipv6).
  for (const file of files) {
    for (const ipVersion of IP_VERSIONS.filter((v) => runsAs(file, v))) {
      it(`${file} (${ipVersion})`, () => {
        const r = runDrill(readFileSync(dir("scripts") + file, "utf8"), file, { ipVersion });
        expect(r, `${r.reason ?? ""}\n${(r.details ?? []).join("\n")}`).toMatchObject({ status: "pass" });
      });
    }
  }

  it("an IPv6-only script is not run over IPv4, and says how to run it", () => {
    expect(run("scripts", "ipv6-link-v6.pkt")).toMatchObject({ status: "unsupported", reason: expect.stringMatching(/^not run as ipv4: .*\*v6\.pkt only as ipv6/) });
  });

  it("prints what %{ print() }% printed and keeps variables across blocks", () => {
    expect(run("scripts", "features.pkt").printed).toEqual(["cwnd was 10"]);
  });

  it("narrates the run beside the script lines when asked", () => {
    const r = runDrill(readFileSync(dir("scripts") + "refused.pkt", "utf8"), "refused.pkt", { verbose: true });
    expect(r.narration.some((l) => /SYN_SENT {5}--> S 0:0\(0\) win \d+ <mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale 7>\s+line 4$/.test(l))).toBe(true);
    expect(r.narration.some((l) => /connect\(\) returns -1 ECONNREFUSED +line 3$/.test(l))).toBe(true);
  });
});

describe("scripts that fail say where and why", () => {
  const cases: Array<[string, number, RegExp, RegExp | undefined]> = [
    ["wrong-window.pkt", 10, /^window: expected 1000, got 512$/, /actual: > \. 1:1\(0\) ack 101 win 512/],
    ["wrong-ack.pkt", 10, /^ack: expected 51, got 101$/, /script: \+0 > \. 1:1\(0\) ack 51/],
    ["missing-packet.pkt", 11, /^expected packet was not sent/, /synack sent nothing; its state: ESTABLISHED/],
    ["extra-packet.pkt", 11, /flags: expected F\., got P\.; sequence: expected 1:1\(0\), got 1:11\(10\)/, /actual: > P\. 1:11\(10\) ack 1/],
    ["wrong-errno.pkt", 10, /^read\(\) returned -1 ECONNRESET, expected -1 EPIPE$/, /actual: = -1 ECONNRESET \(Connection reset by peer\)/],
    ["failed-assertion.pkt", 9, /^assertion failed: assert tcpi_snd_cwnd == 4: 10$/, undefined],
    ["wrong-inq.pkt", 13, /^recvmsg\(\) TCP_CM_INQ cmsg_data: expected 0, got 1$/, undefined],
    ["wrong-zerocopy-range.pkt", 18, /^recvmsg\(\) IP_RECVERR ee_data: expected 0, got 1$/, undefined],
  ];
  for (const [file, line, reason, detail] of cases) {
    it(file, () => {
      const r = run("failing", file);
      expect(r.status).toBe("fail");
      expect(r.line).toBe(line);
      expect(r.reason).toMatch(reason);
      if (detail) expect((r.details ?? []).join("\n")).toMatch(detail);
    });
  }

  it("a script that needs a missing feature is unsupported, with the feature named", () => {
    expect(run("failing", "unsupported-accecn.pkt")).toMatchObject({ status: "unsupported", line: 2, reason: "Accurate ECN (tcp_ecn=3)" });
  });

  it("a script that does not parse throws a syntax error naming the line and column", () => {
    let error: unknown;
    try {
      run("failing", "syntax-error.pkt");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DrillSyntaxError);
    expect((error as DrillSyntaxError).code).toBe("EDRILLSYNTAX");
    expect((error as DrillSyntaxError).message).toBe("syntax-error.pkt:3:12: sequence range 1:101 does not span its length (10)");
  });
});

describe("timing", () => {
  const prologue = ["0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3", "+0 bind(3, ..., ...) = 0", "+0 listen(3, 1) = 0", "+0 < S 0:0(0) win 65535 <mss 1460>", "+0 > S. 0:0(0) ack 1 <mss 1460>"];
  it("a packet outside the tolerance fails, naming the times", () => {
    // synack answers a SYN at once; the script says 50 ms later, beyond the 4 ms tolerance.
    const r = runDrill([...prologue.slice(0, 4), "+.05 > S. 0:0(0) ack 1 <mss 1460>"].join("\n"), "late.pkt");
    expect(r.status).toBe("fail");
    expect(r.reason).toBe("packet sent at 0.000000 s, expected at 0.050000 s (tolerance 6250 us)");
  });
  it("a retransmission is expected at the RTO: a SYN-ACK resent after 1 s", () => {
    const r = runDrill([...prologue, "+1 > S. 0:0(0) ack 1 <mss 1460>", "+2 > S. 0:0(0) ack 1 <mss 1460>"].join("\n"), "synack-rto.pkt");
    expect(r, r.reason).toMatchObject({ status: "pass" });
  });
  it("a range accepts any time inside it, and * any time at all", () => {
    expect(runDrill([...prologue, "+.9~+1.1 > S. 0:0(0) ack 1 <mss 1460>", "* > S. 0:0(0) ack 1 <mss 1460>"].join("\n"), "range.pkt").status).toBe("pass");
  });
  it("a blocking call that never returns fails at its line", () => {
    const r = runDrill([...prologue, "+0...0.100 accept(3, ..., ...) = 4"].join("\n"), "never.pkt");
    expect(r).toMatchObject({ status: "fail", line: 6 });
    expect(r.reason).toMatch(/^accept\(\) never returned/);
  });
});
