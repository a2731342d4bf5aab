/**
 * A JSON parser that remembers where each value starts, so an error in a scenario file can
 * name its line and column as well as its path ("script[2].port, line 14 column 23").
 * JSON.parse cannot say where a value came from, and its syntax errors give only an offset.
 */
import { showChar } from "../show-value.js";

export interface Position {
  line: number;
  column: number;
}

export type Located = { ok: true; value: unknown; positions: Map<string, Position> } | { ok: false; message: string; position: Position };

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Parses `text`; positions are keyed by path ("" for the root, "hosts[0].name"). */
export function parseJsonLocated(text: string): Located {
  const positions = new Map<string, Position>();
  const p = new Parser(text, positions);
  try {
    p.skip();
    const value = p.value("");
    p.skip();
    if (p.i < text.length) throw new JsonSyntaxError("unexpected text after the JSON value", p.i);
    return { ok: true, value, positions };
  } catch (e) {
    if (e instanceof JsonSyntaxError) return { ok: false, message: e.message, position: positionOf(text, e.offset) };
    throw e;
  }
}

export function positionOf(text: string, offset: number): Position {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      column = 1;
    } else {
      column++;
    }
  }
  return { line, column };
}

export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

class Parser {
  i = 0;
  constructor(
    private readonly s: string,
    private readonly positions: Map<string, Position>,
  ) {}

  skip(): void {
    while (this.i < this.s.length && " \t\r\n".includes(this.s[this.i]!)) this.i++;
  }

  private fail(message: string): never {
    throw new JsonSyntaxError(message, this.i);
  }

  private describeHere(): string {
    return this.i >= this.s.length ? "the end of the file" : showChar(String.fromCodePoint(this.s.codePointAt(this.i)!));
  }

  value(path: string): unknown {
    this.positions.set(path, positionOf(this.s, this.i));
    const c = this.s[this.i];
    if (c === "{") return this.object(path);
    if (c === "[") return this.array(path);
    if (c === '"') return this.string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail(`expected a value, found ${this.describeHere()}`);
  }

  private object(path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    this.skip();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      this.skip();
      if (this.s[this.i] !== '"') this.fail(`expected a property name in double quotes, found ${this.describeHere()}`);
      const key = this.string();
      this.skip();
      if (this.s[this.i] !== ":") this.fail(`expected ':' after "${key}", found ${this.describeHere()}`);
      this.i++;
      this.skip();
      out[key] = this.value(childPath(path, key));
      this.skip();
      const c = this.s[this.i];
      this.i++;
      if (c === "}") return out;
      if (c !== ",") {
        this.i--;
        this.fail(`expected ',' or '}' after a property, found ${this.describeHere()}`);
      }
    }
  }

  private array(path: string): unknown[] {
    const out: unknown[] = [];
    this.i++;
    this.skip();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      this.skip();
      out.push(this.value(childPath(path, out.length)));
      this.skip();
      const c = this.s[this.i];
      this.i++;
      if (c === "]") return out;
      if (c !== ",") {
        this.i--;
        this.fail(`expected ',' or ']' in a list, found ${this.describeHere()}`);
      }
    }
  }

  private string(): string {
    const start = this.i;
    this.i++;
    let out = "";
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) {
        this.i = start;
        this.fail("unterminated string");
      }
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === "\\") {
        const e = this.s[this.i + 1];
        const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(this.s.slice(this.i + 2, this.i + 6), 16));
          this.i += 6;
        } else {
          this.fail("invalid escape in string");
        }
        continue;
      }
      if (c < " ") this.fail("control character in string (use \\n)");
      out += c;
      this.i++;
    }
  }

  private number(): number {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 64));
    if (m === null) this.fail("invalid number");
    this.i += m[0].length;
    return Number(m[0]);
  }
}
