/**
 * SipHash-2-4 against the vectors of its paper, and Fast Open cookies against the values
 * Linux computes (the packetdrill corpus pins them: TFO_COOKIE for the default key and
 * addresses, 00abaaabe8e954c2 in fastopen/server/simple1.pkt).
 */
import { describe, expect, it } from "vitest";
import { checkCookie, formatKey, makeCookie, parseKey, parseKeys, validCookieLength } from "../../../src/tcp/fast-open/cookie.js";
import { bytesLE, sipHash24 } from "../../../src/tcp/fast-open/siphash.js";
import { IpAddress, parseIpAddress } from "../../../src/wire/address.js";
import { parseIpv4Address } from "../../../src/wire/ipv4.js";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const v4 = (s: string) => IpAddress.v4(parseIpv4Address(s)!);
/** The paper's key: bytes 00..0f, read as two little-endian 64-bit words. */
const K0 = 0x0706050403020100n;
const K1 = 0x0f0e0d0c0b0a0908n;
const message = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

describe("SipHash-2-4", () => {
  it("matches the paper's vectors (key 00..0f, messages 00..n-1)", () => {
    // Appendix A of "SipHash: a fast short-input PRF" (15-byte message) and the
    // reference implementation's vectors.h for the empty and 8-byte messages.
    expect(sipHash24(K0, K1, message(15)).toString(16)).toBe("a129ca6149be45e5");
    expect(hex(bytesLE(sipHash24(K0, K1, message(0))))).toBe("310e0edd47db6f72");
    expect(hex(bytesLE(sipHash24(K0, K1, message(8))))).toBe("6224939a79f5f593");
  });

  it("changes with every input bit and the key", () => {
    const a = sipHash24(K0, K1, message(8));
    const m = message(8);
    m[7] ^= 1;
    expect(sipHash24(K0, K1, m)).not.toBe(a);
    expect(sipHash24(K0 ^ 1n, K1, message(8))).not.toBe(a);
  });
});

describe("Fast Open cookies as Linux makes them", () => {
  it("the corpus's TFO_COOKIE: default key, client 192.0.2.1, server 192.168.0.1", () => {
    const key = parseKey("a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4");
    expect(hex(makeCookie(key, v4("192.0.2.1"), v4("192.168.0.1")))).toBe("3021b9d889017eeb");
  });

  it("fastopen/server/simple1.pkt's cookie: client 10.248.0.2, server 192.168.0.2", () => {
    const key = parseKey("a0bf63f7-ed803d81-cd641d30-cebc4a90");
    expect(hex(makeCookie(key, v4("10.248.0.2"), v4("192.168.0.2")))).toBe("00abaaabe8e954c2");
  });

  it("IPv6 hashes both 16-byte addresses (the corpus's ipv6 TFO_COOKIE)", () => {
    const key = parseKey("a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4");
    expect(hex(makeCookie(key, parseIpAddress("fd3d:fa7b:d17d::1")!, parseIpAddress("fd3d:a0b:17d6::1")!))).toBe("c1d1e9742a47a9bc");
  });

  it("checks against the primary and the backup key, and rejects others", () => {
    const [primary, backup] = parseKeys("a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4,a0bf63f7-ed803d81-cd641d30-cebc4a90");
    const c = v4("10.0.0.1");
    const s = v4("10.0.0.2");
    expect(checkCookie([primary!, backup!], makeCookie(primary!, c, s), c, s)).toBe(0);
    expect(checkCookie([primary!, backup!], makeCookie(backup!, c, s), c, s)).toBe(1);
    expect(checkCookie([primary!], makeCookie(backup!, c, s), c, s)).toBe(-1);
    expect(checkCookie([primary!], makeCookie(primary!, s, c), c, s)).toBe(-1); // addresses swapped
    expect(checkCookie([primary!], new Uint8Array(4), c, s)).toBe(-1);
  });

  it("parses and prints keys as the sysctl does, and rejects malformed ones", () => {
    expect(formatKey(parseKey("a0bf63f7-ed803d81-cd641d30-cebc4a90"))).toBe("a0bf63f7-ed803d81-cd641d30-cebc4a90");
    expect(() => parseKey("a0bf63f7-ed803d81-cd641d30")).toThrow(/four hex words/);
    expect(() => parseKey("zz-1-2-3")).toThrow();
    expect(() => parseKeys("1-2-3-4,1-2-3-4,1-2-3-4")).toThrow(/at most/);
  });

  it("a cookie option is usable at 4..16 even bytes (Linux tcp_parse_fastopen_option)", () => {
    expect([0, 2, 3, 4, 8, 15, 16, 18].map(validCookieLength)).toEqual([false, false, false, true, true, false, true, false]);
  });
});
