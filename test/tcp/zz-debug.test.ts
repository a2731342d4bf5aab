import { it } from "vitest";
import { SimRng } from "../../src/sim/index.js";
import { pair, CLIENT_ADDR, SERVER_ADDR } from "./fixtures.js";
import { StreamApp, pattern } from "./app.js";
import { flagNames } from "../../src/wire/tcp.js";
it("debug", () => {
  const seed = Number(process.env.SEED);
  const r = new SimRng(seed * 7919 + 1);
  const link = { delay: r.int(0, 50), jitter: r.int(0, 20), loss: r.float() * 0.3, duplicate: r.float() * 0.05, reorder: r.float() * 0.1, reorderDelay: r.int(1, 30), corrupt: r.float() * 0.05 };
  const { net, client, server, events } = pair({ seed, link });
  const up = pattern(r.int(0, 200_000), seed);
  const down = pattern(r.int(0, 200_000), seed + 1);
  const listener = server.tcp.listen(80);
  let sa: StreamApp | undefined;
  listener.onConnection = () => { const c = listener.accept(); if (c) sa = new StreamApp(c, down); };
  const conn = client.tcp.connect({ localAddr: CLIENT_ADDR, remoteAddr: SERVER_ADDR, remotePort: 80 });
  new StreamApp(conn, up);
  try { net.run({ until: 3_600_000, maxEvents: 200_000 }); } catch (e) { console.log(String(e)); }
  const fmt = (e: any) => e.type === "segment-out" || e.type === "segment-in" ? `${e.time.toFixed(1)} ${e.host} ${e.type} ${flagNames(e.segment.flags)} seq=${e.segment.seq} ack=${e.segment.ack} win=${e.segment.window} len=${e.segment.payload.length}` : `${e.time.toFixed?.(1)} ${e.host ?? e.link} ${e.type} ${JSON.stringify({...e, segment: undefined, tuple: undefined, time: undefined, host: undefined, type: undefined})}`;
  console.log(events.slice(Number(process.env.FROM ?? -60)).map(fmt).join("\n"));
  console.log(JSON.stringify(conn.inspect()), JSON.stringify(sa?.conn.inspect()));
});
