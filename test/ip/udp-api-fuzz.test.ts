/**
 * The UDP socket API under random calls with random arguments (any value where a port,
 * address, payload or option goes): each call works or throws an error with a stable
 * `code`, and the host keeps running (poll, receive) without an exception.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { hasCode } from "../coded-error.js";
import type { UdpSocket } from "../../src/ip/udp/socket.js";
import { A, B, standalone, udpPacket } from "./helpers.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("UDP_FUZZ_RUNS", 300);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 300).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 300) });

const value = fc.oneof(
  fc.anything({ maxDepth: 1 }),
  fc.constantFrom(-1, 0, 1, 53, 65535, 65536, 1.5, Number.NaN, A, B, 0xffffffff, new Uint8Array(70_000), new Uint8Array(0), { address: A, port: 9 }, { address: "x", port: -1 }, { toString: false }),
);

const call = fc.record({
  socket: fc.nat(3),
  method: fc.constantFrom("bind" as const, "connect" as const, "disconnect" as const, "send" as const, "recv" as const, "takeError" as const, "close" as const, "inspect" as const, "setTypeOfService" as const, "open" as const, "bindNew" as const, "inbound" as const),
  args: fc.array(value, { maxLength: 3 }),
  at: fc.integer({ min: 0, max: 5000 }),
});

describe("UDP sockets under random calls", () => {
  it("every call works or throws a coded error, and the host keeps running", () => {
    fc.assert(
      fc.property(fc.array(call, { maxLength: 30, size: "medium" }), (calls) => {
        const h = standalone(B);
        const sockets: UdpSocket[] = [h.host.udp.open()];
        let now = 0;
        for (const c of calls) {
          now += c.at;
          const s = sockets[c.socket % sockets.length]!;
          try {
            switch (c.method) {
              case "open":
                sockets.push(h.host.udp.open(c.args[0] as never));
                break;
              case "bindNew":
                sockets.push(h.host.udp.bind(c.args[0] as never, c.args[1] as never, c.args[2] as never));
                break;
              case "inbound":
                h.host.receive(now, udpPacket(A, B, 7, typeof c.args[0] === "number" ? c.args[0] & 0xffff : 9, new Uint8Array(10)));
                break;
              default:
                (s[c.method] as (...a: unknown[]) => unknown).apply(s, c.args);
            }
          } catch (e) {
            expect(hasCode(e), String(e instanceof Error ? e.stack : e)).toBe(true);
          }
          expect(() => h.host.poll(now)).not.toThrow();
          h.take();
        }
      }),
      { numRuns: RUNS },
    );
  });
});
