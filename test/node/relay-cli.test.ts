import { describe, expect, it } from "vitest";
import { runRelay } from "../../src/node/tun-cli.js";

/** Runs `synack relay` with its output captured; only argument checks, which come before any device is opened. */
async function relay(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRelay(args, { stdout: { write: (t: string | Uint8Array) => out.push(String(t)) }, stderr: { write: (t: string) => err.push(t) } });
  return { code, out: out.join(""), err: err.join("") };
}

describe("synack relay arguments", () => {
  it("rejects an unknown --loss-by by name, before opening anything", async () => {
    const r = await relay(["--a", "tun:x:10.7.0.1/24", "--b", "tun:y:10.7.0.2/24", "--loss-by", "bytes"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--loss-by must be packet or sequence, got bytes");
  });

  it("documents --loss-by in its usage", async () => {
    const r = await relay(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out + r.err).toContain("--loss-by sequence keys each TCP segment's loss on its place in its byte stream");
  });
});
