/**
 * The trace events the IP layer emits for S33's narration: each UDP datagram sent
 * (udp-out), what became of each one that arrived (udp-in: queued, rcvbuf-full, no-port),
 * each fragment as it leaves (fragment-out) and ICMP errors sent (icmp-out). Each comes
 * before the packet's link events, which is what lets the narration read a packet's fate.
 */
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import type { TraceEvent } from "../../src/trace/events.js";
import { ICMP_TIME_EXCEEDED, TIME_EXCEEDED_REASSEMBLY } from "../../src/wire/icmp.js";
import { PROTO_UDP } from "../../src/wire/ipv4.js";
import { A, B, pair, pattern } from "./helpers.js";

type Of<T extends TraceEvent["type"]> = Extract<TraceEvent, { type: T }>;
const only = <T extends TraceEvent["type"]>(events: TraceEvent[], type: T): Array<Of<T>> => events.filter((e): e is Of<T> => e.type === type);

describe("UDP trace events", () => {
  it("udp-out names the datagram's 4-tuple and length; udp-in says it was queued and how full the buffer was", () => {
    const { net, a, b, events } = pair();
    const server = b.udp.bind(9000, 0, { receiveBufferSize: 4096 });
    const client = a.udp.bind(5000);
    client.send(pattern(100), { address: B, port: 9000 });
    client.send(pattern(200), { address: B, port: 9000 });
    net.run();
    expect(only(events, "udp-out").map((e) => [e.host, e.tuple, e.length])).toEqual([
      ["a", { localAddr: IpAddress.v4(A), localPort: 5000, remoteAddr: IpAddress.v4(B), remotePort: 9000 }, 100],
      ["a", { localAddr: IpAddress.v4(A), localPort: 5000, remoteAddr: IpAddress.v4(B), remotePort: 9000 }, 200],
    ]);
    const ins = only(events, "udp-in");
    expect(ins.map((e) => [e.host, e.tuple, e.length, e.outcome, e.queuedBytes, e.bufferBytes])).toEqual([
      ["b", { localAddr: IpAddress.v4(B), localPort: 9000, remoteAddr: IpAddress.v4(A), remotePort: 5000 }, 100, "queued", 0, 4096],
      ["b", { localAddr: IpAddress.v4(B), localPort: 9000, remoteAddr: IpAddress.v4(A), remotePort: 5000 }, 200, "queued", server.receiveQueueBytes - 200 - 256, 4096],
    ]);
    // Each charge is what the datagram added to the queue: together, all the queue holds.
    expect(ins.map((e) => e.charge)).toEqual([100 + 256, 200 + 256]);
    expect(ins[1]!.queuedBytes + ins[1]!.charge).toBe(server.receiveQueueBytes);
  });

  it("udp-in says rcvbuf-full for each datagram the full buffer refused, matching the counters", () => {
    const { net, a, b, events } = pair();
    b.udp.bind(9000, 0, { receiveBufferSize: 2048 });
    const client = a.udp.bind(5000);
    for (let i = 0; i < 6; i++) client.send(pattern(700, i), { address: B, port: 9000 });
    net.run();
    const outcomes = only(events, "udp-in").map((e) => e.outcome);
    expect(outcomes.filter((o) => o === "queued").length).toBe(b.counters.udp.inDatagrams);
    expect(outcomes.filter((o) => o === "rcvbuf-full").length).toBe(b.counters.udp.rcvbufErrors);
    expect(b.counters.udp.rcvbufErrors).toBeGreaterThan(0);
    // The drop event follows its udp-in, so a reader can pair them.
    const i = events.findIndex((e) => e.type === "udp-in" && e.outcome === "rcvbuf-full");
    expect(events[i + 1]).toMatchObject({ type: "drop", host: "b" });
  });

  it("udp-in says no-port for a datagram nobody bound", () => {
    const { net, a, events } = pair();
    a.udp.bind(5000).send(pattern(10), { address: B, port: 9 });
    net.run();
    expect(only(events, "udp-in").map((e) => [e.outcome, e.queuedBytes, e.bufferBytes])).toEqual([["no-port", 0, 0]]);
  });

  it("a datagram over the MTU: udp-out, then one fragment-out per fragment with offsets and MF, each before its link events", () => {
    const { net, a, b, events } = pair();
    b.udp.bind(9000);
    a.udp.bind(5000).send(pattern(4000), { address: B, port: 9000 });
    net.run();
    const frags = only(events, "fragment-out");
    // 4008 bytes of UDP in pieces of 1480: 1480 + 1480 + 1048.
    expect(frags.map((f) => [f.offset, f.length, f.more])).toEqual([[0, 1480, true], [1480, 1480, true], [2960, 1048, false]]);
    expect(new Set(frags.map((f) => f.id)).size).toBe(1);
    expect(frags.every((f) => f.host === "a" && f.src.v4Value === A && f.dst.v4Value === B && f.protocol === PROTO_UDP)).toBe(true);
    expect(events.findIndex((e) => e.type === "udp-out")).toBeLessThan(events.indexOf(frags[0]!));
    expect(a.counters.ip.fragCreates).toBe(frags.length);
    expect(only(events, "udp-in").map((e) => [e.length, e.outcome])).toEqual([[4000, "queued"]]);
  });

  it("a lost fragment: reassembly times out after 30 s and icmp-out reports time exceeded to the sender", () => {
    const { net, a, b, events } = pair();
    let n = 0;
    net.setPath("a", "b", { delay: 10, filter: () => (++n === 2 ? "drop" : "pass") });
    b.udp.bind(9000);
    a.udp.bind(5000).send(pattern(4000), { address: B, port: 9000 });
    net.run();
    expect(only(events, "udp-in")).toEqual([]);
    const icmp = only(events, "icmp-out");
    expect(icmp.map((e) => [e.host, e.time, e.dst, e.icmpType, e.code])).toEqual([["b", 30_010, IpAddress.v4(A), ICMP_TIME_EXCEEDED, TIME_EXCEEDED_REASSEMBLY]]);
    expect(b.counters.reassembly.timeouts).toBe(1);
  });
});
