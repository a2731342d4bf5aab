import { describe, expect, it } from "vitest";
import { allRules, anyPacket, delayNth, dropAll, dropNth, onMatch, tcp } from "../../src/sim/rules.js";
import { SimNetwork } from "../../src/sim/network.js";
import { ACK, FIN, PSH, SYN } from "../../src/wire/tcp.js";
import { A, B, Echo, ipPacket, Sink, tcpPacket } from "./helpers.js";

const synAck = tcpPacket(B, A, { flags: SYN | ACK, srcPort: 80, dstPort: 40000 });
const syn = tcpPacket(A, B, { flags: SYN });
const data = tcpPacket(A, B, { flags: PSH | ACK, payload: new Uint8Array([1, 2, 3]) });
const pureAck = tcpPacket(A, B, { flags: ACK });

describe("tcp() matcher", () => {
  it("matches an exact flag byte", () => {
    const m = tcp({ flags: SYN | ACK });
    expect([synAck, syn, data, pureAck].map(m)).toEqual([true, false, false, false]);
  });

  it("matches flags that must be set or clear", () => {
    expect([synAck, syn, data, pureAck].map(tcp({ hasFlags: ACK }))).toEqual([true, false, true, true]);
    expect([synAck, syn, data, pureAck].map(tcp({ hasFlags: ACK, lacksFlags: SYN | FIN }))).toEqual([false, false, true, true]);
  });

  it("matches addresses, ports and whether there is data", () => {
    expect(tcp({ src: B, srcPort: 80 })(synAck)).toBe(true);
    expect(tcp({ src: A })(synAck)).toBe(false);
    expect(tcp({ dstPort: 80 })(syn)).toBe(true);
    expect(tcp({ dstPort: 81 })(syn)).toBe(false);
    expect(tcp({ dst: A })(synAck)).toBe(true);
    expect([data, pureAck].map(tcp({ hasPayload: true }))).toEqual([true, false]);
    expect([data, pureAck].map(tcp({ hasPayload: false }))).toEqual([false, true]);
  });

  it("ignores checksums (it matches what is on the wire) but never matches non-TCP or broken bytes", () => {
    const badSum = syn.slice();
    badSum[30] ^= 0xff; // inside the TCP header: sequence number
    expect(tcp({ flags: SYN })(badSum)).toBe(true);
    expect(tcp()(ipPacket(A, B))).toBe(false);
    expect(tcp()(syn.subarray(0, 30))).toBe(false);
    expect(tcp()(new Uint8Array(0))).toBe(false);
  });
});

describe("rules", () => {
  const offer = (rule: ReturnType<typeof dropNth>, packets: Uint8Array[]) => packets.map((p, i) => rule(p, i));

  it("dropNth drops only the listed occurrences of matching packets, counted from 1", () => {
    const rule = dropNth(tcp({ flags: SYN | ACK }), 1, 3);
    expect(offer(rule, [syn, synAck, data, synAck, synAck, synAck])).toEqual(["pass", "drop", "pass", "pass", "drop", "pass"]);
  });

  it("dropAll drops every match; delayNth holds the listed ones", () => {
    expect(offer(dropAll(tcp({ hasFlags: SYN })), [syn, data, synAck])).toEqual(["drop", "pass", "drop"]);
    expect(offer(delayNth(anyPacket, 50, 2), [syn, syn, syn])).toEqual(["pass", { delay: 50 }, "pass"]);
  });

  it("refuses occurrence 0 and empty occurrence lists, which would silently do nothing", () => {
    expect(() => dropNth(anyPacket, 0)).toThrow(RangeError);
    expect(() => dropNth(anyPacket)).toThrow(RangeError);
    expect(() => delayNth(anyPacket, 5)).toThrow(RangeError);
    expect(() => onMatch(anyPacket, "drop", [1.5])).toThrow(RangeError);
  });

  it("allRules lets every rule count every packet; the first non-pass verdict wins", () => {
    const rule = allRules(dropNth(tcp({ flags: SYN }), 1), delayNth(anyPacket, 7, 1, 2));
    // Packet 1 is dropped by the first rule, yet the second rule still counts it as its 1st.
    expect(offer(rule, [syn, syn, syn])).toEqual(["drop", { delay: 7 }, "pass"]);
  });
});

describe("rules on a network path", () => {
  it('"drop the 1st SYN,ACK" from b to a, whatever else flows', () => {
    const net = new SimNetwork({ seed: 1 });
    const a = net.addHost("a", A, (tx) => new Sink(tx));
    const b = net.addHost("b", B, (tx) => new Echo(tx));
    net.setPath(b, a, { filter: dropNth(tcp({ flags: SYN | ACK }), 1) });
    // a sends SYN,ACK-shaped packets addressed to b; b echoes them back to a.
    for (let i = 0; i < 3; i++) net.at(i * 10, () => a.endpoint.transmit(tcpPacket(A, B, { flags: SYN | ACK, seq: i })));
    net.run();
    expect(b.endpoint.received.length).toBe(3); // the a->b direction is untouched
    expect(a.endpoint.times).toEqual([12, 22]); // the first echo (sent at 1) was dropped
    expect(net.path(b, a).stats.ruleDrops).toBe(1);
  });
});
