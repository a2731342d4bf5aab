/**
 * A Host's options are configuration a program passes: whatever their values (wrong
 * types, out of range, NaN, objects that cannot be shown, nested settings half right),
 * `new Host()` either throws an error with a stable `code` or builds a host that works:
 * it completes a handshake and carries a few bytes to a well-configured peer. The TCP
 * settings alone have their own property (test/tcp/settings-fuzz.test.ts).
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { Host, type HostOptions } from "../../src/host/host.js";
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

const odd = oddValue(-1, 0, 1, 20, 67, 68, 576, 1280, 1500, 9000, 65535, 65536, 2 ** 31, 1.5, "10.0.0.1", "fd00::1", A, B);
/** Half-right nested settings: known keys with odd values. */
const nested = (keys: string[]): fc.Arbitrary<Record<string, unknown>> => fc.dictionary(fc.constantFrom(...keys), odd, { maxKeys: 3 });
const iface = fc.record({ name: fc.oneof(fc.constant("eth0"), odd), address: fc.oneof(fc.constant(A), odd), prefixLength: fc.oneof(fc.constant(24), odd), mtu: fc.oneof(fc.constant(1500), odd) }, { requiredKeys: ["address"] });
const route = fc.record({ destination: odd, prefixLength: odd, gateway: odd, interface: odd, source: odd }, { requiredKeys: [] });

/**
 * One or two options at a time: the host checks its options in order and stops at the
 * first bad one, so a draw of all of them would rarely get past the first few.
 */
const options = fc
  .array(
    fc.oneof(
      fc.record({ mtu: odd }),
      fc.record({ ttl: odd }),
      fc.record({ interfaces: fc.oneof(odd, fc.array(iface, { maxLength: 2 })) }),
      fc.record({ routes: fc.oneof(odd, fc.array(route, { maxLength: 2 })) }),
      fc.record({ reassembly: fc.oneof(odd, nested(["timeout", "maxBytes", "maxDatagrams"])) }),
      fc.record({ icmpRateLimit: fc.oneof(odd, nested(["perPeerInterval", "perPeerBurst", "globalPerSecond", "maxPeers"])) }),
      fc.record({ udp: fc.oneof(odd, nested(["receiveBufferSize", "sendBufferSize", "pmtuDiscovery"])) }),
      fc.record({ verifyChecksum: odd }),
      fc.record({ checksumOffload: odd }),
      fc.record({ gsoMaxSize: odd }),
      fc.record({ timerSlack: odd }),
      fc.record({ timerGranularity: odd }),
    ),
    { minLength: 1, maxLength: 2 },
  )
  .map((parts) => Object.assign({}, ...parts) as Record<string, unknown>);

describe("Host options", () => {
  it("throw a coded error, or make a host that completes a handshake and carries bytes", () => {
    fc.assert(
      fc.property(options, (opts) => {
        const net = new SimNetwork({ seed: 7 });
        let made = false;
        let client: Host | undefined;
        try {
          client = net.addHost("client", A, (transmit, ctx) => {
            const h = new Host({ name: "client", address: A, rng: ctx.rng, transmit, ...(opts as Partial<HostOptions>) });
            made = true;
            return h;
          }).endpoint;
        } catch (e) {
          if (!hasCode(e)) throw e;
          expect(made).toBe(false);
          return;
        }
        const server = net.addHost("server", B, (transmit, ctx) => new Host({ name: "server", address: B, rng: ctx.rng, transmit })).endpoint;
        net.connect("client", "server", { delay: 5 });
        const listener = server.tcp.listen(80);
        // The host's address may not be A (interfaces): connect from whatever it has.
        const conn = client.tcp.connect({ localAddr: client.address, remoteAddr: B, remotePort: 80 });
        net.runFor(2_000);
        // An interface set that cannot reach B (another prefix, no route) fails the open with a code; else it opens.
        if (conn.state !== "ESTABLISHED") {
          expect(conn.isClosed() || conn.state === "SYN_SENT").toBe(true);
          return;
        }
        conn.send(new Uint8Array([1, 2, 3]));
        net.runFor(2_000);
        expect(listener.accept()?.read()).toEqual(new Uint8Array([1, 2, 3]));
      }),
      { numRuns: RUNS },
    );
  });
});
