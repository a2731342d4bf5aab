/**
 * SYN cookies (RFC 4987 3.6, Linux's layout): a cookie made for a SYN decodes back to its
 * minute counter and MSS index, ages out after two minutes, and a forged one fails the
 * hash check. `decode` is what the playground shows; `check` is what the listener uses.
 */
import { describe, expect, it } from "vitest";
import { SimRng } from "../../src/sim/rng.js";
import { COOKIE_MSS_TABLE, SynCookies } from "../../src/tcp/syn-cookies.js";
import { IpAddress } from "../../src/wire/address.js";
import { seq } from "../../src/wire/seq.js";

const tuple = { localAddr: IpAddress.v4(0x0a000002), localPort: 80, remoteAddr: IpAddress.v4(0x0a000001), remotePort: 40000 };
const clientIsn = seq(123456789);
const MINUTE = 60_000;

describe("SYN cookies", () => {
  it("a cookie decodes to the counter it was made with and the MSS index of the peer's MSS", () => {
    const c = new SynCookies(new SimRng(7));
    const { iss, mss } = c.make(5 * MINUTE + 30_000, tuple, clientIsn, 1460);
    expect(mss).toBe(1460);
    const d = c.decode(5 * MINUTE + 40_000, tuple, iss, clientIsn);
    expect(d).toMatchObject({ counter: 5, nowCounter: 5, age: 0, fresh: true, mssIndex: 3, mss: 1460, valid: true });
    expect((d.low - d.hash) & 0xffffff).toBe(3);
    expect(c.check(5 * MINUTE + 40_000, tuple, iss, clientIsn)).toBe(1460);
    // A peer MSS between table entries is rounded down to one the cookie can carry.
    expect(c.make(0, tuple, clientIsn, 1400).mss).toBe(1300);
    expect(COOKIE_MSS_TABLE).toEqual([536, 1300, 1440, 1460]);
  });

  it("one minute later it is still good; two minutes later it has expired", () => {
    const c = new SynCookies(new SimRng(7));
    const { iss } = c.make(10 * MINUTE, tuple, clientIsn, 536);
    expect(c.decode(11 * MINUTE + 59_999, tuple, iss, clientIsn)).toMatchObject({ age: 1, valid: true, mss: 536 });
    expect(c.decode(12 * MINUTE, tuple, iss, clientIsn)).toMatchObject({ age: 2, fresh: false, valid: false });
    expect(c.check(12 * MINUTE, tuple, iss, clientIsn)).toBeUndefined();
  });

  it("the 8-bit minute counter wraps: a cookie made in minute 255 is good in minute 256", () => {
    const c = new SynCookies(new SimRng(3));
    const { iss } = c.make(255 * MINUTE, tuple, clientIsn, 1440);
    expect(c.decode(256 * MINUTE, tuple, iss, clientIsn)).toMatchObject({ counter: 255, nowCounter: 0, age: 1, mss: 1440, valid: true });
  });

  it("a cookie for another 4-tuple, another client ISN or a forged value fails the hash check", () => {
    const c = new SynCookies(new SimRng(7));
    const { iss } = c.make(0, tuple, clientIsn, 1460);
    expect(c.check(0, { ...tuple, remotePort: 40001 }, iss, clientIsn)).toBeUndefined();
    expect(c.check(0, tuple, iss, seq(clientIsn + 1000))).toBeUndefined();
    // As on Linux, only the 4 table entries are protected: an ISN off by one lands on the next index.
    expect(c.check(0, tuple, iss, seq(clientIsn + 1))).toBe(1440);
    expect(c.decode(0, tuple, seq(iss + 12345), clientIsn).valid).toBe(false);
  });
});

describe("options in a cookie SYN-ACK's timestamp (Linux cookie_init_timestamp / cookie_timestamp_decode)", () => {
  it("gives back every window scale 0-14 or none, with or without SACK and ECN, at any clock; the TSval is the clock at most 63 ms back, plus the pair's offset", () => {
    const c = new SynCookies(new SimRng(5));
    for (const now of [0, 63, 64, 1_000_003, 2 ** 32 - 1, 2 ** 32 + 5]) {
      for (const windowScale of [undefined, 0, 1, 7, 14]) {
        for (const sack of [false, true]) {
          for (const ecn of [false, true]) {
            const ts = c.timestamp(now, tuple, { windowScale, sack, ecn });
            expect(c.echoedOptions(tuple, ts)).toEqual({ windowScale, sack, ecn });
            const clock = ((Math.floor(now) >>> 0) + c.tsOffset(tuple)) >>> 0;
            expect((clock - ts) >>> 0).toBeLessThan(64);
          }
        }
      }
    }
  });
});
