/**
 * Colours for terminal views. The views never decide whether to colour: the caller (the
 * CLI, looking at isTTY and NO_COLOR) passes `ansiStyle` or `plainStyle`, so the renderers
 * stay runtime-neutral and their plain output is stable enough for golden files.
 */
export interface Style {
  readonly color: boolean;
  /** A state that just changed. */
  stateChanged(s: string): string;
  /** A state that did not change on this row. */
  stateSame(s: string): string;
  /** A segment arrow travelling left to right / right to left, and one that was lost. */
  arrow(s: string): string;
  lost(s: string): string;
  /** Notes: application calls, timers, drops and errors, explanations, headings. */
  app(s: string): string;
  timer(s: string): string;
  drop(s: string): string;
  error(s: string): string;
  dim(s: string): string;
  heading(s: string): string;
  ok(s: string): string;
}

const identity = (s: string): string => s;

export const plainStyle: Style = {
  color: false,
  stateChanged: identity,
  stateSame: identity,
  arrow: identity,
  lost: identity,
  app: identity,
  timer: identity,
  drop: identity,
  error: identity,
  dim: identity,
  heading: identity,
  ok: identity,
};

const sgr = (code: string) => (s: string): string => (s.length === 0 ? s : `\x1b[${code}m${s}\x1b[0m`);

export const ansiStyle: Style = {
  color: true,
  stateChanged: sgr("1;32"),
  stateSame: sgr("2"),
  arrow: sgr("36"),
  lost: sgr("31"),
  app: sgr("35"),
  timer: sgr("33"),
  drop: sgr("31"),
  error: sgr("1;31"),
  dim: sgr("2"),
  heading: sgr("1"),
  ok: sgr("32"),
};

export function styleFor(color: boolean): Style {
  return color ? ansiStyle : plainStyle;
}
