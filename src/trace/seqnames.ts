/**
 * Names for sequence numbers, the way the documents write them: the client's initial
 * sequence number is x, the server's y, so the handshake reads `SYN seq=x`,
 * `SYN,ACK seq=y ack=x+1`, `ACK seq=x+1 ack=y+1`. Each host gets a letter in column order
 * (x, y, z, w, then h5, h6 ...); a host's second connection gets x2, its third x3.
 *
 * A number is named after the initial sequence number of its own direction (the sender's
 * for seq, the receiver's for ack) that it is closest above, so an ACK belonging to an old
 * incarnation (S11) still reads as "x+1", not as "x2-751234". Numbers with no known ISN in
 * their direction (a RST answering a SYN to a closed port has seq 0) stay absolute.
 */
import type { IpAddress } from "../wire/address.js";
import type { Seq } from "../wire/seq.js";
import { seqDiff } from "../wire/seq.js";
import { directionKey } from "./format.js";

const LETTERS = ["x", "y", "z", "w"];
/** Offsets this far below an ISN still count as belonging to it (x-1 for keep-alive probes). */
const MAX_BELOW = 65_536;

interface Isn {
  isn: number;
  name: string;
  host: string;
  /** The address the SYN went to. */
  peer: IpAddress;
}

export type SeqMode = "relative" | "absolute";

export class SeqNames {
  private readonly byDirection = new Map<string, Isn[]>();
  private readonly perHost = new Map<string, number>();
  private readonly order: Isn[] = [];

  constructor(
    readonly mode: SeqMode,
    private readonly hostOrder: readonly string[],
  ) {}

  /** Records the ISN of a SYN sent by `host` in direction src -> dst (idempotent for retransmissions). */
  addIsn(host: string, src: IpAddress, srcPort: number, dst: IpAddress, dstPort: number, isn: Seq): void {
    const key = directionKey(src, srcPort, dst, dstPort);
    let list = this.byDirection.get(key);
    if (list === undefined) {
      list = [];
      this.byDirection.set(key, list);
    }
    if (list.some((i) => i.isn === isn)) return;
    const n = (this.perHost.get(host) ?? 0) + 1;
    this.perHost.set(host, n);
    const entry = { isn, name: this.letter(host) + (n === 1 ? "" : String(n)), host, peer: dst };
    list.push(entry);
    this.order.push(entry);
  }

  /** Every named ISN in the order first seen: for a legend such as "x = 190601659 (client)". */
  legend(): ReadonlyArray<Readonly<Isn>> {
    return this.order;
  }

  private letter(host: string): string {
    const i = this.hostOrder.indexOf(host);
    if (i >= 0 && i < LETTERS.length) return LETTERS[i]!;
    return `h${i >= 0 ? i + 1 : this.hostOrder.length + 1}`;
  }

  /** Names `value`, a sequence number in the space of direction src -> dst. */
  name(value: Seq, src: IpAddress, srcPort: number, dst: IpAddress, dstPort: number): string {
    if (this.mode === "absolute") return String(value >>> 0);
    const list = this.byDirection.get(directionKey(src, srcPort, dst, dstPort));
    if (list === undefined) return String(value >>> 0);
    let best: Isn | undefined;
    let bestOffset = 0;
    for (const i of list) {
      const d = seqDiff(value, i.isn as Seq);
      if (d < -MAX_BELOW) continue;
      // Prefer the ISN the value is closest above; an ISN it is below only if nothing else fits.
      const better = best === undefined || (d >= 0 && (bestOffset < 0 || d < bestOffset)) || (d < 0 && bestOffset < 0 && d > bestOffset);
      if (better) {
        best = i;
        bestOffset = d;
      }
    }
    if (best === undefined) return String(value >>> 0);
    if (bestOffset === 0) return best.name;
    return bestOffset > 0 ? `${best.name}+${bestOffset}` : `${best.name}${bestOffset}`;
  }
}
