/**
 * One address type for both families: `IpAddress` (an IPv4 or IPv6 address) and `IpPrefix`
 * (a network, for routes and interface subnets). Read first: RFC 4291 section 2 (IPv6
 * addressing), RFC 5952 (the text form), RFC 4007 (scopes), RFC 1122 3.2.1.3 (IPv4).
 *
 * Why one type and not `number | Ipv6Address`: every layer above the codecs (routing, the
 * connection table, ISN and cookie hashing, ICMP, UDP demux) then handles both families
 * with the same code, and the few places that differ (header layout, pseudo-header) ask
 * `family`. See docs/ipv6-plan.md for how the engine moves over from uint32 addresses.
 *
 * Representation (as Go's net/netip.Addr): 128 bits held as four unsigned 32-bit words,
 * plus the family. An IPv4 address a.b.c.d is stored as its IPv4-mapped form
 * ::ffff:a.b.c.d (RFC 4291 2.5.5.2) with family 4, so prefix matching and hashing run
 * the same loop for both families. IPv4 1.2.3.4 and IPv6 ::ffff:1.2.3.4 are still
 * different values (`equals` is false): the first arrived in an IPv4 packet, the second in
 * an IPv6 one. `unmap()` and `toMapped()` convert where a dual-stack socket needs it.
 *
 * Instances are immutable. Compare them with `equals`, never `===`; use `key` as a Map key.
 */

export type IpFamily = 4 | 6;

/**
 * A Map key that identifies an address exactly: the uint32 value for IPv4 (so today's
 * numeric keys such as `addr * 65536 + port` stay valid for IPv4), an 8-character string
 * (one UTF-16 code unit per 16-bit group) for IPv6. A number never equals a string, so
 * the two families never collide.
 */
export type AddressKey = number | string;

/**
 * What an address is, by the special ranges of RFC 6890 that a host acts on.
 *   unspecified   0.0.0.0, :: (RFC 1122 3.2.1.3, RFC 4291 2.5.2)
 *   loopback      127/8, ::1 (RFC 1122 3.2.1.3, RFC 4291 2.5.3)
 *   link-local    169.254/16 (RFC 3927), fe80::/10 (RFC 4291 2.5.6)
 *   unique-local  fc00::/7 (RFC 4193)
 *   private       10/8, 172.16/12, 192.168/16 (RFC 1918)
 *   ipv4-mapped   ::ffff:0:0/96 (RFC 4291 2.5.5.2); `unmap()` gives the IPv4 address
 *   multicast     224/4 (RFC 1112), ff00::/8 (RFC 4291 2.7)
 *   broadcast     255.255.255.255 (RFC 919)
 *   global        everything else
 */
export type AddressKind =
  | "unspecified"
  | "loopback"
  | "link-local"
  | "unique-local"
  | "private"
  | "ipv4-mapped"
  | "multicast"
  | "broadcast"
  | "global";

/**
 * Where an address is meaningful (RFC 4007 section 5): on this node only, on one link
 * (a link-local address needs an interface to be usable), or everywhere. Unique-local
 * and private addresses have global scope (RFC 4193 section 1, RFC 4007 section 4).
 */
export type AddressScope = "host" | "link" | "global";

/** The mapped prefix ::ffff:0:0/96 sits in word 2. */
const MAPPED_W2 = 0x0000ffff;

export class IpAddress {
  /**
   * The IPv6 key, built on first use. A private field (#) so that structural comparisons
   * (a test's toEqual, a JSON dump) see the same object whether or not it was built.
   */
  #key: string | undefined = undefined;

  private constructor(
    readonly family: IpFamily,
    /** Bits 0..31 of the 128-bit (mapped, for IPv4) form, as an unsigned integer. */
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
  ) {}

  /** An IPv4 address from its uint32 value (the representation the engine uses today). */
  static v4(value: number): IpAddress {
    return new IpAddress(4, 0, 0, MAPPED_W2, value >>> 0);
  }

  /** An IPv6 address from four big-endian 32-bit words. */
  static v6(w0: number, w1: number, w2: number, w3: number): IpAddress {
    return new IpAddress(6, w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0);
  }

  /**
   * Reads an address of `family` from bytes[offset..]: 4 or 16 bytes, network order. The
   * caller has checked the length (codecs do, before any read).
   */
  static fromBytes(bytes: Uint8Array, offset: number, family: IpFamily): IpAddress {
    if (family === 4) return IpAddress.v4(readWord(bytes, offset));
    return IpAddress.v6(readWord(bytes, offset), readWord(bytes, offset + 4), readWord(bytes, offset + 8), readWord(bytes, offset + 12));
  }

  /** IPv6 from eight 16-bit groups (as written in text). */
  static fromGroups(g: readonly number[]): IpAddress {
    const w = (i: number) => (((g[i]! & 0xffff) << 16) | (g[i + 1]! & 0xffff)) >>> 0;
    return IpAddress.v6(w(0), w(2), w(4), w(6));
  }

  static readonly ANY4 = IpAddress.v4(0);
  static readonly ANY6 = IpAddress.v6(0, 0, 0, 0);
  static readonly LOOPBACK4 = IpAddress.v4(0x7f000001);
  static readonly LOOPBACK6 = IpAddress.v6(0, 0, 0, 1);

  /** 32 or 128: the number of prefix bits an address of this family has. */
  get bitLength(): 32 | 128 {
    return this.family === 4 ? 32 : 128;
  }

  /** 4 or 16: bytes on the wire. */
  get byteLength(): 4 | 16 {
    return this.family === 4 ? 4 : 16;
  }

  /** The uint32 value of an IPv4 address; undefined for IPv6 (use `unmap()` first for mapped ones). */
  get v4Value(): number | undefined {
    return this.family === 4 ? this.w3 : undefined;
  }

  /** See `AddressKey`. Cached: computing it for IPv6 builds a string once per address. */
  get key(): AddressKey {
    if (this.family === 4) return this.w3;
    return (this.#key ??= String.fromCharCode(
      this.w0 >>> 16, this.w0 & 0xffff, this.w1 >>> 16, this.w1 & 0xffff,
      this.w2 >>> 16, this.w2 & 0xffff, this.w3 >>> 16, this.w3 & 0xffff,
    ));
  }

  /** Word i (0..3) of the 128-bit form. */
  word(i: number): number {
    return i === 0 ? this.w0 : i === 1 ? this.w1 : i === 2 ? this.w2 : this.w3;
  }

  /** 16-bit group i (0..7) of the 128-bit form. */
  group(i: number): number {
    const w = this.word(i >> 1);
    return i & 1 ? w & 0xffff : w >>> 16;
  }

  equals(other: IpAddress): boolean {
    return this.family === other.family && this.w3 === other.w3 && this.w2 === other.w2 && this.w1 === other.w1 && this.w0 === other.w0;
  }

  /**
   * Total order: IPv4 before IPv6, then numerically. For sorted tables and stable output;
   * never needed to find a route (that is `IpPrefix.contains`).
   */
  compare(other: IpAddress): number {
    if (this.family !== other.family) return this.family - other.family;
    for (let i = 0; i < 4; i++) {
      const d = this.word(i) - other.word(i);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return 0;
  }

  /** Writes the 4 or 16 wire bytes at buf[offset] and returns how many. */
  write(buf: Uint8Array, offset: number): number {
    if (this.family === 4) {
      writeWord(buf, offset, this.w3);
      return 4;
    }
    writeWord(buf, offset, this.w0);
    writeWord(buf, offset + 4, this.w1);
    writeWord(buf, offset + 8, this.w2);
    writeWord(buf, offset + 12, this.w3);
    return 16;
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    this.write(out, 0);
    return out;
  }

  /** ::ffff:0:0/96 (RFC 4291 2.5.5.2). Only IPv6 addresses are mapped. */
  get isIpv4Mapped(): boolean {
    return this.family === 6 && this.w0 === 0 && this.w1 === 0 && this.w2 === MAPPED_W2;
  }

  /** ::ffff:a.b.c.d -> a.b.c.d; any other address is returned as it is. */
  unmap(): IpAddress {
    return this.isIpv4Mapped ? IpAddress.v4(this.w3) : this;
  }

  /** a.b.c.d -> ::ffff:a.b.c.d (how a dual-stack IPv6 socket names an IPv4 peer); IPv6 unchanged. */
  toMapped(): IpAddress {
    return this.family === 4 ? IpAddress.v6(0, 0, MAPPED_W2, this.w3) : this;
  }

  get isUnspecified(): boolean {
    return this.w3 === 0 && (this.family === 4 || (this.w0 === 0 && this.w1 === 0 && this.w2 === 0));
  }

  get isLoopback(): boolean {
    if (this.family === 4) return this.w3 >>> 24 === 127;
    return this.w0 === 0 && this.w1 === 0 && this.w2 === 0 && this.w3 === 1;
  }

  get isMulticast(): boolean {
    if (this.family === 4) return this.w3 >>> 28 === 0xe;
    return this.w0 >>> 24 === 0xff;
  }

  get kind(): AddressKind {
    if (this.family === 4) {
      const v = this.w3;
      if (v === 0) return "unspecified";
      if (v === 0xffffffff) return "broadcast";
      if (v >>> 24 === 127) return "loopback";
      if (v >>> 16 === 0xa9fe) return "link-local";
      if (v >>> 24 === 10 || v >>> 20 === 0xac1 || v >>> 16 === 0xc0a8) return "private";
      if (v >>> 28 === 0xe) return "multicast";
      return "global";
    }
    if (this.isUnspecified) return "unspecified";
    if (this.isLoopback) return "loopback";
    if (this.isIpv4Mapped) return "ipv4-mapped";
    const top = this.w0 >>> 16;
    if ((top & 0xffc0) === 0xfe80) return "link-local";
    if ((top & 0xfe00) === 0xfc00) return "unique-local";
    if (top >>> 8 === 0xff) return "multicast";
    return "global";
  }

  /**
   * RFC 4007 section 5 (RFC 4291 2.7 for multicast scope values); a mapped address has
   * the scope of the IPv4 address inside it.
   */
  get scope(): AddressScope {
    if (this.isIpv4Mapped) return this.unmap().scope;
    switch (this.kind) {
      case "unspecified":
      case "loopback":
        return "host";
      case "link-local":
        return "link";
      case "multicast": {
        if (this.family === 4) return this.w3 >>> 8 === 0xe00000 ? "link" : "global"; // 224.0.0/24: RFC 5771 local network control
        const s = (this.w0 >>> 16) & 0xf;
        return s <= 1 ? "host" : s === 2 ? "link" : "global";
      }
      default:
        return "global";
    }
  }

  /** Dotted quad for IPv4, RFC 5952 for IPv6. */
  toString(): string {
    return this.family === 4 ? formatV4(this.w3) : formatV6(this);
  }
}

/**
 * A Map key for an (address, port) pair, exact and cheap: for IPv4 the 48-bit number
 * `address * 65536 + port` that the connection table builds today, for IPv6 the
 * address key with the port appended as a ninth code unit. Keys of the two families
 * never collide (number vs string).
 */
export function endpointKey(address: IpAddress, port: number): AddressKey {
  const k = address.key;
  return typeof k === "number" ? k * 65536 + (port & 0xffff) : k + String.fromCharCode(port & 0xffff);
}

/**
 * A network: an address of either family whose bits past `length` are zero. Routes and
 * interface subnets use it; `contains` is the one prefix-match loop for both families.
 */
export class IpPrefix {
  private constructor(
    /** The network address (host bits zero). */
    readonly network: IpAddress,
    readonly length: number,
  ) {}

  /** The prefix of `length` bits that holds `address` (host bits cleared), or undefined for a bad length. */
  static of(address: IpAddress, length: number): IpPrefix | undefined {
    if (!Number.isInteger(length) || length < 0 || length > address.bitLength) return undefined;
    const bits = length + (address.family === 4 ? 96 : 0);
    const w = (i: number) => (address.word(i) & maskWord(bits, i)) >>> 0;
    const network = address.family === 4 ? IpAddress.v4(w(3)) : IpAddress.v6(w(0), w(1), w(2), w(3));
    return new IpPrefix(network, length);
  }

  get family(): IpFamily {
    return this.network.family;
  }

  /** True if `address` is of the same family and its first `length` bits match. */
  contains(address: IpAddress): boolean {
    if (address.family !== this.network.family) return false;
    // IPv4 sits in the low word of the mapped form: its /n is the mapped form's /(96 + n).
    const bits = this.length + (address.family === 4 ? 96 : 0);
    for (let i = 0; i < 4; i++) {
      const m = maskWord(bits, i);
      if (m === 0) return true;
      if (((address.word(i) & m) >>> 0) !== this.network.word(i)) return false;
    }
    return true;
  }

  equals(other: IpPrefix): boolean {
    return this.length === other.length && this.network.equals(other.network);
  }

  toString(): string {
    return `${this.network.toString()}/${this.length}`;
  }
}

/** Mask for word i (0..3) of a 128-bit prefix of `bits` bits. */
function maskWord(bits: number, i: number): number {
  const n = Math.min(32, Math.max(0, bits - 32 * i));
  return n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
}

// ---------------------------------------------------------------------------------------
// Text forms.

/**
 * Parses either family: a dotted quad, or IPv6 text as RFC 4291 section 2.2 allows it
 * (hex groups of 1..4 digits in any case, one "::", a dotted quad in the last 32 bits).
 * Returns undefined for anything else. Stricter than `parseIpv4Address` in ipv4.ts in one
 * way, as inet_pton is: a decimal part with a leading zero ("010") is rejected, because
 * other parsers (inet_aton) read it as octal. Zone suffixes ("fe80::1%eth0", RFC 4007
 * section 11) are not accepted yet: the engine has no interface index to map them to.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (typeof text !== "string") return undefined; // a JavaScript caller's null or number is no address either
  if (text.includes(":")) return parseIpv6Text(text);
  const v = parseDottedQuad(text);
  return v === undefined ? undefined : IpAddress.v4(v);
}

/** "10.0.0.2/24" or "fd00::2/64": the address as written (host bits kept) and the length. */
export function parseCidr(text: string): { address: IpAddress; length: number } | undefined {
  if (typeof text !== "string") return undefined;
  const slash = text.lastIndexOf("/");
  if (slash < 0) return undefined;
  const address = parseIpAddress(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === undefined || !/^(0|[1-9]\d{0,2})$/.test(lengthText)) return undefined;
  const length = Number(lengthText);
  if (length > address.bitLength) return undefined;
  return { address, length };
}

/** "fd00::/64" -> the prefix; host bits given in the text are cleared ("10.0.0.7/8" is 10.0.0.0/8). */
export function parseIpPrefix(text: string): IpPrefix | undefined {
  const c = parseCidr(text);
  return c === undefined ? undefined : IpPrefix.of(c.address, c.length);
}

/** Dotted quad, each part 0..255 in decimal without leading zeros. */
function parseDottedQuad(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value >>> 0;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The longest IPv6 text: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255". */
const MAX_V6_TEXT = 45;

function parseIpv6Text(text: string): IpAddress | undefined {
  if (text.length > MAX_V6_TEXT) return undefined;
  const gap = text.indexOf("::");
  // At most one "::" (RFC 4291 2.2 item 2); ":::" is caught here too.
  if (gap >= 0 && text.indexOf("::", gap + 1) >= 0) return undefined;
  const head = gap < 0 ? text : text.slice(0, gap);
  const tail = gap < 0 ? "" : text.slice(gap + 2);
  // The dotted quad may only end the address (RFC 4291 2.2 item 3).
  const headGroups = parseGroups(head, gap < 0);
  const tailGroups = parseGroups(tail, true);
  if (headGroups === undefined || tailGroups === undefined) return undefined;
  const n = headGroups.length + tailGroups.length;
  if (gap < 0 ? n !== 8 : n > 7) return undefined; // "::" stands for one or more zero groups
  const groups = [...headGroups, ...new Array<number>(8 - n).fill(0), ...tailGroups];
  return IpAddress.fromGroups(groups);
}

function parseGroups(part: string, v4Allowed: boolean): number[] | undefined {
  if (part === "") return [];
  const pieces = part.split(":");
  const out: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    if (HEX_GROUP.test(p)) {
      out.push(parseInt(p, 16));
    } else if (v4Allowed && i === pieces.length - 1 && p.includes(".")) {
      const v = parseDottedQuad(p);
      if (v === undefined) return undefined;
      out.push(v >>> 16, v & 0xffff);
    } else {
      return undefined;
    }
  }
  return out;
}

function formatV4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** RFC 5952 section 4 (canonical text) and section 5 (mixed notation for mapped addresses). */
function formatV6(a: IpAddress): string {
  // RFC 5952 5: an IPv4-mapped address is written ::ffff:a.b.c.d.
  if (a.isIpv4Mapped) return `::ffff:${formatV4(a.w3)}`;
  // RFC 5952 4.2.1-4.2.3: "::" replaces the longest run of zero groups, the first if two
  // runs tie, and never a single zero group.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (a.group(i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && a.group(j) === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 4.1 and 4.3: no leading zeros, lower case (toString(16) gives both).
  const hex = (from: number, to: number) => {
    const parts: string[] = [];
    for (let i = from; i < to; i++) parts.push(a.group(i).toString(16));
    return parts.join(":");
  };
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

function readWord(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function writeWord(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
