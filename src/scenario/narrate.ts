/** Narrates a finished run: the scenario's title, hosts and links above the diagram. */
import { narrate } from "../trace/narrate/index.js";
import type { SeqMode } from "../trace/seqnames.js";
import type { Style } from "../trace/style.js";
import type { ScenarioRun } from "./runner.js";

export interface NarrateRunOptions {
  explain?: boolean;
  seq?: SeqMode;
  style?: Style;
}

export function narrateRun(run: ScenarioRun, opts: NarrateRunOptions = {}): string[] {
  const spec = run.spec;
  const title = [`synack: ${spec.name}${spec.title !== undefined ? ` - ${spec.title}` : ""}`];
  const hosts = spec.hosts.map((h) => `${h.name} ${run.addressOf(h.name)?.toString() ?? h.address}${h.kind === "raw" ? " (raw packets)" : ""}`).join(", ");
  title.push(`hosts: ${hosts}; seed ${run.seed}`);
  if (opts.explain && spec.description !== undefined) title.push(...wrap(spec.description, 100));
  return narrate(run.events, {
    hosts: run.columns,
    title,
    explain: opts.explain ?? false,
    seq: opts.seq ?? "relative",
    ...(opts.style !== undefined ? { style: opts.style } : {}),
    ...(spec.narrate?.focus !== undefined ? { focus: spec.narrate.focus } : {}),
  });
}

/** Word-wraps prose to `width` columns. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(line);
  return lines;
}
