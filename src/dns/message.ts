/**
 * DNS messages (RFC 1035 4.1): header, question, resource records. Read first: RFC 1035
 * 4.1.1-4.1.4 (layout and name compression), RFC 3596 (AAAA), RFC 2181 (names may hold any
 * octet; TTLs are 31-bit), RFC 4343 (names compare case-insensitively).
 *
 * Decoding never throws: untrusted lengths are checked before reading and a bad message is
 * `{ ok: false, reason }`. Encoding writes names without compression (RFC 1035 4.1.4 makes
 * compression optional for a sender) and throws DnsError EINVAL for a name that cannot be
 * written (a label over 63 octets, a name over 255).
 */
import { concatBytes, readU16, readU32, writeU16, writeU32 } from "../wire/bytes.js";
import { IpAddress } from "../wire/address.js";
import { DnsError } from "./errors.js";

export const TYPE_A = 1;
export const TYPE_CNAME = 5;
export const TYPE_AAAA = 28;
export const CLASS_IN = 1;

/** RFC 1035 4.1.1 RCODE values a stub resolver tells apart. */
export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;

const HEADER_LENGTH = 12;
/** RFC 1035 2.3.4: labels of 63 octets or less, names of 255 octets or less (wire form). */
const MAX_LABEL = 63;
const MAX_NAME = 255;
/** A name needs at most 127 labels, so more pointers than that can only be a loop. */
const MAX_POINTERS = 127;

export interface DnsHeader {
  id: number;
  /** QR: a response (true) or a query. */
  response: boolean;
  opcode: number;
  authoritative: boolean;
  /** TC: the answer did not fit (RFC 1035 4.2.1); a stub would retry over TCP. */
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  rcode: number;
}

export interface DnsQuestion {
  /** Dotted text without the final dot ("example.test"); "" is the root. */
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  /** Seconds; RFC 2181 8: a value with the top bit set is treated as 0. */
  ttl: number;
  /** A and AAAA: the address. */
  address?: IpAddress;
  /** CNAME: the canonical name. */
  target?: string;
  /** Any other type: the RDATA as it arrived. */
  data?: Uint8Array;
}

export interface DnsMessage {
  header: DnsHeader;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

export type DnsParseError = "truncated" | "bad-name" | "bad-pointer" | "bad-rdata" | "trailing-bytes";
export type DnsParseResult = { ok: true; value: DnsMessage } | { ok: false; reason: DnsParseError };

/**
 * RFC 4343: names compare without regard to ASCII case. They compare by their octets, so
 * "a b.test" (as typed) and "a\032b.test" (as read off the wire) are one name; text that
 * is no name at all compares as text.
 */
export function sameName(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  const ca = canonicalName(a);
  return ca !== undefined && ca.toLowerCase() === canonicalName(b)?.toLowerCase();
}

/** "example.test." or "example.test" -> "example.test" (a final "\." is part of a label, not the root). */
export function normalizeName(name: string): string {
  return name.endsWith(".") && !/(^|[^\\])(\\\\)*\\\.$/.test(name) ? name.slice(0, -1) : name;
}

/** A name in the text form `decodeMessage` gives (octets outside printable ASCII as \DDD), or undefined if it is none. */
export function canonicalName(name: string): string | undefined {
  try {
    return nameLabels(name).map(labelText).join(".");
  } catch {
    return undefined;
  }
}

/**
 * The labels of a name written as RFC 1035 5.1 writes names: dots separate labels, "\X"
 * is the character X itself (so "\." is a dot inside a label), "\DDD" the octet DDD, and
 * every other character its UTF-8 octets (RFC 2181 11: a label may hold any octets; no
 * IDNA conversion). A final dot, the root, is optional. This is also how glibc's
 * getaddrinfo reads a name (ns_name_pton).
 */
export function nameLabels(name: string): Uint8Array[] {
  const labels: Uint8Array[] = [];
  let label: number[] = [];
  let total = 1;
  const chars = [...name];
  const endLabel = (): void => {
    if (label.length === 0) throw new DnsError("EINVAL", `${name}: empty label`);
    if (label.length > MAX_LABEL) throw new DnsError("EINVAL", `${name}: label over ${MAX_LABEL} octets`);
    total += label.length + 1;
    labels.push(Uint8Array.from(label));
    label = [];
  };
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === ".") {
      if (i === chars.length - 1 && (labels.length > 0 || label.length > 0 || chars.length === 1)) {
        if (label.length > 0) endLabel();
        break;
      }
      endLabel();
    } else if (ch === "\\") {
      const next = chars[++i];
      if (next === undefined) throw new DnsError("EINVAL", `${name}: a backslash ends the name`);
      if (next >= "0" && next <= "9") {
        const digits = chars.slice(i, i + 3).join("");
        const octet = Number(digits);
        if (!/^[0-9]{3}$/.test(digits) || octet > 255) throw new DnsError("EINVAL", `${name}: \\${digits} is not an octet (\\000 to \\255)`);
        label.push(octet);
        i += 2;
      } else label.push(...utf8(next));
    } else label.push(...utf8(ch));
  }
  if (label.length > 0) endLabel();
  if (total > MAX_NAME) throw new DnsError("EINVAL", `${name}: name over ${MAX_NAME} octets`);
  return labels;
}

const textEncoder = new TextEncoder();
function utf8(ch: string): Uint8Array {
  return textEncoder.encode(ch);
}

// -----------------------------------------------------------------------------------------
// Encoding

/** A recursive query for one name and type, as a stub resolver sends it (RD set, RFC 1035 4.1.1). */
export function encodeQuery(id: number, name: string, type: number): Uint8Array {
  return encodeMessage({
    header: { id, response: false, opcode: 0, authoritative: false, truncated: false, recursionDesired: true, recursionAvailable: false, rcode: 0 },
    questions: [{ name, type, class: CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
  });
}

export function encodeMessage(m: DnsMessage): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(HEADER_LENGTH);
  const h = m.header;
  writeU16(header, 0, h.id & 0xffff);
  const flags =
    (h.response ? 0x8000 : 0) | ((h.opcode & 0xf) << 11) | (h.authoritative ? 0x0400 : 0) | (h.truncated ? 0x0200 : 0) |
    (h.recursionDesired ? 0x0100 : 0) | (h.recursionAvailable ? 0x0080 : 0) | (h.rcode & 0xf);
  writeU16(header, 2, flags);
  writeU16(header, 4, m.questions.length);
  writeU16(header, 6, m.answers.length);
  writeU16(header, 8, m.authorities.length);
  writeU16(header, 10, m.additionals.length);
  parts.push(header);
  for (const q of m.questions) {
    parts.push(encodeName(q.name));
    const tail = new Uint8Array(4);
    writeU16(tail, 0, q.type);
    writeU16(tail, 2, q.class);
    parts.push(tail);
  }
  for (const r of [...m.answers, ...m.authorities, ...m.additionals]) parts.push(...encodeRecord(r));
  return concatBytes(parts);
}

function encodeRecord(r: DnsRecord): Uint8Array[] {
  let rdata: Uint8Array;
  if (r.address !== undefined) rdata = r.address.toBytes();
  else if (r.target !== undefined) rdata = encodeName(r.target);
  else rdata = r.data ?? new Uint8Array(0);
  const fixed = new Uint8Array(10);
  writeU16(fixed, 0, r.type);
  writeU16(fixed, 2, r.class);
  writeU32(fixed, 4, r.ttl);
  writeU16(fixed, 8, rdata.length);
  return [encodeName(r.name), fixed, rdata];
}

/** RFC 1035 3.1: length-prefixed labels ending with the zero-length root label. */
export function encodeName(name: string): Uint8Array {
  const bytes: number[] = [];
  for (const octets of nameLabels(name)) bytes.push(octets.length, ...octets);
  bytes.push(0);
  return Uint8Array.from(bytes);
}

// -----------------------------------------------------------------------------------------
// Decoding

class Bad extends Error {
  constructor(readonly reason: DnsParseError) {
    super(reason);
  }
}

export function decodeMessage(b: Uint8Array): DnsParseResult {
  try {
    return { ok: true, value: decode(b) };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, reason: e.reason };
    throw e;
  }
}

function decode(b: Uint8Array): DnsMessage {
  if (b.length < HEADER_LENGTH) throw new Bad("truncated");
  const flags = readU16(b, 2);
  const header: DnsHeader = {
    id: readU16(b, 0),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
  };
  const counts = [readU16(b, 4), readU16(b, 6), readU16(b, 8), readU16(b, 10)] as const;
  let off = HEADER_LENGTH;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const [name, next] = readName(b, off);
    if (next + 4 > b.length) throw new Bad("truncated");
    questions.push({ name, type: readU16(b, next), class: readU16(b, next + 2) });
    off = next + 4;
  }
  const sections: DnsRecord[][] = [[], [], []];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const [record, next] = readRecord(b, off);
      sections[s]!.push(record);
      off = next;
    }
  }
  // Bytes after the last record mean the counts lie about the message.
  if (off !== b.length) throw new Bad("trailing-bytes");
  return { header, questions, answers: sections[0]!, authorities: sections[1]!, additionals: sections[2]! };
}

function readRecord(b: Uint8Array, at: number): [DnsRecord, number] {
  const [name, off] = readName(b, at);
  if (off + 10 > b.length) throw new Bad("truncated");
  const type = readU16(b, off);
  const cls = readU16(b, off + 2);
  const rawTtl = readU32(b, off + 4);
  const length = readU16(b, off + 8);
  const start = off + 10;
  const end = start + length;
  if (end > b.length) throw new Bad("truncated");
  const record: DnsRecord = { name, type, class: cls, ttl: rawTtl > 0x7fffffff ? 0 : rawTtl };
  if (cls === CLASS_IN && type === TYPE_A) {
    if (length !== 4) throw new Bad("bad-rdata");
    record.address = IpAddress.fromBytes(b, start, 4);
  } else if (cls === CLASS_IN && type === TYPE_AAAA) {
    if (length !== 16) throw new Bad("bad-rdata");
    record.address = IpAddress.fromBytes(b, start, 6);
  } else if (type === TYPE_CNAME) {
    // The name may point anywhere earlier in the message, but must end inside the RDATA.
    const [target, next] = readName(b, start);
    if (next !== end) throw new Bad("bad-rdata");
    record.target = target;
  } else {
    record.data = b.slice(start, end);
  }
  return [record, end];
}

/**
 * Reads a name at `at` (RFC 1035 4.1.4): labels, or a pointer to a name earlier in the
 * message. Returns the text and where the name ends at `at`'s level. Pointers must go
 * backwards, which rules out loops; the 255-octet limit applies to the expanded name.
 */
function readName(b: Uint8Array, at: number): [string, number] {
  const labels: string[] = [];
  let off = at;
  let end = -1;
  let wireLength = 1;
  let jumps = 0;
  for (;;) {
    if (off >= b.length) throw new Bad("truncated");
    const len = b[off]!;
    if (len === 0) {
      if (end < 0) end = off + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (off + 1 >= b.length) throw new Bad("truncated");
      const target = ((len & 0x3f) << 8) | b[off + 1]!;
      if (target >= off || ++jumps > MAX_POINTERS) throw new Bad("bad-pointer");
      if (end < 0) end = off + 2;
      off = target;
      continue;
    }
    // 0x40 and 0x80 are extended label types (RFC 6891 dropped them): not names we read.
    if (kind !== 0) throw new Bad("bad-name");
    if (off + 1 + len > b.length) throw new Bad("truncated");
    wireLength += len + 1;
    if (wireLength > MAX_NAME) throw new Bad("bad-name");
    labels.push(labelText(b.subarray(off + 1, off + 1 + len)));
    off += 1 + len;
  }
  return [labels.join("."), end];
}

/** Label octets as text: printable ASCII kept, anything else (and dots) escaped \DDD as in zone files. */
function labelText(octets: Uint8Array): string {
  let s = "";
  for (const o of octets) {
    if (o > 0x20 && o < 0x7f && o !== 0x2e && o !== 0x5c) s += String.fromCharCode(o);
    else s += `\\${o.toString().padStart(3, "0")}`;
  }
  return s;
}
