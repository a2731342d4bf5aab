/**
 * Tokens of a packetdrill script (the grammar is in the corpus's `syntax.md`).
 *
 * The language is token-based rather than line-based: an event starts with a time and
 * ends where the next time begins. Three tokens carry raw text: backquoted shell
 * commands, `%{ ... }%` Python blocks, and `--name=value` options. Numbers keep their
 * source text, because `+.1` and `0.100...0.200` must be told apart from field syntax
 * such as `1:1001(1000)`.
 */
import { DrillSyntaxError, type SourcePos } from "./errors.js";
import { showChar } from "../show-value.js";

export type TokenKind =
  | "int" // 123, 0x1f
  | "float" // 0.1, .1, 1.5
  | "word" // identifiers, flag letters, errno names
  | "string" // "..." with C escapes resolved
  | "command" // `...` (raw text between the backquotes)
  | "code" // %{ ... }% (raw text between the markers)
  | "option" // --name or --name=value at the start of a script
  | "ellipsis" // ...
  | "punct" // one of + * ~ < > ( ) [ ] { } , : = | . -
  | "eof";

export interface Token {
  kind: TokenKind;
  text: string;
  /** For int tokens: the value (may exceed 2^31; sequence numbers reach 2^32 - 1). */
  value?: number;
  pos: SourcePos;
  /** Source offsets [start, end): tells adjacent tokens ("3021b9d8" lexes as 3021, b9d8) from spaced ones. */
  start: number;
  end: number;
}

const PUNCT = "+*~<>()[]{},:=|.-";

/** Splits `source` into tokens. `defines` (-D NAME=VALUE) replace whole words, as packetdrill's lexer does. */
export function tokenize(source: string, file: string, defines: ReadonlyMap<string, string> = new Map()): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (at: number): SourcePos => ({ file, line, column: at - lineStart + 1 });
  const fail = (at: number, message: string): never => {
    throw new DrillSyntaxError(message, pos(at));
  };
  const advanceLines = (from: number, to: number) => {
    for (let k = from; k < to; k++) {
      if (source.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
    }
  };

  while (i < source.length) {
    const c = source[i]!;
    if (c === "\n" || c === " " || c === "\t" || c === "\r") {
      if (c === "\n") {
        line++;
        lineStart = i + 1;
      }
      i++;
      continue;
    }
    // Comments: // to end of line, /* ... */.
    if (c === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end < 0) fail(i, "unterminated /* comment");
      advanceLines(i, end + 2);
      i = end + 2;
      continue;
    }
    const start = pos(i);
    if (c === "`") {
      const end = source.indexOf("`", i + 1);
      if (end < 0) fail(i, "unterminated backquoted command");
      tokens.push({ kind: "command", text: source.slice(i + 1, end), pos: start, start: i, end: end + 1 });
      advanceLines(i, end + 1);
      i = end + 1;
      continue;
    }
    if (c === "%" && source[i + 1] === "{") {
      const end = source.indexOf("}%", i + 2);
      if (end < 0) fail(i, "unterminated %{ ... }% block");
      tokens.push({ kind: "code", text: source.slice(i + 2, end), pos: start, start: i, end: end + 2 });
      advanceLines(i, end + 2);
      i = end + 2;
      continue;
    }
    if (c === "-" && source[i + 1] === "-" && /[A-Za-z_]/.test(source[i + 2] ?? "")) {
      let j = i + 2;
      while (j < source.length && !/\s/.test(source[j]!)) j++;
      tokens.push({ kind: "option", text: source.slice(i + 2, j), pos: start, start: i, end: j });
      i = j;
      continue;
    }
    if (c === '"') {
      const { text, end } = readString(source, i, () => fail(i, "unterminated string"));
      tokens.push({ kind: "string", text, pos: start, start: i, end });
      i = end;
      continue;
    }
    if (c === "." && source[i + 1] === "." && source[i + 2] === ".") {
      tokens.push({ kind: "ellipsis", text: "...", pos: start, start: i, end: i + 3 });
      i += 3;
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(source[i + 1] ?? ""))) {
      const { token, end } = readNumber(source, i, start);
      tokens.push(token);
      i = end;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < source.length && /[A-Za-z0-9_]/.test(source[j]!)) j++;
      const word = source.slice(i, j);
      const replacement = defines.get(word);
      if (replacement !== undefined) {
        // Offsets inside the replacement are kept so its hex digits stay one blob ("3021b9d8...").
        for (const t of tokenize(replacement, file)) if (t.kind !== "eof") tokens.push({ ...t, pos: start, start: i + t.start, end: i + t.end });
      } else {
        tokens.push({ kind: "word", text: word, pos: start, start: i, end: j });
      }
      i = j;
      continue;
    }
    if (PUNCT.includes(c)) {
      tokens.push({ kind: "punct", text: c, pos: start, start: i, end: i + 1 });
      i++;
      continue;
    }
    fail(i, `unexpected character ${showChar(c)}`);
  }
  tokens.push({ kind: "eof", text: "", pos: pos(i), start: i, end: i });
  return tokens;
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function readNumber(source: string, i: number, pos: SourcePos): { token: Token; end: number } {
  if (source[i] === "0" && (source[i + 1] === "x" || source[i + 1] === "X")) {
    let j = i + 2;
    while (j < source.length && /[0-9a-fA-F]/.test(source[j]!)) j++;
    const text = source.slice(i, j);
    return { token: { kind: "int", text, value: Number.parseInt(text.slice(2), 16), pos, start: i, end: j }, end: j };
  }
  let j = i;
  while (j < source.length && isDigit(source[j]!)) j++;
  // A fraction only when the dot is followed by a digit: "0.100...0.200" and "1.5" are
  // floats, but "1001(" and "0...0.2" keep the dot for the next token.
  if (source[j] === "." && isDigit(source[j + 1] ?? "")) {
    j++;
    while (j < source.length && isDigit(source[j]!)) j++;
    return { token: { kind: "float", text: source.slice(i, j), pos, start: i, end: j }, end: j };
  }
  const text = source.slice(i, j);
  return { token: { kind: "int", text, value: Number(text), pos, start: i, end: j }, end: j };
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'" };

function readString(source: string, i: number, unterminated: () => never): { text: string; end: number } {
  let out = "";
  let j = i + 1;
  for (;;) {
    if (j >= source.length || source[j] === "\n") unterminated();
    const c = source[j]!;
    if (c === '"') return { text: out, end: j + 1 };
    if (c === "\\") {
      const n = source[j + 1] ?? "";
      if (n === "x") {
        const hex = /^[0-9a-fA-F]{1,2}/.exec(source.slice(j + 2))?.[0] ?? "";
        out += String.fromCharCode(Number.parseInt(hex || "0", 16));
        j += 2 + hex.length;
        continue;
      }
      out += ESCAPES[n] ?? n;
      j += 2;
      continue;
    }
    out += c;
    j++;
  }
}
