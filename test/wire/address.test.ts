/**
 * IpAddress and IpPrefix: the RFC 5952 text form (checked against the examples in the RFC
 * and, for random addresses, against Node's own inet_ntop via net.SocketAddress), parsing
 * as RFC 4291 2.2 allows (checked against net.isIP), prefix matching for both families,
 * scope classification, equality and map keys.
 */
import { isIP, SocketAddress } from "node:net";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { endpointKey, IpAddress, IpPrefix, parseCidr, parseIpAddress, parseIpPrefix } from "../../src/wire/address.js";
import { parseIpv4Address } from "../../src/wire/ipv4.js";

const v6 = (text: string): IpAddress => {
  const a = parseIpAddress(text);
  if (a === undefined || a.family !== 6) throw new Error(`not IPv6: ${text}`);
  return a;
};

const canonical = (text: string) => v6(text).toString();

describe("RFC 5952 text form", () => {
  it("section 4.1: leading zeros are suppressed, and a zero group is written 0", () => {
    expect(canonical("2001:0db8:0000:0000:0001:0000:0000:0001")).toBe("2001:db8::1:0:0:1");
    expect(canonical("2001:db8:0:0:0:0:2:1")).toBe("2001:db8::2:1");
  });

  it("section 4.2.1: :: is used to its maximum capability", () => {
    expect(canonical("2001:db8:0:0:0:0:2:1")).not.toBe("2001:db8::0:2:1");
    expect(canonical("2001:db8::0:1")).toBe("2001:db8::1");
  });

  it("section 4.2.2: :: does not shorten a single 16-bit zero group", () => {
    expect(canonical("2001:db8:0:1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1");
    expect(canonical("2001:db8::1:1:1:1:1")).toBe("2001:db8:0:1:1:1:1:1");
  });

  it("section 4.2.3: the longest run is shortened, the first one when two runs tie", () => {
    expect(canonical("2001:0:0:1:0:0:0:1")).toBe("2001:0:0:1::1");
    expect(canonical("2001:db8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
  });

  it("section 4.3: hex digits are lower case", () => {
    expect(canonical("2001:DB8::ABCD")).toBe("2001:db8::abcd");
  });

  it("section 5: an IPv4-mapped address is written ::ffff:a.b.c.d", () => {
    expect(canonical("0:0:0:0:0:ffff:c000:0201")).toBe("::ffff:192.0.2.1");
    expect(canonical("::FFFF:192.0.2.1")).toBe("::ffff:192.0.2.1");
    expect(canonical("::ffff:0:0")).toBe("::ffff:0.0.0.0");
  });

  it("the all-zero, loopback and edge runs", () => {
    expect(canonical("0:0:0:0:0:0:0:0")).toBe("::");
    expect(canonical("0:0:0:0:0:0:0:1")).toBe("::1");
    expect(canonical("1:0:0:0:0:0:0:0")).toBe("1::");
    expect(canonical("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).toBe("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    expect(canonical("fe80::1:2")).toBe("fe80::1:2");
    // The deprecated IPv4-compatible form (RFC 4291 2.5.5.1) is plain hex, not ::a.b.c.d.
    expect(canonical("::1.2.3.4")).toBe("::102:304");
  });

  it("IPv4 is a dotted quad", () => {
    expect(IpAddress.v4(0x0a000001).toString()).toBe("10.0.0.1");
    expect(IpAddress.v4(0xffffffff).toString()).toBe("255.255.255.255");
  });
});

describe("parsing", () => {
  it.each([
    ["::", [0, 0, 0, 0]],
    ["::1", [0, 0, 0, 1]],
    ["1::", [0x00010000, 0, 0, 0]],
    ["fd00::2", [0xfd000000, 0, 0, 2]],
    ["1:2:3:4:5:6:7:8", [0x00010002, 0x00030004, 0x00050006, 0x00070008]],
    ["1:2:3:4:5:6:1.2.3.4", [0x00010002, 0x00030004, 0x00050006, 0x01020304]],
    ["::ffff:10.0.0.1", [0, 0, 0xffff, 0x0a000001]],
    ["1:2:3:4:5:6:7::", [0x00010002, 0x00030004, 0x00050006, 0x00070000]],
    ["::2:3:4:5:6:7:8", [0x00000002, 0x00030004, 0x00050006, 0x00070008]],
  ] as const)("%s", (text, words) => {
    const a = v6(text);
    expect([a.w0, a.w1, a.w2, a.w3]).toEqual(words);
  });

  it.each([
    "", ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8", "12345::", "g::", ":1::", "1::2:", "1.2.3.4::", "::1.2.3.4:5", "::1.2.3",
    "::256.0.0.0", "::01.2.3.4", "fe80::1%eth0", " ::1", "[::1]", "1:2:3:4:5:6:7:1.2.3.4",
    "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-1", "a.b.c.d", "1..2.3",
  ])("rejects %j", (text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });

  it("parses dotted quads to the same value as parseIpv4Address", () => {
    for (const t of ["0.0.0.0", "10.0.0.1", "192.168.1.23", "255.255.255.255"]) {
      const a = parseIpAddress(t)!;
      expect(a.family).toBe(4);
      expect(a.v4Value).toBe(parseIpv4Address(t));
    }
  });

  it("parses CIDR text keeping host bits, and prefixes with host bits cleared", () => {
    const c = parseCidr("fd00::2/64")!;
    expect(c.address.toString()).toBe("fd00::2");
    expect(c.length).toBe(64);
    expect(parseIpPrefix("fd00::2/64")!.toString()).toBe("fd00::/64");
    expect(parseIpPrefix("10.7.0.2/24")!.toString()).toBe("10.7.0.0/24");
    expect(parseIpPrefix("::/0")!.toString()).toBe("::/0");
    for (const bad of ["10.0.0.0/33", "::/129", "::/", "::", "10.0.0.0/08", "10.0.0.0/-1", "x/8", "::/1.5"]) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });
});

/** Groups biased towards zero, so that runs of zeros (the interesting case) are common. */
const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const groups = fc.array(group, { minLength: 8, maxLength: 8 });
const anyV6 = groups.map((g) => IpAddress.fromGroups(g));
const anyV4 = fc.nat({ max: 0xffffffff }).map((v) => IpAddress.v4(v));
const anyAddress = fc.oneof(anyV4, anyV6, anyV4.map((a) => a.toMapped()));

/** The deprecated IPv4-compatible range, where inet_ntop writes ::a.b.c.d and RFC 5952 does not. */
const isCompat = (a: IpAddress) => a.family === 6 && a.w0 === 0 && a.w1 === 0 && a.w2 === 0 && a.w3 >>> 16 !== 0;

describe("properties", () => {
  it("text round-trips: parse(format(a)) equals a, for both families", () => {
    fc.assert(
      fc.property(anyAddress, (a) => {
        const b = parseIpAddress(a.toString());
        expect(b).toBeDefined();
        expect(b!.equals(a)).toBe(true);
        expect(b!.key).toBe(a.key);
      }),
    );
  });

  it("format matches Node's inet_ntop (net.SocketAddress) outside the IPv4-compatible range", () => {
    fc.assert(
      fc.property(anyV6, (a) => {
        const text = a.toString();
        const node = new SocketAddress({ address: text, family: "ipv6" }).address;
        if (isCompat(a)) expect(node).toMatch(/^::\d/);
        else expect(text).toBe(node);
      }),
    );
  });

  it("a text is accepted exactly when net.isIP accepts it (for text built from address-like tokens)", () => {
    const token = fc.constantFrom("0", "1", "ff", "FFFF", "12345", "00001", "::", ":", "1.2.3.4", "01.2.3.4", "256.0.0.1", ".", "g", "0db8");
    fc.assert(
      fc.property(fc.array(token, { maxLength: 12 }), (parts) => {
        const text = parts.join("");
        const ours = parseIpAddress(text);
        const family = isIP(text);
        expect(ours?.family ?? 0).toBe(family);
        if (ours !== undefined && family === 6 && !isCompat(ours)) {
          expect(ours.toString()).toBe(new SocketAddress({ address: text, family: "ipv6" }).address);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("bytes round-trip through write and fromBytes, 4 or 16 of them", () => {
    fc.assert(
      fc.property(anyAddress, fc.nat({ max: 7 }), (a, at) => {
        const buf = new Uint8Array(24).fill(0xa5);
        expect(a.write(buf, at)).toBe(a.byteLength);
        expect(IpAddress.fromBytes(buf, at, a.family).equals(a)).toBe(true);
        expect(buf[at + a.byteLength]).toBe(0xa5);
        expect(Array.from(a.toBytes())).toEqual(Array.from(buf.subarray(at, at + a.byteLength)));
      }),
    );
  });

  it("equal addresses have equal keys and distinct ones distinct keys (both families, mapped included)", () => {
    fc.assert(
      fc.property(anyAddress, anyAddress, (a, b) => {
        expect(a.key === b.key).toBe(a.equals(b));
        expect(a.compare(b) === 0).toBe(a.equals(b));
        // === rather than toBe: for equal addresses -Math.sign(0) is -0, which Object.is tells from 0.
        expect(Math.sign(a.compare(b)) === -Math.sign(b.compare(a))).toBe(true);
      }),
    );
  });

  it("endpoint keys are equal exactly when address and port are", () => {
    fc.assert(
      fc.property(anyAddress, fc.nat({ max: 0xffff }), anyAddress, fc.nat({ max: 0xffff }), fc.boolean(), (a, p, b, q, same) => {
        if (same) b = a;
        expect(endpointKey(a, p) === endpointKey(b, q)).toBe(a.equals(b) && p === q);
      }),
    );
    // IPv4 keys are the connection table's numbers of today.
    expect(endpointKey(IpAddress.v4(0x0a000002), 80)).toBe(0x0a000002 * 65536 + 80);
  });

  it("a prefix contains an address exactly when their first n bits agree", () => {
    const bit = (a: IpAddress, i: number) => (a.word(i >> 5) >>> (31 - (i & 31))) & 1;
    fc.assert(
      fc.property(anyAddress, anyAddress, fc.nat({ max: 128 }), (a, b, n) => {
        const p = IpPrefix.of(a, n % (a.bitLength + 1))!;
        expect(p.contains(a)).toBe(true);
        let agree = a.family === b.family;
        const offset = a.family === 4 ? 96 : 0;
        for (let i = 0; agree && i < p.length; i++) agree = bit(a, offset + i) === bit(b, offset + i);
        expect(p.contains(b)).toBe(agree);
      }),
    );
  });
});

describe("prefixes", () => {
  it("match within their family only", () => {
    const p4 = parseIpPrefix("10.7.0.0/24")!;
    expect(p4.contains(parseIpAddress("10.7.0.200")!)).toBe(true);
    expect(p4.contains(parseIpAddress("10.7.1.0")!)).toBe(false);
    expect(p4.contains(parseIpAddress("::ffff:10.7.0.2")!)).toBe(false);
    const p6 = parseIpPrefix("fd00::/64")!;
    expect(p6.contains(parseIpAddress("fd00::2")!)).toBe(true);
    expect(p6.contains(parseIpAddress("fd00:0:0:1::2")!)).toBe(false);
    expect(parseIpPrefix("::/0")!.contains(parseIpAddress("10.0.0.1")!)).toBe(false);
    expect(parseIpPrefix("0.0.0.0/0")!.contains(parseIpAddress("10.0.0.1")!)).toBe(true);
    expect(parseIpPrefix("fe80::/10")!.contains(parseIpAddress("febf::1")!)).toBe(true);
    expect(parseIpPrefix("fe80::/10")!.contains(parseIpAddress("fec0::1")!)).toBe(false);
  });

  it("of() clears host bits and rejects a length past the family's", () => {
    expect(IpPrefix.of(parseIpAddress("fd00::ff")!, 120)!.network.toString()).toBe("fd00::");
    expect(IpPrefix.of(parseIpAddress("10.0.0.255")!, 25)!.network.toString()).toBe("10.0.0.128");
    expect(IpPrefix.of(parseIpAddress("10.0.0.1")!, 33)).toBeUndefined();
    expect(IpPrefix.of(parseIpAddress("::1")!, 129)).toBeUndefined();
    expect(IpPrefix.of(parseIpAddress("::1")!, 1.5)).toBeUndefined();
    expect(parseIpPrefix("fd00::/8")!.equals(parseIpPrefix("fd12::/8")!)).toBe(true);
    expect(parseIpPrefix("fd00::/8")!.equals(parseIpPrefix("fd00::/9")!)).toBe(false);
  });
});

describe("kinds and scopes", () => {
  it.each([
    ["0.0.0.0", "unspecified", "host"],
    ["127.0.0.1", "loopback", "host"],
    ["127.255.0.9", "loopback", "host"],
    ["169.254.1.2", "link-local", "link"],
    ["10.1.2.3", "private", "global"],
    ["172.16.0.1", "private", "global"],
    ["172.31.255.255", "private", "global"],
    ["172.32.0.1", "global", "global"],
    ["192.168.0.1", "private", "global"],
    ["224.0.0.1", "multicast", "link"],
    ["239.1.1.1", "multicast", "global"],
    ["255.255.255.255", "broadcast", "global"],
    ["93.184.216.34", "global", "global"],
    ["::", "unspecified", "host"],
    ["::1", "loopback", "host"],
    ["fe80::1", "link-local", "link"],
    ["febf:ffff::1", "link-local", "link"],
    ["fec0::1", "global", "global"],
    ["fd00::2", "unique-local", "global"],
    ["fc00::1", "unique-local", "global"],
    ["ff02::1", "multicast", "link"],
    ["ff01::1", "multicast", "host"],
    ["ff0e::1", "multicast", "global"],
    ["::ffff:10.0.0.1", "ipv4-mapped", "global"],
    ["::ffff:127.0.0.1", "ipv4-mapped", "host"],
    ["::ffff:169.254.0.1", "ipv4-mapped", "link"],
    ["2001:db8::1", "global", "global"],
  ] as const)("%s is %s with %s scope", (text, kind, scope) => {
    const a = parseIpAddress(text)!;
    expect(a.kind).toBe(kind);
    expect(a.scope).toBe(scope);
    expect(a.isLoopback).toBe(kind === "loopback");
    expect(a.isUnspecified).toBe(kind === "unspecified");
    expect(a.isMulticast).toBe(kind === "multicast");
    expect(a.isIpv4Mapped).toBe(kind === "ipv4-mapped");
  });

  it("maps and unmaps between the families; other addresses pass through", () => {
    const v4 = parseIpAddress("192.0.2.1")!;
    const mapped = v4.toMapped();
    expect(mapped.toString()).toBe("::ffff:192.0.2.1");
    expect(mapped.family).toBe(6);
    expect(mapped.equals(v4)).toBe(false);
    expect(mapped.key).not.toBe(v4.key);
    expect(mapped.unmap().equals(v4)).toBe(true);
    expect(IpAddress.LOOPBACK6.unmap()).toBe(IpAddress.LOOPBACK6);
    expect(IpAddress.LOOPBACK6.toMapped()).toBe(IpAddress.LOOPBACK6);
    expect(v4.unmap()).toBe(v4);
    expect(mapped.v4Value).toBeUndefined();
    expect(v4.v4Value).toBe(0xc0000201);
  });

  it("keys IPv4 by its uint32 value, so numeric keys of today stay valid", () => {
    expect(IpAddress.v4(0x0a000002).key).toBe(0x0a000002);
    expect(typeof IpAddress.LOOPBACK6.key).toBe("string");
    expect(IpAddress.LOOPBACK6.key).toHaveLength(8);
    const m = new Map<unknown, string>([[parseIpAddress("fd00::2")!.key, "b"]]);
    expect(m.get(parseIpAddress("fd00:0::2")!.key)).toBe("b");
  });
});
