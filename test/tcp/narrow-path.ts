/**
 * A transfer from host a to host b over a simulated path whose a->b direction carries at
 * most `pathMtu` bytes; with `mtuErrors` its router answers with ICMP "fragmentation
 * needed" / "packet too big", without it oversize packets vanish (a black hole).
 */
import type { TcpConfig } from "../../src/tcp/config.js";
import type { TraceEvent } from "../../src/trace/events.js";
import type { IpFamily } from "../../src/wire/address.js";
import { familyPair } from "../ipv6/helpers.js";

export interface NarrowPath {
  family?: IpFamily;
  pathMtu: number;
  bytes: number;
  tcp?: Partial<TcpConfig>;
  mtuErrors: boolean;
  runFor: number;
  /** Write in MSG_EOR records of this many bytes (each ends a record once all of it is taken). */
  record?: number;
}

export function transferOverNarrowPath(o: NarrowPath) {
  const pair = familyPair(o.family ?? 4, { a: { tcp: o.tcp ?? {} } });
  const { net, a, b, A, B, events } = pair;
  net.setPath("a", "b", { delay: 10, mtu: o.pathMtu, mtuErrors: o.mtuErrors });
  const listener = b.tcp.listen(80);
  let received = 0;
  listener.onConnection = () => {
    const s = listener.accept();
    if (s !== undefined) s.onWake = () => void (received += s.read().length);
  };
  const conn = a.tcp.connect({ localAddr: A, remoteAddr: B, remotePort: 80 });
  let queued = 0;
  conn.onWake = () => {
    while (conn.state === "ESTABLISHED" && queued < o.bytes) {
      const size = o.record === undefined ? 65536 : o.record - (queued % o.record);
      const n = conn.send(new Uint8Array(Math.min(size, o.bytes - queued)), { eor: o.record !== undefined });
      if (n === 0) break;
      queued += n;
    }
  };
  net.runFor(o.runFor);
  const probes = events.filter((e): e is Extract<TraceEvent, { type: "loss" }> => e.type === "loss" && e.action === "mtu-probe");
  const sent = events.filter((e): e is Extract<TraceEvent, { type: "segment-out" }> => e.type === "segment-out" && e.host === "a" && e.segment.payload.length > 0).map((e) => e.segment);
  return { received: () => received, conn, probes, sent, a, B };
}
