/**
 * Shell lines of packetdrill scripts, mapped to synack settings: the one table from a
 * Linux `sysctl` (or tool invocation) to what synack does with it.
 *
 * Every line ends in one of three ways: it changes a synack setting, it is a no-op
 * because synack already behaves that way (or the knob tunes something synack does not
 * have, such as TSO sizing), or it is unsupported and the script is reported with the
 * missing feature named. Values that would make Linux behave in a way synack cannot are
 * unsupported, never silently ignored.
 */
import type { RouteMetrics } from "../ip/routing.js";
import type { TcpConfig } from "../tcp/config.js";
import { DrillUnsupportedError, type SourcePos } from "./errors.js";

/** What the commands of a script set, applied on top of synack's Linux defaults. */
export interface DrillSettings {
  tcp: Partial<TcpConfig>;
  /** Times the script flushed cached metrics (`ip tcp_metrics flush all`): the runner empties the Fast Open cookie cache. */
  metricsFlushes?: number;
  /** The route to the script's remote address, when a command set one (`ip route change`). */
  route?: RouteSetting;
}

/** `ip route change DEST ... advmss N mtu [lock] N initcwnd N`: the destination and its metrics. */
export interface RouteSetting {
  destination: string;
  metrics: RouteMetrics;
}

/**
 * `defaults.sh` of the corpus (every script runs it first), as synack settings. Where it
 * turns on something synack lacks (F-RTO, RACK-TLP, DSACK, HyStart, pacing), synack runs
 * without it; scripts that depend on those fail or are reported by their other needs,
 * and CONFORMANCE.md says which.
 */
export function corpusDefaults(): DrillSettings {
  return {
    tcp: {
      // tcp_rmem = 4096 540000 15728640: the shift Linux announces for a 15 MiB maximum.
      receiveBufferSize: 540000,
      receiveBufferMax: 15 * 1024 * 1024,
      windowScaleShift: windowScaleFor(15 * 1024 * 1024),
      sendBufferSize: 256 * 1024,
      timestamps: true,
      sack: true,
      synRetries: 5,
      synAckRetries: 5,
      synCookies: "overflow",
      congestionControl: "cubic",
      ecn: 0,
      // tcp_fastopen=0x70403 (client, server, every listener; the 0x70000 bits are not
      // upstream Linux's) and its fixed key, which the corpus's TFO_COOKIE is made with.
      fastOpen: 0x70403,
      fastOpenKey: "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4",
    },
  };
}

/** Linux tcp_select_initial_window: the smallest shift that lets the window cover `space` (at most 14, RFC 7323 2.3). */
export function windowScaleFor(space: number): number {
  let shift = 0;
  while (space > 65535 << shift && shift < 14) shift++;
  return shift;
}

type Handler = (value: string, s: DrillSettings) => void;

const unsupported = (feature: string): never => {
  throw new DrillUnsupportedError(feature, undefined);
};

function int(name: string, value: string): number {
  const n = Number(value.trim());
  if (!Number.isInteger(n)) unsupported(`sysctl ${name}=${value} (not an integer)`);
  return n;
}

/** `accept` values equal synack's behaviour; anything else names the missing feature. */
const only =
  (feature: string, ...accepted: number[]): Handler =>
  (value, _s) => {
    if (!accepted.includes(int(feature, value))) unsupported(feature);
  };
const noop: Handler = () => {};

/** net.ipv4.* and net.core.* names (without the prefix) to their effect. */
const SYSCTLS: Record<string, Handler> = {
  tcp_rmem: (v, s) => {
    const [, def, max] = v.trim().split(/\s+/).map((x) => int("tcp_rmem", x));
    if (def === undefined || max === undefined) return unsupported(`tcp_rmem=${v}`);
    s.tcp.receiveBufferSize = def;
    s.tcp.receiveBufferMax = max;
    s.tcp.windowScaleShift = windowScaleFor(max);
  },
  tcp_wmem: (v, s) => {
    const [, def, max] = v.trim().split(/\s+/).map((x) => int("tcp_wmem", x));
    if (def === undefined) return unsupported(`tcp_wmem=${v}`);
    s.tcp.sendBufferSize = def;
    if (max !== undefined) s.tcp.sendBufferMax = max;
  },
  tcp_timestamps: (v, s) => {
    s.tcp.timestamps = int("tcp_timestamps", v) !== 0;
  },
  tcp_sack: (v, s) => {
    s.tcp.sack = int("tcp_sack", v) !== 0;
  },
  tcp_window_scaling: (v, s) => {
    s.tcp.windowScaling = int("tcp_window_scaling", v) !== 0;
  },
  tcp_syn_retries: (v, s) => {
    s.tcp.synRetries = int("tcp_syn_retries", v);
  },
  tcp_synack_retries: (v, s) => {
    s.tcp.synAckRetries = int("tcp_synack_retries", v);
  },
  tcp_retries2: (v, s) => {
    s.tcp.dataRetries = int("tcp_retries2", v);
  },
  tcp_fin_timeout: (v, s) => {
    s.tcp.finWait2Timeout = int("tcp_fin_timeout", v) * 1000;
  },
  tcp_keepalive_time: (v, s) => {
    s.tcp.keepAliveIdle = int("tcp_keepalive_time", v) * 1000;
  },
  tcp_keepalive_intvl: (v, s) => {
    s.tcp.keepAliveInterval = int("tcp_keepalive_intvl", v) * 1000;
  },
  tcp_keepalive_probes: (v, s) => {
    s.tcp.keepAliveProbes = int("tcp_keepalive_probes", v);
  },
  tcp_max_syn_backlog: (v, s) => {
    s.tcp.synQueueSize = int("tcp_max_syn_backlog", v);
  },
  tcp_invalid_ratelimit: (v, s) => {
    s.tcp.challengeAckInterval = int("tcp_invalid_ratelimit", v);
  },
  tcp_syncookies: (v, s) => {
    const n = int("tcp_syncookies", v);
    s.tcp.synCookies = n === 0 ? "never" : n === 2 ? "always" : "overflow";
  },
  tcp_congestion_control: (v, s) => {
    const name = v.trim();
    if (name !== "cubic" && name !== "reno" && name !== "bbr") unsupported(`congestion control "${name}"`);
    s.tcp.congestionControl = name as "cubic" | "reno" | "bbr";
  },
  // Features synack lacks: only the value that switches them off is equivalent.
  tcp_slow_start_after_idle: (v, s) => {
    s.tcp.slowStartAfterIdle = int("tcp_slow_start_after_idle", v) !== 0;
  },
  // RFC 3168 ECN: 0 off, 1 ask and accept, 2 accept only. Linux's AccECN values (3-5) are not supported.
  tcp_ecn: (v, s) => {
    const n = int("tcp_ecn", v);
    if (n !== 0 && n !== 1 && n !== 2) unsupported(`Accurate ECN (tcp_ecn=${n})`);
    s.tcp.ecn = n as 0 | 1 | 2;
  },
  tcp_mtu_probing: (v, s) => {
    const n = int("tcp_mtu_probing", v);
    if (n !== 0 && n !== 1 && n !== 2) unsupported(`tcp_mtu_probing=${n}`);
    s.tcp.mtuProbing = n as 0 | 1 | 2;
  },
  tcp_base_mss: (v, s) => {
    s.tcp.baseMss = int("tcp_base_mss", v);
  },
  tcp_mtu_probe_floor: (v, s) => {
    s.tcp.mtuProbeFloor = int("tcp_mtu_probe_floor", v);
  },
  tcp_probe_threshold: (v, s) => {
    s.tcp.probeThreshold = int("tcp_probe_threshold", v);
  },
  tcp_probe_interval: (v, s) => {
    s.tcp.probeInterval = int("tcp_probe_interval", v) * 1000;
  },
  tcp_reordering: only("a reordering threshold other than 3 (tcp_reordering)", 3),
  tcp_frto: (v, s) => {
    s.tcp.frto = int("tcp_frto", v) !== 0;
  },
  // Loss detection: bit 0 of tcp_recovery is RACK; tcp_early_retrans 3 and 4 enable TLP.
  tcp_recovery: (v, s) => {
    const n = int("tcp_recovery", v);
    if ((n & ~1) !== 0) unsupported(`tcp_recovery flags ${n} (RACK options beyond bit 0)`);
    s.tcp.rack = (n & 1) !== 0;
  },
  tcp_early_retrans: (v, s) => {
    const n = int("tcp_early_retrans", v);
    s.tcp.tlp = n === 3 || n === 4;
  },
  tcp_dsack: (v, s) => {
    s.tcp.dsack = int("tcp_dsack", v) !== 0;
  },
  tcp_fack: only("FACK (tcp_fack)", 0),
  tcp_autocorking: only("autocorking (tcp_autocorking)", 0),
  tcp_fastopen: (v, s) => {
    s.tcp.fastOpen = int("tcp_fastopen", v);
  },
  tcp_fastopen_key: (v, s) => {
    s.tcp.fastOpenKey = v.trim();
  },
  // Active Fast Open blackhole detection (Linux tcp_fastopen_active_disable): synack has
  // none, which is what 0 asks for.
  tcp_fastopen_blackhole_timeout_sec: only("Fast Open blackhole detection (tcp_fastopen_blackhole_timeout_sec)", 0),
  // Resizing the cookie cache (a Google kernel knob) empties it, as a flush does.
  tcp_fastopen_cookies: (_v, s) => {
    s.metricsFlushes = (s.metricsFlushes ?? 0) + 1;
  },
  tcp_notsent_lowat: (v, s) => {
    s.tcp.notsentLowat = int("tcp_notsent_lowat", v);
  },
  tcp_tso_win_divisor: (v, s) => {
    s.tcp.tsoWinDivisor = int("tcp_tso_win_divisor", v);
  },
  // Knobs of machinery synack does not have, where any value behaves as synack does.
  tcp_min_tso_segs: (v, s) => {
    s.tcp.minTsoSegments = int("tcp_min_tso_segs", v);
  },
  tcp_ecn_option: noop, // AccECN option, only used when ECN is on
  // The pacing rate's share of cwnd / srtt (Linux tcp_update_pacing_rate): synack paces at
  // Linux's defaults (tcp/pacing.ts), so only those are accepted.
  tcp_pacing_ss_ratio: only("a pacing ratio other than Linux's 200% in slow start (tcp_pacing_ss_ratio)", 200),
  tcp_pacing_ca_ratio: only("a pacing ratio other than Linux's 120% in congestion avoidance (tcp_pacing_ca_ratio)", 120),
};

/** The whole-corpus init command, recognised by name: its effect is `corpusDefaults()`. */
const DEFAULTS_SCRIPT = /(^|\/)defaults\.sh$/;

/**
 * Applies one backquoted command (possibly several lines) to `settings`. Throws
 * DrillUnsupportedError naming what is missing; `pos` is the command's place in the script.
 */
export function applyCommand(text: string, settings: DrillSettings, pos: SourcePos): void {
  try {
    for (const line of commandLines(text)) applyLine(line, settings);
  } catch (e) {
    if (e instanceof DrillUnsupportedError && e.pos === undefined) throw new DrillUnsupportedError(e.feature, pos);
    throw e;
  }
}

/** Splits on newlines and `;`, joins `\` continuations, drops redirections and `|| true` fallbacks. */
function commandLines(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, " ")
    .split(/[\n;]/)
    .map((l) =>
      l
        .replace(/\s*(&>|2>&1|>\s*\/dev\/null|2>\s*\/dev\/null)(\s*\/dev\/null)?/g, "")
        .replace(/\s*\|\|\s*true\s*$/, "")
        .trim(),
    )
    .filter((l) => l !== "" && !l.startsWith("#"));
}

function applyLine(line: string, settings: DrillSettings): void {
  const words = line.split(/\s+/);
  const cmd = words[0]!;
  if (DEFAULTS_SCRIPT.test(cmd)) {
    Object.assign(settings.tcp, corpusDefaults().tcp);
    return;
  }
  if (cmd === "sysctl") {
    for (const [name, value] of sysctlAssignments(line.slice(cmd.length))) applySysctl(name, value, settings);
    return;
  }
  if (/set_sysctls\.py$/.test(cmd)) {
    const args = line.slice(cmd.length).replace(/\/proc\/sys\//g, "");
    for (const [name, value] of sysctlAssignments(args)) applySysctl(name, value, settings);
    return;
  }
  // Offload settings of the test's TUN device: synack's segments are never offloaded.
  if (cmd === "ethtool" && words[1] === "-K") return;
  // Cached metrics: synack keeps only Fast Open cookies, which the runner forgets.
  if (line === "ip tcp_metrics flush all" || /^ip tcp_metrics flush all\b/.test(line)) {
    settings.metricsFlushes = (settings.metricsFlushes ?? 0) + 1;
    return;
  }
  // The corpus's restore script of the previous sysctls: settings are per script here.
  if (/^\/tmp\/sysctl_restore_/.test(cmd)) return;
  if (cmd === "tc" && words.includes("qdisc")) {
    // A FIFO qdisc is what the scripts ask for so that nothing paces.
    if (words.includes("pfifo") && !words.includes("limit")) return;
    // fq: Linux's TCP stamps each packet's departure time from its pacing rate (EDT,
    // tcp_update_skb_after_send) and fq holds it until then; TcpConfig.pacing is that model.
    if (words[words.length - 1] === "fq") {
      settings.tcp.pacing = true;
      return;
    }
    unsupported(`qdisc "${words.slice(words.indexOf("root") + 1).join(" ")}"`);
  }
  if (cmd === "ip" && words.includes("route")) {
    settings.route = routeSetting(words);
    return;
  }
  if (cmd === "nstat") unsupported("SNMP counters (nstat)");
  if (cmd === "echo" && line.includes("/sys/module/tcp_cubic/")) {
    // `echo N > /sys/module/tcp_cubic/parameters/hystart_detect`: which HyStart detectors run.
    const m = /^echo\s+(\d+)\s*>\s*\/sys\/module\/tcp_cubic\/parameters\/hystart_detect$/.exec(line);
    if (m === null || Number(m[1]) > 3) unsupported(`CUBIC module parameter "${line}"`);
    settings.tcp.hystartDetect = Number(m![1]);
    return;
  }
  unsupported(`shell command "${line}"`);
}

/** `-q -e net.ipv4.a=1 net.ipv4.b="x y"` -> [["net.ipv4.a", "1"], ["net.ipv4.b", "x y"]]. */
function sysctlAssignments(args: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const re = /([A-Za-z0-9_./]+)=("([^"]*)"|'([^']*)'|(\S+))/g;
  for (let m = re.exec(args); m !== null; m = re.exec(args)) {
    out.push([m[1]!.replace(/\//g, "."), evalShellArithmetic(m[3] ?? m[4] ?? m[5] ?? "")]);
  }
  if (out.length === 0) unsupported(`sysctl${args}`);
  return out;
}

/** `$((15*1024*1024))` as defaults.sh writes it: integers and * + - only. */
function evalShellArithmetic(value: string): string {
  return value.replace(/\$\(\(([0-9*+\- ]+)\)\)/g, (_m, expr: string) => {
    const terms = expr.replace(/\s/g, "").split(/(?=[+-])/);
    let sum = 0;
    for (const term of terms) sum += term.split("*").reduce((a, b) => a * Number(b), 1);
    return String(sum);
  });
}

function applySysctl(fullName: string, value: string, settings: DrillSettings): void {
  const m = /^net\.(ipv4|core)\.(.+)$/.exec(fullName);
  const handler = m ? SYSCTLS[m[2]!] : undefined;
  if (handler === undefined) unsupported(`sysctl ${fullName}`);
  handler!(value, settings);
}

/**
 * `ip [-6] route change|replace|add DEST [via GW] [dev DEV] [advmss N] [mtu [lock] N]
 * [initcwnd N]`. The gateway and device describe the corpus's TUN set-up, which synack's
 * drill host replaces with an on-link route; metrics not named are unset, as `change`
 * leaves them in Linux.
 */
function routeSetting(words: string[]): RouteSetting {
  const at = words.indexOf("route");
  const verb = words[at + 1];
  if (verb !== "change" && verb !== "replace" && verb !== "add") unsupported(`ip route ${verb ?? ""}`);
  const destination = words[at + 2];
  if (destination === undefined) unsupported("ip route without a destination");
  const metrics: RouteMetrics = { mtu: 0, mtuLocked: false, advmss: 0, initcwnd: 0 };
  for (let i = at + 3; i < words.length; i++) {
    const w = words[i]!;
    const value = (): number => int(`route ${w}`, words[++i] ?? "");
    if (w === "via" || w === "dev") i++;
    else if (w === "advmss") metrics.advmss = value();
    else if (w === "initcwnd") metrics.initcwnd = value();
    else if (w === "mtu") {
      if (words[i + 1] === "lock") {
        metrics.mtuLocked = true;
        i++;
      }
      metrics.mtu = value();
    } else unsupported(`route attribute "${w}"`);
  }
  return { destination: destination!, metrics };
}
