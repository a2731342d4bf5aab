/**
 * Receive batching (src/tcp/batch.ts): the packets of one device read are processed one by
 * one, but the transmission pass (data, ACKs) runs once at endBatch. Virtual time, two hosts
 * wired back to back, every packet captured.
 */
import { describe, expect, it } from "vitest";
import { Host } from "../../src/host/host.js";
import { SimRng } from "../../src/sim/rng.js";
import type { Connection } from "../../src/tcp/connection.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import { IpAddress, parseIpAddress } from "../../src/wire/address.js";
import { parseIpv4 } from "../../src/wire/ipv4.js";
import { ACK, parseTcp, RST, type TcpSegment } from "../../src/wire/tcp.js";

const A = parseIpAddress("10.0.0.1")!;
const B = parseIpAddress("10.0.0.2")!;

function tcpOf(p: Uint8Array): TcpSegment {
  const ip = parseIpv4(p, { verifyChecksum: true });
  if (!ip.ok) throw new Error(ip.reason);
  const t = parseTcp(ip.value.payload, { src: IpAddress.v4(ip.value.header.src), dst: IpAddress.v4(ip.value.header.dst) });
  if (!t.ok) throw new Error(t.reason);
  return t.value;
}

/** A client and a server with an established connection and nothing in flight. */
function pair(mtu = 1500, tcp: Partial<TcpConfig> = {}): { client: Host; server: Host; c: Connection; s: Connection; toServer: Uint8Array[]; toClient: Uint8Array[]; now: () => number; settle: (ms?: number) => void; write: (n: number, fill: number) => void } {
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const rng = new SimRng(13);
  const client = new Host({ name: "c", address: A, mtu, rng: rng.fork("c"), tcp, transmit: (p) => toServer.push(p) });
  const server = new Host({ name: "s", address: B, mtu, rng: rng.fork("s"), tcp, transmit: (p) => toClient.push(p) });
  const listener = server.tcp.listen(80);
  const c = client.tcp.connect({ localAddr: A, remoteAddr: B, remotePort: 80 });
  let t = 0;
  // Packet by packet, 1 ms a hop, until both sides are quiet for `ms` milliseconds.
  const settle = (ms = 5): void => {
    for (let quiet = 0; quiet < ms; ) {
      t += 1;
      const moved = toServer.length + toClient.length;
      for (const p of toServer.splice(0)) server.receive(t, p);
      for (const p of toClient.splice(0)) client.receive(t, p);
      client.poll(t);
      server.poll(t);
      quiet = moved === 0 && toServer.length + toClient.length === 0 ? quiet + 1 : 0;
    }
  };
  settle();
  const s = listener.accept();
  if (s === undefined) throw new Error("no connection");
  // An application write leaves in the client's next pass (a poll at the same time).
  const write = (n: number, fill: number): void => {
    c.send(new Uint8Array(n).fill(fill));
    client.poll(t);
  };
  return { client, server, c, s, toServer, toClient, now: () => t, settle, write };
}

/**
 * What one ACK releases leaves in its own pass here, as it would on a path of tens of ms.
 * On this 2 ms path, where the next ACK is due at once, two segments of room would
 * otherwise wait for a third of the window (Linux tcp_tso_should_defer, tested in
 * tso-chunks.test.ts); the corpus's slow-start scripts turn it off the same way.
 */
const NO_TSO_DEFERRAL: Partial<TcpConfig> = { tsoWinDivisor: 100 };

function dataSegments(packets: Uint8Array[]): number {
  return packets.filter((p) => tcpOf(p).payload.length > 0).length;
}

describe("one transmission pass per batch", () => {
  it("ACKs ten in-order segments of one batch once, acknowledging all of them", () => {
    for (const batched of [false, true]) {
      const { server, s, toServer, toClient, now, write } = pair();
      write(10 * 1448, 7); // the initial window lets all ten leave at once
      const data = toServer.splice(0);
      expect(dataSegments(data)).toBe(10);
      const last = tcpOf(data[data.length - 1]!);
      const t = now() + 1;
      if (batched) server.beginBatch();
      for (const p of data) server.receive(t, p);
      const beforeEnd = toClient.length;
      if (batched) server.endBatch(t);
      const acks = toClient.splice(0).map(tcpOf);
      expect(acks.every((a) => (a.flags & ACK) !== 0 && a.payload.length === 0)).toBe(true);
      // The last ACK covers everything, whichever way the packets came.
      expect(acks[acks.length - 1]!.ack).toBe((last.seq + last.payload.length) >>> 0);
      if (batched) {
        expect(beforeEnd).toBe(0); // nothing left during the batch
        expect(acks.length).toBe(1);
        // No delayed ACK is left waiting: the pass at the end sent it.
        expect(s.timers.delayedAck).toBe(Infinity);
        expect(server.nextDeadline()).toBeGreaterThan(t + 40);
      } else {
        // Quick ACKs at the start of a connection: one per segment (Linux tcp_in_quickack_mode).
        expect(acks.length).toBe(10);
      }
      expect(s.read().length).toBe(10 * 1448);
    }
  });

  it("frees the window of all ACKs of a batch before the sender's one pass", () => {
    // The same exchange twice: the initial window of ten segments, the server's ACKs for them
    // (quick ACKs, one per segment), and those ACKs back at the client, one by one or as a batch.
    const run = (batched: boolean): number[] => {
      const { client, server, toServer, toClient, now, write } = pair(1500, NO_TSO_DEFERRAL);
      write(200_000, 1);
      const flight = toServer.splice(0);
      expect(dataSegments(flight)).toBe(10);
      const t = now() + 1;
      for (const p of flight) server.receive(t, p);
      const acks = toClient.splice(0);
      expect(acks.length).toBe(10);
      const passes: number[] = [];
      if (batched) client.beginBatch();
      for (const p of acks) {
        client.receive(t + 1, p);
        if (toServer.length > 0) passes.push(toServer.splice(0).length);
      }
      if (batched) client.endBatch(t + 1);
      if (toServer.length > 0) passes.push(toServer.length);
      return passes;
    };
    const single = run(false);
    const batch = run(true);
    // Slow start: each ACK of a full segment opens the window by one, so 20 segments may
    // leave either way; one ACK at a time sends them in ten passes of two, the batch in one.
    expect(single).toEqual(Array(10).fill(2));
    expect(batch).toEqual([20]);
  });

  it("with Linux's TSO deferral (the default), ACKs one at a time let the window fill to a third before it sends", () => {
    // The exchange above with tcp_tso_win_divisor 3. The first ACK comes 2 ms after the last
    // send, so its two segments go at once (Linux defers only within 1 ms of a send). The
    // next ACKs arrive at the same instant with the rest of the flight's ACKs due at once, so
    // the room they free waits until it is a third of cwnd: 6 segments of 16-18.
    const { client, server, toServer, toClient, now, write } = pair();
    write(200_000, 1);
    const t = now() + 1;
    for (const p of toServer.splice(0)) server.receive(t, p);
    const passes: number[] = [];
    for (const p of toClient.splice(0)) {
      client.receive(t + 1, p);
      if (toServer.length > 0) passes.push(toServer.splice(0).length);
    }
    expect(passes).toEqual([2, 6, 6, 6]);
  });

  it.each([
    ["SACK blocks", true],
    ["a duplicate ACK without SACK", false],
  ])("lets out what earlier ACKs released before an ACK that reports a hole (%s), so recovery starts past it", (_, sack) => {
    // The initial window of ten segments, the third lost: the server ACKs the first two (each
    // at once, quick ACKs), then sends a duplicate ACK for each of the seven after the hole
    // (with SACK blocks when SACK was agreed). All nine ACKs reach the client in one batch.
    // Linux sends after every ACK (tcp_data_snd_check), so the segments the two cumulative
    // ACKs release are out before the first duplicate is looked at, and the recovery point
    // (SND.NXT then) lies past them.
    const run = (batched: boolean): { beforeDup: number; afterDup: number; total: number } => {
      const { client, server, toServer, toClient, now, write } = pair(1500, { sack, ...NO_TSO_DEFERRAL });
      write(200_000, 1);
      const flight = toServer.splice(0);
      expect(dataSegments(flight)).toBe(10);
      const t = now() + 1;
      flight.forEach((p, i) => i !== 2 && server.receive(t, p));
      const acks = toClient.splice(0).map((p) => ({ p, seg: tcpOf(p) }));
      const firstDup = acks.findIndex((a, i) => i > 0 && a.seg.ack === acks[i - 1]!.seg.ack);
      expect(firstDup).toBe(2); // two cumulative ACKs, then the duplicates
      expect((acks[firstDup]!.seg.options.sackBlocks?.length ?? 0) > 0).toBe(sack);
      if (batched) client.beginBatch();
      let beforeDup = 0;
      let afterDup = 0;
      acks.forEach(({ p }, i) => {
        if (i === firstDup) beforeDup = dataSegments(toServer);
        client.receive(t + 1, p);
        if (i === firstDup) afterDup = dataSegments(toServer);
      });
      if (batched) client.endBatch(t + 1);
      return { beforeDup, afterDup, total: dataSegments(toServer) };
    };
    const single = run(false);
    const batch = run(true);
    // Slow start: each cumulative ACK of a full segment lets two new segments leave. One at
    // a time they are out before the first duplicate arrives; in the batch they leave as it
    // arrives, before it is processed, and nothing else leaves until the batch ends.
    expect(single.beforeDup).toBe(4);
    expect(batch.beforeDup).toBe(0);
    expect(batch.afterDup).toBe(4);
    expect(batch.total).toBe(single.total);
  });

  it("still ACKs at least every 64 KiB in a batch, as GRO's largest packet", () => {
    // MTU 9000: the first flight is seven 8,948-byte segments (the server's 64 KiB window).
    const { server, s, toServer, toClient, now, write } = pair(9000);
    write(10 * 8960, 8);
    const data = toServer.splice(0);
    expect(dataSegments(data)).toBe(7);
    const t = now() + 1;
    server.beginBatch();
    const seen: number[] = [];
    for (const p of data) {
      server.receive(t, p);
      seen.push(toClient.length);
    }
    // After seven (62,636 bytes) an eighth would not fit a 64 KiB GRO packet: the ACK leaves
    // then, inside the batch, not at its end.
    expect(seen).toEqual([0, 0, 0, 0, 0, 0, 1]);
    server.endBatch(t);
    const acks = toClient.splice(0).map(tcpOf);
    expect(acks.length).toBe(1);
    const last = tcpOf(data[6]!);
    expect(acks[0]!.ack).toBe((last.seq + last.payload.length) >>> 0);
    expect(s.read().length).toBe(data.reduce((n, p) => n + tcpOf(p).payload.length, 0));
  });

  it("sends a duplicate ACK for each segment beyond a hole at once, even in a batch", () => {
    const { server, s, toServer, toClient, now, write } = pair();
    write(10 * 1448, 3);
    const data = toServer.splice(0);
    expect(data.length).toBe(10);
    const lost = data.splice(2, 1)[0]!;
    const t = now() + 1;
    server.beginBatch();
    const seen: number[] = [];
    for (const p of data) {
      server.receive(t, p);
      seen.push(toClient.length);
    }
    // Segments 1-2 in order: deferred. Segment 4 opens a hole: from then on one ACK each.
    expect(seen.slice(0, 2)).toEqual([0, 0]);
    expect(seen.slice(2)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    server.endBatch(t);
    const acks = toClient.splice(0).map(tcpOf);
    expect(acks.length).toBe(7);
    expect(new Set(acks.map((a) => a.ack)).size).toBe(1); // all duplicates of the ACK for segment 2
    expect(acks[0]!.options.sackBlocks?.length).toBeGreaterThan(0);
    // The hole filled in a batch: the ACK covering everything comes at the end.
    server.beginBatch();
    server.receive(t + 1, lost);
    expect(toClient.length).toBe(0);
    server.endBatch(t + 1);
    const full = toClient.splice(0).map(tcpOf);
    expect(full.length).toBe(1);
    expect(s.read().length).toBe(10 * 1448);
  });

  it("sends what a wake callback writes in the batch with the ACK, at the end", () => {
    const { server, s, toServer, toClient, now, write } = pair();
    s.onWake = (conn) => {
      const d = conn.read();
      if (d.length > 0) conn.send(d.subarray(0, 10)); // a short reply per wake
    };
    write(3 * 1448, 4);
    const data = toServer.splice(0);
    const t = now() + 1;
    server.beginBatch();
    for (const p of data) server.receive(t, p);
    expect(toClient.length).toBe(0);
    server.endBatch(t);
    const out = toClient.splice(0).map(tcpOf);
    // Three replies of 10 bytes coalesced into one segment that also carries the ACK.
    expect(out.length).toBe(1);
    expect(out[0]!.payload.length).toBe(30);
    const last = tcpOf(data[data.length - 1]!);
    expect(out[0]!.ack).toBe((last.seq + last.payload.length) >>> 0);
  });

  it("survives a connection reset in the middle of a batch", () => {
    const { server, client, c, s, toServer, toClient, now, write } = pair();
    write(2 * 1448, 5);
    const data = toServer.splice(0);
    c.abort("test");
    const rst = toServer.splice(0);
    expect(rst.some((p) => (tcpOf(p).flags & RST) !== 0)).toBe(true);
    const t = now() + 1;
    server.beginBatch();
    for (const p of [...data, ...rst]) server.receive(t, p);
    server.endBatch(t);
    expect(s.state).toBe("CLOSED");
    expect(toClient.length).toBe(0); // nothing sent for a connection gone in the batch
    expect(server.tcp.allConnections().length).toBe(0);
    expect(client.tcp.allConnections().length).toBe(0);
  });

  it("nests: only the outermost endBatch runs the pass", () => {
    const { server, toServer, toClient, now, write } = pair();
    write(4 * 1448, 6);
    const data = toServer.splice(0);
    const t = now() + 1;
    server.beginBatch();
    server.beginBatch();
    for (const p of data) server.receive(t, p);
    server.endBatch(t);
    expect(toClient.length).toBe(0);
    server.endBatch(t);
    expect(toClient.length).toBe(1);
    server.endBatch(t); // unbalanced: ignored
    expect(toClient.length).toBe(1);
  });
});
