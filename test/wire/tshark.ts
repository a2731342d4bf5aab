/**
 * Decoding packets with tshark, as an independent reader of what the codecs emit. Skipped
 * where tshark is missing, except in CI, where .ci/run installs it and its absence fails.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINKTYPE_RAW, pcapHeader, pcapRecord } from "../../src/trace/pcap.js";

export function tsharkAvailable(): boolean {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** One row per packet (raw IP, link type 101), one column per field; multiple values joined by ",". */
export function tsharkFields(packets: Uint8Array[], fields: string[], prefs: string[] = []): string[][] {
  const parts = [pcapHeader(LINKTYPE_RAW), ...packets.map((p, i) => pcapRecord(i, p))];
  const file = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    file.set(p, at);
    at += p.length;
  }
  const path = join(mkdtempSync(join(tmpdir(), "synack-wire-")), "packets.pcap");
  writeFileSync(path, file);
  const args = ["-r", path, "-T", "fields", ...fields.flatMap((f) => ["-e", f]), "-E", "separator=;", ...prefs.flatMap((p) => ["-o", p])];
  const out = execFileSync("tshark", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return out.trimEnd().split("\n").map((l) => l.split(";"));
}
