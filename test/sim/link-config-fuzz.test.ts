/**
 * A simulated link's settings come from the people testing with synack: whatever they
 * pass (wrong types, NaN, out of range, objects that cannot be shown, fault rules that
 * answer nonsense), `connect()` either refuses it with InvalidSettingError's code or the
 * link carries a connection's traffic; a fault rule's bad answer is refused with the same
 * code when the rule gives it.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { Host } from "../../src/host/host.js";
import { SimNetwork } from "../../src/sim/network.js";
import { parseIpAddress } from "../../src/wire/address.js";
import { hasCode } from "../coded-error.js";
import { countFromEnv, timeoutFor } from "../env-count.js";
import { oddValue } from "../odd-values.js";

const RUNS = countFromEnv("SETTINGS_RUNS", 300);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 300).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

const A = parseIpAddress("10.0.0.1")!;
const B = parseIpAddress("10.0.0.2")!;
const odd = oddValue(-1, 0, 0.01, 0.5, 1, 1.5, 5, 1e6, 1e-300, "packet", "sequence", { markAbove: 5 });
/** A fault rule: a real one, or one whose answers are not verdicts. */
const rule = fc.constantFrom(
  undefined,
  () => "pass" as const,
  (_p: Uint8Array, i: number) => (i % 3 === 0 ? ("drop" as const) : ("pass" as const)),
  () => ({ delay: 7 }),
  () => ({ delay: -1 }),
  () => 42,
  () => null,
  () => ({ delay: { toString: false } }),
  "drop",
);
const LINK_KEYS = ["delay", "jitter", "loss", "lossBy", "duplicate", "reorder", "reorderDelay", "corrupt", "rate", "queueLimit", "mtu", "mtuErrors", "aqm"] as const;
/**
 * Any value, or one to three settings at a time: the link checks its settings in order and
 * stops at the first bad one, so a draw of all of them would rarely get past the first few.
 */
const settings = fc.oneof(
  odd,
  fc
    .array(fc.oneof(fc.constantFrom(...LINK_KEYS).chain((k) => odd.map((v) => ({ [k]: v }))), rule.map((filter) => ({ filter }))), { minLength: 1, maxLength: 3 })
    .map((parts) => Object.assign({}, ...parts) as Record<string, unknown>),
);

describe("simulated link settings", () => {
  it("are refused with a code, or carry a connection (a fault rule's bad answer refused with a code too)", () => {
    fc.assert(
      fc.property(settings, (config) => {
        const net = new SimNetwork({ seed: 3 });
        const client = net.addHost("client", A, (transmit, ctx) => new Host({ name: "client", address: A, rng: ctx.rng, transmit })).endpoint;
        const server = net.addHost("server", B, (transmit, ctx) => new Host({ name: "server", address: B, rng: ctx.rng, transmit })).endpoint;
        try {
          net.connect("client", "server", config as never);
        } catch (e) {
          if (!hasCode(e)) throw e;
          return;
        }
        const listener = server.tcp.listen(80);
        const conn = client.tcp.connect({ localAddr: A, remoteAddr: B, remotePort: 80 });
        try {
          net.runFor(5_000);
          if (conn.state === "ESTABLISHED") conn.send(new Uint8Array(3000));
          net.runFor(60_000);
        } catch (e) {
          // Only a fault rule's answer may stop the run, and with the settings' code.
          expect(hasCode(e)).toBe(true);
          return;
        }
        // A link that delivers at all (no total loss, no rule dropping everything) lets the
        // handshake through, whatever its delay and rate: the server has a connection to accept.
        const delivers = typeof config === "object" && config !== null && (config as { loss?: unknown }).loss !== 1 && (config as { filter?: unknown }).filter === undefined;
        const lossless = delivers && [undefined, 0].includes((config as { loss?: number }).loss) && [undefined, 0].includes((config as { corrupt?: number }).corrupt) && [undefined, Infinity].includes((config as { mtu?: number }).mtu) && [undefined, Infinity].includes((config as { rate?: number }).rate) && [undefined, 0, 1, 5].includes((config as { delay?: number }).delay) && [undefined, 0].includes((config as { jitter?: number }).jitter) && [undefined, 0].includes((config as { reorder?: number }).reorder);
        if (lossless) expect(listener.accept()).toBeDefined();
      }),
      { numRuns: RUNS },
    );
  });
});
