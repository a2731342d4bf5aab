/**
 * Draws narration rows as text: a time column, one column per host showing its state
 * (bracketed when this row changed it), and between the columns the arrows of segments
 * and the notes of the host they belong to. Widths are computed from the content so the
 * columns line up on every row; nothing is ever truncated.
 */
import { formatTime } from "../format.js";
import type { Style } from "../style.js";
import type { Arrow, NarrateHost, Row, Tone } from "./model.js";

const MIN_GAP = 40;
const STATE_WIDTH = "[ESTABLISHED]".length;

type Painter = (s: string) => string;

/** A line of fixed-position text with a style per character, joined into runs at the end. */
class Canvas {
  private readonly chars: string[] = [];
  private readonly paint: Array<Painter | undefined> = [];

  put(x: number, text: string, painter?: Painter): void {
    while (this.chars.length < x) {
      this.chars.push(" ");
      this.paint.push(undefined);
    }
    for (let i = 0; i < text.length; i++) {
      this.chars[x + i] = text[i]!;
      this.paint[x + i] = painter;
    }
  }

  get width(): number {
    return this.chars.length;
  }

  render(): string {
    let out = "";
    let i = 0;
    const end = this.trimmedEnd();
    while (i < end) {
      const p = this.paint[i];
      let j = i;
      let run = "";
      while (j < end && this.paint[j] === p) run += this.chars[j++];
      out += p === undefined || run.trim() === "" ? run : p(run);
      i = j;
    }
    return out;
  }

  private trimmedEnd(): number {
    let end = this.chars.length;
    while (end > 0 && this.chars[end - 1] === " ") end--;
    return end;
  }
}

export interface Layout {
  header: string[];
  lines: string[];
}

export function layoutRows(rows: readonly Row[], hosts: readonly NarrateHost[], style: Style): Layout {
  const n = hosts.length;
  const timeWidth = Math.max(4, ...rows.map((r) => formatTime(r.time).length));
  const cellWidth = Math.max(STATE_WIDTH, ...hosts.map((h) => h.name.length)) + 1;
  let gap = MIN_GAP;
  for (const r of rows) {
    if (r.arrow === undefined) continue;
    gap = Math.max(gap, r.arrow.label.length + 10);
    // A lost arrow keeps its reason beside the X.
    if (r.arrow.lost) gap = Math.max(gap, r.arrow.label.length + 12 + r.notes.map((n) => n.text).join("; ").length);
  }
  const colX = hosts.map((_, i) => timeWidth + 2 + i * (cellWidth + gap));
  const right = colX[n - 1]! + cellWidth;
  const tone = (t: Tone): Painter => toneStyle(style, t);

  const header: string[] = [];
  const names = new Canvas();
  names.put(0, "time".padStart(timeWidth), style.dim);
  hosts.forEach((h, i) => names.put(colX[i]! + 1, h.name, style.heading));
  header.push(names.render());

  const lines: string[] = [];
  for (const row of rows) {
    const time = formatTime(row.time).padStart(timeWidth);
    if (row.block !== undefined) {
      // Prose (summaries, notes) wraps at the diagram's width; tables keep their lines.
      const prose = row.block.tone === "info";
      const width = Math.max(60, right - colX[0]!);
      let first = true;
      for (const text of row.block.lines.flatMap((l) => (prose ? wrapText(l, width) : [l]))) {
        const c = new Canvas();
        if (first || !prose) c.put(0, time, style.dim);
        c.put(colX[0]! + (first || !prose ? 0 : 4), text, tone(row.block.tone));
        lines.push(c.render());
        first = false;
      }
      continue;
    }
    const c = new Canvas();
    c.put(0, time, style.dim);
    row.states.forEach((s, i) => {
      if (row.changed[i]) c.put(colX[i]!, `[${s}]`, style.stateChanged);
      else c.put(colX[i]! + 1, s, style.stateSame);
    });
    const noteText = row.notes.map((x) => x.text).join("; ");
    const notePainter = tone(row.notes[0]?.tone ?? "info");
    let noteAt: number | undefined;
    if (row.arrow !== undefined) {
      noteAt = drawArrow(c, row.arrow, colX, cellWidth, gap, n, noteText.length, style);
    } else if (noteText.length > 0) {
      noteAt = placeNote(row.col, colX, cellWidth, gap, n, noteText.length);
    }
    if (noteText.length > 0) {
      // A note too long for its gap goes to the end of the line, naming its host.
      if (noteAt === undefined && row.col >= 0) c.put(Math.max(right, c.width) + 2, `${hosts[row.col]!.name}: ${noteText}`, notePainter);
      else c.put(noteAt ?? Math.max(right, c.width) + 2, noteText, notePainter);
    }
    lines.push(c.render());
    if (row.explain !== undefined) {
      const e = new Canvas();
      e.put(colX[0]! + 1, `why: ${row.explain}`, style.dim);
      lines.push(e.render());
    }
  }
  return { header, lines };
}

/** Where a note of column `col` fits inside the neighbouring gap, or undefined (end of line). */
function placeNote(col: number, colX: readonly number[], cellWidth: number, gap: number, n: number, length: number): number | undefined {
  if (length > gap - 3) return undefined;
  if (col < n - 1 || n === 1) return colX[col]! + cellWidth + 2;
  return colX[col]! - 2 - length;
}

/** Draws an arrow; returns where its notes fit (beside a lost arrow's X), if they do. */
function drawArrow(c: Canvas, a: Arrow, colX: readonly number[], cellWidth: number, gap: number, n: number, noteLength: number, style: Style): number | undefined {
  // Segments to an address no column has point away from the sender, towards the nearer edge.
  const to = a.to ?? (a.from < n - 1 || n === 1 ? n : -1);
  const rightwards = to > a.from;
  const left = rightwards ? a.from : to;
  const rightCol = rightwards ? to : a.from;
  const start = left < 0 ? Math.max(0, colX[0]! - gap) : colX[left]! + cellWidth;
  const end = rightCol >= n ? colX[n - 1]! + cellWidth + gap : colX[rightCol]!;
  // One blank before the next cell.
  const width = end - start - 1;
  const painter = a.lost ? style.lost : style.arrow;
  // A lost arrow stops about 60% of the way; shorter if that leaves its note room beside it.
  const lostWidth = (body: string): number => {
    const w = Math.min(width, Math.max(body.length + 3, Math.floor(width * 0.6)));
    const room = width - noteLength - 2;
    return noteLength > 0 && w > room ? Math.max(body.length + 3, room) : w;
  };
  if (rightwards) {
    const body = `-- ${a.label} `;
    if (!a.lost) {
      c.put(start, body + "-".repeat(Math.max(1, width - body.length - 1)) + ">", painter);
      return undefined;
    }
    const w = lostWidth(body);
    c.put(start, body + "-".repeat(Math.max(1, w - body.length - 1)) + "X", painter);
    const noteAt = start + w + 2;
    return noteAt + noteLength <= end ? noteAt : undefined;
  }
  const body = ` ${a.label} --`;
  if (!a.lost) {
    c.put(start, "<" + "-".repeat(Math.max(1, width - body.length - 1)) + body, painter);
    return undefined;
  }
  const w = lostWidth(body);
  const x = start + width - w;
  c.put(x, "X" + "-".repeat(Math.max(1, w - body.length - 1)) + body, painter);
  const noteAt = x - 2 - noteLength;
  return noteAt >= start ? noteAt : undefined;
}

function toneStyle(style: Style, t: Tone): Painter {
  switch (t) {
    case "app":
      return style.app;
    case "timer":
      return style.timer;
    case "drop":
      return style.drop;
    case "error":
      return style.error;
    case "info":
      return style.dim;
  }
}

/** Word-wraps one line of prose; continuation lines are 4 columns narrower (indented). */
function wrapText(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const limit = out.length === 0 ? width : width - 4;
    if (line.length > 0 && line.length + 1 + word.length > limit) {
      out.push(line);
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  out.push(line);
  return out;
}
