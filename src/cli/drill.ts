/**
 * `synack drill FILE.pkt|DIR... [--json] [--verbose] [--explain] [--conformance FILE]`:
 * runs packetdrill scripts against synack (src/drill) and reports one line per script,
 * then a summary per folder.
 *
 * Exit codes as the other commands: 0 nothing failed, 1 a script failed, 2 bad command
 * line or a script that does not parse, 3 the runner or the engine crashed.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { DrillSyntaxError } from "../drill/errors.js";
import { runDrill, type DrillResult } from "../drill/runner.js";
import { EXIT_EXPECTATION, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError } from "./errors.js";
import { HELP } from "./help.js";
import type { Io } from "./io.js";
import { parse, seedOption } from "./options.js";
import { conformanceMarkdown } from "./conformance.js";

/** A script's outcome as the CLI reports it: the runner's three, plus the runner's own failures. */
export type ScriptOutcome = (DrillResult | { script: string; status: "error" | "crash"; line?: number; reason: string; printed: string[]; narration: string[] }) & { file: string };

const OPTIONS = {
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  explain: { type: "boolean" },
  conformance: { type: "string" },
  seed: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export function drill(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    io.stdout(HELP["drill"]! + "\n");
    return EXIT_OK;
  }
  if (positionals.length === 0) throw new UsageError("drill takes packetdrill scripts or folders of them, e.g. synack drill ../shared/packetdrill/tcp");
  const seed = seedOption(values.seed);
  const files = positionals.flatMap((p) => scriptsUnder(p));
  if (files.length === 0) throw new UsageError(`no .pkt scripts in ${positionals.join(", ")}`);
  const root = commonRoot(positionals);
  const outcomes: ScriptOutcome[] = [];
  for (const file of files) {
    const name = relative(root, file) || file;
    const outcome = runOne(file, name, io, { verbose: values.verbose === true || values.explain === true, ...(seed !== undefined ? { seed } : {}) });
    outcomes.push(outcome);
    io.stdout(values.json ? jsonLine(outcome) : textLines(outcome, values.verbose === true, values.explain === true));
  }
  if (!values.json) io.stdout(summary(outcomes, basename(root) || root));
  if (values.conformance !== undefined) io.writeFile(values.conformance, new TextEncoder().encode(conformanceMarkdown(outcomes, positionals.join(" "))));
  if (outcomes.some((o) => o.status === "crash")) return EXIT_INTERNAL;
  if (outcomes.some((o) => o.status === "error")) return EXIT_USAGE;
  if (outcomes.some((o) => o.status === "fail")) return EXIT_EXPECTATION;
  return EXIT_OK;
}

function runOne(file: string, name: string, io: Io, options: { verbose: boolean; seed?: number }): ScriptOutcome {
  let source: string;
  try {
    source = io.readFile(file);
  } catch (e) {
    return { file, script: name, status: "error", reason: `cannot read: ${e instanceof Error ? e.message : String(e)}`, printed: [], narration: [] };
  }
  try {
    return { ...runDrill(source, name, options), file };
  } catch (e) {
    if (e instanceof DrillSyntaxError) return { file, script: name, status: "error", line: e.pos.line, reason: `syntax: ${e.message}`, printed: [], narration: [] };
    return { file, script: name, status: "crash", reason: e instanceof Error ? (e.stack ?? e.message) : String(e), printed: [], narration: [] };
  }
}

/** Every *.pkt under `path` (or `path` itself), sorted, so runs list scripts in a stable order. */
function scriptsUnder(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`no such file or folder: ${path}`);
  }
  if (st.isFile()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) out.push(...scriptsUnder(child));
    else if (entry.name.endsWith(".pkt")) out.push(child);
  }
  return out;
}

function commonRoot(paths: string[]): string {
  if (paths.length === 1) {
    const p = paths[0]!;
    return statSync(p).isFile() ? dirname(p) : p;
  }
  return ".";
}

const LABEL: Record<ScriptOutcome["status"], string> = { pass: "PASS", fail: "FAIL", unsupported: "UNSUPPORTED", error: "ERROR", crash: "CRASH" };

function textLines(o: ScriptOutcome, verbose: boolean, explain: boolean): string {
  const where = o.line !== undefined ? `${o.script}:${o.line}` : o.script;
  const lines: string[] = [];
  switch (o.status) {
    case "pass":
      lines.push(`PASS         ${o.script}`);
      break;
    case "unsupported":
      lines.push(`UNSUPPORTED  ${where}  needs: ${o.reason ?? "?"}`);
      break;
    default:
      lines.push(`${LABEL[o.status].padEnd(12)} ${where}  ${o.reason ?? ""}`);
      if ("details" in o && o.details) lines.push(...o.details.map((d) => `             ${d}`));
  }
  if (verbose || (explain && o.status === "fail")) lines.push(...o.narration.map((n) => `      ${n}`));
  for (const p of o.printed) if (verbose) lines.push(`      print: ${p}`);
  return lines.join("\n") + "\n";
}

function jsonLine(o: ScriptOutcome): string {
  const record: Record<string, unknown> = { script: o.file, status: o.status, line: o.line ?? null, reason: o.reason ?? null };
  if ("details" in o && o.details) record["details"] = o.details;
  return JSON.stringify(record) + "\n";
}

/** Per folder: pass / fail / unsupported (and errors or crashes, if any), then the total. */
export function summary(outcomes: readonly ScriptOutcome[], rootLabel = "."): string {
  const folders = new Map<string, Record<string, number>>();
  const total: Record<string, number> = {};
  for (const o of outcomes) {
    const folder = dirname(o.script) === "." ? rootLabel : dirname(o.script);
    const counts = folders.get(folder) ?? {};
    folders.set(folder, counts);
    counts[o.status] = (counts[o.status] ?? 0) + 1;
    total[o.status] = (total[o.status] ?? 0) + 1;
  }
  const fmt = (c: Record<string, number>) =>
    [`${c["pass"] ?? 0} pass`, `${c["fail"] ?? 0} fail`, `${c["unsupported"] ?? 0} unsupported`, ...(c["error"] ? [`${c["error"]} error`] : []), ...(c["crash"] ? [`${c["crash"]} crash`] : [])].join(", ");
  const width = Math.max(5, ...[...folders.keys()].map((f) => f.length));
  const lines = ["", "Summary:"];
  for (const [folder, counts] of [...folders].sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${folder.padEnd(width)}  ${fmt(counts)}`);
  lines.push(`  ${"total".padEnd(width)}  ${fmt(total)} (${outcomes.length} scripts)`);
  return lines.join("\n") + "\n";
}

export { EXIT_EXPECTATION };
