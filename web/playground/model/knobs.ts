/**
 * What the learner can change about a scenario, and how it is written in the URL.
 *
 * Knobs (loss, delay, buffers, SYN cookies ...) and what-ifs ("drop the 2nd SYN,ACK from
 * server to client") both become plain ScenarioSpec changes: extra link entries, host TCP
 * settings and fault rules, so a changed run is just another scenario, run by the same
 * engine code as the CLI's `synack run`. Runtime-neutral: Node tests replay a URL's state
 * through these same functions.
 */
import { findBuiltin } from "../../../src/scenario/builtin/index.js";
import type { FaultSpec, LinkSettings, ScenarioSpec } from "../../../src/scenario/model.js";
import type { TcpConfig } from "../../../src/tcp/config.js";

/** The common knobs. Unset fields leave the scenario as written. */
export interface Knobs {
  seed?: number;
  /** Probabilities 0..1 on every path. */
  loss?: number;
  duplicate?: number;
  reorder?: number;
  corrupt?: number;
  /** One-way delay and jitter in ms on every path. */
  delay?: number;
  jitter?: number;
  mtu?: number;
  sndbuf?: number;
  rcvbuf?: number;
  cookies?: TcpConfig["synCookies"];
  /** false turns Nagle off (TCP_NODELAY) on every host. */
  nagle?: boolean;
  cc?: TcpConfig["congestionControl"];
}

export type WhatIfAction = "drop" | "delay" | "duplicate" | "corrupt";

/** One packet singled out by the learner: the nth segment from -> to with exactly these flags. */
export interface WhatIf {
  action: WhatIfAction;
  from: string;
  to: string;
  flags: string;
  data: boolean;
  nth: number;
  /** For "delay": by how many ms. */
  by?: number;
}

/** Everything a view of the playground depends on: shareable as a URL fragment. */
export interface PlaygroundState {
  /** A built-in scenario's name, or undefined when `json` holds a user's scenario. */
  scenario?: string;
  json?: string;
  knobs: Knobs;
  whatIfs: WhatIf[];
}

const NUMBER_KNOBS = ["seed", "loss", "duplicate", "reorder", "corrupt", "delay", "jitter", "mtu", "sndbuf", "rcvbuf"] as const;
const DEFAULT_WHATIF_DELAY = 1000;

/** The scenario with the knobs and what-ifs applied (the original is not changed). */
export function applyChanges(spec: ScenarioSpec, knobs: Knobs, whatIfs: readonly WhatIf[]): ScenarioSpec {
  const out: ScenarioSpec = structuredClone(spec);
  if (knobs.seed !== undefined) out.seed = knobs.seed;
  const link: LinkSettings = {};
  for (const k of ["loss", "duplicate", "reorder", "corrupt"] as const) if (knobs[k] !== undefined) link[k] = knobs[k];
  if (knobs.delay !== undefined) link.delay = knobs.delay;
  if (knobs.jitter !== undefined) link.jitter = knobs.jitter;
  if (Object.keys(link).length > 0) {
    const names = out.hosts.map((h) => h.name);
    // Appended entries win over the scenario's own (the runner applies them in order).
    out.links = [...(out.links ?? [])];
    for (const a of names) for (const b of names) if (a !== b) out.links.push({ from: a, to: b, ...link });
  }
  const tcp: Partial<TcpConfig> = {};
  if (knobs.sndbuf !== undefined) tcp.sendBufferSize = knobs.sndbuf;
  if (knobs.rcvbuf !== undefined) tcp.receiveBufferSize = knobs.rcvbuf;
  if (knobs.cookies !== undefined) tcp.synCookies = knobs.cookies;
  if (knobs.nagle !== undefined) tcp.noDelay = !knobs.nagle;
  if (knobs.cc !== undefined) tcp.congestionControl = knobs.cc;
  out.hosts = out.hosts.map((h) => {
    if (h.kind === "raw") return h;
    const host = { ...h, tcp: { ...(h.tcp ?? {}), ...tcp } };
    if (knobs.mtu !== undefined) host.mtu = knobs.mtu;
    return host;
  });
  if (whatIfs.length > 0) out.faults = [...(out.faults ?? []), ...whatIfs.map(faultOf)];
  return out;
}

export function faultOf(w: WhatIf): FaultSpec {
  const f: FaultSpec = { from: w.from, to: w.to, match: { flags: w.flags, data: w.data }, nth: [w.nth], action: w.action };
  if (w.action === "delay") f.by = w.by ?? DEFAULT_WHATIF_DELAY;
  return f;
}

export function describeWhatIf(w: WhatIf): string {
  const nth = `${w.nth}${ordinal(w.nth)}`;
  const what = `the ${nth} ${w.flags || "(no flags)"}${w.data ? " with data" : ""} from ${w.from} to ${w.to}`;
  return w.action === "delay" ? `delay ${what} by ${w.by ?? DEFAULT_WHATIF_DELAY} ms` : `${w.action} ${what}`;
}

function ordinal(n: number): string {
  if (n % 100 >= 11 && n % 100 <= 13) return "th";
  return ["th", "st", "nd", "rd"][n % 10] ?? "th";
}

/** The scenario a state names: a built-in, or the user's JSON (already validated when it was opened). */
export function scenarioOf(state: PlaygroundState): ScenarioSpec | undefined {
  if (state.json !== undefined) {
    try {
      return JSON.parse(state.json) as ScenarioSpec;
    } catch {
      return undefined;
    }
  }
  return findBuiltin(state.scenario ?? "handshake");
}

// --- URL fragment: #s=lost-data&loss=0.05&w=drop.client.server.SYN.0.1 ---------------------

export function encodeState(state: PlaygroundState): string {
  const p = new URLSearchParams();
  if (state.json !== undefined) p.set("json", toBase64Url(state.json));
  else p.set("s", state.scenario ?? "handshake");
  for (const k of NUMBER_KNOBS) if (state.knobs[k] !== undefined) p.set(k, String(state.knobs[k]));
  if (state.knobs.cookies !== undefined) p.set("cookies", state.knobs.cookies);
  if (state.knobs.nagle !== undefined) p.set("nagle", state.knobs.nagle ? "on" : "off");
  if (state.knobs.cc !== undefined) p.set("cc", state.knobs.cc);
  for (const w of state.whatIfs) p.append("w", [w.action, w.from, w.to, w.flags, w.data ? 1 : 0, w.nth, ...(w.by !== undefined ? [w.by] : [])].join("."));
  return p.toString();
}

export function decodeState(fragment: string): PlaygroundState {
  const p = new URLSearchParams(fragment.replace(/^#/, ""));
  const knobs: Knobs = {};
  for (const k of NUMBER_KNOBS) {
    const v = p.get(k);
    if (v !== null && v.trim() !== "" && Number.isFinite(Number(v))) knobs[k] = Number(v);
  }
  const cookies = p.get("cookies");
  if (cookies === "overflow" || cookies === "always" || cookies === "never") knobs.cookies = cookies;
  const nagle = p.get("nagle");
  if (nagle === "on" || nagle === "off") knobs.nagle = nagle === "on";
  const cc = p.get("cc");
  if (cc === "cubic" || cc === "reno") knobs.cc = cc;
  const whatIfs: WhatIf[] = [];
  for (const w of p.getAll("w")) {
    const [action, from, to, flags, data, nth, by] = w.split(".");
    if ((action === "drop" || action === "delay" || action === "duplicate" || action === "corrupt") && from && to && flags !== undefined && Number(nth) >= 1) {
      const wi: WhatIf = { action, from, to, flags, data: data === "1", nth: Number(nth) };
      if (by !== undefined && Number.isFinite(Number(by))) wi.by = Number(by);
      whatIfs.push(wi);
    }
  }
  const json = p.get("json");
  if (json !== null) return { json: fromBase64Url(json), knobs, whatIfs };
  return { scenario: p.get("s") ?? "handshake", knobs, whatIfs };
}

function toBase64Url(text: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}
