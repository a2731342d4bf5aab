/**
 * A hostile crowd at a listener: SYNs with any options (MSS 0 to 65535, window scale past
 * 14, timestamps, Fast Open cookies right and wrong, data on the SYN), handshake ACKs that
 * echo our SYN-ACK (cookie or not), stray ACKs, RSTs and data, from a few peers at once,
 * under each SYN-cookie mode, a tiny SYN queue and backlog, and Fast Open on or off; the
 * application accepts, writes, reads and closes. Nothing may throw, the half-open queue
 * stays within its bound, and once the listener and every accepted connection are closed
 * and the peers fall silent, the stack forgets everything: no entry is left behind.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import type { Connection } from "../../src/tcp/connection.js";
import { seq, seqAdd, type Seq } from "../../src/wire/seq.js";
import { ACK, FIN, PSH, RST, SYN, type TcpSegment } from "../../src/wire/tcp.js";
import { Harness, LOCAL_PORT, REMOTE_ADDR } from "./harness.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("HOSTILE_RUNS", 500);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 500).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 500) });

const PEERS = 2;
const peerPort = (p: number) => 40_000 + p;

const synOptions = fc.record(
  {
    mss: fc.integer({ min: 0, max: 65535 }),
    windowScale: fc.integer({ min: 0, max: 255 }),
    sackPermitted: fc.boolean(),
    timestamp: fc.record({ value: fc.integer({ min: 0, max: 2 ** 32 - 1 }), echo: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
    fastOpen: fc.record({ cookie: fc.uint8Array({ minLength: 0, maxLength: 16 }), exp: fc.boolean() }),
  },
  { requiredKeys: [] },
);

const action = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("syn" as const), peer: fc.nat(PEERS - 1), isn: fc.nat(), options: synOptions, data: fc.nat(2000) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("handshake" as const),
      peer: fc.nat(PEERS - 1),
      ackOffset: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) }),
      flags: fc.constantFrom(ACK, ACK, ACK, ACK | PSH, ACK | PSH, ACK | FIN, RST, RST | ACK),
      data: fc.nat(3000),
      echo: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("stray" as const),
      peer: fc.nat(PEERS - 1),
      flags: fc.constantFrom(ACK, RST, RST | ACK, FIN | ACK, SYN | ACK, 0),
      seq: fc.nat(),
      ack: fc.nat(),
      data: fc.nat(100),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("accept" as const), write: fc.nat(20_000), close: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.oneof(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 70_000 })) }) },
);

const settings = fc.record({
  synCookies: fc.constantFrom("overflow" as const, "always" as const, "never" as const),
  synQueueSize: fc.integer({ min: 1, max: 4 }),
  backlog: fc.integer({ min: 0, max: 3 }),
  fastOpen: fc.constantFrom(0x1, 0x3, 0x203, 0x603),
  timestamps: fc.boolean(),
  sack: fc.boolean(),
  windowScaling: fc.boolean(),
});

describe("hostile peers at a listener", () => {
  it("random SYNs, handshakes, strays and application calls leave nothing behind", () => {
    fc.assert(
      fc.property(settings, fc.array(action, { minLength: 1, maxLength: 80, size: "medium" }), (cfg, actions) => {
        const { backlog, ...tcp } = cfg;
        const h = new Harness(tcp);
        const listener = h.host.tcp.listen(LOCAL_PORT, backlog);
        listener.fastOpenQueueLimit = 2;
        const accepted: Connection[] = [];
        /** The latest SYN-ACK each peer received, and the ISN of its latest SYN. */
        const synAcks = new Map<number, TcpSegment>();
        const isns = new Map<number, Seq>();
        const from = (p: number) => ({ addr: REMOTE_ADDR, port: peerPort(p) });
        const take = () => {
          for (const s of h.takeSent()) if ((s.flags & (SYN | ACK)) === (SYN | ACK)) synAcks.set(s.dstPort, s);
        };
        for (const a of actions) {
          switch (a.kind) {
            case "syn": {
              isns.set(a.peer, seq(a.isn));
              h.deliver({ flags: SYN, seq: seq(a.isn), options: a.options, payload: new Uint8Array(a.data) }, from(a.peer));
              break;
            }
            case "handshake": {
              const sa = synAcks.get(peerPort(a.peer));
              const isn = isns.get(a.peer);
              if (sa === undefined || isn === undefined) break;
              const ts = sa.options.timestamp;
              h.deliver(
                {
                  flags: a.flags,
                  seq: sa.ack,
                  ack: seqAdd(sa.seq, a.ackOffset),
                  payload: new Uint8Array(a.data),
                  options: ts !== undefined && a.echo ? { timestamp: { value: 7, echo: ts.value } } : {},
                },
                from(a.peer),
              );
              break;
            }
            case "stray":
              h.deliver({ flags: a.flags, seq: seq(a.seq), ack: seq(a.ack), payload: new Uint8Array(a.data) }, from(a.peer));
              break;
            case "accept": {
              const c = listener.accept();
              if (c === undefined) break;
              accepted.push(c);
              if (c.canSend && a.write > 0) c.send(new Uint8Array(a.write));
              c.read();
              if (a.close) c.close();
              h.settle();
              break;
            }
            case "advance":
              h.advance(a.ms);
              break;
          }
          take();
          const half = h.host.tcp.allSockets().filter((s) => s.info.state === "SYN_RCVD").length;
          expect(half).toBeLessThanOrEqual(cfg.synQueueSize + listener.fastOpenQueueLimit + accepted.length);
        }
        // Everyone leaves: the listener closes (what its queues hold is reset), the
        // application closes what it took, and the peers say nothing more.
        h.host.tcp.closeListener(listener);
        for (const c of accepted) c.close();
        h.settle();
        h.advance(2 * 3600_000);
        expect(h.host.tcp.allSockets().map((s) => `${s.info.state} ${s.info.tuple.remotePort}`)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
