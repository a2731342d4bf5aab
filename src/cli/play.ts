/**
 * `synack demo NAME` and `synack run FILE`: run a scenario and show it as a narrated
 * diagram (or JSON lines), optionally writing a capture, then list the checks.
 */
import { checkExpectations, type ExpectResult } from "../scenario/expect.js";
import type { ScenarioSpec } from "../scenario/model.js";
import { narrateRun } from "../scenario/narrate.js";
import { ScenarioRun, type RunOptions } from "../scenario/runner.js";
import { captureRecorder, createCapture, MemorySink, type CapturePoint } from "../trace/capture.js";
import { eventJsonLine } from "../trace/jsonl.js";
import { styleFor, type Style } from "../trace/style.js";
import { EXIT_EXPECTATION, EXIT_INTERNAL, EXIT_OK, UsageError } from "./errors.js";
import { wantColor, writeNamedFile, type Io } from "./io.js";
import { colorOption, lossOption, PLAY_OPTIONS, seedOption, timeOption, type Parsed } from "./options.js";

export type PlayValues = Parsed<typeof PLAY_OPTIONS>["values"];

export function play(spec: ScenarioSpec, values: PlayValues, io: Io): number {
  checkCombination(values);
  const opts: RunOptions = {};
  const seed = seedOption(values.seed);
  if (seed !== undefined) opts.seed = seed;
  const loss = lossOption(values.loss);
  const delay = timeOption("delay", values.delay);
  if (loss !== undefined || delay !== undefined) opts.link = { ...(loss !== undefined ? { loss } : {}), ...(delay !== undefined ? { delay } : {}) };
  const capture = values.pcap !== undefined ? startCapture(values.pcap, values.pcapng === true, values.capture) : undefined;
  if (capture !== undefined) {
    writeNamedFile(io, "capture file", capture.file);
    opts.recorder = capture.recorder;
  }
  if (values.json) {
    const payloadHex = values["payload-hex"] === true;
    opts.onEvent = (e) => io.stdout(eventJsonLine(e, { payloadHex }) + "\n");
  }
  const style = styleFor(!values.json && wantColor(io, colorOption(values)));

  if (values.ipv6 === true) opts.ipv6 = true;
  let run: ScenarioRun;
  try {
    run = new ScenarioRun(spec, opts);
  } catch (e) {
    // --ipv6 with a scenario that still needs IPv4 (fault rules, raw hosts, UDP).
    if (opts.ipv6 === true && e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
  try {
    run.finish();
  } catch (e) {
    io.stderr(`synack: the simulation of "${spec.name}" failed at ${run.now} ms: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_INTERNAL;
  }
  const results = checkExpectations(run);
  const ok = results.every((r) => r.ok);
  if (values.json) {
    io.stdout(JSON.stringify({ type: "result", scenario: spec.name, seed: run.seed, ok, checks: results }) + "\n");
  } else {
    const lines = narrateRun(run, { explain: values.explain === true, seq: values.absolute ? "absolute" : "relative", style });
    if (opts.link !== undefined) lines.splice(2, 0, style.dim(`every path changed: ${describeOverride(opts.link)}`));
    io.stdout(lines.join("\n") + "\n\n" + checkLines(results, style, opts.link !== undefined).join("\n") + "\n");
  }
  if (capture !== undefined) {
    writeNamedFile(io, "capture file", capture.file, capture.sink.bytes());
    io.stderr(`synack: wrote ${capture.count()} packets to ${capture.file} (${capture.format})\n`);
  }
  return ok ? EXIT_OK : EXIT_EXPECTATION;
}

/** Options that would change nothing in this combination: refused rather than dropped without a word. */
function checkCombination(values: PlayValues): void {
  const narrationOnly = (["explain", "absolute"] as const).filter((k) => values[k] === true);
  if (values.json === true && narrationOnly.length > 0) throw new UsageError(`--json prints events, not the diagram that ${narrationOnly.map((k) => `--${k}`).join(" and ")} change${narrationOnly.length > 1 ? "" : "s"}`);
  if (values["payload-hex"] === true && values.json !== true) throw new UsageError("--payload-hex changes --json's events: give --json too");
  for (const k of ["pcapng", "capture"] as const) if (values[k] !== undefined && values.pcap === undefined) throw new UsageError(`--${k} describes the capture: give --pcap FILE too`);
}

function describeOverride(link: NonNullable<RunOptions["link"]>): string {
  const parts: string[] = [];
  if (link.loss !== undefined) parts.push(`loss ${link.loss}`);
  if (link.delay !== undefined) parts.push(`delay ${link.delay} ms`);
  return parts.join(", ");
}

export function checkLines(results: readonly ExpectResult[], style: Style, changed: boolean): string[] {
  const failed = results.filter((r) => !r.ok).length;
  const out = [style.heading(`checks: ${results.length - failed} of ${results.length} hold`)];
  for (const r of results) {
    out.push(r.ok ? `  ${style.ok("ok")}    ${r.what}` : `  ${style.error("FAIL")}  ${r.what}: ${r.got ?? ""}`);
  }
  if (failed > 0 && changed) out.push(style.dim("(the checks describe the scenario as written; --loss and --delay change what happens)"));
  return out;
}

interface Capture {
  file: string;
  format: "pcap" | "pcapng";
  sink: MemorySink;
  recorder: NonNullable<RunOptions["recorder"]>;
  count(): number;
}

function startCapture(file: string, pcapng: boolean, point: string | undefined): Capture {
  if (point !== undefined && point !== "send" && point !== "deliver" && point !== "both") {
    throw new UsageError(`--capture must be send, deliver or both, got "${point}"`);
  }
  const format = pcapng || file.endsWith(".pcapng") ? "pcapng" : "pcap";
  const sink = new MemorySink();
  const record = captureRecorder(createCapture(format, sink.write), (point ?? "send") as CapturePoint);
  let n = 0;
  const recorder: Capture["recorder"] = (entry) => {
    if (point === "both" || entry.event === (point ?? "send")) n++;
    record(entry);
  };
  return { file, format, sink, recorder, count: () => n };
}
