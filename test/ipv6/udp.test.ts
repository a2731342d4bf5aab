/**
 * UDP over both families (docs/ipv6-plan.md step 5): the same sockets, the IPv6
 * pseudo-header, a zero checksum refused over IPv6 (RFC 8200 8.1), port unreachable as
 * ICMPv6 code 4 (RFC 4443 3.1), and source fragmentation of large datagrams.
 */
import { describe, expect, it } from "vitest";
import { Host } from "../../src/host/host.js";
import { udpIp } from "../../src/ip/udp/address.js";
import { SimRng } from "../../src/sim/index.js";
import { parseIcmpv6 } from "../../src/wire/icmpv6.js";
import { emitIpv6Header, NH_ICMPV6, parseIpv6, walkIpv6Extensions } from "../../src/wire/ipv6.js";
import { PROTO_UDP } from "../../src/wire/ipv4.js";
import { emitUdp } from "../../src/wire/udp.js";
import { FAMILIES, familyPair, ip } from "./helpers.js";

const text = (s: string) => new TextEncoder().encode(s);

describe.each(FAMILIES)("UDP over IPv%i", (family) => {
  it("delivers a datagram and its reply; addresses are reported in the family's form", () => {
    const p = familyPair(family);
    const server = p.b.udp.bind(7);
    const client = p.a.udp.open();
    const got: string[] = [];
    server.onWake = (s) => {
      for (let m = s.recv(); m !== undefined; m = s.recv()) {
        got.push(`${udpIp(m.address).toString()}:${m.port} -> ${udpIp(m.localAddress).toString()}`);
        s.send(m.data, { address: m.address, port: m.port });
      }
    };
    const replies: string[] = [];
    client.onWake = (s) => {
      for (let m = s.recv(); m !== undefined; m = s.recv()) replies.push(new TextDecoder().decode(m.data));
    };
    client.send(text("ping"), { address: family === 4 ? p.B.w3 : p.B, port: 7 });
    p.net.runFor(100);
    expect(got).toEqual([`${p.A.toString()}:${client.localPort} -> ${p.B.toString()}`]);
    expect(replies).toEqual(["ping"]);
    expect(p.b.counters.udp.inCsumErrors).toBe(0);
  });

  it("a connected socket to a closed port reports ECONNREFUSED from the ICMP error of its family", () => {
    const p = familyPair(family);
    const s = p.a.udp.open();
    s.connect(family === 4 ? p.B.w3 : p.B, 9999);
    s.send(text("anyone?"));
    p.net.runFor(100);
    expect(s.pendingError?.code).toBe("ECONNREFUSED");
    expect(p.a.counters.udp.icmpErrorsReported).toBe(1);
    // An unconnected socket is not told (Linux without IP_RECVERR).
    const u = p.a.udp.open();
    u.send(text("anyone?"), { address: p.B, port: 9998 });
    p.net.runFor(100);
    expect(u.pendingError).toBeUndefined();
    expect(p.a.counters.udp.icmpErrorsIgnored).toBe(1);
  });

  it("cuts a 4,000-byte datagram into fragments and reassembles it", () => {
    const p = familyPair(family);
    const server = p.b.udp.bind(9);
    const big = new Uint8Array(4000).map((_, i) => i & 0xff);
    p.a.udp.open().send(big, { address: p.B, port: 9 });
    p.net.runFor(100);
    const m = server.recv();
    expect(m?.data).toEqual(big);
    expect(p.a.counters.ip.fragCreates).toBe(3);
  });
});

describe("UDP over IPv6 on the wire", () => {
  const A = ip("fd00::1");
  const B = ip("fd00::2");

  function datagram(zeroChecksum: boolean): Uint8Array {
    const out = new Uint8Array(40 + 8 + 4);
    emitIpv6Header({ src: A, dst: B, nextHeader: PROTO_UDP, payloadLength: 12 }, out, 0);
    emitUdp({ srcPort: 5000, dstPort: 9, payload: text("data") }, out, 40, zeroChecksum ? null : { src: A, dst: B });
    return out;
  }

  it("drops a datagram with a zero checksum (RFC 8200 8.1), counted as a checksum error", () => {
    const sent: Uint8Array[] = [];
    const h = new Host({ name: "h", address: B, rng: new SimRng(1), transmit: (p) => sent.push(p) });
    const s = h.udp.bind(9);
    h.receive(0, datagram(true));
    expect(s.recv()).toBeUndefined();
    expect(h.counters.udp.inCsumErrors).toBe(1);
    h.receive(0, datagram(false));
    expect(new TextDecoder().decode(s.recv()!.data)).toBe("data");
  });

  it("answers a datagram for a closed port with ICMPv6 destination unreachable, code 4", () => {
    const sent: Uint8Array[] = [];
    const h = new Host({ name: "h", address: B, rng: new SimRng(1), transmit: (p) => sent.push(p) });
    h.receive(0, datagram(false));
    h.poll(0);
    expect(sent).toHaveLength(1);
    const p = parseIpv6(sent[0]!);
    expect(p.ok && p.value.header.dst.toString()).toBe("fd00::1");
    if (!p.ok) return;
    const w = walkIpv6Extensions(sent[0]!, p.value.header);
    expect(w.ok && w.value.protocol).toBe(NH_ICMPV6);
    if (!w.ok) return;
    const m = parseIcmpv6(w.value.payload, { src: p.value.header.src, dst: p.value.header.dst });
    expect(m.ok && m.value.kind === "dest-unreachable" && m.value.code).toBe(4);
    expect(h.counters.icmp6.outDestUnreachs).toBe(1);
  });
});
