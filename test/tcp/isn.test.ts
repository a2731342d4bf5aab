/** S6: initial sequence numbers per RFC 6528, with HalfSipHash-2-4 as the keyed hash. */
import { IpAddress, parseIpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { SimRng } from "../../src/sim/index.js";
import { halfSipHash24, IsnGenerator } from "../../src/tcp/isn.js";
import { seqDiff, type Seq } from "../../src/wire/seq.js";

describe("HalfSipHash-2-4", () => {
  it("matches the reference test vector for an empty message (key 00..07)", () => {
    // Reference implementation vectors_hsip32[0] = a9 35 9f 5b (little-endian output).
    expect(halfSipHash24(0x03020100, 0x07060504, []).toString(16)).toBe("5b9f35a9");
  });

  it("matches the reference vectors for the messages 00..03 and 00..07", () => {
    // vectors_hsip32[4] = 2a 6e 46 89 and [8] = d0 b8 84 8f, little-endian.
    expect(halfSipHash24(0x03020100, 0x07060504, [0x03020100]).toString(16)).toBe("89466e2a");
    expect(halfSipHash24(0x03020100, 0x07060504, [0x03020100, 0x07060504]).toString(16)).toBe("8f84b8d0");
  });
});

const V4_1 = IpAddress.v4(1);
const V4_2 = IpAddress.v4(2);

describe("ISN (RFC 6528)", () => {
  it("hashes all 128 bits of IPv6 addresses, and keeps the families apart", () => {
    const g = new IsnGenerator(new SimRng(4));
    const a = parseIpAddress("fd00::1")!;
    const isns = new Set<number>();
    // Addresses that differ only in one word each: every word is hashed.
    for (const text of ["fd00::2", "fd00::1:2", "fd00::1:0:0:2", "fd00:0:0:1::2", "fd01::2"]) isns.add(g.isn(0, a, 40000, parseIpAddress(text)!, 80));
    expect(isns.size).toBe(5);
    // IPv4 1.2.3.4 and its mapped form ::ffff:1.2.3.4 are different peers.
    const v4 = g.isn(0, parseIpAddress("10.0.0.1")!, 40000, parseIpAddress("1.2.3.4")!, 80);
    const mapped = g.isn(0, parseIpAddress("::ffff:10.0.0.1")!, 40000, parseIpAddress("::ffff:1.2.3.4")!, 80);
    expect(v4).not.toBe(mapped);
  });

  it("differs across 4-tuples and secrets, so an off-path attacker cannot predict it", () => {
    const a = new IsnGenerator(new SimRng(1));
    const b = new IsnGenerator(new SimRng(2));
    const isns = new Set<number>();
    for (let port = 40000; port < 41000; port++) isns.add(a.isn(0, V4_1, port, V4_2, 80));
    expect(isns.size).toBe(1000);
    expect(a.isn(0, V4_1, 40000, V4_2, 80)).not.toBe(b.isn(0, V4_1, 40000, V4_2, 80));
  });

  it("moves forward with the 4 us clock for one 4-tuple", () => {
    const g = new IsnGenerator(new SimRng(3));
    const first = g.isn(0, V4_1, 40000, V4_2, 80);
    const later = g.isn(1000, V4_1, 40000, V4_2, 80);
    expect(seqDiff(later as Seq, first as Seq)).toBe(250_000); // 1 s = 250,000 ticks of 4 us
  });
});
