/**
 * Soak property: two hosts exchange random streams both ways with half-close across a
 * network that loses, duplicates, reorders, corrupts and delays packets. The streams must
 * arrive exact (or, where a retry limit was legitimately exhausted, both ends report an
 * error and what arrived is a prefix), and after running to idle both ends are CLOSED.
 *
 * 1,000 seeds by default (a few seconds); SOAK_SEEDS=N runs more; SOAK_SEED=N replays one.
 */
import type { IpFamily } from "../../src/wire/address.js";
import { describe, expect, it, vi } from "vitest";
import { SimRng } from "../../src/sim/index.js";
import { pair, PAIR_ADDRESSES } from "./fixtures.js";
import { StreamApp, pattern, equalBytes } from "./app.js";
import { countFromEnv, timeoutFor } from "../env-count.js";

const SEEDS = countFromEnv("SOAK_SEEDS", 1000);
const ONLY = process.env.SOAK_SEED !== undefined ? countFromEnv("SOAK_SEED", 1) : undefined;
// More seeds get time in proportion (the 60 s of vitest.config.ts are for 1,000).
vi.setConfig({ testTimeout: timeoutFor(SEEDS, 1000) });

function isPrefix(got: Uint8Array, full: Uint8Array): boolean {
  return got.length <= full.length && equalBytes(got, full.subarray(0, got.length));
}

export function soakOne(seed: number, family: IpFamily = 4): string | undefined {
  const r = new SimRng(seed * 7919 + 1);
  const link = {
    delay: r.int(0, 50),
    jitter: r.int(0, 20),
    loss: r.float() * 0.3,
    duplicate: r.float() * 0.05,
    reorder: r.float() * 0.1,
    reorderDelay: r.int(1, 30),
    corrupt: r.float() * 0.05,
  };
  // Keep-alive lets a half-closed end notice a peer that gave up (retry limit) instead of
  // waiting in FIN_WAIT_2 forever, as a real application would arrange.
  // Loss detection and D-SACK switched at random (issue 12): RACK-TLP or duplicate ACKs.
  const tcp = { keepAliveIdle: 30_000, keepAliveInterval: 5_000, keepAliveProbes: 4, rack: r.chance(0.7), tlp: r.chance(0.7), dsack: r.chance(0.7), frto: r.chance(0.7) };
  // ECN (issue 12) from a stream of its own, so every other draw stays what it was: the
  // client asks for it half the time, and some links get a marking queue behind a bottleneck.
  const e = new SimRng(seed * 104_729 + 3);
  const clientTcp = { ecn: e.chance(0.5) ? (1 as const) : (2 as const) };
  const marking = e.chance(0.3) ? { rate: e.int(2, 50) * 1_000_000, aqm: { markAbove: e.int(1, 20) } } : {};
  // Congestion control (issue 12): BBR a third of the time, from a stream of its own too.
  const k = new SimRng(seed * 15_485_863 + 5);
  const cc = k.chance(1 / 3) ? ("bbr" as const) : ("cubic" as const);
  // Pacing of Reno/CUBIC (TcpConfig.pacing, as Linux under fq) half the time, from its own stream.
  const pacing = new SimRng(seed * 32_452_843 + 7).chance(0.5);
  // Half the time both hosts are told what the Node driver tells them (timers late by up to
  // 2 ms, none shorter than 1 ms): paced segments then leave up to 1 ms early (pacing.ts).
  const nodeClock = new SimRng(seed * 49_979_687 + 11).chance(0.5);
  const hosts = nodeClock ? { timerSlack: 2, timerGranularity: 1 } : {};
  const { net, client, server } = pair({ seed, link: { ...link, ...marking }, record: false, tcp: { ...tcp, congestionControl: cc, pacing }, clientTcp, family, hosts });
  const closeOnEof = r.chance(0.5);
  const up = pattern(r.int(0, 200_000), seed);
  const down = pattern(r.int(0, 200_000), seed + 1);
  const listener = server.tcp.listen(80);
  let serverApp: StreamApp | undefined;
  listener.onConnection = () => {
    const c = listener.accept();
    if (c === undefined) return;
    c.setKeepAlive(true, net.now);
    serverApp = new StreamApp(c, down, { closeOnEof });
  };
  const conn = client.tcp.connect({ localAddr: PAIR_ADDRESSES[family].client, remoteAddr: PAIR_ADDRESSES[family].server, remotePort: 80 });
  conn.setKeepAlive(true, net.now);
  const clientApp = new StreamApp(conn, up, { closeOnEof });
  const where = `IPv${family} seed ${seed} link ${JSON.stringify({ ...link, ...marking })} ecn ${clientTcp.ecn} cc ${cc}${pacing ? " paced" : ""}${nodeClock ? " node-clock" : ""} up ${up.length} down ${down.length}`;
  let res;
  try {
    res = net.run({ until: 3_600_000, maxEvents: 2_000_000 });
  } catch (e) {
    return `${where}: ${String(e)}`;
  }
  if (!res.idle) return `${where}: not idle after an hour of virtual time`;
  const oversize = client.counters.ip.outOversize + server.counters.ip.outOversize;
  if (oversize > 0) return `${where}: ${oversize} packets larger than the MTU were sent`;
  if (conn.state !== "CLOSED") return `${where}: client ended in ${conn.state}`;
  const leftovers = [...client.tcp.allConnections(), ...server.tcp.allConnections()];
  if (leftovers.length > 0) return `${where}: connections left: ${leftovers.map((c) => c.state).join(",")}`;
  const cErr = conn.error?.code;
  if (serverApp === undefined) {
    return cErr === "ETIMEDOUT" ? undefined : `${where}: server never accepted, client error ${cErr}`;
  }
  const s = serverApp.conn;
  const sErr = s.error?.code;
  const upOk = equalBytes(serverApp.data(), up);
  const downOk = equalBytes(clientApp.data(), down);
  if (cErr === undefined && sErr === undefined) {
    if (!upOk) return `${where}: upstream differs (${serverApp.receivedBytes}/${up.length})`;
    if (!downOk) return `${where}: downstream differs (${clientApp.receivedBytes}/${down.length})`;
    if (!clientApp.eof || !serverApp.eof) return `${where}: EOF missing`;
    return undefined;
  }
  // A retry limit was exhausted somewhere: what arrived must still be an exact prefix,
  // and the error must be one a user can act on.
  if (!isPrefix(serverApp.data(), up) || !isPrefix(clientApp.data(), down)) return `${where}: delivered data is not a prefix`;
  const okCodes = new Set(["ETIMEDOUT", "ECONNRESET", undefined]);
  if (!okCodes.has(cErr) || !okCodes.has(sErr)) return `${where}: unexpected errors ${cErr}/${sErr}`;
  return undefined;
}

describe.each([4, 6] as const)("soak over IPv%i: random streams both ways under random impairment", (family) => {
  it(`${ONLY !== undefined ? `seed ${ONLY}` : `${SEEDS} seeds`} arrive exact and close cleanly`, () => {
    const failures: string[] = [];
    const seeds = ONLY !== undefined ? [ONLY] : Array.from({ length: SEEDS }, (_, i) => i + 1);
    for (const seed of seeds) {
      const f = soakOne(seed, family);
      if (f !== undefined) failures.push(f);
      if (failures.length >= 5) break;
    }
    expect(failures, `replay with SOAK_SEED=<seed>\n${failures.join("\n")}`).toEqual([]);
  }, 600_000);
});
