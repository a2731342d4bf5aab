/**
 * The packetdrill grammar (the corpus's `syntax.md`, from packetdrill's `parser.y`), as a
 * recursive-descent parser over the tokens of lexer.ts. Every error names file, line and
 * column. The parser knows nothing of synack: it produces the AST of ast.ts, and the
 * runner decides what it can execute.
 */
import type {
  Action,
  Command,
  DrillEvent,
  EventTime,
  Expr,
  IcmpPacketSpec,
  IpInfo,
  Script,
  ScriptOption,
  SeqSpec,
  SyscallSpec,
  TcpOptionSpec,
  TcpPacketSpec,
  UdpPacketSpec,
  Usecs,
} from "./ast.js";
import { DrillSyntaxError, type SourcePos } from "./errors.js";
import { tokenize, type Token } from "./lexer.js";
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG } from "../wire/tcp.js";

/** Flag letters as packetdrill writes them (`W` is CWR, `E` is ECE). */
const FLAG_BITS: Record<string, number> = { S: SYN, F: FIN, R: RST, P: PSH, U: URG, E: ECE, W: CWR, ".": ACK };

export function parseScript(source: string, file: string, defines: ReadonlyMap<string, string> = new Map()): Script {
  return new Parser(tokenize(source, file, defines)).script(file);
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  // --- token helpers -------------------------------------------------------------------

  private get tok(): Token {
    return this.tokens[this.i]!;
  }
  private peek(n = 1): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.tok;
    if (t.kind !== "eof") this.i++;
    return t;
  }
  private isPunct(text: string, t = this.tok): boolean {
    return t.kind === "punct" && t.text === text;
  }
  private isWord(text: string, t = this.tok): boolean {
    return t.kind === "word" && t.text === text;
  }
  private fail(message: string, t = this.tok): never {
    const found = t.kind === "eof" ? "end of script" : `'${t.text}'`;
    throw new DrillSyntaxError(`${message}, found ${found}`, t.pos);
  }
  private expectPunct(text: string): Token {
    if (!this.isPunct(text)) this.fail(`expected '${text}'`);
    return this.next();
  }
  private expectWord(text: string): Token {
    if (!this.isWord(text)) this.fail(`expected '${text}'`);
    return this.next();
  }
  private integer(what: string): number {
    const t = this.tok;
    if (t.kind !== "int") this.fail(`expected ${what} (an integer)`);
    this.next();
    return t.value!;
  }

  /** An integer for a header field of `bits` bits (packetdrill: "TCP window value out of range"). */
  private field(what: string, bits: 16 | 32): number {
    const at = this.tok.pos;
    const v = this.integer(what);
    const max = bits === 16 ? 0xffff : 0xffffffff;
    if (v < 0 || v > max) throw new DrillSyntaxError(`${what} must be 0 to ${max} (a ${bits}-bit field), got ${v}`, at);
    return v;
  }

  // --- script --------------------------------------------------------------------------

  script(file: string): Script {
    const options: ScriptOption[] = [];
    while (this.tok.kind === "option") {
      const t = this.next();
      const eq = t.text.indexOf("=");
      options.push(eq < 0 ? { name: t.text, value: undefined, pos: t.pos } : { name: t.text.slice(0, eq), value: t.text.slice(eq + 1), pos: t.pos });
    }
    let initCommand: Command | undefined;
    if (this.tok.kind === "command") {
      const t = this.next();
      initCommand = { text: t.text, pos: t.pos };
    }
    const events: DrillEvent[] = [];
    let cleanupCommand: Command | undefined;
    while (this.tok.kind !== "eof") {
      if (this.tok.kind === "command" && this.peek().kind === "eof") {
        const t = this.next();
        cleanupCommand = { text: t.text, pos: t.pos };
        break;
      }
      events.push(this.event());
    }
    if (events.length === 0 && initCommand === undefined) this.fail("expected an event");
    return { file, options, initCommand, events, cleanupCommand };
  }

  private event(): DrillEvent {
    const pos = this.tok.pos;
    const time = this.eventTime();
    return { pos, time, action: this.action() };
  }

  /** `0.1`, `+0.1`, `*`, `0.1~0.2`, `+0.1~+0.2`. */
  private eventTime(): EventTime {
    if (this.isPunct("*")) {
      this.next();
      return { kind: "any" };
    }
    const relative = this.isPunct("+");
    if (relative) this.next();
    const at = this.time();
    if (this.isPunct("~")) {
      this.next();
      if (relative) this.expectPunct("+");
      else if (this.isPunct("+")) this.fail("a range starting at an absolute time must end at one");
      const to = this.time();
      if (to < at) this.fail("the end of a time range is before its start");
      return { kind: "range", relative, from: at, to };
    }
    return relative ? { kind: "relative", offset: at } : { kind: "absolute", at };
  }

  /** Seconds as written (`.1`, `0.100`, `2`) to integer microseconds. */
  private time(): Usecs {
    const t = this.tok;
    if (t.kind !== "int" && t.kind !== "float") this.fail("expected a time in seconds");
    this.next();
    return secondsToUsecs(t.text);
  }

  private action(): Action {
    const t = this.tok;
    if (this.isPunct("<") || this.isPunct(">")) return this.packet();
    if (t.kind === "command") {
      this.next();
      return { type: "command", text: t.text };
    }
    if (t.kind === "code") {
      this.next();
      return { type: "code", text: t.text };
    }
    if (t.kind === "ellipsis" || (t.kind === "word" && this.isPunct("(", this.peek()))) return this.syscall();
    return this.fail("expected a packet, a system call, a `command` or a %{ }% block");
  }

  // --- packets -------------------------------------------------------------------------

  private packet(): TcpPacketSpec | UdpPacketSpec | IcmpPacketSpec {
    const direction = this.next().text === "<" ? "in" : "out";
    const ip = this.ipInfo();
    if (this.isWord("udp")) {
      this.next();
      this.portInfo();
      this.expectPunct("(");
      const len = this.integer("the UDP payload length");
      this.expectPunct(")");
      return { type: "udp", direction, ip, len };
    }
    if (this.isWord("icmp")) return this.icmp(direction, ip);
    this.portInfo();
    const flagTok = this.tok;
    let flagText = "";
    if (flagTok.kind === "word") {
      flagText = this.next().text;
      if (this.isPunct(".") && this.tok.start === flagTok.end) flagText += this.next().text;
    } else if (this.isPunct(".") || this.isPunct("-")) {
      flagText = this.next().text;
    } else {
      this.fail("expected TCP flags (S, ., P., F., R, -, ...)");
    }
    let flags = 0;
    for (const ch of flagText === "-" ? "" : flagText) {
      const bit = FLAG_BITS[ch];
      if (bit === undefined) throw new DrillSyntaxError(`unknown TCP flag '${ch}' in '${flagText}'`, flagTok.pos);
      flags |= bit;
    }
    const seq = this.seqRange();
    let ack: number | undefined;
    let win: number | undefined;
    let urg: number | undefined;
    if (this.isWord("ack")) {
      this.next();
      ack = this.field("the acknowledgement number", 32);
    }
    if (this.isWord("win")) {
      this.next();
      win = this.field("the window", 16);
    }
    if (this.isWord("urg")) {
      this.next();
      urg = this.field("the urgent pointer", 16);
    }
    let options: TcpOptionSpec[] | "any" | undefined;
    if (this.isPunct("<")) options = this.tcpOptions();
    if (this.isPunct("(")) this.ipFlagsNote();
    return { type: "tcp", direction, ip, flagText, flags, seq, ack, win, urg, options };
  }

  /** `[ect0]`, `[noecn]`, `(tos 0x4)`, `[ttl 1]`, `(flowlabel 0x1)`. */
  private ipInfo(): IpInfo {
    const ip: IpInfo = {};
    while (this.isPunct("[") || (this.isPunct("(") && this.peek().kind === "word" && IP_INFO_WORDS.has(this.peek().text))) {
      const close = this.next().text === "[" ? "]" : ")";
      for (;;) {
        const w = this.tok;
        if (w.kind !== "word") this.fail("expected an IP mark (noecn, ect0, ect1, ce, tos, ttl, flowlabel)");
        this.next();
        if (w.text === "noecn" || w.text === "ect0" || w.text === "ect1" || w.text === "ce" || w.text === "ect01") ip.ecn = w.text;
        else if (w.text === "tos") ip.tos = this.integer("the TOS byte");
        else if (w.text === "ttl") ip.ttl = this.integer("the TTL");
        else if (w.text === "flowlabel") ip.flowLabel = this.integer("the flow label");
        else this.fail(`unknown IP mark '${w.text}'`, w);
        if (!this.isPunct(",")) break;
        this.next();
      }
      this.expectPunct(close);
    }
    return ip;
  }

  /** `(DF)` after a packet: the don't-fragment bit, which synack always sets for TCP. */
  private ipFlagsNote(): void {
    this.next();
    while (this.tok.kind === "word") this.next();
    this.expectPunct(")");
  }

  private portInfo(): void {
    if (this.tok.kind === "int" && this.isPunct(">", this.peek())) {
      this.next();
      this.next();
      this.integer("the destination port");
    }
  }

  private seqRange(): SeqSpec {
    const at = this.tok.pos;
    const start = this.field("the starting sequence number", 32);
    this.expectPunct(":");
    const end = this.field("the ending sequence number", 32);
    this.expectPunct("(");
    const len = this.integer("the payload length");
    this.expectPunct(")");
    if (((end - start) >>> 0) !== len >>> 0) throw new DrillSyntaxError(`sequence range ${start}:${end} does not span its length (${len})`, at);
    return { start, end, len };
  }

  private tcpOptions(): TcpOptionSpec[] | "any" {
    this.expectPunct("<");
    if (this.tok.kind === "ellipsis") {
      this.next();
      this.expectPunct(">");
      return "any";
    }
    const list: TcpOptionSpec[] = [];
    for (;;) {
      list.push(this.tcpOption());
      if (this.isPunct(">")) break;
      this.expectPunct(",");
    }
    this.next();
    return list;
  }

  private tcpOption(): TcpOptionSpec {
    const t = this.tok;
    if (t.kind !== "word") this.fail("expected a TCP option (nop, mss, wscale, sackOK, sack, TS, FO, ...)");
    this.next();
    switch (t.text) {
      case "nop":
        return { kind: "nop" };
      case "eol":
        return { kind: "eol" };
      case "mss":
        return { kind: "mss", value: this.integer("the MSS") };
      case "wscale":
        return { kind: "wscale", value: this.integer("the window scale") };
      case "sackOK":
        return { kind: "sackOK" };
      case "sack": {
        const blocks: Array<[number, number]> = [];
        while (this.tok.kind === "int") {
          const left = this.integer("a SACK block's left edge");
          this.expectPunct(":");
          blocks.push([left, this.integer("a SACK block's right edge")]);
        }
        if (blocks.length === 0) this.fail("expected SACK blocks (left:right)");
        return { kind: "sack", blocks };
      }
      case "TS": {
        this.expectWord("val");
        const val = this.integer("the TS value");
        this.expectWord("ecr");
        return { kind: "ts", val, ecr: this.integer("the TS echo reply") };
      }
      case "md5":
        return { kind: "md5", hex: this.hexBlob() ?? this.fail("expected the MD5 signature in hex") };
      case "FO":
        return { kind: "fo", cookie: this.hexBlob() };
      case "FOEXP":
        return { kind: "foexp", cookie: this.hexBlob() };
      case "kind": {
        const code = this.integer("the option kind");
        return { kind: "other", code, hex: this.hexBlob() ?? "" };
      }
      default:
        return this.fail(`unknown TCP option '${t.text}'`, t);
    }
  }

  /** Hex digits written as one run, which the lexer may have split ("3021b9d8" is 3021 then b9d8). */
  private hexBlob(): string | undefined {
    const first = this.tok;
    if (first.kind !== "int" && first.kind !== "word") return undefined;
    if (this.isWord("val") || this.isWord("ecr")) return undefined;
    let text = "";
    let last = first;
    for (;;) {
      const t = this.tok;
      if (t !== first && t.start !== last.end) break;
      if ((t.kind !== "int" && t.kind !== "word") || !/^[0-9a-fA-F]+$/.test(t.text)) {
        if (t === first) return undefined;
        break;
      }
      text += t.text;
      last = this.next();
    }
    if (text.length % 2 !== 0) this.fail(`hex blob '${text}' has an odd number of digits`, first);
    return text.toLowerCase();
  }

  private icmp(direction: "in" | "out", ip: IpInfo): IcmpPacketSpec {
    this.next();
    const typeTok = this.tok;
    if (typeTok.kind !== "word") this.fail("expected an ICMP type (unreachable, packet_too_big, ...)");
    this.next();
    let icmpCode: string | undefined;
    if (this.tok.kind === "word" && this.tok.text !== "mtu" && this.tok.text !== "id") icmpCode = this.next().text;
    let mtu: number | undefined;
    if (this.isWord("mtu")) {
      this.next();
      mtu = this.integer("the MTU");
    }
    if (this.isWord("id")) {
      this.next();
      this.integer("the echo id");
    }
    let echoed: IcmpPacketSpec["echoed"];
    if (this.isPunct("[")) {
      this.next();
      if (this.isWord("udp") || this.isWord("raw")) {
        const kind = this.next().text as "udp" | "raw";
        this.expectPunct("(");
        echoed = { kind, len: this.integer("the quoted length") };
        this.expectPunct(")");
      } else {
        echoed = { kind: "tcp", seq: this.seqRange() };
      }
      this.expectPunct("]");
    }
    return { type: "icmp", direction, ip, icmpType: typeTok.text, icmpCode, mtu, echoed };
  }

  // --- system calls --------------------------------------------------------------------

  private syscall(): SyscallSpec {
    let end: Usecs | undefined;
    if (this.tok.kind === "ellipsis") {
      this.next();
      end = this.time();
    }
    const nameTok = this.tok;
    if (nameTok.kind !== "word") this.fail("expected a system call name");
    this.next();
    this.expectPunct("(");
    const args: Expr[] = [];
    if (!this.isPunct(")")) {
      for (;;) {
        args.push(this.expr());
        if (this.isPunct(")")) break;
        this.expectPunct(",");
      }
    }
    this.next();
    this.expectPunct("=");
    const result = this.expr();
    let errno: string | undefined;
    let note: string | undefined;
    if (this.tok.kind === "word") errno = this.next().text;
    if (this.isPunct("(")) note = this.note();
    return { type: "syscall", name: nameTok.text, args, end, result, errno, note };
  }

  /** `(Connection refused)`: free words, read up to the closing parenthesis. */
  private note(): string {
    this.next();
    const words: string[] = [];
    let depth = 1;
    for (;;) {
      const t = this.tok;
      if (t.kind === "eof") this.fail("unterminated note in parentheses");
      if (this.isPunct("(")) depth++;
      if (this.isPunct(")") && --depth === 0) break;
      words.push(this.next().text);
    }
    this.next();
    return words.join(" ");
  }

  private expr(): Expr {
    let left = this.primary();
    if (this.isPunct("|")) {
      const operands = [left];
      while (this.isPunct("|")) {
        this.next();
        operands.push(this.primary());
      }
      left = { type: "or", operands, pos: left.pos };
    }
    return left;
  }

  private primary(): Expr {
    const t = this.tok;
    const pos = t.pos;
    switch (t.kind) {
      case "ellipsis":
        this.next();
        return { type: "ellipsis", pos };
      case "int":
        this.next();
        return { type: "int", value: t.value!, pos };
      case "string": {
        this.next();
        const ellipsis = this.tok.kind === "ellipsis";
        if (ellipsis) this.next();
        return { type: "string", value: t.text, ellipsis, pos };
      }
      case "punct":
        if (t.text === "-" && this.peek().kind === "int") {
          this.next();
          return { type: "int", value: -this.next().value!, pos };
        }
        if (t.text === "[") return { type: "array", items: this.list("[", "]"), pos };
        if (t.text === "{") return { type: "struct", items: this.list("{", "}"), pos };
        break;
      case "word":
        return this.wordExpr();
      default:
        break;
    }
    return this.fail("expected an expression");
  }

  /** `NAME`, `NULL`, `name = expr`, `name(args)`, `name(args) = expr` (msg_iov(1)=[...]). */
  private wordExpr(): Expr {
    const t = this.next();
    const pos = t.pos;
    let index: Expr[] | undefined;
    if (this.isPunct("(")) {
      index = this.list("(", ")");
      if (!this.isPunct("=")) return { type: "call", name: t.text, args: index, pos };
    }
    if (this.isPunct("=") && this.peek().kind !== "eof") {
      this.next();
      return { type: "field", name: t.text, index, value: this.expr(), pos };
    }
    if (t.text === "NULL") return { type: "null", pos };
    return { type: "word", name: t.text, pos };
  }

  private list(open: string, close: string): Expr[] {
    this.expectPunct(open);
    const items: Expr[] = [];
    if (this.isPunct(close)) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.expr());
      if (this.isPunct(close)) break;
      this.expectPunct(",");
    }
    this.next();
    return items;
  }
}

const IP_INFO_WORDS = new Set(["tos", "ttl", "flowlabel", "noecn", "ect0", "ect1", "ce", "ect01"]);

/** "0.1" -> 100000 exactly, without binary floating-point rounding. */
export function secondsToUsecs(text: string): Usecs {
  const [whole = "", frac = ""] = text.split(".");
  const micros = (frac + "000000").slice(0, 6);
  const rest = frac.slice(6);
  let usecs = Number(whole || "0") * 1_000_000 + Number(micros);
  if (rest !== "" && Number(rest[0]) >= 5) usecs++;
  return usecs;
}

export type { SourcePos };
