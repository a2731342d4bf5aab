/** `synack drill`: one line per script, a summary per folder, --json, exit codes, CONFORMANCE.md. */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { fakeIo } from "../cli/fake-io.js";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

async function drill(...args: string[]) {
  return drillWith({}, ...args);
}

async function drillWith(unwritable: Record<string, string>, ...args: string[]) {
  const f = fakeIo({ unwritable });
  f.io.readFile = (p) => readFileSync(p, "utf8");
  const code = await main(["drill", ...args], f.io);
  return { code, out: f.out(), err: f.err(), written: f.written };
}

describe("synack drill", () => {
  it("passing scripts: PASS lines, a summary, exit 0", async () => {
    const r = await drill(here("./scripts"));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^PASS {9}client-blocking\.pkt$/m);
    expect(r.out).toMatch(/^ {2}scripts +22 pass, 0 fail, 2 unsupported$/m);
  });

  it("--ip-version all: each flavour's run and summary, then the totals per flavour", async () => {
    const r = await drill(here("./scripts"), "--ip-version", "all");
    expect(r.code).toBe(0);
    expect(r.out.match(/^== (\S+) ==$/gm)).toEqual(["== ipv4 ==", "== ipv4-mapped-ipv6 ==", "== ipv6 =="]);
    expect(r.out).toMatch(/\nPer IP version:\n {2}ipv4 {14}22 pass, 0 fail, 2 unsupported \(24 scripts\)\n {2}ipv4-mapped-ipv6 {2}22 pass, 0 fail, 2 unsupported \(24 scripts\)\n {2}ipv6 {14}23 pass, 0 fail, 1 unsupported \(24 scripts\)\n$/);
  });

  it("--ip-version names one flavour (its JSON records say which); a bad one or --conformance with all is bad usage", async () => {
    const one = await drill(here("./scripts/ipv6-link-v6.pkt"), "--ip-version", "ipv6", "--json");
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out)).toMatchObject({ ipVersion: "ipv6", status: "pass" });
    const plain = await drill(here("./scripts/refused.pkt"), "--json");
    expect(JSON.parse(plain.out)).not.toHaveProperty("ipVersion");
    expect((await drill(here("./scripts"), "--ip-version", "ipv5")).code).toBe(2);
    expect((await drill(here("./scripts"), "--ip-version", "all", "--conformance", "C.md")).code).toBe(2);
  });

  it("--conformance names the IP version and gives scripts of another one their own cause", async () => {
    const v4 = await drill(here("./scripts"), "--conformance", "C.md");
    const md4 = new TextDecoder().decode(v4.written.get("C.md"));
    expect(md4).toContain("(IPv4 variant,");
    expect(md4).toContain("| ipv6-link-v6.pkt | unsupported | other IP version | not run as ipv4: ");
    const v6 = await drill(here("./scripts"), "--ip-version", "ipv6", "--conformance", "C.md");
    const md6 = new TextDecoder().decode(v6.written.get("C.md"));
    expect(md6).toContain("--ip-version ipv6 --conformance CONFORMANCE.md` (ipv6 variant,");
    expect(md6).toContain("**23 pass, 0 fail, 1 unsupported** of 24 scripts.");
    expect(md6).toContain("| type-of-service-v4.pkt | unsupported | other IP version | not run as ipv6: ");
  });

  it("a failing script: FAIL with the line, expected and actual in packetdrill syntax, exit 1", async () => {
    const r = await drill(here("./failing/wrong-window.pkt"));
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      ["FAIL         wrong-window.pkt:10  window: expected 1000, got 512", "             script: +0 > . 1:1(0) ack 101 win 1000", "             actual: > . 1:1(0) ack 101 win 512"].join("\n"),
    );
  });

  it("--explain adds the run up to the failure", async () => {
    const r = await drill(here("./failing/wrong-ack.pkt"), "--explain");
    expect(r.out).toMatch(/0\.020000 {2}ESTABLISHED {2}<-- P\. 1:101\(100\) ack 1 win 512 +line 9$/m);
    expect(r.out).toMatch(/0\.000000 {2}SYN_RCVD {5}--> S\. 0:0\(0\) ack 1 win 65535 <mss 1460,nop,wscale 7> +line 6$/m);
  });

  it("a script that does not parse exits 2, whatever else passed", async () => {
    const r = await drill(here("./failing/syntax-error.pkt"), here("./scripts/refused.pkt"));
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^ERROR {8}.*syntax-error\.pkt:3 {2}syntax: /m);
  });

  it("--json: one object per script with script, status, line and reason", async () => {
    const r = await drill(here("./failing"), "--json");
    const lines = r.out.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(10);
    expect(lines.find((l) => String(l["script"]).endsWith("wrong-errno.pkt"))).toMatchObject({ status: "fail", line: 10, reason: "read() returned -1 ECONNRESET, expected -1 EPIPE" });
    expect(lines.find((l) => String(l["script"]).endsWith("unsupported-accecn.pkt"))).toMatchObject({ status: "unsupported", line: 2, reason: "Accurate ECN (tcp_ecn=3)" });
  });

  it("--conformance writes the Markdown table with a cause per script", async () => {
    const r = await drill(here("./failing"), "--conformance", "C.md");
    const md = new TextDecoder().decode(r.written.get("C.md"));
    expect(md).toContain("| wrong-ack.pkt | fail | engine difference | line 10: ack: expected 51, got 101 |");
    expect(md).toContain("| unsupported-accecn.pkt | unsupported | missing feature | line 2: Accurate ECN (tcp_ecn=3) |");
  });

  it("--conformance to a path it cannot write: exit 2 with the reason, before any script runs", async () => {
    const r = await drillWith({ "/no/C.md": "ENOENT" }, here("./scripts"), "--conformance", "/no/C.md");
    expect(r.code).toBe(2);
    expect(r.err.split("\n")[0]).toBe("synack: cannot write conformance table /no/C.md (ENOENT)");
    expect(r.out).toBe("");
  });

  it("several scripts outside the working folder are named by the paths given, not ../../", async () => {
    const dir = mkdtempSync(join(tmpdir(), "drill-"));
    const file = join(dir, "refused.pkt");
    copyFileSync(here("./scripts/refused.pkt"), file);
    const r = await drill(file, file);
    rmSync(dir, { recursive: true });
    expect(r.out.split("\n").slice(0, 2)).toEqual([`PASS         ${file}`, `PASS         ${file}`]);
  });

  it("bad usage exits 2 with a message", async () => {
    expect((await drill()).code).toBe(2);
    const r = await drill("/no/such/dir");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no such file or folder: \/no\/such\/dir/);
  });
});
