/** Punycode (RFC 3492) and the "xn--" labels a resolver asks for, against RFC 3492's samples and Node's own domainToASCII. */
import { domainToASCII } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { punycode, toAsciiName } from "../../src/dns/idna.js";

describe("Punycode (RFC 3492)", () => {
  it("encodes RFC 3492 7.1's samples", () => {
    const fromCodes = (codes: number[]): string => String.fromCodePoint(...codes);
    // (A) Arabic (Egyptian) and (B) Chinese (simplified).
    expect(punycode(fromCodes([0x644, 0x64a, 0x647, 0x645, 0x627, 0x628, 0x62a, 0x643, 0x644, 0x645, 0x648, 0x634, 0x639, 0x631, 0x628, 0x64a, 0x61f]))).toBe("egbpdaj6bu4bxfgehfvwxn");
    expect(punycode(fromCodes([0x4ed6, 0x4eec, 0x4e3a, 0x4ec0, 0x4e48, 0x4e0d, 0x8bf4, 0x4e2d, 0x6587]))).toBe("ihqwcrb4cv8a8dqg056pqjye");
    expect(punycode("bücher")).toBe("bcher-kva");
  });

  it("gives the labels Node's domainToASCII gives, for names of lower-case letters from several scripts", () => {
    const letter = fc.oneof(fc.integer({ min: 0x61, max: 0x7a }), fc.integer({ min: 0xe0, max: 0xfe }).filter((c) => c !== 0xf7), fc.integer({ min: 0x430, max: 0x44f }), fc.integer({ min: 0x4e00, max: 0x9fff }));
    const label = fc.array(letter, { minLength: 1, maxLength: 20 }).map((codes) => String.fromCodePoint(...codes));
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 3 }), (labels) => {
        const name = labels.join(".");
        const node = domainToASCII(name);
        if (node === "" || node.split(".").some((l) => l.length > 63)) return; // outside what Node takes
        expect(toAsciiName(name)).toBe(node);
      }),
      { numRuns: 500 },
    );
  });

  it("maps as UTS #46 does in the common case: NFC, lower case, the ideographic full stop; ASCII labels stay as written", () => {
    expect(toAsciiName("BÜCHER.Test")).toBe("xn--bcher-kva.Test");
    expect(toAsciiName("bu\u0308cher.test")).toBe("xn--bcher-kva.test"); // u + combining diaeresis
    expect(toAsciiName("日本語\u3002jp")).toBe("xn--wgv71a119e.jp");
    expect(toAsciiName("a b.test")).toBe("a b.test");
  });
});
