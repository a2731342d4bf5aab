/**
 * Two synack hosts in the simulator, one scenario per seed behaviour (S2-S32): the states
 * each side reaches, and the segments they exchange, with times.
 */
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { anyPacket, delayNth, dropAll, dropNth, tcp } from "../../src/sim/index.js";
import type { LinkConfig } from "../../src/sim/link.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { emitIpv4Header, IPV4_MIN_HEADER, PROTO_TCP } from "../../src/wire/ipv4.js";
import { seq, seqAdd } from "../../src/wire/seq.js";
import { ACK, emitTcp, flagNames, SYN, type TcpSegment } from "../../src/wire/tcp.js";
import { equalBytes, pattern, StreamApp } from "./app.js";
import { CLIENT_ADDR, pair, SERVER_ADDR } from "./fixtures.js";

type Out = { t: number; host: string; flags: string; seq: number; ack: number; len: number };

function segmentsOut(events: TraceEvent[]): Out[] {
  return events.flatMap((e) =>
    e.type === "segment-out"
      ? [{ t: e.time, host: e.host, flags: flagNames(e.segment.flags), seq: e.segment.seq, ack: e.segment.ack, len: e.segment.payload.length }]
      : [],
  );
}

function states(events: TraceEvent[], host: string): string[] {
  return events.flatMap((e) => (e.type === "state" && e.host === host ? [`${e.to}@${e.time}`] : []));
}

function connectPair(opts: Parameters<typeof pair>[0] = {}) {
  const p = pair(opts);
  const listener = p.server.tcp.listen(80);
  const conn = p.client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 80 });
  return { ...p, listener, conn };
}

describe("S2/S3/S4 three-way handshake", () => {
  it("SYN seq=x; SYN,ACK seq=y ack=x+1; ACK seq=x+1 ack=y+1; both ESTABLISHED", () => {
    const { net, events, conn, listener } = connectPair();
    net.runFor(100);
    const s = listener.accept()!;
    const x = conn.iss;
    const y = s.iss;
    expect(segmentsOut(events)).toEqual([
      { t: 0, host: "client", flags: "SYN", seq: x, ack: 0, len: 0 },
      { t: 10, host: "server", flags: "SYN,ACK", seq: y, ack: seqAdd(x, 1), len: 0 },
      { t: 20, host: "client", flags: "ACK", seq: seqAdd(x, 1), ack: seqAdd(y, 1), len: 0 },
    ]);
    expect(states(events, "client")).toEqual(["SYN_SENT@0", "ESTABLISHED@20"]);
    expect(states(events, "server")).toEqual(["SYN_RCVD@10", "ESTABLISHED@30"]);
  });
});

describe("S8 lost SYN", () => {
  it("resends the SYN at 1, 3, 7, 15, 31, 63 s and fails with ETIMEDOUT at 127 s", () => {
    const { net, events, conn } = connectPair();
    net.setPath("client", "server", { delay: 10, filter: dropAll(tcp({ flags: SYN })) });
    net.run({ until: 200_000 });
    const syns = segmentsOut(events).filter((s) => s.flags === "SYN");
    expect(syns.map((s) => s.t)).toEqual([0, 1000, 3000, 7000, 15000, 31000, 63000]);
    expect(new Set(syns.map((s) => s.seq))).toEqual(new Set([conn.iss]));
    expect(conn.error?.code).toBe("ETIMEDOUT");
    expect(states(events, "client")).toEqual(["SYN_SENT@0", "CLOSED@127000"]);
  });

  it("a SYN lost once is recovered by the 1 s retransmission", () => {
    const { net, conn } = connectPair();
    net.setPath("client", "server", { delay: 10, filter: dropNth(tcp({ flags: SYN }), 1) });
    net.runUntil(() => conn.state === "ESTABLISHED", 5000);
    expect(net.now).toBe(1020);
  });
});

describe("S9 lost SYN,ACK", () => {
  it("the server resends SYN,ACK at 1, 3, 7, 15, 31 s and drops the half-open entry at 63 s", () => {
    const { net, events, listener } = connectPair();
    net.setPath("server", "client", { delay: 10, filter: dropAll(tcp({ flags: SYN | ACK })) });
    net.setPath("client", "server", { delay: 10, filter: dropNth(tcp({ flags: SYN }), 2, 3, 4, 5, 6, 7) });
    net.run({ until: 70_000 });
    const synAcks = segmentsOut(events).filter((s) => s.flags === "SYN,ACK");
    expect(synAcks.map((s) => s.t)).toEqual([10, 1010, 3010, 7010, 15010, 31010]);
    expect(states(events, "server")).toEqual(["SYN_RCVD@10", "CLOSED@63010"]);
    expect(listener.synQueue.size).toBe(0);
  });
});

describe("S10 lost third ACK", () => {
  it("the server's SYN,ACK retransmission makes the client ACK again", () => {
    const { net, events, listener } = connectPair();
    net.setPath("client", "server", { delay: 10, filter: dropNth(tcp({ flags: ACK, hasPayload: false }), 1) });
    net.run({ until: 2000 });
    const s = listener.accept()!;
    expect(s.state).toBe("ESTABLISHED");
    expect(states(events, "server")).toEqual(["SYN_RCVD@10", "ESTABLISHED@1030"]);
    const out = segmentsOut(events);
    expect(out.filter((o) => o.host === "client").map((o) => `${o.t} ${o.flags}`)).toEqual(["0 SYN", "20 ACK", "1020 ACK"]);
  });

  it("if the server gave up, the client's later data meets RST: 'connection reset by peer'", () => {
    const { net, events, conn } = connectPair({ serverTcp: { synAckRetries: 1 } });
    net.setPath("client", "server", { delay: 10, filter: dropAll(tcp({ flags: ACK, hasPayload: false })) });
    net.run({ until: 10_000 });
    expect(conn.state).toBe("ESTABLISHED"); // one-sided: the client thinks all is well
    expect(states(events, "server")).toEqual(["SYN_RCVD@10", "CLOSED@3010"]);
    conn.send(new TextEncoder().encode("hello?"));
    net.run({ until: 11_000 });
    expect(conn.state).toBe("CLOSED");
    expect(conn.error?.code).toBe("ECONNRESET");
    const rst = segmentsOut(events).find((o) => o.host === "server" && o.flags === "RST")!;
    expect(rst.seq).toBe(conn.rcvNxt);
  });
});

describe("S11 old duplicate SYN", () => {
  it("the client RSTs the SYN,ACK for the old SYN; the server frees the entry; the real SYN then connects", () => {
    const { net, server, events, conn } = connectPair();
    // The client's own SYN is delayed; an old SYN from the same port arrives first.
    net.setPath("client", "server", { delay: 10, filter: delayNth(tcp({ flags: SYN }), 50, 1) });
    const old = seqAdd(conn.iss, -100_000);
    net.at(1, (now) => server.receive(now, rawSegment({ seq: old, flags: SYN, srcPort: conn.tuple.localPort })));
    net.run({ until: 2000 });
    const out = segmentsOut(events);
    expect(out.slice(0, 3).map((o) => `${o.t} ${o.host} ${o.flags} seq=${o.seq - old} ack=${o.ack - old}`)).toEqual([
      `0 client SYN seq=100000 ack=${-old}`,
      `1 server SYN,ACK seq=${out[1]!.seq - old} ack=1`,
      `11 client RST seq=1 ack=${-old}`,
    ]);
    expect(states(events, "server").slice(0, 2)).toEqual(["SYN_RCVD@1", "CLOSED@21"]);
    expect(conn.state).toBe("ESTABLISHED");
    expect(server.tcp.allConnections()[0]!.irs).toBe(conn.iss);
  });
});

function rawSegment(p: { seq: number; flags: number; srcPort: number; ack?: number }): Uint8Array {
  const seg: TcpSegment = {
    srcPort: p.srcPort, dstPort: 80, seq: seq(p.seq), ack: seq(p.ack ?? 0), flags: p.flags, window: 65535,
    urgentPointer: 0, options: {}, payload: new Uint8Array(0),
  };
  const pkt = new Uint8Array(IPV4_MIN_HEADER + 20);
  emitIpv4Header({ src: CLIENT_ADDR, dst: SERVER_ADDR, protocol: PROTO_TCP, payloadLength: 20 }, pkt, 0);
  emitTcp(seg, pkt, IPV4_MIN_HEADER, { src: CLIENT_ADDR, dst: SERVER_ADDR });
  return pkt;
}

describe("S13 simultaneous open", () => {
  it("both sides go SYN_SENT -> SYN_RCVD -> ESTABLISHED", () => {
    const { net, client, server, events } = pair();
    const a = client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), localPort: 5000, remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 6000 });
    const b = server.tcp.connect({ localAddr: IpAddress.v4(SERVER_ADDR), localPort: 6000, remoteAddr: IpAddress.v4(CLIENT_ADDR), remotePort: 5000 });
    net.run({ until: 1000 });
    expect(a.state).toBe("ESTABLISHED");
    expect(b.state).toBe("ESTABLISHED");
    expect(states(events, "client")).toEqual(["SYN_SENT@0", "SYN_RCVD@10", "ESTABLISHED@20"]);
    expect(states(events, "server")).toEqual(["SYN_SENT@0", "SYN_RCVD@10", "ESTABLISHED@20"]);
    expect(segmentsOut(events).map((o) => `${o.t} ${o.host} ${o.flags}`)).toEqual([
      "0 client SYN", "0 server SYN", "10 server SYN,ACK", "10 client SYN,ACK",
      // Each SYN,ACK repeats a SYN already received: ACKed at once (Linux tcp_data_queue, D-SACK).
      "20 client ACK", "20 server ACK",
    ]);
    expect(a.rcvNxt).toBe(seqAdd(b.iss, 1));
    expect(b.rcvNxt).toBe(seqAdd(a.iss, 1));
  });
});

describe("S14-S20 reliable transfer", () => {
  function transfer(link: LinkConfig, size: number, seed = 3) {
    const { net, client, server, listener, conn } = connectPair({ link, seed, record: false });
    const up = pattern(size, 99);
    let sApp: StreamApp | undefined;
    listener.onConnection = () => (sApp = new StreamApp(listener.accept()!, new Uint8Array(0)));
    const cApp = new StreamApp(conn, up);
    net.run({ until: 3_600_000 });
    return { cApp, sApp: sApp!, up, client, server, conn };
  }

  it("1 MB arrives exact over a clean path, cut into MSS-sized segments (S14, S15)", () => {
    const { sApp, up, conn } = transfer({ delay: 5 }, 1_000_000);
    expect(equalBytes(sApp.data(), up)).toBe(true);
    expect(conn.inspect().retransmits).toBe(0);
  });

  it("survives 10% loss with retransmissions (S16)", () => {
    const { sApp, up, conn } = transfer({ delay: 20, loss: 0.1 }, 300_000);
    expect(equalBytes(sApp.data(), up)).toBe(true);
    expect(conn.inspect().retransmits).toBeGreaterThan(0);
  });

  it("survives reordering and duplication (S18, S19)", () => {
    const { sApp, up } = transfer({ delay: 20, reorder: 0.2, reorderDelay: 15, duplicate: 0.1 }, 300_000);
    expect(equalBytes(sApp.data(), up)).toBe(true);
  });

  it("drops corrupt segments silently and recovers them by retransmission (S20)", () => {
    const { sApp, up, server, client } = transfer({ delay: 20, corrupt: 0.05 }, 300_000);
    expect(equalBytes(sApp.data(), up)).toBe(true);
    const bad = (server.counters.drops["bad-checksum"] ?? 0) + (client.counters.drops["bad-checksum"] ?? 0);
    expect(bad).toBeGreaterThan(0);
  });

  it("a reader that stops makes the sender probe a zero window, then resume (S17)", () => {
    const { net, listener, conn, events } = connectPair({ tcp: { receiveBufferSize: 8192 } });
    let s: ReturnType<typeof listener.accept>;
    listener.onConnection = () => (s = listener.accept());
    const up = pattern(50_000, 7);
    const cApp = new StreamApp(conn, up, { closeAfterSend: false });
    net.run({ until: 20_000 });
    expect(conn.sndWnd).toBe(0);
    const probes = segmentsOut(events).filter((o) => o.host === "client" && o.len === 0 && o.seq === seqAdd(conn.sndUna, -1));
    expect(probes.length).toBeGreaterThan(2);
    const gaps = probes.slice(1).map((p, i) => p.t - probes[i]!.t);
    expect(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]!)).toBe(true); // backoff
    const got: Uint8Array[] = [];
    const drain = () => {
      for (let d = s!.read(); d.length > 0; d = s!.read()) got.push(d.slice());
    };
    s!.onWake = drain;
    drain();
    net.run({ until: 200_000 });
    expect(cApp.sentBytes).toBe(up.length);
    expect(got.reduce((n, d) => n + d.length, 0)).toBe(up.length);
  });
});

describe("S21 keep-alive", () => {
  it("probes an idle peer after 7200 s every 75 s and gives up after 9 probes (ETIMEDOUT)", () => {
    const { net, events, conn } = connectPair();
    net.runFor(100);
    conn.setKeepAlive(true, net.now);
    net.at(200, () => {
      net.setPath("server", "client", { delay: 10, filter: dropAll(anyPacket) });
      net.setPath("client", "server", { delay: 10, filter: dropAll(anyPacket) });
    });
    net.run({ until: 10_000_000 });
    const probes = segmentsOut(events).filter((o) => o.host === "client" && o.flags === "ACK" && o.seq === seqAdd(conn.sndUna, -1));
    expect(probes.map((p) => p.t)).toEqual(Array.from({ length: 9 }, (_, i) => 100 + 7_200_000 + i * 75_000));
    expect(conn.error?.code).toBe("ETIMEDOUT");
    expect(states(events, "client").at(-1)).toBe(`CLOSED@${100 + 7_200_000 + 9 * 75_000}`);
  });

  it("a live peer answers the probe and the connection stays", () => {
    const { net, conn, listener } = connectPair();
    net.runFor(100);
    conn.setKeepAlive(true, net.now);
    net.run({ until: 7_300_000 });
    expect(conn.state).toBe("ESTABLISHED");
    expect(listener.accept()!.state).toBe("ESTABLISHED");
  });
});

describe("S22-S25 four-way close", () => {
  it("client closes first: FIN seq=u; ACK u+1; FIN seq=w ack=u+1; ACK seq=u+1 ack=w+1; TIME_WAIT then CLOSED", () => {
    const { net, events, conn, listener } = connectPair();
    net.runFor(100);
    const s = listener.accept()!;
    s.onWake = () => {
      if (s.peerFinished && s.state === "CLOSE_WAIT") net.after(500, () => s.close());
    };
    conn.close();
    net.run({ until: 200_000 });
    const u = seqAdd(conn.iss, 1);
    const w = seqAdd(s.iss, 1);
    expect(segmentsOut(events).slice(3).map((o) => `${o.t} ${o.host} ${o.flags} seq=${o.seq} ack=${o.ack}`)).toEqual([
      `100 client FIN,ACK seq=${u} ack=${w}`,
      `110 server ACK seq=${w} ack=${seqAdd(u, 1)}`,
      `610 server FIN,ACK seq=${w} ack=${seqAdd(u, 1)}`,
      `620 client ACK seq=${seqAdd(u, 1)} ack=${seqAdd(w, 1)}`,
    ]);
    expect(states(events, "client").slice(2)).toEqual(["FIN_WAIT_1@100", "FIN_WAIT_2@120", "TIME_WAIT@620", "CLOSED@60620"]);
    expect(states(events, "server").slice(2)).toEqual(["CLOSE_WAIT@110", "LAST_ACK@610", "CLOSED@630"]);
  });

  it("server closes first: the roles swap (S25)", () => {
    const { net, events, conn, listener } = connectPair();
    net.runFor(100);
    const s = listener.accept()!;
    conn.onWake = () => {
      if (conn.peerFinished && conn.state === "CLOSE_WAIT") conn.close();
    };
    s.close();
    net.run({ until: 200_000 });
    // The client closes as soon as it sees EOF: its FIN carries the ACK of ours, so the
    // server goes from FIN_WAIT_1 straight to TIME_WAIT (S26).
    expect(states(events, "server").slice(2)).toEqual(["FIN_WAIT_1@100", "TIME_WAIT@120", "CLOSED@60120"]);
    expect(segmentsOut(events).filter((o) => o.host === "client").map((o) => o.flags)).toEqual(["SYN", "ACK", "FIN,ACK"]);
    expect(states(events, "client").slice(2)).toEqual(["CLOSE_WAIT@110", "LAST_ACK@110", "CLOSED@130"]);
  });

  it("half-close: the side in CLOSE_WAIT keeps sending until it closes (S24)", () => {
    const { net, conn, listener } = connectPair();
    net.runFor(100);
    const s = listener.accept()!;
    const reply = pattern(100_000, 5);
    conn.shutdown();
    net.runFor(100);
    expect(s.state).toBe("CLOSE_WAIT");
    expect(conn.state).toBe("FIN_WAIT_2");
    const sApp = new StreamApp(s, reply);
    const cApp = new StreamApp(conn, new Uint8Array(0));
    net.run({ until: 300_000 });
    expect(equalBytes(cApp.data(), reply)).toBe(true);
    expect(cApp.eof).toBe(true);
    expect(sApp.conn.state).toBe("CLOSED");
    expect(conn.state).toBe("CLOSED");
  });
});

describe("S26 simultaneous close", () => {
  it("both FIN at once: FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both sides", () => {
    const { net, events, conn, listener } = connectPair();
    net.runFor(100);
    const s = listener.accept()!;
    conn.close();
    s.close();
    net.run({ until: 200_000 });
    for (const h of ["client", "server"]) {
      expect(states(events, h).slice(2)).toEqual(["FIN_WAIT_1@100", "CLOSING@110", "TIME_WAIT@120", "CLOSED@60120"]);
    }
  });
});

describe("S27/S29 lost final ACK", () => {
  it("LAST_ACK retransmits its FIN; TIME_WAIT re-ACKs it and restarts the 2 MSL timer", () => {
    const { net, events, conn, listener } = connectPair();
    net.runFor(100);
    const s = listener.accept()!;
    s.onWake = () => {
      if (s.state === "CLOSE_WAIT") s.close();
    };
    // Drop the client's ACK of the server's FIN, once (the first bare ACK from now on).
    net.setPath("client", "server", { delay: 10, filter: dropNth(tcp({ flags: ACK, hasPayload: false }), 1) });
    conn.close();
    net.run({ until: 300_000 });
    const fins = segmentsOut(events).filter((o) => o.host === "server" && o.flags === "FIN,ACK");
    expect(fins).toHaveLength(2);
    const rto = fins[1]!.t - fins[0]!.t;
    expect(rto).toBeGreaterThanOrEqual(200);
    const reAck = fins[1]!.t + 10;
    expect(states(events, "client").slice(-2)).toEqual([`TIME_WAIT@${fins[0]!.t + 10}`, `CLOSED@${reAck + 60_000}`]);
    expect(s.state).toBe("CLOSED");
  });
});

describe("S28 no reuse during TIME_WAIT", () => {
  it("the same 4-tuple cannot be connected again until TIME_WAIT ends", () => {
    const { net, conn, listener, client } = connectPair();
    net.runFor(100);
    const s = listener.accept()!;
    s.onWake = () => {
      if (s.state === "CLOSE_WAIT") s.close();
    };
    conn.close();
    net.runFor(1000);
    expect(conn.state).toBe("TIME_WAIT");
    const again = { localAddr: IpAddress.v4(CLIENT_ADDR), localPort: conn.tuple.localPort, remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 80 };
    expect(() => client.tcp.connect(again)).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
    net.runFor(60_000);
    expect(client.tcp.connect(again).state).toBe("SYN_SENT");
  });
});

describe("S30/S31 orphans and segments for nothing", () => {
  it("an orphan leaves FIN_WAIT_2 after 60 s; the peer's late FIN then meets RST", () => {
    const { net, events, conn, listener } = connectPair();
    net.runFor(100);
    const s = listener.accept()!;
    conn.close();
    net.run({ until: 100_000 });
    expect(states(events, "client").slice(2)).toEqual(["FIN_WAIT_1@100", "FIN_WAIT_2@120", "CLOSED@60120"]);
    s.close();
    net.run({ until: 200_000 });
    const rst = segmentsOut(events).find((o) => o.host === "client" && o.flags === "RST")!;
    expect(rst.t).toBe(100_010);
    expect(s.state).toBe("CLOSED");
    expect(s.error?.code).toBe("ECONNRESET");
  });
});

describe("S32 errors surface with their codes", () => {
  it("connect to a port nobody listens on fails with ECONNREFUSED", () => {
    const { net, client, events } = pair();
    const c = client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 9 });
    net.run({ until: 1000 });
    expect(c.error?.code).toBe("ECONNREFUSED");
    expect(segmentsOut(events).map((o) => `${o.host} ${o.flags}`)).toEqual(["client SYN", "server RST,ACK"]);
  });

  it("abort() on one side surfaces as ECONNRESET on the other", () => {
    const { net, conn, listener } = connectPair();
    net.runFor(100);
    listener.accept()!.abort();
    net.runFor(100);
    expect(conn.error?.code).toBe("ECONNRESET");
  });

  it("shutdown() half-closes: send() afterwards throws EPIPE", () => {
    const { net, conn } = connectPair();
    net.runFor(100);
    conn.shutdown();
    expect(() => conn.send(new Uint8Array(1))).toThrow(expect.objectContaining({ code: "EPIPE" }));
  });
});

describe("TIME_WAIT table limit (tcp_max_tw_buckets)", () => {
  it("past the limit a closing connection sends its last ACK and skips TIME_WAIT", () => {
    const { net, client, server } = pair({ clientTcp: { maxTimeWait: 2 } });
    server.tcp.listen(80);
    const conns = [0, 1, 2].map(() => client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 80 }));
    net.runFor(100);
    for (const s of server.tcp.allConnections()) {
      s.onWake = () => {
        if (s.state === "CLOSE_WAIT") s.close();
      };
    }
    for (const c of conns) c.close();
    net.runFor(1000);
    expect(conns.map((c) => c.state).sort()).toEqual(["CLOSED", "TIME_WAIT", "TIME_WAIT"]);
    expect(client.tcp.timeWaitCount).toBe(2);
    expect(client.tcp.timeWaitOverflows).toBe(1);
    // The peer still got every final ACK: all server ends are CLOSED, none retransmits a FIN.
    expect(server.tcp.allConnections()).toHaveLength(0);
    net.runFor(60_000);
    expect(client.tcp.timeWaitCount).toBe(0);
  });
});
