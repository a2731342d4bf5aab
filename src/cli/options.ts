/** Parsing and checking command-line values, with messages that name the option. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Millis } from "../env.js";
import { parseTime } from "../scenario/time.js";
import { UsageError } from "./errors.js";
import { argsMessage } from "../node/args-message.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export const COMMON_RUN_OPTIONS = {
  seed: { type: "string" },
  loss: { type: "string" },
  delay: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

export const PLAY_OPTIONS = {
  ...COMMON_RUN_OPTIONS,
  explain: { type: "boolean" },
  json: { type: "boolean" },
  "payload-hex": { type: "boolean" },
  pcap: { type: "string" },
  pcapng: { type: "boolean" },
  capture: { type: "string" },
  absolute: { type: "boolean" },
  color: { type: "boolean" },
  "no-color": { type: "boolean" },
  ipv6: { type: "boolean" },
} as const satisfies Options;

/** The parsed values: booleans for flags, strings for options that take a value. */
export type Parsed<O extends Options> = {
  values: { [K in keyof O]?: O[K] extends { type: "boolean" } ? boolean : string };
  positionals: string[];
};

/** parseArgs (strict, positionals allowed), with its errors turned into usage errors. */
export function parse<const O extends Options>(args: string[], options: O): Parsed<O> {
  let r: { values: Record<string, unknown>; positionals: string[] };
  try {
    r = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(argsMessage(e, args));
  }
  // parseArgs gives exactly these types for these option definitions (no "multiple").
  return { values: r.values as Parsed<O>["values"], positionals: r.positionals };
}

export function seedOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--seed must be an integer, got "${v}"`);
  return n;
}

export function lossOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(v.trim() !== "" && n >= 0 && n <= 1)) throw new UsageError(`--loss must be a probability from 0 to 1, got "${v}"`);
  return n;
}

export function timeOption(name: string, v: string | undefined): Millis | undefined {
  if (v === undefined) return undefined;
  const ms = parseTime(/^\d+(\.\d+)?$/.test(v) ? Number(v) : v);
  if (ms === undefined) throw new UsageError(`--${name} must be a time such as 10, 50ms, 2.5s or 2min (at most 2^42 ms), got "${v}"`);
  return ms;
}

export function colorOption(values: { color?: boolean; "no-color"?: boolean }): boolean | undefined {
  if (values["no-color"]) return false;
  if (values.color) return true;
  return undefined;
}
