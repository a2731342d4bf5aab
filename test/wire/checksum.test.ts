import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { IpAddress } from "../../src/wire/address.js";
import { finishChecksum, internetChecksum, pseudoHeaderSum, pseudoHeaderSumFor, sumBytes, sumBytesScalar } from "../../src/wire/checksum.js";
import { MAX_SIMD_LENGTH, simdWordSum } from "../../src/wire/checksum-simd.js";
import { hex, pseudoBytes, pseudoBytes6, refChecksum, refSum } from "./helpers.js";

describe("Internet checksum (RFC 1071)", () => {
  it("matches the worked example of RFC 1071 section 3", () => {
    // 0001 + f203 + f4f5 + f6f7 = 2ddf0, folded ddf2, complement 220d.
    const bytes = hex("00 01 f2 03 f4 f5 f6 f7");
    expect(finishChecksum(sumBytes(bytes, 0, bytes.length)) ^ 0xffff).toBe(0xddf2);
    expect(internetChecksum(bytes)).toBe(0x220d);
  });

  it("pads an odd trailing byte with zero on the right", () => {
    expect(internetChecksum(hex("00 01 f2"))).toBe(~(0x0001 + 0xf200) & 0xffff);
    expect(internetChecksum(hex("ab"))).toBe(~0xab00 & 0xffff);
    expect(internetChecksum(hex("00 01 f2 03 f4"))).toBe(internetChecksum(hex("00 01 f2 03 f4 00")));
  });

  it("is 0xffff for no bytes and for all-zero bytes", () => {
    expect(internetChecksum(new Uint8Array(0))).toBe(0xffff);
    expect(internetChecksum(new Uint8Array(7))).toBe(0xffff);
  });

  it("respects start and end", () => {
    const bytes = hex("ff ff 00 01 f2 03 f4 f5 f6 f7 ff");
    expect(internetChecksum(bytes, 2, 10)).toBe(0x220d);
  });

  it("folds carries over long all-ones input (more than 64 KiB of words)", () => {
    const bytes = new Uint8Array(300_001).fill(0xff);
    expect(internetChecksum(bytes)).toBe(refChecksum(bytes));
  });

  it("a packet that includes its own checksum sums to zero (even and odd lengths)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 300 }), fc.nat(), (raw, at) => {
        const b = raw.slice();
        const o = (at % Math.floor(b.length / 2)) * 2; // a 16-bit aligned checksum field
        b[o] = 0;
        b[o + 1] = 0;
        const c = internetChecksum(b);
        b[o] = c >> 8;
        b[o + 1] = c & 0xff;
        expect(internetChecksum(b)).toBe(0);
      }),
    );
  });

  it("agrees with a naive reference for any bytes and starting sum", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 0, max: 0x7ffff }), (b, initial) => {
        const withInitial = new Uint8Array([(initial >>> 24) & 0xff, (initial >>> 16) & 0xff]);
        const low = new Uint8Array([(initial >>> 8) & 0xff, initial & 0xff]);
        expect(internetChecksum(b, 0, b.length, initial)).toBe(refChecksum(withInitial, low, b));
      }),
    );
  });

  it("pseudoHeaderSum equals the sum of the 12 pseudo-header bytes", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 255 }), fc.nat({ max: 0xffff }),
        (src, dst, proto, len) => {
          expect(finishChecksum(pseudoHeaderSum(src, dst, proto, len))).toBe(
            0xffff - refSum(pseudoBytes(src, dst, proto, len)),
          );
        }),
    );
  });
});

describe("word-at-a-time summing", () => {
  it("matches the byte-by-byte reference at every alignment and length", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.nat(7), fc.nat(7), (data, lead, cut) => {
        // Place the data at an arbitrary offset of a larger buffer, so aligned and unaligned
        // paths both run, and sum a window that may start and end anywhere.
        const backing = new Uint8Array(data.length + 16);
        backing.set(data, lead);
        const start = lead;
        const end = Math.max(start, lead + data.length - Math.min(cut, data.length));
        const window = backing.subarray(start, end);
        for (const sum of [sumBytes, sumBytesScalar]) {
          expect(finishChecksum(sum(backing, start, end))).toBe(refChecksum(window));
          expect(finishChecksum(sum(window, 0, window.length))).toBe(refChecksum(window));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("reduces the 32-bit word sum exactly, also past 2^46 where its quotient by 0xffff can round", () => {
    // Mostly 0xff bytes make the word sum large (up to 2^50 for 1 MiB) and often a
    // multiple of 0xffff or one short of it: the remainders most easily got wrong.
    fc.assert(
      fc.property(fc.integer({ min: 256, max: 1 << 20 }), fc.nat(), fc.nat(255), (len, seed, other) => {
        const b = new Uint8Array(len).fill(0xff);
        for (let i = seed % 7; i < len; i += 997 + (seed % 13)) b[i] = other;
        expect(finishChecksum(sumBytesScalar(b, 0, len))).toBe(refChecksum(b));
        expect(finishChecksum(sumBytes(b, 0, len))).toBe(refChecksum(b));
      }),
      { numRuns: 60 },
    );
    const multiple = new Uint8Array(4 * 0xffff).fill(0xff); // word sum 0xffff * 0xffffffff
    expect(finishChecksum(sumBytesScalar(multiple, 0, multiple.length))).toBe(refChecksum(multiple));
  });
});

describe("the WebAssembly SIMD loop", () => {
  it("is built on Node.js (so sumBytes is not silently the scalar loop)", () => {
    expect(simdWordSum).toBeDefined();
  });

  it("matches the reference through both copies: the whole array, and a window of a larger one", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 256, maxLength: 9000 }), fc.nat(200), fc.nat(4000), (data, lead, trail) => {
        // `lead` and `trail` bytes around the window: up to 128 outside, the whole array
        // is copied; beyond that, only the window.
        const backing = new Uint8Array(lead + data.length + trail).fill(0xa5);
        backing.set(data, lead);
        expect(finishChecksum(sumBytes(backing, lead, lead + data.length))).toBe(refChecksum(data));
      }),
      { numRuns: 300 },
    );
  });

  it("tells a sum of zero words from a nonzero multiple of 0xffff, as the fold does", () => {
    const zeros = new Uint8Array(1500);
    expect(finishChecksum(sumBytes(zeros, 0, zeros.length))).toBe(0xffff);
    const ones = new Uint8Array(1500).fill(0xff); // 750 words of 0xffff
    expect(finishChecksum(sumBytes(ones, 0, ones.length))).toBe(refChecksum(ones));
    expect(finishChecksum(sumBytes(ones, 0, ones.length))).toBe(0);
  });

  it("overflows no lane at its largest input, all ones, and hands longer ones to the scalar loop", () => {
    for (const len of [MAX_SIMD_LENGTH - 1, MAX_SIMD_LENGTH, MAX_SIMD_LENGTH + 1, MAX_SIMD_LENGTH + 200]) {
      const b = new Uint8Array(len).fill(0xff);
      b[len >> 1] = 0x12;
      expect(finishChecksum(sumBytes(b, 0, len))).toBe(refChecksum(b));
      expect(finishChecksum(sumBytes(b, 1, len))).toBe(refChecksum(b.subarray(1)));
    }
  });

  it("counts a window's bytes past the array's end as zero, not as an earlier packet's", () => {
    const long = new Uint8Array(1500).fill(0x5a);
    sumBytes(long, 0, long.length); // leaves 0x5a bytes in the module's memory
    const short = new Uint8Array(1000).map((_, i) => (i * 13) & 0xff);
    for (const sum of [sumBytes, sumBytesScalar]) {
      expect(finishChecksum(sum(short, 0, 1500))).toBe(refChecksum(short));
      expect(finishChecksum(sum(short, -4, 1000))).toBe(refChecksum(short));
    }
  });

  it("leaves the summed bytes as they were", () => {
    const b = new Uint8Array(2000).map((_, i) => (i * 31) & 0xff);
    const copy = b.slice();
    sumBytes(b, 3, 1203);
    sumBytes(b, 0, 2000);
    expect(b).toEqual(copy);
  });
});

describe("the word view kept between calls", () => {
  it("sums an array summed before, and one over another buffer in between, afresh", () => {
    const a = new Uint8Array(1500).map((_, i) => (i * 7 + 3) & 0xff);
    const b = new Uint8Array(2000).map((_, i) => (i * 13 + 1) & 0xff);
    const sums = [a, a, b, a, b.subarray(8, 1508), a].map((x) => finishChecksum(sumBytes(x, 0, x.length)));
    expect(sums).toEqual([a, a, b, a, b.subarray(8, 1508), a].map((x) => refChecksum(x)));
  });
});

describe("pseudoHeaderSumFor (both families)", () => {
  const v6 = fc.array(fc.nat({ max: 0xffff }), { minLength: 8, maxLength: 8 }).map((g) => IpAddress.fromGroups(g));
  const fold = (s: number) => {
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
    return s;
  };

  it("equals the IPv4 pseudoHeaderSum for IPv4 addresses", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 255 }), fc.nat({ max: 0xffff }), (s, d, p, l) => {
        expect(pseudoHeaderSumFor(IpAddress.v4(s), IpAddress.v4(d), p, l)).toBe(pseudoHeaderSum(s, d, p, l));
      }),
    );
  });

  it("sums the 40-byte IPv6 pseudo-header of RFC 8200 8.1 (checked with the naive reference)", () => {
    fc.assert(
      fc.property(v6, v6, fc.nat({ max: 255 }), fc.nat({ max: 0xffffffff }), (s, d, nh, l) => {
        expect(fold(pseudoHeaderSumFor(s, d, nh, l))).toBe(refSum(pseudoBytes6(s.toBytes(), d.toBytes(), nh, l)));
      }),
    );
  });
});
