/** A 6 MB bulk transfer over a 100 ms round trip, for the buffer autotuning tests. */
import type { Connection } from "../../src/tcp/connection.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { pair, PAIR_ADDRESSES } from "./fixtures.js";
import { StreamApp, pattern } from "./app.js";

export const LONG_PATH_BYTES = 6_000_000;

export interface LongPathRun {
  client: Connection;
  server: Connection | undefined;
  /** When the reading server had every byte (ms of virtual time); -1 if it never did. */
  doneAt: number;
  /** The most the client had in flight, and the largest window the server offered it. */
  maxFlight: number;
  maxWindow: number;
  now: number;
}

/** Client sends to a server that reads everything; `lockSendBuffer` sets SO_SNDBUF on the client first. */
export function longPathBulk(clientTcp: Partial<TcpConfig>, serverTcp: Partial<TcpConfig>, lockSendBuffer?: number): LongPathRun {
  const { net, client, server } = pair({ link: { delay: 50 }, clientTcp, serverTcp });
  const listener = server.tcp.listen(80);
  let sink: StreamApp | undefined;
  let serverConn: Connection | undefined;
  listener.onConnection = () => {
    const c = listener.accept();
    if (c !== undefined) sink = new StreamApp((serverConn = c), new Uint8Array(0));
  };
  const conn = client.tcp.connect({ localAddr: PAIR_ADDRESSES[4].client, remoteAddr: PAIR_ADDRESSES[4].server, remotePort: 80 });
  if (lockSendBuffer !== undefined) conn.setSendBufferSize(lockSendBuffer);
  new StreamApp(conn, pattern(LONG_PATH_BYTES, 1));
  let doneAt = -1;
  let maxFlight = 0;
  let maxWindow = 0;
  for (let t = 0; t < 30_000 && doneAt < 0; t += 5) {
    net.run({ until: t });
    const i = conn.inspect();
    maxFlight = Math.max(maxFlight, (i.sndNxt - i.sndUna) >>> 0);
    maxWindow = Math.max(maxWindow, i.sndWnd);
    if (sink !== undefined && sink.receivedBytes === LONG_PATH_BYTES) doneAt = t;
  }
  return { client: conn, server: serverConn, doneAt, maxFlight, maxWindow, now: net.now };
}
