// TcpConfig.pacing: Reno and CUBIC paced at Linux's tcp_update_pacing_rate, as under fq.
import { describe, expect, it } from "vitest";
import { resolveConfig, type TcpConfig } from "../../src/tcp/config.js";
import type { Connection } from "../../src/tcp/connection.js";
import { windowPacingRate } from "../../src/tcp/pacing.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { pair, PAIR_ADDRESSES } from "./fixtures.js";
import { StreamApp, pattern } from "./app.js";
import { established, REMOTE_SEQ } from "./harness.js";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK } from "../../src/wire/tcp.js";

describe("the window's pacing rate (Linux tcp_update_pacing_rate)", () => {
  it("is 200% of cwnd per SRTT below half of ssthresh, 120% from there on", () => {
    expect(windowPacingRate(10_000, 100_000, 0, 10)).toBeCloseTo(2000, 9); // bytes per ms
    expect(windowPacingRate(50_000, 100_000, 0, 10)).toBeCloseTo(6000, 9);
    expect(windowPacingRate(80_000, 100_000, 0, 20)).toBeCloseTo(4800, 9);
  });
  it("counts what is in flight when it exceeds the window (max(cwnd, packets_out))", () => {
    expect(windowPacingRate(10_000, 100_000, 30_000, 10)).toBeCloseTo(6000, 9);
  });
  it("is a boolean setting: anything else is a typed error", () => {
    expect(resolveConfig().pacing).toBe(false);
    expect(() => resolveConfig({ pacing: "yes" as unknown as boolean })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
  });
});

/** The client sends `bytes` to a server that only reads, over a link of `delay` ms each way, until `until`. */
function transfer(tcp: Partial<TcpConfig>, delay: number, bytes: number, until: number): { conn: Connection; events: TraceEvent[] } {
  const { net, client, server, events } = pair({ link: { delay }, tcp });
  const listener = server.tcp.listen(80);
  listener.onConnection = () => {
    const c = listener.accept();
    if (c !== undefined) new StreamApp(c, new Uint8Array(0));
  };
  const conn = client.tcp.connect({ localAddr: PAIR_ADDRESSES[4].client, remoteAddr: PAIR_ADDRESSES[4].server, remotePort: 80 });
  new StreamApp(conn, pattern(bytes, 1));
  net.run({ until });
  return { conn, events };
}

/** Bytes of new data the client sent at each instant after its first ten data segments (unpaced, as Linux). */
function burstsAfterTen(pacing: boolean, congestionControl: "cubic" | "reno"): Map<number, number> {
  const { events } = transfer({ congestionControl, pacing }, 20, 1_000_000, 300);
  const out = events.filter((e): e is Extract<TraceEvent, { type: "segment-out" }> => e.type === "segment-out" && e.host === "client" && e.segment.payload.length > 0 && !e.retransmit);
  const perInstant = new Map<number, number>();
  for (const e of out.slice(10)) perInstant.set(e.time, (perInstant.get(e.time) ?? 0) + e.segment.payload.length);
  return perInstant;
}

describe("Reno and CUBIC with pacing", () => {
  // Unpaced, slow start doubles in bursts of a whole window (28 KB, 57 KB, ... 463 KB here);
  // paced, each release is about a millisecond at the rate (pacing.ts quantum).
  const unpaced = burstsAfterTen(false, "cubic");
  it("off (the default, Linux without fq): slow start's doubling leaves in bursts of a whole window", () => {
    expect(unpaced.size).toBeLessThan(10);
    expect(Math.max(...unpaced.values())).toBeGreaterThan(200_000);
  });
  for (const cc of ["cubic", "reno"] as const) {
    it(`${cc}: the same transfer leaves spread out, no instant sending a tenth of the unpaced largest burst`, () => {
      const paced = burstsAfterTen(true, cc);
      expect(paced.size).toBeGreaterThan(100);
      expect(Math.max(...paced.values())).toBeLessThan(Math.max(...unpaced.values()) / 10);
    });
  }
});

describe("a retransmission timeout with pacing", () => {
  it("resends at once, whatever release time the pacer holds (Linux tcp_retransmit_timer: no pacing check)", () => {
    const { h, conn, iss } = established({ pacing: true });
    // Past the ten unpaced segments, and an RTT sample for the rate.
    conn.send(new Uint8Array(10 * 1460));
    h.settle();
    expect(h.takeSent()).toHaveLength(10);
    h.advance(10);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1 + 10 * 1460) });
    conn.send(new Uint8Array(1460));
    h.settle();
    expect(h.takeSent()).toHaveLength(1);
    // The pacer's next release lies ten minutes out (a wild RTT sample could put it there).
    conn.sender.pacer.nextAt = h.now + 600_000;
    h.advance(conn.inspect().rto);
    const resent = h.takeSent();
    expect(resent.map((s) => [s.seq, s.payload.length])).toEqual([[seqAdd(iss, 1 + 10 * 1460), 1460]]);
  });
});

describe("the pacer of a connection", () => {
  /** The client's sender after a short transfer, with or without TcpConfig.pacing. */
  function senderAfterTransfer(pacing: boolean): { pacerPart: unknown } {
    const { conn } = transfer({ pacing }, 5, 50_000, 100);
    expect(conn.bytesAcked).toBe(50_000);
    return conn.sender;
  }
  // Only a rate makes a pacer hold a segment; without pacing nothing sets one, so a sending
  // connection makes no pacer at all (64 bytes fewer per sending side, bench/connrate.js).
  it("is not made when pacing is off, however much is sent", () => {
    expect(senderAfterTransfer(false).pacerPart).toBeUndefined();
  });
  it("is made by the first paced segment when pacing is on", () => {
    expect(senderAfterTransfer(true).pacerPart).toBeDefined();
  });
});
