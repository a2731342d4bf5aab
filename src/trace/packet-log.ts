/**
 * A record of every packet a simulation sent and delivered, with its bytes. Two runs with
 * the same seed and the same actions must produce identical logs; tests compare them to
 * prove determinism, and a failing scenario can be diffed line by line.
 */
import type { Millis } from "../env.js";

export interface PacketLogEntry {
  time: Millis;
  /** "send": an endpoint transmitted it. "deliver": a copy reached the destination endpoint. */
  event: "send" | "deliver";
  /** Name of the sending host. */
  from: string;
  /** Name of the destination host, or the dotted destination address when no host has it. */
  to: string;
  /** A private copy of the packet as it was at that moment (after any corruption, for "deliver"). */
  bytes: Uint8Array;
}

export type PacketRecorder = (entry: PacketLogEntry) => void;

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** One line per entry, e.g. "1 deliver a->b 4500...": stable text for diffs and snapshots. */
export function formatPacketLog(entries: readonly PacketLogEntry[]): string {
  return entries.map((e) => `${e.time} ${e.event} ${e.from}->${e.to} ${hex(e.bytes)}`).join("\n");
}
