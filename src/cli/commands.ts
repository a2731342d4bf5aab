/** The commands: demo, run and ss. Each returns an exit code. */
import { BUILTIN_SCENARIOS } from "../scenario/builtin/index.js";
import { ScenarioRun } from "../scenario/runner.js";
import { renderTable } from "../trace/table.js";
import { formatTime } from "../trace/format.js";
import { EXIT_OK, UsageError } from "./errors.js";
import { HELP } from "./help.js";
import type { Io } from "./io.js";
import { COMMON_RUN_OPTIONS, lossOption, parse, PLAY_OPTIONS, seedOption, timeOption } from "./options.js";
import { play } from "./play.js";
import { builtinScenario, loadScenarioFile, resolveScenario } from "./resolve.js";

export function demo(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, { ...PLAY_OPTIONS, list: { type: "boolean" }, dump: { type: "boolean" } });
  if (values.help) return help(io, "demo");
  // --list and --dump print something else than a run: what else was asked would be dropped.
  const others = Object.keys(values).filter((k) => k !== "list" && k !== "dump");
  if (values.list === true && (values.dump === true || others.length > 0 || positionals.length > 0)) throw new UsageError(`--list takes nothing else, got ${[...(values.dump === true ? ["--dump"] : []), ...others.map((k) => `--${k}`), ...positionals].join(" ")}`);
  if (values.dump === true && others.length > 0) throw new UsageError(`--dump prints the scenario as written and runs nothing: ${others.map((k) => `--${k}`).join(" ")} would change nothing`);
  if (values.list) {
    io.stdout(listText() + "\n");
    return EXIT_OK;
  }
  if (positionals.length > 1) throw new UsageError(`demo takes one scenario name, got ${positionals.length}: ${positionals.join(" ")}`);
  const spec = builtinScenario(positionals[0] ?? "tour");
  if (values.dump) {
    io.stdout(JSON.stringify(spec, null, 2) + "\n");
    return EXIT_OK;
  }
  return play(spec, values, io);
}

export function run(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, PLAY_OPTIONS);
  if (values.help) return help(io, "run");
  if (positionals.length !== 1) throw new UsageError(`run takes one scenario file, e.g. synack run my-scenario.json`);
  return play(loadScenarioFile(positionals[0]!, io), values, io);
}

export function ss(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, { ...COMMON_RUN_OPTIONS, at: { type: "string" }, host: { type: "string" }, max: { type: "string" }, info: { type: "boolean", short: "i" } });
  if (values.help) return help(io, "ss");
  if (positionals.length !== 1) throw new UsageError(`ss takes one scenario (a built-in name or a .json file), e.g. synack ss syn-flood --at 3s`);
  const spec = resolveScenario(positionals[0]!, io);
  const seed = seedOption(values.seed);
  const loss = lossOption(values.loss);
  const delay = timeOption("delay", values.delay);
  const at = timeOption("at", values.at);
  const max = values.max !== undefined ? Number(values.max) : undefined;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) throw new UsageError(`--max must be a positive integer, got "${values.max}"`);
  const runOptions = {
    ...(seed !== undefined ? { seed } : {}),
    ...(loss !== undefined || delay !== undefined ? { link: { ...(loss !== undefined ? { loss } : {}), ...(delay !== undefined ? { delay } : {}) } } : {}),
  };
  let when = at;
  if (when === undefined) {
    // "The end" is the last thing that happened; runs are deterministic, so run once to
    // find it and again to stop there (a finished run's clock is past it).
    const probe = new ScenarioRun(spec, runOptions);
    probe.finish();
    when = probe.lastEventTime;
  }
  const r = new ScenarioRun(spec, runOptions);
  if (when > r.endTime) {
    const why = spec.until !== undefined ? "its \"until\"" : "a day after its last step, as a scenario without \"until\" does";
    throw new UsageError(`--at ${values.at} is past the end of ${spec.name}: it stops at ${formatTime(r.endTime)} (${why})`);
  }
  r.advanceTo(when);
  const hosts = r.tcpHostNames();
  if (values.host !== undefined && !hosts.includes(values.host)) throw new UsageError(`no TCP host named "${values.host}" in ${spec.name}; hosts: ${hosts.join(", ")}`);
  const lines: string[] = [];
  for (const h of values.host !== undefined ? [values.host] : hosts) {
    lines.push(...renderTable(r.table(h, { info: values.info === true }), max !== undefined ? { maxPerState: max } : {}), "");
  }
  io.stdout(lines.join("\n"));
  return EXIT_OK;
}

export function help(io: Io, command = "main"): number {
  io.stdout((HELP[command] ?? HELP["main"]!) + "\n");
  return EXIT_OK;
}

function listText(): string {
  const width = Math.max(...BUILTIN_SCENARIOS.map((s) => s.name.length));
  const lines = ["Built-in scenarios (synack demo NAME; --explain to learn, --pcap FILE to capture):", ""];
  for (const s of BUILTIN_SCENARIOS) {
    lines.push(`  ${s.name.padEnd(width)}  ${s.title ?? ""}`);
    if (s.behaviours !== undefined && s.behaviours.length > 0) lines.push(`  ${"".padEnd(width)}  shows ${s.behaviours.join(" ")}`);
  }
  return lines.join("\n");
}
