/**
 * Half-open entries as request records (src/tcp/request-table.ts): what a listener keeps
 * for a SYN until the handshake completes, and the connection it then builds
 * (request-child.ts). The SYN_RCVD rules themselves are in states.test.ts; these check
 * what is particular to the record: the trace it leaves, the reset on close, ICMP, and
 * that the connection it becomes is the one a SYN_RCVD connection would have become.
 */
import { describe, expect, it } from "vitest";
import { TraceHub, type TraceEvent } from "../../src/trace/events.js";
import { IpAddress } from "../../src/wire/address.js";
import { seqAdd } from "../../src/wire/seq.js";
import { ACK, RST, SYN } from "../../src/wire/tcp.js";
import { halfOpen, Harness, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ, stateOf } from "./harness.js";

const R = (n: number) => seqAdd(REMOTE_SEQ, n);

function traced(tcp = {}) {
  const hub = new TraceHub();
  const events: TraceEvent[] = [];
  hub.subscribe((e) => events.push(e));
  const h = new Harness(tcp, 1500, hub);
  const listener = h.host.tcp.listen(LOCAL_PORT);
  return { h, listener, events };
}

const summary = (events: TraceEvent[]) =>
  events.map((e) => {
    switch (e.type) {
      case "state":
        return `state ${e.from}>${e.to} (${e.cause})`;
      case "segment-out":
        return `out ${e.segment.flags}${e.retransmit ? " rtx" : ""}`;
      case "timer-armed":
        return `armed ${e.timer} @${e.at} backoff ${e.backoff}`;
      case "timer-fired":
        return `fired ${e.timer} backoff ${e.backoff}`;
      case "queue":
        return `queue syn ${e.synQueue} accept ${e.acceptQueue}`;
      default:
        return e.type;
    }
  });

describe("request records", () => {
  it("the connections a listener's records become share one local address object, and one remote object per client in a row", () => {
    const { h, listener } = traced();
    const other = (REMOTE_ADDR + 1) >>> 0;
    const peers = [
      { addr: REMOTE_ADDR, port: REMOTE_PORT },
      { addr: REMOTE_ADDR, port: REMOTE_PORT + 1 },
      { addr: other, port: REMOTE_PORT },
    ];
    for (const peer of peers) h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460 } }, peer);
    const records = halfOpen(h);
    for (const peer of peers) {
      const iss = records.find((r) => r.tuple.remotePort === peer.port && r.tuple.remoteAddr.w3 === peer.addr)!.iss;
      h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) }, peer);
    }
    const [a, b, c] = [listener.accept()!, listener.accept()!, listener.accept()!];
    expect([a.state, b.state, c.state, a.tuple.remotePort !== b.tuple.remotePort]).toEqual(["ESTABLISHED", "ESTABLISHED", "ESTABLISHED", true]);
    expect(a.tuple.localAddr).toBe(b.tuple.localAddr);
    expect(a.tuple.localAddr).toBe(c.tuple.localAddr);
    expect(a.tuple.remoteAddr).toBe(b.tuple.remoteAddr); // one client: one object
    expect(c.tuple.remoteAddr.w3).toBe(other);
    expect(c.tuple.remoteAddr).not.toBe(a.tuple.remoteAddr);
  });

  it("trace a SYN, a SYN-ACK timeout and the handshake as a SYN_RCVD connection did", () => {
    const { h, listener, events } = traced();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460 } });
    expect(summary(events)).toEqual(["segment-in", "state LISTEN>SYN_RCVD (SYN received)", `out ${SYN | ACK}`, "armed rto @1000 backoff 0", "queue syn 1 accept 0"]);
    events.length = 0;
    h.nextTimer();
    expect(summary(events)).toEqual(["fired rto backoff 0", `out ${SYN | ACK} rtx`, "armed rto @3000 backoff 1"]);
    events.length = 0;
    const iss = halfOpen(h)[0]!.iss;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    expect(summary(events)).toEqual(["segment-in", "state SYN_RCVD>ESTABLISHED (ACK of SYN received)", "queue syn 0 accept 1", "timer-cancelled"]);
    const conn = listener.accept()!;
    // The connection lived through the handshake: one SYN-ACK retransmitted, no RTT sample from it (Karn).
    expect(conn.inspect()).toMatchObject({ state: "ESTABLISHED", iss, irs: REMOTE_SEQ, sndUna: seqAdd(iss, 1), retransmits: 1, segmentsIn: 1, segmentsOut: 2, srtt: undefined });
  });

  it("give the connection an RTT sample from a SYN-ACK sent once", () => {
    const { h, listener } = traced();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460 } });
    const iss = halfOpen(h)[0]!.iss;
    h.now += 80;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(iss, 1) });
    expect(listener.accept()!.rtt.srtt).toBe(80);
  });

  it("keep what the SYN negotiated: window scale, timestamps and SACK carry over to the connection", () => {
    const h = new Harness({ windowScaling: true, timestamps: true, sack: true });
    const listener = h.host.tcp.listen(LOCAL_PORT);
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, window: 5000, options: { mss: 1400, windowScale: 3, sackPermitted: true, timestamp: { value: 777, echo: 0 } } });
    const [synAck] = h.takeSent();
    expect(synAck!.options).toMatchObject({ mss: 1460, windowScale: 7, sackPermitted: true, timestamp: { echo: 777 } });
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(synAck!.seq, 1), window: 100, options: { timestamp: { value: 778, echo: synAck!.options.timestamp!.value } } });
    const conn = listener.accept()!;
    expect(conn.inspect()).toMatchObject({ sndShift: 3, rcvShift: 7, timestamps: true, sack: true, sndWnd: 800, sendMss: 1400 - 12 });
    conn.send(new Uint8Array([1]));
    h.settle();
    const [data] = h.takeSent();
    expect(data!.options.timestamp!.echo).toBe(778);
  });

  it("are reset with RST,ACK when the listener closes", () => {
    const { h, listener, events } = traced();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ });
    const iss = halfOpen(h)[0]!.iss;
    h.takeSent();
    events.length = 0;
    h.host.tcp.closeListener(listener);
    h.expectSent([{ flags: RST | ACK, seq: seqAdd(iss, 1), ack: R(1) }]);
    expect(summary(events)).toContain("state SYN_RCVD>CLOSED (listener closed)");
    expect(h.host.tcp.allSockets()).toHaveLength(0);
    expect(h.host.nextDeadline()).toBe(Infinity);
  });

  it("are forgotten on an ICMP error quoting our SYN-ACK, and ignore one quoting another sequence number", () => {
    const { h, listener } = traced();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ });
    const half = halfOpen(h)[0]!;
    h.takeSent();
    const quote = (seq: number) => {
      const t = new Uint8Array(8);
      new DataView(t.buffer).setUint16(0, half.tuple.localPort);
      new DataView(t.buffer).setUint16(2, half.tuple.remotePort);
      new DataView(t.buffer).setUint32(4, seq);
      return { src: half.tuple.localAddr.w3, dst: half.tuple.remoteAddr.w3, transport: t } as never;
    };
    expect(h.host.tcp.icmpError(quote(seqAdd(half.iss, 100)), 3, 1, 0x0a000009)).toBe(false);
    expect(h.host.tcp.outOfWindowIcmps).toBe(1);
    expect(stateOf(h)).toBe("SYN_RCVD");
    expect(h.host.tcp.icmpError(quote(half.iss), 3, 1, 0x0a000009)).toBe(true);
    expect(stateOf(h)).toBe("CLOSED");
    expect(listener.synQueue.size).toBe(0);
    h.expectNothingSent();
  });
});

describe("socketsTo (the playground's per-step snapshot of its drawn hosts)", () => {
  it("lists the same entries as allSockets filtered by remote address, half-open records and connections alike", () => {
    const { h } = traced();
    const peers = [0x0a000001, 0x0a000002, 0x0a000003];
    // Two half-open records per peer, and one completed connection from the second peer.
    for (const [i, addr] of peers.entries())
      for (const port of [40000 + i, 41000 + i]) {
        h.deliver({ flags: SYN, seq: REMOTE_SEQ }, { addr, port });
      }
    const synAcks = h.takeSent();
    expect(synAcks).toHaveLength(6);
    const second = synAcks.find((s) => s.dstPort === 40001)!;
    h.deliver({ flags: ACK, seq: R(1), ack: seqAdd(second.seq, 1) }, { addr: peers[1]!, port: 40001 });
    const keys = (s: { info: { tuple: { remoteAddr: { key: unknown }; remotePort: number }; state: string } }[]) => s.map((x) => `${String(x.info.tuple.remoteAddr.key)}:${x.info.tuple.remotePort} ${x.info.state}`);
    for (const wanted of [[peers[1]!], [peers[0]!, peers[2]!], [0x0b000001]]) {
      const set = new Set(wanted.map((a) => IpAddress.v4(a).key));
      const expected = keys(h.host.tcp.allSockets((t) => set.has(t.remoteAddr.key)));
      expect(keys(h.host.tcp.socketsTo(set))).toEqual(expected);
    }
    // The connection took its record's place in the table: insertion order is the SYNs'.
    expect(keys(h.host.tcp.socketsTo(new Set([IpAddress.v4(peers[1]!).key])))).toEqual([`${peers[1]}:40001 ESTABLISHED`, `${peers[1]}:41001 SYN_RCVD`]);
  });
});
