/**
 * The Python subset packetdrill scripts write in `%{ ... }%` blocks: assertions over a
 * TCP_INFO snapshot (`assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd`), prints, and variables
 * kept across blocks (`cwnd = 58` ... `cwnd += 1`). Not a Python interpreter: statements
 * are `assert e[, msg]`, `print(e, ...)`, `name = e`, `name op= e` and `pass`, separated
 * by newlines or `;`; expressions have integers (decimal, hex), strings, names, `%`
 * formatting, arithmetic, bitwise and shift operators, comparisons (chained), `and`, `or`,
 * `not`, parentheses, and the calls `min`, `max`, `abs`, `int`, `hex`, `len`, `str`.
 * Anything else is a clear error, never a silent pass.
 */

export type PyValue = number | string | boolean | null;

/** An `assert` that did not hold; `message` is the assertion's message text, as Python prints it. */
export class PyAssertionError extends Error {
  constructor(
    readonly source: string,
    readonly detail: string,
  ) {
    super(detail === "" ? `assert ${source}` : `assert ${source}: ${detail}`);
    this.name = "PyAssertionError";
  }
}

/** The block is outside the subset or refers to an unknown name. */
export class PyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PyError";
  }
}

interface Tok {
  kind: "num" | "str" | "name" | "op" | "end";
  text: string;
  value?: number;
}

const OPS = ["**", "//", "<<", ">>", "<=", ">=", "==", "!=", "+=", "-=", "*=", "|=", "&=", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "~", "(", ")", ",", "=", "[", "]"];

function lexLine(line: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "#") break;
    const hex = /^0[xX][0-9a-fA-F]+/.exec(line.slice(i));
    const num = hex ?? /^\d+(\.\d+)?/.exec(line.slice(i));
    if (num) {
      out.push({ kind: "num", text: num[0], value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(line.slice(i));
    if (name) {
      out.push({ kind: "name", text: name[0] });
      i += name[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new PyError(`unterminated string in: ${line.trim()}`);
      out.push({ kind: "str", text: line.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const op = OPS.find((o) => line.startsWith(o, i));
    if (op === undefined) throw new PyError(`unexpected '${c}' in: ${line.trim()}`);
    out.push({ kind: "op", text: op });
    i += op.length;
  }
  out.push({ kind: "end", text: "" });
  return out;
}

/** Splits a block into statements: newlines (with `\` continuations and open brackets) and `;`. */
function statements(block: string): string[] {
  const joined = block.replace(/\\\r?\n/g, " ");
  const result: string[] = [];
  let current = "";
  let depth = 0;
  let quote: string | undefined;
  let inComment = false;
  for (const ch of joined) {
    if (inComment && ch !== "\n") continue;
    inComment = false;
    if (quote !== undefined) {
      current += ch;
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    if (ch === "#") {
      inComment = true; // up to the newline
      continue;
    }
    if (ch === "(" || ch === "[") depth++;
    if (ch === ")" || ch === "]") depth--;
    if ((ch === "\n" && depth <= 0) || ch === ";") {
      if (current.trim() !== "") result.push(current.trim());
      current = "";
      continue;
    }
    current += ch === "\n" ? " " : ch;
  }
  if (current.trim() !== "") result.push(current.trim());
  return result;
}

/**
 * Runs `block` with `scope` (read and written: variables persist across blocks).
 * Printed lines go to `print`. Throws PyAssertionError or PyError.
 */
export function runPython(block: string, scope: Map<string, PyValue>, print: (line: string) => void): void {
  for (const stmt of statements(block)) new Statement(stmt, scope, print).run();
}

class Statement {
  private toks: Tok[];
  private i = 0;
  constructor(
    private readonly source: string,
    private readonly scope: Map<string, PyValue>,
    private readonly print: (line: string) => void,
  ) {
    this.toks = lexLine(source);
  }

  private get tok(): Tok {
    return this.toks[this.i]!;
  }
  private isOp(text: string): boolean {
    return this.tok.kind === "op" && this.tok.text === text;
  }
  private isName(text: string): boolean {
    return this.tok.kind === "name" && this.tok.text === text;
  }
  private expectOp(text: string): void {
    if (!this.isOp(text)) throw new PyError(`expected '${text}' in: ${this.source}`);
    this.i++;
  }
  private done(): void {
    if (this.tok.kind !== "end") throw new PyError(`unexpected '${this.tok.text}' in: ${this.source}`);
  }

  run(): void {
    if (this.isName("pass")) return;
    if (this.isName("assert")) {
      this.i++;
      const start = this.i;
      const cond = this.expr();
      const condText = this.toks
        .slice(start, this.i)
        .map((t) => (t.kind === "str" ? `'${t.text}'` : t.text))
        .join(" ");
      let detail = "";
      if (this.isOp(",")) {
        this.i++;
        detail = str(this.expr());
      }
      this.done();
      if (!truthy(cond)) throw new PyAssertionError(condText, detail);
      return;
    }
    if (this.isName("print")) {
      this.i++;
      this.expectOp("(");
      const parts: string[] = [];
      while (!this.isOp(")")) {
        parts.push(str(this.expr()));
        if (this.isOp(",")) this.i++;
        else break;
      }
      this.expectOp(")");
      this.done();
      this.print(parts.join(" "));
      return;
    }
    if (this.tok.kind === "name" && this.toks[this.i + 1]?.kind === "op") {
      const name = this.tok.text;
      const op = this.toks[this.i + 1]!.text;
      if (op === "=" || (op.length === 2 && op.endsWith("=") && "+-*|&".includes(op[0]!))) {
        this.i += 2;
        const value = this.expr();
        this.done();
        this.scope.set(name, op === "=" ? value : binary(op[0]!, this.lookup(name), value));
        return;
      }
    }
    this.expr();
    this.done();
  }

  private lookup(name: string): PyValue {
    const v = this.scope.get(name);
    if (v === undefined) throw new PyError(`name '${name}' is not defined`);
    return v;
  }

  private expr(): PyValue {
    return this.or();
  }
  private or(): PyValue {
    let v = this.and();
    while (this.isName("or")) {
      this.i++;
      const r = this.and();
      v = truthy(v) ? v : r;
    }
    return v;
  }
  private and(): PyValue {
    let v = this.not();
    while (this.isName("and")) {
      this.i++;
      const r = this.not();
      v = truthy(v) ? r : v;
    }
    return v;
  }
  private not(): PyValue {
    if (this.isName("not")) {
      this.i++;
      return !truthy(this.not());
    }
    return this.comparison();
  }
  /** Chained comparisons: `a <= b <= c` is `a <= b and b <= c`. */
  private comparison(): PyValue {
    let left = this.bitOr();
    let result: PyValue = null;
    for (;;) {
      const t = this.tok;
      const op = t.kind === "op" && ["<", ">", "<=", ">=", "==", "!="].includes(t.text) ? t.text : undefined;
      if (op === undefined) break;
      this.i++;
      const right = this.bitOr();
      const holds = compare(op, left, right);
      result = result === null ? holds : result && holds;
      left = right;
    }
    return result === null ? left : result;
  }
  private bitOr(): PyValue {
    let v = this.bitXor();
    while (this.isOp("|")) {
      this.i++;
      v = binary("|", v, this.bitXor());
    }
    return v;
  }
  private bitXor(): PyValue {
    let v = this.bitAnd();
    while (this.isOp("^")) {
      this.i++;
      v = binary("^", v, this.bitAnd());
    }
    return v;
  }
  private bitAnd(): PyValue {
    let v = this.shift();
    while (this.isOp("&")) {
      this.i++;
      v = binary("&", v, this.shift());
    }
    return v;
  }
  private shift(): PyValue {
    let v = this.sum();
    while (this.isOp("<<") || this.isOp(">>")) {
      const op = this.toks[this.i++]!.text;
      v = binary(op, v, this.sum());
    }
    return v;
  }
  private sum(): PyValue {
    let v = this.term();
    while (this.isOp("+") || this.isOp("-")) {
      const op = this.toks[this.i++]!.text;
      v = binary(op, v, this.term());
    }
    return v;
  }
  private term(): PyValue {
    let v = this.unary();
    while (this.isOp("*") || this.isOp("/") || this.isOp("//") || this.isOp("%")) {
      const op = this.toks[this.i++]!.text;
      v = binary(op, v, this.unary());
    }
    return v;
  }
  private unary(): PyValue {
    if (this.isOp("-")) {
      this.i++;
      return -num(this.unary());
    }
    if (this.isOp("+")) {
      this.i++;
      return num(this.unary());
    }
    if (this.isOp("~")) {
      this.i++;
      return ~num(this.unary());
    }
    return this.power();
  }
  private power(): PyValue {
    const base = this.atom();
    if (this.isOp("**")) {
      this.i++;
      return num(base) ** num(this.unary());
    }
    return base;
  }
  private atom(): PyValue {
    const t = this.tok;
    this.i++;
    if (t.kind === "num") return t.value!;
    if (t.kind === "str") return t.text;
    if (t.kind === "op" && t.text === "(") {
      const items = [this.expr()];
      while (this.isOp(",")) {
        this.i++;
        if (this.isOp(")")) break;
        items.push(this.expr());
      }
      this.expectOp(")");
      if (items.length > 1) throw new PyError(`tuples are outside the supported subset: ${this.source}`);
      return items[0]!;
    }
    if (t.kind === "name") {
      if (t.text === "True") return true;
      if (t.text === "False") return false;
      if (t.text === "None") return null;
      if (this.isOp("(")) return this.call(t.text);
      return this.lookup(t.text);
    }
    throw new PyError(`unexpected '${t.text || "end of line"}' in: ${this.source}`);
  }
  private call(name: string): PyValue {
    this.expectOp("(");
    const args: PyValue[] = [];
    while (!this.isOp(")")) {
      args.push(this.expr());
      if (this.isOp(",")) this.i++;
      else break;
    }
    this.expectOp(")");
    switch (name) {
      case "min":
        return Math.min(...args.map(num));
      case "max":
        return Math.max(...args.map(num));
      case "abs":
        return Math.abs(num(args[0] ?? null));
      case "int":
        return Math.trunc(num(args[0] ?? null));
      case "hex": {
        const n = num(args[0] ?? null);
        return (n < 0 ? "-0x" : "0x") + Math.abs(n).toString(16);
      }
      case "str":
        return str(args[0] ?? null);
      case "len":
        return str(args[0] ?? null).length;
      default:
        throw new PyError(`function '${name}' is outside the supported subset`);
    }
  }
}

function truthy(v: PyValue): boolean {
  return v !== null && v !== false && v !== 0 && v !== "";
}

function num(v: PyValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new PyError(`expected a number, got ${repr(v)}`);
}

function str(v: PyValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  return String(v);
}

function repr(v: PyValue): string {
  return typeof v === "string" ? `'${v}'` : str(v);
}

function compare(op: string, a: PyValue, b: PyValue): boolean {
  if (op === "==") return a === b || (typeof a !== "string" && typeof b !== "string" && a !== null && b !== null && num(a) === num(b));
  if (op === "!=") return !compare("==", a, b);
  const x = typeof a === "string" && typeof b === "string" ? a : num(a);
  const y = typeof a === "string" && typeof b === "string" ? b : num(b);
  switch (op) {
    case "<":
      return x < y;
    case ">":
      return x > y;
    case "<=":
      return x <= y;
    default:
      return x >= y;
  }
}

function binary(op: string, a: PyValue, b: PyValue): PyValue {
  if (op === "%" && typeof a === "string") return format(a, b);
  if (op === "+" && typeof a === "string" && typeof b === "string") return a + b;
  const x = num(a);
  const y = num(b);
  // Python integers are unbounded; BigInt keeps bitwise results right above 2^31.
  const big = (f: (p: bigint, q: bigint) => bigint) => Number(f(BigInt(Math.trunc(x)), BigInt(Math.trunc(y))));
  switch (op) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      return x * y;
    case "/":
      if (y === 0) throw new PyError("division by zero");
      return x / y;
    case "//":
      if (y === 0) throw new PyError("division by zero");
      return Math.floor(x / y);
    case "%":
      if (y === 0) throw new PyError("modulo by zero");
      return ((x % y) + y) % y;
    case "&":
      return big((p, q) => p & q);
    case "|":
      return big((p, q) => p | q);
    case "^":
      return big((p, q) => p ^ q);
    case "<<":
      return big((p, q) => p << q);
    case ">>":
      return big((p, q) => p >> q);
    default:
      throw new PyError(`operator '${op}' is outside the supported subset`);
  }
}

/** `'%d' % x`, `'%s=%u' % (a, b)` with one value; %d %i %u %s %x %r %%. */
function format(template: string, value: PyValue): string {
  let used = false;
  const out = template.replace(/%[-0-9.]*([diusxXr%])/g, (_m, conv: string) => {
    if (conv === "%") return "%";
    if (used) throw new PyError(`'${template}' needs more than one value; tuples are outside the supported subset`);
    used = true;
    switch (conv) {
      case "s":
        return str(value);
      case "r":
        return repr(value);
      case "x":
        return Math.trunc(num(value)).toString(16);
      case "X":
        return Math.trunc(num(value)).toString(16).toUpperCase();
      default:
        return String(Math.trunc(num(value)));
    }
  });
  if (!used) throw new PyError(`not all arguments converted during string formatting: '${template}'`);
  return out;
}
