/**
 * Checks a scenario (parsed JSON or a built-in value) field by field and reports every
 * problem with the path of the field at fault ("script[2].port: expected an integer from
 * 1 to 65535, got "eighty""). Nothing runs until a scenario passes, so a typo never turns
 * into a confusing simulation.
 */
import type { IcmpStats } from "../ip/icmp.js";
import type { ReassemblyStats } from "../ip/reassembly.js";
import { newIpStats } from "../ip/stats.js";
import type { UdpStats } from "../ip/udp/layer.js";
import { LINUX_DEFAULTS, resolveConfig, type TcpConfig } from "../tcp/config.js";
import { TCP_STATES, type TimerKind } from "../trace/events.js";
import { parseIpv4Address } from "../wire/ipv4.js";
import { parseFlags } from "./flags.js";
import { childPath } from "./json-locate.js";
import type { ActionKind, ExpectKind, ScenarioSpec } from "./model.js";
import { parseTime } from "./time.js";

/**
 * The most one `send` step may write: 64 MiB. A scenario keeps every trace event for its
 * narration and checks, and a run grows by about 5 bytes of memory per byte sent (a GiB
 * took a minute and 5 GB here, near Node's default heap limit); bulk transfers belong to
 * the simulator's API (SimDriver), which keeps nothing.
 */
const MAX_SEND_BYTES = 64 * 1024 * 1024;

export interface Issue {
  path: string;
  message: string;
}

const TIMERS: readonly TimerKind[] = ["rto", "tlp", "reorder", "persist", "keepalive", "time-wait", "fin-wait-2", "delayed-ack", "syn-ack"];
const ACTIONS: readonly ActionKind[] = ["listen", "connect", "send", "shutdown", "close", "abort", "stop-reading", "read", "keepalive", "unplug", "plug", "syn-flood", "note", "ss", "udp-bind", "udp-send", "udp-read", "netstat"];
const EXPECTS: readonly ExpectKind[] = ["states", "state", "error", "segment", "segments", "timer", "received", "count", "drops", "recovery", "ecn", "bbr", "call-error", "udp", "counters"];
/** The counters an "expect": "counters" may name, by group (kept in step with the stats types by `satisfies`). */
const COUNTERS: Readonly<Record<"udp" | "ip" | "icmp" | "reassembly", readonly string[]>> = {
  udp: Object.keys({
    inDatagrams: 0, noPorts: 0, inErrors: 0, inCsumErrors: 0, rcvbufErrors: 0, outDatagrams: 0, sndbufErrors: 0, icmpErrorsReported: 0, icmpErrorsIgnored: 0,
  } satisfies Record<keyof UdpStats, 0>),
  ip: Object.keys(newIpStats()),
  icmp: Object.keys({
    inMsgs: 0, inErrors: 0, inCsumErrors: 0, inEchos: 0, inEchoReps: 0, inDestUnreachs: 0, inTimeExcds: 0,
    outMsgs: 0, outEchos: 0, outEchoReps: 0, outDestUnreachs: 0, outTimeExcds: 0, outRateLimited: 0, errorsIgnored: 0,
  } satisfies Record<keyof IcmpStats, 0>),
  reassembly: Object.keys({ fragments: 0, reassembled: 0, timeouts: 0, overlaps: 0, duplicates: 0, invalid: 0, tooMany: 0 } satisfies Record<keyof ReassemblyStats, 0>),
};
const LINK_NUMBERS = ["loss", "duplicate", "reorder", "corrupt", "rate", "queueLimit", "mtu"] as const;
const LINK_TIMES = ["delay", "jitter", "reorderDelay"] as const;
const PROBABILITIES = new Set(["loss", "duplicate", "reorder", "corrupt"]);

type Obj = Record<string, unknown>;

const show = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : v === undefined ? "nothing" : JSON.stringify(v) ?? String(v));

class Checker {
  readonly issues: Issue[] = [];

  fail(path: string, message: string): void {
    this.issues.push({ path: path === "" ? "(top level)" : path, message });
  }

  object(path: string, v: unknown): Obj | undefined {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Obj;
    this.fail(path, `expected an object, got ${show(v)}`);
    return undefined;
  }

  array(path: string, v: unknown): unknown[] | undefined {
    if (Array.isArray(v)) return v;
    this.fail(path, `expected a list, got ${show(v)}`);
    return undefined;
  }

  keys(path: string, o: Obj, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(childPath(path, k), `unknown field; expected one of: ${allowed.join(", ")}`);
    }
  }

  string(path: string, v: unknown, opts: { optional?: boolean; oneOf?: readonly string[] } = {}): string | undefined {
    if (v === undefined && opts.optional) return undefined;
    if (typeof v !== "string" || v.length === 0) {
      this.fail(path, `expected ${opts.oneOf ? `one of ${opts.oneOf.join(", ")}` : "a non-empty string"}, got ${show(v)}`);
      return undefined;
    }
    if (opts.oneOf !== undefined && !opts.oneOf.includes(v)) {
      this.fail(path, `expected one of ${opts.oneOf.join(", ")}, got ${show(v)}`);
      return undefined;
    }
    return v;
  }

  integer(path: string, v: unknown, min: number, max: number, optional = false): number | undefined {
    if (v === undefined && optional) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `expected an integer from ${min} to ${max}, got ${show(v)}`);
      return undefined;
    }
    return v;
  }

  number(path: string, v: unknown, min: number, max: number, optional = false): number | undefined {
    if (v === undefined && optional) return undefined;
    if (typeof v !== "number" || !(v >= min && v <= max)) {
      this.fail(path, `expected a number from ${min} to ${max}, got ${show(v)}`);
      return undefined;
    }
    return v;
  }

  boolean(path: string, v: unknown, optional = false): boolean | undefined {
    if (v === undefined && optional) return undefined;
    if (typeof v !== "boolean") {
      this.fail(path, `expected true or false, got ${show(v)}`);
      return undefined;
    }
    return v;
  }

  time(path: string, v: unknown, optional = false): number | undefined {
    if (v === undefined && optional) return undefined;
    const ms = typeof v === "number" || typeof v === "string" ? parseTime(v) : undefined;
    if (ms === undefined) this.fail(path, `expected a time (milliseconds, or a string such as "2.5s", "100ms", "2min") up to 2^42 ms (about 139 years), got ${show(v)}`);
    return ms;
  }

  flags(path: string, v: unknown): void {
    if (v === undefined) return;
    if (typeof v !== "string" || parseFlags(v) === undefined) this.fail(path, `expected TCP flags such as "SYN" or "SYN,ACK" (names: SYN FIN RST PSH ACK URG ECE CWR), got ${show(v)}`);
  }
}

/** Checks `input` and returns the scenario, or every issue found. */
export function validateScenario(input: unknown): { ok: true; spec: ScenarioSpec } | { ok: false; issues: Issue[] } {
  const c = new Checker();
  const root = c.object("", input);
  if (root === undefined) return { ok: false, issues: c.issues };
  c.keys("", root, ["name", "title", "description", "behaviours", "seed", "hosts", "links", "faults", "script", "expect", "until", "narrate", "$schema"]);
  c.string("name", root["name"]);
  c.string("title", root["title"], { optional: true });
  c.string("description", root["description"], { optional: true });
  if (root["behaviours"] !== undefined) c.array("behaviours", root["behaviours"])?.forEach((b, i) => c.string(`behaviours[${i}]`, b));
  c.integer("seed", root["seed"], -(2 ** 53 - 1), 2 ** 53 - 1, true);
  c.time("until", root["until"], true);

  const hosts = checkHosts(c, root["hosts"]);
  const links = root["links"] === undefined ? [] : (c.array("links", root["links"]) ?? []);
  links.forEach((l, i) => checkLink(c, `links[${i}]`, l, hosts));
  const faults = root["faults"] === undefined ? [] : (c.array("faults", root["faults"]) ?? []);
  faults.forEach((f, i) => checkFault(c, `faults[${i}]`, f, hosts));
  const labels = new Set<string>(hosts.keys());
  const sockets = new Set<string>(hosts.keys());
  const script = c.array("script", root["script"]) ?? [];
  script.forEach((a, i) => checkAction(c, `script[${i}]`, a, hosts, labels, sockets));
  const expects = root["expect"] === undefined ? [] : (c.array("expect", root["expect"]) ?? []);
  expects.forEach((e, i) => checkExpect(c, `expect[${i}]`, e, hosts, labels, sockets));
  if (root["narrate"] !== undefined) {
    const n = c.object("narrate", root["narrate"]);
    if (n !== undefined) {
      c.keys("narrate", n, ["focus"]);
      if (n["focus"] !== undefined) c.array("narrate.focus", n["focus"])?.forEach((h, i) => hostRef(c, `narrate.focus[${i}]`, h, hosts));
    }
  }
  if (c.issues.length > 0) return { ok: false, issues: c.issues };
  // Every field has been checked above, so the value has the ScenarioSpec shape.
  return { ok: true, spec: root as unknown as ScenarioSpec };
}

/** Hosts one scenario may have: 256 take about 3 s to set up and run (the paths grow with the square). */
export const MAX_HOSTS = 256;

/** Host name -> kind ("tcp" | "raw"). */
function checkHosts(c: Checker, v: unknown): Map<string, string> {
  const hosts = new Map<string, string>();
  const list = c.array("hosts", v);
  if (list === undefined) return hosts;
  if (list.length === 0) c.fail("hosts", "a scenario needs at least one host");
  // Every pair of hosts gets a path and every host a column: 2,000 hosts ran for minutes.
  if (list.length > MAX_HOSTS) c.fail("hosts", `a scenario has at most ${MAX_HOSTS} hosts (each pair gets a simulated path of its own), got ${list.length}`);
  const addresses = new Map<number, string>();
  const tcpKeys = Object.keys(LINUX_DEFAULTS);
  list.forEach((h, i) => {
    const path = `hosts[${i}]`;
    const o = c.object(path, h);
    if (o === undefined) return;
    c.keys(path, o, ["name", "address", "kind", "mtu", "tcp"]);
    const name = c.string(`${path}.name`, o["name"]);
    if (name !== undefined && !/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) c.fail(`${path}.name`, `host names are letters, digits, "-" and "_", starting with a letter; got ${show(name)}`);
    if (name !== undefined && hosts.has(name)) c.fail(`${path}.name`, `another host is already named ${show(name)}`);
    const kind = c.string(`${path}.kind`, o["kind"], { optional: true, oneOf: ["tcp", "raw"] }) ?? "tcp";
    if (name !== undefined) hosts.set(name, kind);
    const addrText = c.string(`${path}.address`, o["address"]);
    if (addrText !== undefined) {
      const addr = parseIpv4Address(addrText);
      if (addr === undefined) c.fail(`${path}.address`, `expected a dotted IPv4 address such as "10.0.0.1", got ${show(addrText)}`);
      else if (addresses.has(addr)) c.fail(`${path}.address`, `${addrText} is already the address of ${addresses.get(addr)}`);
      else addresses.set(addr, name ?? "?");
    }
    c.integer(`${path}.mtu`, o["mtu"], 68, 65535, true);
    if (o["tcp"] !== undefined) checkTcp(c, `${path}.tcp`, o["tcp"], tcpKeys);
  });
  return hosts;
}

/** Unknown keys are ours to report; values are checked by the engine's own resolveConfig. */
function checkTcp(c: Checker, path: string, v: unknown, known: readonly string[]): void {
  const t = c.object(path, v);
  if (t === undefined) return;
  let ok = true;
  for (const k of Object.keys(t)) {
    if (!known.includes(k)) {
      c.fail(childPath(path, k), `unknown TCP setting; known settings: ${known.join(", ")}`);
      ok = false;
    }
  }
  if (!ok) return;
  try {
    resolveConfig(t as Partial<TcpConfig>);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const key = /^TCP setting (\w+)/.exec(message)?.[1];
    c.fail(key !== undefined ? childPath(path, key) : path, message);
  }
}

function hostRef(c: Checker, path: string, v: unknown, hosts: Map<string, string>, kind?: string): string | undefined {
  const name = c.string(path, v);
  if (name === undefined) return undefined;
  if (!hosts.has(name)) {
    c.fail(path, hosts.size === 0 ? `no host named ${show(name)}: the scenario has no hosts` : `no host named ${show(name)}; hosts are: ${[...hosts.keys()].join(", ")}`);
    return undefined;
  }
  if (kind !== undefined && hosts.get(name) !== kind) c.fail(path, `host ${show(name)} is a ${hosts.get(name)} host; this needs a ${kind} host`);
  return name;
}

function checkLink(c: Checker, path: string, v: unknown, hosts: Map<string, string>): void {
  const o = c.object(path, v);
  if (o === undefined) return;
  c.keys(path, o, ["between", "from", "to", "mtuErrors", "aqm", ...LINK_NUMBERS, ...LINK_TIMES]);
  c.boolean(`${path}.mtuErrors`, o["mtuErrors"], true);
  if (o["aqm"] !== undefined) {
    const aqm = c.object(`${path}.aqm`, o["aqm"]);
    if (aqm !== undefined) {
      c.keys(`${path}.aqm`, aqm, ["markAbove"]);
      c.integer(`${path}.aqm.markAbove`, aqm["markAbove"], 0, Number.MAX_SAFE_INTEGER);
    }
    if (o["rate"] === undefined) c.fail(`${path}.aqm`, `an AQM needs a "rate": without a bottleneck no queue forms`);
  }
  if (o["between"] !== undefined) {
    const pair = c.array(`${path}.between`, o["between"]);
    if (pair !== undefined) {
      if (pair.length !== 2) c.fail(`${path}.between`, `expected two host names, got ${pair.length}`);
      pair.forEach((h, i) => hostRef(c, `${path}.between[${i}]`, h, hosts));
    }
    if (o["from"] !== undefined || o["to"] !== undefined) c.fail(path, `use either "between" (both directions) or "from" and "to" (one direction), not both`);
  } else {
    hostRef(c, `${path}.from`, o["from"], hosts);
    hostRef(c, `${path}.to`, o["to"], hosts);
  }
  for (const k of LINK_NUMBERS) {
    if (PROBABILITIES.has(k)) c.number(`${path}.${k}`, o[k], 0, 1, true);
    else c.number(`${path}.${k}`, o[k], k === "queueLimit" ? 0 : k === "mtu" ? 68 : 1, Number.MAX_SAFE_INTEGER, true);
  }
  for (const k of LINK_TIMES) c.time(`${path}.${k}`, o[k], true);
}

function checkMatch(c: Checker, path: string, o: Obj): void {
  c.flags(`${path}.flags`, o["flags"]);
  c.flags(`${path}.hasFlags`, o["hasFlags"]);
  c.flags(`${path}.lacksFlags`, o["lacksFlags"]);
  c.boolean(`${path}.data`, o["data"], true);
}

function checkFault(c: Checker, path: string, v: unknown, hosts: Map<string, string>): void {
  const o = c.object(path, v);
  if (o === undefined) return;
  c.keys(path, o, ["from", "to", "match", "nth", "action", "by"]);
  hostRef(c, `${path}.from`, o["from"], hosts);
  hostRef(c, `${path}.to`, o["to"], hosts);
  if (o["match"] !== undefined) {
    const m = c.object(`${path}.match`, o["match"]);
    if (m !== undefined) {
      c.keys(`${path}.match`, m, ["flags", "hasFlags", "lacksFlags", "data", "protocol", "fragment"]);
      const protocol = c.string(`${path}.match.protocol`, m["protocol"], { optional: true, oneOf: ["tcp", "udp"] });
      if (protocol === "udp") {
        for (const k of ["flags", "hasFlags", "lacksFlags", "data"]) if (m[k] !== undefined) c.fail(`${path}.match.${k}`, `a UDP match takes only "fragment"; "${k}" is about TCP segments`);
        c.boolean(`${path}.match.fragment`, m["fragment"], true);
      } else {
        if (m["fragment"] !== undefined) c.fail(`${path}.match.fragment`, `"fragment" needs "protocol": "udp" (TCP segments are never fragmented)`);
        checkMatch(c, `${path}.match`, m);
      }
    }
  }
  if (o["nth"] !== undefined) c.array(`${path}.nth`, o["nth"])?.forEach((n, i) => c.integer(`${path}.nth[${i}]`, n, 1, Number.MAX_SAFE_INTEGER));
  const action = c.string(`${path}.action`, o["action"], { oneOf: ["drop", "delay", "corrupt", "duplicate"] });
  if (action === "delay") c.time(`${path}.by`, o["by"]);
  else if (o["by"] !== undefined) c.fail(`${path}.by`, `only a "delay" fault takes "by"`);
}

/** Resolves `conn` / `host` to a connection label that some action defines. */
function targetRef(c: Checker, path: string, o: Obj, hosts: Map<string, string>, labels: Set<string>): void {
  if (o["conn"] !== undefined) {
    const label = c.string(`${path}.conn`, o["conn"]);
    // A listener's later connections are its label with "#2", "#3", ... (as the runner names them).
    if (label !== undefined && !labels.has(label) && !labels.has(label.replace(/#[1-9]\d*$/, ""))) c.fail(`${path}.conn`, `no connection named ${show(label)} (name one with "as" in a connect or listen action); known: ${[...labels].join(", ")}`);
  } else if (o["host"] !== undefined) {
    hostRef(c, `${path}.host`, o["host"], hosts);
  } else {
    c.fail(path, `say which connection: "conn" (a name given with "as") or "host" (that host's connection)`);
  }
}

/** Resolves `socket` / `host` to a UDP socket label (`as` of a udp-bind, or a host's name). */
function socketRef(c: Checker, path: string, o: Obj, hosts: Map<string, string>, sockets: Set<string>): void {
  if (o["socket"] !== undefined) {
    const label = c.string(`${path}.socket`, o["socket"]);
    if (label !== undefined && !sockets.has(label)) c.fail(`${path}.socket`, `no UDP socket named ${show(label)} (name one with "as" in a udp-bind action); known: ${[...sockets].join(", ")}`);
  } else if (o["host"] !== undefined) {
    hostRef(c, `${path}.host`, o["host"], hosts, "tcp");
  } else {
    c.fail(path, `say which UDP socket: "socket" (a name given with "as") or "host" (that host's socket)`);
  }
}

function checkAction(c: Checker, path: string, v: unknown, hosts: Map<string, string>, labels: Set<string>, sockets: Set<string>): void {
  const o = c.object(path, v);
  if (o === undefined) return;
  c.time(`${path}.at`, o["at"]);
  const kind = c.string(`${path}.do`, o["do"], { oneOf: ACTIONS }) as ActionKind | undefined;
  if (kind === undefined) return;
  const common = ["at", "do"];
  switch (kind) {
    case "listen":
      c.keys(path, o, [...common, "host", "port", "backlog", "accept", "as", "fastOpen"]);
      c.integer(`${path}.fastOpen`, o["fastOpen"], 0, 4096, true);
      hostRef(c, `${path}.host`, o["host"], hosts, "tcp");
      c.integer(`${path}.port`, o["port"], 1, 65535);
      c.integer(`${path}.backlog`, o["backlog"], 1, 4096, true);
      c.boolean(`${path}.accept`, o["accept"], true);
      if (o["as"] !== undefined) labels.add(c.string(`${path}.as`, o["as"]) ?? "");
      return;
    case "connect":
      c.keys(path, o, [...common, "host", "to", "port", "localPort", "as", "fastOpen"]);
      c.boolean(`${path}.fastOpen`, o["fastOpen"], true);
      hostRef(c, `${path}.host`, o["host"], hosts, "tcp");
      if (typeof o["to"] === "string" && parseIpv4Address(o["to"]) === undefined) hostRef(c, `${path}.to`, o["to"], hosts);
      else c.string(`${path}.to`, o["to"]);
      c.integer(`${path}.port`, o["port"], 1, 65535);
      c.integer(`${path}.localPort`, o["localPort"], 1, 65535, true);
      if (o["as"] !== undefined) labels.add(c.string(`${path}.as`, o["as"]) ?? "");
      return;
    case "send":
      c.keys(path, o, [...common, "conn", "host", "bytes", "text", "urgent"]);
      c.boolean(`${path}.urgent`, o["urgent"], true);
      targetRef(c, path, o, hosts, labels);
      if ((o["bytes"] === undefined) === (o["text"] === undefined)) c.fail(path, `give either "bytes" (a count) or "text" (a string) to send`);
      c.integer(`${path}.bytes`, o["bytes"], 1, MAX_SEND_BYTES, true);
      c.string(`${path}.text`, o["text"], { optional: true });
      return;
    case "shutdown":
    case "close":
    case "abort":
    case "stop-reading":
    case "read":
      c.keys(path, o, [...common, "conn", "host"]);
      targetRef(c, path, o, hosts, labels);
      return;
    case "keepalive":
      c.keys(path, o, [...common, "conn", "host", "enabled"]);
      targetRef(c, path, o, hosts, labels);
      c.boolean(`${path}.enabled`, o["enabled"], true);
      return;
    case "unplug":
    case "plug":
      c.keys(path, o, [...common, "host"]);
      hostRef(c, `${path}.host`, o["host"], hosts);
      return;
    case "syn-flood":
      c.keys(path, o, [...common, "host", "target", "port", "count", "interval", "spoof"]);
      hostRef(c, `${path}.host`, o["host"], hosts, "raw");
      hostRef(c, `${path}.target`, o["target"], hosts);
      c.integer(`${path}.port`, o["port"], 1, 65535);
      c.integer(`${path}.count`, o["count"], 1, 1_000_000);
      c.time(`${path}.interval`, o["interval"], true);
      if (o["spoof"] !== undefined) {
        const s = c.string(`${path}.spoof`, o["spoof"]);
        if (s !== undefined && parsePrefix(s) === undefined) c.fail(`${path}.spoof`, `expected an IPv4 prefix such as "198.18.0.0/15", got ${show(s)}`);
      }
      return;
    case "note":
      c.keys(path, o, [...common, "text"]);
      c.string(`${path}.text`, o["text"]);
      return;
    case "ss":
    case "netstat":
      c.keys(path, o, [...common, "host"]);
      hostRef(c, `${path}.host`, o["host"], hosts, "tcp");
      return;
    case "udp-bind":
      c.keys(path, o, [...common, "host", "port", "as", "rcvbuf", "reading"]);
      hostRef(c, `${path}.host`, o["host"], hosts, "tcp");
      c.integer(`${path}.port`, o["port"], 1, 65535);
      c.integer(`${path}.rcvbuf`, o["rcvbuf"], 1, 1 << 30, true);
      c.boolean(`${path}.reading`, o["reading"], true);
      if (o["as"] !== undefined) sockets.add(c.string(`${path}.as`, o["as"]) ?? "");
      return;
    case "udp-send":
      c.keys(path, o, [...common, "socket", "host", "to", "port", "size", "text", "count", "interval"]);
      socketRef(c, path, o, hosts, sockets);
      if (typeof o["to"] === "string" && parseIpv4Address(o["to"]) === undefined) hostRef(c, `${path}.to`, o["to"], hosts);
      else c.string(`${path}.to`, o["to"]);
      c.integer(`${path}.port`, o["port"], 1, 65535);
      if ((o["size"] === undefined) === (o["text"] === undefined)) c.fail(path, `give either "size" (bytes per datagram) or "text" (a string) to send`);
      // 65,535 - 20 (IP header) - 8 (UDP header): larger is EMSGSIZE before anything is sent.
      c.integer(`${path}.size`, o["size"], 0, 65_507, true);
      c.string(`${path}.text`, o["text"], { optional: true });
      c.integer(`${path}.count`, o["count"], 1, 1_000_000, true);
      c.time(`${path}.interval`, o["interval"], true);
      return;
    case "udp-read":
      c.keys(path, o, [...common, "socket", "host", "count"]);
      socketRef(c, path, o, hosts, sockets);
      c.integer(`${path}.count`, o["count"], 1, Number.MAX_SAFE_INTEGER, true);
      return;
  }
}

function checkBounds(c: Checker, path: string, o: Obj): void {
  const given = ["equals", "atLeast", "atMost"].filter((k) => o[k] !== undefined);
  if (given.length === 0) c.fail(path, `give "equals", "atLeast" or "atMost"`);
  for (const k of given) c.integer(`${path}.${k}`, o[k], 0, Number.MAX_SAFE_INTEGER);
}

function checkExpect(c: Checker, path: string, v: unknown, hosts: Map<string, string>, labels: Set<string>, sockets: Set<string>): void {
  const o = c.object(path, v);
  if (o === undefined) return;
  const kind = c.string(`${path}.expect`, o["expect"], { oneOf: EXPECTS }) as ExpectKind | undefined;
  if (kind === undefined) return;
  const matchKeys = ["flags", "hasFlags", "lacksFlags", "data"];
  switch (kind) {
    case "states":
      c.keys(path, o, ["expect", "conn", "host", "sequence"]);
      targetRef(c, path, o, hosts, labels);
      c.array(`${path}.sequence`, o["sequence"])?.forEach((s, i) => c.string(`${path}.sequence[${i}]`, s, { oneOf: TCP_STATES }));
      return;
    case "state":
      c.keys(path, o, ["expect", "conn", "host", "state", "at"]);
      targetRef(c, path, o, hosts, labels);
      c.string(`${path}.state`, o["state"], { oneOf: TCP_STATES });
      c.time(`${path}.at`, o["at"], true);
      return;
    case "error":
      c.keys(path, o, ["expect", "conn", "host", "code", "at"]);
      targetRef(c, path, o, hosts, labels);
      c.string(`${path}.code`, o["code"], { oneOf: ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ECONNABORTED", "EPIPE", "none"] });
      c.time(`${path}.at`, o["at"], true);
      return;
    case "segment":
      c.keys(path, o, ["expect", "from", "to", "nth", "at", "seq", "ack", "len", "window", "retransmit", "urg", ...matchKeys]);
      c.integer(`${path}.urg`, o["urg"], 0, 65535, true);
      hostRef(c, `${path}.from`, o["from"], hosts);
      if (o["to"] !== undefined) hostRef(c, `${path}.to`, o["to"], hosts);
      checkMatch(c, path, o);
      c.integer(`${path}.nth`, o["nth"], -1_000_000, 1_000_000, true);
      if (o["nth"] === 0) c.fail(`${path}.nth`, "counts from 1 (the first), or from -1 (the last)");
      c.time(`${path}.at`, o["at"], true);
      for (const k of ["seq", "ack"]) {
        const val = o[k];
        if (val !== undefined && typeof val !== "string" && !(typeof val === "number" && Number.isInteger(val))) c.fail(`${path}.${k}`, `expected a name such as "x+1" or an absolute number, got ${show(val)}`);
      }
      c.integer(`${path}.len`, o["len"], 0, 65535, true);
      c.integer(`${path}.window`, o["window"], 0, 2 ** 31, true);
      c.boolean(`${path}.retransmit`, o["retransmit"], true);
      return;
    case "segments":
      c.keys(path, o, ["expect", "from", "to", "times", "count", ...matchKeys]);
      hostRef(c, `${path}.from`, o["from"], hosts);
      if (o["to"] !== undefined) hostRef(c, `${path}.to`, o["to"], hosts);
      checkMatch(c, path, o);
      if (o["times"] === undefined && o["count"] === undefined) c.fail(path, `give "times" or "count"`);
      if (o["times"] !== undefined) c.array(`${path}.times`, o["times"])?.forEach((t, i) => c.time(`${path}.times[${i}]`, t));
      c.integer(`${path}.count`, o["count"], 0, Number.MAX_SAFE_INTEGER, true);
      return;
    case "timer":
      c.keys(path, o, ["expect", "conn", "host", "timer", "armed", "fired"]);
      targetRef(c, path, o, hosts, labels);
      c.string(`${path}.timer`, o["timer"], { oneOf: TIMERS });
      if (o["armed"] === undefined && o["fired"] === undefined) c.fail(path, `give "armed" (deadlines) or "fired" (times)`);
      for (const k of ["armed", "fired"]) if (o[k] !== undefined) c.array(`${path}.${k}`, o[k])?.forEach((t, i) => c.time(`${path}.${k}[${i}]`, t));
      return;
    case "received":
      c.keys(path, o, ["expect", "conn", "host", "bytes", "text", "eof", "oob"]);
      c.string(`${path}.oob`, o["oob"], { optional: true });
      targetRef(c, path, o, hosts, labels);
      c.integer(`${path}.bytes`, o["bytes"], 0, Number.MAX_SAFE_INTEGER, true);
      c.string(`${path}.text`, o["text"], { optional: true });
      c.boolean(`${path}.eof`, o["eof"], true);
      return;
    case "count":
      c.keys(path, o, ["expect", "host", "state", "at", "equals", "atLeast", "atMost"]);
      hostRef(c, `${path}.host`, o["host"], hosts);
      c.string(`${path}.state`, o["state"], { oneOf: TCP_STATES });
      c.time(`${path}.at`, o["at"]);
      checkBounds(c, path, o);
      return;
    case "drops":
      c.keys(path, o, ["expect", "host", "link", "reason", "times", "equals", "atLeast", "atMost"]);
      if (o["times"] !== undefined) c.array(`${path}.times`, o["times"])?.forEach((t, i) => c.time(`${path}.times[${i}]`, t));
      if ((o["host"] === undefined) === (o["link"] === undefined)) c.fail(path, `give either "host" (drops by a host's stack) or "link" ("a->b", drops on the way)`);
      if (o["host"] !== undefined) hostRef(c, `${path}.host`, o["host"], hosts);
      if (o["link"] !== undefined) c.string(`${path}.link`, o["link"]);
      c.string(`${path}.reason`, o["reason"]);
      checkBounds(c, path, o);
      return;
    case "recovery":
      c.keys(path, o, ["expect", "host", "action", "times", "equals", "atLeast", "atMost"]);
      hostRef(c, `${path}.host`, o["host"], hosts);
      c.string(`${path}.action`, o["action"], { oneOf: ["rack-lost", "recovery", "tlp", "tlp-recovery", "dsack", "undo", "mtu", "mtu-probe", "frto"] });
      if (o["times"] !== undefined) c.array(`${path}.times`, o["times"])?.forEach((t, i) => c.time(`${path}.times[${i}]`, t));
      checkBounds(c, path, o);
      return;
    case "ecn":
      c.keys(path, o, ["expect", "host", "action", "times", "equals", "atLeast", "atMost"]);
      hostRef(c, `${path}.host`, o["host"], hosts);
      c.string(`${path}.action`, o["action"], { oneOf: ["negotiated", "ce-received", "ece-received", "cwr-sent", "cwr-received"] });
      if (o["times"] !== undefined) c.array(`${path}.times`, o["times"])?.forEach((t, i) => c.time(`${path}.times[${i}]`, t));
      checkBounds(c, path, o);
      return;
    case "bbr":
      c.keys(path, o, ["expect", "host", "mode", "times", "equals", "atLeast", "atMost"]);
      hostRef(c, `${path}.host`, o["host"], hosts);
      c.string(`${path}.mode`, o["mode"], { oneOf: ["startup", "drain", "probe_bw", "probe_rtt"] });
      if (o["times"] !== undefined) c.array(`${path}.times`, o["times"])?.forEach((t, i) => c.time(`${path}.times[${i}]`, t));
      checkBounds(c, path, o);
      return;
    case "call-error":
      c.keys(path, o, ["expect", "host", "code", "at"]);
      hostRef(c, `${path}.host`, o["host"], hosts);
      c.string(`${path}.code`, o["code"]);
      c.time(`${path}.at`, o["at"], true);
      return;
    case "udp": {
      const facts = ["sent", "read", "readBytes", "dropped"];
      c.keys(path, o, ["expect", "socket", "host", ...facts]);
      socketRef(c, path, o, hosts, sockets);
      if (facts.every((k) => o[k] === undefined)) c.fail(path, `give at least one of: ${facts.join(", ")}`);
      for (const k of facts) c.integer(`${path}.${k}`, o[k], 0, Number.MAX_SAFE_INTEGER, true);
      return;
    }
    case "counters": {
      const groups = ["udp", "ip", "icmp", "reassembly"] as const;
      c.keys(path, o, ["expect", "host", ...groups]);
      hostRef(c, `${path}.host`, o["host"], hosts, "tcp");
      if (groups.every((g) => o[g] === undefined)) c.fail(path, `give at least one group of counters: ${groups.join(", ")}`);
      for (const g of groups) {
        if (o[g] === undefined) continue;
        const table = c.object(`${path}.${g}`, o[g]);
        if (table === undefined) continue;
        c.keys(`${path}.${g}`, table, COUNTERS[g]);
        for (const [k, n] of Object.entries(table)) if (COUNTERS[g].includes(k)) c.integer(`${path}.${g}.${k}`, n, 0, Number.MAX_SAFE_INTEGER);
      }
      return;
    }
  }
}

/** "198.18.0.0/15" -> base address and prefix length. */
export function parsePrefix(text: string): { base: number; bits: number } | undefined {
  const [addr, len] = text.split("/");
  const base = parseIpv4Address(addr ?? "");
  const bits = len === undefined ? 32 : Number(len);
  if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 32) return undefined;
  return { base, bits };
}
