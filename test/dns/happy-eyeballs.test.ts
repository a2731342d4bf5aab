/**
 * RFC 8305 Happy Eyeballs on a virtual clock: which attempt starts when, and who wins.
 * Attempts are fakes that succeed or fail when the test says; nothing touches a network.
 */
import { describe, expect, it } from "vitest";
import { HappyEyeballs, type Attempt } from "../../src/dns/happy-eyeballs.js";
import { IpAddress, parseIpAddress } from "../../src/wire/address.js";

class Clock {
  now = 0;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  setTimer = (at: number, fn: () => void): (() => void) => {
    const t = { at, fn, live: true };
    this.timers.push(t);
    return () => {
      t.live = false;
    };
  };
  /** Runs every timer due up to `to`, in time order, moving `now` along. */
  advance(to: number): void {
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.live = false;
      this.now = Math.max(this.now, due.at);
      due.fn();
    }
    this.now = to;
  }
}

interface Fake extends Attempt {
  address: string;
  startedAt: number;
  cancelled: boolean;
  done: (error?: Error) => void;
}

const ip = (s: string): IpAddress => parseIpAddress(s)!;

function race(opts: { attemptDelay?: number; maxAttempts?: number; families?: Array<4 | 6> } = {}) {
  const clock = new Clock();
  const attempts: Fake[] = [];
  let result: { winner?: string; errors?: string[]; at: number } | undefined;
  const he = new HappyEyeballs<Fake>({
    timers: { now: () => clock.now, setTimer: clock.setTimer },
    ...opts,
    start: (address, done) => {
      const a: Fake = { address: address.toString(), startedAt: clock.now, cancelled: false, done, cancel: () => (a.cancelled = true) };
      attempts.push(a);
      return a;
    },
    finished: (r) => {
      result = "winner" in r ? { winner: r.address.toString(), at: clock.now } : { errors: r.errors.map((e) => e.message), at: clock.now };
    },
  });
  const started = (): Array<[string, number]> => attempts.map((a) => [a.address, a.startedAt]);
  return { clock, he, attempts, started, result: () => result };
}

describe("Happy Eyeballs v2 (RFC 8305)", () => {
  it("both families fine: IPv6 is tried first and wins; IPv4 is never started", () => {
    const r = race();
    r.he.answered(6, [ip("fd00::2")]);
    r.he.answered(4, [ip("10.0.0.2")]);
    r.clock.advance(10);
    r.attempts[0]!.done();
    r.clock.advance(1000);
    expect(r.started()).toEqual([["fd00::2", 0]]);
    expect(r.result()).toEqual({ winner: "fd00::2", at: 10 });
  });

  it("IPv6 blackholed: IPv4 starts after the 250 ms Connection Attempt Delay and wins; IPv6 is cancelled", () => {
    const r = race();
    r.he.answered(6, [ip("fd00::2")]);
    r.he.answered(4, [ip("10.0.0.2")]);
    r.clock.advance(249);
    expect(r.started()).toEqual([["fd00::2", 0]]);
    r.clock.advance(250);
    expect(r.started()).toEqual([["fd00::2", 0], ["10.0.0.2", 250]]);
    r.clock.advance(260);
    r.attempts[1]!.done();
    expect(r.result()).toEqual({ winner: "10.0.0.2", at: 260 });
    expect(r.attempts[0]!.cancelled).toBe(true);
  });

  it("A first: waits the 50 ms Resolution Delay for AAAA, and starts IPv6 as soon as it arrives", () => {
    const r = race();
    r.he.answered(4, [ip("10.0.0.2")]);
    r.clock.advance(30);
    expect(r.started()).toEqual([]);
    r.he.answered(6, [ip("fd00::2")]);
    expect(r.started()).toEqual([["fd00::2", 30]]);
  });

  it("AAAA later than 50 ms: IPv4 starts at 50 ms; the late IPv6 address joins the list", () => {
    const r = race();
    r.he.answered(4, [ip("10.0.0.2")]);
    r.clock.advance(50);
    expect(r.started()).toEqual([["10.0.0.2", 50]]);
    r.clock.advance(120);
    r.he.answered(6, [ip("fd00::2")]);
    r.clock.advance(299);
    expect(r.started()).toHaveLength(1);
    r.clock.advance(300);
    expect(r.started()).toEqual([["10.0.0.2", 50], ["fd00::2", 300]]);
  });

  it("interleaves the families (IPv6 first) and starts the next attempt at once when one fails", () => {
    const r = race();
    r.he.answered(6, [ip("fd00::2"), ip("fd00::3")]);
    r.he.answered(4, [ip("10.0.0.2"), ip("10.0.0.3")]);
    for (let i = 0; i < 4; i++) {
      r.clock.advance(10 * (i + 1));
      r.attempts[i]!.done(new Error(`refused ${i}`));
    }
    expect(r.started()).toEqual([["fd00::2", 0], ["10.0.0.2", 10], ["fd00::3", 20], ["10.0.0.3", 30]]);
    expect(r.result()).toEqual({ errors: ["refused 0", "refused 1", "refused 2", "refused 3"], at: 40 });
  });

  it("clamps the Connection Attempt Delay to 100 ms .. 2 s (RFC 8305 5)", () => {
    for (const [asked, used] of [[10, 100], [5000, 2000], [300, 300]] as const) {
      const r = race({ attemptDelay: asked });
      r.he.answered(6, [ip("fd00::2")]);
      r.he.answered(4, [ip("10.0.0.2")]);
      r.clock.advance(3000);
      expect(r.started()[1]).toEqual(["10.0.0.2", used]);
    }
  });

  it("one family only, and both lookups failing: the lookup errors are the result", () => {
    const r = race({ families: [4] });
    r.he.answered(6, [ip("fd00::2")]); // not asked for: ignored
    r.he.failed(4, new Error("ENOTFOUND"));
    expect(r.started()).toEqual([]);
    expect(r.result()).toEqual({ errors: ["ENOTFOUND"], at: 0 });
  });

  it("maxAttempts 1: the first address only, no fallback", () => {
    const r = race({ maxAttempts: 1 });
    r.he.answered(6, [ip("fd00::2")]);
    r.he.answered(4, [ip("10.0.0.2")]);
    r.clock.advance(5);
    r.attempts[0]!.done(new Error("refused"));
    r.clock.advance(1000);
    expect(r.started()).toEqual([["fd00::2", 0]]);
    expect(r.result()).toEqual({ errors: ["refused"], at: 5 });
  });

  it("cancel() stops every attempt and timer and reports nothing", () => {
    const r = race();
    r.he.answered(6, [ip("fd00::2")]);
    r.he.answered(4, [ip("10.0.0.2")]);
    r.he.cancel();
    r.clock.advance(1000);
    expect(r.attempts[0]!.cancelled).toBe(true);
    expect(r.started()).toHaveLength(1);
    expect(r.result()).toBeUndefined();
  });
});
