/**
 * The narration's intermediate form: rows of a sequence diagram, independent of how they
 * are drawn. build.ts turns trace events into rows; layout.ts draws them as text.
 */
import type { Millis } from "../../env.js";
import type { IpAddress } from "../../wire/address.js";

/** How a note is coloured. */
export type Tone = "app" | "timer" | "drop" | "error" | "info";

export interface Note {
  text: string;
  tone: Tone;
}

/** A segment travelling between two host columns (`to` null: to an address no column has). */
export interface Arrow {
  from: number;
  to: number | null;
  label: string;
  /** Lost on the way: drawn ending mid-way with an X. */
  lost: boolean;
}

export interface Row {
  time: Millis;
  /** The column the row is about (notes sit next to it); -1 for full-width rows. */
  col: number;
  /** Each column's state after this row, and whether this row changed it. */
  states: string[];
  changed: boolean[];
  arrow?: Arrow;
  notes: Note[];
  /** One line, printed under the row, on what it means and what each side knows (--explain). */
  explain?: string;
  /** Full-width text (summaries of hidden traffic, socket tables, script notes). */
  block?: { lines: string[]; tone: Tone };
  /** Rows with equal shapes are "the same thing again" and may be collapsed. */
  shape: string;
}

export interface NarrateHost {
  name: string;
  address: IpAddress;
}
