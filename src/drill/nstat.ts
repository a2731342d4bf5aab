/**
 * `nstat` in drill scripts: the SNMP counters a script reads through a shell command.
 * `nstat > /dev/null` takes a snapshot (nstat prints, and remembers, the counts since its
 * last run); `nstat | grep NAME > /dev/null` succeeds only if NAME went up since then
 * (nstat omits counters that did not change), so the script fails otherwise, as a failing
 * shell command fails a packetdrill script. Only the counters synack keeps are known.
 */
import { DrillFailure, DrillUnsupportedError, type SourcePos } from "./errors.js";
import type { TcpLayer } from "../tcp/layer.js";

const COUNTERS: Record<string, (tcp: TcpLayer) => number> = {
  TcpExtOutOfWindowIcmps: (tcp) => tcp.outOfWindowIcmps,
};

export class Nstat {
  private snapshot = new Map<string, number>();

  constructor(private readonly tcp: () => TcpLayer) {}

  /** Handles the command if it is an nstat one; returns false for any other command. */
  run(text: string, pos: SourcePos): boolean {
    const line = text.trim().replace(/\s+/g, " ");
    if (!/^nstat\b/.test(line)) return false;
    if (line === "nstat > /dev/null" || line === "nstat >/dev/null") {
      this.take();
      return true;
    }
    const m = /^nstat \| grep (\w+) > ?\/dev\/null$/.exec(line);
    if (m === null) throw new DrillUnsupportedError(`SNMP counters (nstat): "${line}"`, pos);
    const name = m[1]!;
    const read = COUNTERS[name];
    if (read === undefined) throw new DrillUnsupportedError(`SNMP counter ${name}`, pos);
    const changed = read(this.tcp()) !== (this.snapshot.get(name) ?? 0);
    this.take();
    if (!changed) throw new DrillFailure(`\`${line}\` failed: ${name} did not change since the last nstat`, pos);
    return true;
  }

  private take(): void {
    const tcp = this.tcp();
    this.snapshot = new Map(Object.entries(COUNTERS).map(([name, read]) => [name, read(tcp)]));
  }
}
