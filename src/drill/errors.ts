/**
 * Errors of the drill runner. A script that does not parse is the script author's
 * mistake (exit 2); a script whose expectations synack does not meet is a failure (exit
 * 1); a script that needs a feature synack lacks is unsupported, never a pass or a crash.
 */

/** Where in a script something is: 1-based line and column. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export function formatPos(p: SourcePos): string {
  return `${p.file}:${p.line}:${p.column}`;
}

/** The script does not follow the grammar. `code` is stable for programs to switch on. */
export class DrillSyntaxError extends Error {
  readonly code = "EDRILLSYNTAX";
  constructor(
    readonly detail: string,
    readonly pos: SourcePos,
  ) {
    super(`${formatPos(pos)}: ${detail}`);
    this.name = "DrillSyntaxError";
  }
}

/**
 * The script asks for something synack does not have (a socket option, a sysctl, a system
 * call, a TCP feature). `feature` names it in a few words, for the summary and CONFORMANCE.md.
 */
export class DrillUnsupportedError extends Error {
  readonly code = "EDRILLUNSUPPORTED";
  constructor(
    readonly feature: string,
    readonly pos: SourcePos | undefined,
  ) {
    super(`unsupported: ${feature}`);
    this.name = "DrillUnsupportedError";
  }
}

/** An expectation of the script did not hold: the packet, the call result, the assertion. */
export class DrillFailure extends Error {
  readonly code = "EDRILLFAIL";
  constructor(
    message: string,
    readonly pos: SourcePos,
    /** Extra lines: expected and actual, in packetdrill syntax. */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = "DrillFailure";
  }
}
