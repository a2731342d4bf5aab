/**
 * Traffic outside the narration's focus (a SYN flood's thousands of spoofed segments) is
 * counted, not drawn: before the next drawn row, one line says what happened meanwhile.
 */
import type { Millis } from "../../env.js";
import { flagNames } from "../../wire/tcp.js";
import type { TraceEvent } from "../events.js";
import { formatTime } from "../format.js";

export class HiddenTraffic {
  private from: Millis | undefined;
  private to: Millis = 0;
  /** Per host, "what" -> count, in first-seen order. */
  private readonly perHost = new Map<string, Map<string, number>>();
  private readonly queues = new Map<string, string>();

  /** Time of the oldest event not yet summarised. */
  get since(): Millis | undefined {
    return this.from;
  }

  add(e: TraceEvent): void {
    this.from ??= e.time;
    this.to = e.time;
    switch (e.type) {
      case "segment-out":
        this.count(e.host, `sent ${flagNames(e.segment.flags)}${e.retransmit ? " again" : ""}`);
        break;
      case "state":
        this.count(e.host, `-> ${e.to}`);
        break;
      case "drop":
        this.count(e.host, `dropped (${e.reason})`);
        break;
      case "timer-fired":
        if (e.timer !== "delayed-ack" && e.timer !== "pacing") this.count(e.host, `${e.timer} timeouts`);
        break;
      case "error":
        this.count(e.host, e.code);
        break;
      case "link":
        if (e.action === "drop") this.count("network", `lost (${e.reason})`);
        break;
      case "udp-out":
        this.count(e.host, "sent UDP");
        break;
      case "fragment-out":
        this.count(e.host, "sent fragments");
        break;
      case "udp-in":
        this.count(e.host, e.outcome === "queued" ? "got UDP" : `dropped UDP (${e.outcome})`);
        break;
      case "queue":
        this.queues.set(`${e.host}:${e.port}`, `${e.host} port ${e.port}: SYN queue ${e.synQueue}, accept queue ${e.acceptQueue}`);
        break;
      default:
        break;
    }
  }

  private count(host: string, what: string): void {
    let m = this.perHost.get(host);
    if (m === undefined) {
      m = new Map();
      this.perHost.set(host, m);
    }
    m.set(what, (m.get(what) ?? 0) + 1);
  }

  /** The summary of everything since the last flush, or undefined when nothing was hidden. */
  flush(): { time: Millis; text: string } | undefined {
    if (this.from === undefined) return undefined;
    const parts: string[] = [];
    for (const [host, m] of this.perHost) {
      parts.push(`${host} ${[...m].map(([what, n]) => `${what} x${n}`).join(", ")}`);
    }
    parts.push(...this.queues.values());
    const span = this.from === this.to ? `at ${formatTime(this.from)}` : `${formatTime(this.from)} to ${formatTime(this.to)}`;
    const result = { time: this.to, text: `... meanwhile ${span}: ${parts.join("; ")}` };
    this.from = undefined;
    this.perHost.clear();
    this.queues.clear();
    return parts.length === 0 ? undefined : result;
  }
}
