/**
 * socket.tcpInfo() on both user APIs: the Web Streams socket and the node:net Socket, in
 * the simulator (virtual time, so the RTT is exactly the link's round trip).
 */
import { describe, expect, it } from "vitest";
import type { StreamSocket } from "../../src/api/index.js";
import { bindNet } from "../../src/node/net.js";
import { TCP_CA_Loss, TCPI_OPT_SACK, TCPI_OPT_TIMESTAMPS, TCPI_OPT_WSCALE } from "../../src/tcp/tcp-info.js";
import { simPair, text, writeAll } from "./helpers.js";

async function acceptOne(server: AsyncIterable<StreamSocket>): Promise<StreamSocket> {
  for await (const s of server) return s;
  throw new Error("listener closed before a connection arrived");
}

describe("StreamSocket.tcpInfo()", () => {
  it("reports the handshake's options and RTT, then counts the bytes written and acknowledged", async () => {
    const { sim, client, server } = simPair(); // 5 ms each way
    const listener = server.listen({ port: 7 });
    const accepted = acceptOne(listener);
    const sock = client.connect({ hostname: "10.0.0.2", port: 7 });
    expect(sock.tcpInfo()).toMatchObject({ state: 2, stateName: "SYN_SENT" });
    await sock.opened;
    const first = sock.tcpInfo();
    expect(first).toMatchObject({
      state: 1, stateName: "ESTABLISHED", rtt: 10_000, rttvar: 5_000, minRtt: 10_000, rto: 210_000,
      sndCwnd: 10, sndMss: 1448, advmss: 1448, sndWscale: 7, rcvWscale: 7, bytesAcked: 1, unacked: 0,
    });
    expect(first.options).toBe(TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
    const peer = await accepted;
    await writeAll(sock.writable, text("hello, synack"), 1024, false);
    await sim.sleep(100);
    const after = sock.tcpInfo();
    expect(after).toMatchObject({ bytesSent: 13, bytesAcked: 14, dataSegsOut: 1, unacked: 0, totalRetrans: 0 });
    expect(peer.tcpInfo()).toMatchObject({ state: 1, bytesReceived: 13, dataSegsIn: 1, rcvMss: 13 });
    await sock.close();
    await peer.close();
    await listener.close();
  });

  it("shows a lost path as the Loss state with retransmissions and backoff", async () => {
    const { sim, client, server } = simPair();
    const listener = server.listen({ port: 7 });
    const accepted = acceptOne(listener);
    const sock = client.connect({ hostname: "10.0.0.2", port: 7 });
    await sock.opened;
    await accepted;
    sim.network.setPath("client", "server", { loss: 1 });
    const writer = sock.writable.getWriter();
    void writer.write(new Uint8Array(3000));
    // A tail loss probe after 2 SRTT + 2 ms (22 ms, RFC 8985 7.2), the RTO 210 ms after it
    // (10 ms + 200 ms, as Linux), then 420 ms: one probe and two timeouts.
    await sim.sleep(700);
    expect(sock.tcpInfo()).toMatchObject({ caState: TCP_CA_Loss, retransmits: 2, backoff: 2, rto: 840_000, sndCwnd: 1, unacked: 3, lost: 3, totalRetrans: 3 });
    sock.writable.abort().catch(() => {});
    await listener.close();
  });
});

describe("node:net Socket.tcpInfo()", () => {
  it("is undefined before connect and Linux's TCP_INFO after", async () => {
    const { sim, client, server } = simPair();
    bindNet(server).createServer((s) => s.on("data", () => {})).listen(80);
    const net = bindNet(client);
    const unconnected = net.socket();
    expect(unconnected.tcpInfo()).toBeUndefined();
    const sock = net.connect({ port: 80, host: "10.0.0.2" });
    await new Promise<void>((resolve) => sock.once("connect", () => resolve()));
    expect(sock.tcpInfo()).toMatchObject({ state: 1, stateName: "ESTABLISHED", rtt: 10_000, sndCwnd: 10, sndSsthresh: 0x7fffffff });
    sock.write("x".repeat(5000));
    await sim.sleep(100);
    expect(sock.tcpInfo()).toMatchObject({ bytesSent: 5000, bytesAcked: 5001, dataSegsOut: 4, unacked: 0 });
    // 4 segments never filled the window of 10: application-limited, so it did not grow
    // (Linux tcp_is_cwnd_limited).
    expect(sock.tcpInfo()!.sndCwnd).toBe(10);
    sock.destroy();
  });
});
