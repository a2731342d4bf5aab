/**
 * Settings from the edges of their ranges and beyond: a value resolveConfig refuses gets a
 * typed error (ERR_INVALID_ARG_VALUE), never another exception; and any combination it
 * accepts, different on each end, over IPv4 or IPv6 and any link MTU (68 bytes up, 1,280
 * for IPv6), still carries two streams across a lossy link exactly,
 * and both ends close, or both give up with an error a user can act on (brief: "no
 * config may crash the process or hang a connection forever").
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { LINUX_DEFAULTS, resolveConfig, type TcpConfig } from "../../src/tcp/config.js";
import { StreamApp, equalBytes, pattern } from "./app.js";
import { pair, PAIR_ADDRESSES } from "./fixtures.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("SETTINGS_RUNS", 300);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 300).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

/**
 * Settings in milliseconds: a huge one is a long wait the user asked for (a TIME_WAIT of 2^31
 * ms lasts 50 days), not a hang, so their edges stay within hours.
 */
const TIME_KEYS = new Set<keyof TcpConfig>(["initialRto", "minRto", "maxRto", "msl", "finWait2Timeout", "delayedAckTimeout", "keepAliveIdle", "keepAliveInterval", "challengeAckInterval", "probeInterval", "userTimeout"]);

/** A value for a numeric setting: small, around its default, at the edges, or not a count at all. */
const numberNear = (def: number, time: boolean) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 16 }) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: Math.max(4 * def, 16) }).map((n) => Math.min(n, 0xffffffff)) },
    { weight: 1, arbitrary: time ? fc.constantFrom(-1, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY) : fc.constantFrom(-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, 0xffffffff, 65535, 65536) },
  );

function valueFor(k: keyof TcpConfig): fc.Arbitrary<unknown> {
  const def = LINUX_DEFAULTS[k];
  switch (k) {
    case "congestionControl":
      return fc.constantFrom("cubic", "reno", "bbr", "vegas");
    case "synCookies":
      return fc.constantFrom("overflow", "always", "never", "");
    case "ecn":
      return fc.constantFrom(0, 1, 2, 3);
    case "fastOpenKey":
      return fc.constantFrom("", "00010203-04050607-08090a0b-0c0d0e0f", "nonsense", "0-0-0-0");
    case "ephemeralPorts":
      return fc.tuple(fc.integer({ min: 0, max: 65536 }), fc.integer({ min: 0, max: 65536 }));
    default:
      if (typeof def === "boolean") return fc.oneof({ weight: 9, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom(0, "yes", undefined) });
      return numberNear(def as number, TIME_KEYS.has(k));
  }
}

const KEYS = Object.keys(LINUX_DEFAULTS) as (keyof TcpConfig)[];
/** A few settings changed from their defaults. */
const settings = fc
  .uniqueArray(fc.constantFrom(...KEYS), { maxLength: 6 })
  .chain((keys) => fc.tuple(...keys.map((k) => valueFor(k).map((v) => [k, v] as const))))
  .map((entries) => Object.fromEntries(entries) as Partial<TcpConfig>);

/** Whether `tcp` is accepted; a refusal must be the typed error. */
function accepted(tcp: Partial<TcpConfig>): boolean {
  try {
    resolveConfig(tcp);
    return true;
  } catch (e) {
    expect(e).toMatchObject({ code: "ERR_INVALID_ARG_VALUE" });
    return false;
  }
}

describe("settings at the edges", () => {
  it("are refused with a typed error, or carry two streams exactly across a lossy link", () => {
    fc.assert(
      fc.property(settings, settings, fc.nat(1000), fc.integer({ min: 0, max: 60_000 }), fc.constantFrom(4 as const, 6 as const), fc.oneof(fc.constant(undefined), fc.integer({ min: 68, max: 9000 }), fc.constant(65535)), (clientTcp, serverTcp, seed, size, family, mtuWish) => {
        const mtu = mtuWish === undefined ? undefined : family === 6 ? Math.max(1280, mtuWish) : mtuWish;
        if (!accepted(clientTcp) || !accepted(serverTcp)) return;
        const { net, client, server } = pair({ seed, link: { delay: 5, loss: 0.02, reorder: 0.02, reorderDelay: 3 }, record: false, clientTcp, serverTcp, family, ...(mtu !== undefined ? { mtu } : {}) });
        const up = pattern(size, seed);
        const down = pattern(size >> 1, seed + 1);
        const listener = server.tcp.listen(80);
        let serverApp: StreamApp | undefined;
        listener.onConnection = () => {
          const c = listener.accept();
          if (c !== undefined) serverApp = new StreamApp(c, down, { closeOnEof: true });
        };
        const conn = client.tcp.connect({ localAddr: PAIR_ADDRESSES[family].client, remoteAddr: PAIR_ADDRESSES[family].server, remotePort: 80 });
        const clientApp = new StreamApp(conn, up, { closeOnEof: true });
        const where = JSON.stringify({ clientTcp, serverTcp, seed, size, family, mtu }, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v));
        const res = net.run({ until: 6 * 3_600_000, maxEvents: 2_000_000 });
        expect(res.idle, `${where}: not idle`).toBe(true);
        const errors = [conn.error?.code, serverApp?.conn.error?.code];
        if (errors.every((e) => e === undefined) && serverApp !== undefined) {
          expect([...client.tcp.allConnections(), ...server.tcp.allConnections()].map((c) => c.state), where).toEqual([]);
          expect(equalBytes(serverApp.data(), up), `${where}: upstream`).toBe(true);
          expect(equalBytes(clientApp.data(), down), `${where}: downstream`).toBe(true);
        } else {
          // One end gave up (TCP_USER_TIMEOUT of a millisecond, say): it is closed with an
          // error a user can act on. The other may wait, half-closed, for a FIN that will not
          // come, as Linux's does without keep-alive.
          for (const e of errors) expect(["ETIMEDOUT", "ECONNRESET", "ECONNREFUSED", undefined], where).toContain(e);
          if (conn.error !== undefined) expect(conn.state, where).toBe("CLOSED");
          if (serverApp?.conn.error !== undefined) expect(serverApp.conn.state, where).toBe("CLOSED");
        }
      }),
      { numRuns: RUNS },
    );
  });
});
