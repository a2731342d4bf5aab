/**
 * The narrated sequence diagram: trace events in, lines of text out.
 *
 *   synack: handshake
 *       time   client                                   server
 *     0.000s  [SYN_SENT]   connect() to 10.0.0.2:80      CLOSED
 *     0.000s   SYN_SENT    -- SYN seq=x win=65535 ---->  LISTEN
 *
 * Runtime-neutral: the caller passes the style (colour or not) and prints the lines.
 */
import type { TraceEvent } from "../events.js";
import { InvalidSettingError } from "../../invalid-setting.js";
import { showValue } from "../../show-value.js";
import type { SeqMode } from "../seqnames.js";
import { plainStyle, type Style } from "../style.js";
import { buildRows } from "./build.js";
import { collapseRepeats } from "./collapse.js";
import { layoutRows } from "./layout.js";
import type { NarrateHost } from "./model.js";

export type { NarrateHost, Row } from "./model.js";

export interface NarrateOptions {
  /** One column per host, in this order (the first one's ISN is x, the second's y). */
  hosts: readonly NarrateHost[];
  /** "relative" (default): x, y+1 ...; "absolute": the numbers on the wire. */
  seq?: SeqMode;
  /** Add a line after each step on what it means and what each side now knows (S35). */
  explain?: boolean;
  style?: Style;
  /** Hosts whose mutual traffic is drawn; the rest is summarised. Default: every host. */
  focus?: readonly string[];
  /** Lines printed above the diagram. */
  title?: readonly string[];
  /** Shorten long runs of identical rows (default true). */
  collapse?: boolean;
}

export function narrate(events: readonly TraceEvent[], opts: NarrateOptions): string[] {
  if (!Array.isArray(events)) throw new InvalidSettingError(`narrate(events): events must be an array of trace events, got ${showValue(events)}`);
  if (typeof opts !== "object" || opts === null || !Array.isArray(opts.hosts)) throw new InvalidSettingError(`narrate(events, options): options must be an object with hosts: [{ name, address }], got ${showValue(opts)}`);
  const style = opts.style ?? plainStyle;
  const seq = opts.seq ?? "relative";
  const buildOpts = { hosts: opts.hosts, seq, explain: opts.explain ?? false, ...(opts.focus !== undefined ? { focus: opts.focus } : {}) };
  const { rows, names } = buildRows(events, buildOpts);
  const shown = opts.collapse === false ? rows : collapseRepeats(rows);
  const { header, lines } = layoutRows(shown, opts.hosts, style);
  const out: string[] = [];
  for (const t of opts.title ?? []) out.push(style.heading(t));
  if (seq === "relative") {
    // Only connections between the drawn hosts: a flood's thousand ISNs are noise here.
    const focus = new Set(opts.focus ?? opts.hosts.map((h) => h.name));
    const addresses = new Set(opts.hosts.filter((h) => focus.has(h.name)).map((h) => h.address.key));
    const legend = names.legend().filter((i) => focus.has(i.host) && addresses.has(i.peer.key));
    if (legend.length > 0) {
      const shownLegend = legend.slice(0, 6).map((i) => `${i.name} = ${i.isn >>> 0} (${i.host})`);
      if (legend.length > 6) shownLegend.push(`... ${legend.length - 6} more`);
      out.push(style.dim(`initial sequence numbers: ${shownLegend.join(", ")}; --absolute shows raw numbers`));
    }
  }
  out.push("", ...header, ...lines);
  return out;
}
