/**
 * The DNS message codec (RFC 1035 4.1): a query's exact bytes, name compression on
 * decode, A/AAAA/CNAME records, and bad messages refused with a reason instead of a throw.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CLASS_IN, TYPE_A, TYPE_AAAA, TYPE_CNAME, canonicalName, decodeMessage, encodeMessage, encodeName, encodeQuery, nameLabels, normalizeName, sameName } from "../../src/dns/message.js";
import { parseIpAddress } from "../../src/wire/address.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("DNS message codec", () => {
  it("encodes a recursive A query byte for byte (RFC 1035 4.1.1, 4.1.2)", () => {
    expect(hex(encodeQuery(0xbeef, "example.test", TYPE_A))).toBe(
      "beef" + "0100" + "0001" + "0000" + "0000" + "0000" + "076578616d706c6504746573740000010001",
    );
  });

  it("decodes a response with compressed names (RFC 1035 4.1.4)", () => {
    // Question www.test AAAA; answer: www.test CNAME web.test (web compressed onto .test), web.test AAAA fd00::2.
    const bytes = Buffer.from(
      "1234" + "8180" + "0001" + "0002" + "0000" + "0000" +
      "03777777047465737400" + "001c0001" + // @12: www.test, AAAA IN
      "c00c" + "00050001" + "0000003c" + "0006" + "03776562c010" + // CNAME -> web + pointer to "test" at 16
      "c026" + "001c0001" + "00000e10" + "0010" + "fd000000000000000000000000000002", // name = pointer to web.test at 38
      "hex",
    );
    const r = decodeMessage(new Uint8Array(bytes));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const m = r.value;
    expect(m.header).toMatchObject({ id: 0x1234, response: true, recursionDesired: true, recursionAvailable: true, rcode: 0, truncated: false });
    expect(m.questions).toEqual([{ name: "www.test", type: TYPE_AAAA, class: CLASS_IN }]);
    expect(m.answers[0]).toMatchObject({ name: "www.test", type: TYPE_CNAME, ttl: 60, target: "web.test" });
    expect(m.answers[1]).toMatchObject({ name: "web.test", type: TYPE_AAAA, ttl: 3600 });
    expect(m.answers[1]!.address!.toString()).toBe("fd00::2");
  });

  it("refuses pointer loops, forward pointers, short records and trailing bytes", () => {
    const header = "0001818000010000000000 00".replace(/ /g, "");
    const loop = decodeMessage(new Uint8Array(Buffer.from(header + "c00c" + "00010001", "hex")));
    expect(loop).toEqual({ ok: false, reason: "bad-pointer" });
    const forward = decodeMessage(new Uint8Array(Buffer.from(header + "c010" + "00010001" + "0000", "hex")));
    expect(forward).toEqual({ ok: false, reason: "bad-pointer" });
    const shortA = encodeMessage({
      header: { id: 1, response: true, opcode: 0, authoritative: false, truncated: false, recursionDesired: true, recursionAvailable: true, rcode: 0 },
      questions: [], answers: [{ name: "a.test", type: 99, class: CLASS_IN, ttl: 1, data: new Uint8Array(3) }], authorities: [], additionals: [],
    });
    shortA[shortA.length - 13] = 0; // type 99 -> type 1 (A) with a 3-byte RDATA
    shortA[shortA.length - 12] = TYPE_A;
    expect(decodeMessage(shortA)).toEqual({ ok: false, reason: "bad-rdata" });
    const q = encodeQuery(7, "a.test", TYPE_A);
    expect(decodeMessage(q.subarray(0, q.length - 1))).toEqual({ ok: false, reason: "truncated" });
    expect(decodeMessage(Uint8Array.from([...q, 0]))).toEqual({ ok: false, reason: "trailing-bytes" });
    expect(decodeMessage(new Uint8Array(5))).toEqual({ ok: false, reason: "truncated" });
  });

  it("refuses names it cannot write: labels over 63 octets, names over 255", () => {
    expect(() => encodeName(`${"a".repeat(64)}.test`)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => encodeName(Array(130).fill("ab").join("."))).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => encodeName("a..test")).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(encodeName("test.")).toEqual(encodeName("test"));
  });

  it("round-trips messages with A, AAAA and CNAME records", () => {
    const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
    const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join("."));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), name, name, fc.integer({ min: 0, max: 0x7fffffff }), (id, n1, n2, ttl) => {
        const m = {
          header: { id, response: true, opcode: 0, authoritative: true, truncated: false, recursionDesired: true, recursionAvailable: false, rcode: 3 },
          questions: [{ name: n1, type: TYPE_A, class: CLASS_IN }],
          answers: [
            { name: n1, type: TYPE_CNAME, class: CLASS_IN, ttl, target: n2 },
            { name: n2, type: TYPE_A, class: CLASS_IN, ttl, address: parseIpAddress("192.0.2.1")! },
            { name: n2, type: TYPE_AAAA, class: CLASS_IN, ttl, address: parseIpAddress("2001:db8::1")! },
          ],
          authorities: [],
          additionals: [],
        };
        const r = decodeMessage(encodeMessage(m));
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value).toEqual(m);
      }),
    );
  });

  it("never throws on random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      decodeMessage(b);
    }), { numRuns: 5000 });
  });
});

describe("names in text (RFC 1035 5.1)", () => {
  const text = (name: string): string[] => nameLabels(name).map((l) => new TextDecoder().decode(l));
  it("reads escapes as glibc's ns_name_pton does: \\. inside a label, \\DDD an octet, \\X the character X", () => {
    expect(text("a\\.b.test.")).toEqual(["a.b", "test"]);
    expect(text("a\\032b.test")).toEqual(["a b", "test"]);
    expect(text("a\\\\b")).toEqual(["a\\b"]);
    expect(text("b\\ücher")).toEqual(["bücher"]);
    expect(text(".")).toEqual([]);
    expect(text("")).toEqual([]);
    expect(normalizeName("a\\.")).toBe("a\\.");
    expect(normalizeName("a\\\\.")).toBe("a\\\\");
    expect(canonicalName("A B.test.")).toBe("A\\032B.test");
    expect(sameName("a b.test", "A\\032B.TEST.")).toBe(true);
    expect(sameName("bücher.test", "bucher.test")).toBe(false);
  });
  it.each(["a..b", ".a", "a\\", "a\\256", "a\\25", "x".repeat(64), `${"x".repeat(63)}.`.repeat(4) + "x"])("refuses %j with EINVAL", (name) => {
    expect(() => nameLabels(name)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });
});
