/**
 * `synack drill FILE.pkt|DIR... [--ip-version V] [--json] [--verbose] [--explain] [--conformance FILE]`:
 * runs packetdrill scripts against synack (src/drill) and reports one line per script,
 * then a summary per folder. `--ip-version all` runs every script in packetdrill's three
 * flavours, as Linux's run_all.py does, and ends with a line of totals per flavour.
 *
 * Exit codes as the other commands: 0 nothing failed, 1 a script failed, 2 bad command
 * line or a script that does not parse, 3 the runner or the engine crashed.
 */
import { readdirSync, statSync, type Dirent } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { DrillSyntaxError } from "../drill/errors.js";
import { runDrill } from "../drill/runner.js";
import { IP_VERSIONS, isIpVersion, type IpVersion } from "../drill/family.js";
import { EXIT_EXPECTATION, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError } from "./errors.js";
import { HELP } from "./help.js";
import { writeNamedFile, type Io } from "./io.js";
import { parse, seedOption } from "./options.js";
import { conformanceMarkdown, type ScriptOutcome } from "./conformance.js";


const OPTIONS = {
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  explain: { type: "boolean" },
  conformance: { type: "string" },
  seed: { type: "string" },
  "ip-version": { type: "string" },
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
  const versions = ipVersions(values["ip-version"]);
  if (versions.length > 1 && values.conformance !== undefined) throw new UsageError("--conformance describes one run: give it one --ip-version");
  const files = positionals.flatMap((p) => scriptsUnder(p));
  if (files.length === 0) throw new UsageError(`no .pkt scripts in ${positionals.join(", ")}`);
  if (values.conformance !== undefined) writeNamedFile(io, "conformance table", values.conformance);
  const root = commonRoot(positionals);
  const outcomes: ScriptOutcome[] = [];
  const perVersion: Array<[IpVersion, ScriptOutcome[]]> = [];
  for (const ipVersion of versions) {
    // With one flavour named, JSON records say which; the default run's output is as it always was.
    const tag = values["ip-version"] === undefined ? undefined : ipVersion;
    if (versions.length > 1 && !values.json) io.stdout(`${perVersion.length > 0 ? "\n" : ""}== ${ipVersion} ==\n`);
    const run: ScriptOutcome[] = [];
    for (const file of files) {
      // Named from the common folder; a script outside it by the path it was given (not ../../x).
      const inRoot = relative(root, file);
      const name = inRoot === "" || inRoot.startsWith("..") ? file : inRoot;
      const outcome = runOne(file, name, io, { ipVersion, verbose: values.verbose === true || values.explain === true, ...(seed !== undefined ? { seed } : {}) });
      run.push(outcome);
      io.stdout(values.json ? jsonLine(outcome, tag) : textLines(outcome, values.verbose === true, values.explain === true));
    }
    if (!values.json) io.stdout(summary(run, basename(root) || root));
    perVersion.push([ipVersion, run]);
    outcomes.push(...run);
  }
  if (versions.length > 1 && !values.json) io.stdout(familySummary(perVersion));
  if (values.conformance !== undefined) {
    const flag = values["ip-version"] === undefined ? "" : ` --ip-version ${versions[0]!}`;
    writeNamedFile(io, "conformance table", values.conformance, new TextEncoder().encode(conformanceMarkdown(outcomes, positionals.join(" ") + flag, versions[0] === "ipv4" ? "IPv4" : versions[0])));
  }
  if (outcomes.some((o) => o.status === "crash")) return EXIT_INTERNAL;
  if (outcomes.some((o) => o.status === "error")) return EXIT_USAGE;
  if (outcomes.some((o) => o.status === "fail")) return EXIT_EXPECTATION;
  return EXIT_OK;
}

/** `--ip-version`: one of packetdrill's flavours, or `all` for the three in run_all.py's order. Default ipv4. */
function ipVersions(value: string | undefined): IpVersion[] {
  if (value === undefined) return ["ipv4"];
  if (value === "all") return [...IP_VERSIONS];
  if (!isIpVersion(value)) throw new UsageError(`--ip-version must be ${IP_VERSIONS.join(", ")} or all, got "${value}"`);
  return [value];
}

function runOne(file: string, name: string, io: Io, options: { ipVersion: IpVersion; verbose: boolean; seed?: number }): ScriptOutcome {
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
  return st.isFile() ? [path] : scriptsInFolder(path);
}

/**
 * The *.pkt files below a folder, depth first in name order. A folder that cannot be read
 * (EACCES, as /proc/1/fdinfo even for root) stops the command with that folder's name, since
 * a run that passed it over would pass for a whole one; a folder gone while the walk got to it
 * (a process's folder in /proc) holds nothing.
 */
function scriptsInFolder(path: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (e) {
    const code = e instanceof Error ? Reflect.get(e, "code") : undefined;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw new UsageError(`cannot read folder ${path}: ${typeof code === "string" ? code : String(e)}`);
  }
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) out.push(...scriptsInFolder(child));
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

function jsonLine(o: ScriptOutcome, ipVersion: IpVersion | undefined): string {
  const record: Record<string, unknown> = { script: o.file, ...(ipVersion !== undefined ? { ipVersion } : {}), status: o.status, line: o.line ?? null, reason: o.reason ?? null };
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
  const width = Math.max(5, ...[...folders.keys()].map((f) => f.length));
  const lines = ["", "Summary:"];
  for (const [folder, counts] of [...folders].sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${folder.padEnd(width)}  ${fmt(counts)}`);
  lines.push(`  ${"total".padEnd(width)}  ${fmt(total)} (${outcomes.length} scripts)`);
  return lines.join("\n") + "\n";
}

/** The total of each flavour of an `--ip-version all` run, one line each. */
export function familySummary(runs: ReadonlyArray<readonly [IpVersion, readonly ScriptOutcome[]]>): string {
  const lines = ["", "Per IP version:"];
  for (const [version, outcomes] of runs) {
    const counts: Record<string, number> = {};
    for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
    lines.push(`  ${version.padEnd(16)}  ${fmt(counts)} (${outcomes.length} scripts)`);
  }
  return lines.join("\n") + "\n";
}

function fmt(c: Record<string, number>): string {
  return [`${c["pass"] ?? 0} pass`, `${c["fail"] ?? 0} fail`, `${c["unsupported"] ?? 0} unsupported`, ...(c["error"] ? [`${c["error"]} error`] : []), ...(c["crash"] ? [`${c["crash"]} crash`] : [])].join(", ");
}

export { EXIT_EXPECTATION };
