/**
 * A hostile peer after a handshake that negotiated everything (SACK, timestamps, window
 * scaling and ECN) when it opened passively, or whatever the peer's SYN-ACK granted when
 * it opened actively, under each congestion control and loss detector. Its segments carry
 * random SACK blocks (inside, around and far from what we sent), timestamps (fresh, stale
 * and wild) and ECN codepoints, so the scoreboard, RACK, PRR, D-SACK undo, PAWS and the
 * ECN echo all meet input no well-behaved peer sends. Nothing may throw, the send sequence
 * variables stay ordered, what the application reads is the peer's stream in order, data
 * outstanding or queued always has a timer that will act on it, and once the peer falls
 * silent the connection comes to an end.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { seqAdd, seqDiff, seqLe, type Seq } from "../../src/wire/seq.js";
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, type SackBlock } from "../../src/wire/tcp.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import type { Connection } from "../../src/tcp/connection.js";
import type { IcmpMessage } from "../../src/wire/icmp.js";
import { parseIpv4Address, PROTO_TCP } from "../../src/wire/ipv4.js";
import { icmpPacket, rawPacket } from "../ip/helpers.js";
import { listening, LOCAL_ADDR, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ, synSent, type Harness } from "./harness.js";
import { CheckedApp, streamByte } from "./hostile-app.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const RUNS = countFromEnv("HOSTILE_RUNS", 1000);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 1000).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 1000) });

/** The states in which we may still have data or a FIN to deliver. */
const SENDING = new Set(["ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1", "CLOSING", "LAST_ACK"]);

const flagSets = [ACK, ACK, ACK, ACK | PSH, ACK | ECE, FIN | ACK, RST, RST | ACK, SYN, SYN | ACK, 0, ACK | CWR];

/** A fraction of what is in flight (SND.UNA to SND.MAX), cut to whole segments half the time. */
const inFlight = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), whole: fc.boolean() });

/** A SACK block: inside what is in flight, or anywhere relative to our ISS + 1. */
const sackBlock = fc.oneof(
  fc.record({ kind: fc.constant("flight" as const), from: inFlight, to: inFlight }),
  fc.record({ kind: fc.constant("iss" as const), start: fc.integer({ min: -2000, max: 80_000 }), len: fc.integer({ min: -100, max: 30_000 }) }),
  fc.record({ kind: fc.constant("iss" as const), start: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), len: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
);

const timestamp = fc.oneof(
  fc.record({ kind: fc.constant("fresh" as const), ahead: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ kind: fc.constant("wild" as const), value: fc.integer({ min: 0, max: 2 ** 32 - 1 }), echo: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
  fc.constant({ kind: "none" as const }),
);

const segment = fc.record({
  flags: fc.constantFrom(...flagSets),
  seqOffset: fc.oneof(fc.integer({ min: -3000, max: 70_000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  ack: fc.oneof(
    inFlight.map((f) => ({ kind: "flight" as const, ...f })),
    fc.record({ kind: fc.constant("iss" as const), offset: fc.oneof(fc.integer({ min: -100, max: 80_000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })) }),
  ),
  len: fc.integer({ min: 0, max: 1448 }),
  window: fc.integer({ min: 0, max: 65535 }),
  sacks: fc.array(sackBlock, { maxLength: 3 }), // three fit beside a timestamp
  timestamp,
  ecn: fc.integer({ min: 0, max: 3 }),
});

const action = fc.oneof(
  { weight: 6, arbitrary: segment.map((s) => ({ kind: "segment" as const, ...s })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("send" as const), len: fc.integer({ min: 0, max: 60_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "read" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 130_000 })) }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: "shutdown" as const }, { kind: "close" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("icmp" as const),
      type: fc.constantFrom("dest-unreachable" as const, "time-exceeded" as const),
      code: fc.constantFrom(0, 1, 2, 3, 4, 4, 4, 13),
      mtu: fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 65535 })),
      quoted: inFlight,
    }),
  },
);

const settings = fc.record({
  congestionControl: fc.constantFrom("reno" as const, "cubic" as const, "bbr" as const),
  rack: fc.boolean(),
  tlp: fc.boolean(),
  frto: fc.boolean(),
  dsack: fc.boolean(),
  pacing: fc.boolean(),
});

/**
 * How the connection opens: passively, the peer asking for everything; or actively, our SYN
 * asking for everything (ECN too) and the peer's SYN-ACK granting any of it, with any MSS
 * and window scale (undefined: passive).
 */
interface SynAckGrant {
  mss: number;
  windowScale: number | undefined;
  sackPermitted: boolean;
  timestamp: boolean;
  ece: boolean;
}
const opening = fc.option(
  fc.record<SynAckGrant>({
    mss: fc.integer({ min: 0, max: 65535 }),
    windowScale: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    sackPermitted: fc.boolean(),
    timestamp: fc.boolean(),
    ece: fc.boolean(),
  }),
  { nil: undefined },
);
type Settings = Partial<TcpConfig>;
type Opened = { h: Harness; conn: Connection; iss: Seq; ourTsval: number };

function passiveOpen(tcp: Settings, peerTsval: number): Opened {
  const { h, listener } = listening({ ...tcp, sack: true, timestamps: true, windowScaling: true, ecn: 2 });
  h.deliver({ flags: SYN | ECE | CWR, seq: REMOTE_SEQ, options: { mss: 1460, sackPermitted: true, windowScale: 7, timestamp: { value: peerTsval, echo: 0 } } });
  const synAck = h.takeSent()[0]!;
  const iss = synAck.seq;
  const ourTsval = synAck.options.timestamp!.value;
  h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1), options: { timestamp: { value: peerTsval + 1, echo: ourTsval } } });
  h.takeSent();
  return { h, conn: listener.accept()!, iss, ourTsval };
}

function activeOpen(tcp: Settings, o: SynAckGrant, peerTsval: number): Opened {
  const { h, conn, iss, sent } = synSent({ ...tcp, sack: true, timestamps: true, windowScaling: true, ecn: 1 });
  const ourTsval = sent.options.timestamp!.value;
  h.deliver({
    flags: SYN | ACK | (o.ece ? ECE : 0),
    seq: REMOTE_SEQ,
    ack: seqAdd(iss, 1),
    options: {
      mss: o.mss,
      ...(o.windowScale !== undefined ? { windowScale: o.windowScale } : {}),
      ...(o.sackPermitted ? { sackPermitted: true } : {}),
      ...(o.timestamp ? { timestamp: { value: peerTsval, echo: ourTsval } } : {}),
    },
  });
  return { h, conn, iss, ourTsval };
}

const ROUTER = parseIpv4Address("192.168.1.254")!;

/** What a router quotes of our segment with `seq`: its IPv4 header and the first 8 bytes of TCP. */
function quoteOf(seq: Seq): Uint8Array {
  const tcp = new Uint8Array(20);
  new DataView(tcp.buffer).setUint16(0, LOCAL_PORT);
  new DataView(tcp.buffer).setUint16(2, REMOTE_PORT);
  new DataView(tcp.buffer).setUint32(4, seq);
  return rawPacket({ src: LOCAL_ADDR, dst: REMOTE_ADDR, protocol: PROTO_TCP }, tcp).subarray(0, 28);
}

describe("hostile peer with every option negotiated", () => {
  it("random SACK blocks, timestamps and ECN marks never break the connection's invariants", () => {
    fc.assert(
      fc.property(settings, opening, fc.array(action, { minLength: 1, maxLength: 60, size: "medium" }), (tcp, open, actions) => {
        let peerClock = 1000;
        const { h, conn, iss, ourTsval } = open === undefined ? passiveOpen(tcp, peerClock++) : activeOpen(tcp, open, peerClock++);
        let lastTsval = ourTsval;
        const app = new CheckedApp(h, conn);
        for (const a of actions) {
          switch (a.kind) {
            case "segment": {
              const seqNo = seqAdd(REMOTE_SEQ, 1 + a.seqOffset);
              const payload = new Uint8Array(a.len).map((_, i) => streamByte(a.seqOffset + i));
              const flight = conn.inspect();
              const span = seqDiff(flight.sndMax, flight.sndUna);
              const at = (f: { at: number; whole: boolean }): Seq => {
                const n = Math.floor(f.at * span);
                return seqAdd(flight.sndUna, f.whole ? n - (n % 1448) : n);
              };
              const sackBlocks: SackBlock[] = a.sacks.map((b) =>
                b.kind === "flight" ? { left: at(b.from), right: at(b.to) } : { left: seqAdd(iss, 1 + b.start), right: seqAdd(iss, 1 + b.start + b.len) },
              );
              if (a.timestamp.kind === "fresh") peerClock += a.timestamp.ahead;
              const ts =
                a.timestamp.kind === "fresh"
                  ? { value: peerClock >>> 0, echo: lastTsval }
                  : a.timestamp.kind === "wild"
                    ? { value: a.timestamp.value, echo: a.timestamp.echo }
                    : undefined;
              h.deliver({
                flags: a.flags,
                seq: seqNo,
                ack: a.ack.kind === "flight" ? at(a.ack) : seqAdd(iss, 1 + a.ack.offset),
                window: a.window,
                payload,
                ecn: a.ecn,
                options: { ...(sackBlocks.length > 0 ? { sackBlocks } : {}), ...(ts !== undefined ? { timestamp: ts } : {}) },
              });
              break;
            }
            case "icmp": {
              // A router's error quoting one of our segments: in flight, or anywhere.
              const i = conn.inspect();
              const quotedSeq = seqAdd(i.sndUna, Math.floor(a.quoted.at * (seqDiff(i.sndMax, i.sndUna) + 2)) - 1);
              const original = quoteOf(quotedSeq);
              const m: IcmpMessage =
                a.type === "dest-unreachable" ? { kind: a.type, code: a.code, nextHopMtu: a.code === 4 ? a.mtu : 0, original } : { kind: a.type, code: a.code & 1, original };
              h.deliverRaw(icmpPacket(ROUTER, LOCAL_ADDR, m));
              break;
            }
            default:
              app.perform(a);
          }
          const i = conn.inspect();
          expect(seqLe(i.sndUna, i.sndNxt) && seqLe(i.sndNxt, i.sndMax)).toBe(true);
          expect(i.receiveQueued + i.outOfOrderBytes).toBeLessThanOrEqual(6 * 1024 * 1024);
          // Whatever is outstanding or waiting to go has a timer that will act on it: without
          // one the connection would wait for the peer forever. (The pacer's release time
          // counts: a wild timestamp echo can make the RTT, and so the pacing gap, seconds.)
          if (SENDING.has(i.state) && (i.sndUna !== i.sndMax || i.sendQueued > 0)) {
            const t = conn.timers;
            expect(Math.min(t.rto, t.tlp, t.reorder, t.persist, t.pacing)).toBeLessThan(Infinity);
          }
          for (const s of h.takeSent()) {
            if ((s.flags & RST) === 0) expect(s.flags & ACK).toBe(ACK);
            if ((s.flags & SYN) !== 0) expect([s.flags & (SYN | ACK), conn.state]).toEqual([SYN | ACK, "CLOSED"]);
            if (s.options.timestamp !== undefined) lastTsval = s.options.timestamp.value;
            // SACK blocks we send describe bytes of the peer's we hold: never empty or reversed.
            for (const b of s.options.sackBlocks ?? []) expect(seqLe(b.left, b.right) && b.left !== b.right).toBe(true);
          }
        }
        // However hostile the peer, the connection does not hang: a silent peer and enough
        // time bring it to an end (retries exhausted, or an orderly close).
        conn.close();
        h.advance(2 * 3600_000);
        expect(["CLOSED", "TIME_WAIT"]).toContain(conn.state);
      }),
      { numRuns: RUNS },
    );
  });
});
