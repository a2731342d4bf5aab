import { afterEach, describe, expect, it } from "vitest";
import { countFromEnv, shareOf, timeoutFor } from "./env-count.js";

describe("run counts from the environment", () => {
  afterEach(() => {
    delete process.env["SYNACK_TEST_COUNT"];
  });

  it("takes the fallback when unset or empty, and a positive whole number as given", () => {
    expect(countFromEnv("SYNACK_TEST_COUNT", 300)).toBe(300);
    process.env["SYNACK_TEST_COUNT"] = " ";
    expect(countFromEnv("SYNACK_TEST_COUNT", 300)).toBe(300);
    process.env["SYNACK_TEST_COUNT"] = "2000";
    expect(countFromEnv("SYNACK_TEST_COUNT", 300)).toBe(2000);
  });

  it("refuses what would run no cases or never end, naming the variable", () => {
    for (const bad of ["abc", "2.5", "0", "-3", "1e400"]) {
      process.env["SYNACK_TEST_COUNT"] = bad;
      expect(() => countFromEnv("SYNACK_TEST_COUNT", 300)).toThrow(/^SYNACK_TEST_COUNT=.*positive whole number/);
    }
  });

  it("splits a count into whole shares, never zero", () => {
    expect(shareOf(2000, 3)).toBe(667);
    expect(shareOf(300, 3)).toBe(100);
    expect(shareOf(1, 3)).toBe(1);
  });

  it("gives a raised count time in proportion, and the default count the configured 60 s", () => {
    expect(timeoutFor(150, 150)).toBe(60_000);
    expect(timeoutFor(10, 150)).toBe(60_000);
    expect(timeoutFor(20_000, 150)).toBe(8_000_000);
    expect(timeoutFor(2000, 300)).toBe(400_000);
  });
});
