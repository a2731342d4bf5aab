/**
 * The connection table (S34): every socket with its state, queues and timer; counting a
 * state is one call.
 */
import { describe, expect, it } from "vitest";
import { countStates, formatTable } from "../../src/api/index.js";
import { readAll, simPair, text, untext, writeAll } from "./helpers.js";

describe("connection table", () => {
  it("half-open connections show up as SYN_RCVD and stack.count() counts them in one call", async () => {
    // The server's SYN-ACKs never arrive: every handshake stays half-open on the server.
    const { sim, client, server } = simPair();
    sim.network.setPath("server", "client", { delay: 5, loss: 1 });
    server.listen({ port: 80 });
    for (let i = 0; i < 5; i++) client.connect({ hostname: "10.0.0.2", port: 80 });
    await sim.sleep(100);
    expect(server.count("SYN_RCVD")).toBe(5);
    expect(client.count("SYN_SENT")).toBe(5);
    expect(server.count(["SYN_RCVD", "LISTEN"])).toBe(6);
    expect(server.count("LISTEN")).toBe(1);
    expect(server.count()).toBe(6);
    const listen = server.table().find((r) => r.state === "LISTEN")!;
    expect(listen.synQueue).toEqual({ length: 5, limit: 1024, drops: 0, acceptDrops: 0 });
    expect(listen.local).toBe("*:80");
    const half = server.table().find((r) => r.state === "SYN_RCVD")!;
    // The SYN-ACK retransmission timer runs (1 s initial RTO, armed at 5 ms).
    expect(half.timer?.name).toBe("on");
    expect(half.timer?.remaining).toBe(1_005 - 100);
    expect(half.remoteAddress).toBe("10.0.0.1");
    expect(half.localPort).toBe(80);
    expect(countStates(server.table(), "SYN_RCVD")).toBe(5);
  });

  it("rows carry queues, counters and TIME_WAIT's timer; formatTable prints them like ss", async () => {
    const { sim, client, server } = simPair();
    // High-water mark 0: the readable takes nothing from TCP until the application reads.
    const listener = server.listen({ port: 80, socket: { readableHighWaterMark: 0 } });
    const sock = client.connect({ hostname: "10.0.0.2", port: 80 });
    const it = listener[Symbol.asyncIterator]();
    const peer = (await it.next()).value!;
    await writeAll(sock.writable, text("abc"), 16, false);
    await sim.sleep(50);
    const peerRow = server.table().find((r) => r.state === "ESTABLISHED")!;
    expect(peerRow.recvQ).toBe(3); // received, not yet read by the application
    expect(peerRow.counters?.bytesReceived).toBe(3);
    await sock.close();
    // Read first: closing with unread data would send RST (as Linux does), not FIN.
    expect(untext(await readAll(peer.readable))).toBe("abc");
    await peer.close();
    await sim.sleep(50);
    const tw = client.table().find((r) => r.state === "TIME_WAIT")!;
    expect(tw.timer?.name).toBe("timewait");
    expect(tw.timer?.remaining).toBeGreaterThan(59_000);
    const text2 = formatTable(client.table());
    expect(text2.split("\n")[0]).toMatch(/^State\s+Recv-Q\s+Send-Q\s+Local Address:Port\s+Peer Address:Port\s+Timer$/);
    expect(text2).toMatch(/TIME_WAIT\s+0\s+0\s+10\.0\.0\.1:\d+\s+10\.0\.0\.2:80\s+timewait\(\d+ms,0\)/);
    expect(client.formatTable()).toBe(text2);
    await listener.close();
  });
});
