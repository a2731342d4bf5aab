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
  const hosts = spec.hosts.map((h) => `${h.name} ${h.address}${h.kind === "raw" ? " (raw packets)" : ""}`).join(", ");
  title.push(`hosts: ${hosts}; seed ${run.seed}`);
  if (opts.explain && spec.description !== undefined) title.push(spec.description);
  return narrate(run.events, {
    hosts: run.columns,
    title,
    explain: opts.explain ?? false,
    seq: opts.seq ?? "relative",
    ...(opts.style !== undefined ? { style: opts.style } : {}),
    ...(spec.narrate?.focus !== undefined ? { focus: spec.narrate.focus } : {}),
  });
}
